//! Contract tests of the API Particulier simulator, written from `shared/specs/api-particulier.md`
//! (§2–§4, §8–§11) and the official staging fixtures: a plain HTTP client against a started
//! simulator, asserting the statuses, codes, texts and headers the spec gives.

use std::time::{Duration, Instant};

use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::particulier::{
    Config, Fault, IdentityCase, Nomenclature, ParticulierSimulator, ProviderError, TokenRecord,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

const IDENTITY: &str = "/v3/dss/quotient_familial/identite";
const DINUM: &str = "13002526500013";
const QF_SCOPES: [&str; 4] = [
    "cnaf_quotient_familial",
    "cnaf_allocataires",
    "cnaf_enfants",
    "cnaf_adresse",
];

/// Sunday 22 November 2026, noon UTC: every test decides its own "now".
fn november_2026() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

async fn start_with(config: Config) -> ParticulierSimulator {
    ParticulierSimulator::start(0, config).await.unwrap()
}

async fn start_at(now: Timestamp) -> (ParticulierSimulator, SimClock) {
    let clock = SimClock::fixed(now);
    let config = Config {
        clock: clock.clone(),
        ..Config::default()
    };
    (start_with(config).await, clock)
}

/// The parameters of staging fixture `200-seul-1_enfant-qf_caf_650` (BERNARD Elodie).
fn bernard_elodie() -> Vec<(&'static str, &'static str)> {
    vec![
        ("recipient", DINUM),
        ("nomNaissance", "BERNARD"),
        ("prenoms[]", "ELODIE"),
        ("sexeEtatCivil", "F"),
        ("anneeDateNaissance", "1990"),
        ("moisDateNaissance", "3"),
        ("codeCogInseePaysNaissance", "99100"),
        ("codeCogInseeCommuneNaissance", "08480"),
    ]
}

fn with(
    mut query: Vec<(&'static str, &'static str)>,
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    query.extend_from_slice(extra);
    query
}

fn without(
    query: Vec<(&'static str, &'static str)>,
    name: &str,
) -> Vec<(&'static str, &'static str)> {
    query.into_iter().filter(|(key, _)| *key != name).collect()
}

async fn call(
    simulator: &ParticulierSimulator,
    path: &str,
    token: Option<&str>,
    query: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{}{path}", simulator.url()))
        .query(query);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn lookup(simulator: &ParticulierSimulator, query: &[(&str, &str)]) -> reqwest::Response {
    call(simulator, IDENTITY, Some(&simulator.staging_token()), query).await
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["code"].as_str().unwrap().to_string())
        .collect()
}

async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn staging_fixture_seul_1_enfant_answers_qf_650_cnaf() {
    let (simulator, _) = start_at(november_2026()).await;
    let response = lookup(&simulator, &bernard_elodie()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "application/vnd.api+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["quotient_familial"],
        json!({ "fournisseur": "CNAF", "valeur": 650, "annee": 2023, "mois": 6,
                "annee_calcul": 2024, "mois_calcul": 12 })
    );
    assert_eq!(
        body["data"]["allocataires"][0]["prenoms"],
        "ELODIE JUDITH GERTRUDE"
    );
    assert_eq!(body["data"]["enfants"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"]["adresse"]["code_postal_ville"], "75002 PARIS");
    assert_eq!(body["links"], json!({}));
    assert_eq!(body["meta"], json!({}));
    simulator.stop().await;
}

#[tokio::test]
async fn matching_ignores_case_recipient_and_leading_zeros_of_birth_parts() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = [
        ("recipient", "35600000000048"),
        ("nomNaissance", "bernard"),
        ("prenoms[]", "Elodie"),
        ("sexeEtatCivil", "f"),
        ("anneeDateNaissance", "1990"),
        ("moisDateNaissance", "03"),
        ("codeCogInseePaysNaissance", "99100"),
        ("codeCogInseeCommuneNaissance", "08480"),
    ];
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 650);
    simulator.stop().await;
}

#[tokio::test]
async fn non_matching_identity_gets_the_404_fixture_verbatim() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = with(
        without(bernard_elodie(), "nomNaissance"),
        &[("nomNaissance", "BERNAR")],
    );
    let response = lookup(&simulator, &query).await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        header(&response, "content-type"),
        "application/vnd.api+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "errors": [{
            "code": "37003",
            "title": "Dossier allocataire absent CNAV",
            "detail": "Le dossier allocataire n'a pas été trouvé auprès de la CNAV.",
            "source": null,
            "meta": { "provider": "CNAV" }
        }]})
    );
    simulator.stop().await;
}

#[tokio::test]
async fn an_extra_parameter_breaks_the_exact_match() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = with(bernard_elodie(), &[("nomUsage", "MARTIN")]);
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!((status, codes(&body)), (404, vec!["37003".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn requested_period_is_matched_as_a_raw_string() {
    let (simulator, _) = start_at(november_2026()).await;
    let roux = vec![
        ("recipient", DINUM),
        ("nomNaissance", "ROUX"),
        ("prenoms[]", "JEANNE"),
        ("prenoms[]", "STEPHANIE"),
        ("sexeEtatCivil", "F"),
        ("anneeDateNaissance", "1987"),
        ("moisDateNaissance", "6"),
        ("codeCogInseePaysNaissance", "99100"),
        ("codeCogInseeCommuneNaissance", "08480"),
        ("annee", "2026"),
    ];
    let (status, body) =
        status_and_body(lookup(&simulator, &with(roux.clone(), &[("mois", "5")])).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["quotient_familial"]["fournisseur"], "MSA");
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 150);
    let (status, _) =
        status_and_body(lookup(&simulator, &with(roux, &[("mois", "05")])).await).await;
    assert_eq!(status, 404);
    simulator.stop().await;
}

#[tokio::test]
async fn person_born_abroad_needs_no_commune_nor_birth_date() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = [
        ("recipient", DINUM),
        ("nomNaissance", "LISA"),
        ("prenoms[]", "MONA"),
        ("sexeEtatCivil", "F"),
        ("codeCogInseePaysNaissance", "99127"),
    ];
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 4270);
    simulator.stop().await;
}

#[tokio::test]
async fn missing_token_is_401_00101_about_the_token() {
    let (simulator, _) = start_at(november_2026()).await;
    let response = call(&simulator, IDENTITY, None, &bernard_elodie()).await;
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "errors": [{
            "code": "00101",
            "title": "Interdit",
            "detail": "Votre token n'est pas valide ou n'est pas renseigné",
            "source": { "parameter": "token" },
            "meta": {}
        }]})
    );
    simulator.stop().await;
}

#[tokio::test]
async fn unknown_or_undecodable_token_is_401_00101() {
    let (simulator, _) = start_at(november_2026()).await;
    let other = ParticulierSimulator::start(0, Config::default())
        .await
        .unwrap();
    let foreign = other.mint_token(&QF_SCOPES, november_2026() + SignedDuration::from_hours(24));
    other.stop().await;
    for token in [foreign.as_str(), "not-a-jwt", "a.b.c"] {
        let (status, body) =
            status_and_body(call(&simulator, IDENTITY, Some(token), &bernard_elodie()).await).await;
        assert_eq!(
            (status, codes(&body)),
            (401, vec!["00101".to_string()]),
            "{token}"
        );
    }
    let response = reqwest::Client::new()
        .get(format!("{}{IDENTITY}", simulator.url()))
        .query(&bernard_elodie())
        .header(
            "Authorization",
            format!("Token {}", simulator.staging_token()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    simulator.stop().await;
}

#[tokio::test]
async fn token_expires_by_the_table_date_on_the_sim_clock() {
    let (simulator, clock) = start_at(november_2026()).await;
    let token = simulator.mint_token(&QF_SCOPES, november_2026() + SignedDuration::from_hours(24));
    let response = call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await;
    assert_eq!(response.status(), 200);
    clock.advance(SignedDuration::from_hours(48));
    let response = call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await;
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(codes(&body), ["00103"]);
    assert_eq!(body["errors"][0]["title"], "Jeton expiré");
    assert_eq!(body["errors"][0]["source"], json!({ "parameter": "token" }));
    simulator.stop().await;
}

#[tokio::test]
async fn blacklisted_token_is_401_00105_pointing_to_the_portal() {
    let (simulator, _) = start_at(november_2026()).await;
    let token = simulator.mint_token(&QF_SCOPES, november_2026() + SignedDuration::from_hours(24));
    simulator.add_token(TokenRecord {
        jwt: token.clone(),
        scopes: QF_SCOPES.iter().map(|s| s.to_string()).collect(),
        siret: DINUM.to_string(),
        issued_at: None,
        expires_at: None,
        blacklisted: true,
        rate_limit_per_minute: None,
    });
    let response = call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await;
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(header(&response, "ratelimit-limit"), "20");
    let body: Value = response.json().await.unwrap();
    assert_eq!(codes(&body), ["00105"]);
    assert!(body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .ends_with("https://particulier.api.gouv.fr/compte"));
    simulator.stop().await;
}

#[tokio::test]
async fn token_without_any_cnaf_scope_is_403_00100() {
    let (simulator, _) = start_at(november_2026()).await;
    let token = simulator.mint_token(
        &["revenu_solidarite_active"],
        november_2026() + SignedDuration::from_hours(24),
    );
    let response = call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await;
    assert_eq!(response.status(), 403);
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(codes(&body), ["00100"]);
    assert_eq!(body["errors"][0]["title"], "Privilèges insuffisants");
    simulator.stop().await;
}

#[tokio::test]
async fn one_cnaf_scope_is_enough_and_staging_does_not_mask() {
    let (simulator, _) = start_at(november_2026()).await;
    let token = simulator.mint_token(
        &["cnaf_enfants"],
        november_2026() + SignedDuration::from_hours(24),
    );
    let (status, body) =
        status_and_body(call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 650);
    assert!(body["data"]["adresse"].is_object());
    simulator.stop().await;
}

#[tokio::test]
async fn production_mode_removes_the_keys_of_missing_scopes() {
    let clock = SimClock::fixed(november_2026());
    let simulator = start_with(Config {
        clock,
        mask_missing_scopes: true,
        ..Config::default()
    })
    .await;
    let token = simulator.mint_token(
        &["cnaf_quotient_familial"],
        november_2026() + SignedDuration::from_hours(24),
    );
    let (status, body) =
        status_and_body(call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await).await;
    assert_eq!(status, 200);
    let keys: Vec<&String> = body["data"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["quotient_familial"]);
    simulator.stop().await;
}

#[tokio::test]
async fn invalid_recipient_is_422_00210_before_any_parameter_check() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = with(
        without(without(bernard_elodie(), "recipient"), "nomNaissance"),
        &[("recipient", "13002526500014")],
    );
    let response = lookup(&simulator, &query).await;
    assert_eq!(response.status(), 422);
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "errors": [{
            "code": "00210",
            "title": "Entité non traitable",
            "detail": "Le paramètre recipient n'est pas un siret valide",
            "source": { "parameter": "recipient" },
            "meta": {}
        }]})
    );
    simulator.stop().await;
}

#[tokio::test]
async fn missing_recipient_is_00210_in_april_code_and_00203_in_latest() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = without(bernard_elodie(), "recipient");
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00210".to_string()]));
    simulator.stop().await;

    let latest = start_with(Config {
        clock: SimClock::fixed(november_2026()),
        nomenclature: Nomenclature::Latest,
        ..Config::default()
    })
    .await;
    let (status, body) = status_and_body(lookup(&latest, &query).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00203".to_string()]));
    latest.stop().await;
}

#[tokio::test]
async fn prenoms_without_brackets_is_422_00367() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = with(
        without(bernard_elodie(), "prenoms[]"),
        &[("prenoms", "ELODIE")],
    );
    let response = lookup(&simulator, &query).await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        header(&response, "content-type"),
        "application/vnd.api+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "errors": [{
            "code": "00367",
            "title": "Entité non traitable",
            "detail": "Le ou les prénoms sont manquants.",
            "meta": {}
        }]})
    );
    simulator.stop().await;
}

#[tokio::test]
async fn several_invalid_parameters_are_reported_together() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = [
        ("recipient", DINUM),
        ("nomNaissance", "DUP0NT"),
        ("prenoms[]", "ÉLODIE"),
        ("sexeEtatCivil", "X"),
        ("anneeDateNaissance", "1899"),
        ("codeCogInseePaysNaissance", "12345"),
    ];
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!(status, 422);
    assert_eq!(codes(&body), ["00420", "00427", "00363", "00400"]);
    assert!(body["errors"][0].get("source").is_none());
    assert_eq!(
        body["errors"][0]["detail"],
        "Le nom de naissance est manquant"
    );
    simulator.stop().await;
}

#[tokio::test]
async fn born_in_france_needs_a_valid_commune_cog() {
    let (simulator, _) = start_at(november_2026()).await;
    for commune in [None, Some("20004"), Some("75")] {
        let mut query = without(bernard_elodie(), "codeCogInseeCommuneNaissance");
        if let Some(commune) = commune {
            query.push(("codeCogInseeCommuneNaissance", commune));
        }
        let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
        assert_eq!(
            (status, codes(&body)),
            (422, vec!["00365".to_string()]),
            "{commune:?}"
        );
    }
    simulator.stop().await;
}

#[tokio::test]
async fn birth_date_must_be_before_today_on_the_sim_clock() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = [
        ("recipient", DINUM),
        ("nomNaissance", "BERNARD"),
        ("sexeEtatCivil", "F"),
        ("anneeDateNaissance", "2026"),
        ("moisDateNaissance", "11"),
        ("jourDateNaissance", "22"),
        ("codeCogInseePaysNaissance", "99127"),
    ];
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00363".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn year_window_moves_with_the_sim_clock() {
    let (simulator, clock) = start_at(november_2026()).await;
    let asking = |annee: &'static str| with(bernard_elodie(), &[("annee", annee), ("mois", "1")]);
    let (status, _) = status_and_body(lookup(&simulator, &asking("2024")).await).await;
    assert_eq!(status, 404, "2024 is N-2 in 2026: valid, but no fixture");
    let (status, body) = status_and_body(lookup(&simulator, &asking("2023")).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00356".to_string()]));
    assert_eq!(
        body["errors"][0]["detail"],
        "L'année demandée doit être l'année en cours (N), N-1 ou N-2."
    );
    clock.set("2027-01-05T09:00:00Z".parse().unwrap());
    let (status, body) = status_and_body(lookup(&simulator, &asking("2024")).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00356".to_string()]));
    let (status, _) = status_and_body(lookup(&simulator, &asking("2025")).await).await;
    assert_eq!(status, 404);
    simulator.stop().await;
}

#[tokio::test]
async fn future_month_of_the_current_year_is_422_00354() {
    let (simulator, _) = start_at(november_2026()).await;
    let query = with(bernard_elodie(), &[("annee", "2026"), ("mois", "12")]);
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00354".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn latest_nomenclature_refuses_old_periods_and_unknown_identities() {
    let simulator = start_with(Config {
        clock: SimClock::fixed(november_2026()),
        nomenclature: Nomenclature::Latest,
        ..Config::default()
    })
    .await;
    let old = with(bernard_elodie(), &[("annee", "2024"), ("mois", "11")]);
    let (status, body) = status_and_body(lookup(&simulator, &old).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00355".to_string()]));
    let unknown = with(
        without(bernard_elodie(), "nomNaissance"),
        &[("nomNaissance", "INCONNU")],
    );
    let (status, body) = status_and_body(lookup(&simulator, &unknown).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["35560".to_string()]));
    assert_eq!(
        body["errors"][0]["meta"],
        json!({ "provider": "CNAF & MSA" })
    );
    simulator.stop().await;
}

#[tokio::test]
async fn ratelimit_headers_count_down_within_the_second() {
    let (simulator, _) = start_at(november_2026()).await;
    let reset = (november_2026().as_second() + 1).to_string();
    for remaining in ["19", "18"] {
        let response = lookup(&simulator, &bernard_elodie()).await;
        assert_eq!(header(&response, "ratelimit-limit"), "20");
        assert_eq!(header(&response, "ratelimit-remaining"), remaining);
        assert_eq!(header(&response, "ratelimit-reset"), reset);
        assert_eq!(header(&response, "x-response-cached"), "false");
        assert_eq!(header(&response, "x-cache-expires-in"), "");
    }
    simulator.stop().await;
}

#[tokio::test]
async fn twenty_first_request_in_one_second_is_429_then_ok_after_the_window() {
    let (simulator, clock) = start_at(november_2026()).await;
    for _ in 0..20 {
        assert_eq!(lookup(&simulator, &bernard_elodie()).await.status(), 200);
    }
    let response = lookup(&simulator, &bernard_elodie()).await;
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), "1");
    assert_eq!(header(&response, "ratelimit-remaining"), "0");
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "errors": [{ "code": "00429", "title": "Trop de requêtes",
                             "detail": "Vous avez effectué trop de requêtes", "meta": {} }] })
    );
    let other = simulator.mint_token(&QF_SCOPES, november_2026() + SignedDuration::from_hours(1));
    let response = call(&simulator, IDENTITY, Some(&other), &bernard_elodie()).await;
    assert_eq!(response.status(), 200, "the limit is per token");
    clock.advance(SignedDuration::from_secs(1));
    let response = lookup(&simulator, &bernard_elodie()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "ratelimit-remaining"), "19");
    simulator.stop().await;
}

#[tokio::test]
async fn x_request_id_is_on_every_response_and_recorded() {
    let (simulator, _) = start_at(november_2026()).await;
    let responses = [
        lookup(&simulator, &bernard_elodie()).await,
        call(&simulator, IDENTITY, None, &bernard_elodie()).await,
        lookup(&simulator, &[("recipient", DINUM)]).await,
        call(&simulator, "/nulle/part", None, &[]).await,
        call(&simulator, "/api/v2/composition-familiale", None, &[]).await,
    ];
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, [200, 401, 422, 404, 410]);
    let ids: Vec<String> = responses
        .iter()
        .map(|r| header(r, "x-request-id"))
        .collect();
    for id in &ids {
        assert_eq!(id.len(), 36, "{id} is a UUID");
    }
    let recorded = simulator.requests();
    let recorded_ids: Vec<String> = recorded.iter().map(|r| r.request_id.clone()).collect();
    assert_eq!(recorded_ids, ids);
    assert_eq!(recorded[0].path, IDENTITY);
    assert_eq!(
        recorded[0].query[2],
        ("prenoms[]".to_string(), "ELODIE".to_string())
    );
    assert!(recorded[0].authorization_present);
    assert!(!recorded[1].authorization_present);
    assert_eq!(recorded[1].status, 401);
    simulator.stop().await;
}

#[tokio::test]
async fn malformed_content_type_is_400_00401() {
    let (simulator, _) = start_at(november_2026()).await;
    let response = reqwest::Client::new()
        .get(format!("{}{IDENTITY}", simulator.url()))
        .query(&bernard_elodie())
        .bearer_auth(simulator.staging_token())
        .header("Content-Type", "pas un type")
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(response).await;
    assert_eq!((status, codes(&body)), (400, vec!["00401".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn unsupported_version_is_404_00402() {
    let (simulator, _) = start_at(november_2026()).await;
    let path = "/v4/dss/quotient_familial/identite";
    let response = call(
        &simulator,
        path,
        Some(&simulator.staging_token()),
        &bernard_elodie(),
    )
    .await;
    let (status, body) = status_and_body(response).await;
    assert_eq!((status, codes(&body)), (404, vec!["00402".to_string()]));
    assert_eq!(
        body["errors"][0]["title"],
        "Version d'API non prise en charge"
    );
    simulator.stop().await;
}

#[tokio::test]
async fn legacy_composition_familiale_is_410_in_plain_text() {
    let (simulator, _) = start_at(november_2026()).await;
    let response = call(
        &simulator,
        "/api/v2/composition-familiale",
        None,
        &[("numeroAllocataire", "4400100"), ("codePostal", "44100")],
    )
    .await;
    assert_eq!(response.status(), 410);
    assert!(header(&response, "content-type").starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(text.starts_with(
        "L'API Quotient Familial v1 n'est plus disponible depuis le 31/10/2025. Veuillez utiliser l'API v2"
    ));
    simulator.stop().await;
}

#[tokio::test]
async fn unknown_url_is_404_in_plain_text() {
    let (simulator, _) = start_at(november_2026()).await;
    let response = call(
        &simulator,
        "/v3/dss/quotient_familial/identifiant",
        None,
        &[],
    )
    .await;
    assert_eq!(response.status(), 404);
    assert!(header(&response, "content-type").starts_with("text/plain"));
    assert_eq!(
        response.text().await.unwrap(),
        "Cette URL n'existe pas sur Api particulier, veuillez vérifier votre URL."
    );
    simulator.stop().await;
}

#[tokio::test]
async fn api_introspect_lists_jti_empty_name_and_scopes() {
    let (simulator, _) = start_at(november_2026()).await;
    let token = simulator.mint_token(
        &["cnaf_quotient_familial"],
        november_2026() + SignedDuration::from_hours(1),
    );
    let by_query = call(
        &simulator,
        "/api/introspect",
        None,
        &[("token", token.as_str())],
    )
    .await;
    let (status, body) = status_and_body(by_query).await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "");
    assert_eq!(body["scopes"], json!(["cnaf_quotient_familial"]));
    assert_eq!(body["_id"].as_str().unwrap().len(), 36);
    let by_header = reqwest::Client::new()
        .get(format!("{}/api/introspect", simulator.url()))
        .header("X-Api-Key", simulator.staging_token())
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(by_header).await;
    assert_eq!(status, 200);
    assert_eq!(body["_id"], "00000000-0000-0000-0000-000000000000");
    assert!(body["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("cnaf_adresse")));
    let refused = call(&simulator, "/api/introspect", Some("nope"), &[]).await;
    let (status, body) = status_and_body(refused).await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("access_denied"))
    );
    simulator.stop().await;
}

#[tokio::test]
async fn v3_token_introspect_gives_expiry_and_siret() {
    let (simulator, _) = start_at(november_2026()).await;
    let expiry: Timestamp = "2028-05-22T12:00:00Z".parse().unwrap();
    let token = simulator.mint_token(&QF_SCOPES, expiry);
    let response = call(&simulator, "/v3/token/introspect", Some(&token), &[]).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["type"], "standard");
    assert_eq!(body["data"]["siret_souscripteur"], DINUM);
    assert_eq!(body["data"]["date_expiration"], "2028-05-22T12:00:00Z");
    assert_eq!(body["data"]["date_emission"], "2026-11-22T12:00:00Z");
    assert_eq!(body["data"]["scopes"], json!(QF_SCOPES));
    assert_eq!(body["data"]["delegation"], Value::Null);
    let (status, body) =
        status_and_body(call(&simulator, "/v3/token/introspect", None, &[]).await).await;
    assert_eq!((status, codes(&body)), (401, vec!["00101".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn added_case_is_found_by_its_identity() {
    let (simulator, _) = start_at(november_2026()).await;
    let family = json!({
        "data": {
            "allocataires": [{ "nom_naissance": "MOREL", "nom_usage": null, "prenoms": "CLAIRE",
                               "date_naissance": "1985-04-00", "sexe": "F" }],
            "enfants": [],
            "adresse": null,
            "quotient_familial": { "fournisseur": "CNAF", "valeur": 432, "annee": 2026, "mois": 11,
                                   "annee_calcul": 2026, "mois_calcul": 10 }
        },
        "links": {},
        "meta": {}
    });
    simulator.add_case(IdentityCase {
        params: json!({
            "nomNaissance": "MOREL", "prenoms": ["CLAIRE"], "sexeEtatCivil": "F",
            "anneeDateNaissance": 1985, "moisDateNaissance": 4,
            "codeCogInseePaysNaissance": "99100", "codeCogInseeCommuneNaissance": "04107"
        }),
        status: 200,
        payload: family.clone(),
    });
    let query = [
        ("recipient", "21040107100019"),
        ("nomNaissance", "Morel"),
        ("prenoms[]", "Claire"),
        ("sexeEtatCivil", "F"),
        ("anneeDateNaissance", "1985"),
        ("moisDateNaissance", "4"),
        ("codeCogInseePaysNaissance", "99100"),
        ("codeCogInseeCommuneNaissance", "04107"),
    ];
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!(status, 200);
    assert_eq!(body, family);
    simulator.stop().await;
}

#[tokio::test]
async fn injected_provider_errors_answer_for_the_next_calls_only() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::ProviderError {
        error: ProviderError::Network,
        calls: 2,
    });
    for _ in 0..2 {
        let (status, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
        assert_eq!((status, codes(&body)), (502, vec!["00501".to_string()]));
        assert_eq!(body["errors"][0]["meta"], json!({ "retry_in": 10 }));
    }
    assert_eq!(lookup(&simulator, &bernard_elodie()).await.status(), 200);

    let expectations = [
        (ProviderError::Unavailable, 502, "35001"),
        (ProviderError::ProviderRateLimited, 502, "35008"),
        (ProviderError::Unknown, 502, "35999"),
        (
            ProviderError::Maintenance {
                retry_in: Some(3600),
            },
            503,
            "35020",
        ),
        (ProviderError::Timeout, 504, "35002"),
        (ProviderError::NoCnafDossier, 404, "23003"),
        (ProviderError::NoMsaDossier, 404, "10003"),
        (ProviderError::NotReferenced, 404, "35003"),
        (ProviderError::NoRncpsDossier, 404, "40003"),
        (ProviderError::IdentityNotRecognised, 422, "35560"),
        (ProviderError::CivilityRefused, 422, "35561"),
        (ProviderError::PeriodRefused, 422, "35565"),
    ];
    for (error, expected_status, expected_code) in expectations {
        simulator.inject(Fault::ProviderError { error, calls: 1 });
        let response = lookup(&simulator, &bernard_elodie()).await;
        assert_eq!(
            header(&response, "content-type"),
            "application/vnd.api+json"
        );
        let (status, body) = status_and_body(response).await;
        assert_eq!(status, expected_status, "{error:?}");
        assert_eq!(codes(&body), [expected_code], "{error:?}");
        if expected_code == "35020" {
            assert_eq!(body["errors"][0]["meta"]["retry_in"], 3600);
        }
    }
    simulator.stop().await;
}

#[tokio::test]
async fn injected_faults_do_not_hide_parameter_errors() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::ProviderError {
        error: ProviderError::Unknown,
        calls: 1,
    });
    let (status, _) = status_and_body(lookup(&simulator, &[("recipient", DINUM)]).await).await;
    assert_eq!(status, 422);
    let (status, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!((status, codes(&body)), (502, vec!["35999".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn latency_beyond_the_provider_timeout_is_504_35002() {
    let simulator = start_with(Config {
        clock: SimClock::fixed(november_2026()),
        provider_timeout: Duration::from_millis(200),
        ..Config::default()
    })
    .await;
    simulator.inject(Fault::Latency {
        latency: Duration::from_secs(30),
        calls: 1,
    });
    let started = Instant::now();
    let (status, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!((status, codes(&body)), (504, vec!["35002".to_string()]));
    assert_eq!(body["errors"][0]["title"], "Intermédiaire hors-délai");
    simulator.inject(Fault::Latency {
        latency: Duration::from_millis(100),
        calls: 1,
    });
    assert_eq!(lookup(&simulator, &bernard_elodie()).await.status(), 200);
    simulator.stop().await;
}

#[tokio::test]
async fn identical_request_in_flight_is_409_00015() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::Latency {
        latency: Duration::from_millis(600),
        calls: 1,
    });
    let query = bernard_elodie();
    let first = lookup(&simulator, &query);
    let second = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        lookup(&simulator, &query).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 409);
    assert_eq!(header(&second, "content-type"), "application/json");
    let body: Value = second.json().await.unwrap();
    assert_eq!(codes(&body), ["00015"]);
    assert_eq!(body["errors"][0]["title"], "Conflit");
    assert_eq!(
        lookup(&simulator, &query).await.status(),
        200,
        "free once answered"
    );
    simulator.stop().await;
}

#[tokio::test]
async fn injected_conflict_answers_409_for_the_next_calls() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::Conflict { calls: 1 });
    let (status, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!((status, codes(&body)), (409, vec!["00015".to_string()]));
    assert_eq!(lookup(&simulator, &bernard_elodie()).await.status(), 200);
    simulator.stop().await;
}

#[tokio::test]
async fn early_month_hides_current_cnaf_month_but_not_msa() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::EarlyMonth { on: true });
    let (status, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!((status, codes(&body)), (404, vec!["23003".to_string()]));
    assert_eq!(body["errors"][0]["meta"], json!({ "provider": "CNAF" }));
    simulator.inject(Fault::EarlyMonth { on: false });
    assert_eq!(lookup(&simulator, &bernard_elodie()).await.status(), 200);
    simulator.stop().await;
}

#[tokio::test]
async fn quotient_value_can_be_null_or_zero_and_msa_is_computed_today() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::QuotientValue {
        valeur: None,
        calls: 1,
    });
    let (_, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!(body["data"]["quotient_familial"]["valeur"], Value::Null);
    simulator.inject(Fault::QuotientValue {
        valeur: Some(0),
        calls: 1,
    });
    let (_, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 0);
    simulator.inject(Fault::Msa { calls: 1 });
    let (_, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    let quotient = &body["data"]["quotient_familial"];
    assert_eq!(quotient["fournisseur"], "MSA");
    assert_eq!(
        (
            quotient["annee_calcul"].clone(),
            quotient["mois_calcul"].clone()
        ),
        (json!(2026), json!(11))
    );
    let (_, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 650);
    simulator.stop().await;
}

#[tokio::test]
async fn clear_removes_pending_faults() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::ProviderError {
        error: ProviderError::Unavailable,
        calls: 5,
    });
    simulator.inject(Fault::Clear);
    assert_eq!(lookup(&simulator, &bernard_elodie()).await.status(), 200);
    simulator.stop().await;
}

#[tokio::test]
async fn quotient_familial_ping_is_ok_without_token() {
    let (simulator, _) = start_at(november_2026()).await;
    let response = call(
        &simulator,
        "/api/cnaf_msa_quotient_familial/ping",
        None,
        &[],
    )
    .await;
    let (status, body) = status_and_body(response).await;
    assert_eq!((status, body["status"].clone()), (200, json!("ok")));
    let response = call(&simulator, "/api/inconnu/ping", None, &[]).await;
    assert_eq!(response.status(), 404);
    simulator.stop().await;
}

#[tokio::test]
async fn per_minute_limit_of_a_token_replaces_the_per_second_one() {
    let (simulator, clock) = start_at(november_2026()).await;
    let token = simulator.mint_token(&QF_SCOPES, november_2026() + SignedDuration::from_hours(1));
    simulator.add_token(TokenRecord {
        jwt: token.clone(),
        scopes: QF_SCOPES.iter().map(|s| s.to_string()).collect(),
        siret: DINUM.to_string(),
        issued_at: None,
        expires_at: None,
        blacklisted: false,
        rate_limit_per_minute: Some(2),
    });
    let window_end = november_2026().as_second() - november_2026().as_second() % 60 + 60;
    for remaining in ["1", "0"] {
        let response = call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "ratelimit-limit"), "2");
        assert_eq!(header(&response, "ratelimit-remaining"), remaining);
        assert_eq!(header(&response, "ratelimit-reset"), window_end.to_string());
    }
    clock.advance(SignedDuration::from_secs(5));
    let response = call(&simulator, IDENTITY, Some(&token), &bernard_elodie()).await;
    assert_eq!(response.status(), 429);
    let expected_wait = window_end - november_2026().as_second() - 5;
    assert_eq!(header(&response, "retry-after"), expected_wait.to_string());
    simulator.stop().await;
}

#[tokio::test]
async fn transcogage_triple_replaces_the_commune_cog() {
    let (simulator, _) = start_at(november_2026()).await;
    let base = without(bernard_elodie(), "codeCogInseeCommuneNaissance");
    let triple = with(
        base.clone(),
        &[
            ("nomCommuneNaissance", "Charleville-Mézières"),
            ("codeCogInseeDepartementNaissance", "08"),
        ],
    );
    let (status, _) = status_and_body(lookup(&simulator, &triple).await).await;
    assert_eq!(status, 404, "valid, but no fixture has this triple");
    let bad_departement = with(
        base,
        &[
            ("nomCommuneNaissance", "Charleville-Mézières"),
            ("codeCogInseeDepartementNaissance", "8"),
        ],
    );
    let (status, body) = status_and_body(lookup(&simulator, &bad_departement).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00428".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn france_connect_route_refuses_api_tokens_with_401() {
    let (simulator, _) = start_at(november_2026()).await;
    let path = "/v3/dss/quotient_familial/france_connect";
    let query = [("recipient", DINUM)];
    let response = call(&simulator, path, Some(&simulator.staging_token()), &query).await;
    assert_eq!(header(&response, "ratelimit-remaining"), "19");
    let (status, body) = status_and_body(response).await;
    assert_eq!((status, codes(&body)), (401, vec!["51502".to_string()]));
    assert_eq!(
        body["errors"][0]["meta"],
        json!({ "provider": "FranceConnect" })
    );
    let (status, body) = status_and_body(call(&simulator, path, None, &query).await).await;
    assert_eq!((status, codes(&body)), (401, vec!["51504".to_string()]));
    simulator.stop().await;
}

#[tokio::test]
async fn typographic_apostrophe_is_refused_in_april_code_and_accepted_in_latest() {
    let query = with(
        without(bernard_elodie(), "nomNaissance"),
        &[("nomNaissance", "D’ARC")],
    );
    let (simulator, _) = start_at(november_2026()).await;
    let (status, body) = status_and_body(lookup(&simulator, &query).await).await;
    assert_eq!((status, codes(&body)), (422, vec!["00420".to_string()]));
    simulator.stop().await;

    let latest = start_with(Config {
        clock: SimClock::fixed(november_2026()),
        nomenclature: Nomenclature::Latest,
        ..Config::default()
    })
    .await;
    latest.add_case(IdentityCase {
        params: json!({
            "nomNaissance": "D'ARC", "prenoms": ["ELODIE"], "sexeEtatCivil": "F",
            "anneeDateNaissance": 1990, "moisDateNaissance": 3,
            "codeCogInseePaysNaissance": "99100", "codeCogInseeCommuneNaissance": "08480"
        }),
        status: 200,
        payload: json!({ "data": { "quotient_familial": { "valeur": 321 } }, "links": {}, "meta": {} }),
    });
    let (status, body) = status_and_body(lookup(&latest, &query).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 321);
    latest.stop().await;
}

#[tokio::test]
async fn ip_allow_list_refuses_with_403_00107_before_the_token_is_looked_at() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::IpNotAllowed { on: true });
    // Even a request without any token: the allow-list is checked at the rack level, first.
    let response = reqwest::Client::new()
        .get(format!(
            "{}/v3/dss/quotient_familial/identite",
            simulator.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(header(&response, "content-type").starts_with("application/json"));
    let (_, body) = status_and_body(response).await;
    assert_eq!(codes(&body), vec!["00107"]);
    assert_eq!(body["errors"][0]["title"], "Adresse IP non autorisée");
    assert_eq!(body["errors"][0]["source"]["header"], "X-Forwarded-For");
    simulator.inject(Fault::IpNotAllowed { on: false });
    assert_eq!(lookup(&simulator, &bernard_elodie()).await.status(), 200);
    simulator.stop().await;
}

#[tokio::test]
async fn dates_with_zero_parts_blank_the_unknown_month_and_day() {
    let (simulator, _) = start_at(november_2026()).await;
    simulator.inject(Fault::DatesWithZeroParts { calls: 1 });
    let (status, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["allocataires"][0]["date_naissance"],
        "1990-00-00"
    );
    assert_eq!(body["data"]["enfants"][0]["date_naissance"], "1990-00-00");
    // One call only: the next answer is the fixture's.
    let (_, body) = status_and_body(lookup(&simulator, &bernard_elodie()).await).await;
    assert_eq!(
        body["data"]["allocataires"][0]["date_naissance"],
        "1990-03-18"
    );
    simulator.stop().await;
}
