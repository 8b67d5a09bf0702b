//! The poster that sends families to their commune's national form, and what goes with it.
//!
//! Everything here is a pure function of its arguments (no clock, no environment, no store):
//! - [`form_url`]: the commune's page on formulaire-qf, exactly
//!   `https://quotient-familial.numerique.gouv.fr/collectivites/{SIRET}` (hubee.md §10), the
//!   SIRET checked as everywhere else ([`crate::identifiers::parse_siret`]);
//! - [`QrMatrix`]: its QR code, error correction level H, quiet zone of [`QUIET_ZONE`] modules;
//! - [`render`]: the print-ready PDF of a [`PosterRequest`] in each [`Format`] (`pdf.rs`), the QR
//!   drawn as vector shapes, DejaVu Sans embedded as a subset, text extractable;
//! - [`qr_png`], [`qr_svg`]: the QR alone for the commune's website and bulletin;
//! - [`website_text`], [`email_text`]: the kit's ready-to-paste texts, in our own words
//!   (users-and-peers.md §2), with French typography ([`french_typography`]);
//! - [`check_listed`]: whether the commune is open on the national form, from its public list,
//!   the base URL given by the caller.
//!
//! An optional commune logo (PNG or JPEG, checked by [`Logo::from_bytes`]) is drawn in the
//! top-left corner.
//!
//! Two modules use the store and are shared by the command line and the Affiche screen, so that
//! neither face holds a rule: [`settings`] keeps each commune's poster settings and logo, and
//! [`studio`] builds a request from them, draws the preview from the PDF itself (`raster.rs`,
//! hayro) and writes the PDF or the QR alone, journaling every file made.

pub mod letter;
pub mod mailing;
pub(crate) mod pdf;
pub mod raster;
pub mod settings;
pub mod studio;
pub mod text;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Code, Error, Result};
use crate::identifiers;

pub use pdf::{render, Logo, LogoKind, Placement, LOGO_MAX_BYTES};
pub use text::{email_text, french_typography, website_text};

/// Where formulaire-qf is published; the launch may point elsewhere (tests).
pub const FORM_BASE_URL: &str = "https://quotient-familial.numerique.gouv.fr";

/// The host and path printed in clear under the QR, without the scheme.
const FORM_HOST: &str = "quotient-familial.numerique.gouv.fr";

/// Modules of white around the QR code (the standard's minimum).
pub const QUIET_ZONE: usize = 4;

/// The services a commune collects the QF for, when the agent does not say.
pub const DEFAULT_SERVICES: &str = "Cantine, garderie, centre de loisirs";

/// The URL the QR code encodes and the poster prints: no parameter, ever (hubee.md §10: the
/// site's own QR encodes the same).
pub fn form_url(siret: &str) -> Result<String> {
    let siret = identifiers::parse_siret(siret)?;
    Ok(format!("https://{FORM_HOST}/collectivites/{siret}"))
}

/// The same link as printed for people to type: without `https://`.
pub fn printed_link(siret: &str) -> Result<String> {
    let siret = identifiers::parse_siret(siret)?;
    Ok(format!("{FORM_HOST}/collectivites/{siret}"))
}

/// The paper sizes the poster comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
#[ts(export, rename = "PosterFormat")]
pub enum Format {
    /// A4 portrait, for the town hall's notice boards and counters.
    A4,
    /// A3 portrait, for the school gate and the canteen.
    A3,
    /// A5 portrait, a flyer.
    A5,
    /// Two A5 flyers on one A4 landscape page, with a cutting line.
    A5x2,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::A4, Format::A3, Format::A5, Format::A5x2];

    /// What the agent reads (journal detail, messages).
    pub fn label(self) -> &'static str {
        match self {
            Format::A4 => "A4",
            Format::A3 => "A3",
            Format::A5 => "A5",
            Format::A5x2 => "2 flyers A5 sur une page A4",
        }
    }

    /// The smallest printed side of the QR code (dark modules, quiet zone excluded) in mm, from
    /// the issue: 8 cm on A4, 12 cm on A3; a flyer is read from close by.
    pub fn min_qr_mm(self) -> f32 {
        match self {
            Format::A4 => 80.0,
            Format::A3 => 120.0,
            Format::A5 | Format::A5x2 => 50.0,
        }
    }

    /// The page size in mm (width, height).
    pub fn page_mm(self) -> (f32, f32) {
        match self {
            Format::A4 => (210.0, 297.0),
            Format::A3 => (297.0, 420.0),
            Format::A5 => (148.0, 210.0),
            Format::A5x2 => (297.0, 210.0),
        }
    }
}

/// Whether the commune refreshes families' QF itself, which the poster must say (with the
/// address to write to for opting out) only when it is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    /// Where families write to refuse the refresh.
    pub contact_email: String,
}

/// Everything a poster says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PosterRequest {
    pub format: Format,
    pub commune_name: String,
    pub siret: String,
    /// The services concerned, as the agent lists them ([`DEFAULT_SERVICES`] by default).
    pub services: String,
    /// Where families send an attestation when they have no FranceConnect; `None`: the counter
    /// only.
    pub contact_email: Option<String>,
    /// `Some` when the commune refreshes QFs: the opt-out sentence is printed.
    pub refresh: Option<Refresh>,
    /// When it is made (the PDF's dates; the domain never reads the clock).
    pub date: jiff::Timestamp,
    /// The commune's logo, already checked.
    #[serde(skip)]
    pub logo: Option<Logo>,
}

impl PosterRequest {
    /// A request with the default services and no e-mail.
    pub fn new(
        format: Format,
        commune_name: &str,
        siret: &str,
        date: jiff::Timestamp,
    ) -> PosterRequest {
        PosterRequest {
            format,
            commune_name: commune_name.trim().to_string(),
            siret: siret.to_string(),
            services: DEFAULT_SERVICES.to_string(),
            contact_email: None,
            refresh: None,
            date,
            logo: None,
        }
    }

    /// Checks what the agent typed: a valid SIRET, a name, services, plausible e-mails.
    pub fn validate(&self) -> Result<()> {
        identifiers::parse_siret(&self.siret)?;
        if self.commune_name.trim().is_empty() {
            return Err(Error::validation(
                "Le nom de la commune est obligatoire pour l'affiche.",
            ));
        }
        if self.commune_name.chars().count() > 80 {
            return Err(Error::validation(
                "Le nom de la commune est trop long pour l'affiche (80 caractères au plus).",
            ));
        }
        if self.services.chars().count() > 120 {
            return Err(Error::validation(
                "La liste des services est trop longue pour l'affiche (120 caractères au plus).",
            ));
        }
        let emails = self
            .contact_email
            .iter()
            .chain(self.refresh.as_ref().map(|refresh| &refresh.contact_email));
        for email in emails {
            let email = email.trim();
            let plausible = email.len() <= 120
                && !email.contains(char::is_whitespace)
                && email
                    .split_once('@')
                    .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
            if !plausible {
                return Err(Error::validation(format!(
                    "L'adresse e-mail « {email} » ne semble pas valide (par exemple \
                     mairie@majastres.fr)."
                )));
            }
        }
        Ok(())
    }
}

/// A QR code as a grid of modules, without its quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    /// Modules per side.
    pub width: usize,
    /// Row by row, `true` for a dark module.
    pub dark: Vec<bool>,
}

impl QrMatrix {
    /// The QR code of `text` at error correction level H (as formulaire-qf makes it).
    pub fn encode(text: &str) -> Result<QrMatrix> {
        let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::H).map_err(
            |error| {
                Error::new(Code::Internal, "Le QR code n'a pas pu être fabriqué.")
                    .with_source(error)
            },
        )?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|color| color == qrcode::Color::Dark)
            .collect();
        Ok(QrMatrix { width, dark })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Horizontal runs of dark modules: `(row, first column, length)`. Drawing runs rather than
    /// single modules keeps the PDF and the SVG small and seamless.
    pub fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }

    /// How many modules are dark.
    pub fn dark_count(&self) -> usize {
        self.dark.iter().filter(|dark| **dark).count()
    }
}

/// The QR code of the commune's link as a PNG, black on white, quiet zone included, each module
/// `module_px` pixels (20 px gives about 1 100 px, enough for a bulletin printed at 300 dpi).
pub fn qr_png(siret: &str, module_px: u32) -> Result<Vec<u8>> {
    let matrix = QrMatrix::encode(&form_url(siret)?)?;
    let module_px = module_px.clamp(1, 100) as usize;
    let side = (matrix.width + 2 * QUIET_ZONE) * module_px;
    let mut pixels = vec![255u8; side * side];
    for (row, column, length) in matrix.dark_runs() {
        let top = (row + QUIET_ZONE) * module_px;
        let left = (column + QUIET_ZONE) * module_px;
        for y in top..top + module_px {
            pixels[y * side + left..y * side + left + length * module_px].fill(0);
        }
    }
    let mut bytes = Vec::new();
    let png_error = |error: png::EncodingError| {
        Error::new(
            Code::Internal,
            "L'image PNG du QR code n'a pas pu être écrite.",
        )
        .with_source(error)
    };
    {
        let mut encoder = png::Encoder::new(&mut bytes, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&pixels).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
    }
    Ok(bytes)
}

/// The QR code of the commune's link as SVG: one path of dark runs on a white square, the quiet
/// zone included, one user unit per module (the website scales it).
pub fn qr_svg(siret: &str) -> Result<String> {
    let url = form_url(siret)?;
    let matrix = QrMatrix::encode(&url)?;
    let side = matrix.width + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (row, column, length) in matrix.dark_runs() {
        path.push_str(&format!(
            "M{} {}h{length}v1h-{length}z",
            column + QUIET_ZONE,
            row + QUIET_ZONE
        ));
    }
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\">\n\
         <title>{url}</title>\n\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\n\
         <path fill=\"#000\" d=\"{path}\"/>\n\
         </svg>\n",
        px = side * 8,
    ))
}

/// Whether the national form knows the commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "etat", content = "detail", rename_all = "snake_case")]
pub enum Listing {
    /// Open: the public list has this SIRET, under this name.
    Open { name: String },
    /// The list was read and this SIRET is not in it: the link would answer "Collectivité non
    /// trouvée".
    NotListed,
    /// The check could not be made (offline, site down, unexpected answer); why, in French.
    Unknown(String),
}

impl Listing {
    /// What the agent is told before printing.
    pub fn message(&self, siret: &str) -> String {
        match self {
            Listing::Open { name } => {
                format!("Le formulaire national est ouvert pour « {name} » (SIRET {siret}).")
            }
            Listing::NotListed => format!(
                "Attention : le SIRET {siret} n'est pas (encore) ouvert sur le formulaire \
                 national. Le lien de l'affiche mènerait à « Collectivité non trouvée ». \
                 Demandez l'ouverture du service sur API Particulier avant d'afficher."
            ),
            Listing::Unknown(reason) => format!(
                "La liste des communes ouvertes sur le formulaire national n'a pas pu être \
                 consultée ({reason}) : vérifiez que le lien ouvre bien la page de la commune \
                 avant d'afficher."
            ),
        }
    }
}

/// The listing as the window shows it: a state to branch on and the French sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ListingStatus {
    /// `open`, `not_listed` or `unknown` (offline, site down).
    pub state: ListingState,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ListingState {
    Open,
    NotListed,
    Unknown,
}

impl Listing {
    pub fn status(&self, siret: &str) -> ListingStatus {
        ListingStatus {
            state: match self {
                Listing::Open { .. } => ListingState::Open,
                Listing::NotListed => ListingState::NotListed,
                Listing::Unknown(_) => ListingState::Unknown,
            },
            message: self.message(siret),
        }
    }
}

#[derive(Deserialize)]
struct ListedCollectivity {
    #[serde(default)]
    name: String,
    siret: String,
}

/// Reads `GET {base_url}/api/collectivites` (public, no key: `[{"name","siret","code_cog"}]`,
/// active communes only; hubee.md §10) and says whether `siret` is in it.
pub async fn check_listed(
    network: &crate::network::Network,
    base_url: &str,
    siret: &str,
    timeout: Duration,
) -> Listing {
    let siret: String = siret.chars().filter(|c| !c.is_whitespace()).collect();
    let url = format!("{}/api/collectivites", base_url.trim_end_matches('/'));
    let client = match network.client(timeout) {
        Ok(client) => client,
        Err(_) => return Listing::Unknown("client HTTP indisponible".into()),
    };
    let response = match client
        .get(&url)
        .header("Accept", "application/json")
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) if error.is_timeout() => {
            return Listing::Unknown("le site n'a pas répondu à temps".into())
        }
        Err(_) => return Listing::Unknown("pas de connexion au site".into()),
    };
    if !response.status().is_success() {
        return Listing::Unknown(format!("le site a répondu {}", response.status().as_u16()));
    }
    match response.json::<Vec<ListedCollectivity>>().await {
        Ok(list) => match list.into_iter().find(|entry| entry.siret == siret) {
            Some(entry) => Listing::Open { name: entry.name },
            None => Listing::NotListed,
        },
        Err(_) => Listing::Unknown("réponse du site incompréhensible".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAJASTRES: &str = "21040107100019";

    #[test]
    fn the_url_is_exactly_the_sites_own() {
        assert_eq!(
            form_url("210 401 071 00019").unwrap(),
            "https://quotient-familial.numerique.gouv.fr/collectivites/21040107100019"
        );
        assert_eq!(
            printed_link(MAJASTRES).unwrap(),
            "quotient-familial.numerique.gouv.fr/collectivites/21040107100019"
        );
        assert!(form_url("21040107100018").is_err());
        assert!(form_url("abc").is_err());
    }

    #[test]
    fn the_qr_is_level_h_with_the_expected_version() {
        let matrix = QrMatrix::encode(&form_url(MAJASTRES).unwrap()).unwrap();
        // 72 bytes at level H: version 8, 49 modules (hubee.md §10).
        assert_eq!(matrix.width, 49);
        let runs: usize = matrix.dark_runs().iter().map(|run| run.2).sum();
        assert_eq!(runs, matrix.dark_count());
    }

    #[test]
    fn png_and_svg_have_the_quiet_zone() {
        let png = qr_png(MAJASTRES, 10).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().width, (49 + 8) * 10);
        let svg = qr_svg(MAJASTRES).unwrap();
        assert!(svg.contains("viewBox=\"0 0 57 57\""), "{svg}");
        assert!(
            svg.contains("M4 4h7"),
            "the finder pattern starts after the quiet zone"
        );
    }

    #[test]
    fn requests_are_checked() {
        let mut request = PosterRequest::new(
            Format::A4,
            "Majastres",
            MAJASTRES,
            jiff::Timestamp::UNIX_EPOCH,
        );
        request.validate().unwrap();
        request.contact_email = Some("mairie majastres".into());
        assert!(request.validate().is_err());
        request.contact_email = Some("mairie@majastres.fr".into());
        request.validate().unwrap();
        request.commune_name = " ".into();
        assert!(request.validate().is_err());
        let bad = PosterRequest::new(
            Format::A4,
            "Majastres",
            "21040107100018",
            jiff::Timestamp::UNIX_EPOCH,
        );
        assert!(bad.validate().is_err());
    }
}
