//! `guichet-qf export` as an administrator or a script runs it: the real binary, families written
//! into the data folder's database, the CSV for the billing tool read back byte for byte.

mod common;

use std::path::Path;
use std::process::Output;

use guichet_qf::communes;
use guichet_qf::families::{self, BirthParts, NewMember, NewQf, Role, Source};
use guichet_qf::journal;
use guichet_qf::store::{self, DATABASE_FILE};
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::SeedableRng;

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

const SIRET: &str = "21040107100019";

fn cli(dir: &Path, args: &[&str]) -> Output {
    common::run(
        dir,
        args,
        "",
        &[
            ("GUICHET_QF_KEYSTORE", "aucun"),
            ("GUICHET_QF_PASSPHRASE", "la mairie ouvre à 9h"),
            ("TZ", "UTC"),
        ],
    )
}

fn member(role: Role, nom: &str, prenoms: &str) -> NewMember {
    NewMember {
        role: Some(role),
        nom_naissance: nom.into(),
        prenoms: prenoms.into(),
        naissance: BirthParts::from_iso("2016-05-06"),
        ..NewMember::default()
    }
}

/// Majastres with two families: the Noëls (QF 1340 from the CAF, one child) and one whose
/// resources are unknown; returns their ids and codes.
fn prepared() -> (tempfile::TempDir, Vec<(i64, String)>) {
    let dir = tempfile::tempdir().unwrap();
    assert_ok(&cli(dir.path(), &ADD_MAJASTRES));
    let store = store::open(&dir.path().join(DATABASE_FILE)).unwrap();
    let commune = store.read(communes::list).unwrap().remove(0);
    let at = Timestamp::from_second(1_795_000_000).unwrap();
    let mut random = StdRng::seed_from_u64(5);
    let ids = store
        .write(|tx| {
            let noel = families::create(tx, commune.id, "Paul", at, &mut random)?;
            families::add_member(
                tx,
                noel,
                &member(Role::Allocataire, "NOËL", "Éloïse"),
                true,
                at,
            )?;
            families::add_member(tx, noel, &member(Role::Enfant, "NOËL", "Gaël"), false, at)?;
            let qf = NewQf {
                valeur: Some(1340),
                annee: 2026,
                mois: 9,
                fournisseur: "CNAF".into(),
                source: Source::Guichet,
            };
            families::add_qf(tx, noel, &qf, "Paul", at)?;
            let unknown = families::create(tx, commune.id, "Paul", at, &mut random)?;
            families::add_member(
                tx,
                unknown,
                &member(Role::Allocataire, "MARTIN", "Zoé"),
                true,
                at,
            )?;
            let none = NewQf { valeur: None, ..qf };
            families::add_qf(tx, unknown, &none, "Paul", at)?;
            Ok(vec![noel, unknown])
        })
        .unwrap();
    let ids = ids
        .into_iter()
        .map(|id| {
            let code = store.read(|c| families::get(c, id)).unwrap().external_id;
            (id, code)
        })
        .collect();
    (dir, ids)
}

fn journal_details(dir: &Path) -> Vec<String> {
    let store = store::open(&dir.join(DATABASE_FILE)).unwrap();
    store
        .read(|c| {
            journal::list(
                c,
                &journal::Filter::default(),
                &jiff::tz::TimeZone::UTC,
                1000,
            )
        })
        .unwrap()
        .into_iter()
        .filter(|row| row.action == journal::Action::Export)
        .filter_map(|row| row.detail)
        .collect()
}

#[test]
fn both_presets_are_written_byte_for_byte_and_journaled() {
    let (dir, ids) = prepared();
    let data = dir.path();
    let (noel, noel_code) = &ids[0];
    let (unknown, unknown_code) = &ids[1];

    let out = data.join("familles-excel.csv");
    let output = cli(
        data,
        &[
            "export",
            "--format",
            "excel-fr",
            "--out",
            out.to_str().unwrap(),
            "--commune",
            SIRET,
        ],
    );
    assert_ok(&output);
    assert!(
        stdout(&output).contains("2 famille(s)") && stdout(&output).contains("familles-excel.csv"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("Ce fichier contient des données personnelles"),
        "{}",
        stderr(&output)
    );
    let bytes = std::fs::read(&out).unwrap();
    let expected = format!(
        "\u{feff}N° famille;Code famille;Allocataires;Enfants;Nombre d'enfants;\
         Quotient familial (€);Mois du QF;Organisme;Source du QF;QF enregistré le;\
         Refus de l'actualisation;Fin d'inscription\r\n\
         {noel};{noel_code};NOËL Éloïse;NOËL Gaël;1;1340;09/2026;CAF;Guichet;18/11/2026;non;\r\n\
         {unknown};{unknown_code};MARTIN Zoé;;0;;09/2026;CAF;Guichet;18/11/2026;non;\r\n"
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);

    let out = data.join("familles.csv");
    let output = cli(
        data,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
            "--colonnes",
            "qf,famille,date_enregistrement",
        ],
    );
    assert_ok(&output);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!(
            "Quotient familial (€),N° famille,QF enregistré le\n\
             1340,{noel},2026-11-18\n\
             ,{unknown},2026-11-18\n"
        )
    );

    assert_eq!(
        journal_details(data),
        vec![
            "Familles pour la facturation : 2 famille(s), format CSV".to_string(),
            "Familles pour la facturation : 2 famille(s), format Excel (France)".to_string(),
        ]
    );
}

#[test]
fn bad_input_is_refused_in_french_and_nothing_is_written_or_journaled() {
    let (dir, _) = prepared();
    let data = dir.path();
    let out = data.join("familles.csv");
    let target = out.to_str().unwrap();
    for (args, message) in [
        (
            vec!["export", "--format", "xlsx", "--out", target],
            "Format d'export inconnu : « xlsx »",
        ),
        (
            vec![
                "export",
                "--format",
                "csv",
                "--out",
                target,
                "--colonnes",
                "qf,prix",
            ],
            "Colonne inconnue : « prix »",
        ),
        (
            vec![
                "export",
                "--format",
                "csv",
                "--out",
                target,
                "--commune",
                "21040107100027",
            ],
            "21040107100027",
        ),
    ] {
        let output = cli(data, &args);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
    let output = cli(
        data,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            data.join("absent").join("f.csv").to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("n'a pas pu être écrit"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
    assert!(journal_details(data).is_empty());
}
