//! `guichet-qf purge` as an administrator runs it: the real binary on a data directory whose
//! family file holds data past its retention limits, first as a simulation, then for real.

mod common;

use std::path::Path;
use std::process::Output;

use guichet_qf::families::{self, BirthParts, NewMember, NewQf, Role, Source};
use guichet_qf::store;
use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::SeedableRng;

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

/// Runs the binary with a home folder of its own: the export folder the purge cleans is the
/// user's Documents folder (here the home folder, no XDG user dirs), never the developer's.
fn cli(data: &Path, home: &Path, args: &[&str], stdin: &str) -> Output {
    let home_text = home.to_str().unwrap();
    let config = home.join("config");
    common::run(
        data,
        args,
        stdin,
        &[
            ("GUICHET_QF_KEYSTORE", "aucun"),
            ("HOME", home_text),
            ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ],
    )
}

fn ago(days: i64) -> Timestamp {
    Timestamp::now().checked_sub((days * 24).hours()).unwrap()
}

/// Two families in Majastres: one enrolled with a QF of three years ago and a recent one, one
/// whose enrolment ended two years ago.
fn seed(data: &Path) -> (i64, i64) {
    let store = store::open(&data.join(store::DATABASE_FILE)).unwrap();
    let commune: i64 = store
        .read(|conn| Ok(conn.query_row("SELECT id FROM communes", [], |r| r.get(0))?))
        .unwrap();
    let today = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::system())
        .date();
    let mut random = StdRng::seed_from_u64(3);
    let mut family = |name: &str| {
        store
            .write(|tx| {
                let id = families::create(tx, commune, "Émilie Durand", ago(1500), &mut random)?;
                let member = NewMember {
                    role: Some(Role::Allocataire),
                    nom_naissance: name.into(),
                    prenoms: "ANNE".into(),
                    sexe: Some("F".into()),
                    naissance: BirthParts {
                        annee: Some(1980),
                        mois: Some(1),
                        jour: Some(2),
                    },
                    pays_naissance: Some("99100".into()),
                    commune_naissance: Some("04107".into()),
                    ..NewMember::default()
                };
                families::add_member(tx, id, &member, true, ago(1500))?;
                Ok(id)
            })
            .unwrap()
    };
    let enrolled = family("MARTIN");
    let ended = family("BERNARD");
    let qf = |family: i64, at: Timestamp, annee: i32, mois: i32| {
        let new = NewQf {
            valeur: Some(650),
            annee,
            mois,
            fournisseur: "CNAF".into(),
            source: Source::Guichet,
        };
        store
            .write(|tx| families::add_qf(tx, family, &new, "Émilie Durand", at))
            .unwrap();
    };
    qf(enrolled, ago(3 * 365), 2023, 1);
    qf(enrolled, ago(20), 2026, 1);
    qf(ended, ago(3 * 365), 2023, 1);
    store
        .write(|tx| {
            families::set_enrolment_end(
                tx,
                ended,
                Some(today.checked_sub(2.years()).unwrap()),
                "Émilie Durand",
                today,
                Timestamp::now(),
            )
        })
        .unwrap();
    (enrolled, ended)
}

fn count(data: &Path, sql: &str) -> i64 {
    let store = store::open(&data.join(store::DATABASE_FILE)).unwrap();
    store
        .read(|conn| Ok(conn.query_row(sql, [], |r| r.get(0))?))
        .unwrap()
}

#[test]
fn the_simulation_removes_nothing_and_the_purge_removes_what_it_announced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    let home = dir.path().join("maison");
    std::fs::create_dir_all(&home).unwrap();
    assert_ok(&cli(&data, &home, &ADD_MAJASTRES, ""));
    assert_ok(&cli(
        &data,
        &home,
        &["agent", "add", "--nom", "Émilie Durand"],
        "1234\n",
    ));
    assert_ok(&cli(
        &data,
        &home,
        &["agent", "add", "--nom", "Paul"],
        "5678\n",
    ));
    let (enrolled, _) = seed(&data);
    let export = home.join("familles-2026-01-05-0930.csv");
    std::fs::write(&export, "a;b\r\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&export)
        .unwrap()
        .set_modified(std::time::SystemTime::from(ago(30)))
        .unwrap();
    let mine = home.join("budget.csv");
    std::fs::write(&mine, "x").unwrap();

    let expected = "1 famille, 1 entrée de QF, 1 fichier d'export";
    let output = cli(&data, &home, &["purge", "--simulation"], "");
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.starts_with("Simulation de la purge : rien n'est supprimé."),
        "{text}"
    );
    assert!(
        text.contains("Majastres : 1 famille, 1 entrée de QF seront supprimées."),
        "{text}"
    );
    assert!(
        text.contains(&format!("{expected} seront supprimés.")),
        "{text}"
    );
    assert!(text.contains("Fichier d'export : familles-2026-01-05-0930.csv"));
    assert_eq!(count(&data, "SELECT COUNT(*) FROM families"), 2);
    assert_eq!(count(&data, "SELECT COUNT(*) FROM qf_history"), 3);
    assert!(export.exists());

    // A counter agent may not purge.
    let output = cli(&data, &home, &["purge", "--agent", "Paul"], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("réservée aux administrateurs"));

    let output = cli(&data, &home, &["purge", "--agent", "émilie durand"], "");
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.contains(&format!("{expected} ont été supprimés.")),
        "{text}"
    );
    assert!(text.contains("Sauvegarde de sécurité faite avant : guichet-qf-"));
    assert_eq!(count(&data, "SELECT COUNT(*) FROM families"), 1);
    assert_eq!(
        count(&data, "SELECT COUNT(*) FROM qf_history"),
        1,
        "the enrolled family keeps its recent QF"
    );
    assert_eq!(
        count(
            &data,
            &format!("SELECT COUNT(*) FROM qf_history WHERE family_id = {enrolled}")
        ),
        1
    );
    assert_eq!(
        count(
            &data,
            "SELECT COUNT(*) FROM journal WHERE action = 'elimination' AND agent = 'Émilie Durand'"
        ),
        1
    );
    assert_eq!(count(&data, "SELECT COUNT(*) FROM purges"), 1);
    assert!(!export.exists());
    assert!(mine.exists(), "a file the application did not name stays");

    let output = cli(&data, &home, &["journal", "verify"], "");
    assert_ok(&output);

    let output = cli(&data, &home, &["purge"], "");
    assert_ok(&output);
    assert!(
        stdout(&output).contains("Rien à supprimer"),
        "{}",
        stdout(&output)
    );
}
