//! Personal letters from the family file: which families get one, and the mailing written and
//! journaled, for the window and the command line alike.
//!
//! The families who need a letter are those the commune cannot price: no QF at all, or only
//! one older than a month the agent picks ("ressources non connues" does not count as a QF).
//! The agent may also pick families one by one. The letters say what the commune's poster says
//! (services, e-mail, refresh and its opt-out, logo), from the same stored settings, so the two
//! never contradict each other.
//!
//! The journal gets one `Impression` row per mailing with the number of letters and never a
//! family's name (the journal holds no identity). The row and the file are written in one
//! transaction, as every print is.

use std::path::Path;

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::letter::{render_letters, LetterFamily, LetterRequest};
use super::settings;
use super::studio::{
    file_path, first_page_image, make, with_extension, written_exactly, Destination, Made, Printed,
    Target,
};
use super::Logo;
use crate::error::{Code, Error, Result};
use crate::store::Store;

/// Which families a mailing is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export, rename = "LetterSelection")]
pub enum Selection {
    /// These families of the commune, in this order.
    Families {
        #[ts(type = "number[]")]
        ids: Vec<i64>,
    },
    /// Every family of the commune with no QF, or whose last QF is of a month before this one,
    /// except those whose enrolment ended.
    WithoutQfSince { annee: i32, mois: i32 },
}

/// A family a letter may go to, as the window lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "LetterRecipient")]
pub struct Recipient {
    #[ts(type = "number")]
    pub family_id: i64,
    /// The allocataires' names, as the letter prints them.
    pub name: String,
    #[serde(skip)]
    pub external_id: String,
    /// The month of the last known QF: `[annee, mois]`.
    pub last_qf: Option<(i32, i32)>,
}

/// The allocataires' usual names (the pivot first), each once, for the letter's "À l'attention
/// de la famille …"; a family without allocataire is named after its first member.
fn family_name(conn: &Connection, family_id: i64) -> Result<String> {
    let mut statement = conn.prepare_cached(
        "SELECT role, COALESCE(NULLIF(TRIM(nom_usage), ''), nom_naissance)
         FROM family_members WHERE family_id = ?1
         ORDER BY role = 'allocataire' DESC, pivot DESC, id",
    )?;
    let members = statement
        .query_map([family_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let any_allocataire = members.iter().any(|(role, _)| role == "allocataire");
    let mut names: Vec<String> = Vec::new();
    for (role, name) in members {
        if any_allocataire && role != "allocataire" {
            break;
        }
        let name = name.trim().to_uppercase();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
        if !any_allocataire {
            break;
        }
    }
    Ok(names.join(" – "))
}

/// A family of the commune with the month of its last known QF, before it is named.
#[derive(Clone)]
struct Candidate {
    family_id: i64,
    external_id: String,
    last_qf: Option<(i32, i32)>,
    enrolment_ended: bool,
}

impl Candidate {
    fn named(self, conn: &Connection) -> Result<Recipient> {
        Ok(Recipient {
            name: family_name(conn, self.family_id)?,
            family_id: self.family_id,
            external_id: self.external_id,
            last_qf: self.last_qf,
        })
    }
}

/// The recipients of `selection` in the commune, in the order of the ids given, or by name.
/// Only the families chosen are named: a preview of one letter reads one family's members.
pub fn recipients(
    conn: &Connection,
    commune_id: i64,
    selection: &Selection,
) -> Result<Vec<Recipient>> {
    let mut families = conn.prepare_cached(
        "SELECT f.id, f.external_id,
                (SELECT q.annee * 100 + q.mois FROM qf_history q
                 WHERE q.family_id = f.id AND q.valeur IS NOT NULL
                 ORDER BY q.annee DESC, q.mois DESC LIMIT 1),
                f.enrolment_ended_on IS NOT NULL
         FROM families f WHERE f.commune_id = ?1",
    )?;
    let all = families
        .query_map(params![commune_id], |row| {
            let last: Option<i32> = row.get(2)?;
            Ok(Candidate {
                family_id: row.get(0)?,
                external_id: row.get(1)?,
                last_qf: last.map(|month| (month / 100, month % 100)),
                enrolment_ended: row.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match selection {
        Selection::Families { ids } => {
            let by_id: std::collections::HashMap<i64, Candidate> =
                all.into_iter().map(|c| (c.family_id, c)).collect();
            ids.iter()
                .map(|id| {
                    by_id
                        .get(id)
                        .cloned()
                        .ok_or_else(|| {
                            Error::new(
                                Code::NotFound,
                                "Une des familles choisies n'existe plus dans le fichier de \
                                 cette commune. Rafraîchissez la liste et choisissez à nouveau.",
                            )
                        })?
                        .named(conn)
                })
                .collect()
        }
        Selection::WithoutQfSince { annee, mois } => {
            if !(1..=12).contains(mois) {
                return Err(Error::validation(
                    "Le mois doit être compris entre 1 et 12.",
                ));
            }
            let since = annee * 100 + mois;
            let mut chosen = all
                .into_iter()
                // A family whose enrolment ended no longer pays a tariff: no letter.
                .filter(|c| {
                    !c.enrolment_ended
                        && c.last_qf
                            .is_none_or(|(annee, mois)| annee * 100 + mois < since)
                })
                .map(|c| c.named(conn))
                .collect::<Result<Vec<_>>>()?;
            chosen.sort_by(|a, b| {
                crate::text::fold(&a.name)
                    .cmp(&crate::text::fold(&b.name))
                    .then(a.family_id.cmp(&b.family_id))
            });
            Ok(chosen)
        }
    }
}

/// The mailing of `selection` for the commune, with its stored poster settings and logo.
fn request(
    conn: &Connection,
    commune_id: i64,
    selection: &Selection,
    today: Date,
) -> Result<(Target, LetterRequest)> {
    let commune = crate::communes::get(conn, commune_id)?;
    let stored = settings::get(conn, commune_id)?.cleaned()?;
    let logo = settings::logo(conn, commune_id)?
        .map(|logo| Logo::from_bytes(&logo.bytes))
        .transpose()?;
    let families = recipients(conn, commune_id, selection)?
        .into_iter()
        .map(|recipient| LetterFamily {
            name: recipient.name,
            external_id: recipient.external_id,
            last_qf: recipient.last_qf,
        })
        .collect();
    let request = LetterRequest {
        commune_name: commune.name.clone(),
        siret: commune.siret.clone(),
        services: stored.services,
        refreshes: stored.refreshes,
        contact_email: stored.contact_email,
        date: today,
        logo,
        families,
    };
    Ok((Target::of(&commune), request))
}

/// What the window shows before printing: the first letter, drawn from the PDF itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct LettersPreview {
    /// `data:image/png;base64,…` of the first letter.
    pub image: String,
    pub width: u32,
    pub height: u32,
    /// How many letters (pages) the PDF holds.
    pub letters: u32,
    pub pdf_bytes: u32,
}

/// The mailing's first letter as the window previews it, and how many letters it makes.
pub fn preview(
    conn: &Connection,
    commune_id: i64,
    selection: &Selection,
    width: u32,
    today: Date,
) -> Result<LettersPreview> {
    let (_, request) = request(conn, commune_id, selection, today)?;
    let pdf = render_letters(&request)?;
    let (image, width, height) = first_page_image(&pdf, width)?;
    Ok(LettersPreview {
        image,
        width,
        height,
        letters: request.families.len() as u32,
        pdf_bytes: pdf.len() as u32,
    })
}

/// Writes the letters of `selection` into one PDF at `destination` and journals the mailing for
/// `agent`. `None` when the agent cancelled the choice of a file: nothing written nor journaled.
pub fn print_letters(
    store: &Store,
    commune_id: i64,
    selection: &Selection,
    destination: Destination<'_>,
    agent: &str,
    now: Timestamp,
    today: Date,
) -> Result<Option<Printed>> {
    let (target, request) = store.read(|conn| request(conn, commune_id, selection, today))?;
    let pdf = render_letters(&request)?;
    let path = match destination {
        Destination::NewFileIn(dir) => file_path(dir, &target, Made::Letters),
        Destination::Chosen {
            suggested_in,
            choose,
        } => match choose(&file_path(suggested_in, &target, Made::Letters)) {
            Some(path) => with_extension(path, "pdf"),
            None => return Ok(None),
        },
    };
    let count = request.families.len();
    let what = if count == 1 {
        "lettre personnelle (1 famille)".to_string()
    } else {
        format!("lettres personnelles ({count} familles)")
    };
    make(Some(store), &target, agent, what, &path, &pdf, now).map(Some)
}

/// Writes the letters of `selection` to `path` (the command line), journaled for `agent`.
pub fn print_letters_to(
    store: &Store,
    commune_id: i64,
    selection: &Selection,
    path: &Path,
    agent: &str,
    now: Timestamp,
    today: Date,
) -> Result<Printed> {
    written_exactly(print_letters(
        store,
        commune_id,
        selection,
        Destination::exactly(path),
        agent,
        now,
        today,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::{self, BirthParts, NewMember, NewQf, Role, Source};
    use crate::journal;

    fn now() -> Timestamp {
        Timestamp::from_second(1_795_000_000).unwrap()
    }

    fn today() -> Date {
        jiff::civil::date(2026, 11, 23)
    }

    fn allocataire(nom: &str, prenoms: &str) -> NewMember {
        NewMember {
            role: Some(Role::Allocataire),
            nom_naissance: nom.into(),
            prenoms: prenoms.into(),
            naissance: BirthParts {
                annee: Some(1985),
                mois: Some(4),
                jour: Some(12),
            },
            ..NewMember::default()
        }
    }

    /// A family of `names` (allocataires) with QFs `(valeur, annee, mois)`.
    fn family(store: &Store, commune: i64, names: &[&str], qfs: &[(Option<u32>, i32, i32)]) -> i64 {
        use rand::SeedableRng;
        // A seed per family name, so that each family draws its own code.
        let seed = names.concat().bytes().fold(0u64, |seed, byte| {
            seed.wrapping_mul(31).wrapping_add(u64::from(byte))
        });
        let mut random = rand::rngs::StdRng::seed_from_u64(seed);
        store
            .write(|tx| {
                let id = families::create(tx, commune, "Paul", now(), &mut random)?;
                for (index, name) in names.iter().enumerate() {
                    families::add_member(tx, id, &allocataire(name, "CAMILLE"), index == 0, now())?;
                }
                for (valeur, annee, mois) in qfs {
                    let qf = NewQf {
                        valeur: *valeur,
                        annee: *annee,
                        mois: *mois,
                        fournisseur: "CNAF".into(),
                        source: Source::Guichet,
                    };
                    families::add_qf(tx, id, &qf, "Paul", now())?;
                }
                Ok(id)
            })
            .unwrap()
    }

    struct Town {
        _dir: tempfile::TempDir,
        store: Store,
        commune: i64,
        dupont: i64,
        martin: i64,
        noel: i64,
        petit: i64,
    }

    fn town() -> Town {
        let (dir, store, commune) = crate::fixtures::store_with_commune();
        let dupont = family(&store, commune, &["DUPONT"], &[]);
        let martin = family(
            &store,
            commune,
            &["MARTIN", "LEROY"],
            &[(Some(700), 2025, 1)],
        );
        let noel = family(
            &store,
            commune,
            &["NOËL"],
            &[(Some(512), 2026, 10), (Some(480), 2024, 2)],
        );
        // "Ressources non connues" is not a QF the commune can price with.
        let petit = family(&store, commune, &["PETIT"], &[(None, 2026, 11)]);
        Town {
            _dir: dir,
            store,
            commune,
            dupont,
            martin,
            noel,
            petit,
        }
    }

    fn names(recipients: &[Recipient]) -> Vec<&str> {
        recipients.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn families_without_a_recent_qf_are_chosen_by_name() {
        let town = town();
        let chosen = town
            .store
            .read(|c| {
                recipients(
                    c,
                    town.commune,
                    &Selection::WithoutQfSince {
                        annee: 2026,
                        mois: 1,
                    },
                )
            })
            .unwrap();
        assert_eq!(names(&chosen), ["DUPONT", "MARTIN – LEROY", "PETIT"]);
        assert_eq!(chosen[0].last_qf, None);
        assert_eq!(chosen[1].last_qf, Some((2025, 1)));
        assert_eq!(chosen[2].last_qf, None);
        assert_eq!(
            chosen.iter().map(|r| r.family_id).collect::<Vec<_>>(),
            [town.dupont, town.martin, town.petit]
        );

        let picked = town
            .store
            .read(|c| {
                recipients(
                    c,
                    town.commune,
                    &Selection::Families {
                        ids: vec![town.noel, town.dupont],
                    },
                )
            })
            .unwrap();
        assert_eq!(names(&picked), ["NOËL", "DUPONT"]);
        assert_eq!(picked[0].last_qf, Some((2026, 10)));

        let error = town
            .store
            .read(|c| recipients(c, town.commune, &Selection::Families { ids: vec![9999] }))
            .unwrap_err();
        assert_eq!(error.code, Code::NotFound);
        let error = town
            .store
            .read(|c| {
                recipients(
                    c,
                    town.commune,
                    &Selection::WithoutQfSince {
                        annee: 2026,
                        mois: 13,
                    },
                )
            })
            .unwrap_err();
        assert_eq!(error.code, Code::Validation);
    }

    #[test]
    fn families_whose_enrolment_ended_get_no_automatic_letter() {
        let town = town();
        let today = jiff::civil::date(2026, 11, 23);
        let now: jiff::Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        town.store
            .write(|tx| {
                crate::families::set_enrolment_end(
                    tx,
                    town.dupont,
                    Some(jiff::civil::date(2026, 7, 1)),
                    "Claire Martin",
                    today,
                    now,
                )
            })
            .unwrap();
        let selection = Selection::WithoutQfSince {
            annee: 2026,
            mois: 1,
        };
        let chosen = town
            .store
            .read(|c| recipients(c, town.commune, &selection))
            .unwrap();
        assert_eq!(names(&chosen), ["MARTIN – LEROY", "PETIT"]);
        // Picked by hand, the family still gets its letter: the agent decided.
        let picked = town
            .store
            .read(|c| {
                recipients(
                    c,
                    town.commune,
                    &Selection::Families {
                        ids: vec![town.dupont],
                    },
                )
            })
            .unwrap();
        assert_eq!(names(&picked), ["DUPONT"]);
    }

    /// The QR codes of every page of `pdf`, read back from the rendered pages.
    fn qr_per_page(pdf: &[u8]) -> Vec<String> {
        let pages = super::super::raster::page_count(pdf).unwrap();
        (0..pages)
            .map(|index| {
                let png = super::super::raster::page_png(pdf, index, 1240).unwrap();
                let mut reader = png::Decoder::new(std::io::Cursor::new(png))
                    .read_info()
                    .unwrap();
                let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
                let info = reader.next_frame(&mut pixels).unwrap();
                let channels = info.color_type.samples();
                let (width, height) = (info.width as usize, info.height as usize);
                let mut image =
                    rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
                        pixels[(y * width + x) * channels]
                    });
                let grids = image.detect_grids();
                assert_eq!(grids.len(), 1, "one QR code on page {index}");
                grids[0].decode().unwrap().1
            })
            .collect()
    }

    #[test]
    fn each_letter_s_qr_leads_to_the_form_with_its_family_s_code_and_the_mailing_is_journaled() {
        let town = town();
        let dir = tempfile::tempdir().unwrap();
        let printed = print_letters(
            &town.store,
            town.commune,
            &Selection::WithoutQfSince {
                annee: 2026,
                mois: 1,
            },
            Destination::NewFileIn(dir.path()),
            "Paul",
            now(),
            today(),
        )
        .unwrap()
        .unwrap();
        assert!(
            printed.path.ends_with("lettres-qf-majastres.pdf"),
            "{}",
            printed.path
        );
        let pdf = std::fs::read(&printed.path).unwrap();
        let codes: Vec<String> = [town.dupont, town.martin, town.petit]
            .iter()
            .map(|id| {
                town.store
                    .read(|c| families::get(c, *id))
                    .unwrap()
                    .external_id
            })
            .collect();
        let expected: Vec<String> = codes
            .iter()
            .map(|code| {
                format!(
                    "https://quotient-familial.numerique.gouv.fr/collectivites/21040107100019\
                     ?external_id={code}"
                )
            })
            .collect();
        assert_eq!(qr_per_page(&pdf), expected);

        let rows = town
            .store
            .read(|c| journal::list(c, &journal::Filter::default(), &jiff::tz::TimeZone::UTC, 10))
            .unwrap();
        let row = &rows[0];
        assert_eq!(row.action, journal::Action::Impression);
        assert_eq!(row.agent, "Paul");
        assert_eq!(
            row.detail.as_deref(),
            Some("lettres personnelles (3 familles)")
        );
        let everything = format!("{rows:?}");
        assert!(!everything.contains("DUPONT") && !everything.contains(&codes[0]));

        let preview = town
            .store
            .read(|c| {
                preview(
                    c,
                    town.commune,
                    &Selection::Families {
                        ids: vec![town.martin],
                    },
                    600,
                    today(),
                )
            })
            .unwrap();
        assert_eq!(preview.letters, 1);
        assert!(preview.image.starts_with("data:image/png;base64,"));
    }

    #[test]
    fn a_cancelled_choice_writes_and_journals_nothing() {
        let town = town();
        let dir = tempfile::tempdir().unwrap();
        let before = town
            .store
            .read(|c| {
                journal::list(
                    c,
                    &journal::Filter::default(),
                    &jiff::tz::TimeZone::UTC,
                    100,
                )
            })
            .unwrap()
            .len();
        let printed = print_letters(
            &town.store,
            town.commune,
            &Selection::Families {
                ids: vec![town.dupont],
            },
            Destination::Chosen {
                suggested_in: dir.path(),
                choose: Box::new(|_| None),
            },
            "Paul",
            now(),
            today(),
        )
        .unwrap();
        assert_eq!(printed, None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let after = town
            .store
            .read(|c| {
                journal::list(
                    c,
                    &journal::Filter::default(),
                    &jiff::tz::TimeZone::UTC,
                    100,
                )
            })
            .unwrap()
            .len();
        assert_eq!(before, after);
    }
}
