//! SIRET and COG (INSEE commune code) checks.
//!
//! API Particulier refuses a `recipient` that is not a valid SIRET (422 `00210`) and Hubee
//! addresses the commune as `SI-<SIRET>-<COG>`; a typo typed once in Paramètres would make every
//! later call fail far from its cause. So both are checked here, with the server's own rules
//! (`siade` `SiretFormatValidator`: 14 digits and a Luhn key, or a La Poste SIRET `356000000xxxxx`
//! exempt from the key), and each rejection says in French what is wrong.

use crate::error::{Error, Result};

/// La Poste's establishments share one SIREN whose SIRETs do not satisfy the Luhn key.
const LA_POSTE_PREFIX: &str = "356000000";

/// Returns the SIRET without the spaces an agent may paste from a letterhead.
pub fn parse_siret(input: &str) -> Result<String> {
    let siret: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if siret.is_empty() {
        return Err(Error::validation(
            "Le SIRET est obligatoire (14 chiffres, sur l'avis de situation SIRENE de la commune).",
        ));
    }
    if !siret.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::validation(
            "Le SIRET ne doit contenir que des chiffres : 14 chiffres, sans lettres ni ponctuation.",
        ));
    }
    let length = siret.len();
    if length != 14 {
        return Err(Error::validation(format!(
            "Le SIRET doit comporter 14 chiffres ; vous en avez saisi {length}."
        )));
    }
    if !siret.starts_with(LA_POSTE_PREFIX) && !luhn_valid(&siret) {
        return Err(Error::validation(
            "Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez chaque \
             chiffre (le SIRET de la mairie figure sur annuaire-entreprises.data.gouv.fr).",
        ));
    }
    Ok(siret)
}

/// Luhn over all digits: from the right, every second digit is doubled.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Returns the COG upper-cased (`2a001` → `2A001`).
///
/// A COG is the département (two digits, or `2A`/`2B` for Corsica, whose former `20` no longer
/// exists) followed by three digits; overseas communes start with `97` or `98`.
pub fn parse_cog(input: &str) -> Result<String> {
    let cog = input.trim().to_ascii_uppercase();
    if cog.is_empty() {
        return Err(Error::validation(
            "Le code COG (code INSEE de la commune, 5 caractères) est obligatoire.",
        ));
    }
    if cog.chars().count() != 5 {
        return Err(Error::validation(format!(
            "Le code COG doit comporter 5 caractères (par exemple 04107 ou 2A004) ; vous en avez \
             saisi {}. Attention : ce n'est pas le code postal.",
            cog.chars().count()
        )));
    }
    let (departement, rest) = cog.split_at(2);
    if !rest.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::validation(
            "Les trois derniers caractères du code COG doivent être des chiffres.",
        ));
    }
    let departement_valid = match departement {
        "2A" | "2B" => true,
        "00" | "20" | "96" | "99" => false,
        other => other.chars().all(|c| c.is_ascii_digit()),
    };
    if !departement_valid {
        let hint = if departement == "20" {
            " Pour la Corse, le code commence par 2A ou 2B."
        } else {
            ""
        };
        return Err(Error::validation(format!(
            "Le code COG « {cog} » ne correspond à aucun département.{hint}"
        )));
    }
    Ok(cog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn accepts_real_commune_sirets() {
        // Majastres, DINUM, Hauteluce (from the specs).
        for siret in ["21040107100019", "13002526500013", "21730132400018"] {
            assert_eq!(parse_siret(siret).unwrap(), siret);
        }
        assert_eq!(
            parse_siret(" 210 401 071 00019 ").unwrap(),
            "21040107100019"
        );
    }

    #[test]
    fn accepts_la_poste_without_luhn() {
        assert!(!luhn_valid("35600000012345"));
        assert_eq!(parse_siret("35600000012345").unwrap(), "35600000012345");
    }

    #[test]
    fn rejects_bad_sirets_with_french_reasons() {
        let cases = [
            ("", "obligatoire"),
            ("2104010710001A", "que des chiffres"),
            ("2104010710001", "vous en avez saisi 13"),
            ("210401071000190", "vous en avez saisi 15"),
            ("21040107100018", "clé de contrôle"),
            ("35600001012345", "clé de contrôle"),
        ];
        for (input, expected) in cases {
            let error = parse_siret(input).unwrap_err();
            assert_eq!(error.code, Code::Validation, "{input}");
            assert!(
                error.message.contains(expected),
                "{input}: {}",
                error.message
            );
        }
    }

    #[test]
    fn accepts_cogs_including_corsica_and_overseas() {
        assert_eq!(parse_cog("04107").unwrap(), "04107");
        assert_eq!(parse_cog("2a004").unwrap(), "2A004");
        assert_eq!(parse_cog("2B033").unwrap(), "2B033");
        assert_eq!(parse_cog("97411").unwrap(), "97411");
        assert_eq!(parse_cog(" 75056 ").unwrap(), "75056");
    }

    #[test]
    fn rejects_bad_cogs_with_french_reasons() {
        let cases = [
            ("", "obligatoire"),
            ("0410", "5 caractères"),
            ("041070", "5 caractères"),
            ("04A07", "trois derniers"),
            ("2C004", "aucun département"),
            ("20004", "2A ou 2B"),
            ("00107", "aucun département"),
            ("99100", "aucun département"),
        ];
        for (input, expected) in cases {
            let error = parse_cog(input).unwrap_err();
            assert_eq!(error.code, Code::Validation, "{input}");
            assert!(
                error.message.contains(expected),
                "{input}: {}",
                error.message
            );
        }
    }
}
