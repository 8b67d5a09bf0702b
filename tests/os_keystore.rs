//! The vault with a real OS keystore: a private D-Bus session with gnome-keyring's Secret Service,
//! as on a Linux desktop. The data key goes to the keystore, secrets stay sealed in SQLite, and a
//! second process opens the vault without any passphrase.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::{assert_ok, contains, ADD_MAJASTRES};
use std::time::{Duration, Instant};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJvcyI6ImtleXN0b3JlIn0.S2V5c3RvcmVTaWduYXR1cmU";

/// A D-Bus session bus and an unlocked gnome-keyring, both stopped on drop.
struct PrivateKeyring {
    bus_address: String,
    bus_pid: u32,
    keyring: Child,
    runtime_dir: tempfile::TempDir,
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = Command::new("kill")
            .args(["-TERM", &self.bus_pid.to_string()])
            .status();
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn start_keyring() -> Option<PrivateKeyring> {
    if !have("dbus-daemon") || !have("gnome-keyring-daemon") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run this test: install dbus and gnome-keyring (scripts/bootstrap.sh does)"
        );
        eprintln!("dbus-daemon or gnome-keyring-daemon missing: OS keystore test not run here");
        return None;
    }
    let runtime_dir = tempfile::tempdir().unwrap();
    let bus = Command::new("dbus-daemon")
        .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
        .output()
        .expect("dbus-daemon starts");
    let printed = String::from_utf8(bus.stdout).unwrap();
    let mut lines = printed.lines();
    let bus_address = lines.next().expect("bus address").trim().to_string();
    let bus_pid: u32 = lines.next().expect("bus pid").trim().parse().unwrap();
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
        .env("XDG_RUNTIME_DIR", runtime_dir.path())
        .env("XDG_DATA_HOME", runtime_dir.path().join("data"))
        .env("HOME", runtime_dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon starts");
    // The login keyring's password; closing stdin lets the daemon unlock and serve.
    let mut stdin = keyring.stdin.take().unwrap();
    stdin.write_all(b"mot-de-passe-de-test").unwrap();
    drop(stdin);
    let guard = PrivateKeyring {
        bus_address,
        bus_pid,
        keyring,
        runtime_dir,
    };
    wait_for_secret_service(&guard);
    Some(guard)
}

fn wait_for_secret_service(keyring: &PrivateKeyring) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let owned = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.bus_address)
            .output()
            .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("boolean true"));
        if owned {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Secret Service never appeared"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs the CLI on the private session bus, with neither a passphrase nor a keystore opt-out.
fn cli(keyring: &PrivateKeyring, data: &Path, args: &[&str], stdin: &str) -> Output {
    let runtime_dir = keyring.runtime_dir.path().to_str().unwrap();
    let output = common::run(
        data,
        args,
        stdin,
        &[
            ("DBUS_SESSION_BUS_ADDRESS", &keyring.bus_address),
            ("XDG_RUNTIME_DIR", runtime_dir),
        ],
    );
    assert_ok(&output);
    output
}

#[test]
fn the_vault_key_lives_in_the_os_keystore() {
    let Some(keyring) = start_keyring() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    cli(&keyring, data.path(), &ADD_MAJASTRES, "");
    // No passphrase anywhere: only the keystore can provide the key, now and in a later process.
    cli(
        &keyring,
        data.path(),
        &["secret", "set", "particulier-token"],
        TOKEN,
    );
    cli(
        &keyring,
        data.path(),
        &["secret", "set", "hubee-client-id"],
        "client-keystore",
    );

    let database = data.path().join("guichet-qf.sqlite3");
    let conn = rusqlite::Connection::open(&database).unwrap();
    let source: String = conn
        .query_row("SELECT key_source FROM vault", [], |row| row.get(0))
        .unwrap();
    assert_eq!(source, "keystore");
    let sealed: i64 = conn
        .query_row("SELECT count(*) FROM secrets", [], |row| row.get(0))
        .unwrap();
    assert_eq!(sealed, 2);
    drop(conn);

    // The clear token is not in the data directory.
    for entry in std::fs::read_dir(data.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !contains(&bytes, TOKEN.as_bytes()),
                "token in clear in {}",
                path.display()
            );
        }
    }

    // The domain reads the secret back with the key from the keystore.
    let store = guichet_qf::store::open(&database).unwrap();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &keyring.bus_address);
    let key = guichet_qf::vault::open_with_keystore(&store, &guichet_qf::vault::OsKeystore)
        .unwrap()
        .expect("the key is in the keystore");
    let commune = store
        .read(|conn| guichet_qf::communes::resolve(conn, None))
        .unwrap();
    let token = guichet_qf::vault::get(
        &store,
        &key,
        commune.id,
        guichet_qf::vault::SecretKind::ParticulierToken,
    )
    .unwrap()
    .unwrap();
    use guichet_qf::vault::ExposeSecret;
    assert_eq!(token.expose_secret(), TOKEN);
}
