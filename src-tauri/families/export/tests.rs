//! Tests of the billing export: the bytes of both presets, the columns, the journal row.

use jiff::civil::date;
use jiff::tz::{self, TimeZone};
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;
use crate::error::Code;
use crate::families::{self, BirthParts, Channel, NewMember, NewQf, Source};

/// 2026-11-18 23:30 UTC: already the 19th in the commune's time zone (UTC+1).
fn now() -> Timestamp {
    Timestamp::from_second(1_795_044_600).unwrap()
}

fn paris() -> TimeZone {
    TimeZone::fixed(tz::offset(1))
}

fn member(role: Role, nom: &str, prenoms: &str) -> NewMember {
    NewMember {
        role: Some(role),
        nom_naissance: nom.into(),
        prenoms: prenoms.into(),
        naissance: BirthParts::from_iso("2015-03-04"),
        ..NewMember::default()
    }
}

/// Two families: the Noëls (QF 1340 from the CAF, two children) and a family whose name holds
/// a `;` and quotes, with "ressources non connues" from the MSA, who refused the refresh and
/// whose enrolment ended on 2 November.
fn filled() -> (tempfile::TempDir, Store, i64, i64, i64) {
    let (dir, store, commune) = crate::fixtures::store_with_commune();
    let mut random = StdRng::seed_from_u64(3);
    let (noel, other) = store
        .write(|tx| {
            let noel = families::create(tx, commune, "Paul", now(), &mut random)?;
            families::add_member(
                tx,
                noel,
                &member(Role::Allocataire, "NOËL", "Éloïse Marie"),
                true,
                now(),
            )?;
            families::add_member(
                tx,
                noel,
                &member(Role::Enfant, "NOËL", "Gaël"),
                false,
                now(),
            )?;
            families::add_member(
                tx,
                noel,
                &member(Role::Enfant, "NOËL", "Anaïs"),
                false,
                now(),
            )?;
            let qf = NewQf {
                valeur: Some(1340),
                annee: 2026,
                mois: 7,
                fournisseur: "CNAF".into(),
                source: Source::Guichet,
            };
            families::add_qf(tx, noel, &qf, "Paul", now())?;
            let other = families::create(tx, commune, "Paul", now(), &mut random)?;
            families::add_member(
                tx,
                other,
                &member(Role::Allocataire, "DUPONT; \"LE GRAND\"", "Jean"),
                true,
                now(),
            )?;
            let unknown = NewQf {
                valeur: None,
                annee: 2026,
                mois: 10,
                fournisseur: "MSA".into(),
                source: Source::Actualisation,
            };
            families::add_qf(tx, other, &unknown, "système", now())?;
            families::set_opt_out(
                tx,
                other,
                Some((date(2026, 11, 2), Channel::Courriel)),
                "Paul",
                date(2026, 11, 18),
                now(),
            )?;
            families::set_enrolment_end(
                tx,
                other,
                Some(date(2026, 11, 2)),
                "Paul",
                date(2026, 11, 18),
                now(),
            )?;
            Ok((noel, other))
        })
        .unwrap();
    (dir, store, commune, noel, other)
}

fn written(store: &Store, request: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    let rows = store
        .read(|conn| write_csv(conn, request, &mut out, &paris()))
        .unwrap();
    assert_eq!(rows, 2);
    out
}

#[test]
fn excel_preset_is_a_french_spreadsheet() {
    let (_dir, store, commune, noel, other) = filled();
    let request = Request {
        commune_id: commune,
        preset: Preset::ExcelFr,
        columns: Column::ALL.to_vec(),
        day: date(2026, 11, 19),
    };
    let bytes = written(&store, &request);
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "BOM first");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let code = |id: i64| {
        store
            .read(|conn| families::get(conn, id))
            .unwrap()
            .external_id
    };
    let expected = format!(
        "N° famille;Code famille;Allocataires;Enfants;Nombre d'enfants;Quotient familial (€);\
         Mois du QF;Organisme;Source du QF;QF enregistré le;Refus de l'actualisation;\
         Fin d'inscription\r\n\
         {noel};{};NOËL Éloïse Marie;NOËL Gaël, NOËL Anaïs;2;1340;07/2026;CAF;Guichet;19/11/2026;non;\r\n\
         {other};{};\"DUPONT; \"\"LE GRAND\"\" Jean\";;0;;10/2026;MSA;Actualisation;19/11/2026;oui;\
         02/11/2026\r\n",
        code(noel),
        code(other)
    );
    assert_eq!(text, expected);
    // The accents are UTF-8 bytes, not Latin-1 or escapes.
    assert!(bytes.windows(2).any(|w| w == "Ë".as_bytes()));
    assert!(bytes.windows(2).any(|w| w == "É".as_bytes()));
    assert!(!text.contains("\n\n") && text.matches('\n').count() == text.matches("\r\n").count());
}

#[test]
fn plain_preset_is_utf8_commas_iso_dates_and_lf() {
    let (_dir, store, commune, noel, other) = filled();
    let request = Request {
        commune_id: commune,
        preset: Preset::Csv,
        columns: vec![
            Column::Famille,
            Column::Allocataires,
            Column::Qf,
            Column::QfMois,
            Column::DateEnregistrement,
            Column::FinInscription,
        ],
        day: date(2026, 11, 19),
    };
    let bytes = written(&store, &request);
    assert!(!bytes.starts_with(b"\xef\xbb\xbf"), "no BOM");
    assert!(!bytes.contains(&b'\r'), "LF only");
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(
        text,
        format!(
            "N° famille,Allocataires,Quotient familial (€),Mois du QF,QF enregistré le,\
             Fin d'inscription\n\
             {noel},NOËL Éloïse Marie,1340,2026-07,2026-11-19,\n\
             {other},\"DUPONT; \"\"LE GRAND\"\" Jean\",,2026-10,2026-11-19,2026-11-02\n"
        )
    );
}

#[test]
fn decimals_follow_the_preset() {
    assert_eq!(Preset::ExcelFr.decimal(123_456, 2), "1234,56");
    assert_eq!(Preset::Csv.decimal(123_456, 2), "1234.56");
    assert_eq!(Preset::ExcelFr.decimal(5, 2), "0,05");
    assert_eq!(Preset::Csv.decimal(-1_250, 3), "-1.250");
    assert_eq!(Preset::ExcelFr.decimal(1340, 0), "1340");
    assert_eq!(Preset::ExcelFr.date(date(2026, 3, 4)), "04/03/2026");
    assert_eq!(Preset::Csv.date(date(2026, 3, 4)), "2026-03-04");
}

#[test]
fn columns_are_picked_in_order_and_unknown_ones_refused_in_french() {
    let (_dir, store, commune, noel, _) = filled();
    let columns = Column::parse_list("qf, famille,organisme").unwrap();
    assert_eq!(
        columns,
        vec![Column::Qf, Column::Famille, Column::Organisme]
    );
    let bytes = written(
        &store,
        &Request {
            commune_id: commune,
            preset: Preset::ExcelFr,
            columns,
            day: date(2026, 11, 19),
        },
    );
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "Quotient familial (€);N° famille;Organisme");
    assert_eq!(lines[1], format!("1340;{noel};CAF"));

    let error = Column::parse_list("famille,prix").unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(
        error
            .message
            .starts_with("Colonne inconnue : « prix ». Colonnes possibles : famille,"),
        "{}",
        error.message
    );
    assert!(Column::parse_list("qf,qf")
        .unwrap_err()
        .message
        .contains("demandée deux fois"));
    assert!(Column::parse_list(" , ").is_err());
    let error = Preset::from_id("xlsx").unwrap_err();
    assert!(
        error.message.contains("Format d'export inconnu"),
        "{}",
        error.message
    );
    for column in Column::ALL {
        assert_eq!(Column::from_id(column.id()).unwrap(), column);
        assert_eq!(serde_json::to_value(column).unwrap(), column.id(), "IPC id");
    }
    let offered = choices();
    assert_eq!(offered.len(), Column::ALL.len());
    assert_eq!(offered[5].column, Column::Qf);
    assert_eq!(offered[5].header, "Quotient familial (€)");
    for preset in [Preset::ExcelFr, Preset::Csv] {
        assert_eq!(Preset::from_id(preset.id()).unwrap(), preset);
        assert_eq!(serde_json::to_value(preset).unwrap(), preset.id(), "IPC id");
    }
}

#[test]
fn a_cell_a_spreadsheet_would_run_stays_text() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    store
        .write(|tx| {
            let id = families::create(tx, commune, "Paul", now(), &mut StdRng::seed_from_u64(1))?;
            families::add_member(
                tx,
                id,
                &member(Role::Allocataire, "=HYPERLINK(1)", "A"),
                true,
                now(),
            )
        })
        .unwrap();
    let mut out = Vec::new();
    store
        .read(|conn| {
            write_csv(
                conn,
                &Request {
                    commune_id: commune,
                    preset: Preset::Csv,
                    columns: vec![Column::Allocataires],
                    day: date(2026, 11, 19),
                },
                &mut out,
                &paris(),
            )
        })
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "Allocataires\n'=HYPERLINK(1) A\n"
    );
}

#[test]
fn export_file_journals_the_count_and_the_preset_never_a_name() {
    let (dir, store, commune, _, _) = filled();
    let path = dir.path().join("familles.csv");
    let request = Request {
        commune_id: commune,
        preset: Preset::ExcelFr,
        columns: Column::ALL.to_vec(),
        day: date(2026, 11, 19),
    };
    let exported = export_file(&store, &request, &path, "Paul", &paris(), now()).unwrap();
    assert_eq!(exported.rows, 2);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(exported.bytes, bytes.len() as u64);
    assert!(bytes.starts_with(b"\xef\xbb\xbf"));
    assert!(exported
        .warning
        .starts_with("Ce fichier contient des données personnelles"));
    assert!(!dir.path().join("familles.csv.partiel").exists());
    let last = store
        .read(|conn| journal::list(conn, &journal::Filter::default(), &paris(), 1))
        .unwrap();
    assert_eq!(last[0].action, journal::Action::Export);
    assert_eq!(last[0].agent, "Paul");
    assert_eq!(last[0].commune_id, Some(commune));
    let detail = last[0].detail.clone().unwrap();
    assert_eq!(
        detail,
        "Familles pour la facturation : 2 famille(s), format Excel (France)"
    );
    assert!(!detail.contains("NOËL") && !detail.contains("DUPONT"));

    let count = |store: &Store| {
        store
            .read(|conn| journal::list(conn, &journal::Filter::default(), &paris(), 1000))
            .unwrap()
            .len()
    };
    let before = count(&store);
    let error = export_file(
        &store,
        &request,
        &dir.path().join("absent").join("familles.csv"),
        "Paul",
        &paris(),
        now(),
    )
    .unwrap_err();
    assert_eq!(error.code, Code::Storage);
    assert!(
        error.message.contains("n'a pas pu être écrit"),
        "{}",
        error.message
    );
    assert_eq!(count(&store), before, "a failed export is not journaled");

    let named = export_path(dir.path(), now(), &paris());
    assert!(named.ends_with("familles-2026-11-19-0030.csv"), "{named:?}");
}

/// A real grid of `testdata`, renamed and valid from `from`.
fn real_grid(file: &str, service: &str, from: jiff::civil::Date) -> Grid {
    let path = format!(
        "{}/src-tauri/tariffs/testdata/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut grid: Grid = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    grid.service = service.into();
    grid.valid_from = from;
    grid.valid_to = None;
    grid
}

#[test]
fn tariff_columns_give_each_service_its_bracket_and_price_in_the_preset() {
    let (_dir, store, commune, noel, other) = filled();
    store
        .write(|tx| {
            let cantine = real_grid("champcevinel.json", "cantine", date(2026, 9, 1));
            tariffs::store::save(tx, commune, &cantine, "Paul", now())?;
            let soir = real_grid("fay_aux_loges.json", "accueil du soir", date(2026, 9, 1));
            tariffs::store::save(tx, commune, &soir, "Paul", now())?;
            // A grid over before the export's day prices nobody.
            let mut old = real_grid("mouais.json", "garderie", date(2025, 9, 1));
            old.valid_to = Some(date(2026, 8, 31));
            tariffs::store::save(tx, commune, &old, "Paul", now())
        })
        .unwrap();
    let columns = Column::parse_list("famille,qf,tranche,tarif").unwrap();
    let excel = written(
        &store,
        &Request {
            commune_id: commune,
            preset: Preset::ExcelFr,
            columns: columns.clone(),
            day: date(2026, 11, 19),
        },
    );
    assert_eq!(
        String::from_utf8(excel[3..].to_vec()).unwrap(),
        format!(
            "N° famille;Quotient familial (€);Tranche accueil du soir;Tranche cantine;\
             Tarif accueil du soir (€ par repas);Tarif cantine (€ par repas)\r\n\
             {noel};1340;Taux d'effort (tarif plafond);Tranche 3;4,50;3,40\r\n\
             {other};;Tarif par défaut (QF non connu);Tarif par défaut (QF non connu);4,50;3,50\r\n"
        )
    );
    let plain = written(
        &store,
        &Request {
            commune_id: commune,
            preset: Preset::Csv,
            columns: vec![Column::Tarif],
            day: date(2026, 11, 19),
        },
    );
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        "Tarif accueil du soir (€ par repas),Tarif cantine (€ par repas)\n4.50,3.40\n4.50,3.50\n"
    );
}
