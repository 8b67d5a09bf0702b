//! Running the real `guichet-qf` binary from integration tests, as an administrator would: a
//! chosen data directory, chosen environment variables, input on stdin.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Every variable the binary reads (see `src-tauri/launch.rs`); a test sets the ones it wants
/// and the developer's own environment never leaks into a run.
const LAUNCH_VARIABLES: [&str; 10] = [
    "GUICHET_QF_DATA_DIR",
    "GUICHET_QF_KEYSTORE",
    "GUICHET_QF_PASSPHRASE",
    "GUICHET_QF_LOG",
    "GUICHET_QF_HUBEE_AUTH_URL",
    "GUICHET_QF_HUBEE_API_URL",
    "GUICHET_QF_PARTICULIER_URL",
    "GUICHET_QF_FORMULAIRE_URL",
    "GUICHET_QF_DEMO_ARRIVAL_SECONDS",
    "GUICHET_QF_DEMO_TOKEN_DAYS",
];

/// Runs the binary with `args` on `data_dir`, feeding `stdin`, with `env` set on top of a clean
/// launch environment.
pub fn run(data_dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guichet-qf"));
    for variable in LAUNCH_VARIABLES {
        command.env_remove(variable);
    }
    command
        .args(args)
        .env("GUICHET_QF_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("the binary ends")
}

/// [`run`] on a blocking thread, so that a simulator serving on the test's async runtime keeps
/// answering while the binary calls it.
pub async fn run_off_runtime(
    data_dir: &Path,
    args: &[&str],
    stdin: &str,
    env: Vec<(&'static str, String)>,
) -> Output {
    let data_dir = data_dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.to_string();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run(&data_dir, &args, &stdin, &env)
    })
    .await
    .expect("the binary's thread ends")
}

/// What the binary printed on stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What the binary printed on stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails the test with the binary's own words unless it succeeded.
#[track_caller]
pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The arguments that register Majastres, the commune most tests use.
pub const ADD_MAJASTRES: [&str; 8] = [
    "commune",
    "add",
    "--siret",
    "21040107100019",
    "--nom",
    "Majastres",
    "--cog",
    "04107",
];
