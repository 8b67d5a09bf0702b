//! Tests of the family file: creation from each source, reconciliation, merge, search.

use jiff::civil::date;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;

use super::reconcile::{self, Outcome};
use super::*;
use crate::dossiers::{self, NewDossier, Statut};
use crate::particulier::counter::{CounterPerson, CounterQuotient, CounterResult};
use crate::store::Store;
use crate::sync::formulaire_qf::parse;

/// The seeded random source every test passes where the shell passes the system's.
fn random() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn now() -> Timestamp {
    Timestamp::from_second(1_795_000_000).unwrap()
}

fn person(nom: &str, prenoms: &str, date: &str, sexe: &str) -> serde_json::Value {
    json!({"nom_naissance": nom, "nom_usage": null, "prenoms": prenoms,
           "date_naissance": date, "sexe": sexe})
}

/// The Roux family of hubee.md §8.3: Jeanne (applicant) and Loïc, Alexis and Fleur.
fn roux(external_id: Option<&str>, enfants: &[serde_json::Value]) -> serde_json::Value {
    json!({
        "external_id": external_id,
        "pivot_identity": {"birthcountry": "99100", "birthdate": "1987-06-27",
            "birthplace": "69123", "family_name": "ROUX", "given_name": "Jeanne Stéphanie",
            "gender": "female"},
        "quotient_familial_v3": {
            "allocataires": [person("ROUX", "JEANNE STEPHANIE", "1987-06-27", "F"),
                             person("ROUX", "LOIC NATHAN", "1979-05-19", "M")],
            "enfants": enfants,
            "quotient_familial": {"fournisseur": "MSA", "valeur": 1340, "annee": 2026,
                "mois": 7},
            "version": "v3"
        }
    })
}

fn roux_children() -> Vec<serde_json::Value> {
    vec![
        person("ROUX", "ALEXIS VINCENT", "2016-04-20", "M"),
        person("ROUX", "FLEUR EDITH", "2019-09-02", "F"),
    ]
}

fn save_dossier(store: &Store, commune: i64, case: &str, content: &serde_json::Value) -> i64 {
    let raw = content.to_string();
    let new = NewDossier {
        commune_id: commune,
        case_id: case.into(),
        case_external_id: Some(format!("Formulaire-QF-{:0>13}-01", case.to_uppercase())),
        demande: Some(parse(raw.as_bytes()).unwrap()),
        raw_json: Some(raw),
        statut: Statut::Nouveau,
        reason: None,
        files: Vec::new(),
    };
    store
        .write(|tx| dossiers::save(tx, &new, now()))
        .unwrap()
        .id()
}

fn reconcile(store: &Store, dossier: i64) -> Outcome {
    store
        .write(|tx| reconcile_dossier(tx, dossier, "Paul", now(), &mut random()))
        .unwrap()
}

fn created(outcome: Outcome) -> i64 {
    match outcome {
        Outcome::Created { family_id } => family_id,
        other => panic!("expected a new family, got {other:?}"),
    }
}

#[test]
fn external_ids_are_opaque_random_and_unique() {
    let mut rng = random();
    let ids: std::collections::HashSet<String> =
        (0..10_000).map(|_| new_external_id(&mut rng)).collect();
    assert_eq!(ids.len(), 10_000);
    for id in ids.iter().take(50) {
        assert!(looks_like_external_id(id), "{id}");
        assert_eq!(id.len(), 26);
    }
    // Each position uses the whole alphabet: nothing is a counter, a date or a commune code.
    let first: std::collections::HashSet<char> =
        ids.iter().filter_map(|id| id.chars().nth(3)).collect();
    assert!(first.len() >= 30, "{first:?}");
    // The bytes come from the random source the caller passes, nothing else.
    let seeded = |seed| new_external_id(&mut StdRng::seed_from_u64(seed));
    assert_eq!(seeded(1), seeded(1));
    assert_ne!(seeded(1), seeded(2));
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let a = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    let b = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    let (a, b) = store
        .read(|c| Ok((get(c, a)?.external_id, get(c, b)?.external_id)))
        .unwrap();
    assert_ne!(a, b);
}

#[test]
fn a_first_dossier_creates_the_family_with_its_pivot_identity_and_qf() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let dossier = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, dossier));
    let family = store.read(|c| get(c, family)).unwrap();
    // The applicant is also the first allocataire: four people, not five.
    assert_eq!(family.members.len(), 4, "{:?}", family.members);
    let pivot = family.pivot().unwrap();
    assert_eq!(pivot.nom_naissance, "ROUX");
    assert_eq!(pivot.commune_naissance.as_deref(), Some("69123"));
    assert_eq!(pivot.pays_naissance.as_deref(), Some("99100"));
    assert_eq!(pivot.sexe.as_deref(), Some("F"));
    assert_eq!(family.history.len(), 1);
    let qf = &family.history[0];
    assert_eq!(
        (qf.valeur, qf.annee, qf.mois, qf.fournisseur.as_str()),
        (Some(1340), 2026, 7, "MSA")
    );
    assert_eq!(
        qf.source,
        Source::DossierHubee {
            dossier_id: dossier
        }
    );
    assert_eq!(qf.agent, "Paul");
    assert_eq!(family.dossiers, vec![dossier]);
    // Reconciling again changes nothing.
    assert_eq!(
        reconcile(&store, dossier),
        Outcome::Attached {
            family_id: family.id
        }
    );
    assert_eq!(store.read(|c| get(c, family.id)).unwrap(), family);
}

#[test]
fn a_dossier_with_our_external_id_joins_its_family_whatever_the_identity() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let family = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    let external_id = store.read(|c| get(c, family)).unwrap().external_id;
    let dossier = save_dossier(&store, commune, "case1", &roux(Some(&external_id), &[]));
    assert_eq!(
        reconcile(&store, dossier),
        Outcome::Attached { family_id: family }
    );
    let how: String = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT how FROM family_dossiers WHERE dossier_id = ?1",
                [dossier],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(how, "external_id");
    assert_eq!(store.read(|c| get(c, family)).unwrap().members.len(), 2);
    // Someone else's code falls through to the identity.
    let other = save_dossier(
        &store,
        commune,
        "case2",
        &roux(Some("INSCR-2026-000417"), &[]),
    );
    assert_eq!(
        reconcile(&store, other),
        Outcome::Attached { family_id: family }
    );
}

#[test]
fn the_same_applicant_and_children_is_a_sure_match() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, first));
    // A year later, spelt differently, with a third child: still sure (2 of 3 children known).
    let mut content = roux(None, &[]);
    content["pivot_identity"]["family_name"] = json!("Roux");
    content["pivot_identity"]["given_name"] = json!("jeanne stephanie");
    content["quotient_familial_v3"]["enfants"] = json!([
        person("ROUX", "ALEXIS VINCENT", "2016-04-20", "M"),
        person("ROUX", "FLEUR EDITH", "2019-09-02", "F"),
        person("ROUX", "MAËL", "2026-01-15", "M"),
    ]);
    content["quotient_familial_v3"]["quotient_familial"]["annee"] = json!(2027);
    let second = save_dossier(&store, commune, "case2", &content);
    assert_eq!(
        reconcile(&store, second),
        Outcome::Attached { family_id: family }
    );
    let family = store.read(|c| get(c, family)).unwrap();
    assert_eq!(
        family.members.len(),
        5,
        "the new child is added, nobody twice"
    );
    assert_eq!(family.history.len(), 2);
    assert_eq!(family.history[0].annee, 2027, "newest first");
}

#[test]
fn the_co_allocataire_sending_the_form_is_a_sure_match_too() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, first));
    let mut content = roux(None, &roux_children());
    content["pivot_identity"] = json!({"birthcountry": "99100", "birthdate": "1979-05-19",
        "birthplace": "13055", "family_name": "ROUX", "given_name": "Loïc Nathan",
        "gender": "male"});
    let second = save_dossier(&store, commune, "case2", &content);
    assert_eq!(
        reconcile(&store, second),
        Outcome::Attached { family_id: family }
    );
    let family = store.read(|c| get(c, family)).unwrap();
    assert_eq!(family.members.len(), 4);
    let pivot = family.pivot().unwrap();
    assert_eq!(
        (pivot.prenoms.as_str(), pivot.commune_naissance.as_deref()),
        ("LOIC NATHAN", Some("13055")),
        "the latest certified identity is the pivot, completing the stored member"
    );
}

#[test]
fn the_same_applicant_with_only_new_children_is_doubtful_and_waits_for_the_agent() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, first));
    let content = roux(None, &[person("ROUX", "NOÉ", "2025-03-03", "M")]);
    let second = save_dossier(&store, commune, "case2", &content);
    let Outcome::Pending { candidates } = reconcile(&store, second) else {
        panic!("expected candidates");
    };
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].family_id, family);
    assert!((reconcile::DOUBTFUL..reconcile::SURE).contains(&candidates[0].score));
    let waiting = store.read(|c| reconcile::pending(c, commune)).unwrap();
    assert_eq!(waiting, vec![(second, candidates.clone())]);
    // The agent attaches it: the candidates are gone, the history has both QFs.
    store
        .write(|tx| attach_dossier(tx, second, family, "Inès", now()))
        .unwrap();
    assert!(store
        .read(|c| reconcile::pending(c, commune))
        .unwrap()
        .is_empty());
    let family = store.read(|c| get(c, family)).unwrap();
    assert_eq!(family.dossiers.len(), 2);
    assert_eq!(family.history.len(), 2);
    assert_eq!(family.members.len(), 5);
}

#[test]
fn a_misspelt_first_name_is_doubtful_and_the_agent_may_create_a_new_family() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, first));
    let mut content = roux(None, &roux_children());
    content["pivot_identity"]["given_name"] = json!("Jeanne Stefanie");
    let second = save_dossier(&store, commune, "case2", &content);
    let Outcome::Pending { candidates } = reconcile(&store, second) else {
        panic!("expected candidates");
    };
    assert_eq!(candidates[0].family_id, family);
    let new = store
        .write(|tx| create_from_dossier(tx, second, "Inès", now(), &mut random()))
        .unwrap();
    assert_ne!(new, family);
    assert!(store
        .read(|c| reconcile::pending(c, commune))
        .unwrap()
        .is_empty());
}

#[test]
fn another_person_with_the_same_name_is_no_match() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, first));
    // Same names and birth date, born elsewhere, other children: another Jeanne Roux.
    let mut content = roux(None, &[person("ROUX", "PAUL", "2012-02-02", "M")]);
    content["pivot_identity"]["birthplace"] = json!("75056");
    content["quotient_familial_v3"]["allocataires"] =
        json!([person("ROUX", "JEANNE STEPHANIE", "1987-06-27", "F")]);
    let second = save_dossier(&store, commune, "case2", &content);
    let other = created(reconcile(&store, second));
    assert_ne!(other, family);
    // A different family altogether.
    let mut content = roux(None, &[]);
    content["pivot_identity"] = json!({"birthcountry": "99135", "birthdate": "1990-01-01",
        "family_name": "MARTIN", "given_name": "Luc", "gender": "male"});
    content["quotient_familial_v3"]["allocataires"] = json!([]);
    let third = save_dossier(&store, commune, "case3", &content);
    let third = created(reconcile(&store, third));
    let pivot = store.read(|c| get(c, third)).unwrap();
    let pivot = pivot.pivot().unwrap();
    assert_eq!(pivot.pays_naissance.as_deref(), Some("99135"));
    assert_eq!(pivot.commune_naissance, None);
}

#[test]
fn a_dossier_not_read_yet_is_not_reconciled() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let new = NewDossier {
        commune_id: commune,
        case_id: "case1".into(),
        case_external_id: None,
        demande: None,
        raw_json: None,
        statut: Statut::Incomplet,
        reason: Some("Un fichier manque.".into()),
        files: Vec::new(),
    };
    let id = store
        .write(|tx| dossiers::save(tx, &new, now()))
        .unwrap()
        .id();
    let error = store
        .write(|tx| reconcile_dossier(tx, id, "Paul", now(), &mut random()))
        .unwrap_err();
    assert_eq!(error.code, Code::Validation);
}

#[test]
fn merging_keeps_every_member_once_all_history_and_the_absorbed_external_id() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let kept = created(reconcile(&store, first));
    let mut content = roux(None, &roux_children());
    content["pivot_identity"]["given_name"] = json!("Jeanne Stefanie");
    content["quotient_familial_v3"]["quotient_familial"]["mois"] = json!(8);
    let second = save_dossier(&store, commune, "case2", &content);
    store.read(|c| reconcile::pending(c, commune)).unwrap();
    let absorbed = store
        .write(|tx| create_from_dossier(tx, second, "Paul", now(), &mut random()))
        .unwrap();
    let today = date(2026, 9, 1);
    store
        .write(|tx| {
            record_paper(
                tx,
                absorbed,
                &PaperAttestation {
                    valeur: Some(1200),
                    annee: Some(2026),
                    mois: Some(6),
                    fournisseur: "msa".into(),
                    document: Some(DocumentType::AttestationPaiement),
                },
                "Paul",
                today,
                now(),
            )?;
            set_opt_out(
                tx,
                absorbed,
                Some((date(2026, 8, 20), Channel::Courriel)),
                "Paul",
                today,
                now(),
            )?;
            set_notes(tx, absorbed, "Appeler après 17 h.")
        })
        .unwrap();
    let gone = store.read(|c| get(c, absorbed)).unwrap();
    store
        .write(|tx| merge(tx, kept, absorbed, "Inès", now()))
        .unwrap();
    let family = store.read(|c| get(c, kept)).unwrap();
    // Jeanne Stéphanie and Jeanne Stefanie are one person (same first name and birth date).
    assert_eq!(family.members.len(), 4, "{:?}", family.members);
    assert_eq!(family.members.iter().filter(|m| m.pivot).count(), 1);
    assert_eq!(family.history.len(), 3);
    assert_eq!(family.dossiers, vec![first, second]);
    assert_eq!(family.notes, "Appeler après 17 h.");
    assert_eq!(family.opt_out.as_ref().unwrap().channel, Channel::Courriel);
    assert_eq!(
        store.read(|c| get(c, absorbed)).unwrap_err().code,
        Code::NotFound
    );
    // A letter sent with the absorbed code still finds the family.
    assert_eq!(
        store
            .read(|c| find_by_external_id(c, commune, &gone.external_id))
            .unwrap(),
        Some(kept)
    );
    let content = roux(Some(&gone.external_id), &[]);
    let third = save_dossier(&store, commune, "case3", &content);
    assert_eq!(
        reconcile(&store, third),
        Outcome::Attached { family_id: kept }
    );
    assert_eq!(
        store.read(|c| search(c, commune, "roux")).unwrap().len(),
        1,
        "the absorbed family left the index"
    );
    assert_eq!(
        store
            .write(|tx| merge(tx, kept, kept, "Inès", now()))
            .unwrap_err()
            .code,
        Code::Validation
    );
}

#[test]
fn search_ignores_case_and_accents_and_matches_prefixes_of_any_member() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let mut content = roux(None, &roux_children());
    content["quotient_familial_v3"]["enfants"][1]["prenoms"] = json!("Hélène-Zoé");
    content["quotient_familial_v3"]["enfants"][1]["nom_usage"] = json!("Lefèvre");
    let dossier = save_dossier(&store, commune, "abc", &content);
    let family = created(reconcile(&store, dossier));
    let other = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    store
        .write(|tx| {
            add_member(
                tx,
                other,
                &NewMember {
                    nom_naissance: "Rouxel".into(),
                    prenoms: "Marc".into(),
                    ..NewMember::default()
                },
                false,
                now(),
            )
        })
        .unwrap();
    let ids = |text: &str| {
        store
            .read(|c| search::search_ids(c, commune, text))
            .unwrap()
    };
    assert_eq!(ids("helene"), vec![family]);
    assert_eq!(ids("HÉLÈNE zoe"), vec![family]);
    assert_eq!(ids("lefevre"), vec![family], "the usage name too");
    assert_eq!(ids("loic"), vec![family], "the other allocataire");
    assert_eq!(
        ids("jean roux"),
        vec![family],
        "prefixes, every word required"
    );
    assert_eq!(ids("rouxel"), vec![other]);
    let mut both = ids("rou");
    both.sort();
    assert_eq!(both, vec![family, other]);
    assert!(ids("durand").is_empty());
    assert!(ids("  -- ").is_empty());
    assert_eq!(ids("\"roux"), ids("roux"), "quotes cannot break the query");
    // By external_id (any case) and by the dossier's reference.
    let external_id = store.read(|c| get(c, family)).unwrap().external_id;
    assert_eq!(ids(&external_id.to_uppercase()), vec![family]);
    assert_eq!(ids("0000000000ABC"), vec![family]);
    let found = store.read(|c| search(c, commune, "alexis")).unwrap();
    assert_eq!(found[0].external_id, external_id);
    assert!(found[0].names.starts_with("ROUX Jeanne Stéphanie"));
}

#[test]
fn the_opt_out_records_the_day_the_channel_and_who_entered_it() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let family = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    let today = date(2026, 9, 1);
    let error = store
        .write(|tx| {
            set_opt_out(
                tx,
                family,
                Some((date(2026, 9, 2), Channel::Courrier)),
                "Paul",
                today,
                now(),
            )
        })
        .unwrap_err();
    assert!(error.message.contains("futur"), "{}", error.message);
    store
        .write(|tx| {
            set_opt_out(
                tx,
                family,
                Some((date(2026, 8, 30), Channel::Courrier)),
                "Paul",
                today,
                now(),
            )
        })
        .unwrap();
    let opt_out = store.read(|c| get(c, family)).unwrap().opt_out.unwrap();
    assert_eq!(opt_out.requested_on, date(2026, 8, 30));
    assert_eq!(opt_out.channel, Channel::Courrier);
    assert_eq!(opt_out.recorded_by.as_deref(), Some("Paul"));
    assert_eq!(opt_out.recorded_at, Some(now()));
    store
        .write(|tx| set_opt_out(tx, family, None, "Paul", today, now()))
        .unwrap();
    assert_eq!(store.read(|c| get(c, family)).unwrap().opt_out, None);
    assert_eq!(
        store
            .write(|tx| set_opt_out(tx, 999, None, "Paul", today, now()))
            .unwrap_err()
            .code,
        Code::NotFound
    );
}

#[test]
fn a_paper_attestation_is_checked_field_by_field() {
    let today = date(2026, 9, 15);
    let good = PaperAttestation {
        valeur: Some(845),
        annee: Some(2026),
        mois: Some(9),
        fournisseur: "CAF".into(),
        document: Some(DocumentType::AttestationQuotientFamilial),
    };
    let qf = check_paper(&good, today).unwrap();
    assert_eq!(qf.fournisseur, "CNAF");
    assert_eq!(qf.valeur, Some(845));
    let message = |paper: PaperAttestation| check_paper(&paper, today).unwrap_err().message;
    assert!(message(PaperAttestation {
        valeur: None,
        ..good.clone()
    })
    .starts_with("Quotient familial : indiquez"));
    assert!(message(PaperAttestation {
        valeur: Some(0),
        ..good.clone()
    })
    .contains("entre 1 et 99999"));
    assert!(message(PaperAttestation {
        mois: None,
        ..good.clone()
    })
    .starts_with("Période"));
    assert!(message(PaperAttestation {
        mois: Some(13),
        ..good.clone()
    })
    .starts_with("Mois « 13 »"));
    assert!(message(PaperAttestation {
        mois: Some(10),
        ..good.clone()
    })
    .contains("le mois en cours"));
    assert!(message(PaperAttestation {
        annee: Some(2019),
        ..good.clone()
    })
    .contains("entre 2021"));
    assert!(message(PaperAttestation {
        fournisseur: "Impôts".into(),
        ..good.clone()
    })
    .starts_with("Organisme"));
    assert!(message(PaperAttestation {
        document: None,
        ..good.clone()
    })
    .starts_with("Type de document"));
    // The window shows every problem next to its field at once.
    let empty = PaperAttestation {
        valeur: None,
        annee: None,
        mois: None,
        fournisseur: String::new(),
        document: None,
    };
    let fields: Vec<PaperField> = paper_problems(&empty, today)
        .into_iter()
        .map(|p| p.field)
        .collect();
    assert_eq!(
        fields,
        [
            PaperField::Valeur,
            PaperField::Periode,
            PaperField::Fournisseur,
            PaperField::Document
        ]
    );
    assert!(paper_problems(&good, today).is_empty());
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let family = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    store
        .write(|tx| record_paper(tx, family, &good, "Paul", today, now()))
        .unwrap();
    let history = store.read(|c| history(c, family)).unwrap();
    assert_eq!(
        history[0].source,
        Source::AttestationPapier {
            document: DocumentType::AttestationQuotientFamilial
        }
    );
    assert_eq!(
        store
            .write(|tx| record_paper(tx, 999, &good, "Paul", today, now()))
            .unwrap_err()
            .code,
        Code::NotFound
    );
}

fn counter_identity() -> IdentityInput {
    IdentityInput {
        nom_naissance: "Roux".into(),
        nom_usage: None,
        prenoms: vec!["Jeanne".into(), "Stéphanie".into()],
        sexe: "F".into(),
        date_naissance: Some("1987-06-27".into()),
        pays_naissance: "99100".into(),
        commune_naissance: Some("69123".into()),
        commune_naissance_nom: None,
        departement_naissance: None,
    }
}

fn counter_result(valeur: Option<i64>) -> CounterResult {
    let p = |nom: &str, prenoms: &str, date: &str| CounterPerson {
        nom_naissance: Some(nom.into()),
        nom_usage: None,
        prenoms: Some(prenoms.into()),
        date_naissance: Some(date.into()),
        sexe: None,
    };
    CounterResult {
        quotient: Some(CounterQuotient {
            fournisseur: Some("CNAF".into()),
            valeur,
            annee: Some(2026),
            mois: Some(9),
            annee_calcul: None,
            mois_calcul: None,
        }),
        allocataires: Some(vec![p("ROUX", "JEANNE STEPHANIE", "27/06/1987")]),
        enfants: Some(vec![
            p("ROUX", "ALEXIS VINCENT", "20/04/2016"),
            p("ROUX", "FLEUR EDITH", "09/2019"),
        ]),
        adresse: None,
        request_id: None,
    }
}

#[test]
fn a_counter_result_creates_or_joins_the_family() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let today = date(2026, 9, 15);
    let save = |result: &CounterResult, destination| {
        store.write(|tx| {
            save_counter(
                tx,
                &CounterRecord {
                    commune_id: commune,
                    identity: &counter_identity(),
                    result,
                    destination,
                },
                "Paul",
                today,
                now(),
                &mut random(),
            )
        })
    };
    let family = created(save(&counter_result(None), Destination::Reconcile).unwrap());
    let stored = store.read(|c| get(c, family)).unwrap();
    assert_eq!(stored.members.len(), 3);
    assert_eq!(
        stored.pivot().unwrap().commune_naissance.as_deref(),
        Some("69123")
    );
    let fleur = &stored.members[2];
    assert_eq!(
        fleur.naissance,
        BirthParts {
            annee: Some(2019),
            mois: Some(9),
            jour: None
        }
    );
    assert_eq!(stored.history[0].valeur, None, "ressources non connues");
    assert_eq!(stored.history[0].source, Source::Guichet);
    // The next month at the counter: the same family, surely.
    let again = save(&counter_result(Some(702)), Destination::Reconcile).unwrap();
    assert_eq!(again, Outcome::Attached { family_id: family });
    let stored = store.read(|c| get(c, family)).unwrap();
    assert_eq!(stored.history.len(), 2);
    assert_eq!(stored.members.len(), 3);
    // A Hubee dossier of the same family joins it too.
    let dossier = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    assert_eq!(
        reconcile(&store, dossier),
        Outcome::Attached { family_id: family }
    );
    // The agent may still ask for a new family, and an identity the counter refuses is refused.
    let new = created(save(&counter_result(Some(702)), Destination::New).unwrap());
    assert_ne!(new, family);
    let mut bad = counter_identity();
    bad.nom_naissance = "R0ux".into();
    let error = store
        .write(|tx| {
            save_counter(
                tx,
                &CounterRecord {
                    commune_id: commune,
                    identity: &bad,
                    result: &counter_result(None),
                    destination: Destination::Family(family),
                },
                "Paul",
                today,
                now(),
                &mut random(),
            )
        })
        .unwrap_err();
    assert!(error.message.contains("chiffres"), "{}", error.message);
}

#[test]
fn birth_dates_are_read_with_unknown_parts() {
    assert_eq!(
        BirthParts::from_iso("1982-00-00"),
        BirthParts {
            annee: Some(1982),
            mois: None,
            jour: None
        }
    );
    assert_eq!(BirthParts::from_display("1982").iso(), "1982");
    assert_eq!(BirthParts::from_display("12/1982").iso(), "1982-12");
    assert_eq!(BirthParts::from_display("27/12/1982").iso(), "1982-12-27");
    assert!(BirthParts::from_iso("1982-12").compatible(&BirthParts::from_iso("1982-12-27")));
    assert!(!BirthParts::from_iso("1982-11").compatible(&BirthParts::from_iso("1982-12-27")));
}

#[test]
fn opening_a_family_journals_the_access_and_shows_sources_in_words() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let dossier = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, dossier));
    let today = date(2026, 9, 15);
    store
        .write(|tx| {
            record_paper(
                tx,
                family,
                &PaperAttestation {
                    valeur: Some(990),
                    annee: Some(2026),
                    mois: Some(8),
                    fournisseur: "CAF".into(),
                    document: Some(DocumentType::AttestationPaiement),
                },
                "Inès",
                today,
                now(),
            )
        })
        .unwrap();
    let journaled = |store: &Store| -> i64 {
        store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM journal WHERE action = 'famille_consultee'",
                    [],
                    |row| row.get(0),
                )?)
            })
            .unwrap()
    };
    assert_eq!(journaled(&store), 0, "reconciling is not an access");
    let shown = store
        .write(|tx| view::open(tx, family, "Inès", now()))
        .unwrap();
    assert_eq!(journaled(&store), 1);
    let reference: String = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT reference FROM journal WHERE action = 'famille_consultee'",
                [],
                |row| row.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(reference, format!("famille {}", shown.external_id));
    let labels: Vec<&str> = shown
        .history
        .iter()
        .map(|q| q.source_label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "Attestation papier (attestation de paiement)",
            "Dossier Hubee"
        ]
    );
    assert_eq!(shown.dossiers.len(), 1);
    assert_eq!(shown.dossiers[0].id, dossier);
    assert!(shown.dossiers[0].how.contains("création"));
    assert_eq!(
        store
            .write(|tx| view::open(tx, 999, "Inès", now()))
            .unwrap_err()
            .code,
        Code::NotFound
    );
}

#[test]
fn changes_from_the_family_screen_give_the_family_back_or_a_french_error() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let today = date(2026, 9, 15);
    let family = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    let apply = |change: view::FamilyChange| {
        store.write(|tx| view::change(tx, family, &change, "Inès", today, now()))
    };
    let shown = apply(view::FamilyChange::Notes {
        notes: "Appeler après 17 h".into(),
    })
    .unwrap();
    assert_eq!(shown.notes, "Appeler après 17 h");
    let missing_day = apply(view::FamilyChange::OptOut {
        requested_on: Some(" ".into()),
        channel: Some(Channel::Courriel),
    })
    .unwrap_err();
    assert!(missing_day.message.starts_with("Date de la demande"));
    let bad_day = apply(view::FamilyChange::OptOut {
        requested_on: Some("2026-02-30".into()),
        channel: Some(Channel::Courriel),
    })
    .unwrap_err();
    assert!(
        bad_day.message.contains("n'existe pas"),
        "{}",
        bad_day.message
    );
    let not_a_date = apply(view::FamilyChange::OptOut {
        requested_on: Some("le 3 septembre".into()),
        channel: Some(Channel::Courriel),
    })
    .unwrap_err();
    assert!(
        not_a_date.message.contains("jj/mm/aaaa"),
        "{}",
        not_a_date.message
    );
    let future = apply(view::FamilyChange::OptOut {
        requested_on: Some("16/09/2026".into()),
        channel: Some(Channel::Courriel),
    })
    .unwrap_err();
    assert!(future.message.contains("futur"), "{}", future.message);
    // Typed the French way where the date field is plain text.
    let typed = apply(view::FamilyChange::OptOut {
        requested_on: Some("02/09/2026".into()),
        channel: Some(Channel::Telephone),
    })
    .unwrap();
    assert_eq!(typed.opt_out.unwrap().requested_on, date(2026, 9, 2));
    let no_channel = apply(view::FamilyChange::OptOut {
        requested_on: Some("2026-09-01".into()),
        channel: None,
    })
    .unwrap_err();
    assert!(no_channel.message.starts_with("Moyen utilisé"));
    let shown = apply(view::FamilyChange::OptOut {
        requested_on: Some("2026-09-01".into()),
        channel: Some(Channel::Courrier),
    })
    .unwrap();
    let opt_out = shown.opt_out.unwrap();
    assert_eq!(opt_out.requested_on, date(2026, 9, 1));
    assert_eq!(opt_out.recorded_by.as_deref(), Some("Inès"));
    assert!(apply(view::FamilyChange::Resume).unwrap().opt_out.is_none());
    // The end of enrolment: a day that has happened, recorded with who entered it, clearable.
    let future_end = apply(view::FamilyChange::EnrolmentEnd {
        ended_on: Some("16/09/2026".into()),
    })
    .unwrap_err();
    assert!(
        future_end.message.starts_with("Date de fin d'inscription")
            && future_end.message.contains("futur"),
        "{}",
        future_end.message
    );
    let no_end = apply(view::FamilyChange::EnrolmentEnd { ended_on: None }).unwrap_err();
    assert!(no_end
        .message
        .starts_with("Date de fin d'inscription : indiquez"));
    let ended = apply(view::FamilyChange::EnrolmentEnd {
        ended_on: Some("2026-07-04".into()),
    })
    .unwrap()
    .enrolment_end
    .unwrap();
    assert_eq!(ended.ended_on, date(2026, 7, 4));
    assert_eq!(ended.recorded_by.as_deref(), Some("Inès"));
    assert!(apply(view::FamilyChange::EnrolmentResume)
        .unwrap()
        .enrolment_end
        .is_none());
    let other = store
        .write(|tx| create(tx, commune, "Paul", now(), &mut random()))
        .unwrap();
    let gone = store.read(|c| get(c, other)).unwrap().external_id;
    let merged = apply(view::FamilyChange::MergeWith { absorbed: other }).unwrap();
    assert_eq!(merged.id, family);
    assert_eq!(
        store
            .read(|c| find_by_external_id(c, commune, &gone))
            .unwrap(),
        Some(family)
    );
}

#[test]
fn waiting_dossiers_show_their_candidates_and_the_agent_settles_them() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let family = created(reconcile(&store, first));
    let content = roux(None, &[person("ROUX", "NOÉ", "2025-03-03", "M")]);
    let second = save_dossier(&store, commune, "case2", &content);
    assert!(matches!(reconcile(&store, second), Outcome::Pending { .. }));
    let waiting = store.read(|c| view::pending(c, commune)).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].dossier_id, second);
    assert!(
        waiting[0].applicant.contains("ROUX"),
        "{}",
        waiting[0].applicant
    );
    assert_eq!(waiting[0].candidates[0].family.id, family);
    assert!(waiting[0].candidates[0].family.names.contains("Jeanne"));
    let chosen = store
        .write(|tx| view::settle(tx, second, Some(family), "Inès", now(), &mut random()))
        .unwrap();
    assert_eq!(chosen, family);
    assert!(store
        .read(|c| view::pending(c, commune))
        .unwrap()
        .is_empty());
    // Settling again is refused in French: the dossier has its family.
    let again = store
        .write(|tx| view::settle(tx, second, None, "Inès", now(), &mut random()))
        .unwrap_err();
    assert_eq!(again.code, Code::Conflict);
}

#[test]
fn stored_dossiers_are_reconciled_once_and_a_failing_one_does_not_stop_the_others() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let first = save_dossier(&store, commune, "case1", &roux(None, &roux_children()));
    let second = save_dossier(&store, commune, "case2", &roux(None, &roux_children()));
    let unread = store
        .write(|tx| {
            dossiers::save(
                tx,
                &NewDossier {
                    commune_id: commune,
                    case_id: "case3".into(),
                    case_external_id: None,
                    demande: None,
                    raw_json: None,
                    statut: Statut::Incomplet,
                    reason: Some("fichier en attente".into()),
                    files: Vec::new(),
                },
                now(),
            )
        })
        .unwrap()
        .id();
    let pending = store.read(|c| reconcile::unreconciled(c, commune)).unwrap();
    assert_eq!(pending, vec![first, second], "an incomplete dossier waits");
    // A dossier whose content cannot be read fails alone.
    store
        .write(|tx| {
            tx.execute("UPDATE dossiers SET raw_json = '{' WHERE id = ?1", [second])?;
            Ok(())
        })
        .unwrap();
    let backlog = store
        .write(|tx| reconcile_pending(tx, commune, now(), &mut random()))
        .unwrap();
    assert_eq!(
        backlog,
        reconcile::Backlog {
            attached: 0,
            created: 1,
            pending: 0,
            failed: 1
        }
    );
    assert_eq!(
        store.read(|c| reconcile::unreconciled(c, commune)).unwrap(),
        vec![second]
    );
    assert!(!store
        .read(|c| reconcile::unreconciled(c, commune))
        .unwrap()
        .contains(&unread));
    let families: i64 = store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM families", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(families, 1, "the failed dossier's work was rolled back");
}

#[test]
fn the_counter_card_gets_the_family_or_the_candidates_to_choose_from() {
    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let today = date(2026, 9, 15);
    let save = |identity: &IdentityInput, destination| {
        store.write(|tx| {
            view::record_counter(
                tx,
                &CounterRecord {
                    commune_id: commune,
                    identity,
                    result: &counter_result(Some(702)),
                    destination,
                },
                "Paul",
                today,
                now(),
                &mut random(),
            )
        })
    };
    let saved = save(&counter_identity(), Destination::Reconcile).unwrap();
    let family = saved.family.clone().unwrap();
    assert!(matches!(saved.outcome, Outcome::Created { .. }));
    assert!(saved.candidates.is_empty());
    // A misspelt first name: the agent chooses.
    let mut doubtful = counter_identity();
    doubtful.prenoms = vec!["Jeanne".into(), "Stefanie".into()];
    let saved = save(&doubtful, Destination::Reconcile).unwrap();
    assert!(saved.family.is_none());
    assert_eq!(saved.candidates[0].family.id, family.id);
    let saved = save(&doubtful, Destination::Family(family.id)).unwrap();
    assert_eq!(saved.family.unwrap().id, family.id);
    let listing = store.read(|c| view::list_for_export(c, commune)).unwrap();
    assert_eq!(listing.len(), 1);
    let last = listing[0].last_qf.clone().unwrap();
    assert_eq!(
        (last.valeur, last.source_label.as_str()),
        (Some(702), "Guichet")
    );
}

#[test]
fn a_member_without_a_birth_year_is_recognised_by_all_names_and_never_added_twice() {
    let undated = |prenoms: &str, role| NewMember {
        role: Some(role),
        nom_naissance: "Roux".into(),
        prenoms: prenoms.into(),
        ..NewMember::default()
    };
    let dated = NewMember {
        naissance: BirthParts {
            annee: Some(2016),
            mois: Some(4),
            jour: Some(20),
        },
        ..undated("ALEXIS VINCENT", Role::Enfant)
    };
    // The same names with no year on one side: the same person.
    assert!(same_person(
        &undated("Alexis Vincent", Role::Enfant),
        &dated
    ));
    assert!(same_person(
        &undated("ALEXIS VINCENT", Role::Allocataire),
        &undated("alexis vincent", Role::Allocataire)
    ));
    // Without a year, one first name more or another birth name is another person.
    assert!(!same_person(&undated("ALEXIS", Role::Enfant), &dated));
    let mut other_name = undated("ALEXIS VINCENT", Role::Enfant);
    other_name.nom_naissance = "MARTIN".into();
    assert!(!same_person(&other_name, &dated));
    // With both years, two children still match by first name and date alone.
    let mut renamed = dated.clone();
    renamed.nom_naissance = "MARTIN".into();
    assert!(same_person(&renamed, &dated));

    let (_dir, store, commune) = crate::fixtures::store_with_commune();
    let family = store
        .write(|tx| {
            let id = create(tx, commune, "Paul", now(), &mut random())?;
            add_member(
                tx,
                id,
                &undated("ALEXIS VINCENT", Role::Enfant),
                false,
                now(),
            )?;
            add_member(tx, id, &dated, false, now())?;
            add_member(
                tx,
                id,
                &undated("Alexis Vincent", Role::Enfant),
                false,
                now(),
            )?;
            Ok(id)
        })
        .unwrap();
    let members = store.read(|c| members(c, family)).unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    // What the dated arrival knew is kept.
    assert_eq!(members[0].naissance.annee, Some(2016));
}
