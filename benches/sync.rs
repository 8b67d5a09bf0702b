//! The sync pass against a Hubee that takes 20 ms to answer each request (issue 4): how much
//! faster the concurrent pass is than a one-request-at-a-time pass, and how much local work a
//! dossier costs once the network is taken away.
//!
//! `cargo bench --bench sync`. This is a measurement, not a test: the figures are printed
//! against their objectives (≥ 3× faster, ≤ 2 ms of local work per dossier) and never fail
//! the run, since they depend on the machine. What does fail it (exit status 1) is a wrong
//! result: a pass that did not store every dossier exactly once, acknowledged once.
//!
//! Time is measured here, in the benchmark, and only here: the domain never reads the clock.
//! The local work is measured twice, because neither figure is exact on its own:
//! - the domain steps a pass runs for each dossier (check each file's size and digest, read
//!   `FormulaireQF.json`, the store's reads and transactions) timed directly over the 500
//!   dossiers' real files, which leaves out HTTP and the reading of Hubee's JSON answers;
//! - a whole pass with no latency divided by 500, which includes everything the client does
//!   but also the simulator's own work, on the same cores.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use guichet_qf::communes::{self, Commune, Environment, NewCommune};
use guichet_qf::dossiers::{self, NewDossier, NewFile, Statut};
use guichet_qf::hubee::{
    sha256_base64, Attachment, CaseAttachment, ClientConfig, HubeeClient, RetryPolicy, Timeouts,
};
use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::hubee::{
    fictitious_dossiers, Config, Credentials, HubeeSimulator, SeededDossier,
};
use guichet_qf::store::{self, Store, DATABASE_FILE};
use guichet_qf::sync::connect::software_identity;
use guichet_qf::sync::{self, formulaire_qf, PassOptions, JSON_FILE};
use guichet_qf::vault::SecretString;
use rand::SeedableRng;

const DOSSIERS: usize = 500;
const LATENCY: Duration = Duration::from_millis(20);
const SIRET: &str = "21040107100019";
const COG: &str = "04107";
const CLIENT_ID: &str = "bench-client";
const SECRET: &str = "bench-secret-0123456789";
/// The same families in every run, so that the runs compare like with like.
const FAMILIES_SEED: u64 = 500;

/// What one pass took, and whether it did its job.
struct Run {
    wall: Duration,
    requests: usize,
    most_in_flight: usize,
    problems: Vec<String>,
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let default = PassOptions::default();
    let one_at_a_time = PassOptions { concurrency: 1 };

    println!(
        "Relevé Hubee de {DOSSIERS} dossiers FormulaireQF, latence simulée {} ms par requête",
        LATENCY.as_millis()
    );
    let sequential = runtime.block_on(pass(LATENCY, &one_at_a_time));
    report("une requête à la fois", &sequential);
    let concurrent = runtime.block_on(pass(LATENCY, &default));
    report(
        &format!("concurrence {} (défaut)", default.concurrency),
        &concurrent,
    );
    let speed_up = sequential.wall.as_secs_f64() / concurrent.wall.as_secs_f64();
    println!("speed-up : {speed_up:.1}× (objectif ≥ 3×)");
    println!();

    let unloaded = runtime.block_on(pass(Duration::ZERO, &default));
    report("sans latence, concurrence par défaut", &unloaded);
    let local = local_work();
    println!(
        "travail local par dossier (étapes du domaine, chronométrées seules) : {} (objectif ≤ 2 ms)",
        per_dossier(local)
    );
    println!(
        "travail local par dossier (relevé entier sans latence ÷ {DOSSIERS}, client HTTP et \
         simulateur compris) : {}",
        per_dossier(unloaded.wall)
    );

    let problems: Vec<&String> = [&sequential, &concurrent, &unloaded]
        .iter()
        .flat_map(|run| &run.problems)
        .collect();
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        for problem in problems {
            eprintln!("ERREUR : {problem}");
        }
        ExitCode::FAILURE
    }
}

fn per_dossier(total: Duration) -> String {
    let millis = total.as_secs_f64() * 1000.0 / DOSSIERS as f64;
    format!("{millis:.2} ms")
}

fn report(label: &str, run: &Run) {
    let seconds = run.wall.as_secs_f64();
    println!(
        "{label} : {seconds:.2} s, {} requêtes, {:.0} dossiers/s, au plus {} requête(s) en cours",
        run.requests,
        DOSSIERS as f64 / seconds,
        run.most_in_flight
    );
}

/// A fresh simulator with the 500 dossiers and a fresh store, then one timed pass.
async fn pass(latency: Duration, options: &PassOptions) -> Run {
    let clock = SimClock::real();
    let sim = HubeeSimulator::start(
        0,
        Config {
            clock: clock.clone(),
            latency,
            ..Config::default()
        },
    )
    .await
    .expect("the Hubee simulator starts");
    let credentials = Credentials {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
    };
    sim.add_subscriber(SIRET, COG, &credentials);
    let seeded: Vec<SeededDossier> = fictitious_dossiers(FAMILIES_SEED, DOSSIERS)
        .iter()
        .map(|family| sim.seed_formulaire_qf(SIRET, COG, family))
        .collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, commune) = fresh_store(&dir, &clock);
    let client = {
        let clock = clock.clone();
        HubeeClient::new(ClientConfig {
            token_url: sim.auth_url(),
            api_url: sim.api_url(),
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(SECRET.to_string()),
            identity: software_identity(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            clock: Arc::new(move || clock.now()),
            network: guichet_qf::network::Network::direct(),
        })
        .expect("a Hubee client")
    };

    let started = Instant::now();
    let result = sync::run_pass_with(
        &store,
        &client,
        &commune,
        clock.now(),
        &mut rand::rngs::StdRng::seed_from_u64(7),
        &|_| {},
        options,
    )
    .await;
    let wall = started.elapsed();

    let requests = sim.requests();
    let mut problems = Vec::new();
    match result {
        Ok(summary) if summary.nouveaux == DOSSIERS => {}
        Ok(summary) => problems.push(format!("{summary:?} instead of {DOSSIERS} new dossiers")),
        Err(error) => problems.push(format!("the pass failed: {}", error.detail())),
    }
    problems.extend(check_stored(&store, &commune, &seeded));
    for dossier in &seeded {
        let acknowledgements = requests
            .iter()
            .filter(|r| {
                r.method == "POST"
                    && r.status == Some(201)
                    && r.path.contains(&dossier.case_id)
                    && r.body.as_deref().is_some_and(|b| b.contains("SI_RECEIVED"))
            })
            .count();
        if acknowledgements != 1 {
            problems.push(format!(
                "case {} acknowledged {acknowledgements} times",
                dossier.case_id
            ));
        }
    }
    let run = Run {
        wall,
        requests: requests.len(),
        most_in_flight: sim.max_in_flight(),
        problems,
    };
    sim.stop().await;
    run
}

fn fresh_store(dir: &tempfile::TempDir, clock: &SimClock) -> (Store, Commune) {
    let store = store::open(&dir.path().join(DATABASE_FILE)).expect("a fresh store");
    let commune = communes::add(
        &store,
        &NewCommune {
            siret: SIRET.into(),
            name: "Majastres".into(),
            cog: COG.into(),
            environment: Environment::Simulateur,
        },
        clock.now(),
    )
    .expect("the commune is added");
    (store, commune)
}

/// Every seeded dossier stored once, complete and acknowledged, and nothing else.
fn check_stored(store: &Store, commune: &Commune, seeded: &[SeededDossier]) -> Vec<String> {
    let stored = match store.read(|conn| dossiers::list(conn, commune.id)) {
        Ok(stored) => stored,
        Err(error) => return vec![format!("the store cannot be read: {}", error.detail())],
    };
    let mut problems = Vec::new();
    let cases: HashSet<&str> = stored.iter().map(|d| d.case_id.as_str()).collect();
    if stored.len() != DOSSIERS || cases.len() != DOSSIERS {
        problems.push(format!(
            "{} dossiers stored for {} cases, {DOSSIERS} expected",
            stored.len(),
            cases.len()
        ));
    }
    for dossier in seeded {
        if !cases.contains(dossier.case_id.as_str()) {
            problems.push(format!("case {} missing", dossier.case_id));
        }
    }
    for dossier in &stored {
        if dossier.statut != Statut::Nouveau || dossier.acknowledged_at.is_none() {
            problems.push(format!(
                "case {} left {:?}, acknowledged {:?}",
                dossier.case_id, dossier.statut, dossier.acknowledged_at
            ));
        }
    }
    problems
}

/// The local steps of a pass for each of the 500 dossiers, on their real files: the lookup of
/// the case in the store, the size and digest check of each file, the reading of
/// `FormulaireQF.json`, the transaction that stores the dossier and its files, the lookup that
/// follows it and the transaction that records the acknowledgement. What Hubee sends is
/// prepared first and not timed.
fn local_work() -> Duration {
    let clock = SimClock::real();
    let families = fictitious_dossiers(FAMILIES_SEED, DOSSIERS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let (seeded, _sim) = runtime.block_on(async {
        let sim = HubeeSimulator::start(0, Config::default())
            .await
            .expect("the Hubee simulator starts");
        let credentials = Credentials {
            client_id: CLIENT_ID.into(),
            client_secret: SECRET.into(),
        };
        sim.add_subscriber(SIRET, COG, &credentials);
        let seeded: Vec<SeededDossier> = families
            .iter()
            .map(|family| sim.seed_formulaire_qf(SIRET, COG, family))
            .collect();
        (seeded, sim)
    });
    // What the client would have received: each file with its description and digest header.
    let received: Vec<Vec<(CaseAttachment, Attachment)>> = seeded
        .iter()
        .map(|dossier| {
            dossier
                .files
                .iter()
                .map(|file| {
                    let description = CaseAttachment {
                        id: file.attachment_id.clone(),
                        status: Some("RECEIVED".into()),
                        file_name: Some(file.file_name.clone()),
                        kind: None,
                        size: Some(file.bytes.len() as u64),
                        mime_type: Some(file.mime_type.clone()),
                        digest: None,
                    };
                    let download = Attachment {
                        digest: Some(sha256_base64(&file.bytes)),
                        bytes: file.bytes.clone(),
                    };
                    (description, download)
                })
                .collect()
        })
        .collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, commune) = fresh_store(&dir, &clock);
    let now = clock.now();

    let started = Instant::now();
    for (dossier, files) in seeded.iter().zip(received) {
        let known = store
            .read(|conn| dossiers::find_by_case(conn, &dossier.case_id))
            .expect("the store answers");
        assert!(known.is_none(), "a fresh store knows no case");
        let mut json = None;
        let mut checked = Vec::new();
        for (description, download) in files {
            download
                .verify(&description)
                .expect("the seeded files are intact");
            let name = description.file_name.clone().unwrap_or_default();
            if name == JSON_FILE {
                json = Some(download.bytes.clone());
            }
            checked.push(NewFile {
                attachment_id: description.id,
                file_name: name,
                mime_type: description.mime_type,
                bytes: download.bytes,
            });
        }
        let json = json.expect("every dossier has its JSON");
        let demande = formulaire_qf::parse(&json).expect("the seeded JSON is readable");
        let new = NewDossier {
            commune_id: commune.id,
            case_id: dossier.case_id.clone(),
            case_external_id: Some(dossier.case_external_id.clone()),
            demande: Some(demande),
            raw_json: Some(String::from_utf8_lossy(&json).into_owned()),
            statut: Statut::Nouveau,
            reason: None,
            files: checked,
        };
        store
            .write(|tx| dossiers::save(tx, &new, now))
            .expect("the dossier is stored");
        let stored = store
            .read(|conn| dossiers::find_by_case(conn, &dossier.case_id))
            .expect("the store answers")
            .expect("the dossier was just stored");
        store
            .write(|tx| dossiers::mark_acknowledged(tx, stored.id, now))
            .expect("the acknowledgement is recorded");
    }
    started.elapsed()
}
