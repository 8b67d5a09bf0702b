//! The API Particulier client, its shared rate limiter and the journaled lookup, against the
//! in-process simulator: the query as encoded, every error class with its French next step,
//! lenient answers, the limiter under concurrent callers, 429 honoured, and the journal rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use guichet_qf::communes::{self, Commune, Environment, NewCommune};
use guichet_qf::error::Code;
use guichet_qf::journal;
use guichet_qf::particulier::client::{Clock, Timeouts};
use guichet_qf::particulier::errors::ErrorKind;
use guichet_qf::particulier::identity::{self, IdentityInput};
use guichet_qf::particulier::limiter::RateLimiter;
use guichet_qf::particulier::{self, ClientConfig, LookupRequest, ParticulierClient, QfValue};
use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::particulier::{
    Config, Fault, ParticulierSimulator, ProviderError, TokenRecord,
};
use guichet_qf::store;
use guichet_qf::vault::SecretString;
use jiff::Timestamp;

const MAJASTRES: &str = "21040107100019";
const QF_SCOPES: [&str; 4] = [
    "cnaf_quotient_familial",
    "cnaf_allocataires",
    "cnaf_enfants",
    "cnaf_adresse",
];

fn november_2026() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

async fn simulator_with(config: Config) -> ParticulierSimulator {
    ParticulierSimulator::start(0, config).await.unwrap()
}

async fn simulator() -> ParticulierSimulator {
    simulator_with(Config {
        clock: SimClock::fixed(november_2026()),
        ..Config::default()
    })
    .await
}

fn client_for(
    simulator: &ParticulierSimulator,
    token: &str,
    limiter: Arc<RateLimiter>,
) -> ParticulierClient {
    let clock: Clock = Arc::new(november_2026);
    let mut config = ClientConfig::counter(
        simulator.url(),
        SecretString::from(token.to_string()),
        limiter,
        clock,
    );
    config.timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(15),
    };
    ParticulierClient::new(config).unwrap()
}

fn client(simulator: &ParticulierSimulator) -> ParticulierClient {
    client_for(
        simulator,
        &simulator.staging_token(),
        Arc::new(RateLimiter::new(10)),
    )
}

/// Staging fixture `200-seul-1_enfant-qf_caf_650` (BERNARD Elodie), as an agent types it.
fn bernard() -> IdentityInput {
    IdentityInput {
        nom_naissance: " Bernard ".into(),
        prenoms: vec!["Elodie".into()],
        sexe: "F".into(),
        date_naissance: Some("1990-03".into()),
        pays_naissance: "99100".into(),
        commune_naissance: Some("08480".into()),
        ..IdentityInput::default()
    }
}

fn identity_of(input: &IdentityInput) -> identity::Identity {
    identity::normalise(
        input,
        november_2026().to_zoned(jiff::tz::TimeZone::UTC).date(),
    )
    .unwrap()
}

fn query_of(simulator: &ParticulierSimulator, index: usize) -> Vec<(String, String)> {
    simulator.requests()[index].query.clone()
}

#[tokio::test]
async fn staging_family_is_found_with_each_part_encoded_as_the_server_wants() {
    let simulator = simulator().await;
    let client = client(&simulator);
    let exchange = client
        .quotient_familial(MAJASTRES, &identity_of(&bernard()), None)
        .await;
    let answer = exchange.result.unwrap();
    let lookup = particulier::Lookup::from_data(answer.data, answer.request_id.clone());
    let quotient = lookup.quotient.clone().unwrap();
    assert_eq!(quotient.valeur, QfValue::Known(650));
    assert_eq!(quotient.fournisseur.as_deref(), Some("CNAF"));
    assert_eq!(lookup.enfants.len(), 1);
    let recorded = &simulator.requests()[0];
    assert_eq!(
        answer.request_id.as_deref(),
        Some(recorded.request_id.as_str())
    );
    assert_eq!(exchange.calls.len(), 1);
    assert_eq!(exchange.calls[0].http_status, Some(200));
    let pairs: Vec<(&str, &str)> = recorded
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("recipient", MAJASTRES),
            ("nomNaissance", "Bernard"),
            ("prenoms[]", "Elodie"),
            ("sexeEtatCivil", "F"),
            ("anneeDateNaissance", "1990"),
            ("moisDateNaissance", "3"),
            ("codeCogInseePaysNaissance", "99100"),
            ("codeCogInseeCommuneNaissance", "08480"),
        ]
    );
    assert!(recorded.authorization_present);
    simulator.stop().await;
}

#[tokio::test]
async fn several_first_names_abroad_and_a_past_month_are_encoded_as_pairs() {
    let simulator = simulator().await;
    let client = client(&simulator);
    let input = IdentityInput {
        nom_naissance: "N’Diaye".into(),
        prenoms: vec!["Aïssata".into(), "Marie-Cœur".into(), "Awa".into()],
        sexe: "f".into(),
        date_naissance: Some("1984".into()),
        pays_naissance: "99341".into(),
        ..IdentityInput::default()
    };
    let period = identity::period(2025, 6, jiff::civil::date(2026, 11, 22)).unwrap();
    let _ = client
        .quotient_familial(MAJASTRES, &identity_of(&input), Some(period))
        .await;
    let query = query_of(&simulator, 0);
    let prenoms: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "prenoms[]")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(prenoms, ["Aïssata", "Marie-COEur", "Awa"]);
    let value = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    assert_eq!(value("nomNaissance").as_deref(), Some("N'Diaye"));
    assert_eq!(value("codeCogInseePaysNaissance").as_deref(), Some("99341"));
    assert_eq!(value("codeCogInseeCommuneNaissance"), None);
    assert_eq!(value("moisDateNaissance"), None);
    assert_eq!(value("jourDateNaissance"), None);
    assert_eq!(value("annee").as_deref(), Some("2025"));
    assert_eq!(value("mois").as_deref(), Some("6"));
    assert!(!query.iter().any(|(_, v)| v == "0"), "never a 0: {query:?}");
    simulator.stop().await;
}

#[tokio::test]
async fn provider_refusals_are_explained_with_the_next_step() {
    let simulator = simulator().await;
    let client = client(&simulator);
    let identity = identity_of(&bernard());
    let cases = [
        (
            ProviderError::NoCnafDossier,
            ErrorKind::NoDossier,
            404,
            "23003",
            "attestation",
        ),
        (
            ProviderError::NoMsaDossier,
            ErrorKind::NoDossier,
            404,
            "10003",
            "msa.fr",
        ),
        (
            ProviderError::IdentityNotRecognised,
            ErrorKind::IdentityNotRecognised,
            422,
            "35560",
            "tous ses prénoms",
        ),
        (
            ProviderError::CivilityRefused,
            ErrorKind::InvalidInput,
            422,
            "35561",
            "code COG",
        ),
        (
            ProviderError::PeriodRefused,
            ErrorKind::PeriodRefused,
            422,
            "35565",
            "23 mois",
        ),
        (
            ProviderError::Unavailable,
            ErrorKind::Unavailable,
            502,
            "35001",
            "Réessayez",
        ),
        (
            ProviderError::Network,
            ErrorKind::Unavailable,
            502,
            "00501",
            "10 s",
        ),
        (
            ProviderError::Maintenance { retry_in: None },
            ErrorKind::Unavailable,
            503,
            "35020",
            "Réessayez",
        ),
        (
            ProviderError::Timeout,
            ErrorKind::Unavailable,
            504,
            "35002",
            "Réessayez",
        ),
    ];
    for (fault, kind, status, code, next) in cases {
        simulator.inject(Fault::ProviderError {
            error: fault,
            calls: 1,
        });
        let exchange = client.quotient_familial(MAJASTRES, &identity, None).await;
        let error = exchange.result.unwrap_err();
        assert_eq!(error.kind, kind, "{fault:?}");
        assert_eq!(error.http_status, Some(status), "{fault:?}");
        assert_eq!(error.api_code.as_deref(), Some(code), "{fault:?}");
        assert!(error.request_id.is_some(), "{fault:?}");
        assert!(
            error.next_step.contains(next),
            "{fault:?}: {}",
            error.next_step
        );
        assert_eq!(exchange.calls[0].api_code.as_deref(), Some(code));
    }
    // The fixtures' unknown identity (404 `37003`, a staging-only code) still reads as "no
    // dossier": an unknown code gets its status's explanation.
    let mut unknown = bernard();
    unknown.nom_naissance = "Inconnu".into();
    let error = client
        .quotient_familial(MAJASTRES, &identity_of(&unknown), None)
        .await
        .result
        .unwrap_err();
    assert_eq!(
        (error.kind, error.api_code.as_deref()),
        (ErrorKind::NoDossier, Some("37003"))
    );
    assert_eq!(error.code, Code::NotFound);
    simulator.stop().await;
}

#[tokio::test]
async fn token_refusals_say_who_must_act() {
    let simulator = simulator().await;
    let identity = identity_of(&bernard());
    let limiter = || Arc::new(RateLimiter::new(10));

    let expired = simulator.mint_token(&QF_SCOPES, "2026-11-01T00:00:00Z".parse().unwrap());
    let error = client_for(&simulator, &expired, limiter())
        .quotient_familial(MAJASTRES, &identity, None)
        .await
        .result
        .unwrap_err();
    assert_eq!(
        (error.http_status, error.api_code.as_deref()),
        (Some(401), Some("00103"))
    );
    assert_eq!(error.code, Code::TokenRefused);
    assert!(error.message.contains("expiré"), "{}", error.message);
    assert!(error.next_step.contains("prolonger"), "{}", error.next_step);

    let revoked = simulator.mint_token(&QF_SCOPES, "2027-11-01T00:00:00Z".parse().unwrap());
    let mut record = TokenRecord::from_claims(&revoked).unwrap();
    record.blacklisted = true;
    simulator.add_token(record);
    let error = client_for(&simulator, &revoked, limiter())
        .quotient_familial(MAJASTRES, &identity, None)
        .await
        .result
        .unwrap_err();
    assert_eq!(error.api_code.as_deref(), Some("00105"));

    let no_scope = simulator.mint_token(&["rsa"], "2027-11-01T00:00:00Z".parse().unwrap());
    let error = client_for(&simulator, &no_scope, limiter())
        .quotient_familial(MAJASTRES, &identity, None)
        .await
        .result
        .unwrap_err();
    assert_eq!(
        (error.http_status, error.api_code.as_deref()),
        (Some(403), Some("00100"))
    );
    assert_eq!(error.kind, ErrorKind::TokenRefused);

    let error = client_for(&simulator, "pas-un-jeton", limiter())
        .quotient_familial(MAJASTRES, &identity, None)
        .await
        .result
        .unwrap_err();
    assert_eq!(
        (error.http_status, error.api_code.as_deref()),
        (Some(401), Some("00101"))
    );
    assert!(!format!("{error:?}").contains("pas-un-jeton"));
    simulator.stop().await;
}

#[tokio::test]
async fn answers_are_read_leniently() {
    let simulator = simulator_with(Config {
        clock: SimClock::fixed(november_2026()),
        mask_missing_scopes: true,
        ..Config::default()
    })
    .await;
    let client = client(&simulator);
    let identity = identity_of(&bernard());
    for valeur in [None, Some(0)] {
        simulator.inject(Fault::QuotientValue { valeur, calls: 1 });
        let answer = client
            .quotient_familial(MAJASTRES, &identity, None)
            .await
            .result
            .unwrap();
        let lookup = particulier::Lookup::from_data(answer.data, None);
        let quotient = lookup.quotient.unwrap();
        assert_eq!(quotient.valeur, QfValue::Unknown, "{valeur:?}");
        assert!(quotient.summary().contains("ressources non connues"));
    }
    simulator.inject(Fault::DatesWithZeroParts { calls: 1 });
    let answer = client
        .quotient_familial(MAJASTRES, &identity, None)
        .await
        .result
        .unwrap();
    let lookup = particulier::Lookup::from_data(answer.data, None);
    let date = lookup.allocataires[0].date_naissance;
    assert!(date.year.is_some() && date.month.is_none() && date.day.is_none());

    // A token with one scope: production removes the other blocks.
    let only_qf = simulator.mint_token(
        &["cnaf_quotient_familial"],
        "2027-11-01T00:00:00Z".parse().unwrap(),
    );
    let answer = client_for(&simulator, &only_qf, Arc::new(RateLimiter::new(10)))
        .quotient_familial(MAJASTRES, &identity, None)
        .await
        .result
        .unwrap();
    assert!(answer.data.contains_key("quotient_familial"));
    assert!(!answer.data.contains_key("allocataires"));
    let lookup = particulier::Lookup::from_data(answer.data, None);
    assert!(lookup.allocataires.is_empty() && lookup.enfants.is_empty());
    simulator.stop().await;
}

/// A distinct identity per caller (the server refuses identical requests in flight with 409).
fn caller(index: usize) -> identity::Identity {
    let letters: String = format!("{index:03}")
        .chars()
        .map(|d| (b'A' + (d as u8 - b'0')) as char)
        .collect();
    let mut input = bernard();
    input.nom_naissance = format!("Durand{letters}");
    identity_of(&input)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_never_exceed_the_shared_rate() {
    // The server allows 20 per second; the limiter 10, shared by 30 callers at once.
    let simulator = simulator_with(Config::default()).await;
    let limiter = Arc::new(RateLimiter::new(10));
    let client = Arc::new(client_for(&simulator, &simulator.staging_token(), limiter));
    let started = Instant::now();
    let tasks: Vec<_> = (0..30)
        .map(|index| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut exchange = client
                    .quotient_familial(MAJASTRES, &caller(index), None)
                    .await;
                exchange.calls.remove(0)
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().http_status);
    }
    let elapsed = started.elapsed();
    // Thirty departures at ten per second need two full seconds at least.
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(statuses.iter().all(|s| *s == Some(404)), "{statuses:?}");
    let log = simulator.requests();
    assert_eq!(log.len(), 30);
    assert!(log.iter().all(|r| r.status != 429));
    simulator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_every_caller_and_is_replayed_after_retry_after() {
    // The server allows 3 per second, the limiter 18: the server's 429s set the pace.
    let simulator = simulator_with(Config {
        rate_limit_per_second: 3,
        ..Config::default()
    })
    .await;
    let clock: Clock = Arc::new(Timestamp::now);
    let mut config = ClientConfig::counter(
        simulator.url(),
        SecretString::from(simulator.staging_token()),
        Arc::new(RateLimiter::new(18)),
        clock,
    );
    config.rate_limit_retries = 6;
    let client = Arc::new(ParticulierClient::new(config).unwrap());
    let tasks: Vec<_> = (0..8)
        .map(|index| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .quotient_familial(MAJASTRES, &caller(index), None)
                    .await
            })
        })
        .collect();
    for task in tasks {
        let exchange = task.await.unwrap();
        let error = exchange.result.unwrap_err();
        assert_eq!(error.kind, ErrorKind::NoDossier, "{error:?}");
        let last = exchange.calls.last().unwrap();
        assert_eq!(last.http_status, Some(404));
        for call in &exchange.calls[..exchange.calls.len() - 1] {
            assert_eq!(call.http_status, Some(429));
            assert_eq!(call.api_code.as_deref(), Some("00429"));
        }
    }
    let log = simulator.requests();
    let refused = log.iter().filter(|r| r.status == 429).count();
    assert!(refused >= 1, "the server's limit was reached");
    // Honouring Retry-After, each round of replays waits for a new window, where three pass.
    assert!(refused <= 5 + 2 + 2, "{refused} refusals");
    simulator.stop().await;
}

#[tokio::test]
async fn a_long_retry_after_fails_at_once_and_holds_back_the_next_call() {
    let simulator = simulator().await;
    let jwt = simulator.mint_token(&QF_SCOPES, "2027-11-01T00:00:00Z".parse().unwrap());
    let mut record = TokenRecord::from_claims(&jwt).unwrap();
    record.rate_limit_per_minute = Some(1);
    simulator.add_token(record);
    // Another installation used the minute's only request; this one learns it by a 429.
    let elsewhere = client_for(&simulator, &jwt, Arc::new(RateLimiter::new(10)));
    let client = client_for(&simulator, &jwt, Arc::new(RateLimiter::new(10)));
    let identity = identity_of(&bernard());
    assert!(elsewhere
        .quotient_familial(MAJASTRES, &identity, None)
        .await
        .result
        .is_ok());
    let second = client.quotient_familial(MAJASTRES, &identity, None).await;
    let error = second.result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.code, Code::ServiceUnavailable);
    assert_eq!(
        (error.http_status, error.api_code.as_deref()),
        (Some(429), Some("00429"))
    );
    assert!(error.retry_after.unwrap() > Duration::from_secs(10));
    assert_eq!(
        second.calls.len(),
        1,
        "not replayed beyond the caller's patience"
    );
    // The next call with this limiter is held back without reaching the server; so is the
    // other installation's, which read `RateLimit-Remaining: 0`.
    for held in [&client, &elsewhere] {
        let exchange = held.quotient_familial(MAJASTRES, &identity, None).await;
        assert_eq!(exchange.result.unwrap_err().kind, ErrorKind::RateLimited);
        assert!(exchange.calls.is_empty());
    }
    assert_eq!(simulator.requests().len(), 2);
    simulator.stop().await;
}

fn store_with_commune() -> (tempfile::TempDir, store::Store, Commune) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&dir.path().join("guichet-qf.sqlite3")).unwrap();
    let commune = communes::add(
        &store,
        &NewCommune {
            siret: MAJASTRES.into(),
            name: "Majastres".into(),
            cog: "04107".into(),
            environment: Environment::Simulateur,
        },
        november_2026(),
    )
    .unwrap();
    (dir, store, commune)
}

#[tokio::test]
async fn every_call_is_journaled_without_token_nor_identity() {
    let simulator = simulator().await;
    let client = client(&simulator);
    let (_dir, store, commune) = store_with_commune();
    let identity = identity_of(&bernard());
    let request = LookupRequest {
        agent: "Émilie Durand",
        motif: "inscription cantine",
        identity: &identity,
        period: None,
    };
    let found = particulier::lookup(&store, &client, &commune, &request, november_2026())
        .await
        .unwrap();
    assert_eq!(found.quotient.unwrap().valeur, QfValue::Known(650));

    simulator.inject(Fault::ProviderError {
        error: ProviderError::IdentityNotRecognised,
        calls: 1,
    });
    let error = particulier::lookup(&store, &client, &commune, &request, november_2026())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::IdentityNotRecognised);

    // A refused motif stops before any call and writes nothing.
    let no_motif = LookupRequest {
        motif: "  ",
        ..request.clone()
    };
    let error = particulier::lookup(&store, &client, &commune, &no_motif, november_2026())
        .await
        .unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert_eq!(simulator.requests().len(), 2);

    let rows = store
        .read(|c| journal::list(c, &journal::Filter::default(), &jiff::tz::TimeZone::UTC, 10))
        .unwrap();
    assert_eq!(rows.len(), 2);
    let log = simulator.requests();
    // Newest first.
    for (row, (status, code, recorded)) in rows
        .iter()
        .zip([(422, Some("35560"), &log[1]), (200, None, &log[0])])
    {
        assert_eq!(row.action, journal::Action::ConsultationQf);
        assert_eq!(row.agent, "Émilie Durand");
        assert_eq!(row.commune_siret.as_deref(), Some(MAJASTRES));
        assert_eq!(row.motif.as_deref(), Some("inscription cantine"));
        assert_eq!(row.endpoint.as_deref(), Some(particulier::IDENTITY_PATH));
        assert_eq!(row.recipient.as_deref(), Some(MAJASTRES));
        assert_eq!(row.http_status, Some(status));
        assert_eq!(row.api_code.as_deref(), code);
        assert_eq!(
            row.request_id.as_deref(),
            Some(recorded.request_id.as_str())
        );
        assert_eq!(row.reference, None);
        let text = format!(
            "{} {:?} {:?} {:?} {:?}",
            row.agent, row.motif, row.endpoint, row.detail, row.reference
        )
        .to_lowercase();
        for secret in ["bernard", "elodie", "1990", "08480", "eyj"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert!(store.read(journal::verify).unwrap().intact);
    simulator.stop().await;
}

#[tokio::test]
async fn an_unreachable_server_is_journaled_without_status() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let clock: Clock = Arc::new(november_2026);
    let client = ParticulierClient::new(ClientConfig::counter(
        url,
        SecretString::from("jeton".to_string()),
        Arc::new(RateLimiter::new(10)),
        clock,
    ))
    .unwrap();
    let (_dir, store, commune) = store_with_commune();
    let identity = identity_of(&bernard());
    let request = LookupRequest {
        agent: "Émilie Durand",
        motif: "inscription cantine",
        identity: &identity,
        period: None,
    };
    let error = particulier::lookup(&store, &client, &commune, &request, november_2026())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unavailable);
    assert_eq!(error.code, Code::ServiceUnavailable);
    assert!(!error.technical.contains("Bernard"), "{}", error.technical);
    let rows = store
        .read(|c| journal::list(c, &journal::Filter::default(), &jiff::tz::TimeZone::UTC, 10))
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].http_status, None);
    assert_eq!(rows[0].detail.as_deref(), Some("pas de réponse"));
}

#[tokio::test]
async fn the_counter_form_calls_only_once_the_identity_is_checked() {
    use guichet_qf::particulier::counter::{lookup_at_counter, CounterRequest};
    let simulator = simulator().await;
    let client = client(&simulator);
    let (_dir, store, commune) = store_with_commune();
    let today = november_2026().to_zoned(jiff::tz::TimeZone::UTC).date();
    let request = CounterRequest {
        commune_id: commune.id,
        motif: "Inscription à la cantine".into(),
        piece_verifiee: false,
        identite: bernard(),
        annee: None,
        mois: None,
    };
    let ask = |request: CounterRequest| {
        let (store, client, commune) = (&store, &client, &commune);
        async move {
            lookup_at_counter(
                store,
                client,
                commune,
                "Émilie Durand",
                &request,
                today,
                november_2026(),
            )
            .await
        }
    };
    // No ID check, or half a period: refused before anything leaves the PC.
    let error = ask(request.clone()).await.unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(
        error.message.contains("pièce d'identité"),
        "{}",
        error.message
    );
    let half_period = CounterRequest {
        piece_verifiee: true,
        annee: Some(2026),
        ..request.clone()
    };
    assert_eq!(ask(half_period).await.unwrap_err().code, Code::Validation);
    assert!(simulator.requests().is_empty());

    // Checked: the card carries the QF, its month and the people, and the call is journaled.
    let card = ask(CounterRequest {
        piece_verifiee: true,
        ..request
    })
    .await
    .unwrap();
    let quotient = card.quotient.unwrap();
    assert_eq!(quotient.valeur, Some(650));
    assert_eq!(quotient.fournisseur.as_deref(), Some("CNAF"));
    assert_eq!(card.enfants.map(|e| e.len()), Some(1));
    assert_eq!(
        card.adresse.as_deref(),
        Some(
            &[
                "Madame BERNARD ELODIE".to_string(),
                "1 RUE MONTORGUEIL".to_string(),
                "75002 PARIS".to_string(),
                "FRANCE".to_string(),
            ][..]
        )
    );
    assert!(card.request_id.is_some());
    let rows = store
        .read(|c| journal::list(c, &journal::Filter::default(), &jiff::tz::TimeZone::UTC, 10))
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].motif.as_deref(), Some("Inscription à la cantine"));
    simulator.stop().await;
}

#[tokio::test]
async fn the_token_guardian_reads_the_expiry_the_server_keeps() {
    use guichet_qf::particulier::token::{self, ExpirySource, Urgency};
    let simulator = simulator().await;
    let expires = "2027-01-10T00:00:00Z".parse::<Timestamp>().unwrap();
    let minted = simulator.mint_token(&QF_SCOPES[..2], expires);
    let client = client_for(&simulator, &minted, Arc::new(RateLimiter::new(10)));
    let info = token::inspect(&client, &SecretString::from(minted.clone()))
        .await
        .unwrap();
    assert_eq!(info.expires_at, Some(expires));
    assert_eq!(info.source, ExpirySource::Serveur);
    assert!(token::allows(&info, "cnaf_allocataires"));
    assert!(!token::allows(&info, "cnaf_enfants"));
    let warning = token::expiry_warning(&info, "Majastres", november_2026()).unwrap();
    assert_eq!(warning.urgency, Urgency::Information, "49 days left");
    // The guardian's call names nobody: no identity ever reaches the introspection route.
    let recorded = simulator.requests();
    assert!(
        recorded.iter().any(|r| r.path == token::INTROSPECT_V3),
        "{recorded:?}"
    );
    assert!(recorded.iter().all(|r| r.query.is_empty()), "{recorded:?}");
    simulator.stop().await;
}
