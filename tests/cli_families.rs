//! `guichet-qf familles` as an administrator or a script runs it: the real binary, dossiers
//! pulled from a simulated Hubee by `guichet-qf sync` and reconciled into the family file.

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
async fn families_are_listed_with_their_members_and_last_qf() {
    let simulator = HubeeSimulator::start(0, hubee::Config::default())
        .await
        .unwrap();
    let credentials = Credentials {
        client_id: "client-majastres".into(),
        client_secret: "secret-majastres".into(),
    };
    simulator.add_subscriber(SIRET, COG, &credentials);
    let mut families = hubee::fictitious_dossiers(17, 2);
    families[0].quotient.valeur = Some(733);
    families[1].quotient.valeur = Some(1207);
    // The second family's names must not be the first's, so that each is found by name.
    families[1].identity.family_name = "NOUVEAUNOM".into();
    for family in &families {
        simulator.seed_formulaire_qf(SIRET, COG, family);
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert_ok(&cli(data, &ADD_MAJASTRES, "", &simulator).await);

    // Nothing yet: said in French, and the list is still journaled as an export.
    let output = cli(data, &["familles"], "", &simulator).await;
    assert_ok(&output);
    assert!(
        stdout(&output).contains("Aucune famille enregistrée pour Majastres."),
        "{}",
        stdout(&output)
    );

    for (kind, value) in [
        ("hubee-client-id", "client-majastres"),
        ("hubee-client-secret", "secret-majastres"),
    ] {
        assert_ok(&cli(data, &["secret", "set", kind], value, &simulator).await);
    }
    assert_ok(&cli(data, &["sync"], "", &simulator).await);

    let output = cli(
        data,
        &["familles", "--commune", SIRET, "--json"],
        "",
        &simulator,
    )
    .await;
    assert_ok(&output);
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for family in &families {
        let row = list
            .iter()
            .find(|row| {
                row["members"].as_array().unwrap().iter().any(|m| {
                    m["pivot"] == true && m["nom_naissance"] == family.identity.family_name.as_str()
                })
            })
            .unwrap_or_else(|| panic!("{} missing in {list:?}", family.identity.family_name));
        assert_eq!(row["external_id"].as_str().unwrap().len(), 26);
        let qf = &row["last_qf"];
        assert_eq!(qf["valeur"], serde_json::json!(family.quotient.valeur));
        assert_eq!(qf["mois"], serde_json::json!(family.quotient.mois));
        assert_eq!(qf["annee"], serde_json::json!(family.quotient.annee));
        assert_eq!(qf["fournisseur"], family.quotient.fournisseur.code());
        assert_eq!(qf["source_label"], "Dossier Hubee");
        assert_eq!(qf["source"]["type"], "dossier_hubee");
        assert_eq!(qf["agent"], "système");
        assert_eq!(row["opt_out"], false);
    }

    let output = cli(data, &["familles"], "", &simulator).await;
    assert_ok(&output);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("NOUVEAUNOM"), "{text}");
    assert!(text.contains("identité de référence"), "{text}");
    assert!(text.contains("QF 1207 €"), "{text}");
    assert!(text.contains("Dossier Hubee"), "{text}");

    // Each list left the application: one export row per run in the journal.
    let output = cli(data, &["journal", "list", "--json"], "", &simulator).await;
    assert_ok(&output);
    let journal = stdout(&output);
    assert_eq!(
        journal.matches("Liste des familles").count(),
        3,
        "{journal}"
    );

    // A commune that does not exist is refused in French.
    let output = cli(
        data,
        &["familles", "--commune", "21730132400018"],
        "",
        &simulator,
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Erreur"), "{}", stderr(&output));
}
