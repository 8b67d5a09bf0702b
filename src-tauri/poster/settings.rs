//! Each commune's poster settings, kept in the store so that the next poster says the same
//! thing without the agent typing it again, in the window and on the command line alike.
//!
//! A commune that never printed has the defaults ([`DEFAULT_SERVICES`], no e-mail, no refresh,
//! no logo); nothing is written until the agent saves. The logo is stored as the agent's file
//! (PNG or JPEG, checked by [`Logo::from_bytes`] before it is kept) rather than as decoded
//! pixels, so that it can be decoded again by a later version with better drawing.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Logo, LogoKind, DEFAULT_SERVICES};
use crate::error::{Error, Result};

/// What the window shows and edits; the logo itself stays in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PosterSettings {
    /// The services the QF is collected for, as printed.
    pub services: String,
    /// The mairie's address for families without FranceConnect (and the opt-out).
    pub contact_email: Option<String>,
    /// The commune refreshes families' QFs itself: the poster says how to refuse.
    pub refreshes: bool,
}

impl Default for PosterSettings {
    fn default() -> Self {
        PosterSettings {
            services: DEFAULT_SERVICES.to_string(),
            contact_email: None,
            refreshes: false,
        }
    }
}

impl PosterSettings {
    /// Trims what the agent typed and checks it the way the poster will: an empty services list
    /// means the default, an empty e-mail none, and refreshing needs an e-mail to refuse at.
    pub fn cleaned(&self) -> Result<PosterSettings> {
        let services = self
            .services
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let contact_email = self
            .contact_email
            .as_deref()
            .map(str::trim)
            .filter(|email| !email.is_empty())
            .map(str::to_string);
        if self.refreshes && contact_email.is_none() {
            return Err(Error::validation(
                "Quand la commune actualise les QF, l'affiche doit donner l'adresse e-mail à \
                 laquelle les familles peuvent refuser : indiquez l'e-mail de la mairie.",
            ));
        }
        Ok(PosterSettings {
            services: if services.is_empty() {
                DEFAULT_SERVICES.to_string()
            } else {
                services
            },
            contact_email,
            refreshes: self.refreshes,
        })
    }
}

/// A commune's stored logo: the file's bytes and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogo {
    pub bytes: Vec<u8>,
    pub kind: LogoKind,
}

/// What the window says about the stored logo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct LogoInfo {
    /// `png` or `jpeg`.
    pub kind: String,
    pub bytes: u32,
}

/// The commune's settings, or the defaults when it never saved any.
pub fn get(conn: &Connection, commune_id: i64) -> Result<PosterSettings> {
    let settings = conn
        .query_row(
            "SELECT services, contact_email, refreshes FROM poster_settings WHERE commune_id = ?1",
            [commune_id],
            |row| {
                Ok(PosterSettings {
                    services: row.get(0)?,
                    contact_email: row.get(1)?,
                    refreshes: row.get::<_, i64>(2)? != 0,
                })
            },
        )
        .optional()?;
    Ok(settings.unwrap_or_default())
}

/// Saves the commune's settings after [`PosterSettings::cleaned`], keeping its logo; returns
/// what was stored.
pub fn save(
    tx: &Transaction<'_>,
    commune_id: i64,
    settings: &PosterSettings,
    now: Timestamp,
) -> Result<PosterSettings> {
    crate::communes::get(tx, commune_id)?;
    let settings = settings.cleaned()?;
    tx.execute(
        "INSERT INTO poster_settings (commune_id, services, contact_email, refreshes, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (commune_id) DO UPDATE SET services = excluded.services,
             contact_email = excluded.contact_email, refreshes = excluded.refreshes,
             updated_at = excluded.updated_at",
        rusqlite::params![
            commune_id,
            settings.services,
            settings.contact_email,
            i64::from(settings.refreshes),
            now.to_string()
        ],
    )?;
    Ok(settings)
}

/// The commune's logo file, if it has one.
pub fn logo(conn: &Connection, commune_id: i64) -> Result<Option<StoredLogo>> {
    let row = conn
        .query_row(
            "SELECT logo, logo_kind FROM poster_settings
             WHERE commune_id = ?1 AND logo IS NOT NULL",
            [commune_id],
            |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    Ok(row.map(|(bytes, kind)| StoredLogo {
        bytes,
        kind: if kind == "jpeg" {
            LogoKind::Jpeg
        } else {
            LogoKind::Png
        },
    }))
}

/// What the window says about the commune's logo, without reading its bytes.
pub fn logo_info(conn: &Connection, commune_id: i64) -> Result<Option<LogoInfo>> {
    Ok(conn
        .query_row(
            "SELECT logo_kind, length(logo) FROM poster_settings
             WHERE commune_id = ?1 AND logo IS NOT NULL",
            [commune_id],
            |row| {
                Ok(LogoInfo {
                    kind: row.get(0)?,
                    bytes: row.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Keeps `bytes` as the commune's logo once it decodes as a PNG or JPEG of at most 2 MB and
/// 4 000 pixels a side, or forgets the logo with `None`.
pub fn set_logo(
    tx: &Transaction<'_>,
    commune_id: i64,
    bytes: Option<&[u8]>,
    now: Timestamp,
) -> Result<Option<LogoInfo>> {
    crate::communes::get(tx, commune_id)?;
    let kind = match bytes {
        Some(bytes) => {
            Logo::from_bytes(bytes)?;
            LogoKind::sniff(bytes).map(LogoKind::as_str)
        }
        None => None,
    };
    let defaults = PosterSettings::default();
    tx.execute(
        "INSERT INTO poster_settings (commune_id, services, refreshes, logo, logo_kind, updated_at)
         VALUES (?1, ?2, 0, ?3, ?4, ?5)
         ON CONFLICT (commune_id) DO UPDATE SET logo = excluded.logo,
             logo_kind = excluded.logo_kind, updated_at = excluded.updated_at",
        rusqlite::params![commune_id, defaults.services, bytes, kind, now.to_string()],
    )?;
    logo_info(tx, commune_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_commune_starts_with_the_defaults_and_keeps_what_is_saved() {
        let (_dir, store, id) = crate::fixtures::store_with_commune();
        assert_eq!(
            store.read(|conn| get(conn, id)).unwrap(),
            PosterSettings::default()
        );
        let typed = PosterSettings {
            services: "  Cantine,   études surveillées ".into(),
            contact_email: Some(" mairie@majastres.fr ".into()),
            refreshes: true,
        };
        let saved = store.write(|tx| save(tx, id, &typed, at(0))).unwrap();
        assert_eq!(saved.services, "Cantine, études surveillées");
        assert_eq!(saved.contact_email.as_deref(), Some("mairie@majastres.fr"));
        assert_eq!(store.read(|conn| get(conn, id)).unwrap(), saved);
        let cleared = PosterSettings {
            services: " ".into(),
            contact_email: Some("".into()),
            refreshes: false,
        };
        let saved = store.write(|tx| save(tx, id, &cleared, at(1))).unwrap();
        assert_eq!(saved, PosterSettings::default());
    }

    #[test]
    fn refreshing_needs_an_email() {
        let (_dir, store, id) = crate::fixtures::store_with_commune();
        let settings = PosterSettings {
            refreshes: true,
            ..PosterSettings::default()
        };
        let error = store
            .write(|tx| save(tx, id, &settings, at(0)))
            .unwrap_err();
        assert!(error.message.contains("e-mail"), "{}", error.message);
        assert!(store
            .write(|tx| save(tx, 999, &PosterSettings::default(), at(0)))
            .is_err());
    }

    #[test]
    fn logos_are_checked_kept_and_forgotten_with_the_settings_left_alone() {
        let (_dir, store, id) = crate::fixtures::store_with_commune();
        let email = PosterSettings {
            contact_email: Some("mairie@majastres.fr".into()),
            ..PosterSettings::default()
        };
        store.write(|tx| save(tx, id, &email, at(0))).unwrap();
        let error = store
            .write(|tx| set_logo(tx, id, Some(b"GIF89a not a logo"), at(1)))
            .unwrap_err();
        assert!(error.message.contains("PNG ou JPEG"), "{}", error.message);
        let too_big = vec![0; super::super::LOGO_MAX_BYTES + 1];
        let error = store
            .write(|tx| set_logo(tx, id, Some(&too_big), at(1)))
            .unwrap_err();
        assert!(error.message.contains("2 Mo"), "{}", error.message);

        let jpeg = include_bytes!("testdata/logo.jpg");
        let info = store
            .write(|tx| set_logo(tx, id, Some(jpeg), at(2)))
            .unwrap()
            .unwrap();
        assert_eq!(
            (info.kind.as_str(), info.bytes as usize),
            ("jpeg", jpeg.len())
        );
        let stored = store.read(|conn| logo(conn, id)).unwrap().unwrap();
        assert_eq!(
            (stored.bytes.as_slice(), stored.kind),
            (&jpeg[..], LogoKind::Jpeg)
        );
        assert_eq!(store.read(|conn| get(conn, id)).unwrap(), email);

        assert_eq!(
            store.write(|tx| set_logo(tx, id, None, at(3))).unwrap(),
            None
        );
        assert_eq!(store.read(|conn| logo(conn, id)).unwrap(), None);
        assert_eq!(store.read(|conn| get(conn, id)).unwrap(), email);
    }

    #[test]
    fn a_logo_alone_creates_default_settings_and_goes_with_the_commune() {
        let (_dir, store, id) = crate::fixtures::store_with_commune();
        let png = super::super::qr_png("21040107100019", 2).unwrap();
        store
            .write(|tx| set_logo(tx, id, Some(&png), at(0)))
            .unwrap();
        assert_eq!(
            store.read(|conn| get(conn, id)).unwrap(),
            PosterSettings::default()
        );
        store
            .write(|tx| {
                tx.execute("DELETE FROM communes WHERE id = ?1", [id])?;
                Ok(())
            })
            .unwrap();
        let rows: i64 = store
            .read(|conn| {
                Ok(conn.query_row("SELECT count(*) FROM poster_settings", [], |row| row.get(0))?)
            })
            .unwrap();
        assert_eq!(rows, 0);
    }
}
