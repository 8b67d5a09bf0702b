//! `guichet-qf lookup` as an agent or a script runs it: the real binary, the token in the vault,
//! API Particulier simulated and reached through `GUICHET_QF_PARTICULIER_URL`.

mod common;

use std::path::Path;
use std::process::Output;

use guichet_qf::simulators::particulier::{Config, Fault, ParticulierSimulator, ProviderError};
use serde_json::Value;

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

const PASSPHRASE: &str = "la mairie ouvre à 9h";

/// Runs the CLI with the vault's passphrase and the simulator's URL.
async fn cli(dir: &Path, args: &[&str], stdin: &str, simulator: &ParticulierSimulator) -> Output {
    let env = vec![
        ("GUICHET_QF_KEYSTORE", "aucun".to_string()),
        ("GUICHET_QF_PASSPHRASE", PASSPHRASE.to_string()),
        ("GUICHET_QF_PARTICULIER_URL", simulator.url()),
    ];
    common::run_off_runtime(dir, args, stdin, env).await
}

/// Staging fixture `200-seul-1_enfant-qf_caf_650` (BERNARD Elodie).
const BERNARD: [&str; 16] = [
    "lookup",
    "--agent",
    "émilie durand",
    "--motif",
    "inscription cantine",
    "--nom-naissance",
    "Bernard",
    "--prenom",
    "Elodie",
    "--sexe",
    "F",
    "--date-naissance",
    "1990-03",
    "--pays-naissance",
    "99100",
    "--commune-naissance=08480",
];

fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = base.to_vec();
    args.extend_from_slice(extra);
    args
}

async fn prepared(simulator: &ParticulierSimulator) -> tempfile::TempDir {
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
    dir
}

/// A simulator, a prepared data folder, and the staging token saved in its vault.
async fn with_token() -> (ParticulierSimulator, tempfile::TempDir, String) {
    let simulator = ParticulierSimulator::start(0, Config::default())
        .await
        .unwrap();
    let dir = prepared(&simulator).await;
    let token = simulator.staging_token();
    assert_ok(
        &cli(
            dir.path(),
            &["secret", "set", "particulier-token"],
            &token,
            &simulator,
        )
        .await,
    );
    (simulator, dir, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_prints_the_family_and_journals_each_call() {
    let simulator = ParticulierSimulator::start(0, Config::default())
        .await
        .unwrap();
    let dir = prepared(&simulator).await;
    let data = dir.path();

    // Without a token, the lookup says what is missing and calls nobody.
    let output = cli(data, &BERNARD, "", &simulator).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("jeton API Particulier"),
        "{}",
        stderr(&output)
    );
    assert!(simulator.requests().is_empty());

    let token = simulator.staging_token();
    assert_ok(
        &cli(
            data,
            &["secret", "set", "particulier-token"],
            &token,
            &simulator,
        )
        .await,
    );

    let output = cli(data, &BERNARD, "", &simulator).await;
    assert_ok(&output);
    let text = stdout(&output);
    assert!(text.contains("QF 650 €"), "{text}");
    assert!(text.contains("(CAF)"), "{text}");
    assert!(text.contains("journal des accès"), "{text}");

    let output = cli(data, &with(&BERNARD, &["--json"]), "", &simulator).await;
    assert_ok(&output);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["quotient_familial"]["valeur"], 650);
    assert_eq!(json["quotient_familial"]["fournisseur"], "CNAF");
    assert!(json["allocataires"].is_array() && json["enfants"].is_array());
    let log = simulator.requests();
    assert_eq!(json["request_id"], log[1].request_id.as_str());
    // The birth day is unknown: left out, never sent as 0.
    let query = &log[1].query;
    assert!(!query.iter().any(|(k, _)| k == "jourDateNaissance"));
    assert!(query.contains(&("recipient".into(), "21040107100019".into())));
    assert!(query.contains(&("prenoms[]".into(), "Elodie".into())));

    let output = cli(data, &["journal", "list", "--json"], "", &simulator).await;
    assert_ok(&output);
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    let lookups: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "consultation_qf")
        .collect();
    assert_eq!(lookups.len(), 2);
    for row in lookups {
        assert_eq!(row["agent"], "Émilie Durand");
        assert_eq!(row["endpoint"], "/v3/dss/quotient_familial/identite");
        assert_eq!(row["recipient"], "21040107100019");
        assert_eq!(row["motif"], "inscription cantine");
        assert_eq!(row["http_status"], 200);
    }
    let everything = stdout(&output).to_lowercase();
    assert!(!everything.contains("bernard") && !everything.contains("elodie"));
    assert!(!everything.contains(&token.to_lowercase()[..20]));
    simulator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_failures_exit_1_with_the_code_and_the_next_step() {
    let (simulator, dir, _) = with_token().await;
    let data = dir.path();

    simulator.inject(Fault::ProviderError {
        error: ProviderError::NoCnafDossier,
        calls: 1,
    });
    let output = cli(data, &with(&BERNARD, &["--json"]), "", &simulator).await;
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["code"], "not_found");
    assert_eq!(json["http_status"], 404);
    assert_eq!(json["api_code"], "23003");
    assert_eq!(
        json["request_id"],
        simulator.requests()[0].request_id.as_str()
    );
    assert!(json["message"].as_str().unwrap().contains("attestation"));
    assert!(stderr(&output).contains("CAF"), "{}", stderr(&output));

    simulator.inject(Fault::ProviderError {
        error: ProviderError::Timeout,
        calls: 1,
    });
    let output = cli(data, &BERNARD, "", &simulator).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Réessayez"), "{}", stderr(&output));

    // Refused on our side, naming the field, before any call.
    let before = simulator.requests().len();
    for (index, value, extra, expected) in [
        (8, "Jean, Pierre", &[][..], "Prénom"),
        (14, "99350", &[][..], "Commune de naissance"),
        (12, "1990-02-30", &[][..], "Date de naissance"),
        (
            2,
            "émilie durand",
            &["--annee", "2020", "--mois", "1"][..],
            "Année demandée",
        ),
    ] {
        let mut args = BERNARD.to_vec();
        args[index] = value;
        args.extend_from_slice(extra);
        args.push("--json");
        let output = cli(data, &args, "", &simulator).await;
        assert_eq!(output.status.code(), Some(1), "{value}");
        let json: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{value}: {} {}", stdout(&output), stderr(&output)));
        assert_eq!(json["code"], "validation", "{value}");
        assert!(json["http_status"].is_null());
        assert!(
            json["message"].as_str().unwrap().contains(expected),
            "{value}: {}",
            json["message"]
        );
    }
    assert_eq!(simulator.requests().len(), before);

    let mut args = BERNARD.to_vec();
    args[2] = "Quelqu'un d'autre";
    let output = cli(data, &args, "", &simulator).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("inconnu"), "{}", stderr(&output));
    simulator.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compromised_token_is_withdrawn_and_the_lookup_stops() {
    let (simulator, dir, token) = with_token().await;
    let data = dir.path();

    let output = cli(
        data,
        &["secret", "compromis", "--agent", "Émilie Durand"],
        "",
        &simulator,
    )
    .await;
    assert_ok(&output);
    let text = stdout(&output);
    assert!(text.contains("support@particulier.api.gouv.fr"), "{text}");
    assert!(text.contains("révoquer"), "{text}");
    assert!(!text.contains(&token), "the token is never printed");

    let listed = stdout(&cli(data, &["secret", "list"], "", &simulator).await);
    assert!(
        listed.contains("Jeton API Particulier : non configuré"),
        "{listed}"
    );
    let journal = stdout(&cli(data, &["journal", "list"], "", &simulator).await);
    assert!(
        journal.contains("Jeton API Particulier déclaré compromis"),
        "{journal}"
    );
    let output = cli(data, &BERNARD, "", &simulator).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(simulator.requests().is_empty(), "no call without a token");

    // Declared twice: nothing left to withdraw, said plainly.
    let output = cli(
        data,
        &["secret", "compromis", "--agent", "Émilie Durand"],
        "",
        &simulator,
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("rien à"), "{}", stderr(&output));
    simulator.stop().await;
}
