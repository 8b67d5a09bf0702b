//! `guichet-qf sync`, `dossiers` and `dossier traiter|refuser` as a scheduled task or an
//! administrator runs them: the real binary, credentials in the vault, Hubee simulated.

mod common;

use std::path::Path;
use std::process::Output;

use guichet_qf::simulators::hubee::{self, Credentials, HubeeSimulator};

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

const PASSPHRASE: &str = "la mairie ouvre à 9h";
const SIRET: &str = "21040107100019";
const COG: &str = "04107";

/// Runs the CLI with the vault's passphrase and the simulator's URLs.
async fn cli(dir: &Path, args: &[&str], stdin: &str, simulator: &HubeeSimulator) -> Output {
    let env = vec![
        ("GUICHET_QF_KEYSTORE", "aucun".to_string()),
        ("GUICHET_QF_PASSPHRASE", PASSPHRASE.to_string()),
        ("GUICHET_QF_HUBEE_AUTH_URL", simulator.auth_url()),
        ("GUICHET_QF_HUBEE_API_URL", simulator.api_url()),
    ];
    common::run_off_runtime(dir, args, stdin, env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossiers_are_pulled_listed_and_closed_from_the_command_line() {
    let simulator = HubeeSimulator::start(0, hubee::Config::default())
        .await
        .unwrap();
    let credentials = Credentials {
        client_id: "client-majastres".into(),
        client_secret: "secret-majastres".into(),
    };
    simulator.add_subscriber(SIRET, COG, &credentials);
    let families = hubee::fictitious_dossiers(7, 3);
    for family in &families {
        simulator.seed_formulaire_qf(SIRET, COG, family);
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert_ok(&cli(data, &ADD_MAJASTRES, "", &simulator).await);

    // Without credentials, the pass says what is missing.
    let output = cli(data, &["sync"], "", &simulator).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("Aucune commune n'a ses identifiants Hubee"));

    let set = |kind: &'static str, value: &'static str| {
        let simulator = &simulator;
        async move {
            assert_ok(&cli(data, &["secret", "set", kind], value, simulator).await);
        }
    };
    set("hubee-client-id", "client-majastres").await;
    set("hubee-client-secret", "wrong-secret").await;
    let output = cli(data, &["sync"], "", &simulator).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Majastres") && stderr(&output).contains("identifiants"),
        "{}",
        stderr(&output)
    );

    set("hubee-client-secret", "secret-majastres").await;
    let output = cli(data, &["sync", "--commune", SIRET], "", &simulator).await;
    assert_ok(&output);
    assert!(
        stdout(&output).contains("Majastres : 3 nouveau(x), 0 déjà connu(s)"),
        "{}",
        stdout(&output)
    );
    let output = cli(data, &["sync"], "", &simulator).await;
    assert_ok(&output);
    assert!(
        stdout(&output).contains("0 nouveau(x)"),
        "{}",
        stdout(&output)
    );

    let output = cli(data, &["dossiers", "--json"], "", &simulator).await;
    assert_ok(&output);
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for family in &families {
        let row = list
            .iter()
            .find(|row| row["reference"] == family.reference.as_str())
            .unwrap_or_else(|| panic!("{} missing in {list:?}", family.reference));
        assert_eq!(row["statut"], "nouveau");
        assert_eq!(
            row["quotient_familial"]["valeur"],
            serde_json::json!(family.quotient.valeur)
        );
        assert_eq!(
            row["quotient_familial"]["fournisseur"],
            family.quotient.fournisseur.code()
        );
        assert_eq!(row["nb_enfants"], family.enfants.len());
        for key in ["case_id", "external_id", "nom", "prenoms", "recu_le"] {
            assert!(row.get(key).is_some(), "{key} missing");
        }
    }

    let first = families[0].reference.as_str();
    let output = cli(data, &["dossier", "traiter", first], "", &simulator).await;
    assert_ok(&output);
    assert!(stdout(&output).contains("traité"), "{}", stdout(&output));
    let second = families[1].reference.as_str();
    let output = cli(data, &["dossier", "refuser", second], "", &simulator).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--message"));
    let output = cli(
        data,
        &[
            "dossier",
            "refuser",
            second,
            "--message",
            "Attestation illisible",
        ],
        "",
        &simulator,
    )
    .await;
    assert_ok(&output);
    let output = cli(
        data,
        &["dossier", "traiter", "INCONNUE00000"],
        "",
        &simulator,
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Aucun dossier n'a la référence"));

    // Hubee was told: one DONE and one REFUSED status event.
    let events: Vec<String> = simulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/events"))
        .filter_map(|r| r.body)
        .collect();
    assert!(events.iter().any(|b| b.contains("\"DONE\"")), "{events:?}");
    assert!(events
        .iter()
        .any(|b| b.contains("\"REFUSED\"") && b.contains("Attestation illisible")));

    let output = cli(data, &["dossiers", "--json"], "", &simulator).await;
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let statut = |reference: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|row| row["reference"] == reference)
            .unwrap()["statut"]
            .clone()
    };
    assert_eq!(statut(first), "traite");
    assert_eq!(statut(second), "refuse");
    simulator.stop().await;
}
