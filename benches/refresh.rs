//! The QF refresh of 2 000 families against the API Particulier simulator at a configured
//! 15 requests per second (issue 7): the rate achieved as a share of the configured one (aim
//! ≥ 95 %: the batch keeps the token's budget full) and the number of 429s (must be 0: the
//! server bans the IP for 12 hours when they are ignored, spec §9).
//!
//! `cargo bench --bench refresh` (about two and a half minutes: 2 000 calls at 15 per second).
//! The rate is printed against its objective and never fails the run, since it depends on the
//! machine; what fails it (exit status 1) is a wrong result: a 429, a family not answered, or
//! a family asked twice.
//!
//! Time is measured here, in the benchmark, and only here: the domain never reads the clock.

#[path = "../tests/support/refresh_families.rs"]
mod refresh_families;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use guichet_qf::communes::{self, Environment, NewCommune};
use guichet_qf::particulier::client::Clock;
use guichet_qf::particulier::connect;
use guichet_qf::refresh::{self, RunOptions, RunState, Trigger};
use guichet_qf::settings::{self, Settings};
use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::particulier::{Config, ParticulierSimulator};
use guichet_qf::store::{self, DATABASE_FILE};
use guichet_qf::vault::SecretString;
use jiff::{SignedDuration, Timestamp};

const FAMILIES: usize = 2_000;
const RATE: u32 = 15;
const OBJECTIVE: f64 = 0.95;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(bench())
}

async fn bench() -> ExitCode {
    let start: Timestamp = "2026-11-22T09:00:00Z".parse().unwrap();
    let clock = SimClock::running_from(start);
    let simulator = ParticulierSimulator::start(
        0,
        Config {
            clock: clock.clone(),
            ..Config::default()
        },
    )
    .await
    .expect("the simulator starts");
    let scopes = [
        "cnaf_quotient_familial",
        "cnaf_allocataires",
        "cnaf_enfants",
    ];
    let token = simulator.mint_token(&scopes, start + SignedDuration::from_hours(24 * 365));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = store::open(&dir.path().join(DATABASE_FILE)).expect("the store opens");
    let commune = communes::add(
        &store,
        &NewCommune {
            siret: "21040107100019".into(),
            name: "Majastres".into(),
            cog: "04107".into(),
            environment: Environment::Simulateur,
        },
        start,
    )
    .expect("the commune is added");
    let current = store.read(settings::get).expect("settings");
    settings::update(
        &store,
        &Settings {
            particulier_requests_per_second: RATE,
            ..current
        },
    )
    .expect("the rate is configured");
    refresh_families::seed(
        &store,
        &simulator,
        commune.id,
        FAMILIES,
        |i| 200 + (i % 1500) as i64,
        |i| (i % 3 == 0).then_some(200 + (i % 1500) as u32),
    );
    let client_clock = clock.clone();
    let client_clock: Clock = Arc::new(move || client_clock.now());
    let client = connect::batch_client(
        &store,
        &guichet_qf::network::Network::direct(),
        simulator.url(),
        SecretString::from(token),
        client_clock,
    )
    .expect("the client");
    let today = clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let run_id = store
        .write(|tx| refresh::start(tx, commune.id, Trigger::Programmee, "", today, clock.now()))
        .expect("the run is planned");
    println!("Actualisation de {FAMILIES} familles à {RATE} requêtes/s configurées…");
    let began = Instant::now();
    let summary = refresh::run(
        &store,
        &client,
        &commune,
        run_id,
        &RunOptions::at_rate(RATE),
        &|| clock.now(),
        &|progress| {
            if progress.done > 0 && progress.done % 500 == 0 {
                println!("  {} / {} familles", progress.done, progress.total);
            }
        },
    )
    .await;
    let wall = began.elapsed();
    let requests = simulator.requests();
    let identity: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with("/quotient_familial/identite"))
        .collect();
    let limited = identity.iter().filter(|r| r.status == 429).count();
    let (asked, answered) = refresh_families::queries(&simulator);
    simulator.stop().await;

    let achieved = identity.len() as f64 / wall.as_secs_f64();
    let share = achieved / f64::from(RATE);
    println!(
        "{} requêtes en {:.1} s : {:.2} requêtes/s, soit {:.1} % du débit configuré \
         (objectif ≥ {:.0} %) {}",
        identity.len(),
        wall.as_secs_f64(),
        achieved,
        share * 100.0,
        OBJECTIVE * 100.0,
        if share >= OBJECTIVE {
            "✔"
        } else {
            "✘ (sous l'objectif)"
        }
    );
    println!("Réponses 429 : {limited} (doit être 0)");

    let mut problems = Vec::new();
    match summary {
        Ok(summary) => {
            println!("Résumé : {}.", summary.sentence());
            if summary.state != RunState::Apercu || summary.answered as usize != FAMILIES {
                problems.push(format!(
                    "run ended {:?} with {} answers",
                    summary.state, summary.answered
                ));
            }
        }
        Err(error) => problems.push(format!("run failed: {}", error.detail())),
    }
    if limited > 0 {
        problems.push(format!("{limited} answers 429"));
    }
    if answered.len() != FAMILIES || asked.values().any(|n| *n != 1) {
        problems.push(format!(
            "{} families answered, {} asked more than once",
            answered.len(),
            asked.values().filter(|n| **n != 1).count()
        ));
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        for problem in problems {
            eprintln!("ÉCHEC : {problem}");
        }
        ExitCode::FAILURE
    }
}
