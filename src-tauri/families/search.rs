//! Finding a family: by any member's name, by a dossier's reference or by `external_id`.
//!
//! Names go through SQLite's FTS5 index (`family_search`) because a commune may hold tens of
//! thousands of families and a `LIKE '%…%'` over every member would scan them all at each key
//! stroke. The index holds the names folded by [`super::words`] (case, accents, ligatures,
//! hyphens), and the query is folded the same way; every word typed must start a word of the
//! family's names ("dur" finds "Durand", "helene" finds "Hélène"), so the agent can stop typing
//! early. A query shaped like our `external_id` or a 13-character reference is looked up as
//! such first.

use rusqlite::{params, Connection};
use serde::Serialize;
use ts_rs::TS;

use super::{find_by_external_id, find_by_reference, looks_like_external_id, words};
use crate::error::Result;

/// At most this many families are returned; the agent narrows with more letters.
pub const LIMIT: usize = 50;

/// A line of the search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FamilySummary {
    #[ts(type = "number")]
    pub id: i64,
    pub external_id: String,
    /// "DURAND Hélène, DURAND Léo…": every member, allocataires first.
    pub names: String,
}

pub(crate) fn summary(conn: &Connection, family_id: i64) -> Result<FamilySummary> {
    let external_id: String = conn.query_row(
        "SELECT external_id FROM families WHERE id = ?1",
        [family_id],
        |row| row.get(0),
    )?;
    let names = super::members(conn, family_id)?
        .iter()
        .map(|m| format!("{} {}", m.nom_naissance, m.prenoms))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(FamilySummary {
        id: family_id,
        external_id,
        names,
    })
}

/// The FTS5 query for what the agent typed: each folded word as a quoted prefix, all required.
/// `None` when nothing searchable was typed.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = words(text)
        .into_iter()
        .map(|word| format!("\"{word}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The ids of the commune's families matching `text`, best first.
pub fn search_ids(conn: &Connection, commune_id: i64, text: &str) -> Result<Vec<i64>> {
    let text = text.trim();
    if looks_like_external_id(&text.to_lowercase()) {
        if let Some(id) = find_by_external_id(conn, commune_id, &text.to_lowercase())? {
            return Ok(vec![id]);
        }
    }
    if text.len() == 13 && text.chars().all(|c| c.is_ascii_alphanumeric()) {
        if let Some(id) = find_by_reference(conn, commune_id, text)? {
            return Ok(vec![id]);
        }
    }
    // Any other `external_id` (a code typed as printed) is tried as is.
    if !text.contains(char::is_whitespace) && !text.is_empty() {
        if let Some(id) = find_by_external_id(conn, commune_id, text)? {
            return Ok(vec![id]);
        }
    }
    let Some(query) = fts_query(text) else {
        return Ok(Vec::new());
    };
    let mut statement = conn.prepare_cached(
        "SELECT f.id FROM family_search s JOIN families f ON f.id = s.rowid
         WHERE family_search MATCH ?2 AND f.commune_id = ?1 ORDER BY s.rank LIMIT ?3",
    )?;
    let ids = statement
        .query_map(params![commune_id, query, LIMIT as i64], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// The commune's families matching `text` (names, reference or `external_id`), best first.
pub fn search(conn: &Connection, commune_id: i64, text: &str) -> Result<Vec<FamilySummary>> {
    search_ids(conn, commune_id, text)?
        .into_iter()
        .map(|id| summary(conn, id))
        .collect()
}
