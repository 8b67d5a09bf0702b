//! Fictitious families for the demonstration mode and the tests.
//!
//! Agents must never train on real people, yet the data must look real enough to exercise what
//! real data does to the software: accents and hyphens in names, people born abroad (no birth
//! commune), MSA as well as CNAF, large and childless families, an editor identifier or none.
//! The same seed always gives the same families, so the Hubee and API Particulier simulators can
//! describe the same households.

use jiff::civil::{date, Date};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::formulaire_qf::{
    FormulaireQf, Gender, Person, PivotIdentity, QuotientFamilial, Regime, Sex,
};

const FAMILY_NAMES: &[&str] = &[
    "Lefèvre",
    "Martin",
    "Dubois-Garnier",
    "Gauthier",
    "Lemaître",
    "N'Diaye",
    "Da Silva",
    "Benoît",
    "Nguyen",
    "Hervé",
    "Ben Saïd",
    "Fournier",
    "Lévêque",
    "Roux",
    "Chevalier",
    "Morel-Dupré",
    "Bonnaventure",
    "Kowalski",
    "Girard",
    "Ferrière",
];

const WOMEN: &[&str] = &[
    "Élodie",
    "Maëlle",
    "Anaïs",
    "Zoé",
    "Héloïse",
    "Chloé",
    "Inès",
    "Léa",
    "Cécile",
    "Marie-Hélène",
    "Aïcha",
    "Jeanne",
    "Stéphanie",
    "Yasmine",
    "Thaïs",
];

const MEN: &[&str] = &[
    "François",
    "Jean-Baptiste",
    "Noé",
    "Loïc",
    "Jérôme",
    "Mathéo",
    "Gaëtan",
    "Aurélien",
    "Kévin",
    "Nathan",
    "Karim",
    "Ibrahim",
    "Théo",
    "Rémi",
    "Joël",
];

/// Communes of birth (COG), Corsica and overseas included.
const BIRTH_COMMUNES: &[&str] = &[
    "75115", "69123", "13055", "31555", "33063", "04070", "04112", "2A004", "59350", "44109",
    "67482", "97411",
];

/// Countries of birth other than France (COG): Morocco, Algeria, Tunisia, Portugal, Spain,
/// Italy, Belgium, Senegal.
const BIRTH_COUNTRIES: &[&str] = &[
    "99350", "99352", "99351", "99139", "99134", "99127", "99131", "99341",
];

/// `count` families, always the same for the same `seed`.
pub fn fictitious_dossiers(seed: u64, count: usize) -> Vec<FormulaireQf> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(|_| fictitious_dossier(&mut rng)).collect()
}

fn fictitious_dossier(rng: &mut StdRng) -> FormulaireQf {
    let family_name = pick(rng, FAMILY_NAMES).to_string();
    let applicant_is_woman = rng.random_bool(0.7);
    let applicant_gender = if applicant_is_woman {
        Gender::Female
    } else {
        Gender::Male
    };
    let given_names = given_names_of(rng, applicant_is_woman);
    let birthdate = random_date(rng, 1972, 2001);
    let born_abroad = rng.random_bool(0.2);
    let (birth_country, birthplace) = if born_abroad {
        (pick(rng, BIRTH_COUNTRIES).to_string(), None)
    } else {
        (
            "99100".to_string(),
            Some(pick(rng, BIRTH_COMMUNES).to_string()),
        )
    };
    let regime = if rng.random_bool(0.75) {
        Regime::Cnaf
    } else {
        Regime::Msa
    };
    // A married applicant may use another name; only CNAF files carry it (MSA sends null).
    let spouse_name = pick(rng, FAMILY_NAMES).to_string();
    let couple = rng.random_bool(0.6);
    let usage_name =
        (couple && applicant_is_woman && rng.random_bool(0.5)).then(|| spouse_name.clone());

    let applicant = Person {
        nom_naissance: caf_spelling(&family_name),
        nom_usage: match regime {
            Regime::Cnaf => usage_name.as_deref().map(caf_spelling),
            Regime::Msa => None,
        },
        prenoms: caf_spelling(&given_names),
        date_naissance: birthdate,
        sexe: if applicant_is_woman { Sex::F } else { Sex::M },
    };
    let mut allocataires = vec![applicant];
    if couple {
        let partner_is_woman = !applicant_is_woman;
        allocataires.push(Person {
            nom_naissance: caf_spelling(&spouse_name),
            nom_usage: None,
            prenoms: caf_spelling(&given_names_of(rng, partner_is_woman)),
            date_naissance: random_date(rng, 1970, 2001),
            sexe: if partner_is_woman { Sex::F } else { Sex::M },
        });
    }
    let children_name = if couple && applicant_is_woman {
        caf_spelling(&spouse_name)
    } else {
        caf_spelling(&family_name)
    };
    let children = rng.random_range(0..=5);
    // Children are minors, born once the applicant was at least eighteen.
    let first_child_year = (birthdate.year() + 18).clamp(2008, 2025);
    let enfants = (0..children)
        .map(|_| {
            let girl = rng.random_bool(0.5);
            Person {
                nom_naissance: children_name.clone(),
                nom_usage: None,
                prenoms: caf_spelling(&given_names_of(rng, girl)),
                date_naissance: random_date(rng, first_child_year, 2025),
                sexe: if girl { Sex::F } else { Sex::M },
            }
        })
        .collect();

    let mois = rng.random_range(1..=10);
    // One family in twenty reaches Hubee without a value, as when the form printed "ERREUR".
    let valeur = (!rng.random_ratio(1, 20)).then(|| rng.random_range(0..=2600));
    let external_id = rng
        .random_bool(0.4)
        .then(|| format!("INSCR-2026-{:06}", rng.random_range(1..=999_999)));
    let reference = (0..13)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).expect("a hex digit"))
        .collect::<String>()
        .to_uppercase();

    FormulaireQf {
        reference,
        external_id,
        identity: PivotIdentity {
            family_name: family_name.to_uppercase(),
            usage_name: usage_name.map(|name| name.to_uppercase()),
            given_names,
            gender: applicant_gender,
            birthdate,
            birth_country,
            birthplace,
        },
        quotient: QuotientFamilial {
            fournisseur: regime,
            valeur,
            annee: 2026,
            mois,
            annee_calcul: 2026,
            mois_calcul: mois,
        },
        allocataires,
        enfants,
    }
}

/// One or two first names, as FranceConnect gives them (accents kept).
fn given_names_of(rng: &mut StdRng, woman: bool) -> String {
    let names = if woman { WOMEN } else { MEN };
    let first = pick(rng, names);
    if rng.random_bool(0.5) {
        let second = pick(rng, names);
        if second != first {
            return format!("{first} {second}");
        }
    }
    first.to_string()
}

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn random_date(rng: &mut StdRng, first_year: i16, last_year: i16) -> Date {
    date(
        rng.random_range(first_year..=last_year),
        rng.random_range(1..=12),
        rng.random_range(1..=28),
    )
}

/// How the CAF and the MSA write names: upper case, without accents (hyphens and apostrophes
/// stay).
pub fn caf_spelling(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'A',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' | 'Î' | 'Ï' => 'I',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'O',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'U',
            'ç' | 'Ç' => 'C',
            'ÿ' => 'Y',
            other => other.to_ascii_uppercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_families() {
        assert_eq!(fictitious_dossiers(7, 20), fictitious_dossiers(7, 20));
        assert_ne!(fictitious_dossiers(7, 5), fictitious_dossiers(8, 5));
    }

    #[test]
    fn families_cover_the_cases_real_data_brings() {
        let families = fictitious_dossiers(42, 200);
        assert!(families.iter().any(|f| f.identity.birthplace.is_none()));
        assert!(families
            .iter()
            .all(|f| f.identity.birthplace.is_none() == (f.identity.birth_country != "99100")));
        assert!(families
            .iter()
            .any(|f| f.quotient.fournisseur == Regime::Msa));
        assert!(families
            .iter()
            .any(|f| f.quotient.fournisseur == Regime::Cnaf));
        assert!(families.iter().any(|f| f.enfants.is_empty()));
        assert!(families.iter().any(|f| f.enfants.len() == 5));
        assert!(families.iter().all(|f| f.enfants.len() <= 5));
        assert!(families.iter().all(|f| f
            .enfants
            .iter()
            .all(|e| e.date_naissance.year() >= f.identity.birthdate.year() + 18)));
        assert!(families.iter().any(|f| f.external_id.is_some()));
        assert!(families.iter().any(|f| f.external_id.is_none()));
        assert!(families
            .iter()
            .any(|f| f.identity.given_names.contains('-')));
        assert!(families.iter().any(|f| !f.identity.given_names.is_ascii()));
        assert!(families.iter().all(|f| f.reference.len() == 13
            && f.reference
                .chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))));
    }

    #[test]
    fn caf_spelling_drops_accents_and_keeps_hyphens() {
        assert_eq!(caf_spelling("Marie-Hélène Noé"), "MARIE-HELENE NOE");
        assert_eq!(caf_spelling("N'Diaye"), "N'DIAYE");
    }
}
