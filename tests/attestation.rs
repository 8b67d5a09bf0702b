//! `guichet-qf attestation` as an administrator runs it: a family of the file with a QF and two
//! real tariff grids, the PDF read back with `pdftotext` and `pdfinfo` (poppler-utils, from
//! `scripts/bootstrap.sh test`; skipped on a PC without them, required under `CI=true`), and
//! the print found in the journal under the family's code, never its name.

mod common;

use std::path::Path;
use std::process::Command;

use guichet_qf::families::{self, BirthParts, NewMember, NewQf, Role, Source};
use guichet_qf::store::Store;
use guichet_qf::tariffs::Grid;

fn cli(dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    common::run(dir, args, stdin, &[("GUICHET_QF_KEYSTORE", "aucun")])
}

fn poppler_present() -> bool {
    let present = ["pdftotext", "pdfinfo"].iter().all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|output| output.status.success())
    });
    assert!(
        present || std::env::var("CI").as_deref() != Ok("true"),
        "pdftotext and pdfinfo are needed under CI (scripts/bootstrap.sh test)"
    );
    if !present {
        eprintln!("skipped: poppler-utils missing");
    }
    present
}

fn tool(name: &str, args: &[&str]) -> String {
    let output = Command::new(name).args(args).output().unwrap();
    assert!(output.status.success(), "{name}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// A real grid of spec §4.2, valid from `valid_from` with no end.
fn grid(name: &str, valid_from: &str) -> Grid {
    let path = format!(
        "{}/src-tauri/tariffs/testdata/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut grid: Grid = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    grid.valid_from = valid_from.parse().unwrap();
    grid.valid_to = None;
    grid
}

/// Camille DUPONT's family (born 12 April 1985) with a QF of 512 for October 2026 from the
/// counter, and the commune's cantine and périscolaire grids; returns the family's code.
fn family_with_tariffs(store: &Store) -> String {
    let now = jiff::Timestamp::from_second(1_795_000_000).unwrap();
    store
        .write(|tx| {
            let commune = guichet_qf::communes::list(tx)?[0].id;
            guichet_qf::tariffs::store::save(
                tx,
                commune,
                &grid("champcevinel", "2022-09-01"),
                "Paul",
                now,
            )?;
            guichet_qf::tariffs::store::save(
                tx,
                commune,
                &grid("lieuvin_periscolaire", "2025-09-01"),
                "Paul",
                now,
            )?;
            let id = families::create(tx, commune, "Paul", now, &mut rand::rng())?;
            let member = NewMember {
                role: Some(Role::Allocataire),
                nom_naissance: "DUPONT".into(),
                prenoms: "Camille".into(),
                naissance: BirthParts {
                    annee: Some(1985),
                    mois: Some(4),
                    jour: Some(12),
                },
                ..NewMember::default()
            };
            families::add_member(tx, id, &member, true, now)?;
            let qf = NewQf {
                valeur: Some(512),
                annee: 2026,
                mois: 10,
                fournisseur: "CNAF".into(),
                source: Source::Guichet,
            };
            families::add_qf(tx, id, &qf, "Paul", now)?;
            Ok(families::get(tx, id)?.external_id)
        })
        .unwrap()
}

#[test]
fn cli_attestation_prints_one_page_with_the_qf_its_source_and_each_tariff() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    let out = dir.path().join("attestation.pdf");
    let out_arg = out.to_str().unwrap();
    common::assert_ok(&cli(&data, &common::ADD_MAJASTRES, ""));
    common::assert_ok(&cli(
        &data,
        &["agent", "add", "--nom", "Marie-Claire Dupont"],
        "482913\n",
    ));
    let store = guichet_qf::store::open(&data.join("guichet-qf.sqlite3")).unwrap();
    let code = family_with_tariffs(&store);
    drop(store);

    let output = cli(
        &data,
        &[
            "attestation",
            "--famille",
            &code,
            "--out",
            out_arg,
            "--agent",
            "marie-claire dupont",
        ],
        "",
    );
    common::assert_ok(&output);
    assert!(
        common::stdout(&output).contains("Attestation de quotient familial écrite"),
        "{}",
        common::stdout(&output)
    );
    let pdf = std::fs::read(&out).unwrap();
    assert_eq!(guichet_qf::poster::raster::page_count(&pdf).unwrap(), 1);

    if poppler_present() {
        let info = tool("pdfinfo", &[out_arg]);
        let field = |name: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(field("Pages"), "1", "{info}");
        assert_eq!(
            field("Title"),
            "Attestation de prise en compte du quotient familial"
        );
        let text = tool("pdftotext", &["-layout", out_arg, "-"]);
        let line_with = |words: &[&str]| {
            text.lines()
                .find(|line| words.iter().all(|word| line.contains(word)))
                .unwrap_or_else(|| panic!("a line with {words:?} in\n{text}"))
                .to_string()
        };
        line_with(&["Majastres"]);
        line_with(&["SIRET 21040107100019"]);
        line_with(&["Code famille", &code]);
        line_with(&["Allocataire(s)", "Camille DUPONT"]);
        line_with(&["Quotient familial", "512"]);
        line_with(&["Mois de référence", "octobre 2026"]);
        line_with(&["Organisme", "CAF"]);
        line_with(&["Source", "Guichet"]);
        line_with(&["cantine", "Tranche 1", "1,00 € par repas"]);
        line_with(&["périscolaire", "Tranche 2", "0,71 € par heure"]);
        line_with(&["API Particulier (DINUM)"]);
        line_with(&["rectification"]);
        line_with(&["M.-C. D."]);
        line_with(&["page 1 / 1"]);
        assert!(!text.contains("1985"), "no birth date:\n{text}");
        assert!(!text.contains("Marie-Claire"), "initials only:\n{text}");
    }

    let journal = cli(&data, &["journal", "list", "--json"], "");
    common::assert_ok(&journal);
    let journal = common::stdout(&journal);
    assert!(journal.contains("attestation de QF"), "{journal}");
    assert!(journal.contains(&format!("famille {code}")), "{journal}");
    assert!(journal.contains("Marie-Claire Dupont"), "{journal}");
    assert!(
        !journal.contains("DUPONT") && !journal.contains("Camille"),
        "{journal}"
    );
}

#[test]
fn cli_attestation_refuses_an_unknown_code_and_an_unknown_agent() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    let out = dir.path().join("attestation.pdf");
    let out_arg = out.to_str().unwrap();
    common::assert_ok(&cli(&data, &common::ADD_MAJASTRES, ""));
    let store = guichet_qf::store::open(&data.join("guichet-qf.sqlite3")).unwrap();
    let code = family_with_tariffs(&store);
    drop(store);

    let output = cli(
        &data,
        &["attestation", "--famille", "INCONNU", "--out", out_arg],
        "",
    );
    assert!(!output.status.success());
    assert!(
        common::stderr(&output).contains("n'a le code « INCONNU »"),
        "{}",
        common::stderr(&output)
    );
    let output = cli(
        &data,
        &[
            "attestation",
            "--famille",
            &code,
            "--out",
            out_arg,
            "--agent",
            "Personne",
        ],
        "",
    );
    assert!(!output.status.success());
    assert!(common::stderr(&output).contains("Agent « Personne » inconnu"));
    assert!(!out.exists());

    // Without an agent, the commune signs and the journal names the command line.
    common::assert_ok(&cli(
        &data,
        &["attestation", "--famille", &code, "--out", out_arg],
        "",
    ));
    if poppler_present() {
        let text = tool("pdftotext", &[out_arg, "-"]);
        assert!(text.contains("La mairie de Majastres"), "{text}");
    }
}
