//! Reading `FormulaireQF.json`, the file formulaire-qf puts in every case (spec §8.3).
//!
//! The parser walks a `serde_json::Value` instead of deriving a strict schema because the file
//! has changed shape over the years (identity with derived fields before 2024-10, only the
//! legacy "v2" block before 2025-04) and a dossier must never be refused because a key moved:
//! the v3 block is read first, the v2 block fills in what is missing, unknown keys are ignored.
//! Only a file that is not JSON, or has no identity at all, is an error; the sync engine then
//! keeps the dossier "à vérifier" so that an agent reads the PDF instead.

use serde::Serialize;
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::error::{Error, Result};

/// What a citizen sent, as the commune needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demande {
    /// The commune software's identifier from the form's link; `None` when null or absent.
    pub external_id: Option<String>,
    pub identite: Identite,
    /// `None` when neither block carries a quotient familial.
    pub quotient: Option<Quotient>,
    pub allocataires: Vec<Personne>,
    pub enfants: Vec<Personne>,
}

/// The FranceConnect "identité pivot" of the person who filled the form (shown as is in the
/// dossier's detail, hence exported to the UI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Identite {
    pub nom_naissance: String,
    pub prenoms: String,
    /// `YYYY-MM-DD`.
    pub date_naissance: Option<String>,
    /// `female` or `male`, as FranceConnect writes it.
    pub genre: Option<String>,
    /// INSEE COG code of the birth country, `99100` for France.
    pub pays_naissance: Option<String>,
    /// INSEE COG code of the birth commune; `None` for people born abroad.
    pub lieu_naissance: Option<String>,
}

/// The quotient familial and the month it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotient {
    /// `CNAF` or `MSA`.
    pub fournisseur: String,
    /// `None` when formulaire-qf could not get it (its PDF then reads "ERREUR").
    pub valeur: Option<u32>,
    pub annee: Option<i32>,
    pub mois: Option<i32>,
}

/// An allocataire or a child, spelled as the régime spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Personne {
    pub nom_naissance: String,
    pub nom_usage: Option<String>,
    pub prenoms: String,
    /// `YYYY-MM-DD`, rebuilt from the three parts of the v2 block when needed.
    pub date_naissance: Option<String>,
    /// `F` or `M`.
    pub sexe: Option<String>,
}

/// The 13-character reference shown to the citizen, taken from the case's `externalId`
/// (`Formulaire-QF-<reference>-01`, spec §8.1); `None` for any other shape.
pub fn reference(case_external_id: &str) -> Option<String> {
    let rest = case_external_id.strip_prefix("Formulaire-QF-")?;
    let reference = rest.split('-').next()?;
    (reference.len() == 13 && reference.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| reference.to_string())
}

/// Reads the bytes of `FormulaireQF.json`.
pub fn parse(bytes: &[u8]) -> Result<Demande> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        unreadable("le fichier FormulaireQF.json n'est pas un JSON lisible").with_source(e)
    })?;
    let root = value
        .as_object()
        .ok_or_else(|| unreadable("le fichier FormulaireQF.json ne contient pas d'objet"))?;
    let pivot = root
        .get("pivot_identity")
        .and_then(Value::as_object)
        .ok_or_else(|| unreadable("l'identité du demandeur manque"))?;
    let nom_naissance = text(pivot, &["family_name", "nomNaissance"])
        .ok_or_else(|| unreadable("le nom de naissance du demandeur manque"))?;
    let identite = Identite {
        nom_naissance,
        prenoms: text(pivot, &["given_name", "prenoms"]).unwrap_or_default(),
        date_naissance: text(pivot, &["birthdate"]).or_else(|| split_date(pivot)),
        genre: text(pivot, &["gender"]),
        pays_naissance: text(pivot, &["birthcountry", "codePaysLieuDeNaissance"]),
        lieu_naissance: text(pivot, &["birthplace", "codeLieuDeNaissance"]),
    };
    let v3 = root.get("quotient_familial_v3").and_then(Value::as_object);
    let v2 = root.get("quotient_familial").and_then(Value::as_object);
    let quotient = v3
        .and_then(|v3| v3.get("quotient_familial"))
        .and_then(Value::as_object)
        .map(|qf| Quotient {
            fournisseur: text(qf, &["fournisseur"]).unwrap_or_default(),
            valeur: number(qf, &["valeur"]).and_then(|v| u32::try_from(v).ok()),
            annee: number(qf, &["annee"]).and_then(|v| i32::try_from(v).ok()),
            mois: number(qf, &["mois"]).and_then(|v| i32::try_from(v).ok()),
        })
        .or_else(|| {
            v2.map(|qf| Quotient {
                fournisseur: text(qf, &["regime"]).unwrap_or_default(),
                valeur: number(qf, &["quotientFamilial"]).and_then(|v| u32::try_from(v).ok()),
                annee: number(qf, &["annee"]).and_then(|v| i32::try_from(v).ok()),
                mois: number(qf, &["mois"]).and_then(|v| i32::try_from(v).ok()),
            })
        });
    let people = |key: &str| -> Vec<Personne> {
        let list = v3
            .and_then(|v3| v3.get(key))
            .or_else(|| v2.and_then(|v2| v2.get(key)))
            .and_then(Value::as_array);
        list.map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .map(personne)
                .collect()
        })
        .unwrap_or_default()
    };
    Ok(Demande {
        external_id: text(root, &["external_id"]),
        identite,
        quotient,
        allocataires: people("allocataires"),
        enfants: people("enfants"),
    })
}

fn personne(object: &Map<String, Value>) -> Personne {
    Personne {
        nom_naissance: text(object, &["nom_naissance", "nomNaissance"]).unwrap_or_default(),
        nom_usage: text(object, &["nom_usage", "nomUsuel", "nomUsage"]),
        prenoms: text(object, &["prenoms"]).unwrap_or_default(),
        date_naissance: text(object, &["date_naissance"]).or_else(|| split_date(object)),
        sexe: text(object, &["sexe"]),
    }
}

/// The first non-empty string (or number, written out) among `keys`.
fn text(object: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match object.get(*key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The first integer among `keys`, also when written as a string.
fn number(object: &Map<String, Value>, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|key| match object.get(*key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A date given as the v2 block's three strings (`anneeDateDeNaissance`…).
fn split_date(object: &Map<String, Value>) -> Option<String> {
    let year = text(object, &["anneeDateDeNaissance", "anneeDateNaissance"])?;
    let month = text(object, &["moisDateDeNaissance", "moisDateNaissance"])?;
    let day = text(object, &["jourDateDeNaissance", "jourDateNaissance"])?;
    Some(format!("{year:0>4}-{month:0>2}-{day:0>2}"))
}

fn unreadable(why: &str) -> Error {
    Error::validation(format!(
        "Le contenu du dossier n'a pas pu être lu ({why}). Consultez le PDF joint au dossier."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulators::hubee::fictitious_dossiers;

    #[test]
    fn reads_every_generated_dossier() {
        for generated in fictitious_dossiers(3, 40) {
            let demande = parse(generated.to_json().as_bytes()).unwrap();
            assert_eq!(demande.external_id, generated.external_id);
            assert_eq!(
                demande.identite.nom_naissance,
                generated.identity.family_name
            );
            assert_eq!(demande.identite.prenoms, generated.identity.given_names);
            assert_eq!(
                demande.identite.lieu_naissance,
                generated.identity.birthplace
            );
            let quotient = demande.quotient.unwrap();
            assert_eq!(quotient.fournisseur, generated.quotient.fournisseur.code());
            assert_eq!(quotient.valeur, generated.quotient.valeur);
            assert_eq!(quotient.annee, Some(generated.quotient.annee.into()));
            assert_eq!(quotient.mois, Some(generated.quotient.mois.into()));
            assert_eq!(demande.allocataires.len(), generated.allocataires.len());
            assert_eq!(demande.enfants.len(), generated.enfants.len());
            for (read, sent) in demande.enfants.iter().zip(&generated.enfants) {
                assert_eq!(read.prenoms, sent.prenoms);
                assert_eq!(read.date_naissance, Some(sent.date_naissance.to_string()));
            }
        }
    }

    #[test]
    fn reads_generated_edge_cases() {
        let mut generated = fictitious_dossiers(5, 1).remove(0);
        generated.quotient.valeur = None;
        generated.identity.birthplace = None;
        generated.identity.birth_country = "99135".into();
        generated.external_id = None;
        generated.enfants.clear();
        let demande = parse(generated.to_json().as_bytes()).unwrap();
        assert_eq!(demande.quotient.unwrap().valeur, None);
        assert_eq!(demande.identite.lieu_naissance, None);
        assert_eq!(demande.identite.pays_naissance.as_deref(), Some("99135"));
        assert_eq!(demande.external_id, None);
        assert!(demande.enfants.is_empty());
    }

    #[test]
    fn reads_the_legacy_v2_only_shape_with_derived_identity() {
        let json = r#"{
            "pivot_identity": {"family_name": "ROUX", "given_name": "Jeanne",
                "codePaysLieuDeNaissance": "99135", "anneeDateDeNaissance": "1987",
                "moisDateDeNaissance": "6", "jourDateDeNaissance": "27", "nomUsuel": "X"},
            "quotient_familial": {"regime": "MSA", "quotientFamilial": 150, "annee": 2024,
                "mois": 9, "version": "v2",
                "allocataires": [{"nomNaissance": "ROUX", "nomUsuel": null, "prenoms": "JEANNE",
                    "anneeDateDeNaissance": "1987", "moisDateDeNaissance": "06",
                    "jourDateDeNaissance": "27", "sexe": "F"}],
                "enfants": []},
            "something_new": [1, 2, 3]
        }"#;
        let demande = parse(json.as_bytes()).unwrap();
        assert_eq!(demande.external_id, None);
        assert_eq!(demande.identite.pays_naissance.as_deref(), Some("99135"));
        assert_eq!(demande.identite.lieu_naissance, None);
        assert_eq!(
            demande.identite.date_naissance.as_deref(),
            Some("1987-06-27")
        );
        let quotient = demande.quotient.unwrap();
        assert_eq!(quotient.fournisseur, "MSA");
        assert_eq!(quotient.valeur, Some(150));
        assert_eq!(demande.allocataires[0].nom_naissance, "ROUX");
        assert_eq!(
            demande.allocataires[0].date_naissance.as_deref(),
            Some("1987-06-27")
        );
        assert!(demande.enfants.is_empty());
    }

    #[test]
    fn missing_quotient_is_kept_as_absent() {
        let json = r#"{"external_id": null, "pivot_identity": {"family_name": "DUPONT",
            "given_name": "Paul", "birthplace": ""},
            "quotient_familial_v3": {"allocataires": [], "enfants": [],
                "quotient_familial": {"fournisseur": "CNAF", "valeur": null, "annee": 2026,
                "mois": 5}, "version": "v3"}}"#;
        let demande = parse(json.as_bytes()).unwrap();
        assert_eq!(demande.identite.lieu_naissance, None);
        let quotient = demande.quotient.unwrap();
        assert_eq!(quotient.valeur, None);
        assert_eq!(quotient.annee, Some(2026));
        let bare = parse(br#"{"pivot_identity": {"family_name": "DUPONT"}}"#).unwrap();
        assert_eq!(bare.quotient, None);
    }

    #[test]
    fn unreadable_files_are_errors() {
        assert!(parse(b"{not json").is_err());
        assert!(parse(b"[1, 2]").is_err());
        assert!(parse(br#"{"quotient_familial": {}}"#).is_err());
        assert!(parse(br#"{"pivot_identity": {"given_name": "Paul"}}"#).is_err());
    }

    #[test]
    fn reference_comes_from_the_case_external_id() {
        assert_eq!(
            reference("Formulaire-QF-3F9A0C7B21D4E-01").as_deref(),
            Some("3F9A0C7B21D4E")
        );
        assert_eq!(reference("Formulaire-QF-123-01"), None);
        assert_eq!(reference("autre"), None);
    }
}
