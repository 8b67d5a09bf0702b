//! The words: the poster's paragraphs, the kit's website and e-mail texts, French typography.
//!
//! Our own wording of the official kit's message (users-and-peers.md §2.1, §2.3): no State logo,
//! no Marianne, no DSFR. The opt-out sentence appears only when the commune refreshes QFs.

use super::{printed_link, PosterRequest, Refresh};
use crate::error::Result;

/// No-break space, before `:` and inside « ».
const NBSP: char = '\u{00A0}';
/// Narrow no-break space, before `;`, `!` and `?`.
const NNBSP: char = '\u{202F}';

/// Applies French typography: a no-break space before `:` and inside « », a narrow one before
/// `;`, `!` and `?`. Only spaces already typed are replaced (and missing ones added inside
/// « »), so `https://` and times like `9h30` are left alone.
pub fn french_typography(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (index, &c) in chars.iter().enumerate() {
        let next = chars.get(index + 1).copied();
        let previous = index.checked_sub(1).map(|i| chars[i]);
        match c {
            ' ' | NBSP | NNBSP if matches!(next, Some(':' | '»')) => out.push(NBSP),
            ' ' | NBSP | NNBSP if matches!(next, Some(';' | '!' | '?')) => out.push(NNBSP),
            ' ' | NBSP | NNBSP if previous == Some('«') => out.push(NBSP),
            '»' if !matches!(previous, Some(' ' | NBSP | NNBSP) | None) => {
                out.push(NBSP);
                out.push('»');
            }
            '«' => {
                out.push('«');
                if !matches!(next, Some(' ' | NBSP | NNBSP) | None) {
                    out.push(NBSP);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A piece of a paragraph, bold or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub bold: bool,
}

pub fn plain(text: &str) -> Run {
    Run {
        text: french_typography(text),
        bold: false,
    }
}

pub fn bold(text: &str) -> Run {
    Run {
        text: french_typography(text),
        bold: true,
    }
}

/// The poster's body below the QR code, paragraph by paragraph, each with a marker (`1.`…) or
/// none.
pub(crate) struct Body {
    pub steps: Vec<Vec<Run>>,
    pub good_to_know: Option<Vec<Run>>,
    pub no_franceconnect: Vec<Run>,
    pub footer: String,
}

pub(crate) fn headline() -> String {
    french_typography("Votre quotient familial, transmis en 4 minutes depuis votre téléphone")
}

pub(crate) fn scan_prompt() -> String {
    french_typography("Scannez ce code avec l'appareil photo de votre téléphone")
}

pub(crate) fn link_line(request: &PosterRequest) -> Result<String> {
    Ok(french_typography(&format!(
        "Lien direct : {}",
        printed_link(&request.siret)?
    )))
}

pub(crate) fn body(request: &PosterRequest) -> Body {
    let commune = request.commune_name.trim();
    let steps = vec![
        vec![
            plain("Connectez-vous avec "),
            bold("FranceConnect"),
            plain(" (compte impots.gouv.fr, ameli.fr, La Poste, MSA…)."),
        ],
        vec![
            plain(
                "Vérifiez les informations affichées : votre identité et votre quotient \
                 familial ",
            ),
            bold("CAF ou MSA"),
            plain("."),
        ],
        vec![plain(&format!(
            "Validez : la mairie de {commune} les reçoit directement. Plus besoin d'attestation \
             papier."
        ))],
    ];
    let good_to_know = request.refresh.as_ref().map(|Refresh { contact_email }| {
        vec![
            bold("Bon à savoir : "),
            plain(&format!(
                "la mairie pourra actualiser votre quotient familial pour que votre tarif suive \
                 votre situation. Vous pouvez refuser cette actualisation à tout moment en \
                 écrivant à {} ; il faudra alors nous remettre vos attestations.",
                contact_email.trim()
            )),
        ]
    });
    let send = match &request.contact_email {
        Some(email) => format!(
            "apportez-la au guichet de la mairie ou envoyez-la à {}.",
            email.trim()
        ),
        None => "apportez-la au guichet de la mairie.".to_string(),
    };
    let no_franceconnect = vec![
        bold("Pas de FranceConnect ? "),
        plain(&format!(
            "Téléchargez votre attestation de quotient familial sur caf.fr ou sur le site de la \
             MSA, puis {send}"
        )),
    ];
    Body {
        steps,
        good_to_know,
        no_franceconnect,
        footer: french_typography(
            "Service public gratuit opéré par l'État (DINUM). Vos données sont transmises \
             uniquement à votre mairie.",
        ),
    }
}

/// What the website and e-mail texts need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitText<'a> {
    pub commune_name: &'a str,
    pub siret: &'a str,
    /// The services, e.g. [`super::DEFAULT_SERVICES`].
    pub services: &'a str,
    /// Where families write (attestations, opt-out).
    pub contact_email: Option<&'a str>,
    /// `Some(period)` when the commune refreshes QFs, e.g. "chaque trimestre".
    pub refresh_period: Option<&'a str>,
}

fn opt_out(kit: &KitText<'_>) -> Option<String> {
    kit.refresh_period.map(|period| {
        let write_to = kit
            .contact_email
            .map(|email| format!("en écrivant à {email}"))
            .unwrap_or_else(|| "auprès de la mairie".into());
        format!(
            "Avec ce service, vous n'avez plus à fournir de justificatif {period} : la mairie \
             actualise votre quotient familial à partir de votre identité. Vous pouvez refuser \
             cette actualisation à tout moment {write_to} ; il faudra alors nous transmettre \
             régulièrement vos attestations CAF ou MSA."
        )
    })
}

fn alternative(kit: &KitText<'_>) -> String {
    let send = kit
        .contact_email
        .map(|email| format!("envoyez-la à {email} ou apportez-la"))
        .unwrap_or_else(|| "apportez-la".into());
    format!(
        "Pas de FranceConnect ? Téléchargez votre attestation de quotient familial sur caf.fr \
         (https://www.caf.fr) ou sur le site de la MSA (https://www.msa.fr), puis {send} au \
         guichet de la mairie."
    )
}

/// The text for the commune's website (kit slides 2–3), with the commune's own link.
pub fn website_text(kit: &KitText<'_>) -> Result<String> {
    let url = super::form_url(kit.siret)?;
    let mut paragraphs = vec![
        format!("Transmettre votre quotient familial — {}", kit.services),
        format!(
            "Pour calculer votre tarif, la mairie de {} a besoin de votre quotient familial CAF \
             ou MSA. Transmettez-le en quelques minutes avec le formulaire national, grâce à \
             FranceConnect : votre identité et votre quotient familial sont envoyés directement \
             à la mairie, sans attestation papier.",
            kit.commune_name
        ),
        format!("Accéder au formulaire : {url}"),
    ];
    paragraphs.extend(opt_out(kit));
    paragraphs.push(alternative(kit));
    Ok(french_typography(&paragraphs.join("\n\n")))
}

/// The e-mail to families (kit slides 4–5): a subject line, then the body.
pub fn email_text(kit: &KitText<'_>) -> Result<String> {
    let url = super::form_url(kit.siret)?;
    let mut paragraphs = vec![
        format!(
            "Objet : {} — transmettez votre quotient familial en ligne",
            kit.services
        ),
        "Madame, Monsieur,".to_string(),
        format!(
            "Pour calculer le tarif des services ({}), la mairie de {} a besoin de votre \
             quotient familial CAF ou MSA. Vous pouvez désormais nous le transmettre en \
             4 minutes, depuis votre téléphone ou votre ordinateur, avec FranceConnect :\n{url}",
            kit.services.to_lowercase(),
            kit.commune_name
        ),
    ];
    paragraphs.extend(opt_out(kit));
    paragraphs.push(alternative(kit));
    paragraphs.push(format!(
        "Bien cordialement,\nLa mairie de {}",
        kit.commune_name
    ));
    Ok(french_typography(&paragraphs.join("\n\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_typography_uses_no_break_spaces() {
        assert_eq!(
            french_typography("Lien : https://a.fr ; oui ! Pas de FranceConnect ?"),
            "Lien\u{a0}: https://a.fr\u{202f}; oui\u{202f}! Pas de FranceConnect\u{202f}?"
        );
        assert_eq!(
            french_typography("le «formulaire» et « lien »"),
            "le «\u{a0}formulaire\u{a0}» et «\u{a0}lien\u{a0}»"
        );
        assert_eq!(
            french_typography("https://x.fr à 9h30"),
            "https://x.fr à 9h30"
        );
    }

    #[test]
    fn kit_texts_carry_the_link_and_the_opt_out_only_when_refreshing() {
        let mut kit = KitText {
            commune_name: "Saint-Étienne-de-Tinée",
            siret: "21040107100019",
            services: super::super::DEFAULT_SERVICES,
            contact_email: Some("mairie@example.fr"),
            refresh_period: None,
        };
        let url = "https://quotient-familial.numerique.gouv.fr/collectivites/21040107100019";
        let site = website_text(&kit).unwrap();
        assert!(site.contains(url), "{site}");
        assert!(!site.contains("refuser"), "{site}");
        assert!(site.contains("Pas de FranceConnect\u{202f}?"), "{site}");
        kit.refresh_period = Some("chaque trimestre");
        let mail = email_text(&kit).unwrap();
        assert!(mail.starts_with("Objet\u{a0}: "), "{mail}");
        assert!(mail.contains(url) && mail.contains("refuser"), "{mail}");
        assert!(mail.contains("mairie@example.fr"), "{mail}");
    }
}
