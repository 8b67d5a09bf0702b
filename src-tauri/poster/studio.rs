//! What the command line and the Affiche screen both do with a poster: build the request from a
//! commune and its settings, draw the preview, write the PDF or the QR alone, and journal every
//! file made (`journal::Action::Impression`) in the same transaction as the decision to make it.
//!
//! Like the rest of the domain, the time comes in as an argument and so does the list's base URL
//! ([`super::check_listed`]); the faces only choose where files go and who is printing.

use std::path::{Path, PathBuf};

use base64::Engine;
use jiff::Timestamp;
use rusqlite::{Connection, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::settings::{self, PosterSettings};
use super::{
    form_url, printed_link, qr_png, qr_svg, raster, render, Format, Logo, PosterRequest, Refresh,
};
use crate::communes::Commune;
use crate::error::{Code, Error, Result};
use crate::journal;
use crate::store::Store;

/// Pixels per module of the QR alone as PNG: about 1 100 px, enough for 300 dpi in a bulletin.
pub const QR_PNG_MODULE_PX: u32 = 20;

/// Width of the window's preview, in pixels (the page is shown smaller, sharp on HiDPI).
pub const PREVIEW_WIDTH: u32 = 900;

/// The commune a poster is for: a configured one, or a SIRET and a name typed on the command
/// line for a commune this PC does not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub siret: String,
    pub name: String,
    /// The configured commune, which the journal row names.
    pub commune_id: Option<i64>,
}

impl Target {
    pub fn of(commune: &Commune) -> Target {
        Target {
            siret: commune.siret.clone(),
            name: commune.name.clone(),
            commune_id: Some(commune.id),
        }
    }
}

/// The poster of `target` with `settings` and an optional logo file, checked.
pub fn request(
    target: &Target,
    format: Format,
    settings: &PosterSettings,
    logo: Option<&[u8]>,
    now: Timestamp,
) -> Result<PosterRequest> {
    let settings = settings.cleaned()?;
    let mut request = PosterRequest::new(format, &target.name, &target.siret, now);
    request.services = settings.services;
    request.contact_email = settings.contact_email.clone();
    if settings.refreshes {
        request.refresh = settings
            .contact_email
            .map(|contact_email| Refresh { contact_email });
    }
    request.logo = logo.map(Logo::from_bytes).transpose()?;
    request.validate()?;
    Ok(request)
}

/// The poster of a configured commune with `settings` (the form's, or the stored ones) and its
/// stored logo.
pub fn commune_request(
    conn: &Connection,
    commune: &Commune,
    format: Format,
    settings: Option<&PosterSettings>,
    now: Timestamp,
) -> Result<PosterRequest> {
    let stored;
    let settings = match settings {
        Some(settings) => settings,
        None => {
            stored = settings::get(conn, commune.id)?;
            &stored
        }
    };
    let logo = settings::logo(conn, commune.id)?;
    request(
        &Target::of(commune),
        format,
        settings,
        logo.as_ref().map(|logo| logo.bytes.as_slice()),
        now,
    )
}

/// The preview the window shows: the rendered PDF's first page and facts about the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PosterPreview {
    /// `data:image/png;base64,…`, the PDF itself rasterised.
    pub image: String,
    pub width: u32,
    pub height: u32,
    /// The PDF's size in bytes.
    pub pdf_bytes: u32,
    /// The link the QR code encodes.
    pub url: String,
    /// The link printed for people to type.
    pub printed_link: String,
}

/// Renders the poster and rasterises the very same bytes, `width` pixels wide.
pub fn preview(request: &PosterRequest, width: u32) -> Result<PosterPreview> {
    let pdf = render(request)?;
    let (image, width, height) = first_page_image(&pdf, width)?;
    Ok(PosterPreview {
        image,
        width,
        height,
        pdf_bytes: pdf.len() as u32,
        url: form_url(&request.siret)?,
        printed_link: printed_link(&request.siret)?,
    })
}

/// The first page of `pdf` as the window shows it: `data:image/png;base64,…`, its width and
/// height in pixels.
pub(super) fn first_page_image(pdf: &[u8], width: u32) -> Result<(String, u32, u32)> {
    let png = raster::first_page_png(pdf, width)?;
    let (png_width, png_height) = png_size(&png)?;
    let image = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    Ok((image, png_width, png_height))
}

fn png_size(png: &[u8]) -> Result<(u32, u32)> {
    let reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .map_err(|error| {
            Error::new(Code::Internal, "L'aperçu de l'affiche est illisible.").with_source(error)
        })?;
    Ok((reader.info().width, reader.info().height))
}

/// The QR code alone, for the commune's website and bulletin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum QrKind {
    Png,
    Svg,
}

impl QrKind {
    pub fn extension(self) -> &'static str {
        match self {
            QrKind::Png => "png",
            QrKind::Svg => "svg",
        }
    }

    fn label(self) -> &'static str {
        match self {
            QrKind::Png => "PNG",
            QrKind::Svg => "SVG",
        }
    }
}

/// A file made and journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Printed {
    /// Where it was written.
    pub path: String,
    pub bytes: u32,
    /// What it is, in French ("affiche A4", "QR code PNG").
    pub what: String,
}

/// Journals a file made for `target` (when this PC has a store) in `tx`.
fn journal_print(
    tx: &Transaction<'_>,
    target: &Target,
    agent: &str,
    (detail, reference): (&str, Option<&str>),
    now: Timestamp,
) -> Result<()> {
    let mut entry = journal::Entry::new(now, agent, journal::Action::Impression);
    entry.commune_id = target.commune_id;
    entry.reference = reference.map(str::to_string);
    entry.detail = Some(if target.commune_id.is_some() {
        detail.to_string()
    } else {
        format!("{detail}, SIRET {}", target.siret)
    });
    journal::append(tx, &entry).map(|_| ())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|error| cannot_write(path).with_source(error))?;
    }
    std::fs::write(path, bytes).map_err(|error| cannot_write(path).with_source(error))
}

fn cannot_write(path: &Path) -> Error {
    Error::new(
        Code::Storage,
        format!("Le fichier « {} » n'a pas pu être écrit.", path.display()),
    )
}

/// Writes `bytes` to `path` and journals it in one transaction: the row is appended first and
/// the file written before the commit, so a file that could not be written leaves no row.
/// Without a store (a command line on a PC not set up), the file is only written.
pub(crate) fn make(
    store: Option<&Store>,
    target: &Target,
    agent: &str,
    what: String,
    path: &Path,
    bytes: &[u8],
    now: Timestamp,
) -> Result<Printed> {
    make_about(store, target, agent, (what, None), path, bytes, now)
}

/// [`make`] for a file about one thing the journal row names in its reference (a family's
/// code, never a name).
pub(crate) fn make_about(
    store: Option<&Store>,
    target: &Target,
    agent: &str,
    (what, reference): (String, Option<&str>),
    path: &Path,
    bytes: &[u8],
    now: Timestamp,
) -> Result<Printed> {
    match store {
        Some(store) => store.write(|tx| {
            journal_print(tx, target, agent, (&what, reference), now)?;
            write_file(path, bytes)
        })?,
        None => write_file(path, bytes)?,
    }
    Ok(Printed {
        path: path.display().to_string(),
        bytes: bytes.len() as u32,
        what,
    })
}

/// Renders the poster of `request` into `path` (printing or saving it) and journals it.
pub fn print_poster(
    store: Option<&Store>,
    target: &Target,
    request: &PosterRequest,
    path: &Path,
    agent: &str,
    now: Timestamp,
) -> Result<Printed> {
    let pdf = render(request)?;
    let what = format!("affiche {}", request.format.label());
    make(store, target, agent, what, path, &pdf, now)
}

/// Writes the QR code alone into `path` and journals it.
pub fn print_qr(
    store: Option<&Store>,
    target: &Target,
    kind: QrKind,
    path: &Path,
    agent: &str,
    now: Timestamp,
) -> Result<Printed> {
    let bytes = match kind {
        QrKind::Png => qr_png(&target.siret, QR_PNG_MODULE_PX)?,
        QrKind::Svg => qr_svg(&target.siret)?.into_bytes(),
    };
    let what = format!("QR code {}", kind.label());
    make(store, target, agent, what, path, &bytes, now)
}

/// Keeps only letters, digits and dashes, for a file name that says what it holds.
fn file_stem(text: &str) -> String {
    let folded = crate::text::fold(text);
    let mut stem = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            stem.push(c);
        } else if !stem.ends_with('-') && !stem.is_empty() {
            stem.push('-');
        }
    }
    stem.trim_end_matches('-').to_string()
}

/// A new file name in `dir` for a poster or a QR code of `target`
/// (`affiche-majastres-a4.pdf`, `qr-code-majastres.svg`), numbered when the name is taken.
pub fn file_path(dir: &Path, target: &Target, made: Made) -> PathBuf {
    let commune = file_stem(&target.name);
    let (stem, extension) = match made {
        Made::Poster(format) => (
            format!("affiche-{commune}-{}", format!("{format:?}").to_lowercase()),
            "pdf",
        ),
        Made::Qr(kind) => (format!("qr-code-{commune}"), kind.extension()),
        Made::Letters => (format!("lettres-qf-{commune}"), "pdf"),
        Made::Attestation { code } => (
            format!("attestation-qf-{commune}-{}", file_stem(&code)),
            "pdf",
        ),
        Made::Named { stem, extension } => (format!("{}-{commune}", file_stem(&stem)), extension),
    };
    let mut path = dir.join(format!("{stem}.{extension}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.{extension}"));
        n += 1;
    }
    path
}

/// What a file holds, for its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    Poster(Format),
    Qr(QrKind),
    /// A mailing of personal letters.
    Letters,
    /// A family's attestation of its QF, named with the family's code (never its name).
    Attestation {
        code: String,
    },
    /// A document about the commune (an RGPD register entry, a bordereau), named
    /// `{stem}-{commune}.{extension}`.
    Named {
        stem: String,
        extension: &'static str,
    },
}

/// The kit's ready-to-paste texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct KitTexts {
    pub website: String,
    pub email: String,
}

/// The period the kit's texts give when the commune refreshes QFs and the agent did not say.
pub const DEFAULT_REFRESH_PERIOD: &str = "chaque année";

/// The website and e-mail texts for `target` with `settings`; `refresh_period` replaces
/// [`DEFAULT_REFRESH_PERIOD`] when the commune refreshes QFs.
pub fn kit_texts(
    target: &Target,
    settings: &PosterSettings,
    refresh_period: Option<&str>,
) -> Result<KitTexts> {
    let settings = settings.cleaned()?;
    let refresh_period = match refresh_period {
        Some(period) => Some(period),
        None if settings.refreshes => Some(DEFAULT_REFRESH_PERIOD),
        None => None,
    };
    let kit = super::text::KitText {
        commune_name: &target.name,
        siret: &target.siret,
        services: &settings.services,
        contact_email: settings.contact_email.as_deref(),
        refresh_period,
    };
    Ok(KitTexts {
        website: super::website_text(&kit)?,
        email: super::email_text(&kit)?,
    })
}

// ----------------------------------------------------------------------------------------------
// The Affiche screen's actions on a configured commune, one function each: the window's commands
// only add who is at the desk and where files go.
// ----------------------------------------------------------------------------------------------

/// What the Affiche screen opens with for a commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PosterStudio {
    pub settings: PosterSettings,
    pub logo: Option<settings::LogoInfo>,
}

pub fn load(conn: &Connection, commune_id: i64) -> Result<PosterStudio> {
    crate::communes::get(conn, commune_id)?;
    Ok(PosterStudio {
        settings: settings::get(conn, commune_id)?,
        logo: settings::logo_info(conn, commune_id)?,
    })
}

/// Saves the form's settings for the commune and returns the preview of its poster: the screen
/// calls it whenever a field changes, so the settings are remembered as the agent goes.
pub fn update(
    store: &Store,
    commune_id: i64,
    format: Format,
    form: &PosterSettings,
    width: u32,
    now: Timestamp,
) -> Result<PosterPreview> {
    let request = store.write(|tx| {
        let commune = crate::communes::get(tx, commune_id)?;
        let saved = settings::save(tx, commune_id, form, now)?;
        commune_request(tx, &commune, format, Some(&saved), now)
    })?;
    preview(&request, width)
}

/// Asks where to write, shown the suggested path; `None` when the agent cancelled.
pub type ChooseFile<'a> = Box<dyn FnOnce(&Path) -> Option<PathBuf> + 'a>;

/// Where a poster is written.
pub enum Destination<'a> {
    /// A new file in this folder, named after the commune and the format.
    NewFileIn(&'a Path),
    /// Where the agent chooses ("Enregistrer sous…"): `choose` is shown the name suggested in
    /// `suggested_in` and gives the path, or `None` when the agent cancelled. It is called
    /// outside any transaction, since a dialog may stay open for long.
    Chosen {
        suggested_in: &'a Path,
        choose: ChooseFile<'a>,
    },
}

impl<'a> Destination<'a> {
    /// Exactly `path`, as the command line names it: nothing to choose, nothing to cancel.
    pub fn exactly(path: &'a Path) -> Destination<'a> {
        let chosen = path.to_path_buf();
        Destination::Chosen {
            suggested_in: path.parent().unwrap_or(Path::new(".")),
            choose: Box::new(move |_| Some(chosen)),
        }
    }
}

/// What a print to [`Destination::exactly`] wrote: such a print is never cancelled.
pub fn written_exactly(printed: Option<Printed>) -> Result<Printed> {
    printed.ok_or_else(|| Error::validation("Aucun fichier n'a été choisi."))
}

/// Saves the form's settings, then writes the commune's poster to `destination` and journals
/// it for `agent`. `None` when the agent cancelled the choice of a file: nothing is written nor
/// journaled then (the settings stay saved).
pub fn save_poster(
    store: &Store,
    commune_id: i64,
    format: Format,
    form: &PosterSettings,
    destination: Destination<'_>,
    agent: &str,
    now: Timestamp,
) -> Result<Option<Printed>> {
    let (target, request) = store.write(|tx| {
        let commune = crate::communes::get(tx, commune_id)?;
        let saved = settings::save(tx, commune_id, form, now)?;
        let request = commune_request(tx, &commune, format, Some(&saved), now)?;
        Ok((Target::of(&commune), request))
    })?;
    let path = match destination {
        Destination::NewFileIn(dir) => file_path(dir, &target, Made::Poster(format)),
        Destination::Chosen {
            suggested_in,
            choose,
        } => {
            let suggested = file_path(suggested_in, &target, Made::Poster(format));
            match choose(&suggested) {
                Some(path) => with_extension(path, "pdf"),
                None => return Ok(None),
            }
        }
    };
    print_poster(Some(store), &target, &request, &path, agent, now).map(Some)
}

/// `path` ending in `.extension`: a name typed without it still opens in the right program.
pub(crate) fn with_extension(path: PathBuf, extension: &str) -> PathBuf {
    let has_it = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(extension));
    if has_it {
        path
    } else {
        let mut name = path.into_os_string();
        name.push(".");
        name.push(extension);
        PathBuf::from(name)
    }
}

/// Writes the commune's QR code alone as a new file in `dir` and journals it for `agent`.
pub fn save_qr(
    store: &Store,
    commune_id: i64,
    kind: QrKind,
    dir: &Path,
    agent: &str,
    now: Timestamp,
) -> Result<Printed> {
    let target = Target::of(&store.read(|conn| crate::communes::get(conn, commune_id))?);
    let path = file_path(dir, &target, Made::Qr(kind));
    print_qr(Some(store), &target, kind, &path, agent, now)
}

/// The kit's texts for the commune with the form's settings.
pub fn commune_texts(
    conn: &Connection,
    commune_id: i64,
    form: &PosterSettings,
) -> Result<KitTexts> {
    let target = Target::of(&crate::communes::get(conn, commune_id)?);
    kit_texts(&target, form, None)
}

/// Keeps the logo the agent chose (the file's bytes in base64, as the web view reads them) or
/// forgets it with `None`.
pub fn set_logo(
    store: &Store,
    commune_id: i64,
    base64_file: Option<&str>,
    now: Timestamp,
) -> Result<Option<settings::LogoInfo>> {
    let bytes = base64_file
        .map(|text| {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|error| {
                    Error::validation("Le fichier du logo n'a pas été transmis correctement.")
                        .with_source(error)
                })
        })
        .transpose()?;
    store.write(|tx| settings::set_logo(tx, commune_id, bytes.as_deref(), now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + seconds).unwrap()
    }

    fn impressions(store: &Store) -> Vec<(Option<i64>, String, String)> {
        store
            .read(|conn| {
                let mut statement = conn.prepare(
                    "SELECT commune_id, agent, detail FROM journal WHERE action = 'impression'
                     ORDER BY id",
                )?;
                let rows = statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .unwrap()
    }

    #[test]
    fn the_request_follows_the_stored_settings_unless_the_form_says_otherwise() {
        let (_dir, store, id) = crate::fixtures::store_with_commune();
        let commune = store.read(|conn| crate::communes::get(conn, id)).unwrap();
        let request = store
            .read(|conn| commune_request(conn, &commune, Format::A4, None, at(0)))
            .unwrap();
        assert_eq!(request.services, super::super::DEFAULT_SERVICES);
        assert_eq!(
            (request.contact_email.clone(), request.refresh.clone()),
            (None, None)
        );
        assert!(request.logo.is_none());

        let typed = PosterSettings {
            services: "Cantine".into(),
            contact_email: Some("mairie@majastres.fr".into()),
            refreshes: true,
        };
        store
            .write(|tx| settings::save(tx, id, &typed, at(1)))
            .unwrap();
        let png = super::super::qr_png("21040107100019", 2).unwrap();
        store
            .write(|tx| settings::set_logo(tx, id, Some(&png), at(2)))
            .unwrap();
        let request = store
            .read(|conn| commune_request(conn, &commune, Format::A3, None, at(3)))
            .unwrap();
        assert_eq!(request.services, "Cantine");
        assert_eq!(
            request.refresh.map(|refresh| refresh.contact_email),
            Some("mairie@majastres.fr".into())
        );
        assert!(request.logo.is_some());
        assert_eq!((request.format, request.date), (Format::A3, at(3)));

        let form = PosterSettings {
            refreshes: false,
            ..typed
        };
        let request = store
            .read(|conn| commune_request(conn, &commune, Format::A5, Some(&form), at(4)))
            .unwrap();
        assert_eq!(request.refresh, None);
        assert_eq!(
            request.contact_email.as_deref(),
            Some("mairie@majastres.fr")
        );
    }

    #[test]
    fn a_bad_form_is_refused_before_anything_is_drawn() {
        let target = Target {
            siret: "21040107100018".into(),
            name: "Majastres".into(),
            commune_id: None,
        };
        let settings = PosterSettings::default();
        assert!(request(&target, Format::A4, &settings, None, at(0)).is_err());
        let target = Target {
            siret: "21040107100019".into(),
            ..target
        };
        let bad_email = PosterSettings {
            contact_email: Some("mairie at majastres".into()),
            ..PosterSettings::default()
        };
        assert!(request(&target, Format::A4, &bad_email, None, at(0)).is_err());
        let error = request(&target, Format::A4, &settings, Some(b"GIF89a"), at(0)).unwrap_err();
        assert!(error.message.contains("PNG ou JPEG"), "{}", error.message);
    }

    #[test]
    fn printing_writes_the_file_and_journals_it_in_one_go() {
        let (dir, store, id) = crate::fixtures::store_with_commune();
        let commune = store.read(|conn| crate::communes::get(conn, id)).unwrap();
        let target = Target::of(&commune);
        let request = store
            .read(|conn| commune_request(conn, &commune, Format::A5x2, None, at(0)))
            .unwrap();
        let path = file_path(dir.path(), &target, Made::Poster(Format::A5x2));
        assert!(path.ends_with("affiche-majastres-a5x2.pdf"), "{path:?}");
        let printed = print_poster(Some(&store), &target, &request, &path, "Anne", at(1)).unwrap();
        assert!(std::fs::read(&path).unwrap().starts_with(b"%PDF"));
        assert_eq!(printed.what, "affiche 2 flyers A5 sur une page A4");
        let again = file_path(dir.path(), &target, Made::Poster(Format::A5x2));
        assert!(again.ends_with("affiche-majastres-a5x2-2.pdf"), "{again:?}");

        let svg = file_path(dir.path(), &target, Made::Qr(QrKind::Svg));
        assert!(svg.ends_with("qr-code-majastres.svg"), "{svg:?}");
        print_qr(Some(&store), &target, QrKind::Svg, &svg, "Anne", at(2)).unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

        // A file that cannot be written leaves no journal row.
        let blocked = dir.path().join("affiche-majastres-a5x2.pdf").join("x.png");
        assert!(print_qr(Some(&store), &target, QrKind::Png, &blocked, "Anne", at(3)).is_err());

        let stranger = Target {
            siret: "21040107100019".into(),
            name: "Ailleurs".into(),
            commune_id: None,
        };
        let png = dir.path().join("qr.png");
        print_qr(
            Some(&store),
            &stranger,
            QrKind::Png,
            &png,
            "ligne de commande",
            at(4),
        )
        .unwrap();
        print_qr(
            None,
            &stranger,
            QrKind::Png,
            &png,
            "ligne de commande",
            at(5),
        )
        .unwrap();
        assert_eq!(
            impressions(&store),
            vec![
                (
                    Some(id),
                    "Anne".into(),
                    "affiche 2 flyers A5 sur une page A4".into()
                ),
                (Some(id), "Anne".into(), "QR code SVG".into()),
                (
                    None,
                    "ligne de commande".into(),
                    "QR code PNG, SIRET 21040107100019".into()
                ),
            ]
        );
        assert!(store.read(journal::verify).unwrap().intact);
    }

    #[test]
    fn the_preview_is_the_pdf_drawn() {
        let target = Target {
            siret: "21040107100019".into(),
            name: "Saint-Étienne-de-Tinée".into(),
            commune_id: None,
        };
        let request =
            request(&target, Format::A4, &PosterSettings::default(), None, at(0)).unwrap();
        let preview = preview(&request, 420).unwrap();
        assert!(preview.image.starts_with("data:image/png;base64,"));
        assert_eq!(preview.width, 420);
        assert_eq!(preview.height, 594);
        assert_eq!(
            preview.url,
            "https://quotient-familial.numerique.gouv.fr/collectivites/21040107100019"
        );
        assert!(preview.pdf_bytes < 300 * 1024);
        assert_eq!(file_stem(&target.name), "saint-etienne-de-tinee");
    }

    #[test]
    fn kit_texts_speak_of_refreshing_only_when_the_commune_does() {
        let target = Target {
            siret: "21040107100019".into(),
            name: "Majastres".into(),
            commune_id: Some(1),
        };
        let mut settings = PosterSettings {
            contact_email: Some("mairie@majastres.fr".into()),
            ..PosterSettings::default()
        };
        let texts = kit_texts(&target, &settings, None).unwrap();
        assert!(texts.website.contains("collectivites/21040107100019"));
        assert!(!texts.email.contains(DEFAULT_REFRESH_PERIOD));
        settings.refreshes = true;
        let texts = kit_texts(&target, &settings, None).unwrap();
        assert!(
            texts.email.contains(DEFAULT_REFRESH_PERIOD),
            "{}",
            texts.email
        );
    }

    #[test]
    fn the_screen_actions_remember_the_form_and_journal_each_file() {
        let (dir, store, id) = crate::fixtures::store_with_commune();
        let form = PosterSettings {
            services: "Cantine".into(),
            contact_email: Some("mairie@majastres.fr".into()),
            refreshes: true,
        };
        let shown = update(&store, id, Format::A4, &form, 300, at(0)).unwrap();
        assert_eq!(shown.width, 300);
        let studio = store.read(|conn| load(conn, id)).unwrap();
        assert_eq!((studio.settings, studio.logo), (form.clone(), None));

        let printed = save_poster(
            &store,
            id,
            Format::A3,
            &form,
            Destination::NewFileIn(dir.path()),
            "Anne",
            at(1),
        )
        .unwrap()
        .expect("written");
        assert!(
            printed.path.ends_with("affiche-majastres-a3.pdf"),
            "{}",
            printed.path
        );
        let qr = save_qr(&store, id, QrKind::Png, dir.path(), "Anne", at(2)).unwrap();
        assert!(std::fs::read(&qr.path).unwrap().starts_with(b"\x89PNG"));
        assert_eq!(impressions(&store).len(), 2);

        // "Enregistrer sous…": the dialog is offered a fresh name; cancelling writes nothing and
        // journals nothing; a name typed without ".pdf" gets it.
        let offered = std::cell::RefCell::new(None);
        let cancelled = save_poster(
            &store,
            id,
            Format::A5,
            &form,
            Destination::Chosen {
                suggested_in: dir.path(),
                choose: Box::new(|suggested: &Path| {
                    *offered.borrow_mut() = Some(suggested.to_path_buf());
                    None
                }),
            },
            "Anne",
            at(2),
        )
        .unwrap();
        assert_eq!(cancelled, None);
        assert_eq!(
            offered.borrow().as_deref(),
            Some(dir.path().join("affiche-majastres-a5.pdf").as_path())
        );
        assert_eq!(impressions(&store).len(), 2);
        let chosen = dir.path().join("pour le panneau");
        let saved = save_poster(
            &store,
            id,
            Format::A5,
            &form,
            Destination::Chosen {
                suggested_in: dir.path(),
                choose: Box::new(|_: &Path| Some(chosen.clone())),
            },
            "Anne",
            at(2),
        )
        .unwrap()
        .expect("written where chosen");
        assert_eq!(
            saved.path,
            dir.path().join("pour le panneau.pdf").display().to_string()
        );
        assert!(std::fs::read(&saved.path).unwrap().starts_with(b"%PDF"));
        assert_eq!(impressions(&store).len(), 3);

        let png = super::super::qr_png("21040107100019", 2).unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&png);
        let info = set_logo(&store, id, Some(&encoded), at(3))
            .unwrap()
            .unwrap();
        assert_eq!(info.kind, "png");
        assert!(set_logo(&store, id, Some("%%%"), at(4)).is_err());
        assert_eq!(set_logo(&store, id, None, at(5)).unwrap(), None);

        let texts = store.read(|conn| commune_texts(conn, id, &form)).unwrap();
        assert!(texts.email.contains("mairie@majastres.fr"));
        assert!(store.read(|conn| load(conn, 999)).is_err());
    }
}
