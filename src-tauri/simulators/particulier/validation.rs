//! The parameter checks of `/v3/dss/quotient_familial/identite` (spec §2.2, §2.3, §4.1).
//!
//! Staging runs the production validation before its mock lookup, so a client that passes here
//! passes there; the rules are therefore reproduced with the server's own regexes and bounds.
//! Every parameter error is collected before answering, because the real organizer waits to
//! fail and sends them all in one 422.

use jiff::civil::Date;

use super::errors::{self, ApiError};

/// The query string as Rails would see it: single values, and `prenoms` as an array only when
/// sent with exactly one pair of brackets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityQuery {
    /// The first value of each plain parameter, blank values left out (Rails' `present?`).
    pub singles: Vec<(String, String)>,
    pub prenoms: Prenoms,
}

/// How `prenoms` arrived.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Prenoms {
    #[default]
    Absent,
    /// `prenoms[]=A&prenoms[]=B`.
    List(Vec<String>),
    /// `prenoms=A` (a string, not an array) or `prenoms[][]=A`: refused.
    NotAList,
}

impl IdentityQuery {
    pub fn from_pairs(pairs: &[(String, String)]) -> IdentityQuery {
        let mut query = IdentityQuery::default();
        for (key, value) in pairs {
            if key == "prenoms[]" {
                match &mut query.prenoms {
                    Prenoms::List(names) => names.push(value.clone()),
                    Prenoms::Absent => query.prenoms = Prenoms::List(vec![value.clone()]),
                    Prenoms::NotAList => {}
                }
            } else if key == "prenoms" || key.starts_with("prenoms[") {
                query.prenoms = Prenoms::NotAList;
            } else if !value.trim().is_empty() && query.get(key).is_none() {
                query.singles.push((key.clone(), value.clone()));
            }
        }
        query
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.singles
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// The newest server turns `’` into `'` in names before checking them (spec §13.3), so a name
/// pasted from a word processor passes; the April 2026 code refuses it.
pub fn replace_typographic_apostrophes(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(key, value)| match key.as_str() {
            "nomNaissance" | "nomUsage" | "prenoms[]" => {
                let value = value.replace('’', "'");
                (key, value)
            }
            _ => (key, value),
        })
        .collect()
}

/// `recipient`: 14 digits with a Luhn key, or a La Poste SIRET (spec §2.2).
pub fn recipient_valid(recipient: &str) -> bool {
    if recipient.len() != 14 || !recipient.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    if recipient.starts_with("356000000") {
        return true;
    }
    let sum: u32 = recipient
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            match position % 2 {
                1 if digit * 2 > 9 => digit * 2 - 9,
                1 => digit * 2,
                _ => digit,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The birth date parts that passed validation, as integers; `None` for unknown parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BirthDate {
    pub year: Option<i64>,
    pub month: Option<i64>,
    pub day: Option<i64>,
}

/// Which rules apply: the April 2026 code or the newest nomenclature (spec §11.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The 23-month history rule `00355` of the newest code.
    pub history_limit: bool,
}

/// Every parameter error of the query, in the order of the real organizer; empty when valid.
pub fn parameter_errors(query: &IdentityQuery, today: Date, rules: Rules) -> Vec<ApiError> {
    let mut found = Vec::new();
    if !query.get("nomNaissance").is_some_and(name_valid) {
        found.push(errors::invalid_nom_naissance());
    }
    match &query.prenoms {
        Prenoms::Absent => {}
        Prenoms::List(names) if names.iter().all(|name| name_valid(name)) => {}
        Prenoms::List(_) | Prenoms::NotAList => found.push(errors::invalid_prenoms()),
    }
    if let Some(sexe) = query.get("sexeEtatCivil") {
        if !matches!(sexe.to_ascii_uppercase().as_str(), "M" | "F") {
            found.push(errors::invalid_sexe());
        }
    }
    if birth_date(query, today).is_none() {
        found.push(errors::invalid_date_naissance());
    }
    let pays = query.get("codeCogInseePaysNaissance");
    if !pays.is_some_and(pays_valid) {
        found.push(errors::invalid_pays());
    }
    let transcogage = query.get("nomCommuneNaissance").is_some()
        && query.get("codeCogInseeDepartementNaissance").is_some()
        && query.get("anneeDateNaissance").is_some();
    let commune_ok = query
        .get("codeCogInseeCommuneNaissance")
        .is_some_and(commune_valid);
    if pays == Some("99100") && !transcogage && !commune_ok {
        found.push(errors::invalid_commune());
    }
    if let Some(departement) = query.get("codeCogInseeDepartementNaissance") {
        if !departement_valid(departement) {
            found.push(errors::invalid_departement());
        }
    }
    found.extend(period_errors(query, today, rules));
    found
}

/// The allowed characters of names: ASCII and Latin-1 letters, apostrophe, hyphen, space
/// (`/\A[a-zA-ZÀ-ÖØ-öø-ÿ' -]+\z/`).
fn name_valid(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| {
            c.is_ascii_alphabetic()
                || matches!(c, '\'' | '-' | ' ')
                || ('À'..='Ö').contains(&c)
                || ('Ø'..='ö').contains(&c)
                || ('ø'..='ÿ').contains(&c)
        })
}

/// Five digits starting with `99`, or `92352` (spec §4.1).
fn pays_valid(pays: &str) -> bool {
    pays.len() == 5
        && pays.bytes().all(|byte| byte.is_ascii_digit())
        && (pays.starts_with("99") || pays == "92352")
}

/// `^([013-9]\d|2[AB1-9])\d{3}$`: no `20xxx`, Corsica as `2A`/`2B`.
fn commune_valid(commune: &str) -> bool {
    let bytes = commune.as_bytes();
    if bytes.len() != 5 || !bytes[2..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    match (bytes[0], bytes[1]) {
        (b'2', second) => matches!(second, b'A' | b'B' | b'1'..=b'9'),
        (first, second) => matches!(first, b'0' | b'1' | b'3'..=b'9') && second.is_ascii_digit(),
    }
}

/// Two or three characters: digits, or `2A`/`2B` (spec §4.1, "2–3 chars").
fn departement_valid(departement: &str) -> bool {
    let upper = departement.to_ascii_uppercase();
    matches!(upper.as_str(), "2A" | "2B")
        || ((2..=3).contains(&upper.len()) && upper.bytes().all(|byte| byte.is_ascii_digit()))
}

fn positive_integer(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|value| *value > 0)
}

/// The birth date parts, or `None` when they are invalid: positive integers, month 1–12 (ignored
/// without a year), day 1–31 (ignored without a month), and the date they make between
/// 1900-01-01 and yesterday.
pub fn birth_date(query: &IdentityQuery, today: Date) -> Option<BirthDate> {
    let Some(year_text) = query.get("anneeDateNaissance") else {
        return Some(BirthDate::default());
    };
    let year = positive_integer(year_text)?;
    let month = match query.get("moisDateNaissance") {
        Some(text) => Some(positive_integer(text).filter(|month| *month <= 12)?),
        None => None,
    };
    let day = match (month, query.get("jourDateNaissance")) {
        (Some(_), Some(text)) => Some(positive_integer(text).filter(|day| *day <= 31)?),
        _ => None,
    };
    let yesterday = today.yesterday().ok()?;
    let earliest = Date::new(1900, 1, 1).ok()?;
    let year16 = i16::try_from(year).ok()?;
    let first_day = match (month, day) {
        (Some(month), Some(day)) => Date::new(year16, month as i8, day as i8).ok()?,
        (Some(month), None) => Date::new(year16, month as i8, 1).ok()?,
        _ => Date::new(year16, 1, 1).ok()?,
    };
    if first_day < earliest || first_day > yesterday {
        return None;
    }
    Some(BirthDate {
        year: Some(year),
        month,
        day,
    })
}

/// `annee` within N-2..N, `mois` 1–12 and not in the future, and, with the newest rules, not more
/// than 23 months back.
fn period_errors(query: &IdentityQuery, today: Date, rules: Rules) -> Vec<ApiError> {
    let mut found = Vec::new();
    let current_year = i64::from(today.year());
    let current_month = i64::from(today.month());
    let annee = match query.get("annee") {
        Some(text) => {
            let year = positive_integer(text)
                .filter(|year| text.len() == 4 && (current_year - 2..=current_year).contains(year));
            if year.is_none() {
                found.push(errors::invalid_annee());
            }
            year
        }
        None => None,
    };
    if let Some(text) = query.get("mois") {
        match positive_integer(text).filter(|month| *month <= 12) {
            None => found.push(errors::invalid_mois()),
            Some(month) => {
                if let Some(year) = annee {
                    if year >= current_year && month > current_month {
                        found.push(errors::invalid_mois());
                    } else if rules.history_limit
                        && (current_year * 12 + current_month) - (year * 12 + month) > 23
                    {
                        found.push(errors::period_too_old());
                    }
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> IdentityQuery {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        IdentityQuery::from_pairs(&pairs)
    }

    const TODAY: Date = jiff::civil::date(2026, 11, 22);
    const RULES: Rules = Rules {
        history_limit: false,
    };

    #[test]
    fn recipient_follows_luhn_or_la_poste() {
        assert!(recipient_valid("13002526500013"));
        assert!(recipient_valid("35600000012345"));
        assert!(!recipient_valid("13002526500014"));
        assert!(!recipient_valid("1300252650001"));
    }

    #[test]
    fn names_accept_latin_1_and_refuse_digits_and_oe() {
        assert!(name_valid("GÉRÔME"));
        assert!(name_valid("CHAMPS BERGER"));
        assert!(name_valid("D'ARTAGNAN-ÿ"));
        assert!(!name_valid("ŒDIPE"));
        assert!(!name_valid("JEAN2"));
        assert!(!name_valid("O’NEIL"));
    }

    #[test]
    fn communes_refuse_20_and_accept_corsica_and_overseas() {
        assert!(commune_valid("2A004"));
        assert!(commune_valid("97411"));
        assert!(commune_valid("08480"));
        assert!(!commune_valid("20004"));
        assert!(!commune_valid("2C004"));
    }

    #[test]
    fn prenoms_without_brackets_are_not_a_list() {
        let q = query(&[("prenoms", "JEAN")]);
        assert_eq!(q.prenoms, Prenoms::NotAList);
        let q = query(&[("prenoms[]", "JEAN"), ("prenoms[]", "PIERRE")]);
        assert_eq!(
            q.prenoms,
            Prenoms::List(vec!["JEAN".into(), "PIERRE".into()])
        );
    }

    #[test]
    fn birth_date_must_be_before_today() {
        let q = query(&[
            ("anneeDateNaissance", "2026"),
            ("moisDateNaissance", "11"),
            ("jourDateNaissance", "22"),
        ]);
        assert_eq!(birth_date(&q, TODAY), None);
        let q = query(&[("anneeDateNaissance", "1899")]);
        assert_eq!(birth_date(&q, TODAY), None);
        let q = query(&[("anneeDateNaissance", "1990"), ("jourDateNaissance", "40")]);
        assert_eq!(
            birth_date(&q, TODAY),
            Some(BirthDate {
                year: Some(1990),
                month: None,
                day: None
            })
        );
    }

    #[test]
    fn future_month_of_the_current_year_is_refused() {
        let q = query(&[("annee", "2026"), ("mois", "12")]);
        let codes: Vec<_> = period_errors(&q, TODAY, RULES)
            .iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(codes, ["00354"]);
        let q = query(&[("annee", "2024"), ("mois", "1")]);
        assert!(period_errors(&q, TODAY, RULES).is_empty());
        let codes: Vec<_> = period_errors(
            &q,
            TODAY,
            Rules {
                history_limit: true,
            },
        )
        .iter()
        .map(|e| e.code)
        .collect();
        assert_eq!(codes, ["00355"]);
    }
}
