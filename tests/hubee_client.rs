//! The Hubee client against the Hubee simulator: authentication (§3), the conventions of §4,
//! the endpoints of §5, retries, and how each failure is classified for the sync engine.

use std::sync::Arc;
use std::time::Duration;

use guichet_qf::error::{Code, Error};
use guichet_qf::hubee::{
    ClientConfig, Deleted, ErrorKind, HubeeClient, RetryPolicy, SoftwareIdentity, Timeouts,
};
use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::hubee::{
    fictitious_dossiers, Config, Credentials, Failure, Fault, HubeeSimulator, RecordedRequest,
    Route, SeededDossier,
};
use guichet_qf::vault::SecretString;
use jiff::{SignedDuration, Timestamp};

const SIRET: &str = "21040107100019";
const COG: &str = "04107";
const OTHER_SIRET: &str = "11111111111112";
const OTHER_COG: &str = "11112";
const SECRET: &str = "majastres-secret-0123456789";
const ATTEMPTS: u32 = 3;

fn majastres() -> Credentials {
    Credentials {
        client_id: "majastres-client".into(),
        client_secret: SECRET.into(),
    }
}

struct Setup {
    sim: HubeeSimulator,
    clock: SimClock,
}

/// A simulator on a frozen clock with Majastres and another commune subscribed.
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
    sim.add_subscriber(SIRET, COG, &majastres());
    sim.add_subscriber(
        OTHER_SIRET,
        OTHER_COG,
        &Credentials {
            client_id: "other-client".into(),
            client_secret: "other-secret".into(),
        },
    );
    Setup { sim, clock }
}

/// The identity the app itself sends, so tests check the real headers.
fn identity() -> SoftwareIdentity {
    guichet_qf::sync::connect::software_identity()
}

fn client_with(setup: &Setup, secret: &str, request_timeout: Duration) -> HubeeClient {
    let clock = setup.clock.clone();
    HubeeClient::new(ClientConfig {
        token_url: setup.sim.auth_url(),
        api_url: setup.sim.api_url(),
        client_id: majastres().client_id,
        client_secret: SecretString::from(secret.to_string()),
        identity: identity(),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: request_timeout,
        },
        retry: RetryPolicy {
            max_attempts: ATTEMPTS,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        },
        clock: Arc::new(move || clock.now()),
        network: guichet_qf::network::Network::direct(),
    })
    .unwrap()
}

fn client(setup: &Setup) -> HubeeClient {
    client_with(setup, SECRET, Duration::from_secs(5))
}

fn seed(setup: &Setup, count: usize) -> Vec<SeededDossier> {
    fictitious_dossiers(7, count)
        .iter()
        .map(|dossier| setup.sim.seed_formulaire_qf(SIRET, COG, dossier))
        .collect()
}

fn token_calls(sim: &HubeeSimulator) -> Vec<RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path == "/oauth2/token")
        .collect()
}

/// The statuses answered to `method path`, in order (`None` for a dropped connection).
fn statuses(sim: &HubeeSimulator, method: &str, path: &str) -> Vec<Option<u16>> {
    sim.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .map(|r| r.status)
        .collect()
}

fn case_path(case_id: &str) -> String {
    format!("/teledossiers/v1/cases/{case_id}")
}

#[tokio::test]
async fn one_token_serves_every_call_and_every_call_names_the_software() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);

    client.list_notifications(25, true).await.unwrap();
    client.get_case(&dossier.case_id).await.unwrap();
    client.list_notifications(25, false).await.unwrap();

    let requests = setup.sim.requests();
    assert_eq!(requests.len(), 4);
    let token = &requests[0];
    assert_eq!(
        (token.method.as_str(), token.path.as_str()),
        ("POST", "/oauth2/token")
    );
    // The simulator answers 200 only to a form body with grant_type and scope=SI, and reads the
    // credentials from the Basic header since the form carries none.
    assert_eq!(token.status, Some(200));
    assert!(token.has_authorization);
    assert_eq!(token_calls(&setup.sim).len(), 1);
    for request in &requests {
        assert_eq!(
            request.editor_name.as_deref(),
            Some("Guichet QF"),
            "{request:?}"
        );
        assert_eq!(request.application_name.as_deref(), Some("Guichet QF"));
        assert_eq!(
            request.software_version.as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert!(request.has_authorization);
    }
    assert_eq!(
        requests[1].query.as_deref(),
        Some("maxResult=25&eventDetails=true")
    );
    assert_eq!(requests[3].query.as_deref(), Some("maxResult=25"));
    assert!(requests[1..].iter().all(|r| r.status == Some(200)));
}

#[tokio::test]
async fn an_expired_token_is_replaced_once_and_the_call_goes_through() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);
    client.list_notifications(25, false).await.unwrap();

    setup.sim.inject(Fault::ExpireAllTokens);
    let case = client.get_case(&dossier.case_id).await.unwrap();

    assert_eq!(case.id, dossier.case_id);
    assert_eq!(token_calls(&setup.sim).len(), 2);
    assert_eq!(
        statuses(&setup.sim, "GET", &case_path(&dossier.case_id)),
        vec![Some(401), Some(200)]
    );
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires_on_the_clock() {
    let setup = setup().await;
    let client = client(&setup);
    client.list_notifications(25, false).await.unwrap();

    // One hour of lifetime: 50 minutes later the same token is still used…
    setup.clock.advance(SignedDuration::from_mins(50));
    client.list_notifications(25, false).await.unwrap();
    assert_eq!(token_calls(&setup.sim).len(), 1);

    // …and within the last minute it is replaced before the gateway can refuse it.
    setup.clock.advance(SignedDuration::from_secs(9 * 60 + 30));
    client.list_notifications(25, false).await.unwrap();
    assert_eq!(token_calls(&setup.sim).len(), 2);
    assert!(setup.sim.requests().iter().all(|r| r.status == Some(200)));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_credentials_and_not_retried() {
    let setup = setup().await;
    let client = client_with(&setup, "not-the-secret", Duration::from_secs(5));

    let error = client.list_notifications(25, true).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::CredentialsRefused);
    assert_eq!(error.status(), Some(401));
    assert!(!error.technical().contains("not-the-secret"));
    assert_eq!(token_calls(&setup.sim).len(), 1);
    assert_eq!(setup.sim.requests().len(), 1);
    let error = Error::from(error);
    assert_eq!(error.code, Code::CredentialsRefused);
    assert_eq!(
        error.message,
        "Les identifiants Hubee de la commune sont refusés : vérifiez l'identifiant client et la \
         clé secrète dans Paramètres."
    );
    assert!(!error.detail().contains("not-the-secret"));
}

#[tokio::test]
async fn a_second_401_with_a_fresh_token_is_refused_credentials() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: 2,
        failure: Failure::Status(401),
    });

    let error = client.get_case(&dossier.case_id).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::CredentialsRefused);
    assert_eq!(token_calls(&setup.sim).len(), 2);
    assert_eq!(
        statuses(&setup.sim, "GET", &case_path(&dossier.case_id)),
        vec![Some(401), Some(401)]
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_hubee_answers() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: 2,
        failure: Failure::Status(500),
    });

    let case = client.get_case(&dossier.case_id).await.unwrap();

    assert_eq!(case.status, "HUBEE_NOTIFIED");
    assert_eq!(
        statuses(&setup.sim, "GET", &case_path(&dossier.case_id)),
        vec![Some(500), Some(500), Some(200)]
    );
}

#[tokio::test]
async fn a_lasting_breakdown_is_retry_later_after_the_last_attempt() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: 100,
        failure: Failure::Status(503),
    });

    let error = client.get_case(&dossier.case_id).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::RetryLater);
    assert_eq!(error.status(), Some(503));
    assert_eq!(
        error.message(),
        "Hubee est indisponible (erreur 503). Nouvel essai au prochain relevé."
    );
    assert_eq!(
        statuses(&setup.sim, "GET", &case_path(&dossier.case_id)).len(),
        ATTEMPTS as usize
    );
    assert_eq!(Error::from(error).code, Code::ServiceUnavailable);
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let setup = setup().await;
    seed(&setup, 1);
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::ListNotifications,
        times: 1,
        failure: Failure::Status(429),
    });

    let notifications = client.list_notifications(25, false).await.unwrap();

    assert_eq!(notifications.len(), 1);
    assert_eq!(
        statuses(&setup.sim, "GET", "/teledossiers/v1/notifications"),
        vec![Some(429), Some(200)]
    );
}

#[tokio::test]
async fn a_slow_hubee_times_out_as_retry_later() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client_with(&setup, SECRET, Duration::from_millis(300));
    setup.sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: ATTEMPTS as usize,
        failure: Failure::Delay(Duration::from_secs(2)),
    });

    let error = client.get_case(&dossier.case_id).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::RetryLater);
    assert_eq!(error.status(), None);
    assert_eq!(
        error.message(),
        "Hubee ne répond pas (délai dépassé). Nouvel essai au prochain relevé."
    );
    assert_eq!(
        statuses(&setup.sim, "GET", &case_path(&dossier.case_id)).len(),
        ATTEMPTS as usize
    );
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: 1,
        failure: Failure::HangUp,
    });

    let case = client.get_case(&dossier.case_id).await.unwrap();

    assert_eq!(case.id, dossier.case_id);
    assert_eq!(
        statuses(&setup.sim, "GET", &case_path(&dossier.case_id)),
        vec![None, Some(200)]
    );
}

#[tokio::test]
async fn a_status_event_is_not_posted_again_after_a_dropped_connection() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::PostEvent,
        times: 1,
        failure: Failure::HangUp,
    });

    let error = client
        .post_status_event(&dossier.case_id, "SI_RECEIVED", None, true)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::RetryLater);
    let events_path = format!("{}/events", case_path(&dossier.case_id));
    assert_eq!(statuses(&setup.sim, "POST", &events_path), vec![None]);
    // The caller reads the case to learn whether the event was applied; here it was not.
    let case = client.get_case(&dossier.case_id).await.unwrap();
    assert_eq!(case.status, "HUBEE_NOTIFIED");
    assert!(case.events.is_empty());
}

#[tokio::test]
async fn an_unknown_case_is_a_dossier_problem_and_not_retried() {
    let setup = setup().await;
    let client = client(&setup);
    let missing = "00000000-0000-4000-8000-000000000000";

    let error = client.get_case(missing).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Dossier);
    assert_eq!(error.status(), Some(404));
    assert!(error.technical().contains("Case is not found"));
    assert_eq!(statuses(&setup.sim, "GET", &case_path(missing)).len(), 1);
    let error = Error::from(error);
    assert_eq!(error.code, Code::NotFound);
    assert!(error
        .message
        .starts_with("Ce dossier est introuvable sur Hubee"));
}

#[tokio::test]
async fn another_communes_case_is_forbidden() {
    let setup = setup().await;
    let foreign =
        setup
            .sim
            .seed_formulaire_qf(OTHER_SIRET, OTHER_COG, &fictitious_dossiers(3, 1)[0]);
    let client = client(&setup);

    let error = client.get_case(&foreign.case_id).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Dossier);
    assert_eq!(error.status(), Some(403));
    assert!(error.message().contains("« Unauthorized user »"));
    assert_eq!(
        statuses(&setup.sim, "GET", &case_path(&foreign.case_id)).len(),
        1
    );
    assert_eq!(Error::from(error).code, Code::Forbidden);
}

#[tokio::test]
async fn notifications_announce_new_dossiers_and_acknowledged_events() {
    let setup = setup().await;
    let dossiers = seed(&setup, 2);
    let client = client(&setup);

    let notifications = client.list_notifications(25, true).await.unwrap();

    assert_eq!(notifications.len(), 2);
    for (notification, dossier) in notifications.iter().zip(&dossiers) {
        assert_eq!(notification.id, dossier.notification_id);
        assert_eq!(notification.process_code, "FormulaireQF");
        assert_eq!(notification.case_id.as_deref(), Some(&*dossier.case_id));
        assert_eq!(notification.event_id, None);
        assert_eq!(notification.event_status, None);
        assert_eq!(
            notification.date_time,
            Some(Timestamp::from_second(1_795_000_000).unwrap())
        );
    }
    let limited = client.list_notifications(1, false).await.unwrap();
    assert_eq!(limited.len(), 1);

    // formulaire-qf acknowledges our status event: a RECEIVED notification comes back.
    let event = client
        .post_status_event(&dossiers[0].case_id, "SI_RECEIVED", None, true)
        .await
        .unwrap();
    setup.sim.run_osl_cycle();
    let notifications = client.list_notifications(25, true).await.unwrap();
    let acknowledgement = notifications
        .iter()
        .find(|n| n.event_id.as_deref() == Some(&*event.id))
        .expect("the acknowledgement of our event");
    assert_eq!(
        acknowledgement.event_action_type.as_deref(),
        Some("STATUS_UPDATE")
    );
    assert_eq!(acknowledgement.event_status.as_deref(), Some("RECEIVED"));
}

#[tokio::test]
async fn deleting_twice_says_already_gone() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);

    let first = client.delete_notification(&dossier.notification_id).await;
    let second = client.delete_notification(&dossier.notification_id).await;

    assert_eq!(first, Ok(Deleted::Removed));
    assert_eq!(second, Ok(Deleted::AlreadyGone));
    assert!(client
        .list_notifications(25, true)
        .await
        .unwrap()
        .is_empty());
    let path = format!("/teledossiers/v1/notifications/{}", dossier.notification_id);
    assert_eq!(
        statuses(&setup.sim, "DELETE", &path),
        vec![Some(204), Some(404)]
    );
}

#[tokio::test]
async fn a_case_and_its_files_download_and_verify() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);

    let case = client.get_case(&dossier.case_id).await.unwrap();

    assert_eq!(case.status, "HUBEE_NOTIFIED");
    assert_eq!(
        case.external_id.as_deref(),
        Some(&*dossier.case_external_id)
    );
    assert_eq!(case.process_code.as_deref(), Some("FormulaireQF"));
    let recipient = case.recipient.as_ref().unwrap();
    assert_eq!(recipient.company_register.as_deref(), Some(SIRET));
    assert_eq!(recipient.branch_code.as_deref(), Some(COG));
    assert_eq!(case.attachments.len(), 3);
    for expected in &dossier.files {
        let described = case
            .attachments
            .iter()
            .find(|a| a.id == expected.attachment_id)
            .unwrap();
        assert_eq!(described.file_name.as_deref(), Some(&*expected.file_name));
        assert_eq!(described.mime_type.as_deref(), Some(&*expected.mime_type));
        assert_eq!(described.status.as_deref(), Some("RECEIVED"));
        assert_eq!(described.size, Some(expected.bytes.len() as u64));

        let file = client
            .download_attachment(&case.id, &described.id)
            .await
            .unwrap();
        assert_eq!(file.bytes, expected.bytes);
        assert_eq!(
            file.digest.as_deref(),
            Some(&*guichet_qf::hubee::sha256_base64(&expected.bytes))
        );
        assert_eq!(file.verify(described), Ok(()));
    }
}

#[tokio::test]
async fn an_altered_file_is_caught_by_verify() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let altered = &dossier.files[0];
    setup.sim.inject(Fault::DigestMismatch {
        case_id: dossier.case_id.clone(),
        file_name: altered.file_name.clone(),
    });
    let client = client(&setup);
    let case = client.get_case(&dossier.case_id).await.unwrap();
    let described = case
        .attachments
        .iter()
        .find(|a| a.id == altered.attachment_id)
        .unwrap();

    let file = client
        .download_attachment(&case.id, &described.id)
        .await
        .unwrap();
    let error = file.verify(described).unwrap_err();

    assert_eq!(file.bytes, altered.bytes);
    assert_eq!(error.kind(), ErrorKind::Dossier);
    assert!(error.message().contains(&format!(
        "« {} » reçu de Hubee est altéré",
        altered.file_name
    )));
}

#[tokio::test]
async fn a_file_not_yet_received_is_a_dossier_problem() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    setup.sim.inject(Fault::AttachmentStatus {
        case_id: dossier.case_id.clone(),
        file_name: dossier.files[1].file_name.clone(),
        status: guichet_qf::simulators::hubee::AttachmentStatus::Pending,
    });
    let client = client(&setup);

    let error = client
        .download_attachment(&dossier.case_id, &dossier.files[1].attachment_id)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Dossier);
    assert_eq!(error.status(), Some(404));
    assert!(error.technical().contains("File is not found"));
}

#[tokio::test]
async fn a_status_event_moves_the_case_and_tells_formulaire_qf() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);

    let event = client
        .post_status_event(&dossier.case_id, "SI_RECEIVED", Some("Intégré"), true)
        .await
        .unwrap();

    assert_eq!(event.action_type.as_deref(), Some("STATUS_UPDATE"));
    assert_eq!(event.case_new_status.as_deref(), Some("SI_RECEIVED"));
    assert_eq!(event.status.as_deref(), Some("SENT"));
    assert_eq!(event.comment.as_deref(), Some("Intégré"));
    assert!(event.notification);
    let partner = event.partner_info.as_ref().unwrap();
    assert_eq!(partner.editor_name.as_deref(), Some("Guichet QF"));
    assert_eq!(
        partner.software_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let case = client.get_case(&dossier.case_id).await.unwrap();
    assert_eq!(case.status, "SI_RECEIVED");
    assert_eq!(case.events.len(), 1);
    assert_eq!(case.events[0].id, event.id);

    let sent = setup
        .sim
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/events"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(sent.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "actionType": "STATUS_UPDATE",
            "caseNewStatus": "SI_RECEIVED",
            "notification": true,
            "author": "Guichet QF",
            "comment": "Intégré",
        })
    );
}

#[tokio::test]
async fn a_refused_transition_is_a_dossier_problem() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);

    // DONE straight from HUBEE_NOTIFIED is not a transition Hubee accepts (§7.1).
    let error = client
        .post_status_event(&dossier.case_id, "DONE", None, true)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Dossier);
    assert_eq!(error.status(), Some(400));
    assert!(error
        .message()
        .starts_with("Hubee refuse ce changement de statut"));
    let events_path = format!("{}/events", case_path(&dossier.case_id));
    assert_eq!(statuses(&setup.sim, "POST", &events_path), vec![Some(400)]);
    assert_eq!(Error::from(error).code, Code::Conflict);
}

#[tokio::test]
async fn formulaire_qfs_closing_event_is_read_and_acknowledged() {
    let setup = setup().await;
    let dossier = &seed(&setup, 1)[0];
    let client = client(&setup);
    client
        .post_status_event(&dossier.case_id, "SI_RECEIVED", None, true)
        .await
        .unwrap();
    client
        .post_status_event(&dossier.case_id, "DONE", None, true)
        .await
        .unwrap();
    setup.sim.run_osl_cycle();

    let notifications = client.list_notifications(25, true).await.unwrap();
    let closing = notifications
        .iter()
        .find(|n| n.event_status.as_deref() == Some("SENT"))
        .expect("the notification of formulaire-qf's CLOSED event");
    let event_id = closing.event_id.clone().unwrap();
    let event = client.get_event(&dossier.case_id, &event_id).await.unwrap();
    assert_eq!(event.case_new_status.as_deref(), Some("CLOSED"));
    assert_eq!(event.status.as_deref(), Some("SENT"));

    client
        .patch_event_status(&dossier.case_id, &event_id, "RECEIVED")
        .await
        .unwrap();

    let event = client.get_event(&dossier.case_id, &event_id).await.unwrap();
    assert_eq!(event.status.as_deref(), Some("RECEIVED"));
    let patch = setup
        .sim
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(patch.body.as_deref(), Some(r#"{"status":"RECEIVED"}"#));
    assert_eq!(patch.status, Some(204));
}

#[tokio::test]
async fn the_client_never_shows_its_secret_or_token() {
    let setup = setup().await;
    let client = client(&setup);
    client.list_notifications(25, false).await.unwrap();

    let debug = format!("{client:?}");

    assert!(!debug.contains(SECRET));
    assert!(debug.contains("[caché]"));
    assert!(!debug.to_lowercase().contains("bearer"));
}

#[tokio::test]
async fn identity_headers_longer_than_hubee_allows_are_refused() {
    let setup = setup().await;
    let clock = setup.clock.clone();
    let result = HubeeClient::new(ClientConfig {
        token_url: setup.sim.auth_url(),
        api_url: setup.sim.api_url(),
        client_id: "x".into(),
        client_secret: SecretString::from("y".to_string()),
        identity: SoftwareIdentity {
            editor_name: "E".repeat(51),
            ..identity()
        },
        timeouts: Timeouts::default(),
        retry: RetryPolicy::default(),
        clock: Arc::new(move || clock.now()),
        network: guichet_qf::network::Network::direct(),
    });

    let error = result.unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(error.message.contains("editorName"));
}

#[tokio::test]
async fn concurrent_calls_share_one_token_and_one_replacement() {
    let setup = setup().await;
    let dossiers = seed(&setup, 2);
    let client = client(&setup);

    let (first, second) = tokio::join!(
        client.get_case(&dossiers[0].case_id),
        client.get_case(&dossiers[1].case_id)
    );
    assert_eq!(first.unwrap().id, dossiers[0].case_id);
    assert_eq!(second.unwrap().id, dossiers[1].case_id);
    assert_eq!(token_calls(&setup.sim).len(), 1);

    setup.sim.inject(Fault::ExpireAllTokens);
    let (first, second) = tokio::join!(
        client.get_case(&dossiers[0].case_id),
        client.get_case(&dossiers[1].case_id)
    );
    assert!(first.is_ok() && second.is_ok());
    assert_eq!(token_calls(&setup.sim).len(), 2);
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried() {
    let setup = setup().await;
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::Token,
        times: 1,
        failure: Failure::Status(500),
    });

    client.list_notifications(25, false).await.unwrap();

    let statuses: Vec<Option<u16>> = token_calls(&setup.sim).iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(200)]);
}

#[tokio::test]
async fn an_unreachable_hubee_is_retry_later() {
    let setup = setup().await;
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let clock = setup.clock.clone();
    let client = HubeeClient::new(ClientConfig {
        token_url: format!("http://{address}/oauth2/token"),
        api_url: format!("http://{address}"),
        client_id: majastres().client_id,
        client_secret: SecretString::from(SECRET.to_string()),
        identity: identity(),
        timeouts: Timeouts {
            connect: Duration::from_secs(1),
            request: Duration::from_secs(2),
        },
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        },
        clock: Arc::new(move || clock.now()),
        network: guichet_qf::network::Network::direct(),
    })
    .unwrap();

    let error = client.list_notifications(25, true).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::RetryLater);
    assert_eq!(error.status(), None);
    assert!(error.message().starts_with("Hubee est injoignable"));
}

#[tokio::test]
async fn many_concurrent_calls_share_one_token_refresh() {
    let setup = setup().await;
    // A slow Hubee keeps every call of the batch in flight while the token is fetched.
    setup.sim.set_latency(Duration::from_millis(20));
    let dossiers = seed(&setup, 12);
    let client = client(&setup);
    client.list_notifications(25, false).await.unwrap();
    let all_cases =
        || futures_util::future::join_all(dossiers.iter().map(|d| client.get_case(&d.case_id)));

    // Expired on the clock: the first call to notice fetches a token, the others wait for it.
    setup.clock.advance(SignedDuration::from_hours(1));
    assert!(all_cases().await.iter().all(Result::is_ok));
    assert_eq!(token_calls(&setup.sim).len(), 2);
    assert!(setup.sim.max_in_flight() > 1);

    // Refused by the gateway while the calls are under way: one replacement serves them all.
    setup.sim.inject(Fault::ExpireAllTokens);
    assert!(all_cases().await.iter().all(Result::is_ok));
    assert_eq!(token_calls(&setup.sim).len(), 3);
    for dossier in &dossiers {
        let answered = statuses(&setup.sim, "GET", &case_path(&dossier.case_id));
        assert_eq!(answered[answered.len() - 2..], [Some(401), Some(200)]);
    }
}

#[tokio::test]
async fn calls_waiting_for_a_failing_token_fetch_share_its_failure() {
    let setup = setup().await;
    let dossiers = seed(&setup, 6);
    let client = client(&setup);
    setup.sim.inject(Fault::Failing {
        route: Route::Token,
        times: ATTEMPTS as usize,
        failure: Failure::Status(503),
    });

    let results =
        futures_util::future::join_all(dossiers.iter().map(|d| client.get_case(&d.case_id))).await;

    for result in results {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::RetryLater);
    }
    // One round of retries for all six calls, not one per call.
    assert_eq!(token_calls(&setup.sim).len(), ATTEMPTS as usize);
    // The next call, which waited for nothing, tries again and succeeds.
    client.get_case(&dossiers[0].case_id).await.unwrap();
    assert_eq!(token_calls(&setup.sim).len(), ATTEMPTS as usize + 1);
}
