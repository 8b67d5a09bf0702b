//! The identity pivot and the requested period, normalised and checked before any call.
//!
//! API Particulier validates its parameters with fixed rules (spec §4.1) and answers a 422 whose
//! texts are sometimes misleading (a forbidden character in the name reads "Le nom de naissance
//! est manquant"). At the counter the agent needs to know which field to fix, in French, before
//! the family's identity leaves the PC. So the server's own rules are applied here first:
//! - names and first names: letters of Latin-1 (`a-z`, `A-Z`, `À-Ö`, `Ø-ö`, `ø-ÿ`), apostrophe,
//!   hyphen and space only; the typographic apostrophe `’` becomes `'`, `œ`/`Œ` become `OE`
//!   (outside Latin-1), `æ` is kept; surrounding and repeated spaces are dropped;
//! - one to three first names, each in its own `prenoms[]` pair (never a comma-separated list);
//! - birth date parts: a year from 1900, a month 1–12, a day that exists, never after
//!   yesterday; unknown parts are omitted, never sent as 0;
//! - birth country: five digits starting with `99` (France is `99100`) or `92352`; the birth
//!   commune COG only for France, or the "transcogage" triple (commune name, département, birth
//!   year) when the COG is unknown;
//! - period: year N−2 to N, month 1–12, not in the future and not more than 23 months back.
//!
//! Nothing here reads the clock: "today" is an argument.

use jiff::civil::Date;

use crate::error::{Error, Result};

/// The COG of France as a birth country.
pub const FRANCE: &str = "99100";
/// The most first names the endpoint accepts (`maxItems 3`).
pub const MAX_PRENOMS: usize = 3;
/// How far back a month may be asked (the current month and the 23 before it).
pub const HISTORY_MONTHS: i32 = 23;

/// What the agent typed, untouched (the counter form sends it as is).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct IdentityInput {
    pub nom_naissance: String,
    pub nom_usage: Option<String>,
    pub prenoms: Vec<String>,
    /// `F` or `M`.
    pub sexe: String,
    /// `AAAA-MM-JJ`, `AAAA-MM` or `AAAA`.
    pub date_naissance: Option<String>,
    /// The COG of the birth country (`99100` for France).
    pub pays_naissance: String,
    /// The COG of the birth commune (France only).
    pub commune_naissance: Option<String>,
    /// The birth commune's name, with [`IdentityInput::departement_naissance`] and the birth
    /// year, when its COG is unknown (France only).
    pub commune_naissance_nom: Option<String>,
    pub departement_naissance: Option<String>,
}

/// Civil-status sex, as the endpoint wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sexe {
    F,
    M,
}

impl Sexe {
    pub fn as_str(self) -> &'static str {
        match self {
            Sexe::F => "F",
            Sexe::M => "M",
        }
    }
}

/// A birth date whose later parts may be unknown: a day only with a month, a month only with a
/// year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BirthDate {
    pub year: Option<i16>,
    pub month: Option<i8>,
    pub day: Option<i8>,
}

/// Where the person was born.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BirthPlace {
    /// In France, commune given by its COG.
    France { commune: String },
    /// In France, commune given by name and département (the birth year comes from the date).
    FranceByName {
        commune: String,
        departement: String,
    },
    /// Abroad: only the country's COG (`99xxx`, or `92352`).
    Abroad { pays: String },
}

/// An identity ready to be sent: every field already satisfies the server's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub nom_naissance: String,
    pub nom_usage: Option<String>,
    pub prenoms: Vec<String>,
    pub sexe: Sexe,
    pub date_naissance: BirthDate,
    pub lieu_naissance: BirthPlace,
}

/// A past (or the current) month whose quotient familial is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub annee: i16,
    pub mois: i8,
}

impl Identity {
    /// The query pairs of `GET /v3/dss/quotient_familial/identite`, `recipient` first, one
    /// `prenoms[]` pair per first name, unknown date parts left out.
    pub fn query(&self, recipient: &str, period: Option<Period>) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("recipient", recipient.to_string()),
            ("nomNaissance", self.nom_naissance.clone()),
        ];
        if let Some(nom_usage) = &self.nom_usage {
            pairs.push(("nomUsage", nom_usage.clone()));
        }
        for prenom in &self.prenoms {
            pairs.push(("prenoms[]", prenom.clone()));
        }
        pairs.push(("sexeEtatCivil", self.sexe.as_str().to_string()));
        let date = self.date_naissance;
        if let Some(year) = date.year {
            pairs.push(("anneeDateNaissance", year.to_string()));
        }
        if let Some(month) = date.month {
            pairs.push(("moisDateNaissance", month.to_string()));
        }
        if let Some(day) = date.day {
            pairs.push(("jourDateNaissance", day.to_string()));
        }
        match &self.lieu_naissance {
            BirthPlace::France { commune } => {
                pairs.push(("codeCogInseePaysNaissance", FRANCE.to_string()));
                pairs.push(("codeCogInseeCommuneNaissance", commune.clone()));
            }
            BirthPlace::FranceByName {
                commune,
                departement,
            } => {
                pairs.push(("codeCogInseePaysNaissance", FRANCE.to_string()));
                pairs.push(("nomCommuneNaissance", commune.clone()));
                pairs.push(("codeCogInseeDepartementNaissance", departement.clone()));
            }
            BirthPlace::Abroad { pays } => {
                pairs.push(("codeCogInseePaysNaissance", pays.clone()));
            }
        }
        if let Some(period) = period {
            pairs.push(("annee", period.annee.to_string()));
            pairs.push(("mois", period.mois.to_string()));
        }
        pairs
    }
}

/// Normalises and checks what the agent typed; `today` bounds the birth date.
pub fn normalise(input: &IdentityInput, today: Date) -> Result<Identity> {
    let nom_naissance = name("nom de naissance", &input.nom_naissance)?;
    let nom_usage = match input.nom_usage.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(value) => Some(name("nom d'usage", value)?),
    };
    let prenoms = input
        .prenoms
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            if p.contains(',') {
                return Err(Error::validation(format!(
                    "Prénom « {} » : saisissez chaque prénom dans son propre champ, sans virgule.",
                    p.trim()
                )));
            }
            name("prénom", p)
        })
        .collect::<Result<Vec<_>>>()?;
    if prenoms.is_empty() {
        return Err(Error::validation(
            "Prénom : au moins un prénom est obligatoire (tous ceux de l'état civil, chacun dans \
             son champ, de préférence).",
        ));
    }
    if prenoms.len() > MAX_PRENOMS {
        return Err(Error::validation(format!(
            "Prénoms : {MAX_PRENOMS} au plus (les premiers de l'état civil, dans l'ordre)."
        )));
    }
    let sexe = match input.sexe.trim().to_ascii_uppercase().as_str() {
        "F" => Sexe::F,
        "M" => Sexe::M,
        _ => {
            return Err(Error::validation(
                "Sexe : indiquez F ou M, comme à l'état civil.",
            ))
        }
    };
    let date_naissance = match input.date_naissance.as_deref().map(str::trim) {
        None | Some("") => BirthDate::default(),
        Some(text) => birth_date(text, today)?,
    };
    let lieu_naissance = birth_place(input, date_naissance)?;
    Ok(Identity {
        nom_naissance,
        nom_usage,
        prenoms,
        sexe,
        date_naissance,
        lieu_naissance,
    })
}

/// Whether the server's name pattern `[a-zA-ZÀ-ÖØ-öø-ÿ' -]` accepts `c`.
fn allowed_in_name(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c, '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{FF}')
        || matches!(c, '\'' | ' ' | '-')
}

/// Normalises a name or first name and checks its characters; `field` names it for the agent.
pub fn name(field: &str, value: &str) -> Result<String> {
    let mut text = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{B4}' => text.push('\''),
            '\u{152}' | '\u{153}' => text.push_str("OE"),
            '\u{2010}' | '\u{2011}' => text.push('-'),
            c if c.is_whitespace() => text.push(' '),
            c => text.push(c),
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut field_title = field.to_string();
    if let Some(first) = field_title.get(0..1) {
        let upper = first.to_uppercase();
        field_title.replace_range(0..1, &upper);
    }
    if text.is_empty() {
        return Err(Error::validation(format!(
            "{field_title} : ce champ est obligatoire."
        )));
    }
    if let Some(bad) = text.chars().find(|c| !allowed_in_name(*c)) {
        let what = if bad.is_ascii_digit() {
            "les chiffres ne sont pas acceptés".to_string()
        } else {
            format!("le caractère « {bad} » n'est pas accepté")
        };
        return Err(Error::validation(format!(
            "{field_title} « {} » : {what} (seulement des lettres, l'apostrophe, le tiret et \
             l'espace).",
            value.trim()
        )));
    }
    if !text.chars().any(char::is_alphabetic) {
        return Err(Error::validation(format!(
            "{field_title} « {} » : il faut au moins une lettre.",
            value.trim()
        )));
    }
    Ok(text)
}

/// Reads `AAAA-MM-JJ`, `AAAA-MM` or `AAAA`, between 1900-01-01 and yesterday.
pub fn birth_date(text: &str, today: Date) -> Result<BirthDate> {
    let invalid = || {
        Error::validation(format!(
            "Date de naissance « {text} » : écrivez AAAA-MM-JJ, ou AAAA-MM si le jour est \
             inconnu, ou AAAA si seule l'année est connue."
        ))
    };
    let parts: Vec<&str> = text.split('-').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(invalid());
    }
    let number = |part: &str, width: std::ops::RangeInclusive<usize>| -> Result<i16> {
        if !width.contains(&part.len()) || !part.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        part.parse::<i16>().map_err(|_| invalid())
    };
    let year = number(parts[0], 4..=4)?;
    let month = parts
        .get(1)
        .copied()
        .map(|p| number(p, 1..=2))
        .transpose()?;
    let day = parts
        .get(2)
        .copied()
        .map(|p| number(p, 1..=2))
        .transpose()?;
    let yesterday = today.yesterday().map_err(|_| invalid())?;
    if year < 1900 || year > yesterday.year() {
        return Err(Error::validation(format!(
            "Date de naissance « {text} » : l'année doit être comprise entre 1900 et {}.",
            yesterday.year()
        )));
    }
    let month = match month {
        None => None,
        Some(m) if (1..=12).contains(&m) => Some(m as i8),
        Some(_) => {
            return Err(Error::validation(format!(
                "Date de naissance « {text} » : le mois doit être compris entre 1 et 12."
            )))
        }
    };
    if let Some(m) = month {
        if (year, m) > (yesterday.year(), yesterday.month()) {
            return Err(Error::validation(format!(
                "Date de naissance « {text} » : elle ne peut pas être dans le futur."
            )));
        }
    }
    let day = match (month, day) {
        (_, None) => None,
        (None, Some(_)) => return Err(invalid()),
        (Some(m), Some(d)) => {
            let date = Date::new(year, m, d as i8).map_err(|_| {
                Error::validation(format!(
                    "Date de naissance « {text} » : ce jour n'existe pas dans le calendrier."
                ))
            })?;
            if date > yesterday {
                return Err(Error::validation(format!(
                    "Date de naissance « {text} » : elle doit être antérieure à aujourd'hui."
                )));
            }
            Some(d as i8)
        }
    };
    Ok(BirthDate {
        year: Some(year),
        month,
        day,
    })
}

/// Checks a birth country COG: five digits, `99xxx` or `92352`.
pub fn pays(value: &str) -> Result<String> {
    let pays = value.trim().to_string();
    let digits = pays.len() == 5 && pays.chars().all(|c| c.is_ascii_digit());
    if !digits || !(pays.starts_with("99") || pays == "92352") {
        return Err(Error::validation(format!(
            "Pays de naissance « {} » : donnez le code COG du pays, 5 chiffres commençant par 99 \
             (99100 pour la France).",
            value.trim()
        )));
    }
    Ok(pays)
}

/// Checks a birth commune COG with the server's pattern `^([013-9]\d|2[AB1-9])\d{3}$`.
pub fn commune_cog(value: &str) -> Result<String> {
    let cog = value.trim().to_ascii_uppercase();
    let bytes = cog.as_bytes();
    let valid = bytes.len() == 5
        && bytes[2..].iter().all(u8::is_ascii_digit)
        && match (bytes[0], bytes[1]) {
            (b'2', b'A' | b'B' | b'1'..=b'9') => true,
            (b'0' | b'1' | b'3'..=b'9', second) => second.is_ascii_digit(),
            _ => false,
        };
    if !valid {
        let hint = if cog.starts_with("20") {
            " Pour la Corse, le code commence par 2A ou 2B."
        } else {
            ""
        };
        return Err(Error::validation(format!(
            "Commune de naissance « {} » : donnez son code COG (5 caractères, par exemple 04107 \
             ou 2A004), pas le code postal.{hint}",
            value.trim()
        )));
    }
    Ok(cog)
}

/// Checks a département code: two digits (not `00` nor `20`), `2A`, `2B`, or `97x`.
pub fn departement(value: &str) -> Result<String> {
    let code = value.trim().to_ascii_uppercase();
    let valid = match code.len() {
        2 => {
            matches!(code.as_str(), "2A" | "2B")
                || (code.chars().all(|c| c.is_ascii_digit()) && code != "00" && code != "20")
        }
        3 => code.starts_with("97") && code.chars().all(|c| c.is_ascii_digit()),
        _ => false,
    };
    if !valid {
        return Err(Error::validation(format!(
            "Département de naissance « {} » : 2 chiffres (2A ou 2B pour la Corse, 971 à 976 \
             outre-mer).",
            value.trim()
        )));
    }
    Ok(code)
}

fn birth_place(input: &IdentityInput, date: BirthDate) -> Result<BirthPlace> {
    let pays = pays(&input.pays_naissance)?;
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let commune = given(&input.commune_naissance);
    let nom = given(&input.commune_naissance_nom);
    let departement_code = given(&input.departement_naissance);
    if pays != FRANCE {
        if commune.is_some() || nom.is_some() || departement_code.is_some() {
            return Err(Error::validation(
                "Commune de naissance : elle ne s'indique que pour une personne née en France \
                 (pays 99100) ; pour une naissance à l'étranger, le pays suffit.",
            ));
        }
        return Ok(BirthPlace::Abroad { pays });
    }
    if let Some(commune) = commune {
        return Ok(BirthPlace::France {
            commune: commune_cog(&commune)?,
        });
    }
    match (nom, departement_code) {
        (Some(nom), Some(code)) => {
            if date.year.is_none() {
                return Err(Error::validation(
                    "Date de naissance : l'année est obligatoire quand la commune de naissance \
                     est donnée par son nom et son département.",
                ));
            }
            Ok(BirthPlace::FranceByName {
                commune: name("nom de la commune de naissance", &nom)?,
                departement: departement(&code)?,
            })
        }
        _ => Err(Error::validation(
            "Commune de naissance : obligatoire pour une personne née en France — son code COG, \
             ou bien son nom et son département (avec l'année de naissance).",
        )),
    }
}

/// Checks a requested month: year N−2 to N, not in the future, at most 23 months back.
pub fn period(annee: i32, mois: i32, today: Date) -> Result<Period> {
    let current = i32::from(today.year());
    if !(current - 2..=current).contains(&annee) {
        return Err(Error::validation(format!(
            "Année demandée {annee} : elle doit être {current}, {} ou {}.",
            current - 1,
            current - 2
        )));
    }
    if !(1..=12).contains(&mois) {
        return Err(Error::validation(format!(
            "Mois demandé {mois} : il doit être compris entre 1 et 12."
        )));
    }
    let asked = annee * 12 + mois;
    let now = current * 12 + i32::from(today.month());
    if asked > now {
        return Err(Error::validation(format!(
            "Mois demandé {mois:02}/{annee} : il est dans le futur."
        )));
    }
    if now - asked > HISTORY_MONTHS {
        return Err(Error::validation(format!(
            "Mois demandé {mois:02}/{annee} : le quotient familial n'est disponible que pour le \
             mois en cours et les {HISTORY_MONTHS} mois précédents."
        )));
    }
    Ok(Period {
        annee: annee as i16,
        mois: mois as i8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn today() -> Date {
        date(2026, 11, 22)
    }

    fn bernard() -> IdentityInput {
        IdentityInput {
            nom_naissance: "BERNARD".into(),
            prenoms: vec!["ELODIE".into()],
            sexe: "f".into(),
            date_naissance: Some("1990-03".into()),
            pays_naissance: "99100".into(),
            commune_naissance: Some("08480".into()),
            ..IdentityInput::default()
        }
    }

    #[test]
    fn names_are_normalised_like_the_server_wants() {
        assert_eq!(
            name("nom", "  d’Œuvray   Cœur ").unwrap(),
            "d'OEuvray COEur"
        );
        assert_eq!(name("prénom", "Jean-Éloïse").unwrap(), "Jean-Éloïse");
        for (bad, expected) in [
            ("Dupont2", "chiffres"),
            ("Du.pont", "« . »"),
            ("", "obligatoire"),
            ("--", "au moins une lettre"),
            ("Łukasz", "« Ł »"),
        ] {
            let error = name("nom de naissance", bad).unwrap_err();
            assert!(error.message.starts_with("Nom de naissance"), "{bad}");
            assert!(error.message.contains(expected), "{}", error.message);
        }
    }

    #[test]
    fn query_has_one_pair_per_first_name_and_omits_unknown_parts() {
        let mut input = bernard();
        input.prenoms = vec!["Elodie".into(), " ".into(), "Judith".into()];
        let identity = normalise(&input, today()).unwrap();
        let query = identity.query("21040107100019", None);
        let keys: Vec<&str> = query.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "recipient",
                "nomNaissance",
                "prenoms[]",
                "prenoms[]",
                "sexeEtatCivil",
                "anneeDateNaissance",
                "moisDateNaissance",
                "codeCogInseePaysNaissance",
                "codeCogInseeCommuneNaissance"
            ]
        );
        assert!(query.contains(&("sexeEtatCivil", "F".into())));
    }

    #[test]
    fn commune_only_for_france_and_transcogage_needs_the_year() {
        let mut abroad = bernard();
        abroad.pays_naissance = "99350".into();
        let error = normalise(&abroad, today()).unwrap_err();
        assert!(error.message.starts_with("Commune de naissance"));
        abroad.commune_naissance = None;
        let identity = normalise(&abroad, today()).unwrap();
        assert_eq!(
            identity.lieu_naissance,
            BirthPlace::Abroad {
                pays: "99350".into()
            }
        );

        let mut by_name = bernard();
        by_name.commune_naissance = None;
        let error = normalise(&by_name, today()).unwrap_err();
        assert!(error.message.contains("obligatoire"), "{}", error.message);
        by_name.commune_naissance_nom = Some("Charleville-Mézières".into());
        by_name.departement_naissance = Some("08".into());
        let query = normalise(&by_name, today())
            .unwrap()
            .query("21040107100019", None);
        assert!(query.contains(&("nomCommuneNaissance", "Charleville-Mézières".into())));
        assert!(!query
            .iter()
            .any(|(k, _)| *k == "codeCogInseeCommuneNaissance"));
        by_name.date_naissance = None;
        assert!(normalise(&by_name, today())
            .unwrap_err()
            .message
            .contains("l'année est obligatoire"));
    }

    #[test]
    fn birth_dates_and_places_follow_the_server_bounds() {
        assert_eq!(
            birth_date("1982-12-27", today()).unwrap(),
            BirthDate {
                year: Some(1982),
                month: Some(12),
                day: Some(27)
            }
        );
        assert_eq!(birth_date("1982", today()).unwrap().month, None);
        for bad in [
            "1899",
            "2026-11-22",
            "2027",
            "1990-13",
            "1990-02-30",
            "90-01-01",
            "1990-00",
        ] {
            let error = birth_date(bad, today()).unwrap_err();
            assert!(error.message.starts_with("Date de naissance"), "{bad}");
        }
        assert_eq!(commune_cog("2a004").unwrap(), "2A004");
        assert_eq!(commune_cog("97411").unwrap(), "97411");
        for bad in ["20004", "2C004", "0810", "75 056"] {
            assert!(commune_cog(bad).is_err(), "{bad}");
        }
        assert!(pays("92352").is_ok());
        for bad in ["98100", "9910", "france"] {
            assert!(pays(bad).is_err(), "{bad}");
        }
        assert!(departement("2B").is_ok() && departement("974").is_ok());
        assert!(departement("00").is_err() && departement("20").is_err());
    }

    #[test]
    fn periods_are_past_months_within_the_history() {
        assert_eq!(
            period(2026, 11, today()).unwrap(),
            Period {
                annee: 2026,
                mois: 11
            }
        );
        assert!(period(2024, 12, today()).is_ok());
        for (annee, mois, expected) in [
            (2026, 12, "futur"),
            (2024, 11, "23 mois"),
            (2023, 12, "2026, 2025 ou 2024"),
            (2025, 13, "entre 1 et 12"),
        ] {
            let error = period(annee, mois, today()).unwrap_err();
            assert!(error.message.contains(expected), "{}", error.message);
        }
    }
}
