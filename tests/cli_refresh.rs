//! `guichet-qf refresh` as a scheduled task or an administrator runs it: the real binary, the
//! token in the vault, families in the data folder's database, API Particulier simulated and
//! reached through `GUICHET_QF_PARTICULIER_URL`.

mod common;
#[path = "support/refresh_families.rs"]
mod refresh_families;

use std::path::Path;
use std::process::Output;

use guichet_qf::communes;
use guichet_qf::families;
use guichet_qf::journal;
use guichet_qf::refresh;
use guichet_qf::simulators::particulier::{Config, ParticulierSimulator, TokenRecord};
use guichet_qf::store::{self, DATABASE_FILE};
use jiff::Timestamp;

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};
use refresh_families::{queries, seed_for};

const PASSPHRASE: &str = "la mairie ouvre à 9h";

async fn cli(dir: &Path, args: &[&str], stdin: &str, simulator: &ParticulierSimulator) -> Output {
    let env = vec![
        ("GUICHET_QF_KEYSTORE", "aucun".to_string()),
        ("GUICHET_QF_PASSPHRASE", PASSPHRASE.to_string()),
        ("GUICHET_QF_PARTICULIER_URL", simulator.url()),
    ];
    common::run_off_runtime(dir, args, stdin, env).await
}

/// A data folder with Majastres, an agent, the simulator's staging token in the vault and
/// `count` families known to the simulator (family 0 has opted out); returns the families' ids.
async fn prepared(simulator: &ParticulierSimulator, count: usize) -> (tempfile::TempDir, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert_ok(&cli(data, &ADD_MAJASTRES, "", simulator).await);
    assert_ok(
        &cli(
            data,
            &["agent", "add", "--nom", "Émilie Durand"],
            "1234",
            simulator,
        )
        .await,
    );
    let token = simulator.staging_token();
    assert_ok(
        &cli(
            data,
            &["secret", "set", "particulier-token"],
            &token,
            simulator,
        )
        .await,
    );
    let store = store::open(&data.join(DATABASE_FILE)).unwrap();
    let commune = store.read(communes::list).unwrap().remove(0);
    // The binary reads the real clock: the families answer for the month it will ask.
    let today = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::system())
        .date();
    let (period, explicit) = refresh::period_for(today);
    let ids = seed_for(
        &store,
        simulator,
        commune.id,
        count,
        |i| 400 + i as i64,
        |i| (i % 2 == 0).then_some(400 + i as u32),
        explicit.then_some(period),
    );
    store
        .write(|tx| {
            families::set_opt_out(
                tx,
                ids[0],
                Some((today, families::Channel::Guichet)),
                "Émilie Durand",
                today,
                Timestamp::now(),
            )
        })
        .unwrap();
    (dir, ids)
}

fn history_len(dir: &Path, family_id: i64) -> usize {
    let store = store::open(&dir.join(DATABASE_FILE)).unwrap();
    store
        .read(|c| families::history(c, family_id))
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_previews_then_the_scheduled_run_applies_and_journals_as_the_system() {
    let simulator = ParticulierSimulator::start(0, Config::default())
        .await
        .unwrap();
    let (dir, ids) = prepared(&simulator, 7).await;
    let data = dir.path();

    let dry = cli(
        data,
        &[
            "refresh",
            "--dry-run",
            "--agent",
            "émilie durand",
            "--rate",
            "50",
        ],
        "",
        &simulator,
    )
    .await;
    assert_ok(&dry);
    let out = stdout(&dry);
    assert!(
        out.contains(
            "Majastres : 6 familles interrogées, 3 changent de QF, 0 à revoir, 0 en attente \
             (1 famille refusant l'actualisation, non interrogée)."
        ),
        "{out}"
    );
    assert!(out.contains("3 familles changent de QF."), "{out}");
    assert!(
        out.contains("Débit limité à 10 requêtes par seconde"),
        "{out}"
    );
    assert!(out.contains("Aperçu seulement"), "{out}");
    assert_eq!(history_len(data, ids[1]), 0, "a dry run writes nothing");

    let scheduled = cli(data, &["refresh"], "", &simulator).await;
    assert_ok(&scheduled);
    let out = stdout(&scheduled);
    assert!(
        out.contains("3 QF enregistrés dans les dossiers famille."),
        "{out}"
    );
    assert_eq!(history_len(data, ids[1]), 1);
    assert_eq!(
        history_len(data, ids[2]),
        1,
        "an unchanged QF is not written again"
    );

    let (asked, _) = queries(&simulator);
    assert!(!asked.contains_key(&refresh_families::name_of(0)));
    assert_eq!(
        asked.values().sum::<usize>(),
        12,
        "6 families, asked once per run"
    );
    let store = store::open(&data.join(DATABASE_FILE)).unwrap();
    let rows = store
        .read(|c| {
            journal::list(
                c,
                &journal::Filter::default(),
                &jiff::tz::TimeZone::UTC,
                1000,
            )
        })
        .unwrap();
    let calls: Vec<_> = rows
        .iter()
        .filter(|r| r.action == journal::Action::ConsultationQf)
        .collect();
    assert_eq!(calls.len(), 12);
    assert_eq!(
        calls
            .iter()
            .filter(|r| r.agent == journal::AGENT_SYSTEM
                && r.motif.as_deref() == Some(refresh::MOTIF_SCHEDULED))
            .count(),
        6
    );
    assert_eq!(
        calls.iter().filter(|r| r.agent == "Émilie Durand").count(),
        6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_exits_1_with_its_message_and_the_next_run_resumes() {
    let simulator = ParticulierSimulator::start(0, Config::default())
        .await
        .unwrap();
    let (dir, ids) = prepared(&simulator, 4).await;
    let data = dir.path();
    let mut record = TokenRecord::from_claims(&simulator.staging_token()).unwrap();
    record.blacklisted = true;
    simulator.add_token(record.clone());

    let stopped = cli(data, &["refresh"], "", &simulator).await;
    assert_eq!(stopped.status.code(), Some(1), "{}", stdout(&stopped));
    assert!(stderr(&stopped).contains("révoqué"), "{}", stderr(&stopped));
    assert!(
        stdout(&stopped).contains("reprendra"),
        "{}",
        stdout(&stopped)
    );
    assert_eq!(history_len(data, ids[1]), 0);

    record.blacklisted = false;
    simulator.add_token(record);
    let resumed = cli(data, &["refresh"], "", &simulator).await;
    assert_ok(&resumed);
    assert!(
        stdout(&resumed).contains("3 familles interrogées"),
        "{}",
        stdout(&resumed)
    );
    assert_eq!(history_len(data, ids[1]), 1);
}

/// Starts `guichet-qf refresh --rate 10` and kills it with SIGKILL after `after`; returns
/// whether it was still running (a real interruption) when killed.
async fn refresh_killed_after(
    dir: &Path,
    simulator: &ParticulierSimulator,
    after: std::time::Duration,
) -> bool {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_guichet-qf"));
    command
        .args(["refresh", "--rate", "10"])
        .env("GUICHET_QF_DATA_DIR", dir)
        .env("GUICHET_QF_KEYSTORE", "aucun")
        .env("GUICHET_QF_PASSPHRASE", PASSPHRASE)
        .env("GUICHET_QF_PARTICULIER_URL", simulator.url())
        .env_remove("GUICHET_QF_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    tokio::time::sleep(after).await;
    let interrupted = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    interrupted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_refresh_resumes_without_asking_an_answered_family_again() {
    let simulator = ParticulierSimulator::start(0, Config::default())
        .await
        .unwrap();
    let (dir, ids) = prepared(&simulator, 41).await;
    let data = dir.path();
    // 40 families at 10 a second take 4 s: killed twice on the way. After each kill, the
    // families whose answer is stored and how often each had been asked by then: from that
    // moment on, none of them may be asked again. (A family whose call was in flight at a kill
    // is asked once more after it; that is the only repetition allowed.)
    let mut interruptions = 0;
    let mut answered_at_kills: Vec<(i64, usize)> = Vec::new();
    for after in [1_500, 1_800] {
        if refresh_killed_after(data, &simulator, std::time::Duration::from_millis(after)).await {
            interruptions += 1;
        }
        let store = store::open(&data.join(DATABASE_FILE)).unwrap();
        let answered: Vec<i64> = store
            .read(|c| {
                let mut s =
                    c.prepare("SELECT family_id FROM refresh_items WHERE state = 'fait'")?;
                let rows = s
                    .query_map([], |r| r.get::<_, i64>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .unwrap();
        drop(store);
        let (asked, _) = queries(&simulator);
        for id in answered {
            if !answered_at_kills.iter().any(|(known, _)| *known == id) {
                let index = ids.iter().position(|x| *x == id).unwrap();
                let count = asked[&refresh_families::name_of(index)];
                answered_at_kills.push((id, count));
            }
        }
    }
    assert!(interruptions > 0, "the process was never killed midway");
    assert!(!answered_at_kills.is_empty() && answered_at_kills.len() < 40);

    let resumed = cli(data, &["refresh"], "", &simulator).await;
    assert_ok(&resumed);
    assert!(
        stdout(&resumed).contains("40 familles interrogées"),
        "{}",
        stdout(&resumed)
    );
    let (asked, _) = queries(&simulator);
    for (id, count) in &answered_at_kills {
        let index = ids.iter().position(|x| x == id).unwrap();
        assert_eq!(
            asked.get(&refresh_families::name_of(index)),
            Some(count),
            "a family whose answer was stored is never asked again"
        );
    }
    assert!(asked.values().all(|n| *n <= 1 + interruptions));
    assert_eq!(asked.len(), 40, "every family asked, the opt-out never");
    let changed = (1..41).filter(|i| i % 2 == 1).count();
    assert!(
        stdout(&resumed).contains(&format!("{changed} QF enregistrés")),
        "every result kept: {}",
        stdout(&resumed)
    );
}
