//! The attestation: its words (as the editable text of the same document), the initials, each
//! source's mention, the tariffs on real grids of spec §4.2, the refusal without a QF, and the
//! print written and journaled with no name.

use jiff::civil::date;
use rand::SeedableRng;

use super::*;
use crate::error::Code;
use crate::families::{self, BirthParts, DocumentType, NewMember, NewQf};
use crate::tariffs::Grid;

fn now() -> Timestamp {
    Timestamp::from_second(1_795_000_000).unwrap()
}

fn today() -> Date {
    date(2026, 11, 23)
}

fn grid(name: &str) -> Grid {
    let path = format!(
        "{}/src-tauri/tariffs/testdata/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

struct Town {
    _dir: tempfile::TempDir,
    store: Store,
    commune: i64,
}

/// Majastres with two real grids valid on [`today`]: Champcevinel's cantine (moved to this
/// school year) and Lieuvin's périscolaire.
fn town() -> Town {
    let (dir, store, commune) = crate::fixtures::store_with_commune();
    let mut cantine = grid("champcevinel");
    cantine.valid_from = date(2026, 9, 1);
    cantine.valid_to = Some(date(2027, 8, 31));
    let periscolaire = grid("lieuvin_periscolaire");
    store
        .write(|tx| {
            crate::tariffs::store::save(tx, commune, &cantine, "Paul", now())?;
            crate::tariffs::store::save(tx, commune, &periscolaire, "Paul", now())
        })
        .unwrap();
    Town {
        _dir: dir,
        store,
        commune,
    }
}

/// A family of Camille DUPONT (born 12 April 1985 in Digne-les-Bains) with `qfs`.
fn family(town: &Town, qfs: &[NewQf]) -> i64 {
    let mut random = rand::rngs::StdRng::seed_from_u64(7);
    town.store
        .write(|tx| {
            let id = families::create(tx, town.commune, "Paul", now(), &mut random)?;
            let member = NewMember {
                role: Some(Role::Allocataire),
                nom_naissance: "DUPONT".into(),
                prenoms: "Camille".into(),
                naissance: BirthParts {
                    annee: Some(1985),
                    mois: Some(4),
                    jour: Some(12),
                },
                pays_naissance: Some("99100".into()),
                commune_naissance: Some("04070".into()),
                commune_naissance_nom: Some("Digne-les-Bains".into()),
                ..NewMember::default()
            };
            families::add_member(tx, id, &member, true, now())?;
            for qf in qfs {
                families::add_qf(tx, id, qf, "Paul", now())?;
            }
            Ok(id)
        })
        .unwrap()
}

fn qf(valeur: Option<u32>, source: Source) -> NewQf {
    NewQf {
        valeur,
        annee: 2026,
        mois: 10,
        fournisseur: "CNAF".into(),
        source,
    }
}

/// The attestation of `family_id` as editable text, signed by Marie-Claire Dupont.
fn attestation_text(town: &Town, family_id: i64) -> Result<String> {
    let (_, family, tariffs, issuer) = town
        .store
        .read(|conn| read(conn, family_id, Some("Marie-Claire Dupont"), today()))?;
    let document = attestation_document(&family, &tariffs, &issuer, today(), now())?;
    Ok(documents::text(&document))
}

#[test]
fn initials_keep_hyphenated_first_names_and_leave_particles_out() {
    assert_eq!(initials("Marie-Claire Dupont"), "M.-C. D.");
    assert_eq!(initials("Paul Martin"), "P. M.");
    assert_eq!(initials("  Jean de La Fontaine "), "J. L. F.");
    assert_eq!(initials("Élodie Dupuis-Morel"), "É. D.-M.");
    assert_eq!(initials(""), "");
}

#[test]
fn the_attestation_says_the_qf_its_source_and_the_tariff_of_each_service() {
    let town = town();
    let id = family(&town, &[qf(Some(512), Source::Guichet)]);
    let code = town
        .store
        .read(|c| families::get(c, id))
        .unwrap()
        .external_id;
    let text = attestation_text(&town, id).unwrap();
    for expected in [
        "Majastres\nSIRET 21040107100019\n",
        "Attestation de prise en compte du quotient familial\n",
        "Délivrée le 23 novembre 2026",
        &format!("Code famille  \u{a0}: {code}"),
        "Allocataire(s)\u{a0}: Camille DUPONT",
        "Quotient familial\u{a0}: 512\n",
        "Mois de référence\u{a0}: octobre 2026",
        "Organisme        \u{a0}: CAF",
        "Source           \u{a0}: Guichet",
        "cantine       Tranche 1  1,00 € par repas",
        "périscolaire  Tranche 2  0,71 € par heure",
        "obtenu auprès de la CAF par API Particulier (DINUM)",
        "la rectification de ces informations",
        "vous opposer à l'actualisation automatique",
        "Fait à Majastres, le 23 novembre 2026\nPour la mairie, l'agent\u{a0}: M.-C. D.",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    // Minimisation: no birth date, no birth place, no agent's full name.
    for absent in ["1985", "Digne", "04070", "99100", "Marie-Claire"] {
        assert!(!text.contains(absent), "{absent:?} in\n{text}");
    }
}

#[test]
fn unknown_resources_are_attested_with_the_default_tariff() {
    let town = town();
    let id = family(&town, &[qf(None, Source::Actualisation)]);
    let text = attestation_text(&town, id).unwrap();
    assert!(text.contains("Quotient familial\u{a0}: ressources non connues"));
    assert!(
        text.contains("Tarif par défaut (QF non connu)  3,50 € par repas"),
        "{text}"
    );
    assert!(
        text.contains("lors de l'actualisation automatique"),
        "{text}"
    );
}

#[test]
fn each_source_has_its_mention() {
    let row = |source: Source, fournisseur: &str| QfRow {
        id: 1,
        valeur: Some(700),
        annee: 2026,
        mois: 3,
        fournisseur: fournisseur.into(),
        source_label: source_label(&source),
        source,
        recorded_at: now(),
        agent: "Paul".into(),
    };
    let hubee = source_mention(&row(Source::DossierHubee { dossier_id: 4 }, "CNAF"));
    assert!(hubee.contains("formulaire national"), "{hubee}");
    assert!(hubee.contains("obtenu auprès de la CAF"), "{hubee}");
    let counter = source_mention(&row(Source::Guichet, "MSA"));
    assert!(
        counter.contains("obtenu auprès de la MSA par API Particulier (DINUM), au guichet"),
        "{counter}"
    );
    let refresh = source_mention(&row(Source::Actualisation, "CNAF"));
    assert!(refresh.contains("API Particulier (DINUM), lors de l'actualisation"));
    let paper = source_mention(&row(
        Source::AttestationPapier {
            document: DocumentType::AttestationPaiement,
        },
        "CNAF",
    ));
    assert!(
        paper.contains("attestation papier de la CAF (attestation de paiement)"),
        "{paper}"
    );
    let all = [&hubee, &counter, &refresh, &paper];
    for (index, mention) in all.iter().enumerate() {
        for other in &all[index + 1..] {
            assert_ne!(mention, other);
        }
    }
}

#[test]
fn a_qf_in_a_gap_of_the_grid_is_attested_hors_tranches() {
    let town = town();
    // The Limons garderie has no bracket for 1 201 € (the gap its agent confirmed).
    let mut garderie = grid("limons");
    garderie.gaps_confirmed = true;
    town.store
        .write(|tx| crate::tariffs::store::save(tx, town.commune, &garderie, "Paul", now()))
        .unwrap();
    let id = family(&town, &[qf(Some(1201), Source::Guichet)]);
    let text = attestation_text(&town, id).unwrap();
    assert!(
        text.contains("garderie      Hors tranches (tarif par défaut)  2,20 € par séance"),
        "{text}"
    );
    assert!(text.contains("cantine       Tranche 3"), "{text}");
}

fn journal_rows(town: &Town) -> Vec<journal::Row> {
    town.store
        .read(|c| {
            journal::list(
                c,
                &journal::Filter::default(),
                &jiff::tz::TimeZone::UTC,
                100,
            )
        })
        .unwrap()
}

#[test]
fn a_family_without_any_qf_gets_no_attestation() {
    let town = town();
    let id = family(&town, &[]);
    let error = attestation_text(&town, id).unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(
        error.message.contains("aucun quotient familial"),
        "{}",
        error.message
    );
    let dir = tempfile::tempdir().unwrap();
    let before = journal_rows(&town).len();
    let error = print_attestation(
        &town.store,
        id,
        Destination::NewFileIn(dir.path()),
        Some("Paul"),
        now(),
        today(),
    )
    .unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(journal_rows(&town).len(), before);
}

#[test]
fn the_printed_attestation_is_one_page_and_journaled_with_the_family_s_code_only() {
    let town = town();
    let id = family(&town, &[qf(Some(512), Source::Guichet)]);
    let code = town
        .store
        .read(|c| families::get(c, id))
        .unwrap()
        .external_id;
    let dir = tempfile::tempdir().unwrap();
    let printed = print_attestation(
        &town.store,
        id,
        Destination::NewFileIn(dir.path()),
        Some("Marie-Claire Dupont"),
        now(),
        today(),
    )
    .unwrap()
    .unwrap();
    let file_name = format!("attestation-qf-majastres-{}.pdf", code.to_lowercase());
    assert!(printed.path.ends_with(&file_name), "{}", printed.path);
    let pdf = std::fs::read(&printed.path).unwrap();
    assert_eq!(crate::poster::raster::page_count(&pdf).unwrap(), 1);

    let rows = journal_rows(&town);
    let row = &rows[0];
    assert_eq!(row.action, journal::Action::Impression);
    assert_eq!(row.agent, "Marie-Claire Dupont");
    assert_eq!(row.commune_id, Some(town.commune));
    assert_eq!(row.detail.as_deref(), Some(JOURNAL_WHAT));
    assert_eq!(row.reference, Some(format!("famille {code}")));
    let everything = format!("{rows:?}");
    assert!(!everything.contains("DUPONT") && !everything.contains("Camille"));
}

#[test]
fn a_cancelled_choice_writes_and_journals_nothing() {
    let town = town();
    let id = family(&town, &[qf(Some(512), Source::Guichet)]);
    let dir = tempfile::tempdir().unwrap();
    let before = journal_rows(&town).len();
    let printed = print_attestation(
        &town.store,
        id,
        Destination::Chosen {
            suggested_in: dir.path(),
            choose: Box::new(|suggested| {
                assert!(suggested
                    .to_string_lossy()
                    .contains("attestation-qf-majastres-"));
                None
            }),
        },
        Some("Paul"),
        now(),
        today(),
    )
    .unwrap();
    assert_eq!(printed, None);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(journal_rows(&town).len(), before);
}
