//! The personal letter: one A4 page per family, asking for its QF through the national form
//! with a QR code of its own.
//!
//! Why a personal QR code: the form copies the `external_id` of the link the family arrived
//! with into the dossier it sends (hubee.md §10), so a dossier sent from the letter's code
//! reconciles itself with the family file, whatever names the family typed or FranceConnect
//! gave. The code is the family's opaque `external_id` (random, never derived from the family:
//! it reveals nothing if the letter is lost), and the link is otherwise the poster's.
//!
//! All the letters of a mailing are pages of one PDF (a mail merge), so that the agent prints
//! once. The fonts and the logo are embedded once for all the pages. Like the poster, this is a
//! pure function of its request: the date is given, nothing is read from the store.

use jiff::civil::Date;
use printpdf::{Mm, Op, PdfDocument, PdfPage, PdfSaveOptions, XObjectId};

use super::pdf::{
    black, fonts, grey, line_ops, logo_ops, qr_ops, wrap, Frame, Type, GRID_WIDTH, MARGIN,
};
use super::text::{bold, french_typography, plain, Run};
use super::{form_url, printed_link, Logo, QrMatrix, QUIET_ZONE};
use crate::error::{Code, Error, Result};
use crate::families::looks_like_external_id;

/// Side of the personal QR code (dark modules): large enough for any phone at arm's length,
/// small enough to leave the page to the text.
pub const LETTER_QR_MM: f32 = 46.0;
/// The QR code's left edge on the page (mm); its top follows the opening paragraphs.
const LETTER_QR_LEFT: f32 = MARGIN + 2.0;
/// At most this many letters in one mailing: beyond, the agent prints in several goes (a PDF of
/// a thousand pages is already more than a town hall printer takes at once).
pub const MAX_LETTERS: usize = 1000;

const FRENCH_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "mars 2026".
pub fn month_label(annee: i32, mois: i32) -> String {
    let name = usize::try_from(mois - 1)
        .ok()
        .and_then(|index| FRENCH_MONTHS.get(index))
        .copied()
        .unwrap_or("?");
    format!("{name} {annee}")
}

/// "23 novembre 2026" ("1er" on the first day).
pub fn date_label(date: Date) -> String {
    let day = if date.day() == 1 {
        "1er".to_string()
    } else {
        date.day().to_string()
    };
    format!(
        "{day} {}",
        month_label(i32::from(date.year()), i32::from(date.month()))
    )
}

/// The link of a family's letter: the commune's page on the form with the family's code.
pub fn personal_url(siret: &str, external_id: &str) -> Result<String> {
    Ok(format!(
        "{}?external_id={}",
        form_url(siret)?,
        checked_code(external_id)?
    ))
}

fn checked_code(external_id: &str) -> Result<&str> {
    if looks_like_external_id(external_id) {
        Ok(external_id)
    } else {
        Err(Error::new(
            Code::Internal,
            "Le code personnel d'une famille est illisible ; la lettre n'a pas été faite.",
        ))
    }
}

/// One family's letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterFamily {
    /// How the letter addresses the family: its allocataires' names ("DUPONT", "DUPONT –
    /// MARTIN").
    pub name: String,
    pub external_id: String,
    /// The month of the last QF the commune has (`None`: none at all).
    pub last_qf: Option<(i32, i32)>,
}

/// A mailing: what every letter says, and the families.
#[derive(Debug, Clone, PartialEq)]
pub struct LetterRequest {
    pub commune_name: String,
    pub siret: String,
    pub services: String,
    /// Where families may send an attestation (and refuse the refresh).
    pub contact_email: Option<String>,
    /// The commune refreshes QFs itself: the letter says how to refuse.
    pub refreshes: bool,
    /// The day printed on the letters (the commune's local date).
    pub date: Date,
    pub logo: Option<Logo>,
    pub families: Vec<LetterFamily>,
}

/// What one letter says, paragraph by paragraph, before it is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LetterText {
    pub recipient: String,
    pub date: String,
    pub subject: String,
    pub opening: Vec<Vec<Run>>,
    pub qr_title: String,
    pub qr_note: Vec<Run>,
    pub typed_link: [String; 2],
    pub closing: Vec<Vec<Run>>,
    pub signature: String,
    pub footer: String,
}

/// The words of `family`'s letter.
pub(crate) fn letter_text(request: &LetterRequest, family: &LetterFamily) -> Result<LetterText> {
    let commune = request.commune_name.trim();
    let services = french_typography(&request.services.trim().to_lowercase());
    let known = match family.last_qf {
        None => "Nous n'avons pas encore le quotient familial de votre foyer.".to_string(),
        Some((annee, mois)) => format!(
            "Le dernier quotient familial que nous connaissons pour votre foyer est celui de {}.",
            month_label(annee, mois)
        ),
    };
    let opening = vec![
        vec![plain("Madame, Monsieur,")],
        vec![plain(&format!(
            "La commune de {commune} calcule le tarif de certains services ({services}) d'après \
             le quotient familial (QF) de la CAF ou de la MSA. {known}"
        ))],
        vec![
            plain("Vous pouvez nous le transmettre en quelques minutes, sans vous déplacer : "),
            bold("scannez le QR code ci-dessous"),
            plain(
                " avec l'appareil photo de votre téléphone, connectez-vous avec FranceConnect, \
                 vérifiez les informations et validez. Votre quotient familial nous parvient \
                 directement ; aucun papier n'est nécessaire.",
            ),
        ],
    ];
    let send = match request.contact_email.as_deref().map(str::trim) {
        Some(email) if !email.is_empty() => {
            format!("apportez-la à la mairie ou envoyez-la à {email}.")
        }
        _ => "apportez-la à la mairie.".to_string(),
    };
    let mut closing = vec![vec![
        bold("Pas de FranceConnect ? "),
        plain(&format!(
            "Présentez-vous à la mairie avec une pièce d'identité : nous consulterons votre \
             quotient familial avec vous. Vous pouvez aussi télécharger votre attestation de \
             quotient familial sur caf.fr ou sur le site de la MSA, puis {send}"
        )),
    ]];
    if let (true, Some(email)) = (request.refreshes, request.contact_email.as_deref()) {
        closing.push(vec![
            bold("Bon à savoir : "),
            plain(&format!(
                "la mairie pourra ensuite actualiser votre quotient familial auprès de la CAF ou \
                 de la MSA, pour que votre tarif suive votre situation. Vous pouvez le refuser à \
                 tout moment en écrivant à {}.",
                email.trim()
            )),
        ]);
    }
    closing.push(vec![plain(
        "Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.",
    )]);
    let link = printed_link(&request.siret)?;
    Ok(LetterText {
        recipient: family.name.trim().to_string(),
        date: french_typography(&format!("Le {}", date_label(request.date))),
        subject: french_typography("Objet : votre quotient familial pour les tarifs de la commune"),
        opening,
        qr_title: french_typography("Votre QR code personnel"),
        qr_note: vec![plain(
            "Il est propre à votre foyer : grâce à lui, votre envoi est rattaché directement à \
             votre dossier à la mairie. Merci de ne pas le donner à une autre famille. Sans \
             appareil photo, tapez cette adresse :",
        )],
        typed_link: [
            link,
            format!("?external_id={}", checked_code(&family.external_id)?),
        ],
        closing,
        signature: french_typography(&format!("La mairie de {commune}")),
        footer: french_typography(
            "Service public gratuit de l'État (quotient-familial.numerique.gouv.fr). Vos \
             données sont transmises uniquement à votre mairie.",
        ),
    })
}

/// Checks a mailing before anything is drawn.
fn validate(request: &LetterRequest) -> Result<()> {
    if request.families.is_empty() {
        return Err(Error::validation(
            "Aucune famille n'est choisie : il n'y a pas de lettre à imprimer.",
        ));
    }
    if request.families.len() > MAX_LETTERS {
        return Err(Error::validation(format!(
            "{} lettres d'un coup, c'est trop pour une impression : choisissez au plus \
             {MAX_LETTERS} familles à la fois.",
            request.families.len()
        )));
    }
    if request.commune_name.trim().is_empty() {
        return Err(Error::validation(
            "Le nom de la commune est obligatoire pour les lettres.",
        ));
    }
    form_url(&request.siret)?;
    Ok(())
}

/// Writes paragraphs from `top` at `size` points within `width` mm from `left`; returns the
/// baseline after the last line.
#[allow(clippy::too_many_arguments)]
fn paragraphs_ops(
    ops: &mut Vec<Op>,
    frame: &Frame,
    face: &Type<'_>,
    paragraphs: &[Vec<Run>],
    (left, width): (f32, f32),
    top: f32,
    size: f32,
    gap: f32,
) -> f32 {
    let leading = size * 0.47;
    let mut baseline = top;
    for paragraph in paragraphs {
        for line in wrap(paragraph, width, size, face) {
            line_ops(ops, frame, face, &line, left, baseline, size);
            baseline += leading;
        }
        baseline += gap;
    }
    baseline - gap
}

/// One letter's page.
fn letter_ops(
    frame: &Frame,
    face: &Type<'_>,
    request: &LetterRequest,
    family: &LetterFamily,
    logo: Option<(&Logo, &XObjectId)>,
) -> Result<Vec<Op>> {
    let text = letter_text(request, family)?;
    let matrix = QrMatrix::encode(&personal_url(&request.siret, &family.external_id)?)?;
    let width = GRID_WIDTH - 2.0 * MARGIN;
    let mut ops = vec![Op::SetFillColor { col: black() }];
    if let Some((logo, id)) = logo {
        logo_ops(&mut ops, frame, logo, id);
    }
    let name = [bold(request.commune_name.trim())];
    let mut baseline = paragraphs_ops(
        &mut ops,
        frame,
        face,
        &[name.to_vec()],
        (MARGIN, 90.0),
        27.0,
        14.0,
        0.0,
    );
    if let Some(email) = request.contact_email.as_deref() {
        ops.push(Op::SetFillColor { col: grey() });
        baseline += 5.5;
        line_ops(
            &mut ops,
            frame,
            face,
            &[(email.trim().to_string(), false)],
            MARGIN,
            baseline,
            9.5,
        );
        ops.push(Op::SetFillColor { col: black() });
    }
    // The recipient sits where a window envelope shows it (DL, window on the right).
    let recipient = [
        vec![plain("À l'attention de la famille")],
        vec![bold(&text.recipient)],
    ];
    paragraphs_ops(
        &mut ops,
        frame,
        face,
        &recipient,
        (110.0, 85.0),
        52.0,
        12.0,
        0.5,
    );
    line_ops(
        &mut ops,
        frame,
        face,
        &[(text.date.clone(), false)],
        110.0,
        74.0,
        10.5,
    );
    line_ops(
        &mut ops,
        frame,
        face,
        &[(text.subject.clone(), true)],
        MARGIN,
        88.0,
        11.0,
    );
    let after = paragraphs_ops(
        &mut ops,
        frame,
        face,
        &text.opening,
        (MARGIN, width),
        98.0,
        10.5,
        2.5,
    );
    let (qr_left, qr_top) = (LETTER_QR_LEFT, after + 8.0);
    qr_ops(&mut ops, frame, &matrix, (qr_left, qr_top), LETTER_QR_MM);
    // Beside the QR, clear of its quiet zone.
    let quiet = LETTER_QR_MM / matrix.width as f32 * QUIET_ZONE as f32;
    let side_left = qr_left + LETTER_QR_MM + quiet + 4.0;
    let side_width = GRID_WIDTH - MARGIN - side_left;
    ops.push(Op::SetFillColor { col: black() });
    line_ops(
        &mut ops,
        frame,
        face,
        &[(text.qr_title.clone(), true)],
        side_left,
        qr_top + 5.0,
        12.0,
    );
    let mut beside = paragraphs_ops(
        &mut ops,
        frame,
        face,
        std::slice::from_ref(&text.qr_note),
        (side_left, side_width),
        qr_top + 12.0,
        10.0,
        0.0,
    );
    // The link is one long word: it is made smaller, never broken, to stay within the page.
    let mut link_size = 10.0;
    while link_size > 7.0
        && text
            .typed_link
            .iter()
            .any(|part| face.width(part, true, link_size) > side_width)
    {
        link_size -= 0.5;
    }
    for part in &text.typed_link {
        beside += link_size * 0.55;
        line_ops(
            &mut ops,
            frame,
            face,
            &[(part.clone(), true)],
            side_left,
            beside,
            link_size,
        );
    }
    let below = (qr_top + LETTER_QR_MM + quiet).max(beside) + 9.0;
    let end = paragraphs_ops(
        &mut ops,
        frame,
        face,
        &text.closing,
        (MARGIN, width),
        below,
        10.5,
        2.5,
    );
    line_ops(
        &mut ops,
        frame,
        face,
        &[(text.signature.clone(), true)],
        110.0,
        end + 12.0,
        11.0,
    );
    ops.push(Op::SetFillColor { col: grey() });
    paragraphs_ops(
        &mut ops,
        frame,
        face,
        &[vec![plain(&text.footer)]],
        (MARGIN, width),
        284.0,
        8.0,
        0.0,
    );
    Ok(ops)
}

/// The letters of `request`, one A4 page per family, as a PDF file's bytes.
pub fn render_letters(request: &LetterRequest) -> Result<Vec<u8>> {
    validate(request)?;
    let fonts = fonts()?;
    let title = format!(
        "Lettres quotient familial — {}",
        request.commune_name.trim()
    );
    let mut document = PdfDocument::new(&title);
    let face = Type {
        fonts,
        regular: document.add_font(&fonts.regular),
        bold: document.add_font(&fonts.bold),
    };
    let logo = request
        .logo
        .as_ref()
        .map(|logo| (logo, document.add_image(&logo.raw_image())));
    let frame = Frame {
        origin: (0.0, 0.0),
        scale: 1.0,
        page_height: 297.0,
    };
    let pages = request
        .families
        .iter()
        .map(|family| {
            let logo = logo.as_ref().map(|(logo, id)| (*logo, id));
            let ops = letter_ops(&frame, &face, request, family, logo)?;
            Ok(PdfPage::new(Mm(210.0), Mm(297.0), ops))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut warnings = Vec::new();
    let bytes = document
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        return Err(Error::new(
            Code::Internal,
            "Le PDF des lettres n'a pas pu être fabriqué.",
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIRET: &str = "21040107100019";
    const CODE: &str = "0123456789abcdefghjkmnpqrs";

    fn request(families: Vec<LetterFamily>) -> LetterRequest {
        LetterRequest {
            commune_name: "Majastres".into(),
            siret: SIRET.into(),
            services: "Cantine, garderie".into(),
            contact_email: Some("mairie@majastres.fr".into()),
            refreshes: true,
            date: jiff::civil::date(2026, 11, 1),
            logo: None,
            families,
        }
    }

    fn family(name: &str, last_qf: Option<(i32, i32)>) -> LetterFamily {
        LetterFamily {
            name: name.into(),
            external_id: CODE.into(),
            last_qf,
        }
    }

    fn flat(runs: &[Vec<Run>]) -> String {
        runs.iter()
            .map(|runs| runs.iter().map(|run| run.text.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_personal_link_is_the_posters_with_the_familys_code() {
        assert_eq!(
            personal_url(SIRET, CODE).unwrap(),
            format!(
                "https://quotient-familial.numerique.gouv.fr/collectivites/{SIRET}\
                 ?external_id={CODE}"
            )
        );
        assert!(personal_url(SIRET, "DUPONT").is_err());
        assert!(personal_url("123", CODE).is_err());
    }

    #[test]
    fn the_letter_says_whether_a_qf_is_known_and_how_to_refuse_the_refresh() {
        let request = request(vec![]);
        let none = letter_text(&request, &family("DUPONT", None)).unwrap();
        assert!(flat(&none.opening).contains("pas encore le quotient familial"));
        let old = letter_text(&request, &family("DUPONT", Some((2025, 3)))).unwrap();
        assert!(flat(&old.opening).contains("celui de mars 2025."));
        assert!(
            flat(&old.closing).contains("refuser à tout moment en écrivant à mairie@majastres.fr")
        );
        assert_eq!(old.date, "Le 1er novembre 2026");
        assert_eq!(old.typed_link[1], format!("?external_id={CODE}"));

        let mut quiet = request.clone();
        quiet.refreshes = false;
        let text = letter_text(&quiet, &family("DUPONT", None)).unwrap();
        assert!(!flat(&text.closing).contains("refuser"));
    }

    #[test]
    fn a_mailing_has_one_page_per_family_and_refuses_an_empty_one() {
        let error = render_letters(&request(vec![])).unwrap_err();
        assert_eq!(error.code, Code::Validation);
        let pdf = render_letters(&request(vec![
            family("DUPONT", None),
            family("MARTIN – LEROY", Some((2026, 1))),
            family("ÉLOÏSE D'ARTAGNAN", None),
        ]))
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(super::super::raster::page_count(&pdf).unwrap(), 3);
    }

    #[test]
    fn month_and_date_labels_are_french() {
        assert_eq!(month_label(2026, 8), "août 2026");
        assert_eq!(
            date_label(jiff::civil::date(2026, 2, 14)),
            "14 février 2026"
        );
    }
}
