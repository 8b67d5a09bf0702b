//! The command line as an administrator uses it: the real binary, a fresh data directory, no
//! keystore (as on a headless PC), input on stdin.

mod common;

use std::path::Path;
use std::process::Output;

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

const PASSPHRASE: &str = "la mairie ouvre à 9h";

/// No keystore, as on a headless PC; the passphrase only when given.
fn run_with(dir: &Path, args: &[&str], stdin: &str, passphrase: Option<&str>) -> Output {
    let mut env = vec![("GUICHET_QF_KEYSTORE", "aucun")];
    if let Some(passphrase) = passphrase {
        env.push(("GUICHET_QF_PASSPHRASE", passphrase));
    }
    common::run(dir, args, stdin, &env)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    run_with(dir, args, "", None)
}

#[track_caller]
fn assert_fails(output: &Output, code: i32, message: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr: {}",
        stderr(output)
    );
    assert!(
        stderr(output).contains(message),
        "expected « {message} » in: {}",
        stderr(output)
    );
    assert!(
        stderr(output).starts_with("Erreur : "),
        "{}",
        stderr(output)
    );
}

fn add_majastres(dir: &Path) {
    assert_ok(&run(dir, &ADD_MAJASTRES));
}

#[test]
fn help_is_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["--help"]);
    assert_ok(&output);
    let text = stdout(&output);
    for expected in [
        "Utilisation : ",
        "Commandes",
        "commune",
        "sauvegarde",
        "Afficher cette aide",
    ] {
        assert!(
            text.contains(expected),
            "« {expected} » missing in:\n{text}"
        );
    }
    assert!(
        !text.contains("Usage:") && !text.contains("Print help"),
        "{text}"
    );
    let output = run(dir.path(), &["commune", "add", "--help"]);
    assert_ok(&output);
    assert!(stdout(&output).contains("SIRET de la mairie (14 chiffres)"));
}

#[test]
fn usage_errors_are_french_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(
        &run(dir.path(), &["inconnue"]),
        2,
        "commande inconnue « inconnue »",
    );
    assert_fails(
        &run(
            dir.path(),
            &["commune", "add", "--siret", "21040107100019", "--nom", "X"],
        ),
        2,
        "il manque --cog",
    );
    assert_fails(
        &run(
            dir.path(),
            &[
                "commune",
                "add",
                "--siret",
                "21040107100019",
                "--nom",
                "X",
                "--cog",
                "04107",
                "--environnement",
                "test",
            ],
        ),
        2,
        "valeur « test » refusée",
    );
    // A secret value is never accepted as an argument.
    assert_fails(
        &run(
            dir.path(),
            &["secret", "set", "particulier-token", "eyJ.a.b"],
        ),
        2,
        "Erreur",
    );
}

#[test]
fn communes_are_added_validated_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &ADD_MAJASTRES);
    assert_ok(&output);
    assert!(stdout(&output).contains("Commune « Majastres » enregistrée"));

    assert_fails(
        &run(
            dir.path(),
            &[
                "commune",
                "add",
                "--siret",
                "21040107100018",
                "--nom",
                "X",
                "--cog",
                "04107",
            ],
        ),
        1,
        "clé de contrôle",
    );
    assert_fails(
        &run(
            dir.path(),
            &[
                "commune",
                "add",
                "--siret",
                "21730132400018",
                "--nom",
                "X",
                "--cog",
                "7313",
            ],
        ),
        1,
        "5 caractères",
    );
    assert_fails(
        &run(
            dir.path(),
            &[
                "commune",
                "add",
                "--siret",
                "21040107100019",
                "--nom",
                "Doublon",
                "--cog",
                "04107",
            ],
        ),
        1,
        "déjà enregistré pour la commune « Majastres »",
    );
    assert_ok(&run(
        dir.path(),
        &[
            "commune",
            "add",
            "--siret",
            "35600000012345",
            "--nom",
            "Bureau de poste",
            "--cog",
            "2a004",
            "--environnement",
            "bac-a-sable",
        ],
    ));

    let output = run(dir.path(), &["commune", "list", "--json"]);
    assert_ok(&output);
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "Bureau de poste");
    assert_eq!(list[0]["cog"], "2A004");
    assert_eq!(list[0]["environment"], "bac_a_sable");
    assert_eq!(list[1]["siret"], "21040107100019");

    let text = stdout(&run(dir.path(), &["commune", "list"]));
    assert!(
        text.contains("Majastres\tSIRET 21040107100019\tCOG 04107\tproduction"),
        "{text}"
    );
}

#[test]
fn agents_get_their_pin_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_with(
        dir.path(),
        &["agent", "add", "--nom", "Émilie Durand"],
        "1234\n",
        None,
    );
    assert_ok(&output);
    assert!(
        stdout(&output).contains("administrateur (premier agent"),
        "{}",
        stdout(&output)
    );
    assert_ok(&run_with(
        dir.path(),
        &["agent", "add", "--nom", "Paul"],
        "98765\n",
        None,
    ));
    assert_fails(
        &run_with(dir.path(), &["agent", "add", "--nom", "Zoé"], "12\n", None),
        1,
        "de 4 à 8 chiffres",
    );
    assert_fails(
        &run_with(
            dir.path(),
            &["agent", "add", "--nom", "paul"],
            "1234\n",
            None,
        ),
        1,
        "déjà « paul »",
    );
    let output = run(dir.path(), &["agent", "list", "--json"]);
    assert_ok(&output);
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(list[0]["name"], "Émilie Durand");
    assert_eq!(list[0]["role"], "administrateur");
    assert_eq!(list[1]["role"], "agent");
    assert!(list[0].get("pin").is_none() && list[0].get("pin_hash").is_none());
}

#[test]
fn secrets_need_a_commune_and_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbGkifQ.c2lnbmF0dXJl";
    assert_fails(
        &run_with(
            dir.path(),
            &["secret", "set", "particulier-token"],
            token,
            Some(PASSPHRASE),
        ),
        1,
        "Aucune commune",
    );
    add_majastres(dir.path());
    assert_fails(
        &run_with(
            dir.path(),
            &["secret", "set", "particulier-token"],
            token,
            None,
        ),
        1,
        "GUICHET_QF_PASSPHRASE",
    );
    assert_fails(
        &run_with(
            dir.path(),
            &["secret", "set", "particulier-token"],
            token,
            Some("court"),
        ),
        1,
        "au moins 10 caractères",
    );
    let output = run_with(
        dir.path(),
        &["secret", "set", "particulier-token"],
        &format!("{token}\n"),
        Some(PASSPHRASE),
    );
    assert_ok(&output);
    assert!(stdout(&output).contains("le jeton API Particulier de Majastres"));
    assert!(!stdout(&output).contains(token));

    assert_fails(
        &run_with(
            dir.path(),
            &["secret", "set", "hubee-client-id"],
            "client",
            Some("une autre phrase"),
        ),
        1,
        "Phrase de protection incorrecte",
    );
    assert_fails(
        &run_with(
            dir.path(),
            &[
                "secret",
                "set",
                "particulier-token",
                "--commune",
                "21730132400018",
            ],
            token,
            Some(PASSPHRASE),
        ),
        1,
        "Aucune commune n'est enregistrée avec le SIRET 21730132400018",
    );
    assert_fails(
        &run_with(
            dir.path(),
            &["secret", "set", "particulier-token"],
            "pas un jeton",
            Some(PASSPHRASE),
        ),
        1,
        "espaces",
    );

    let output = run(dir.path(), &["secret", "list", "--json"]);
    assert_ok(&output);
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0]["kind"], "hubee_client_id");
    assert!(list[0]["configured_at"].is_null());
    assert!(list[2]["configured_at"].is_string());
    assert!(!stdout(&output).contains(token));

    // The text form names each secret at the start of its line, with the local date.
    let output = run(dir.path(), &["secret", "list"]);
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Identifiant client Hubee : non configuré");
    assert_eq!(lines[1], "Clé secrète Hubee : non configuré");
    let (label, when) = lines[2].split_once(" : configuré le ").expect("a date");
    assert_eq!(label, "Jeton API Particulier");
    assert!(
        jiff::civil::DateTime::strptime("%d/%m/%Y à %H:%M", when).is_ok(),
        "{when}"
    );
    assert!(!stdout(&output).contains(token));
}

#[test]
fn backups_are_listed_and_restored_even_over_a_damaged_database() {
    let dir = tempfile::tempdir().unwrap();
    add_majastres(dir.path());
    // The first use on a database holding something makes the daily backup.
    assert_ok(&run(dir.path(), &["commune", "list"]));
    let output = run(dir.path(), &["sauvegarde", "creer"]);
    assert_ok(&output);
    let output = run(dir.path(), &["sauvegarde", "liste", "--json"]);
    assert_ok(&output);
    let list: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let manual = list
        .as_array()
        .unwrap()
        .iter()
        .find(|backup| backup["kind"] == "manual")
        .expect("a manual backup")["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        list.as_array().unwrap().iter().any(|b| b["kind"] == "auto"),
        "daily backup made on first use"
    );

    // The database is damaged: commands say so, listing and restoring still work.
    let database = dir.path().join("guichet-qf.sqlite3");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("guichet-qf.sqlite3{suffix}")));
    }
    std::fs::write(&database, vec![0xA5u8; 16384]).unwrap();
    assert_fails(&run(dir.path(), &["commune", "list"]), 1, "endommagé");
    assert_ok(&run(dir.path(), &["sauvegarde", "liste"]));
    let output = run(dir.path(), &["sauvegarde", "restaurer", &manual]);
    assert_ok(&output);
    assert!(stdout(&output).contains("fichier endommagé est conservé"));
    assert!(stdout(&run(dir.path(), &["commune", "list"])).contains("Majastres"));
    assert_fails(
        &run(dir.path(), &["sauvegarde", "restaurer", "../inconnue"]),
        1,
        "introuvable",
    );
}

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    add_majastres(dir.path());
    let database = dir.path().join("guichet-qf.sqlite3");
    {
        let conn = rusqlite::Connection::open(&database).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        conn.pragma_update(None, "user_version", 42).unwrap();
    }
    let before = std::fs::read(&database).unwrap();
    assert_fails(
        &run(dir.path(), &["commune", "list"]),
        1,
        "version plus récente",
    );
    assert_eq!(std::fs::read(&database).unwrap(), before);
}

#[test]
fn a_malformed_service_url_is_refused_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::run(
        dir.path(),
        &["commune", "list"],
        "",
        &[("GUICHET_QF_PARTICULIER_URL", "particulier.api.gouv.fr")],
    );
    assert_fails(
        &output,
        1,
        "GUICHET_QF_PARTICULIER_URL n'est pas une adresse web valide",
    );
    let output = common::run(
        dir.path(),
        &["commune", "list"],
        "",
        &[("GUICHET_QF_HUBEE_API_URL", "http://127.0.0.1:4001/")],
    );
    assert_ok(&output);
}

#[test]
fn a_propos_prints_the_support_text_without_creating_or_revealing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");

    // Before anything exists, it says so and creates no database.
    let output = run(&data, &["a-propos"]);
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.starts_with(&format!("Guichet QF {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(
        text.contains("Base de données : absente, non ouverte"),
        "{text}"
    );
    assert!(!data.join("guichet-qf.sqlite3").exists());

    add_majastres(&data);
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHJvcG9zIn0.c2lnbmF0dXJl";
    assert_ok(&run_with(
        &data,
        &[
            "secret",
            "set",
            "particulier-token",
            "--commune",
            "21040107100019",
        ],
        &format!("{token}\n"),
        Some(PASSPHRASE),
    ));
    let output = run(&data, &["version"]);
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.contains(
            "- Majastres (SIRET 21040107100019), production ; identifiants Hubee : non ; jeton \
             API Particulier : oui"
        ),
        "{text}"
    );
    assert!(text.contains("clé tirée d'une phrase de passe"), "{text}");
    assert!(
        !text.contains(token) && !text.contains(PASSPHRASE),
        "{text}"
    );
}
