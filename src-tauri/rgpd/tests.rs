//! Tests of the RGPD settings and documents: each document's words from the settings and the
//! retention limits, the notice without refresh, the DPO warning, the bordereau against a real
//! stored purge, the text file's BOM and the journal row.

use jiff::civil::{date, Date};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::documents::{bordereau, information_notice, register_entry, retention_rows};
use super::*;
use crate::communes::{Environment, NewCommune};
use crate::documents::{Block, Document};
use crate::families::{self, NewQf, Source};
use crate::fixtures::store_with_commune;
use crate::poster::settings::PosterSettings;
use crate::retention::Retention;

const ADMIN: &str = "Claire Martin";

fn now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

fn today() -> Date {
    date(2026, 11, 23)
}

fn settings() -> RgpdSettings {
    RgpdSettings {
        mayor_name: "Jean-Pierre Arnaud".into(),
        dpo_name: "Sophie Lambert (CDG 04)".into(),
        dpo_email: "dpo@cdg04.fr".into(),
        dpo_address: "Centre de gestion\n04000 Digne-les-Bains".into(),
        deliberation_number: "2024-031".into(),
        deliberation_date: Some(date(2024, 3, 12)),
        services: "Cantine, garderie".into(),
        recipients: vec![
            "agents habilités de la mairie".into(),
            "régie de recettes / trésorerie pour la facturation".into(),
        ],
        postal_address: "Mairie\n04270 Majastres".into(),
        requests_email: "mairie@majastres.fr".into(),
    }
}

fn head() -> Letterhead {
    Letterhead {
        commune_name: "Majastres".into(),
        siret: "21040107100019".into(),
        logo: None,
    }
}

/// The document as text with every run of spaces made one, so that the words can be checked
/// whatever the width of the columns.
fn text(document: &Document) -> String {
    let mut out = String::new();
    for c in crate::documents::text(document).chars() {
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_register_entry_says_the_settings_and_the_retention_limits() {
    let register = register_entry(&head(), &settings(), &Retention::default(), true, today());
    let words = text(&register);
    for expected in [
        "Registre des activités de traitement",
        "mise à jour le 23 novembre 2026",
        "Commune de Majastres, représentée par son maire, Jean-Pierre Arnaud",
        "Sophie Lambert (CDG 04)",
        "dpo@cdg04.fr",
        "Tarification sociale de\u{a0}: cantine, garderie selon la délibération n° 2024-031 du \
         12 mars 2024",
        "article 6-1-e du RGPD",
        "article L114-8",
        "Son conjoint ou co-allocataire.",
        "Aucun numéro de sécurité sociale (NIR)",
        "API Particulier (service de l'État opéré par la DINUM)",
        "transmis par Hubee",
        "- agents habilités de la mairie.",
        "- régie de recettes / trésorerie pour la facturation.",
        "24 mois après son enregistrement",
        "12 mois après la fin d'inscription",
        "30 jours après la clôture du dossier",
        "jusqu'à la fin de l'inscription",
        "Journal des accès des agents (sans donnée d'identité) 36 mois",
        "verrouillage automatique",
        "coffre du système d'exploitation",
        "chaîné par empreintes",
        "Transferts hors de l'Union européenne",
        "actualise ce quotient",
    ] {
        assert!(
            words.contains(expected),
            "missing «{expected}» in:\n{words}"
        );
    }

    // A changed limit changes the words, and only the limits say so.
    let limits = Retention {
        qf_history_months: 30,
        identity_days: 15,
        family_months: 6,
        journal_months: 48,
        journal_justification: "contrôles de la chambre régionale des comptes".into(),
        ..Retention::default()
    };
    let words = text(&register_entry(
        &head(),
        &settings(),
        &limits,
        false,
        today(),
    ));
    for expected in [
        "30 mois après son enregistrement",
        "15 jours après la fin de l'inscription",
        "6 mois après la fin d'inscription",
        "48 mois (contrôles de la chambre régionale des comptes)",
    ] {
        assert!(
            words.contains(expected),
            "missing «{expected}» in:\n{words}"
        );
    }
    assert!(!words.contains("24 mois"), "{words}");
    assert!(!words.contains("actualise ce quotient"), "{words}");
}

#[test]
fn the_retention_words_follow_every_limit() {
    let rows = retention_rows(
        &Retention {
            qf_history_months: 13,
            identity_days: 1,
            family_months: 0,
            dossier_files_days: 2,
            export_days: 1,
            journal_months: 36,
            journal_justification: "ignorée à 36 mois".into(),
        },
        true,
    );
    let periods: Vec<&str> = rows.iter().map(|(_, period)| period.as_str()).collect();
    assert_eq!(
        periods,
        [
            "13 mois après son enregistrement ; le dernier quotient d'une famille inscrite est \
             gardé tant qu'il sert à calculer son tarif",
            "1 jour après la fin de l'inscription, ou après le refus de l'actualisation par la \
             famille",
            "jusqu'à la fin d'inscription",
            "2 jours après la clôture du dossier",
            "1 jour",
            "36 mois",
        ]
    );
}

#[test]
fn the_notice_speaks_of_the_refresh_only_when_the_commune_refreshes() {
    let with = text(&information_notice(
        &head(),
        &settings(),
        &Retention::default(),
        true,
        today(),
    ));
    let without = text(&information_notice(
        &head(),
        &settings(),
        &Retention::default(),
        false,
        today(),
    ));
    for words in [&with, &without] {
        for expected in [
            "Vos données personnelles et le quotient familial",
            "La mairie de Majastres, représentée par son maire, Jean-Pierre Arnaud",
            "délibération n° 2024-031 du 12 mars 2024",
            "quotient-familial.numerique.gouv.fr",
            "par API Particulier, un service de l'État (DINUM)",
            "24 mois après son enregistrement",
            "Vous pouvez accéder à vos données, les faire corriger",
            "mairie@majastres.fr",
            "Délégué à la protection des données\u{a0}: Sophie Lambert (CDG 04), dpo@cdg04.fr, \
             Centre de gestion, 04000 Digne-les-Bains.",
            "réclamation à la CNIL",
            "aucune famille n'est refusée",
        ] {
            assert!(
                words.contains(expected),
                "missing «{expected}» in:\n{words}"
            );
        }
    }
    assert!(with.contains("Actualisation automatique de votre quotient familial"));
    assert!(with.contains(
        "Vous pouvez refuser cette actualisation à tout moment, sans justification\u{a0}: par \
         e-mail à mairie@majastres.fr, par courrier à la mairie (Mairie, 04270 Majastres) ou au \
         guichet."
    ));
    assert!(!without.contains("ctualisation"), "{without}");
    assert!(!without.contains("refuser"), "{without}");
}

#[test]
fn a_dpo_who_is_the_mayor_is_flagged() {
    let mut same = settings();
    same.dpo_name = "  jean-pierre ARNAUD ".into();
    assert_eq!(warnings(&same), [DPO_IS_MAYOR]);
    assert!(DPO_IS_MAYOR.contains("ne peut pas être le maire"));
    // A warning, not a problem: the commune may save while it finds someone else.
    assert!(problems(&same, today()).is_empty());
    assert!(warnings(&settings()).is_empty());
    let mut accents = settings();
    accents.mayor_name = "Hélène Écrin".into();
    accents.dpo_name = "HELENE ECRIN".into();
    assert_eq!(warnings(&accents).len(), 1);
}

#[test]
fn every_field_has_its_french_message() {
    let empty = RgpdSettings {
        mayor_name: " ".into(),
        dpo_name: String::new(),
        dpo_email: String::new(),
        dpo_address: String::new(),
        deliberation_number: String::new(),
        deliberation_date: None,
        services: String::new(),
        recipients: vec!["  ".into()],
        postal_address: String::new(),
        requests_email: String::new(),
    };
    let found = problems(&empty, today());
    let fields: Vec<&str> = found.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "mayor_name",
            "dpo_name",
            "dpo_email",
            "deliberation_number",
            "deliberation_date",
            "services",
            "recipients",
            "postal_address",
            "requests_email"
        ]
    );
    assert!(found[2].message.starts_with("Contact du délégué"));
    assert!(found[3].message.contains("DataPass exige la délibération"));
    assert!(found[6].message.contains("nommez au moins un destinataire"));

    let mut wrong = settings();
    wrong.dpo_email = "dpo at cdg04.fr".into();
    wrong.requests_email = "mairie@majastres".into();
    wrong.deliberation_date = Some(date(2026, 11, 24));
    let found = problems(&wrong, today());
    assert_eq!(
        found
            .iter()
            .map(|p| (p.field.as_str(), p.message.as_str()))
            .collect::<Vec<_>>(),
        [
            (
                "dpo_email",
                "E-mail du délégué : l'adresse doit avoir la forme nom@domaine.fr."
            ),
            (
                "deliberation_date",
                "Date de la délibération : elle ne peut pas être dans le futur."
            ),
            (
                "requests_email",
                "E-mail pour les demandes : l'adresse doit avoir la forme nom@domaine.fr."
            ),
        ]
    );
    // A postal address alone is a contact.
    let mut by_post = settings();
    by_post.dpo_email = String::new();
    assert!(problems(&by_post, today()).is_empty());
}

#[test]
fn settings_default_from_the_poster_and_are_saved_cleaned() {
    let (_dir, store, commune) = store_with_commune();
    store
        .write(|tx| {
            crate::poster::settings::save(
                tx,
                commune,
                &PosterSettings {
                    services: "Cantine et accueil du mercredi".into(),
                    contact_email: Some("accueil@majastres.fr".into()),
                    refreshes: true,
                },
                now(),
            )
        })
        .unwrap();
    let first = store.read(|conn| view(conn, commune, today())).unwrap();
    assert_eq!(first.settings.services, "Cantine et accueil du mercredi");
    assert_eq!(first.settings.requests_email, "accueil@majastres.fr");
    assert_eq!(first.settings.recipients, DEFAULT_RECIPIENTS);
    assert_eq!(first.saved_at, None);
    let fields: Vec<&str> = first.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "mayor_name",
            "dpo_name",
            "dpo_email",
            "deliberation_number",
            "deliberation_date",
            "postal_address"
        ]
    );

    let error = save(&store, commune, &first.settings, ADMIN, now(), today()).unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(error.message.contains("Nom du maire"), "{}", error.message);

    let mut typed = settings();
    typed.mayor_name = "  Jean-Pierre   Arnaud ".into();
    typed.recipients.push("   ".into());
    let saved = save(&store, commune, &typed, ADMIN, now(), today()).unwrap();
    assert_eq!(saved.settings.mayor_name, "Jean-Pierre Arnaud");
    assert_eq!(saved.settings.recipients.len(), 2);
    assert_eq!(saved.saved_at, Some(now()));
    assert_eq!(saved.saved_by.as_deref(), Some(ADMIN));
    assert!(saved.problems.is_empty());
    assert_eq!(
        store.read(|conn| get(conn, commune)).unwrap(),
        settings(),
        "read back as saved"
    );
}

#[test]
fn the_text_file_starts_with_a_bom_and_is_utf8() {
    let register = register_entry(&head(), &settings(), &Retention::default(), true, today());
    let bytes = text_bytes(&register);
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
    let rest = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(rest.starts_with("Majastres\nSIRET 21040107100019\n"));
    assert!(rest.contains("Délégué"));
    assert_eq!(rest, crate::documents::text(&register));
}

#[test]
fn documents_wait_for_complete_settings_then_are_written_and_journaled() {
    let (dir, store, commune) = store_with_commune();
    let out = dir.path().join("registre.txt");
    let which = Which::Registre {
        commune_id: commune,
    };
    let error = write_document_to(
        &store,
        which,
        Format::Texte,
        &out,
        Some(ADMIN),
        &TimeZone::UTC,
        now(),
        today(),
    )
    .unwrap_err();
    assert_eq!(error.code, Code::Validation);
    assert!(error
        .message
        .starts_with("Complétez d'abord les paramètres RGPD"));
    assert!(!out.exists());

    save(&store, commune, &settings(), ADMIN, now(), today()).unwrap();
    let printed = write_document_to(
        &store,
        which,
        Format::Texte,
        &out,
        Some(ADMIN),
        &TimeZone::UTC,
        now(),
        today(),
    )
    .unwrap();
    assert_eq!(printed.what, "registre des traitements (texte)");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xef\xbb\xbfMajastres"));

    let pdf_out = dir.path().join("notice");
    let printed = write_document_to(
        &store,
        Which::Notice {
            commune_id: commune,
        },
        Format::Pdf,
        &pdf_out,
        None,
        &TimeZone::UTC,
        now(),
        today(),
    )
    .unwrap();
    assert!(printed.path.ends_with("notice.pdf"));
    assert!(std::fs::read(&printed.path).unwrap().starts_with(b"%PDF-"));

    let rows = store
        .read(|conn| {
            crate::journal::list(conn, &crate::journal::Filter::default(), &TimeZone::UTC, 10)
        })
        .unwrap();
    let printed_rows: Vec<(&str, Option<&str>)> = rows
        .iter()
        .filter(|row| row.action == crate::journal::Action::Impression)
        .map(|row| (row.agent.as_str(), row.detail.as_deref()))
        .collect();
    assert_eq!(
        printed_rows,
        [
            (
                crate::journal::AGENT_COMMAND_LINE,
                Some("note d'information des familles (PDF)")
            ),
            (ADMIN, Some("registre des traitements (texte)")),
        ]
    );
}

fn family_ended_long_ago(store: &Store, commune: i64, seed: u64, ended: Date) {
    store
        .write(|tx| {
            let id = families::create(
                tx,
                commune,
                ADMIN,
                "2020-01-01T00:00:00Z".parse().unwrap(),
                &mut StdRng::seed_from_u64(seed),
            )?;
            let qf = NewQf {
                valeur: Some(700),
                annee: 2022,
                mois: 1,
                fournisseur: "CNAF".into(),
                source: Source::Guichet,
            };
            families::add_qf(tx, id, &qf, ADMIN, "2022-02-03T09:00:00Z".parse().unwrap())?;
            families::set_enrolment_end(tx, id, Some(ended), ADMIN, today(), now())
        })
        .unwrap();
}

/// The table of counts of a bordereau.
fn counts(document: &Document) -> Vec<Vec<String>> {
    document
        .blocks
        .iter()
        .find_map(|block| match block {
            Block::Table { headers, rows } if headers[0] == "Catégorie" => Some(rows.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn the_bordereau_of_each_commune_gives_the_stored_purge() {
    let (_dir, store, majastres) = store_with_commune();
    let hauteluce = crate::communes::add(
        &store,
        &NewCommune {
            siret: "21730132400018".into(),
            name: "Hauteluce".into(),
            cog: "73132".into(),
            environment: Environment::Production,
        },
        now(),
    )
    .unwrap()
    .id;
    family_ended_long_ago(&store, majastres, 1, date(2023, 6, 30));
    family_ended_long_ago(&store, majastres, 2, date(2024, 2, 15));
    family_ended_long_ago(&store, hauteluce, 3, date(2024, 9, 10));
    save(&store, majastres, &settings(), ADMIN, now(), today()).unwrap();

    let done = retention::purge(
        &store,
        &Retention::default(),
        false,
        ADMIN,
        now(),
        today(),
        None,
    )
    .unwrap();
    let purge_id = done.id.unwrap();
    let stored = store.read(retention::list).unwrap().remove(0);
    assert_eq!(stored.communes.len(), 2);

    for commune in &stored.communes {
        let document = store
            .read(|conn| {
                super::document(
                    conn,
                    Which::Bordereau {
                        purge_id,
                        commune_id: commune.commune_id,
                    },
                    &TimeZone::UTC,
                    now(),
                    today(),
                )
            })
            .unwrap();
        let rows = counts(&document);
        let numbers: Vec<&str> = rows.iter().map(|row| row[1].as_str()).collect();
        let expected = [
            commune.families,
            commune.identities,
            commune.qf_entries,
            commune.refresh_runs,
            commune.dossiers,
            commune.dossier_files,
            stored.journal_rows,
            0,
        ]
        .map(|n| n.to_string());
        assert_eq!(numbers, expected);
        let words = text(&document);
        assert!(words.contains(&format!("Purge n° {purge_id} du 23 novembre 2026")));
        assert!(words.contains("Visa du directeur des archives départementales"));
        assert!(words.contains(stored.backup_name.as_deref().unwrap()));
        assert!(
            words.contains("Réalisée par \u{a0}: Claire Martin"),
            "{words}"
        );
        assert!(!words.contains("DUPONT"));
    }
    let of = |commune_id: i64| {
        store
            .read(|conn| {
                super::document(
                    conn,
                    Which::Bordereau {
                        purge_id,
                        commune_id,
                    },
                    &TimeZone::UTC,
                    now(),
                    today(),
                )
            })
            .map(|document| text(&document))
            .unwrap()
    };
    let majastres_words = of(majastres);
    assert_eq!(stored.communes[0].families, 2);
    assert!(majastres_words.contains("Dossiers famille complets 2\n"));
    assert!(
        majastres_words.contains("Dates extrêmes\u{a0}: du 30 juin 2023 au 15 février 2024"),
        "{majastres_words}"
    );
    assert!(majastres_words.contains("Le maire, Jean-Pierre Arnaud"));
    let hauteluce_words = of(hauteluce);
    assert!(hauteluce_words.contains("Dossiers famille complets 1\n"));
    assert!(hauteluce_words.contains("Dates extrêmes\u{a0}: le 10 septembre 2024"));
    assert!(hauteluce_words.contains("Mairie de Hauteluce (SIRET 21730132400018)"));
    assert!(
        hauteluce_words.contains("Le maire\n"),
        "no name given: the office signs"
    );

    let missing = store
        .read(|conn| {
            super::document(
                conn,
                Which::Bordereau {
                    purge_id: 99,
                    commune_id: majastres,
                },
                &TimeZone::UTC,
                now(),
                today(),
            )
        })
        .unwrap_err();
    assert_eq!(missing.code, Code::NotFound);
}

#[test]
fn the_bordereau_shows_dossiers_kept_because_still_referenced() {
    let mut commune = CommunePurge {
        commune_id: 1,
        commune_siret: "21040107100019".into(),
        commune_name: "Majastres".into(),
        families: 1,
        identities: 0,
        qf_entries: 0,
        refresh_runs: 0,
        dossiers: 1,
        dossier_files: 0,
        kept_referenced: 0,
        removed_from: Some(date(2024, 1, 3)),
        removed_to: Some(date(2025, 10, 20)),
        summary: String::new(),
    };
    let report = PurgeReport {
        id: Some(4),
        dry_run: false,
        at: now(),
        agent: ADMIN.into(),
        limits: Retention::default(),
        communes: vec![commune.clone()],
        journal_rows: 12,
        journal_before: "2023-11-23T10:00:00Z".parse().unwrap(),
        export_files: vec!["familles-2026-11-02-0930.csv".into()],
        backup_name: Some("guichet-qf-safety.sqlite".into()),
        summary: String::new(),
    };
    let words = text(&bordereau(&head(), &report, &commune, None, &TimeZone::UTC));
    assert!(
        words.contains("du 3 janvier 2024 au 20 octobre 2025"),
        "{words}"
    );
    assert!(words.contains("antérieures au 23 novembre 2023 (toute l'installation) 12"));
    assert!(!words.contains("conservés"));
    commune.kept_referenced = 2;
    let words = text(&bordereau(&head(), &report, &commune, None, &TimeZone::UTC));
    assert!(words.contains("2 dossier(s) d'une famille supprimée ont été conservés"));
}
