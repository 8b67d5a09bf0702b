//! The renderer on small documents: the text exactly, the PDF's pages and words read back by
//! `pdftotext`/`pdfinfo` (poppler-utils; skipped on a PC without them, required under CI).

use std::process::Command;

use super::*;

fn letterhead() -> Letterhead {
    Letterhead {
        commune_name: "Majastres".into(),
        siret: "21040107100019".into(),
        logo: None,
    }
}

fn sample() -> Document {
    let mut document = Document::new("Registre des activités de traitement", letterhead());
    document.subtitle = Some("Mis à jour le 23 novembre 2026".into());
    document.blocks = vec![
        Block::Heading("Finalité".into()),
        Block::Paragraph(vec![
            plain("Calculer le tarif des services "),
            bold("périscolaires"),
            plain("."),
        ]),
        Block::Fields(vec![
            ("Responsable".into(), "Le maire".into()),
            ("Durée".into(), "36 mois\npuis élimination".into()),
        ]),
        Block::Table {
            headers: vec!["Donnée".into(), "Source".into()],
            rows: vec![
                vec!["Quotient familial".into(), "CAF".into()],
                vec!["Nom".into(), "Famille".into()],
            ],
        },
        Block::Bullets(vec!["L'agent d'accueil".into(), "Le DPO".into()]),
        Block::Signature {
            place: "Majastres".into(),
            date: "23 novembre 2026".into(),
            signer: "Le maire".into(),
        },
    ];
    document.footer = Some("Document établi par Guichet QF.".into());
    document
}

#[test]
fn the_text_is_exactly_the_document() {
    let expected = "\
Majastres
SIRET 21040107100019

Registre des activités de traitement
====================================
Mis à jour le 23 novembre 2026

Finalité
--------

Calculer le tarif des services périscolaires.

Responsable\u{a0}: Le maire
Durée      \u{a0}: 36 mois
              puis élimination

Donnée             Source
-----------------  -------
Quotient familial  CAF
Nom                Famille

- L'agent d'accueil
- Le DPO

Fait à Majastres, le 23 novembre 2026
Le maire

Document établi par Guichet QF.
";
    assert_eq!(text(&sample()), expected);
}

/// Whether poppler's tools are there; under CI they must be.
fn poppler() -> bool {
    let present = Command::new("sh")
        .args(["-c", "command -v pdftotext && command -v pdfinfo"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        present || std::env::var("CI").as_deref() != Ok("true"),
        "pdftotext and pdfinfo are needed under CI (poppler-utils)"
    );
    present
}

/// What `tool` says of `pdf` (written to a temporary file).
fn poppler_output(tool: &str, pdf: &[u8], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = Command::new(tool)
        .args(args)
        .arg(&path)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap();
    assert!(output.status.success(), "{tool}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// A field of `pdfinfo`'s report ("Title", "Pages").
pub(crate) fn info_field<'a>(info: &'a str, name: &str) -> &'a str {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{name} in {info}"))
}

fn pages(pdf: &[u8]) -> usize {
    crate::poster::raster::page_count(pdf).unwrap()
}

#[test]
fn a_short_document_is_one_page_with_its_words_and_its_title() {
    let pdf = pdf(&sample()).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(pages(&pdf), 1);
    if !poppler() {
        return;
    }
    let info = poppler_output("pdfinfo", &pdf, &[]);
    assert_eq!(
        info_field(&info, "Title"),
        "Registre des activités de traitement"
    );
    assert_eq!(info_field(&info, "Pages"), "1");
    let words = poppler_output("pdftotext", &pdf, &["-layout"]);
    for expected in [
        "Majastres",
        "SIRET 21040107100019",
        "Registre des activités de traitement",
        "Calculer le tarif des services périscolaires.",
        "Quotient familial",
        "36 mois",
        "puis élimination",
        "Fait à Majastres, le 23 novembre 2026",
        "Document établi par Guichet QF.",
        "page 1 / 1",
    ] {
        assert!(words.contains(expected), "{expected:?} in {words}");
    }
    // The table's cells of one row stay on one line, in their columns.
    let row = words
        .lines()
        .find(|line| line.contains("Quotient familial"))
        .unwrap();
    assert!(row.contains("CAF"), "{row}");
}

#[test]
fn long_documents_flow_onto_numbered_pages_and_tables_repeat_their_header() {
    let mut document = Document::new("Bordereau d'élimination", letterhead());
    document.footer = Some("Bordereau établi par la mairie.".into());
    let sentence = "Les données des familles sans service depuis trente-six mois sont éliminées \
                    après une sauvegarde de sécurité, et chaque élimination est inscrite au \
                    journal des accès. ";
    for index in 0..12 {
        document
            .blocks
            .push(Block::Heading(format!("Section {}", index + 1)));
        document.blocks.push(Block::paragraph(&sentence.repeat(3)));
    }
    let rows: Vec<Vec<String>> = (1..=60)
        .map(|n| vec![format!("Famille n° {n}"), format!("{} dossiers", n % 7)])
        .collect();
    document.blocks.push(Block::Table {
        headers: vec!["Famille éliminée".into(), "Pièces".into()],
        rows,
    });
    let pdf = pdf(&document).unwrap();
    let count = pages(&pdf);
    assert!(count >= 3, "{count} pages");
    if !poppler() {
        return;
    }
    let words = poppler_output("pdftotext", &pdf, &[]);
    for page in 1..=count {
        assert!(
            words.contains(&format!("page {page} / {count}")),
            "page {page} numbered in {words}"
        );
    }
    assert_eq!(
        words.matches("Bordereau établi par la mairie.").count(),
        count,
        "the footer on every page"
    );
    // Every row is there once, and the header is repeated on the pages the table continues on.
    for n in 1..=60 {
        assert_eq!(
            words.matches(&format!("Famille n° {n}\n")).count()
                + words.matches(&format!("Famille n° {n} ")).count(),
            1,
            "row {n}"
        );
    }
    let headers = words.matches("Famille éliminée").count();
    assert!(headers >= 2, "header printed {headers} times");
    // The continued pages carry the running head.
    assert!(words.contains("Majastres — Bordereau d'élimination"));
}

#[test]
fn wide_tables_wrap_their_cells_within_the_page() {
    let mut document = Document::new("Tableau large", letterhead());
    let long = "une cellule très longue qui ne tient pas sur une seule ligne de la colonne";
    document.blocks.push(Block::Table {
        headers: vec!["A".into(), "B".into(), "C".into()],
        rows: vec![vec![long.into(), long.into(), "court".into()]],
    });
    let pdf = pdf(&document).unwrap();
    assert_eq!(pages(&pdf), 1);
    if !poppler() {
        return;
    }
    // With -bbox, every word's right edge must stay within the page's right margin.
    let boxes = poppler_output("pdftotext", &pdf, &["-bbox"]);
    let right_edges: Vec<f32> = boxes
        .lines()
        .filter(|line| line.contains("<word "))
        .filter_map(|line| {
            let start = line.find("xMax=\"")? + 6;
            line[start..].split('"').next()?.parse().ok()
        })
        .collect();
    assert!(!right_edges.is_empty());
    // 195 mm, in points.
    let limit = 195.0 * 72.0 / 25.4 + 1.0;
    for edge in right_edges {
        assert!(edge <= limit, "a word ends at {edge} pt, beyond {limit}");
    }
    let words = poppler_output("pdftotext", &pdf, &[]);
    assert_eq!(words.matches("colonne").count(), 2, "{words}");
}
