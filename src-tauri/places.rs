//! Places of birth for the counter form: French communes and foreign countries with their INSEE
//! codes (COG), as API Particulier wants them (`codeCogInseeCommuneNaissance`,
//! `codeCogInseePaysNaissance`; see shared/specs/api-particulier.md §4.1).
//!
//! The lists ship with the application (`places/communes.tsv`, `places/pays.tsv`, embedded at
//! compile time) rather than being fetched: the counter PC may reach nothing on the Internet but
//! the APIs themselves, and the agent types what the citizen says ("né à Saint-Étienne", "au
//! Maroc"), so the picker must answer at once, offline, accents and abbreviations forgiven.
//!
//! Communes come from INSEE's COG through the npm package `@etalab/decoupage-administratif`
//! (`scripts/generate-places.py` rewrites `communes.tsv`): today's communes, the arrondissements
//! municipaux of Paris, Lyon and Marseille, and the former communes that survive as communes
//! déléguées or associées, so that a person born in 1960 in a commune merged since is found
//! under the name and code valid at the time. Former codes whose name the source does not give
//! are found by code only. A birth commune found nowhere takes API Particulier's transcogage
//! path (name, département, year of birth), which needs no code. Countries are written by hand
//! (see `pays.tsv`'s header).

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;
use ts_rs::TS;

use crate::text::fold;

/// The country code of France (`codeCogInseePaysNaissance`).
pub const FRANCE_COG: &str = "99100";

/// A French commune of birth as the picker offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CommuneOfBirth {
    /// The INSEE code to send as `codeCogInseeCommuneNaissance` (`2A004`, `75101`…).
    pub cog: String,
    pub name: String,
    /// The département's code (`01`…`95`, `2A`, `2B`, `971`…).
    pub departement: String,
    /// A commune or arrondissement municipal of today; false for a former commune.
    pub current: bool,
    /// What the agent should know, in French ("commune fusionnée dans Annecy").
    pub note: Option<String>,
}

/// A country (or territory) of birth with its INSEE code (`codeCogInseePaysNaissance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CountryOfBirth {
    /// Five digits starting with `99`; France is `99100`.
    pub cog: String,
    pub name: String,
}

/// Searches communes by name (accents, case, hyphens, apostrophes and "St"/"Ste" forgiven) or by
/// code (a typed COG, or its beginning). Exact names first, then names that start with the
/// query, then names that contain it; within each, today's communes before former ones, then
/// the most populous first (Saint-Denis of La Réunion and of Seine-Saint-Denis before the
/// Aude's).
pub fn search_communes(query: &str, limit: usize) -> Vec<CommuneOfBirth> {
    let table = &*COMMUNES;
    search(&table.entries, query, limit, |e| e.kind.is_current())
        .into_iter()
        .map(|i| table.public(&table.entries[i]))
        .collect()
}

/// Parses both lists now rather than on the first search, for a caller that wants the first
/// keystroke answered at once (a background thread at start-up).
pub fn preload() {
    LazyLock::force(&COMMUNES);
    LazyLock::force(&COUNTRIES);
}

/// The commune with this code, today's commune first when a former one shares its code.
pub fn commune(cog: &str) -> Option<CommuneOfBirth> {
    let table = &*COMMUNES;
    let code = cog.trim().to_ascii_uppercase();
    table
        .entries
        .iter()
        .filter(|e| e.cog == code)
        .min_by_key(|e| e.kind as u8)
        .map(|e| table.public(e))
}

/// Searches countries by name or code, ranked like [`search_communes`]. France is listed too
/// (`99100`).
///
/// The shipped list holds today's countries only. A birth country that no longer exists
/// (Yougoslavie, Tchécoslovaquie…) or the special code `92352` is reached by typing its INSEE
/// code as written on the family's papers: a well-formed code that is not listed comes back as
/// a typed code, which API Particulier then checks like any other.
pub fn search_countries(query: &str, limit: usize) -> Vec<CountryOfBirth> {
    let entries = &*COUNTRIES;
    let mut found: Vec<CountryOfBirth> = search(entries, query, limit, |_| true)
        .into_iter()
        .map(|i| entries[i].public())
        .collect();
    let typed = query.trim();
    let unlisted = !found.iter().any(|country| country.cog == typed);
    if limit > 0
        && unlisted
        && crate::particulier::identity::pays(typed).is_ok()
        && typed != "99100"
    {
        found.truncate(limit - 1);
        found.insert(
            0,
            CountryOfBirth {
                cog: typed.to_string(),
                name: "Pays absent de la liste (code INSEE saisi)".to_string(),
            },
        );
    }
    found
}

/// The country with this code.
pub fn country(cog: &str) -> Option<CountryOfBirth> {
    let code = cog.trim();
    COUNTRIES.iter().find(|e| e.cog == code).map(Entry::public)
}

/// What a line of `communes.tsv` is, in the order a shared code prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Current = 0,
    Arrondissement = 1,
    Deleguee = 2,
    Associee = 3,
    FormerCode = 4,
}

impl Kind {
    fn parse(text: &str) -> Kind {
        match text {
            "c" => Kind::Current,
            "m" => Kind::Arrondissement,
            "d" => Kind::Deleguee,
            "a" => Kind::Associee,
            "x" => Kind::FormerCode,
            other => panic!("places/communes.tsv: unknown kind {other:?}"),
        }
    }

    fn is_current(self) -> bool {
        matches!(self, Kind::Current | Kind::Arrondissement)
    }
}

/// One line of either file.
struct Entry {
    cog: &'static str,
    name: &'static str,
    departement: &'static str,
    kind: Kind,
    /// The commune it belongs to or became (empty for today's communes).
    parent: &'static str,
    /// Population municipale, to rank answers (0 when unknown, and for countries).
    population: u32,
    /// The name folded for search (see [`search_key`]); empty for a former code without name.
    key: String,
}

impl Entry {
    fn public(&self) -> CountryOfBirth {
        CountryOfBirth {
            cog: self.cog.to_owned(),
            name: self.name.to_owned(),
        }
    }
}

struct Communes {
    entries: Vec<Entry>,
    /// Today's communes by code, for the names of parents.
    current: HashMap<&'static str, &'static str>,
}

impl Communes {
    fn public(&self, entry: &Entry) -> CommuneOfBirth {
        let parent = self
            .current
            .get(entry.parent)
            .copied()
            .unwrap_or(entry.parent);
        let (name, note) = match entry.kind {
            Kind::Current | Kind::Arrondissement => (entry.name, None),
            Kind::Deleguee => (
                entry.name,
                Some(format!(
                    "commune fusionnée dans {parent} (commune déléguée)"
                )),
            ),
            Kind::Associee => (
                entry.name,
                Some(format!(
                    "commune fusionnée dans {parent} (commune associée)"
                )),
            ),
            Kind::FormerCode => (
                parent,
                Some(format!(
                    "ancien code d'une commune fusionnée dans {parent}, valable avant la fusion"
                )),
            ),
        };
        CommuneOfBirth {
            cog: entry.cog.to_owned(),
            name: name.to_owned(),
            departement: entry.departement.to_owned(),
            current: entry.kind.is_current(),
            note,
        }
    }
}

static COMMUNES: LazyLock<Communes> = LazyLock::new(|| {
    let entries: Vec<Entry> = data_lines(include_str!("places/communes.tsv"))
        .map(|fields| {
            let [cog, name, departement, kind, parent, population] = fields[..] else {
                panic!("places/communes.tsv: expected 6 columns in {fields:?}");
            };
            Entry {
                cog,
                name,
                departement,
                kind: Kind::parse(kind),
                parent,
                population: population.parse().unwrap_or(0),
                key: search_key(name),
            }
        })
        .collect();
    let current = entries
        .iter()
        .filter(|e| e.kind == Kind::Current)
        .map(|e| (e.cog, e.name))
        .collect();
    Communes { entries, current }
});

static COUNTRIES: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    data_lines(include_str!("places/pays.tsv"))
        .map(|fields| {
            let [cog, name] = fields[..] else {
                panic!("places/pays.tsv: expected 2 columns in {fields:?}");
            };
            Entry {
                cog,
                name,
                departement: "",
                kind: Kind::Current,
                parent: "",
                population: 0,
                key: search_key(name),
            }
        })
        .collect()
});

/// The tab-separated fields of each line that is not a `#` comment.
fn data_lines(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split('\t').collect())
}

/// A name or query reduced for comparison: folded, "St"/"Ste" spelled out, and every separator
/// (space, hyphen, apostrophe, dot) removed, so "st etienne", "Saint Étienne" and
/// "SAINT-ETIENNE" are all `saintetienne`.
fn search_key(text: &str) -> String {
    search_words(text, true)
}

fn search_words(text: &str, expand: bool) -> String {
    let folded = fold(text);
    let mut key = String::with_capacity(folded.len());
    for word in folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        key.push_str(match word {
            "st" if expand => "saint",
            "ste" if expand => "sainte",
            other => other,
        });
    }
    key
}

/// A query that is a code or its beginning: digits, or Corsica's `2A`/`2B` then digits.
fn code_query(query: &str) -> Option<String> {
    let code = query.trim().to_ascii_uppercase();
    let digits = match code.strip_prefix("2A").or_else(|| code.strip_prefix("2B")) {
        Some(rest) => rest,
        None => &code,
    };
    (code.len() >= 2 && code.len() <= 5 && digits.chars().all(|c| c.is_ascii_digit()))
        .then_some(code)
}

/// A match, sorted best first: match class (exact, prefix, contains), former, most populous,
/// folded name, code, then the entry's index.
type Hit<'a> = (u8, bool, Reverse<u32>, &'a str, &'a str, usize);

/// Indices of the best `limit` entries for `query`, ranked.
fn search(
    entries: &[Entry],
    query: &str,
    limit: usize,
    current: impl Fn(&Entry) -> bool,
) -> Vec<usize> {
    if limit == 0 {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = Vec::new();
    if let Some(code) = code_query(query) {
        for (i, e) in entries.iter().enumerate() {
            if e.cog.starts_with(&code) {
                let class = if e.cog == code { 0 } else { 1 };
                hits.push((class, !current(e), Reverse(0), "", e.cog, i));
            }
        }
    } else {
        // "ste" may be typed for Sainte or as the beginning of Stenay: try both.
        let expanded = search_key(query);
        let literal = search_words(query, false);
        if expanded.is_empty() {
            return Vec::new();
        }
        let class_of = |key: &str, q: &str| {
            if key == q {
                Some(0)
            } else if key.starts_with(q) {
                Some(1)
            } else if key.contains(q) {
                Some(2)
            } else {
                None
            }
        };
        for (i, e) in entries.iter().enumerate() {
            if e.key.is_empty() {
                continue;
            }
            let class = match (class_of(&e.key, &expanded), class_of(&e.key, &literal)) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(class) => class,
                    None => continue,
                },
            };
            hits.push((class, !current(e), Reverse(e.population), &e.key, e.cog, i));
        }
    }
    hits.sort_unstable();
    hits.into_iter().take(limit).map(|hit| hit.5).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[CommuneOfBirth]) -> Vec<&str> {
        found.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn every_commune_code_is_one_api_particulier_accepts() {
        let table = &*COMMUNES;
        assert!(table.entries.len() > 35_000, "{}", table.entries.len());
        for e in &table.entries {
            let cog = e.cog.as_bytes();
            // API Particulier: ^([013-9]\d|2[AB1-9])\d{3}$
            let dep_ok = matches!(
                (cog[0], cog[1]),
                (b'2', b'A' | b'B' | b'1'..=b'9') | (b'0' | b'1' | b'3'..=b'9', b'0'..=b'9')
            );
            assert!(
                cog.len() == 5 && dep_ok && cog[2..].iter().all(u8::is_ascii_digit),
                "{}",
                e.cog
            );
            assert!(!e.departement.is_empty(), "{}", e.cog);
            assert_eq!(e.name.is_empty(), e.kind == Kind::FormerCode, "{}", e.cog);
            if e.kind != Kind::Current {
                assert!(
                    table.current.contains_key(e.parent),
                    "{} → {}",
                    e.cog,
                    e.parent
                );
            }
        }
    }

    #[test]
    fn paris_lyon_and_marseille_arrondissements() {
        for n in 1..=20 {
            let cog = format!("751{n:02}");
            let found = commune(&cog).unwrap();
            assert!(found.name.starts_with("Paris "), "{found:?}");
            assert!(found.current);
            assert_eq!(found.departement, "75");
        }
        assert_eq!(commune("75056").unwrap().name, "Paris");
        assert_eq!(
            commune("13201").unwrap().name,
            "Marseille 1er Arrondissement"
        );
        assert_eq!(commune("13216").unwrap().departement, "13");
        assert_eq!(commune("69381").unwrap().name, "Lyon 1er Arrondissement");

        let found = search_communes("paris", 30);
        assert_eq!(found[0].cog, "75056");
        assert!(
            found.iter().any(|c| c.cog == "75120"),
            "{:?}",
            names(&found)
        );
        let found = search_communes("marseille 1er", 5);
        assert_eq!(found[0].cog, "13201");
    }

    #[test]
    fn accents_case_hyphens_and_saint_abbreviations() {
        for query in [
            "st etienne",
            "saint-etienne",
            "SAINT ÉTIENNE",
            "St-Étienne",
            "saintetienne",
        ] {
            let found = search_communes(query, 10);
            assert_eq!(found[0].cog, "42218", "{query}: {:?}", names(&found));
            assert_eq!(found[0].name, "Saint-Étienne");
        }
        let found = search_communes("saint denis", 5);
        let codes: Vec<&str> = found.iter().map(|c| c.cog.as_str()).collect();
        assert_eq!(codes[..2], ["97411", "93066"]); // La Réunion's, then Seine-Saint-Denis's
        let found = search_communes("ste maxime", 5);
        assert_eq!(found[0].name, "Sainte-Maxime");
        assert_eq!(search_communes("lhay les roses", 5)[0].cog, "94038");
        assert_eq!(search_communes("l'hay-les-roses", 5)[0].cog, "94038");
        assert_eq!(search_communes("EVRY", 5)[0].name, "Évry");
        // "ste" is also the beginning of Stenay.
        assert!(names(&search_communes("ste", 50_000)).contains(&"Stenay"));
    }

    #[test]
    fn ranks_exact_then_prefix_then_contains_and_current_first() {
        let found = search_communes("annecy", 10);
        assert_eq!(found[0].cog, "74010");
        assert_eq!(found[0].name, "Annecy");
        let le_vieux = found
            .iter()
            .position(|c| c.name == "Annecy-le-Vieux")
            .unwrap();
        assert!(found[..le_vieux].iter().all(|c| c.current));
        let found = search_communes("etienne", 100);
        let exact_or_prefix = found
            .iter()
            .take_while(|c| fold(&c.name).starts_with("etienne"));
        assert!(exact_or_prefix.count() < found.len());
        assert!(found.iter().any(|c| c.name == "Saint-Étienne"));
        assert_eq!(search_communes("saint", 3).len(), 3);
        assert!(search_communes("", 10).is_empty());
        assert!(search_communes(" - ", 10).is_empty());
        assert!(search_communes("zzzzqx", 10).is_empty());
    }

    #[test]
    fn corsica() {
        assert_eq!(commune("2a004").unwrap().name, "Ajaccio");
        assert_eq!(commune("2B033").unwrap().name, "Bastia");
        let found = search_communes("ajaccio", 5);
        assert_eq!(found[0].cog, "2A004");
        assert_eq!(found[0].departement, "2A");
        let found = search_communes("2B03", 20);
        assert!(found.iter().all(|c| c.cog.starts_with("2B03")));
        assert!(found.iter().any(|c| c.cog == "2B033"));
    }

    #[test]
    fn merged_communes_are_found_under_their_old_name_with_a_note() {
        let found = search_communes("annecy le vieux", 5);
        let old = &found[0];
        assert_eq!(old.cog, "74011");
        assert!(!old.current);
        assert_eq!(
            old.note.as_deref(),
            Some("commune fusionnée dans Annecy (commune déléguée)")
        );
        // Cherbourg-Octeville kept the code of its commune nouvelle.
        let found = search_communes("cherbourg octeville", 5);
        assert_eq!(found[0].cog, "50129");
        assert_eq!(
            found[0].note.as_deref(),
            Some("commune fusionnée dans Cherbourg-en-Cotentin (commune déléguée)")
        );
        assert_eq!(commune("50129").unwrap().name, "Cherbourg-en-Cotentin");
        let by_code = search_communes("50129", 5);
        assert_eq!(
            names(&by_code),
            ["Cherbourg-en-Cotentin", "Cherbourg-Octeville"]
        );
        // Valserhône's former communes left no commune déléguée: found by code only.
        let former = commune("01126").unwrap();
        assert_eq!(former.name, "Valserhône");
        assert!(!former.current);
        assert!(former.note.unwrap().contains("ancien code"));
    }

    #[test]
    fn search_by_code() {
        let found = search_communes(" 42218 ", 5);
        assert_eq!(names(&found), ["Saint-Étienne"]);
        let found = search_communes("751", 30);
        assert_eq!(found[0].cog, "75101");
        assert_eq!(found.len(), 20);
        assert!(found
            .iter()
            .all(|c| c.name.starts_with("Paris ") && c.current));
        assert!(commune("00000").is_none());
    }

    #[test]
    fn a_broad_search_over_every_commune_stays_bounded() {
        let found = search_communes("e", 15);
        assert_eq!(found.len(), 15);
        assert!(found.iter().all(|c| fold(&c.name).contains('e')));
    }

    #[test]
    fn countries() {
        let entries = &*COUNTRIES;
        assert!(entries.len() > 190);
        let mut codes = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for e in entries.iter() {
            assert!(
                e.cog.len() == 5
                    && e.cog.starts_with("99")
                    && e.cog.bytes().all(|b| b.is_ascii_digit()),
                "{}",
                e.cog
            );
            assert!(codes.insert(e.cog), "duplicate {}", e.cog);
            assert!(keys.insert(&e.key), "duplicate {}", e.name);
        }
        for (cog, name) in [
            ("99100", "France"),
            ("99109", "Allemagne"),
            ("99134", "Espagne"),
            ("99127", "Italie"),
            ("99350", "Maroc"),
            ("99351", "Tunisie"),
            ("99352", "Algérie"),
            ("99404", "États-Unis"),
        ] {
            assert_eq!(country(cog).unwrap().name, name);
        }
        assert_eq!(search_countries("etats unis", 3)[0].cog, "99404");
        assert_eq!(search_countries("maroc", 3)[0].cog, "99350");
        assert_eq!(search_countries("99127", 3)[0].name, "Italie");
        assert_eq!(search_countries("algerie", 3)[0].cog, "99352");
        // Former countries and 92352 by their code; malformed codes and France are not offered.
        let typed = search_countries("92352", 3);
        assert_eq!(typed.len(), 1);
        assert_eq!(typed[0].cog, "92352");
        assert!(typed[0].name.contains("absent de la liste"));
        assert_eq!(search_countries(" 99998 ", 3)[0].cog, "99998");
        assert!(search_countries("12345", 3).is_empty());
        assert!(search_countries("99100", 3)
            .iter()
            .all(|c| c.name == "France"));
        assert!(search_countries("99127", 0).is_empty());
        assert!(search_countries("allemagne", 5)
            .iter()
            .any(|c| c.cog == "99109"));
        assert!(country("12345").is_none());
    }
}
