//! The sync engine against the Hubee simulator (spec §6, issue 4): the order of the calls, what
//! is stored, and every branch of the loop.

use std::sync::Arc;
use std::time::Duration;

use guichet_qf::communes::{self, Commune, Environment, NewCommune};
use guichet_qf::dossiers::{self, Statut, StoredDossier};
use guichet_qf::error::Code;
use guichet_qf::families::{self, Source};
use guichet_qf::hubee::{ClientConfig, HubeeClient, RetryPolicy, Timeouts};
use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::hubee::{
    fictitious_dossiers, AttachmentStatus, Config, Credentials, Failure, Fault, HubeeSimulator,
    RecordedRequest, Route, SeededDossier,
};
use guichet_qf::store::{self, Store, DATABASE_FILE};
use guichet_qf::sync::connect::software_identity;
use guichet_qf::sync::{
    close_dossier, run_pass, run_pass_with, Decision, PassOptions, PassSummary, Progress,
    DEFAULT_CONCURRENCY,
};
use guichet_qf::vault::SecretString;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::SeedableRng;

const SIRET: &str = "21040107100019";
const COG: &str = "04107";
const SECRET: &str = "majastres-secret-0123456789";
const API: &str = "/teledossiers/v1";
/// The client's attempts per call: a fault failing this many calls exhausts its retries.
const ATTEMPTS: usize = 3;

struct Setup {
    sim: HubeeSimulator,
    clock: SimClock,
    store: Store,
    commune: Commune,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let clock = SimClock::fixed(Timestamp::from_second(1_795_000_000).unwrap());
    let sim = HubeeSimulator::start(
        0,
        Config {
            shuffle_notifications: false,
            clock: clock.clone(),
            ..Config::default()
        },
    )
    .await
    .unwrap();
    sim.add_subscriber(
        SIRET,
        COG,
        &Credentials {
            client_id: "majastres-client".into(),
            client_secret: SECRET.into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&dir.path().join(DATABASE_FILE)).unwrap();
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
    .unwrap();
    Setup {
        sim,
        clock,
        store,
        commune,
        _dir: dir,
    }
}

fn client_with_secret(setup: &Setup, secret: &str) -> HubeeClient {
    let clock = setup.clock.clone();
    HubeeClient::new(ClientConfig {
        token_url: setup.sim.auth_url(),
        api_url: setup.sim.api_url(),
        client_id: "majastres-client".into(),
        client_secret: SecretString::from(secret.to_string()),
        identity: software_identity(),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(5),
        },
        retry: RetryPolicy {
            max_attempts: ATTEMPTS as u32,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        },
        clock: Arc::new(move || clock.now()),
        network: guichet_qf::network::Network::direct(),
    })
    .unwrap()
}

/// The seeded random source the tests pass where the window passes the system's.
fn random() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn client(setup: &Setup) -> HubeeClient {
    client_with_secret(setup, SECRET)
}

fn seed(setup: &Setup, seed: u64, count: usize) -> Vec<SeededDossier> {
    fictitious_dossiers(seed, count)
        .iter()
        .map(|dossier| setup.sim.seed_formulaire_qf(SIRET, COG, dossier))
        .collect()
}

async fn pass(setup: &Setup, client: &HubeeClient) -> guichet_qf::error::Result<PassSummary> {
    run_pass(
        &setup.store,
        client,
        &setup.commune,
        setup.clock.now(),
        &mut random(),
        &|_| {},
    )
    .await
}

fn stored(setup: &Setup, case_id: &str) -> Option<StoredDossier> {
    setup
        .store
        .read(|c| dossiers::find_by_case(c, case_id))
        .unwrap()
}

fn all_stored(setup: &Setup) -> Vec<StoredDossier> {
    setup
        .store
        .read(|c| dossiers::list(c, setup.commune.id))
        .unwrap()
}

/// The position of the first request matching, or panics.
fn position(requests: &[RecordedRequest], method: &str, path: &str) -> usize {
    requests
        .iter()
        .position(|r| r.method == method && r.path == path)
        .unwrap_or_else(|| panic!("no {method} {path}"))
}

fn count(requests: &[RecordedRequest], method: &str, path_part: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.method == method && r.path.contains(path_part))
        .count()
}

fn status_events(setup: &Setup, status: &str) -> usize {
    setup
        .sim
        .requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/events")
                && r.status == Some(201)
                && r.body.as_deref().is_some_and(|b| b.contains(status))
        })
        .count()
}

#[tokio::test]
async fn new_dossiers_are_stored_then_acknowledged_then_deleted() {
    let setup = setup().await;
    let seeded = seed(&setup, 11, 3);
    let client = client(&setup);
    let progress = std::sync::Mutex::new(Vec::new());

    let summary = run_pass(
        &setup.store,
        &client,
        &setup.commune,
        setup.clock.now(),
        &mut random(),
        &|p| progress.lock().unwrap().push(p),
    )
    .await
    .unwrap();

    assert_eq!(summary.nouveaux, 3);
    assert_eq!(summary.lots, 1);
    assert_eq!(
        progress.lock().unwrap().last(),
        Some(&Progress::Notification { done: 3, total: 3 })
    );
    let requests = setup.sim.requests();
    for dossier in &seeded {
        let case = format!("{API}/cases/{}", dossier.case_id);
        let post = position(&requests, "POST", &format!("{case}/events"));
        let delete = position(
            &requests,
            "DELETE",
            &format!("{API}/notifications/{}", dossier.notification_id),
        );
        for file in &dossier.files {
            let download = position(
                &requests,
                "GET",
                &format!("{case}/attachments/{}", file.attachment_id),
            );
            assert!(download < post, "download after the acknowledgement");
        }
        assert!(
            post < delete,
            "notification deleted before the acknowledgement"
        );
        assert!(requests[post]
            .body
            .as_deref()
            .unwrap()
            .contains("SI_RECEIVED"));

        let row = stored(&setup, &dossier.case_id).unwrap();
        assert_eq!(row.statut, Statut::Nouveau);
        assert!(row.acknowledged_at.is_some());
        assert_eq!(
            row.reference.as_deref(),
            Some(&dossier.case_external_id["Formulaire-QF-".len()..][..13])
        );
        let names = setup
            .store
            .read(|c| dossiers::file_names(c, row.id))
            .unwrap();
        let expected: Vec<String> = dossier.files.iter().map(|f| f.file_name.clone()).collect();
        assert_eq!(names, expected);
        assert_eq!(
            client.get_case(&dossier.case_id).await.unwrap().status,
            "SI_RECEIVED"
        );
    }
    let health = setup
        .store
        .read(|c| dossiers::sync_health(c, setup.commune.id))
        .unwrap();
    assert_eq!(health.last_success, Some(setup.clock.now()));
    assert_eq!(health.last_error, None);
}

#[tokio::test]
async fn the_dossier_is_stored_before_the_acknowledgement_is_attempted() {
    let setup = setup().await;
    let seeded = seed(&setup, 12, 1).remove(0);
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::PostEvent,
        times: 1,
        failure: Failure::Status(500),
    });

    let error = pass(&setup, &client).await.unwrap_err();

    let row = stored(&setup, &seeded.case_id).expect("stored before the POST");
    assert_eq!(row.statut, Statut::Nouveau);
    assert_eq!(row.acknowledged_at, None);
    let requests = setup.sim.requests();
    assert_eq!(count(&requests, "DELETE", "/notifications/"), 0);
    // The status event is never replayed blindly after a failure that may have reached Hubee.
    assert_eq!(count(&requests, "POST", "/events"), 1);
    let health = setup
        .store
        .read(|c| dossiers::sync_health(c, setup.commune.id))
        .unwrap();
    assert_eq!(health.last_error.as_deref(), Some(error.message.as_str()));
    assert_eq!(health.last_success, None);

    // The next pass reads the case, posts once, deletes, and stores nothing twice.
    let summary = pass(&setup, &client).await.unwrap();
    assert_eq!(summary.deja_connus, 1);
    assert_eq!(all_stored(&setup).len(), 1);
    assert!(stored(&setup, &seeded.case_id)
        .unwrap()
        .acknowledged_at
        .is_some());
    assert_eq!(status_events(&setup, "SI_RECEIVED"), 1);
    assert_eq!(
        count(&setup.sim.requests(), "DELETE", &seeded.notification_id),
        1
    );
}

#[tokio::test]
async fn an_acknowledgement_already_posted_is_not_posted_again() {
    let setup = setup().await;
    let seeded = seed(&setup, 13, 1).remove(0);
    let client = client(&setup);
    // The notification's DELETE fails after SI_RECEIVED went through (a crash in between
    // would look the same to the next pass).
    setup.sim.inject(Fault::Failing {
        route: Route::DeleteNotification,
        times: ATTEMPTS,
        failure: Failure::Status(503),
    });
    assert!(pass(&setup, &client).await.is_err());
    // Forget locally that the acknowledgement went through, as after a crash right after it.
    setup
        .store
        .write(|tx| {
            tx.execute("UPDATE dossiers SET acknowledged_at = NULL", [])?;
            Ok(())
        })
        .unwrap();

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.deja_connus, 1);
    assert_eq!(status_events(&setup, "SI_RECEIVED"), 1);
    assert!(stored(&setup, &seeded.case_id)
        .unwrap()
        .acknowledged_at
        .is_some());
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_second_pass_is_a_no_op() {
    let setup = setup().await;
    seed(&setup, 14, 4);
    let client = client(&setup);
    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 4);
    let before = setup.sim.requests().len();

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(
        summary,
        PassSummary {
            lots: 1,
            ..PassSummary::default()
        }
    );
    let after = setup.sim.requests();
    assert_eq!(after.len(), before + 1, "{:?}", &after[before..]);
    assert_eq!(all_stored(&setup).len(), 4);
}

#[tokio::test]
async fn a_duplicate_notification_is_stored_once() {
    let setup = setup().await;
    let seeded = seed(&setup, 15, 1).remove(0);
    setup.sim.inject(Fault::DuplicateNotification {
        case_id: seeded.case_id.clone(),
    });
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.nouveaux, 1);
    assert_eq!(summary.deja_connus, 1);
    assert_eq!(all_stored(&setup).len(), 1);
    assert_eq!(status_events(&setup, "SI_RECEIVED"), 1);
    assert_eq!(count(&setup.sim.requests(), "DELETE", "/notifications/"), 2);
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_notification_of_another_demarche_is_never_deleted() {
    let setup = setup().await;
    setup.sim.inject(Fault::ForeignProcessNotification {
        siret: SIRET.into(),
        cog: COG.into(),
        process_code: "AutreDemarche".into(),
    });
    let seeded = seed(&setup, 16, 1).remove(0);
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.ignorees, 1);
    assert_eq!(summary.nouveaux, 1);
    let requests = setup.sim.requests();
    assert_eq!(count(&requests, "DELETE", "/notifications/"), 1);
    assert_eq!(count(&requests, "DELETE", &seeded.notification_id), 1);
    let left = client.list_notifications(25, true).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].process_code, "AutreDemarche");
    // Its case was not even read.
    assert_eq!(
        count(&requests, "GET", &left[0].case_id.clone().unwrap()),
        0
    );
}

#[tokio::test]
async fn a_full_batch_that_cannot_be_deleted_ends_the_pass() {
    let setup = setup().await;
    for _ in 0..25 {
        setup.sim.inject(Fault::ForeignProcessNotification {
            siret: SIRET.into(),
            cog: COG.into(),
            process_code: "AutreDemarche".into(),
        });
    }
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.lots, 1);
    assert_eq!(summary.ignorees, 25);
    assert_eq!(count(&setup.sim.requests(), "DELETE", "/notifications/"), 0);
}

#[tokio::test]
async fn a_pending_file_keeps_the_dossier_incomplete_until_it_arrives() {
    let setup = setup().await;
    let seeded = seed(&setup, 17, 1).remove(0);
    let pdf = seeded.files[2].file_name.clone();
    setup.sim.inject(Fault::AttachmentStatus {
        case_id: seeded.case_id.clone(),
        file_name: pdf.clone(),
        status: AttachmentStatus::Pending,
    });
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.incomplets, 1);
    assert_eq!(summary.nouveaux, 0);
    let row = stored(&setup, &seeded.case_id).unwrap();
    assert_eq!(row.statut, Statut::Incomplet);
    assert!(row
        .reason
        .as_deref()
        .unwrap()
        .contains("pas encore disponible"));
    assert!(row.reason.as_deref().unwrap().contains(&pdf));
    // What could be kept is kept: the JSON was read.
    assert!(row.nom_naissance.is_some());
    assert_eq!(
        setup
            .store
            .read(|c| dossiers::file_names(c, row.id))
            .unwrap()
            .len(),
        2
    );
    let requests = setup.sim.requests();
    assert_eq!(count(&requests, "POST", "/events"), 0);
    assert_eq!(count(&requests, "DELETE", "/notifications/"), 0);

    setup.sim.inject(Fault::AttachmentStatus {
        case_id: seeded.case_id.clone(),
        file_name: pdf,
        status: AttachmentStatus::Received,
    });
    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.nouveaux, 1);
    let row = stored(&setup, &seeded.case_id).unwrap();
    assert_eq!(row.statut, Statut::Nouveau);
    assert_eq!(row.reason, None);
    assert!(row.acknowledged_at.is_some());
    assert_eq!(
        setup
            .store
            .read(|c| dossiers::file_names(c, row.id))
            .unwrap()
            .len(),
        3
    );
    assert_eq!(all_stored(&setup).len(), 1);
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn an_altered_file_is_kept_to_check_and_not_acknowledged() {
    let setup = setup().await;
    let seeded = seed(&setup, 18, 1).remove(0);
    setup.sim.inject(Fault::DigestMismatch {
        case_id: seeded.case_id.clone(),
        file_name: "FormulaireQF.json".into(),
    });
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.incomplets, 1);
    let row = stored(&setup, &seeded.case_id).unwrap();
    assert_eq!(row.statut, Statut::AVerifier);
    assert!(row.reason.as_deref().unwrap().contains("altéré"), "{row:?}");
    assert_eq!(row.acknowledged_at, None);
    let requests = setup.sim.requests();
    assert_eq!(count(&requests, "POST", "/events"), 0);
    assert_eq!(count(&requests, "DELETE", "/notifications/"), 0);
}

#[tokio::test]
async fn after_too_many_attempts_hubee_is_told_once_and_the_dossier_stays() {
    let setup = setup().await;
    let seeded = seed(&setup, 19, 1).remove(0);
    setup.sim.inject(Fault::AttachmentStatus {
        case_id: seeded.case_id.clone(),
        file_name: "FormulaireQF.xml".into(),
        status: AttachmentStatus::Pending,
    });
    let client = client(&setup);

    for attempt in 1..=guichet_qf::sync::MAX_ATTEMPTS {
        pass(&setup, &client).await.unwrap();
        let expected = usize::from(attempt == guichet_qf::sync::MAX_ATTEMPTS);
        assert_eq!(status_events(&setup, "SI_INTG_ERROR"), expected);
    }
    pass(&setup, &client).await.unwrap();

    assert_eq!(status_events(&setup, "SI_INTG_ERROR"), 1);
    let row = stored(&setup, &seeded.case_id).unwrap();
    assert_eq!(row.statut, Statut::Incomplet);
    assert!(row.intg_error_at.is_some());
    assert_eq!(
        client.get_case(&seeded.case_id).await.unwrap().status,
        "SI_INTG_ERROR"
    );
    assert_eq!(client.list_notifications(25, true).await.unwrap().len(), 1);
}

#[tokio::test]
async fn expired_tokens_do_not_stop_a_pass() {
    let setup = setup().await;
    seed(&setup, 20, 1);
    let client = client(&setup);
    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 1);

    // Between passes…
    seed(&setup, 21, 1);
    setup.sim.inject(Fault::ExpireAllTokens);
    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 1);

    // …and in the middle of one.
    seed(&setup, 22, 2);
    setup.sim.inject(Fault::Failing {
        route: Route::GetAttachment,
        times: 1,
        failure: Failure::Status(401),
    });
    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 2);
    assert_eq!(all_stored(&setup).len(), 4);
}

#[tokio::test]
async fn server_errors_are_retried_then_recorded() {
    let setup = setup().await;
    seed(&setup, 23, 2);
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::GetAttachment,
        times: 2,
        failure: Failure::Status(500),
    });
    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 2);

    seed(&setup, 24, 1);
    setup.sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: ATTEMPTS,
        failure: Failure::Status(500),
    });
    let error = pass(&setup, &client).await.unwrap_err();
    let health = setup
        .store
        .read(|c| dossiers::sync_health(c, setup.commune.id))
        .unwrap();
    assert_eq!(health.last_error.as_deref(), Some(error.message.as_str()));
    assert!(health.last_success.is_some());
    assert_eq!(all_stored(&setup).len(), 2);

    // Nothing was lost: the next pass finds the dossier.
    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 1);
    let health = setup
        .store
        .read(|c| dossiers::sync_health(c, setup.commune.id))
        .unwrap();
    assert_eq!(health.last_error, None);
}

#[tokio::test]
async fn refused_credentials_are_recorded_in_french() {
    let setup = setup().await;
    seed(&setup, 25, 1);
    let client = client_with_secret(&setup, "wrong-secret");

    let error = pass(&setup, &client).await.unwrap_err();

    assert!(error.message.contains("identifiants Hubee"), "{error:?}");
    let health = setup
        .store
        .read(|c| dossiers::sync_health(c, setup.commune.id))
        .unwrap();
    assert_eq!(health.last_error.as_deref(), Some(error.message.as_str()));
    assert!(all_stored(&setup).is_empty());
}

#[tokio::test]
async fn the_form_acknowledging_our_status_is_deleted_by_the_next_pass() {
    let setup = setup().await;
    seed(&setup, 26, 2);
    let client = client(&setup);
    pass(&setup, &client).await.unwrap();

    setup.sim.run_osl_cycle();
    let waiting = client.list_notifications(25, true).await.unwrap();
    assert_eq!(waiting.len(), 2);
    assert!(waiting
        .iter()
        .all(|n| n.event_status.as_deref() == Some("RECEIVED")));
    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.evenements, 2);
    assert_eq!(count(&setup.sim.requests(), "PATCH", "/events/"), 0);
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_form_closing_a_done_case_is_acknowledged_and_recorded() {
    let setup = setup().await;
    let seeded = seed(&setup, 27, 1).remove(0);
    let client = client(&setup);
    pass(&setup, &client).await.unwrap();
    setup.sim.run_osl_cycle();
    pass(&setup, &client).await.unwrap();

    client
        .post_status_event(&seeded.case_id, "DONE", None, true)
        .await
        .unwrap();
    setup.sim.run_osl_cycle();
    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.clotures, 1);
    let row = stored(&setup, &seeded.case_id).unwrap();
    assert_eq!(row.statut, Statut::Cloture);
    assert!(row.closed_at.is_some());
    let requests = setup.sim.requests();
    let patch = requests
        .iter()
        .find(|r| r.method == "PATCH" && r.path.contains("/events/"))
        .expect("the CLOSED event is acknowledged");
    assert!(patch.body.as_deref().unwrap().contains("RECEIVED"));
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        client.get_case(&seeded.case_id).await.unwrap().status,
        "CLOSED"
    );
}

#[tokio::test]
async fn thirty_dossiers_come_in_two_batches() {
    let setup = setup().await;
    seed(&setup, 28, 30);
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.nouveaux, 30);
    assert_eq!(summary.lots, 2);
    assert_eq!(all_stored(&setup).len(), 30);
    assert_eq!(count(&setup.sim.requests(), "GET", "/notifications"), 2);
}

#[tokio::test]
async fn an_unreadable_json_is_kept_to_check_with_its_files() {
    let setup = setup().await;
    let seeded = seed(&setup, 29, 1).remove(0);
    setup.sim.inject(Fault::ReplaceFile {
        case_id: seeded.case_id.clone(),
        file_name: "FormulaireQF.json".into(),
        bytes: b"{\"pivot_identity\": {\"family_na".to_vec(),
    });
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.incomplets, 1);
    let row = stored(&setup, &seeded.case_id).unwrap();
    assert_eq!(row.statut, Statut::AVerifier);
    assert!(row
        .reason
        .as_deref()
        .unwrap()
        .contains("n'a pas pu être lu"));
    assert_eq!(row.acknowledged_at, None);
    // The three files are kept, the PDF for the agent to read.
    assert_eq!(
        setup
            .store
            .read(|c| dossiers::file_names(c, row.id))
            .unwrap()
            .len(),
        3
    );
    let requests = setup.sim.requests();
    assert_eq!(count(&requests, "POST", "/events"), 0);
    assert_eq!(count(&requests, "DELETE", "/notifications/"), 0);
}

#[tokio::test]
async fn an_older_json_shape_is_read_through_the_pass() {
    let setup = setup().await;
    let seeded = seed(&setup, 30, 1).remove(0);
    let legacy = br#"{"external_id": "INSCR-9", "pivot_identity": {"family_name": "MARTIN",
        "given_name": "Paul", "birthcountry": "99100"},
        "quotient_familial": {"regime": "CNAF", "quotientFamilial": 812, "annee": 2025,
        "mois": 1, "allocataires": [], "enfants": [{"nomNaissance": "MARTIN",
        "prenoms": "LEA", "anneeDateDeNaissance": "2015", "moisDateDeNaissance": "03",
        "jourDateDeNaissance": "09", "sexe": "F"}], "version": "v2"}}"#;
    setup.sim.inject(Fault::ReplaceFile {
        case_id: seeded.case_id.clone(),
        file_name: "FormulaireQF.json".into(),
        bytes: legacy.to_vec(),
    });
    let client = client(&setup);

    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 1);

    let row = stored(&setup, &seeded.case_id).unwrap();
    assert_eq!(row.statut, Statut::Nouveau);
    assert_eq!(row.external_id.as_deref(), Some("INSCR-9"));
    assert_eq!(row.qf_fournisseur.as_deref(), Some("CNAF"));
    assert_eq!(row.qf_valeur, Some(812));
    assert_eq!(row.nb_enfants, Some(1));
}

#[tokio::test]
async fn a_case_hubee_cannot_find_is_counted_and_retried() {
    let setup = setup().await;
    let seeded = seed(&setup, 31, 2);
    setup.sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: 1,
        failure: Failure::Status(404),
    });
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.erreurs, 1);
    assert_eq!(summary.nouveaux, 1);
    assert_eq!(count(&setup.sim.requests(), "DELETE", "/notifications/"), 1);
    let summary = pass(&setup, &client).await.unwrap();
    assert_eq!(summary.nouveaux, 1);
    for dossier in &seeded {
        assert!(stored(&setup, &dossier.case_id).is_some());
    }
}

#[tokio::test]
async fn a_slow_answer_is_retried_after_the_timeout() {
    let setup = setup().await;
    seed(&setup, 32, 1);
    let clock = setup.clock.clone();
    let client = HubeeClient::new(ClientConfig {
        token_url: setup.sim.auth_url(),
        api_url: setup.sim.api_url(),
        client_id: "majastres-client".into(),
        client_secret: SecretString::from(SECRET.to_string()),
        identity: software_identity(),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_millis(300),
        },
        retry: RetryPolicy {
            max_attempts: ATTEMPTS as u32,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        },
        clock: Arc::new(move || clock.now()),
        network: guichet_qf::network::Network::direct(),
    })
    .unwrap();
    setup.sim.inject(Fault::Failing {
        route: Route::GetAttachment,
        times: 1,
        failure: Failure::Delay(Duration::from_secs(2)),
    });

    assert_eq!(pass(&setup, &client).await.unwrap().nouveaux, 1);
}

/// A pass cut at random points (the task dropped between two calls, as a crash would leave the
/// database: SQLite transactions are committed or not, never half) and then run again: every
/// dossier is stored exactly once, acknowledged once, and its notification is gone.
#[tokio::test]
async fn a_pass_cut_at_random_points_loses_and_duplicates_nothing() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    for trial in 0..20 {
        let setup = Arc::new(setup().await);
        let seeded = seed(&setup, 100 + trial, 30);
        let client = Arc::new(client(&setup));
        let cut = rng.random_range(2..150);
        let task = {
            let setup = setup.clone();
            let client = client.clone();
            tokio::spawn(async move { pass(&setup, &client).await })
        };
        while setup.sim.requests().len() < cut && !task.is_finished() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        task.abort();
        let _ = task.await;
        // Let the simulator finish a request the cut left in flight.
        tokio::time::sleep(Duration::from_millis(50)).await;

        let summary = pass(&setup, &client).await.unwrap();

        assert_eq!(summary.incomplets + summary.erreurs, 0, "trial {trial}");
        assert_eq!(all_stored(&setup).len(), 30, "trial {trial}");
        for dossier in &seeded {
            let row = stored(&setup, &dossier.case_id).unwrap();
            assert_eq!(row.statut, Statut::Nouveau);
            assert!(row.acknowledged_at.is_some(), "trial {trial}");
            assert_eq!(
                client.get_case(&dossier.case_id).await.unwrap().status,
                "SI_RECEIVED"
            );
        }
        assert_eq!(
            status_events(&setup, "SI_RECEIVED"),
            30,
            "trial {trial}, cut {cut}"
        );
        assert!(client
            .list_notifications(25, true)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn an_agent_closes_a_dossier_and_the_form_closes_the_case() {
    let setup = setup().await;
    let seeded = seed(&setup, 40, 2);
    let client = client(&setup);
    pass(&setup, &client).await.unwrap();
    let done = stored(&setup, &seeded[0].case_id).unwrap();
    let refused = stored(&setup, &seeded[1].case_id).unwrap();

    let row = close_dossier(
        &setup.store,
        &client,
        done.id,
        &Decision::Traite,
        setup.clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(row.statut, Statut::Traite);
    let empty = Decision::Refuse {
        message: "  ".into(),
    };
    let error = close_dossier(&setup.store, &client, refused.id, &empty, setup.clock.now())
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::Validation);
    let refuse = Decision::Refuse {
        message: "Le quotient familial date de plus d'un an.".into(),
    };
    let row = close_dossier(
        &setup.store,
        &client,
        refused.id,
        &refuse,
        setup.clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(row.statut, Statut::Refuse);
    assert_eq!(
        row.decision_message.as_deref(),
        Some("Le quotient familial date de plus d'un an.")
    );
    assert_eq!(status_events(&setup, "DONE"), 1);
    let posted = setup
        .sim
        .requests()
        .into_iter()
        .find(|r| r.body.as_deref().is_some_and(|b| b.contains("REFUSED")))
        .unwrap();
    assert!(posted.body.unwrap().contains("plus d'un an"));

    // Closing again is refused locally, without a call to Hubee.
    let before = setup.sim.requests().len();
    let error = close_dossier(
        &setup.store,
        &client,
        done.id,
        &Decision::Traite,
        setup.clock.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code, Code::Conflict);
    assert_eq!(setup.sim.requests().len(), before);

    setup.sim.run_osl_cycle();
    let summary = pass(&setup, &client).await.unwrap();
    assert_eq!(summary.clotures, 2);
    for dossier in &seeded {
        assert_eq!(
            stored(&setup, &dossier.case_id).unwrap().statut,
            Statut::Cloture
        );
    }
}

#[tokio::test]
async fn a_lost_answer_to_a_decision_is_not_posted_twice() {
    let setup = setup().await;
    let seeded = seed(&setup, 41, 1).remove(0);
    let client = client(&setup);
    pass(&setup, &client).await.unwrap();
    let row = stored(&setup, &seeded.case_id).unwrap();
    // The decision reached Hubee, but the app did not record it (the answer was lost).
    client
        .post_status_event(&seeded.case_id, "DONE", None, true)
        .await
        .unwrap();

    let row = close_dossier(
        &setup.store,
        &client,
        row.id,
        &Decision::Traite,
        setup.clock.now(),
    )
    .await
    .unwrap();

    assert_eq!(row.statut, Statut::Traite);
    assert_eq!(status_events(&setup, "DONE"), 1);
}

#[tokio::test]
async fn an_incomplete_dossier_cannot_be_closed() {
    let setup = setup().await;
    let seeded = seed(&setup, 42, 1).remove(0);
    setup.sim.inject(Fault::AttachmentStatus {
        case_id: seeded.case_id.clone(),
        file_name: "FormulaireQF.xml".into(),
        status: AttachmentStatus::Pending,
    });
    let client = client(&setup);
    pass(&setup, &client).await.unwrap();
    let row = stored(&setup, &seeded.case_id).unwrap();

    let error = close_dossier(
        &setup.store,
        &client,
        row.id,
        &Decision::Traite,
        setup.clock.now(),
    )
    .await
    .unwrap_err();

    assert_eq!(error.code, Code::Conflict);
    assert!(error.message.contains("incomplet"));
    assert_eq!(count(&setup.sim.requests(), "POST", "/events"), 0);
}

#[tokio::test]
async fn a_duplicate_notification_of_an_incomplete_dossier_counts_one_attempt() {
    let setup = setup().await;
    let seeded = seed(&setup, 43, 1).remove(0);
    setup.sim.inject(Fault::AttachmentStatus {
        case_id: seeded.case_id.clone(),
        file_name: "FormulaireQF.xml".into(),
        status: AttachmentStatus::Pending,
    });
    setup.sim.inject(Fault::DuplicateNotification {
        case_id: seeded.case_id.clone(),
    });
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.incomplets, 1);
    assert_eq!(stored(&setup, &seeded.case_id).unwrap().attempts, 1);
    let case_path = format!("{API}/cases/{}", seeded.case_id);
    let case_reads = setup
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == case_path)
        .count();
    assert_eq!(case_reads, 1);
}

/// Every `SI_RECEIVED` that reached Hubee, accepted or refused, by case path. Those the
/// gateway turned away with a 401 never reached it, and the client rightly sends them again.
fn acknowledgements_sent(setup: &Setup) -> Vec<String> {
    setup
        .sim
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/events")
                && r.status != Some(401)
                && r.body.as_deref().is_some_and(|b| b.contains("SI_RECEIVED"))
        })
        .map(|r| r.path)
        .collect()
}

/// Checks that `progress` reported each batch's notifications one by one, up to its size.
fn assert_progress_counts_up(progress: &[Progress]) {
    let mut expected = 1;
    for step in progress {
        match *step {
            Progress::Batch { .. } => expected = 1,
            Progress::Notification { done, total } => {
                assert_eq!(done, expected, "{progress:?}");
                assert!(done <= total);
                expected += 1;
            }
        }
    }
}

#[tokio::test]
async fn duplicates_of_one_case_are_handled_in_turn_and_acknowledged_once() {
    let setup = setup().await;
    setup.sim.set_latency(Duration::from_millis(3));
    let seeded = seed(&setup, 44, 10);
    for dossier in &seeded {
        setup.sim.inject(Fault::DuplicateNotification {
            case_id: dossier.case_id.clone(),
        });
    }
    // Two duplicates for one of them, listed right after the original.
    setup.sim.inject(Fault::DuplicateNotification {
        case_id: seeded[0].case_id.clone(),
    });
    let client = client(&setup);

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.nouveaux, 10);
    assert_eq!(summary.deja_connus, 11);
    assert_eq!(summary.erreurs, 0);
    assert!(setup.sim.max_in_flight() > 1, "the pass was not concurrent");
    assert_eq!(all_stored(&setup).len(), 10);
    // Sent once per case, not merely accepted once: a second concurrent post would show here
    // even though Hubee refuses it.
    let sent = acknowledgements_sent(&setup);
    assert_eq!(sent.len(), 10, "{sent:?}");
    for dossier in &seeded {
        assert_eq!(
            sent.iter().filter(|p| p.contains(&dossier.case_id)).count(),
            1
        );
    }
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn requests_overlap_by_default_and_never_with_a_concurrency_of_one() {
    for concurrency in [DEFAULT_CONCURRENCY, 1] {
        let setup = setup().await;
        setup.sim.set_latency(Duration::from_millis(2));
        let seeded = seed(&setup, 45, 60);
        let client = client(&setup);
        let progress = std::sync::Mutex::new(Vec::new());

        let summary = run_pass_with(
            &setup.store,
            &client,
            &setup.commune,
            setup.clock.now(),
            &mut random(),
            &|p| progress.lock().unwrap().push(p),
            &PassOptions { concurrency },
        )
        .await
        .unwrap();

        assert_eq!(summary.nouveaux, 60, "concurrency {concurrency}");
        assert_eq!(summary.lots, 3);
        let most = setup.sim.max_in_flight();
        if concurrency == 1 {
            assert_eq!(most, 1);
        } else {
            assert!(most > 1 && most <= concurrency, "{most} in flight");
        }
        assert_progress_counts_up(&progress.lock().unwrap());
        assert_eq!(all_stored(&setup).len(), 60);
        assert_eq!(acknowledgements_sent(&setup).len(), 60);
        for dossier in &seeded {
            let row = stored(&setup, &dossier.case_id).unwrap();
            assert!(row.acknowledged_at.is_some());
            // The files keep the case's order although they were downloaded together.
            let names = setup
                .store
                .read(|c| dossiers::file_names(c, row.id))
                .unwrap();
            let expected: Vec<String> = dossier.files.iter().map(|f| f.file_name.clone()).collect();
            assert_eq!(names, expected);
        }
        // The commit still precedes the acknowledgement and the deletion of each case.
        let requests = setup.sim.requests();
        for dossier in &seeded {
            let case = format!("{API}/cases/{}", dossier.case_id);
            let post = position(&requests, "POST", &format!("{case}/events"));
            let delete = position(
                &requests,
                "DELETE",
                &format!("{API}/notifications/{}", dossier.notification_id),
            );
            let last_download = dossier
                .files
                .iter()
                .map(|f| {
                    position(
                        &requests,
                        "GET",
                        &format!("{case}/attachments/{}", f.attachment_id),
                    )
                })
                .max()
                .unwrap();
            assert!(last_download < post && post < delete);
        }
    }
}

#[tokio::test]
async fn tokens_expiring_in_the_middle_of_a_concurrent_pass_are_replaced_once() {
    let setup = Arc::new(setup().await);
    setup.sim.set_latency(Duration::from_millis(5));
    seed(&setup, 46, 40);
    let client = Arc::new(client(&setup));
    let task = {
        let setup = setup.clone();
        let client = client.clone();
        tokio::spawn(async move { pass(&setup, &client).await })
    };
    while setup.sim.requests().len() < 60 && !task.is_finished() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    setup.sim.inject(Fault::ExpireAllTokens);

    let summary = task.await.unwrap().unwrap();

    assert_eq!(summary.nouveaux, 40);
    assert_eq!(summary.erreurs, 0);
    let requests = setup.sim.requests();
    let refused = requests.iter().filter(|r| r.status == Some(401)).count();
    assert!(refused > 0, "the tokens expired after the pass");
    // However many calls the expiry caught in flight, one new token served them all.
    assert_eq!(count(&requests, "POST", "/oauth2/token"), 2);
    assert_eq!(all_stored(&setup).len(), 40);
    assert_eq!(acknowledgements_sent(&setup).len(), 40);
}

#[tokio::test]
async fn a_failure_in_a_concurrent_pass_starts_nothing_new_and_loses_nothing() {
    let setup = setup().await;
    setup.sim.set_latency(Duration::from_millis(3));
    let seeded = seed(&setup, 47, 20);
    let client = client(&setup);
    // The first acknowledgement fails; it is not replayed, so the pass ends.
    setup.sim.inject(Fault::Failing {
        route: Route::PostEvent,
        times: 1,
        failure: Failure::Status(500),
    });

    let error = pass(&setup, &client).await.unwrap_err();

    let requests = setup.sim.requests();
    let cases_read = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&format!("{API}/cases/")))
        .filter(|r| !r.path.contains("/attachments/"))
        .count();
    assert!(
        cases_read <= DEFAULT_CONCURRENCY,
        "{cases_read} cases read after the failure"
    );
    // What was in flight finished, in order: every deleted notification is of a dossier stored
    // and acknowledged locally.
    let finished = count(&requests, "DELETE", "/notifications/");
    assert!(finished > 0, "nothing in flight was let finish");
    for dossier in &seeded {
        if count(&requests, "DELETE", &dossier.notification_id) > 0 {
            let row = stored(&setup, &dossier.case_id).unwrap();
            assert!(row.acknowledged_at.is_some());
        }
    }
    let health = setup
        .store
        .read(|c| dossiers::sync_health(c, setup.commune.id))
        .unwrap();
    assert_eq!(health.last_error.as_deref(), Some(error.message.as_str()));

    let summary = pass(&setup, &client).await.unwrap();

    assert_eq!(summary.nouveaux + summary.deja_connus, 20 - finished);
    assert_eq!(all_stored(&setup).len(), 20);
    assert_eq!(status_events(&setup, "SI_RECEIVED"), 20);
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_second_pass_of_the_same_commune_is_put_off_while_the_first_runs() {
    // The window's poller and a scheduled `guichet-qf sync` may start together.
    let setup = setup().await;
    seed(&setup, 31, 10);
    setup.sim.set_latency(Duration::from_millis(20));
    let (first_client, second_client) = (client(&setup), client(&setup));
    let second = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        pass(&setup, &second_client).await
    };
    let (first, second) = tokio::join!(pass(&setup, &first_client), second);
    assert_eq!(first.unwrap().nouveaux, 10);
    let error = second.unwrap_err();
    assert_eq!(error.code, Code::Conflict);
    assert!(
        error.message.contains("Rien n'est perdu"),
        "{}",
        error.message
    );
    // The lock went with the first pass: the next one runs.
    setup.sim.set_latency(Duration::ZERO);
    let next = pass(&setup, &client(&setup)).await.unwrap();
    assert_eq!(next.nouveaux, 0);
    let stored = setup
        .store
        .read(|c| dossiers::list(c, setup.commune.id))
        .unwrap();
    assert_eq!(stored.len(), 10);
}

#[tokio::test]
async fn a_synced_dossier_lands_in_its_family_and_the_same_family_twice_is_one_family() {
    let setup = setup().await;
    let mut dossier = fictitious_dossiers(71, 1).remove(0);
    dossier.quotient.valeur = Some(812);
    let first = setup.sim.seed_formulaire_qf(SIRET, COG, &dossier);
    let client = client(&setup);
    pass(&setup, &client).await.unwrap();

    let stored_first = stored(&setup, &first.case_id).unwrap();
    let found = setup
        .store
        .read(|c| families::search(c, setup.commune.id, &dossier.identity.family_name))
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let family = setup.store.read(|c| families::get(c, found[0].id)).unwrap();
    assert_eq!(family.dossiers, vec![stored_first.id]);
    assert_eq!(family.history.len(), 1);
    let qf = &family.history[0];
    assert_eq!(qf.valeur, Some(812));
    assert_eq!(i64::from(qf.annee), i64::from(dossier.quotient.annee));
    assert_eq!(i64::from(qf.mois), i64::from(dossier.quotient.mois));
    assert_eq!(
        qf.source,
        Source::DossierHubee {
            dossier_id: stored_first.id
        }
    );
    assert_eq!(qf.agent, families::SYSTEM_AGENT);
    let pivot = family.pivot().unwrap();
    assert_eq!(pivot.nom_naissance, dossier.identity.family_name);
    // The dossier was acknowledged all the same.
    assert!(stored_first.acknowledged_at.is_some());

    // The same family sends the form again the next month: one family, two QFs.
    dossier.reference = "0123456789ABC".into();
    dossier.quotient.valeur = Some(845);
    let second = setup.sim.seed_formulaire_qf(SIRET, COG, &dossier);
    pass(&setup, &client).await.unwrap();
    let stored_second = stored(&setup, &second.case_id).unwrap();
    let found = setup
        .store
        .read(|c| families::search(c, setup.commune.id, &dossier.identity.family_name))
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let family = setup.store.read(|c| families::get(c, found[0].id)).unwrap();
    assert_eq!(family.dossiers, vec![stored_first.id, stored_second.id]);
    let values: Vec<Option<u32>> = family.history.iter().map(|q| q.valeur).collect();
    assert!(
        values.contains(&Some(812)) && values.contains(&Some(845)),
        "{values:?}"
    );
}

#[tokio::test]
async fn dossiers_stored_before_the_family_file_are_reconciled_at_the_next_pass() {
    let setup = setup().await;
    let seeded = seed(&setup, 72, 2);
    let client = client(&setup);
    pass(&setup, &client).await.unwrap();
    // As if these dossiers had been stored by a build without the family file.
    setup
        .store
        .write(|tx| {
            tx.execute_batch(
                "DELETE FROM family_candidates; DELETE FROM qf_history;
                 DELETE FROM family_dossiers; DELETE FROM family_members;
                 DELETE FROM family_search; DELETE FROM families;",
            )?;
            Ok(())
        })
        .unwrap();
    let unreconciled = setup
        .store
        .read(|c| families::reconcile::unreconciled(c, setup.commune.id))
        .unwrap();
    assert_eq!(unreconciled.len(), 2);

    // A pass with nothing new on Hubee still reconciles them.
    pass(&setup, &client).await.unwrap();
    for dossier in &seeded {
        let id = stored(&setup, &dossier.case_id).unwrap().id;
        let family: Option<i64> = setup
            .store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT family_id FROM family_dossiers WHERE dossier_id = ?1",
                    [id],
                    |row| row.get(0),
                )
                .ok())
            })
            .unwrap();
        assert!(family.is_some(), "dossier {id} not reconciled");
    }
    assert!(setup
        .store
        .read(|c| families::reconcile::unreconciled(c, setup.commune.id))
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_family_file_that_fails_never_holds_back_the_dossier_or_its_acknowledgement() {
    let setup = setup().await;
    let seeded = seed(&setup, 73, 1);
    let client = client(&setup);
    // The family file refuses every new family, as a bug or a damaged table would.
    setup
        .store
        .write(|tx| {
            tx.execute_batch(
                "CREATE TRIGGER no_family BEFORE INSERT ON families
                 BEGIN SELECT RAISE(ABORT, 'family file broken'); END;",
            )?;
            Ok(())
        })
        .unwrap();
    let summary = pass(&setup, &client).await.unwrap();
    assert_eq!(summary.nouveaux, 1);
    let dossier = stored(&setup, &seeded[0].case_id).unwrap();
    assert!(
        dossier.acknowledged_at.is_some(),
        "acknowledged all the same"
    );
    assert_eq!(status_events(&setup, "SI_RECEIVED"), 1);
    assert_eq!(
        setup
            .store
            .read(|c| families::reconcile::unreconciled(c, setup.commune.id))
            .unwrap(),
        vec![dossier.id]
    );

    // Repaired, the next pass (with nothing new on Hubee) puts the dossier in its family.
    setup
        .store
        .write(|tx| {
            tx.execute_batch("DROP TRIGGER no_family;")?;
            Ok(())
        })
        .unwrap();
    pass(&setup, &client).await.unwrap();
    assert!(setup
        .store
        .read(|c| families::reconcile::unreconciled(c, setup.commune.id))
        .unwrap()
        .is_empty());
    assert_eq!(
        status_events(&setup, "SI_RECEIVED"),
        1,
        "never posted twice"
    );
}

#[tokio::test]
async fn with_the_setting_on_a_dossier_in_the_family_file_is_marked_traite_once() {
    use guichet_qf::settings::{self, Settings};
    let setup = setup().await;
    let mut dossiers = fictitious_dossiers(72, 2);
    for (dossier, valeur) in dossiers.iter_mut().zip([640, 1180]) {
        dossier.quotient.valeur = Some(valeur);
    }
    let seeded: Vec<SeededDossier> = dossiers
        .iter()
        .map(|dossier| setup.sim.seed_formulaire_qf(SIRET, COG, dossier))
        .collect();
    let client = client(&setup);

    // Off by default: the dossiers are received and in the family file, not closed.
    pass(&setup, &client).await.unwrap();
    for dossier in &seeded {
        let row = stored(&setup, &dossier.case_id).unwrap();
        assert!(
            matches!(row.statut, Statut::Nouveau | Statut::Recu),
            "{row:?}"
        );
    }
    assert_eq!(status_events(&setup, "DONE"), 0);

    // On: the next pass marks them "traité" on Hubee and in the inbox.
    let current = setup.store.read(settings::get).unwrap();
    settings::update(
        &setup.store,
        &Settings {
            close_dossiers_in_family: true,
            ..current
        },
    )
    .unwrap();
    pass(&setup, &client).await.unwrap();
    for dossier in &seeded {
        assert_eq!(
            stored(&setup, &dossier.case_id).unwrap().statut,
            Statut::Traite
        );
    }
    assert_eq!(status_events(&setup, "DONE"), 2);

    // Nothing is posted twice.
    pass(&setup, &client).await.unwrap();
    assert_eq!(status_events(&setup, "DONE"), 2);
}
