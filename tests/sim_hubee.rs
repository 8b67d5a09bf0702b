//! Contract tests of the Hubee simulator, written from `shared/specs/hubee.md` (§3–§9, §12):
//! a plain HTTP client checks each answer the specification describes, refusals included.

use std::time::Duration;

use base64::Engine;
use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::hubee::{
    fictitious_dossiers, AttachmentStatus, Config, Credentials, Failure, Fault, HubeeSimulator,
    Route, SeededDossier, StatusMode, TransitionRules,
};
use jiff::{SignedDuration, Timestamp};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const SIRET: &str = "21040107100019";
const COG: &str = "04107";
const OTHER_SIRET: &str = "11111111111112";
const OTHER_COG: &str = "11112";

fn majastres() -> Credentials {
    Credentials {
        client_id: "majastres-client".into(),
        client_secret: "majastres-secret".into(),
    }
}

fn other_commune() -> Credentials {
    Credentials {
        client_id: "other-client".into(),
        client_secret: "other-secret".into(),
    }
}

fn frozen_clock() -> SimClock {
    SimClock::fixed(Timestamp::from_second(1_795_000_000).unwrap())
}

/// A simulator with Majastres and another commune subscribed, notifications in order.
async fn simulator(config: Config) -> HubeeSimulator {
    let sim = HubeeSimulator::start(0, config).await.unwrap();
    sim.add_subscriber(SIRET, COG, &majastres());
    sim.add_subscriber(OTHER_SIRET, OTHER_COG, &other_commune());
    sim
}

fn ordered() -> Config {
    Config {
        shuffle_notifications: false,
        clock: frozen_clock(),
        ..Config::default()
    }
}

fn seed(sim: &HubeeSimulator, count: usize) -> Vec<SeededDossier> {
    fictitious_dossiers(11, count)
        .iter()
        .map(|dossier| sim.seed_formulaire_qf(SIRET, COG, dossier))
        .collect()
}

async fn token_for(sim: &HubeeSimulator, credentials: &Credentials) -> String {
    let response = Client::new()
        .post(sim.auth_url())
        .basic_auth(&credentials.client_id, Some(&credentials.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "SI")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

fn url(sim: &HubeeSimulator, path: &str) -> String {
    format!("{}/teledossiers/v1{path}", sim.api_url())
}

/// GET with a bearer token; returns the status and the JSON body (`Null` when empty).
async fn get(sim: &HubeeSimulator, token: &str, path: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .get(url(sim, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn post_event(
    sim: &HubeeSimulator,
    token: &str,
    case_id: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = Client::new()
        .post(url(sim, &format!("/cases/{case_id}/events")))
        .bearer_auth(token)
        .header("editorName", "Guichet QF")
        .header("applicationName", "guichet-qf")
        .header("softwareVersion", "0.1.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn status_update(new_status: &str, notification: bool) -> Value {
    json!({
        "actionType": "STATUS_UPDATE",
        "author": "Mairie de Majastres",
        "notification": notification,
        "caseNewStatus": new_status,
        "message": "Dossier intégré",
    })
}

async fn patch(sim: &HubeeSimulator, token: &str, path: &str, body: Value) -> StatusCode {
    Client::new()
        .patch(url(sim, path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn delete(sim: &HubeeSimulator, token: &str, path: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .delete(url(sim, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn hubee_error(code: u16, message: &str) -> Value {
    json!({ "errors": [{ "code": code, "message": message }] })
}

fn invalid_credentials() -> Value {
    json!({
        "code": "900901",
        "message": "Invalid Credentials",
        "description": "Invalid Credentials. Make sure you have provided the correct security credentials",
    })
}

// §3, §12.1 — the token endpoint.

#[tokio::test]
async fn token_is_issued_for_a_form_body_with_basic_auth() {
    let sim = simulator(ordered()).await;
    let response = Client::new()
        .post(sim.auth_url())
        .basic_auth("majastres-client", Some("majastres-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "SI")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "SI");
    assert_eq!(body["expires_in"], 3600);
    assert!(!body["access_token"].as_str().unwrap().is_empty());
    assert!(sim.auth_url().ends_with("/oauth2/token"));
    sim.stop().await;
}

#[tokio::test]
async fn token_request_with_a_json_body_is_refused() {
    let sim = simulator(ordered()).await;
    let response = Client::new()
        .post(sim.auth_url())
        .basic_auth("majastres-client", Some("majastres-secret"))
        .json(&json!({ "grant_type": "client_credentials", "scope": "SI" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("access_token").is_none());
}

#[tokio::test]
async fn token_request_with_a_wrong_secret_is_401_invalid_client() {
    let sim = simulator(ordered()).await;
    let response = Client::new()
        .post(sim.auth_url())
        .basic_auth("majastres-client", Some("not-the-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "SI")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": "Client Authentication failed."})
    );
}

#[tokio::test]
async fn token_request_accepts_credentials_in_the_form_and_refuses_a_wrong_scope_or_grant() {
    let sim = simulator(ordered()).await;
    let in_form = Client::new()
        .post(sim.auth_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "SI"),
            ("client_id", "majastres-client"),
            ("client_secret", "majastres-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(in_form.status(), StatusCode::OK);
    for form in [
        [("grant_type", "client_credentials"), ("scope", "OSL")],
        [("grant_type", "password"), ("scope", "SI")],
    ] {
        let response = Client::new()
            .post(sim.auth_url())
            .basic_auth("majastres-client", Some("majastres-secret"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form:?}");
    }
}

// §12.2 — the gateway.

#[tokio::test]
async fn api_refuses_missing_and_unknown_tokens_with_900901() {
    let sim = simulator(ordered()).await;
    let without = Client::new()
        .get(url(&sim, "/notifications"))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        without.json::<Value>().await.unwrap(),
        invalid_credentials()
    );
    let (status, body) = get(&sim, "made-up-token", "/notifications").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, invalid_credentials());
}

#[tokio::test]
async fn token_expires_after_its_lifetime_on_the_sim_clock() {
    let clock = frozen_clock();
    let sim = simulator(Config {
        clock: clock.clone(),
        token_lifetime: Duration::from_secs(600),
        ..Config::default()
    })
    .await;
    let token = token_for(&sim, &majastres()).await;
    clock.advance(SignedDuration::from_secs(599));
    assert_eq!(get(&sim, &token, "/notifications").await.0, StatusCode::OK);
    clock.advance(SignedDuration::from_secs(1));
    let (status, body) = get(&sim, &token, "/notifications").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "900901");
    let fresh = token_for(&sim, &majastres()).await;
    assert_eq!(get(&sim, &fresh, "/notifications").await.0, StatusCode::OK);
}

// §5.1, §5.2, §12.4, §12.5 — notifications.

#[tokio::test]
async fn notifications_come_by_default_in_batches_of_25() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 30);
    let token = token_for(&sim, &majastres()).await;
    let (status, batch) = get(&sim, &token, "/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(batch.as_array().unwrap().len(), 25);
    let (_, all) = get(&sim, &token, "/notifications?maxResult=100").await;
    assert_eq!(all.as_array().unwrap().len(), 30);
    let (_, ten) = get(&sim, &token, "/notifications?maxResult=10").await;
    assert_eq!(ten.as_array().unwrap().len(), 10);
    let first = &all[0];
    assert_eq!(first["id"], seeded[0].notification_id.as_str());
    assert_eq!(first["processCode"], "FormulaireQF");
    assert_eq!(first["caseId"], seeded[0].case_id.as_str());
    assert_eq!(first["eventId"], Value::Null);
    assert_eq!(first["recipient"]["companyRegister"], SIRET);
    assert_eq!(first["recipient"]["branchCode"], COG);
    assert_eq!(first["dateTime"], "2026-11-18T11:06:40.000Z");
}

#[tokio::test]
async fn non_numeric_max_result_is_refused_with_the_gateway_message() {
    let sim = simulator(ordered()).await;
    let token = token_for(&sim, &majastres()).await;
    let (status, body) = get(&sim, &token, "/notifications?maxResult=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        hubee_error(
            400,
            "Bad Request : Validation failed.\n[ERROR][REQUEST][GET /teledossiers/v1/notifications @query.maxResult] Instance type (string) does not match any allowed primitive type (allowed: [\"integer\",\"number\"]"
        )
    );
}

#[tokio::test]
async fn event_details_adds_action_type_and_status() {
    let sim = simulator(ordered()).await;
    seed(&sim, 1);
    let token = token_for(&sim, &majastres()).await;
    let (_, plain) = get(&sim, &token, "/notifications").await;
    assert!(plain[0].get("eventActionType").is_none());
    assert!(plain[0].get("eventStatus").is_none());
    let (_, detailed) = get(&sim, &token, "/notifications?eventDetails=true").await;
    assert_eq!(detailed[0]["eventActionType"], Value::Null);
    assert_eq!(detailed[0]["eventStatus"], Value::Null);
    assert!(detailed[0].as_object().unwrap().contains_key("eventStatus"));
}

#[tokio::test]
async fn deleting_a_notification_twice_gives_204_then_404() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 2);
    let token = token_for(&sim, &majastres()).await;
    let path = format!("/notifications/{}", seeded[0].notification_id);
    assert_eq!(delete(&sim, &token, &path).await.0, StatusCode::NO_CONTENT);
    let (status, body) = delete(&sim, &token, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, hubee_error(404, "Notification is not found"));
    let (_, left) = get(&sim, &token, "/notifications").await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["id"], seeded[1].notification_id.as_str());
}

#[tokio::test]
async fn notifications_of_another_commune_are_invisible_and_cannot_be_deleted() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1);
    let other = token_for(&sim, &other_commune()).await;
    let (_, batch) = get(&sim, &other, "/notifications").await;
    assert_eq!(batch, json!([]));
    let (status, body) = delete(
        &sim,
        &other,
        &format!("/notifications/{}", seeded[0].notification_id),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, hubee_error(403, "Unauthorized user"));
}

#[tokio::test]
async fn notifications_are_shuffled_when_configured() {
    let sim = simulator(Config {
        clock: frozen_clock(),
        ..Config::default()
    })
    .await;
    let seeded = seed(&sim, 20);
    let created: Vec<&str> = seeded.iter().map(|s| s.notification_id.as_str()).collect();
    let token = token_for(&sim, &majastres()).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        let (_, batch) = get(&sim, &token, "/notifications").await;
        let ids: Vec<String> = batch
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        let mut expected: Vec<String> = created.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(sorted, expected);
        orders.push(ids);
    }
    assert!(orders
        .iter()
        .any(|ids| ids.iter().map(String::as_str).ne(created.iter().copied())));
}

// §5.3, §5.4, §8, §12.6, §12.7 — cases and files.

#[tokio::test]
async fn case_lists_three_received_files_and_no_events() {
    let sim = simulator(ordered()).await;
    let dossier = &fictitious_dossiers(3, 1)[0];
    let seeded = sim.seed_formulaire_qf(SIRET, COG, dossier);
    let token = token_for(&sim, &majastres()).await;
    let (status, case) = get(&sim, &token, &format!("/cases/{}", seeded.case_id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(case["id"], seeded.case_id.as_str());
    assert_eq!(case["status"], "HUBEE_NOTIFIED");
    assert_eq!(case["processCode"], "FormulaireQF");
    assert_eq!(
        case["recipient"],
        json!({"type": "SI", "companyRegister": SIRET, "branchCode": COG})
    );
    let external_id = case["externalId"].as_str().unwrap();
    assert_eq!(
        external_id,
        format!("Formulaire-QF-{}-01", dossier.reference)
    );
    let reference = &external_id["Formulaire-QF-".len()..external_id.len() - 3];
    assert_eq!(reference.len(), 13);
    assert!(reference
        .chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
    assert_eq!(case["applicant"]["lastName"], dossier.identity.family_name);
    assert_eq!(case["applicant"]["firstName"], dossier.identity.given_names);
    assert_eq!(case["events"], json!([]));
    let attachments = case["attachments"].as_array().unwrap();
    let names: Vec<&str> = attachments
        .iter()
        .map(|a| a["fileName"].as_str().unwrap())
        .collect();
    let pdf_name = format!(
        "quotient_familial_{}_{}.pdf",
        dossier.identity.family_name, dossier.identity.given_names
    )
    .replace(' ', "_");
    assert_eq!(
        names,
        vec!["FormulaireQF.json", "FormulaireQF.xml", pdf_name.as_str()]
    );
    let mimes: Vec<&str> = attachments
        .iter()
        .map(|a| a["mimeType"].as_str().unwrap())
        .collect();
    assert_eq!(
        mimes,
        vec!["application/json", "application/xml", "application/pdf"]
    );
    for attachment in attachments {
        assert_eq!(attachment["status"], "RECEIVED");
        assert_eq!(attachment["type"], "FormulaireQF");
    }
}

#[tokio::test]
async fn attachments_download_as_octet_stream_with_a_matching_digest() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    let (_, case) = get(&sim, &token, &format!("/cases/{}", seeded.case_id)).await;
    for (file, listed) in seeded
        .files
        .iter()
        .zip(case["attachments"].as_array().unwrap())
    {
        let response = Client::new()
            .get(url(
                &sim,
                &format!(
                    "/cases/{}/attachments/{}",
                    seeded.case_id, file.attachment_id
                ),
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "application/octet-stream"
        );
        let digest = response.headers()["digest"].to_str().unwrap().to_string();
        let bytes = response.bytes().await.unwrap();
        assert_eq!(
            digest,
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes))
        );
        assert_eq!(bytes.as_ref(), file.bytes.as_slice());
        assert_eq!(listed["size"], bytes.len());
    }
}

#[tokio::test]
async fn formulaire_qf_files_have_the_keys_of_the_specification() {
    let sim = simulator(ordered()).await;
    let dossier = fictitious_dossiers(5, 1).remove(0);
    let seeded = sim.seed_formulaire_qf(SIRET, COG, &dossier);
    let json_file = &seeded.files[0];
    let parsed: Value = serde_json::from_slice(&json_file.bytes).unwrap();
    let keys: Vec<&str> = parsed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected_keys = vec![
        "external_id",
        "pivot_identity",
        "quotient_familial_v3",
        "quotient_familial",
    ];
    expected_keys.sort();
    assert_eq!(keys, expected_keys);
    let text = String::from_utf8(json_file.bytes.clone()).unwrap();
    assert!(text.starts_with("{\"external_id\":"), "key order: {text}");
    assert!(!text.contains('\n'), "the JSON file is compact");
    for key in [
        "birthcountry",
        "birthdate",
        "birthplace",
        "family_name",
        "given_name",
        "gender",
    ] {
        assert!(parsed["pivot_identity"].get(key).is_some(), "{key}");
    }
    let v3 = &parsed["quotient_familial_v3"];
    assert_eq!(v3["version"], "v3");
    assert_eq!(
        v3["quotient_familial"]["fournisseur"],
        dossier.quotient.fournisseur.code()
    );
    for key in ["valeur", "annee", "mois", "annee_calcul", "mois_calcul"] {
        assert!(v3["quotient_familial"].get(key).is_some(), "{key}");
    }
    assert_eq!(
        v3["allocataires"].as_array().unwrap().len(),
        dossier.allocataires.len()
    );
    assert_eq!(
        v3["enfants"].as_array().unwrap().len(),
        dossier.enfants.len()
    );
    let v2 = &parsed["quotient_familial"];
    assert_eq!(v2["version"], "v2");
    assert_eq!(v2["regime"], v3["quotient_familial"]["fournisseur"]);
    assert_eq!(v2["quotientFamilial"], v3["quotient_familial"]["valeur"]);
    let first = &v2["allocataires"][0];
    let born = &v3["allocataires"][0]["date_naissance"];
    assert_eq!(
        format!(
            "{}-{}-{}",
            first["anneeDateDeNaissance"].as_str().unwrap(),
            first["moisDateDeNaissance"].as_str().unwrap(),
            first["jourDateDeNaissance"].as_str().unwrap()
        ),
        born.as_str().unwrap()
    );
    let xml = String::from_utf8(seeded.files[1].bytes.clone()).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hash>\n"));
    assert!(xml.contains("<quotient-familial-v3>"));
    assert!(seeded.files[2].bytes.starts_with(b"%PDF"));
}

#[tokio::test]
async fn another_organisations_case_is_403_and_unknown_ids_are_404() {
    let sim = simulator(ordered()).await;
    let dossier = fictitious_dossiers(9, 1).remove(0);
    let foreign = sim.seed_formulaire_qf(OTHER_SIRET, OTHER_COG, &dossier);
    let token = token_for(&sim, &majastres()).await;
    let forbidden = hubee_error(403, "Unauthorized user");
    let (status, body) = get(&sim, &token, &format!("/cases/{}", foreign.case_id)).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden.clone()));
    let attachment = format!(
        "/cases/{}/attachments/{}",
        foreign.case_id, foreign.files[0].attachment_id
    );
    assert_eq!(
        get(&sim, &token, &attachment).await,
        (StatusCode::FORBIDDEN, forbidden.clone())
    );
    assert_eq!(
        post_event(
            &sim,
            &token,
            &foreign.case_id,
            status_update("SI_RECEIVED", true)
        )
        .await,
        (StatusCode::FORBIDDEN, forbidden)
    );
    assert_eq!(
        get(&sim, &token, "/cases/0f1e2d3c-4b5a-4968-8776-655443322110").await,
        (StatusCode::NOT_FOUND, hubee_error(404, "Case is not found"))
    );
    let mine = seed(&sim, 1).remove(0);
    assert_eq!(
        get(
            &sim,
            &token,
            &format!("/cases/{}/attachments/unknown", mine.case_id)
        )
        .await,
        (StatusCode::NOT_FOUND, hubee_error(404, "File is not found"))
    );
    assert_eq!(
        get(
            &sim,
            &token,
            &format!("/cases/{}/events/unknown", mine.case_id)
        )
        .await,
        (
            StatusCode::NOT_FOUND,
            hubee_error(404, "Event is not found")
        )
    );
}

// §5.5–§5.7, §7, §12.8–§12.10 — events and statuses.

#[tokio::test]
async fn status_event_moves_the_case_and_echoes_partner_info() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    let (status, event) = post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("SI_RECEIVED", true),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(event["status"], "SENT");
    assert_eq!(event["actionType"], "STATUS_UPDATE");
    assert_eq!(event["caseNewStatus"], "SI_RECEIVED");
    assert_eq!(event["caseCurrentStatus"], "HUBEE_NOTIFIED");
    assert_eq!(event["notification"], true);
    assert_eq!(
        event["transmitter"],
        json!({"type": "SI", "companyRegister": SIRET, "branchCode": COG})
    );
    assert_eq!(
        event["partnerInfo"],
        json!({"editorName": "Guichet QF", "applicationName": "guichet-qf", "softwareVersion": "0.1.0"})
    );
    let (_, case) = get(&sim, &token, &format!("/cases/{}", seeded.case_id)).await;
    assert_eq!(case["status"], "SI_RECEIVED");
    assert_eq!(case["events"][0]["id"], event["id"]);
    let (status, read) = get(
        &sim,
        &token,
        &format!(
            "/cases/{}/events/{}",
            seeded.case_id,
            event["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["caseNewStatus"], "SI_RECEIVED");
}

#[tokio::test]
async fn forbidden_transition_is_refused_and_leaves_the_case_alone() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    // HUBEE_NOTIFIED → DONE is in neither table of §7.1; CLOSED belongs to the OSL.
    for target in ["DONE", "CLOSED", "ARCHIVED", "NOT_A_STATUS"] {
        let (status, body) =
            post_event(&sim, &token, &seeded.case_id, status_update(target, true)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{target}");
        assert_eq!(body, hubee_error(400, "Bad request"));
    }
    let (_, case) = get(&sim, &token, &format!("/cases/{}", seeded.case_id)).await;
    assert_eq!(case["status"], "HUBEE_NOTIFIED");
    assert_eq!(case["events"], json!([]));
    let (status, _) = post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("IN_PROGRESS", false),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post_event(&sim, &token, &seeded.case_id, status_update("DONE", false)).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn documented_rules_refuse_the_jump_from_notified_to_si_received() {
    let sim = simulator(Config {
        transition_rules: TransitionRules::Documented,
        ..ordered()
    })
    .await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    let (status, _) = post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("SI_RECEIVED", true),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for step in ["SENT", "SI_RECEIVED", "DONE"] {
        let (status, _) =
            post_event(&sim, &token, &seeded.case_id, status_update(step, true)).await;
        assert_eq!(status, StatusCode::CREATED, "{step}");
    }
}

#[tokio::test]
async fn event_rules_refuse_unknown_action_types_and_misplaced_attachments() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    let bad_bodies = [
        json!({"actionType": "TELEPORT", "notification": false}),
        json!({"actionType": "ATTACH_DEPOSIT", "notification": false, "attachments": []}),
        json!({"actionType": "COM_ADD", "notification": false, "attachments": [{"fileName": "a.pdf"}]}),
        json!({"actionType": "STATUS_UPDATE", "notification": false}),
        json!({"actionType": "COM_ADD", "message": "x".repeat(1001)}),
    ];
    for body in bad_bodies {
        let (status, answer) = post_event(&sim, &token, &seeded.case_id, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer, hubee_error(400, "Bad request"));
    }
    let (status, event) = post_event(
        &sim,
        &token,
        &seeded.case_id,
        json!({"actionType": "ATTACH_DEPOSIT", "notification": false, "attachments": [{"fileName": "a.pdf"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(event["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn patch_case_and_its_method_override_are_accepted_and_bare_post_is_405() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    let path = format!("/cases/{}", seeded.case_id);
    assert_eq!(
        patch(&sim, &token, &path, json!({"status": "SENT"})).await,
        StatusCode::NO_CONTENT
    );
    let overridden = Client::new()
        .post(url(&sim, &path))
        .bearer_auth(&token)
        .header("X-HTTP-Method-Override", "PATCH")
        .json(&json!({"status": "SI_RECEIVED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(overridden.status(), StatusCode::NO_CONTENT);
    let bare = Client::new()
        .post(url(&sim, &path))
        .bearer_auth(&token)
        .json(&json!({"status": "IN_PROGRESS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        bare.json::<Value>().await.unwrap(),
        hubee_error(405, "Method not allowed")
    );
    assert_eq!(
        patch(&sim, &token, &path, json!({"status": "CLOSED"})).await,
        StatusCode::BAD_REQUEST
    );
    let (_, case) = get(&sim, &token, &path).await;
    assert_eq!(case["status"], "SI_RECEIVED");
}

#[tokio::test]
async fn legacy_mode_requires_the_patch_before_the_status_event() {
    let sim = simulator(Config {
        status_mode: StatusMode::PatchBeforeEvent,
        ..ordered()
    })
    .await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    let (status, _) = post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("SI_RECEIVED", true),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let path = format!("/cases/{}", seeded.case_id);
    assert_eq!(
        patch(&sim, &token, &path, json!({"status": "SI_RECEIVED"})).await,
        StatusCode::NO_CONTENT
    );
    let (status, _) = post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("SI_RECEIVED", true),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

// §9, §12.11 — formulaire-qf's side.

/// The notifications of the SI's queue with `eventDetails=true`.
async fn queue(sim: &HubeeSimulator, token: &str) -> Vec<Value> {
    let (_, batch) = get(sim, token, "/notifications?eventDetails=true&maxResult=100").await;
    batch.as_array().unwrap().clone()
}

#[tokio::test]
async fn osl_cycle_acknowledges_our_events_with_a_received_notification() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    delete(
        &sim,
        &token,
        &format!("/notifications/{}", seeded.notification_id),
    )
    .await;
    let (_, event) = post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("SI_RECEIVED", true),
    )
    .await;
    assert!(queue(&sim, &token).await.is_empty());
    sim.run_osl_cycle();
    let notifications = queue(&sim, &token).await;
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0]["eventId"], event["id"]);
    assert_eq!(notifications[0]["eventStatus"], "RECEIVED");
    assert_eq!(notifications[0]["eventActionType"], "STATUS_UPDATE");
    assert_eq!(notifications[0]["caseId"], seeded.case_id.as_str());
    let (_, read) = get(
        &sim,
        &token,
        &format!(
            "/cases/{}/events/{}",
            seeded.case_id,
            event["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(read["status"], "RECEIVED");
    sim.run_osl_cycle();
    assert_eq!(queue(&sim, &token).await.len(), 1, "the OSL acts once");
}

#[tokio::test]
async fn osl_cycle_closes_the_case_after_done_and_notifies_closed() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    delete(
        &sim,
        &token,
        &format!("/notifications/{}", seeded.notification_id),
    )
    .await;
    post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("SI_RECEIVED", true),
    )
    .await;
    post_event(&sim, &token, &seeded.case_id, status_update("DONE", true)).await;
    sim.run_osl_cycle();
    let (_, case) = get(&sim, &token, &format!("/cases/{}", seeded.case_id)).await;
    assert_eq!(case["status"], "CLOSED");
    assert_ne!(case["closeDateTime"], Value::Null);
    assert_eq!(sim.folder_status(&seeded.case_id), "CLOSED");
    let notifications = queue(&sim, &token).await;
    let received = notifications
        .iter()
        .filter(|n| n["eventStatus"] == "RECEIVED")
        .count();
    assert_eq!(received, 2);
    let closing: Vec<&Value> = notifications
        .iter()
        .filter(|n| n["eventStatus"] == "SENT")
        .collect();
    assert_eq!(closing.len(), 1);
    let event_path = format!(
        "/cases/{}/events/{}",
        seeded.case_id,
        closing[0]["eventId"].as_str().unwrap()
    );
    let (_, closed) = get(&sim, &token, &event_path).await;
    assert_eq!(closed["caseNewStatus"], "CLOSED");
    assert_eq!(closed["author"], "DINUM");
    assert_eq!(closed["status"], "SENT");
    assert_eq!(closed["transmitter"]["type"], "OSL");
    assert_eq!(
        patch(&sim, &token, &event_path, json!({"status": "RECEIVED"})).await,
        StatusCode::NO_CONTENT
    );
    let (_, acknowledged) = get(&sim, &token, &event_path).await;
    assert_eq!(acknowledged["status"], "RECEIVED");
}

#[tokio::test]
async fn osl_never_sees_a_status_event_posted_without_notification() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    post_event(
        &sim,
        &token,
        &seeded.case_id,
        status_update("SI_RECEIVED", false),
    )
    .await;
    post_event(&sim, &token, &seeded.case_id, status_update("DONE", false)).await;
    sim.run_osl_cycle();
    let (_, case) = get(&sim, &token, &format!("/cases/{}", seeded.case_id)).await;
    assert_eq!(case["status"], "DONE");
    assert_eq!(
        queue(&sim, &token).await.len(),
        1,
        "only the new-dossier one"
    );
}

// §12.12 — faults.

#[tokio::test]
async fn failing_route_answers_500_the_given_number_of_times() {
    let sim = simulator(ordered()).await;
    let token = token_for(&sim, &majastres()).await;
    sim.inject(Fault::Failing {
        route: Route::ListNotifications,
        times: 2,
        failure: Failure::Status(500),
    });
    for _ in 0..2 {
        let (status, body) = get(&sim, &token, "/notifications").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, hubee_error(500, "Internal server"));
    }
    assert_eq!(get(&sim, &token, "/notifications").await.0, StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_fault_answers_429_on_the_token_endpoint() {
    let sim = simulator(ordered()).await;
    sim.inject(Fault::Failing {
        route: Route::Token,
        times: 1,
        failure: Failure::Status(429),
    });
    let response = Client::new()
        .post(sim.auth_url())
        .basic_auth("majastres-client", Some("majastres-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "SI")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    token_for(&sim, &majastres()).await;
}

#[tokio::test]
async fn hang_up_fault_drops_the_connection_without_an_answer() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    sim.inject(Fault::Failing {
        route: Route::GetCase,
        times: 1,
        failure: Failure::HangUp,
    });
    let path = url(&sim, &format!("/cases/{}", seeded.case_id));
    let dropped = Client::new().get(&path).bearer_auth(&token).send().await;
    assert!(dropped.is_err(), "{dropped:?}");
    let again = Client::new()
        .get(&path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let recorded: Vec<Option<u16>> = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/teledossiers/v1/cases/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(recorded, vec![None, Some(200)]);
}

#[tokio::test]
async fn delay_fault_makes_a_client_timeout_fire() {
    let sim = simulator(ordered()).await;
    let token = token_for(&sim, &majastres()).await;
    sim.inject(Fault::Failing {
        route: Route::ListNotifications,
        times: 1,
        failure: Failure::Delay(Duration::from_millis(1500)),
    });
    let client = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let slow = client
        .get(url(&sim, "/notifications"))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(slow.unwrap_err().is_timeout());
    let fast = client
        .get(url(&sim, "/notifications"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(fast.status(), StatusCode::OK);
}

#[tokio::test]
async fn expired_tokens_fault_makes_the_api_answer_900901() {
    let sim = simulator(ordered()).await;
    let token = token_for(&sim, &majastres()).await;
    assert_eq!(get(&sim, &token, "/notifications").await.0, StatusCode::OK);
    sim.inject(Fault::ExpireAllTokens);
    assert_eq!(
        get(&sim, &token, "/notifications").await,
        (StatusCode::UNAUTHORIZED, invalid_credentials())
    );
}

#[tokio::test]
async fn duplicate_notification_points_to_the_same_case() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    sim.inject(Fault::DuplicateNotification {
        case_id: seeded.case_id.clone(),
    });
    let token = token_for(&sim, &majastres()).await;
    let notifications = queue(&sim, &token).await;
    assert_eq!(notifications.len(), 2);
    assert_ne!(notifications[0]["id"], notifications[1]["id"]);
    for n in &notifications {
        assert_eq!(n["caseId"], seeded.case_id.as_str());
        assert_eq!(n["eventId"], Value::Null);
    }
}

#[tokio::test]
async fn foreign_process_notification_is_listed_but_its_case_is_403() {
    let sim = simulator(ordered()).await;
    seed(&sim, 1);
    sim.inject(Fault::ForeignProcessNotification {
        siret: SIRET.into(),
        cog: COG.into(),
        process_code: "EtatCivil".into(),
    });
    let token = token_for(&sim, &majastres()).await;
    let notifications = queue(&sim, &token).await;
    let foreign: Vec<&Value> = notifications
        .iter()
        .filter(|n| n["processCode"] == "EtatCivil")
        .collect();
    assert_eq!(foreign.len(), 1);
    let (status, _) = get(
        &sim,
        &token,
        &format!("/cases/{}", foreign[0]["caseId"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, filtered) = get(&sim, &token, "/notifications?processCode=FormulaireQF").await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(filtered[0]["processCode"], "FormulaireQF");
}

#[tokio::test]
async fn pending_and_corrupted_attachments_are_listed_but_not_downloadable() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    for (file, status) in [
        (&seeded.files[0], AttachmentStatus::Pending),
        (&seeded.files[2], AttachmentStatus::Corrupted),
    ] {
        sim.inject(Fault::AttachmentStatus {
            case_id: seeded.case_id.clone(),
            file_name: file.file_name.clone(),
            status,
        });
        let path = format!(
            "/cases/{}/attachments/{}",
            seeded.case_id, file.attachment_id
        );
        assert_eq!(
            get(&sim, &token, &path).await,
            (StatusCode::NOT_FOUND, hubee_error(404, "File is not found"))
        );
    }
    let (_, case) = get(&sim, &token, &format!("/cases/{}", seeded.case_id)).await;
    let statuses: Vec<&str> = case["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["PENDING", "RECEIVED", "CORRUPTED"]);
}

#[tokio::test]
async fn digest_mismatch_fault_sends_a_digest_of_other_bytes() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let file = &seeded.files[1];
    sim.inject(Fault::DigestMismatch {
        case_id: seeded.case_id.clone(),
        file_name: file.file_name.clone(),
    });
    let token = token_for(&sim, &majastres()).await;
    let response = Client::new()
        .get(url(
            &sim,
            &format!(
                "/cases/{}/attachments/{}",
                seeded.case_id, file.attachment_id
            ),
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let digest = response.headers()["digest"].to_str().unwrap().to_string();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), file.bytes.as_slice());
    assert_ne!(
        digest,
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes))
    );
}

// §12.13 — inspection.

#[tokio::test]
async fn requests_records_tracing_headers_bodies_and_statuses_in_order() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    let body = status_update("SI_RECEIVED", true);
    post_event(&sim, &token, &seeded.case_id, body.clone()).await;
    delete(
        &sim,
        &token,
        &format!("/notifications/{}", seeded.notification_id),
    )
    .await;
    let requests = sim.requests();
    assert_eq!(requests.len(), 3);
    let token_call = &requests[0];
    assert_eq!(
        (token_call.method.as_str(), token_call.path.as_str()),
        ("POST", "/oauth2/token")
    );
    assert_eq!(token_call.status, Some(200));
    let event_call = &requests[1];
    assert_eq!(event_call.method, "POST");
    assert_eq!(
        event_call.path,
        format!("/teledossiers/v1/cases/{}/events", seeded.case_id)
    );
    assert_eq!(event_call.editor_name.as_deref(), Some("Guichet QF"));
    assert_eq!(event_call.application_name.as_deref(), Some("guichet-qf"));
    assert_eq!(event_call.software_version.as_deref(), Some("0.1.0"));
    assert!(event_call.has_authorization);
    assert_eq!(
        serde_json::from_str::<Value>(event_call.body.as_deref().unwrap()).unwrap(),
        body
    );
    assert_eq!(event_call.status, Some(201));
    let delete_call = &requests[2];
    assert_eq!(delete_call.method, "DELETE");
    assert_eq!(delete_call.editor_name, None);
    assert_eq!(delete_call.body, None);
    assert_eq!(delete_call.status, Some(204));
    let (_, _) = get(&sim, &token, "/notifications?maxResult=abc").await;
    let last = sim.requests().pop().unwrap();
    assert_eq!(last.query.as_deref(), Some("maxResult=abc"));
    assert_eq!(last.status, Some(400));
}

#[tokio::test]
async fn malformed_ids_are_refused_by_the_gateway_when_uuids_are_checked() {
    let sim = simulator(Config {
        validate_uuids: true,
        ..ordered()
    })
    .await;
    let token = token_for(&sim, &majastres()).await;
    assert_eq!(
        delete(&sim, &token, "/notifications/dddddd").await,
        (
            StatusCode::BAD_REQUEST,
            hubee_error(
                400,
                "Bad Request : Validation failed.\n[ERROR][REQUEST][DELETE /teledossiers/v1/notifications/{notificationId} @path.notificationId] Input string \"dddddd\" is not a valid UUID"
            )
        )
    );
    let (status, _) = get(&sim, &token, "/cases/0f1e2d3c-4b5a-4968-8776-655443322110").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let lenient = simulator(ordered()).await;
    let token = token_for(&lenient, &majastres()).await;
    let (status, body) = delete(&lenient, &token, "/notifications/dddddd").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            hubee_error(404, "Notification is not found")
        )
    );
}

#[tokio::test]
async fn stop_closes_the_port() {
    let sim = simulator(ordered()).await;
    let token_url = sim.auth_url();
    token_for(&sim, &majastres()).await;
    sim.stop().await;
    let refused = Client::new()
        .post(token_url)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    assert!(refused.unwrap_err().is_connect());
}

#[tokio::test]
async fn folders_are_forbidden_to_an_si_and_unknown_methods_are_405() {
    let sim = simulator(ordered()).await;
    let seeded = seed(&sim, 1).remove(0);
    let token = token_for(&sim, &majastres()).await;
    assert_eq!(
        get(&sim, &token, &format!("/folders/{}", seeded.folder_id)).await,
        (StatusCode::FORBIDDEN, hubee_error(403, "Unauthorized user"))
    );
    let put = Client::new()
        .put(url(&sim, &format!("/cases/{}", seeded.case_id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        put.json::<Value>().await.unwrap(),
        hubee_error(405, "Method not allowed")
    );
}

#[tokio::test]
#[should_panic(
    expected = "Case recipient SI-11111111111111-11111 does not suscribed to FormulaireQF"
)]
async fn seeding_for_an_unsubscribed_commune_is_refused() {
    let sim = simulator(ordered()).await;
    let dossier = fictitious_dossiers(1, 1).remove(0);
    sim.seed_formulaire_qf("11111111111111", "11111", &dossier);
}

#[tokio::test]
async fn a_base_latency_delays_every_answer_and_in_flight_requests_are_counted() {
    let sim = simulator(Config {
        latency: Duration::from_millis(250),
        ..ordered()
    })
    .await;
    let started = std::time::Instant::now();
    let token = token_for(&sim, &majastres()).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(sim.max_in_flight(), 1);

    // Four requests sent together are all held by the latency at the same time, and still
    // answered as without it.
    let started = std::time::Instant::now();
    let path = "/notifications?maxResult=25";
    let answers = tokio::join!(
        get(&sim, &token, path),
        get(&sim, &token, path),
        get(&sim, &token, path),
        get(&sim, &token, path)
    );
    let statuses = [answers.0 .0, answers.1 .0, answers.2 .0, answers.3 .0];
    assert_eq!(statuses, [StatusCode::OK; 4]);
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(sim.max_in_flight(), 4);

    sim.set_latency(Duration::ZERO);
    sim.reset_max_in_flight();
    let (status, _) = get(&sim, &token, "/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.max_in_flight(), 1);
}
