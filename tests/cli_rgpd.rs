//! `guichet-qf rgpd registre|notice|bordereau` as an administrator runs them: the real binary on
//! a data directory with the commune's RGPD settings, changed retention limits and a real purge
//! made by `guichet-qf purge`; the PDFs read back with `pdftotext` (poppler-utils; skipped on a
//! PC without it, required under CI).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use guichet_qf::families::{self, NewQf, Source};
use guichet_qf::retention::{self, Retention};
use guichet_qf::rgpd::{self, RgpdSettings};
use guichet_qf::store;
use jiff::civil::date;
use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::SeedableRng;

use common::{assert_ok, stderr, stdout, ADD_MAJASTRES};

/// Runs the binary with a home folder of its own (the purge cleans the Documents folder).
fn cli(data: &Path, home: &Path, args: &[&str]) -> Output {
    let config = home.join("config");
    common::run(
        data,
        args,
        "",
        &[
            ("GUICHET_QF_KEYSTORE", "aucun"),
            ("HOME", home.to_str().unwrap()),
            ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ],
    )
}

fn pdftotext_present() -> bool {
    let present = Command::new("sh")
        .args(["-c", "command -v pdftotext"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        present || std::env::var("CI").as_deref() != Ok("true"),
        "pdftotext is needed under CI (poppler-utils)"
    );
    present
}

/// The words of the PDF at `path`, every run of white space (line ends, no-break spaces) made
/// one space, so that a phrase wrapped across lines is still found.
fn pdf_words(path: &Path) -> String {
    let output = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(data: &Path, sql: &str) -> i64 {
    let store = store::open(&data.join(store::DATABASE_FILE)).unwrap();
    store
        .read(|conn| Ok(conn.query_row(sql, [], |r| r.get(0))?))
        .unwrap()
}

/// The commune's settings, limits changed from the defaults, and two families whose enrolment
/// ended long ago (one QF each) next to one still enrolled.
fn seed(data: &Path) {
    let store = store::open(&data.join(store::DATABASE_FILE)).unwrap();
    let commune: i64 = store
        .read(|conn| Ok(conn.query_row("SELECT id FROM communes", [], |r| r.get(0))?))
        .unwrap();
    let now = Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::system()).date();
    rgpd::save(
        &store,
        commune,
        &RgpdSettings {
            mayor_name: "Jean-Pierre Arnaud".into(),
            dpo_name: "Sophie Lambert".into(),
            dpo_email: "dpo@cdg04.fr".into(),
            dpo_address: String::new(),
            deliberation_number: "2024-031".into(),
            deliberation_date: Some(date(2024, 3, 12)),
            services: "Cantine, garderie".into(),
            recipients: vec!["agents habilités de la mairie".into()],
            postal_address: "Mairie, 04270 Majastres".into(),
            requests_email: "mairie@majastres.fr".into(),
        },
        "Émilie Durand",
        now,
        today,
    )
    .unwrap();
    retention::save(
        &store,
        &Retention {
            qf_history_months: 30,
            family_months: 6,
            ..Retention::default()
        },
    )
    .unwrap();
    let mut random = StdRng::seed_from_u64(7);
    for (ended, qf_at) in [(Some(730), 900), (Some(400), 500), (None, 20)] {
        store
            .write(|tx| {
                let long_ago = now.checked_sub((1500 * 24).hours()).unwrap();
                let id = families::create(tx, commune, "Émilie Durand", long_ago, &mut random)?;
                let qf = NewQf {
                    valeur: Some(650),
                    annee: 2025,
                    mois: 1,
                    fournisseur: "CNAF".into(),
                    source: Source::Guichet,
                };
                let at = now.checked_sub((qf_at * 24).hours()).unwrap();
                families::add_qf(tx, id, &qf, "Émilie Durand", at)?;
                if let Some(days) = ended {
                    let on = today.checked_sub(days.days()).unwrap();
                    families::set_enrolment_end(tx, id, Some(on), "Émilie Durand", today, now)?;
                }
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn the_rgpd_documents_say_the_settings_and_the_purge() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    let home = dir.path().join("maison");
    std::fs::create_dir_all(&home).unwrap();
    assert_ok(&cli(&data, &home, &ADD_MAJASTRES));

    // Nothing is written before the commune's RGPD settings are complete.
    let register = dir.path().join("registre.pdf");
    let output = cli(
        &data,
        &home,
        &["rgpd", "registre", "--out", register.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("Complétez d'abord les paramètres RGPD"),
        "{}",
        stderr(&output)
    );
    assert!(!register.exists());

    seed(&data);
    let output = cli(&data, &home, &["purge"]);
    assert_ok(&output);
    let purge_id = count(&data, "SELECT id FROM purges");
    let families_removed = count(&data, "SELECT families FROM purge_communes");
    assert_eq!(families_removed, 2, "{}", stdout(&output));

    let output = cli(
        &data,
        &home,
        &["rgpd", "registre", "--out", register.to_str().unwrap()],
    );
    assert_ok(&output);
    assert!(
        stdout(&output).contains("Registre des traitements (PDF) de Majastres écrit dans"),
        "{}",
        stdout(&output)
    );
    let notice = dir.path().join("notice.txt");
    let output = cli(
        &data,
        &home,
        &[
            "rgpd",
            "notice",
            "--format",
            "texte",
            "--out",
            notice.to_str().unwrap(),
            "--commune",
            "21040107100019",
        ],
    );
    assert_ok(&output);
    let bordereau = dir.path().join("bordereau.pdf");
    let purge_arg = purge_id.to_string();
    let output = cli(
        &data,
        &home,
        &[
            "rgpd",
            "bordereau",
            "--purge",
            &purge_arg,
            "--out",
            bordereau.to_str().unwrap(),
        ],
    );
    assert_ok(&output);
    let output = cli(
        &data,
        &home,
        &[
            "rgpd",
            "bordereau",
            "--purge",
            "99",
            "--out",
            dir.path().join("autre.pdf").to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Aucune purge n° 99"));
    let output = cli(
        &data,
        &home,
        &[
            "rgpd",
            "notice",
            "--format",
            "word",
            "--out",
            notice.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("choisissez pdf ou texte"));

    // The editable notice: UTF-8 with its BOM, the limits saved, no refresh paragraph (the
    // commune does not refresh QFs).
    let bytes = std::fs::read(&notice).unwrap();
    assert!(bytes.starts_with(b"\xef\xbb\xbf"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.contains("30 mois après son enregistrement"), "{text}");
    assert!(text.contains("Sophie Lambert, dpo@cdg04.fr"), "{text}");
    assert!(!text.contains("refuser cette actualisation"), "{text}");

    assert_eq!(
        count(
            &data,
            "SELECT COUNT(*) FROM journal WHERE action = 'impression' \
             AND agent = 'ligne de commande'"
        ),
        3,
        "each document written is journaled"
    );

    if !pdftotext_present() {
        return;
    }
    let words = pdf_words(&register);
    for expected in [
        "Registre des activités de traitement",
        "représentée par son maire, Jean-Pierre Arnaud",
        "Sophie Lambert",
        "dpo@cdg04.fr",
        "délibération n° 2024-031 du 12 mars 2024",
        "30 mois après son enregistrement",
        "6 mois après la fin d'inscription",
        "36 mois",
        "agents habilités de la mairie",
    ] {
        assert!(words.contains(expected), "missing «{expected}» in {words}");
    }
    assert!(!words.contains("24 mois"), "{words}");

    let words = pdf_words(&bordereau);
    for expected in [
        "Bordereau d'élimination".to_string(),
        format!("Purge n° {purge_id} du"),
        "Mairie de Majastres (SIRET 21040107100019)".to_string(),
        "Réalisée par ligne de commande".to_string(),
        "Dossiers famille complets 2".to_string(),
        "Entrées de l'historique des QF 0".to_string(),
        "Visa du directeur des archives départementales".to_string(),
        "Le maire, Jean-Pierre Arnaud".to_string(),
        "Quotients familiaux 30 mois après l'enregistrement".to_string(),
        "Dossiers famille 6 mois après la fin d'inscription".to_string(),
        "page 1 / 1".to_string(),
    ] {
        assert!(words.contains(&expected), "missing «{expected}» in {words}");
    }
}
