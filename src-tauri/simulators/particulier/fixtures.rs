//! The official staging fixtures, shipped inside the binary, and the staging matching rule.
//!
//! The demonstration mode runs on a town-hall PC without the project's `shared/` folder, so the
//! YAML files of `datagouv/apistration/mocks/payloads/
//! api_particulier_v3_cnav_quotient_familial_with_civility/` are embedded as they are; keeping
//! their format means the set can be refreshed by copying newer files. Matching follows spec
//! §10.2: lower-cased values must equal a fixture's parameters exactly, else `404.yaml` answers.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::validation::{BirthDate, IdentityQuery, Prenoms};

/// A family (or a canned refusal) the simulator answers for one set of identity parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityCase {
    /// The parameters in the fixture format, e.g. `{"nomNaissance": "DUPONT", "prenoms":
    /// ["SOPHIE"], "anneeDateNaissance": 1982, "codeCogInseePaysNaissance": "99100", …}`.
    pub params: Value,
    pub status: u16,
    /// The whole body, envelope included (`{"data": …, "links": {}, "meta": {}}` or `{"errors": …}`).
    pub payload: Value,
}

/// A case ready to answer: its key and its body kept verbatim.
#[derive(Debug, Clone)]
pub struct StoredCase {
    pub key: MatchKey,
    pub status: u16,
    pub body: String,
}

impl StoredCase {
    pub fn from_case(case: &IdentityCase) -> StoredCase {
        StoredCase {
            key: key_of_params(&case.params),
            status: case.status,
            body: case.payload.to_string(),
        }
    }
}

/// Parameter name → lower-cased value(s), compared as a whole.
pub type MatchKey = BTreeMap<String, KeyValue>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    One(String),
    List(Vec<String>),
}

#[derive(Deserialize)]
struct FixtureFile {
    params: Value,
    status: u16,
    payload: String,
}

/// The files of the official folder, `404.yaml` (the catch-all) last.
const FILES: &[(&str, &str)] = &[
    (
        "200-QF-150-CNAF.yaml",
        include_str!("fixtures/200-QF-150-CNAF.yaml"),
    ),
    (
        "200-QF-CNAF-etranger-pas-de-date-naissance.yaml",
        include_str!("fixtures/200-QF-CNAF-etranger-pas-de-date-naissance.yaml"),
    ),
    (
        "200-couple-2_enfants-qf_msa_150_mai26.yaml",
        include_str!("fixtures/200-couple-2_enfants-qf_msa_150_mai26.yaml"),
    ),
    (
        "200-couple-2_enfants-qf_msa_150_sept2024.yaml",
        include_str!("fixtures/200-couple-2_enfants-qf_msa_150_sept2024.yaml"),
    ),
    (
        "200-etranger-celibataire-2_enfants-qf_cnaf_300_sept2024.yaml",
        include_str!("fixtures/200-etranger-celibataire-2_enfants-qf_cnaf_300_sept2024.yaml"),
    ),
    (
        "200-famille-4_enfants.yaml",
        include_str!("fixtures/200-famille-4_enfants.yaml"),
    ),
    (
        "200-giraud-anne-3_enfants.yaml",
        include_str!("fixtures/200-giraud-anne-3_enfants.yaml"),
    ),
    (
        "200-identite-cas-etranger.yaml",
        include_str!("fixtures/200-identite-cas-etranger.yaml"),
    ),
    (
        "200-identite-cas-limite-erreur-phonetique.yaml",
        include_str!("fixtures/200-identite-cas-limite-erreur-phonetique.yaml"),
    ),
    (
        "200-identite-cas-limite-faute-de-frappe.yaml",
        include_str!("fixtures/200-identite-cas-limite-faute-de-frappe.yaml"),
    ),
    (
        "200-identite-cas-nominal-peu-de-donnee-naissance.yaml",
        include_str!("fixtures/200-identite-cas-nominal-peu-de-donnee-naissance.yaml"),
    ),
    (
        "200-identite-cas-nominal-peu-de-donnee-prenom.yaml",
        include_str!("fixtures/200-identite-cas-nominal-peu-de-donnee-prenom.yaml"),
    ),
    (
        "200-identite-cas-nominal.yaml",
        include_str!("fixtures/200-identite-cas-nominal.yaml"),
    ),
    (
        "200-martin-pierre-3_enfants.yaml",
        include_str!("fixtures/200-martin-pierre-3_enfants.yaml"),
    ),
    (
        "200-nom-usage-femme-seule-qf_caf_800.yaml",
        include_str!("fixtures/200-nom-usage-femme-seule-qf_caf_800.yaml"),
    ),
    (
        "200-parent-1_enfant_non_scolarise.yaml",
        include_str!("fixtures/200-parent-1_enfant_non_scolarise.yaml"),
    ),
    (
        "200-parent-2_enfants.yaml",
        include_str!("fixtures/200-parent-2_enfants.yaml"),
    ),
    (
        "200-parent-3_enfants.yaml",
        include_str!("fixtures/200-parent-3_enfants.yaml"),
    ),
    (
        "200-roux-david-3_enfants-tuteur.yaml",
        include_str!("fixtures/200-roux-david-3_enfants-tuteur.yaml"),
    ),
    (
        "200-seul-1_enfant-qf_caf_650.yaml",
        include_str!("fixtures/200-seul-1_enfant-qf_caf_650.yaml"),
    ),
    (
        "200-seul-sans_enfant-qf_caf_2550.yaml",
        include_str!("fixtures/200-seul-sans_enfant-qf_caf_2550.yaml"),
    ),
    (
        "200-usager-base-france_connect.yaml",
        include_str!("fixtures/200-usager-base-france_connect.yaml"),
    ),
    (
        "404-identite-cas-limite-erreur-phonetique.yaml",
        include_str!("fixtures/404-identite-cas-limite-erreur-phonetique.yaml"),
    ),
    (
        "404-identite-cas-limite-faute-de-frappe.yaml",
        include_str!("fixtures/404-identite-cas-limite-faute-de-frappe.yaml"),
    ),
    (
        "404-identite-cas-nominal-trop-peu-de-donnee-naissance.yaml",
        include_str!("fixtures/404-identite-cas-nominal-trop-peu-de-donnee-naissance.yaml"),
    ),
    (
        "404-identite-cas-nominal-trop-peu-de-donnee-prenom.yaml",
        include_str!("fixtures/404-identite-cas-nominal-trop-peu-de-donnee-prenom.yaml"),
    ),
    ("429.yaml", include_str!("fixtures/429.yaml")),
    ("502.yaml", include_str!("fixtures/502.yaml")),
    ("504.yaml", include_str!("fixtures/504.yaml")),
    ("404.yaml", include_str!("fixtures/404.yaml")),
];

/// The name of the catch-all fixture.
pub const CATCH_ALL: &str = "404.yaml";

/// The embedded fixtures, by file name. A file that does not parse is a build mistake, caught by
/// the unit test below, so it is skipped rather than taking the simulator down.
pub fn staging_cases() -> Vec<(&'static str, StoredCase)> {
    FILES
        .iter()
        .filter_map(|(name, text)| {
            let file: FixtureFile = serde_norway::from_str(text).ok()?;
            Some((
                *name,
                StoredCase {
                    key: key_of_params(&file.params),
                    status: file.status,
                    body: file.payload,
                },
            ))
        })
        .collect()
}

/// The key of fixture parameters: strings lower-cased, numbers written in decimal, nulls dropped.
pub fn key_of_params(params: &Value) -> MatchKey {
    let mut key = MatchKey::new();
    let Some(object) = params.as_object() else {
        return key;
    };
    for (name, value) in object {
        let scalar = |value: &Value| match value {
            Value::String(text) => Some(text.to_lowercase()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        };
        let entry = match value {
            Value::Array(items) => Some(KeyValue::List(items.iter().filter_map(scalar).collect())),
            other => scalar(other).map(KeyValue::One),
        };
        if let Some(entry) = entry {
            key.insert(name.clone(), entry);
        }
    }
    key
}

/// The key of a validated request (§10.2): no recipient, date parts as integers with unknown
/// parts dropped, the commune only for people born in France, `annee`/`mois` as raw strings.
pub fn key_of_query(query: &IdentityQuery, birth: BirthDate) -> MatchKey {
    let mut key = MatchKey::new();
    let mut one = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            key.insert(name.to_string(), KeyValue::One(value.to_lowercase()));
        }
    };
    let raw = |name: &str| query.get(name).map(str::to_string);
    one("nomNaissance", raw("nomNaissance"));
    one("nomUsage", raw("nomUsage"));
    one(
        "anneeDateNaissance",
        birth.year.map(|year| year.to_string()),
    );
    one(
        "moisDateNaissance",
        birth.month.map(|month| month.to_string()),
    );
    one("jourDateNaissance", birth.day.map(|day| day.to_string()));
    one("sexeEtatCivil", raw("sexeEtatCivil"));
    let pays = raw("codeCogInseePaysNaissance");
    if pays.as_deref() == Some("99100") {
        one(
            "codeCogInseeCommuneNaissance",
            raw("codeCogInseeCommuneNaissance"),
        );
    }
    one("codeCogInseePaysNaissance", pays);
    one("nomCommuneNaissance", raw("nomCommuneNaissance"));
    one(
        "codeCogInseeDepartementNaissance",
        raw("codeCogInseeDepartementNaissance"),
    );
    one("annee", raw("annee"));
    one("mois", raw("mois"));
    if let Prenoms::List(names) = &query.prenoms {
        key.insert(
            "prenoms".to_string(),
            KeyValue::List(names.iter().map(|name| name.to_lowercase()).collect()),
        );
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_fixture_parses() {
        let cases = staging_cases();
        assert_eq!(cases.len(), FILES.len());
        assert_eq!(cases.last().unwrap().0, CATCH_ALL);
        assert_eq!(cases.last().unwrap().1.status, 404);
    }

    #[test]
    fn request_key_equals_fixture_key_regardless_of_case() {
        let fixture = staging_cases()
            .into_iter()
            .find(|(name, _)| *name == "200-seul-1_enfant-qf_caf_650.yaml")
            .unwrap()
            .1;
        let pairs: Vec<(String, String)> = [
            ("recipient", "13002526500013"),
            ("nomNaissance", "Bernard"),
            ("prenoms[]", "Elodie"),
            ("sexeEtatCivil", "f"),
            ("anneeDateNaissance", "1990"),
            ("moisDateNaissance", "03"),
            ("codeCogInseePaysNaissance", "99100"),
            ("codeCogInseeCommuneNaissance", "08480"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let query = IdentityQuery::from_pairs(&pairs);
        let birth = BirthDate {
            year: Some(1990),
            month: Some(3),
            day: None,
        };
        assert_eq!(key_of_query(&query, birth), fixture.key);
    }
}
