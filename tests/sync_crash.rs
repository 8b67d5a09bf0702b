//! The sync process killed (SIGKILL) at random points of a 200-dossier pass, then restarted:
//! every dossier ends stored exactly once and acknowledged exactly once, and the queue empties.
//! This is the promise "a dossier is committed locally before anything is acknowledged or
//! deleted on Hubee", checked against real crashes rather than simulated ones.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use guichet_qf::simulators::hubee::{self, Credentials, HubeeSimulator};
use rand::{Rng, SeedableRng};

use common::{assert_ok, ADD_MAJASTRES};

const PASSPHRASE: &str = "la mairie ouvre à 9h";
const SIRET: &str = "21040107100019";
const COG: &str = "04107";
const DOSSIERS: usize = 200;
const TRIALS: usize = 20;
const KILLS_PER_TRIAL: usize = 5;

fn env(simulator: &HubeeSimulator) -> Vec<(&'static str, String)> {
    vec![
        ("GUICHET_QF_KEYSTORE", "aucun".to_string()),
        ("GUICHET_QF_PASSPHRASE", PASSPHRASE.to_string()),
        ("GUICHET_QF_HUBEE_AUTH_URL", simulator.auth_url()),
        ("GUICHET_QF_HUBEE_API_URL", simulator.api_url()),
    ]
}

fn run(dir: &Path, args: &[&str], stdin: &str, simulator: &HubeeSimulator) -> std::process::Output {
    let env = env(simulator);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::run(dir, args, stdin, &pairs)
}

/// Starts `guichet-qf sync` and kills it with SIGKILL after `after`; returns whether it was
/// still running (a real interruption) when killed.
fn sync_killed_after(dir: &Path, simulator: &HubeeSimulator, after: Duration) -> bool {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guichet-qf"));
    command
        .arg("sync")
        .env("GUICHET_QF_DATA_DIR", dir)
        .envs(env(simulator))
        .env_remove("GUICHET_QF_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    std::thread::sleep(after);
    let interrupted = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    interrupted
}

fn setup(dir: &Path) -> HubeeSimulator {
    let runtime = tokio::runtime::Handle::current();
    let simulator = runtime
        .block_on(HubeeSimulator::start(0, hubee::Config::default()))
        .unwrap();
    let credentials = Credentials {
        client_id: "client".into(),
        client_secret: "secret".into(),
    };
    simulator.add_subscriber(SIRET, COG, &credentials);
    for family in hubee::fictitious_dossiers(11, DOSSIERS) {
        simulator.seed_formulaire_qf(SIRET, COG, &family);
    }
    assert_ok(&run(dir, &ADD_MAJASTRES, "", &simulator));
    assert_ok(&run(
        dir,
        &["secret", "set", "hubee-client-id"],
        "client",
        &simulator,
    ));
    assert_ok(&run(
        dir,
        &["secret", "set", "hubee-client-secret"],
        "secret",
        &simulator,
    ));
    simulator
}

fn stored_dossiers(dir: &Path, simulator: &HubeeSimulator) -> Vec<serde_json::Value> {
    let output = run(dir, &["dossiers", "--json"], "", simulator);
    assert_ok(&output);
    serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).unwrap()
}

#[test]
fn a_killed_sync_loses_nothing_and_duplicates_nothing() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    // A fixed seed keeps failures reproducible; the delays are printed when a trial fails.
    let mut random = rand::rngs::StdRng::seed_from_u64(20261122);
    let mut interrupted = 0;
    let mut cut_mid_pass = 0;
    for trial in 0..TRIALS {
        let dir = tempfile::tempdir().unwrap();
        let simulator = setup(dir.path());
        // A full pass of 200 dossiers takes about a second here. Several short-lived runs per
        // trial, each killed at a random point, give a hundred crash points in all: enough to
        // land, sooner or later, in any window where an acknowledgement or a deletion would
        // precede the local commit.
        let mut delays = Vec::new();
        let mut stored = 0;
        for _ in 0..KILLS_PER_TRIAL {
            let delay = Duration::from_millis(random.random_range(50..400));
            delays.push(delay);
            if sync_killed_after(dir.path(), &simulator, delay) {
                interrupted += 1;
            }
            stored = stored_dossiers(dir.path(), &simulator).len();
            if (1..DOSSIERS).contains(&stored) {
                cut_mid_pass += 1;
            }
        }
        let delay = format!("{delays:?}");

        let output = run(dir.path(), &["sync"], "", &simulator);
        assert_ok(&output);
        let list = stored_dossiers(dir.path(), &simulator);
        let context = format!("trial {trial}, killed after {delay} with {stored} stored");
        assert_eq!(list.len(), DOSSIERS, "{context}");
        let mut cases: Vec<&str> = list
            .iter()
            .map(|d| d["case_id"].as_str().unwrap())
            .collect();
        cases.sort_unstable();
        cases.dedup();
        assert_eq!(cases.len(), DOSSIERS, "a dossier stored twice: {context}");
        assert!(
            list.iter().all(|d| d["statut"] == "nouveau"),
            "a dossier left incomplete: {context}"
        );
        // Acknowledged exactly once each: one SI_RECEIVED status event per case.
        let acknowledgements: Vec<String> = simulator
            .requests()
            .into_iter()
            .filter(|r| {
                r.method == "POST"
                    && r.path.ends_with("/events")
                    && r.body.as_deref().is_some_and(|b| b.contains("SI_RECEIVED"))
            })
            .map(|r| r.path)
            .collect();
        for case in &cases {
            let posted = acknowledgements.iter().filter(|p| p.contains(case)).count();
            assert_eq!(
                posted, 1,
                "case {case} acknowledged {posted} times: {context}"
            );
        }
        // The queue is empty: another pass finds nothing, not even already-known dossiers.
        let output = run(dir.path(), &["sync"], "", &simulator);
        assert_ok(&output);
        let summary = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            summary.contains("0 nouveau(x), 0 déjà connu(s), 0 incomplet(s), 0 erreur(s)"),
            "{summary} ({context})"
        );
        runtime.block_on(simulator.stop());
    }
    // The test only means something if the kills really cut passes in the middle.
    let kills = TRIALS * KILLS_PER_TRIAL;
    eprintln!("{interrupted} of {kills} kills interrupted a pass, {cut_mid_pass} mid-pass");
    assert!(
        interrupted >= kills / 2,
        "only {interrupted} of {kills} kills interrupted a pass"
    );
    assert!(
        cut_mid_pass >= kills / 4,
        "only {cut_mid_pass} of {kills} kills fell in the middle of a pass"
    );
}
