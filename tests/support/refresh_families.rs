//! Fictitious families for the refresh's tests and benchmark: each one in the family file (with
//! its pivot identity) and known to the API Particulier simulator under the same identity, so
//! that a run finds them. Shared by `tests/refresh.rs`, `tests/cli_refresh.rs` and
//! `benches/refresh.rs` through `#[path]`; not every user needs every function.
#![allow(dead_code)]

use std::collections::HashMap;

use guichet_qf::families::{self, BirthParts, NewMember, NewQf, Role, Source};
use guichet_qf::particulier::identity::Period;
use guichet_qf::simulators::particulier::{IdentityCase, ParticulierSimulator};
use guichet_qf::store::Store;
use jiff::Timestamp;
use serde_json::json;

/// The birth name of family `index`: letters only, as API Particulier wants ("FAMILLEAAB").
pub fn name_of(index: usize) -> String {
    let mut suffix = String::new();
    let mut n = index;
    for _ in 0..3 {
        suffix.insert(0, (b'A' + (n % 26) as u8) as char);
        n /= 26;
    }
    format!("FAMILLE{suffix}")
}

/// The simulator's answer for family `index`: a CNAF QF of `valeur` for November 2026.
pub fn case_of(index: usize, valeur: i64) -> IdentityCase {
    case_for(index, valeur, None)
}

/// [`case_of`] when the month is asked explicitly (`annee`/`mois`, as a run does before the
/// CAF's monthly update): the simulator matches those parameters too.
pub fn case_for(index: usize, valeur: i64, period: Option<Period>) -> IdentityCase {
    let name = name_of(index);
    let mut case = IdentityCase {
        params: json!({
            "nomNaissance": name,
            "prenoms": ["CLAIRE"],
            "sexeEtatCivil": "F",
            "anneeDateNaissance": 1985,
            "moisDateNaissance": 4,
            "jourDateNaissance": 12,
            "codeCogInseePaysNaissance": "99100",
            "codeCogInseeCommuneNaissance": "75056",
        }),
        status: 200,
        payload: json!({
            "data": {
                "allocataires": [{ "nom_naissance": name, "nom_usage": null, "prenoms": "CLAIRE",
                                   "date_naissance": "1985-04-12", "sexe": "F" }],
                "enfants": [],
                "quotient_familial": { "fournisseur": "CNAF", "valeur": valeur, "annee": 2026,
                                       "mois": 11, "annee_calcul": 2026, "mois_calcul": 11 },
            },
            "links": {},
            "meta": {},
        }),
    };
    if let Some(period) = period {
        case.params["annee"] = json!(period.annee.to_string());
        case.params["mois"] = json!(period.mois.to_string());
    }
    case
}

/// The pivot member of family `index`, as the counter would have saved it.
pub fn member_of(index: usize) -> NewMember {
    NewMember {
        role: Some(Role::Allocataire),
        nom_naissance: name_of(index),
        prenoms: "CLAIRE".into(),
        sexe: Some("F".into()),
        naissance: BirthParts {
            annee: Some(1985),
            mois: Some(4),
            jour: Some(12),
        },
        pays_naissance: Some("99100".into()),
        commune_naissance: Some("75056".into()),
        ..NewMember::default()
    }
}

/// Creates families `0..count` of `commune_id` in one transaction, each known to the simulator
/// with the QF `valeur(index)` and holding `previous(index)` as its last QF. Returns their ids.
pub fn seed(
    store: &Store,
    simulator: &ParticulierSimulator,
    commune_id: i64,
    count: usize,
    valeur: impl Fn(usize) -> i64,
    previous: impl Fn(usize) -> Option<u32>,
) -> Vec<i64> {
    seed_for(store, simulator, commune_id, count, valeur, previous, None)
}

/// [`seed`] for a run that asks `period` explicitly.
pub fn seed_for(
    store: &Store,
    simulator: &ParticulierSimulator,
    commune_id: i64,
    count: usize,
    valeur: impl Fn(usize) -> i64,
    previous: impl Fn(usize) -> Option<u32>,
    period: Option<Period>,
) -> Vec<i64> {
    let now: Timestamp = "2026-10-15T09:00:00Z".parse().unwrap();
    for index in 0..count {
        simulator.add_case(case_for(index, valeur(index), period));
    }
    let mut random = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(count as u64);
    store
        .write(|tx| {
            let mut ids = Vec::with_capacity(count);
            for index in 0..count {
                let id = families::create(tx, commune_id, "Émilie Durand", now, &mut random)?;
                families::add_member(tx, id, &member_of(index), true, now)?;
                if let Some(valeur) = previous(index) {
                    let qf = NewQf {
                        valeur: Some(valeur),
                        annee: 2026,
                        mois: 10,
                        fournisseur: "CNAF".into(),
                        source: Source::Guichet,
                    };
                    families::add_qf(tx, id, &qf, "Émilie Durand", now)?;
                }
                ids.push(id);
            }
            Ok(ids)
        })
        .unwrap()
}

/// How many identity lookups the simulator received per birth name, and how many it answered
/// 200, by name.
pub fn queries(
    simulator: &ParticulierSimulator,
) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let mut asked = HashMap::new();
    let mut answered = HashMap::new();
    for request in simulator.requests() {
        if !request.path.ends_with("/quotient_familial/identite") {
            continue;
        }
        let Some((_, name)) = request.query.iter().find(|(k, _)| k == "nomNaissance") else {
            continue;
        };
        *asked.entry(name.clone()).or_insert(0) += 1;
        if request.status == 200 {
            *answered.entry(name.clone()).or_insert(0) += 1;
        }
    }
    (asked, answered)
}
