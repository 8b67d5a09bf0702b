//! `guichet-qf journal …` as a DPO or an administrator uses it: the real binary on a fresh data
//! directory, and the SQLite file edited behind its back the way someone covering their tracks
//! would.

mod common;

use std::path::Path;
use std::process::Output;

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

fn run(dir: &Path, args: &[&str]) -> Output {
    common::run(dir, args, "", &[("GUICHET_QF_KEYSTORE", "aucun")])
}

/// Edits the database directly, with the append-only triggers dropped first.
fn tamper(dir: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(dir.join("guichet-qf.sqlite3")).unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete; {sql}"
    ))
    .unwrap();
}

#[test]
fn verify_export_and_list() {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&run(dir.path(), &ADD_MAJASTRES));
    let output = run(dir.path(), &["journal", "verify"]);
    assert_ok(&output);
    assert!(
        stdout(&output).contains("intact : aucune ligne"),
        "{}",
        stdout(&output)
    );

    let csv = dir.path().join("journal.csv");
    let output = run(
        dir.path(),
        &[
            "journal",
            "export",
            "--out",
            csv.to_str().unwrap(),
            "--commune",
            "21040107100019",
            "--depuis",
            "2020-01-01",
        ],
    );
    assert_ok(&output);
    assert!(
        stdout(&output).contains("0 ligne(s)"),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("données personnelles"));
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with("\u{feff}N°;Date et heure (UTC);".as_bytes()));

    // The export was journaled, by the command line, for Majastres.
    let output = run(dir.path(), &["journal", "list", "--json"]);
    assert_ok(&output);
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows[0]["action"], "export");
    assert_eq!(rows[0]["agent"], "ligne de commande");
    assert_eq!(rows[0]["commune_siret"], "21040107100019");

    let output = run(dir.path(), &["journal", "verifier"]);
    assert_ok(&output);
    assert!(stdout(&output).contains("1 ligne(s) vérifiée(s)"));
    assert!(stdout(&output).contains("Empreinte de la dernière ligne : "));

    let output = run(
        dir.path(),
        &[
            "journal",
            "export",
            "--out",
            "x.csv",
            "--depuis",
            "31/01/2026",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("AAAA-MM-JJ"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn verify_names_the_first_altered_row() {
    let dir = tempfile::tempdir().unwrap();
    for n in 0..3 {
        let csv = dir.path().join(format!("journal-{n}.csv"));
        assert_ok(&run(
            dir.path(),
            &["journal", "export", "--out", csv.to_str().unwrap()],
        ));
    }
    assert_ok(&run(dir.path(), &["journal", "verify"]));
    tamper(
        dir.path(),
        "UPDATE journal SET agent = 'quelqu''un d''autre' WHERE id = 2",
    );
    let output = run(dir.path(), &["journal", "verify"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).starts_with("Erreur : Le journal des accès a été altéré à la ligne 2 :"),
        "{}",
        stderr(&output)
    );

    let dir = tempfile::tempdir().unwrap();
    for n in 0..3 {
        let csv = dir.path().join(format!("journal-{n}.csv"));
        assert_ok(&run(
            dir.path(),
            &["journal", "export", "--out", csv.to_str().unwrap()],
        ));
    }
    tamper(dir.path(), "DELETE FROM journal WHERE id = 1");
    let output = run(dir.path(), &["journal", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("la ligne 1 manque"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_journal_refuses_edits_without_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("journal.csv");
    assert_ok(&run(
        dir.path(),
        &["journal", "export", "--out", csv.to_str().unwrap()],
    ));
    let conn = rusqlite::Connection::open(dir.path().join("guichet-qf.sqlite3")).unwrap();
    assert!(conn
        .execute("UPDATE journal SET agent = 'X' WHERE id = 1", [])
        .is_err());
    assert!(conn.execute("DELETE FROM journal", []).is_err());
}

#[test]
fn purge_never_touches_the_last_36_months() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("journal.csv");
    assert_ok(&run(
        dir.path(),
        &["journal", "export", "--out", csv.to_str().unwrap()],
    ));
    let output = run(dir.path(), &["journal", "purge", "--avant", "2099-01-01"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("au moins 36 mois"),
        "{}",
        stderr(&output)
    );

    let output = run(dir.path(), &["journal", "purge", "--simulation"]);
    assert_ok(&output);
    assert!(
        stdout(&output).starts_with("0 ligne(s)"),
        "{}",
        stdout(&output)
    );
    let output = run(dir.path(), &["journal", "purger"]);
    assert_ok(&output);
    assert!(
        stdout(&output).contains("rien à faire"),
        "{}",
        stdout(&output)
    );
    let output = run(dir.path(), &["journal", "verify"]);
    assert_ok(&output);
    assert!(stdout(&output).contains("1 ligne(s) vérifiée(s)"));
}
