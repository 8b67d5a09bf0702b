//! The refresh's pure rules (schedule, month asked) and its store side (planning, opt-outs,
//! preview, apply); the runs against the simulator are in `tests/refresh.rs`.

use super::*;
use crate::families::{self, BirthParts, Channel, NewMember, Role};

/// The families' codes: seeded, and different from one call to the next.
fn random() -> rand::rngs::StdRng {
    use rand::SeedableRng;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    rand::rngs::StdRng::seed_from_u64(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

#[test]
fn a_monthly_schedule_is_due_once_from_its_day_to_the_end_of_the_month() {
    let monthly = Schedule::Mensuelle { jour: 10 };
    assert!(!due(&monthly, None, date("2026-11-09")));
    assert!(due(&monthly, None, date("2026-11-10")));
    assert!(due(&monthly, Some(date("2026-10-12")), date("2026-11-30")));
    assert!(!due(&monthly, Some(date("2026-11-10")), date("2026-11-10")));
    assert!(!due(&monthly, Some(date("2026-11-15")), date("2026-11-20")));
    assert!(due(&monthly, Some(date("2026-11-15")), date("2026-12-10")));
    assert!(!due(&Schedule::Aucune, None, date("2026-11-15")));
}

#[test]
fn a_yearly_schedule_is_due_in_its_month_only() {
    let february = Schedule::Annuelle { mois: 2, jour: 1 };
    assert!(!due(&february, None, date("2027-01-31")));
    assert!(due(&february, None, date("2027-02-01")));
    assert!(due(&february, Some(date("2026-02-03")), date("2027-02-20")));
    assert!(!due(
        &february,
        Some(date("2027-02-02")),
        date("2027-02-20")
    ));
    assert!(
        !due(&february, None, date("2027-03-01")),
        "a missed window waits"
    );
}

#[test]
fn schedules_refuse_days_missing_from_some_months() {
    assert!(Schedule::Mensuelle { jour: 31 }.check().is_err());
    assert!(Schedule::Annuelle { mois: 13, jour: 1 }.check().is_err());
    assert!(Schedule::Annuelle { mois: 2, jour: 28 }.check().is_ok());
}

#[test]
fn before_the_cafs_monthly_update_the_previous_month_is_asked() {
    // November 2026 starts on a Sunday: the first weekend ends on the 1st, CAF data on the 2nd.
    assert_eq!(caf_update_day(2026, 11), date("2026-11-02"));
    // December 2026 starts on a Tuesday: first Sunday the 6th, data on the 7th.
    assert_eq!(caf_update_day(2026, 12), date("2026-12-07"));
    let (period, explicit) = period_for(date("2026-12-06"));
    assert_eq!((period.annee, period.mois, explicit), (2026, 11, true));
    let (period, explicit) = period_for(date("2026-12-07"));
    assert_eq!((period.annee, period.mois, explicit), (2026, 12, false));
    let (period, explicit) = period_for(date("2027-01-02"));
    assert_eq!((period.annee, period.mois, explicit), (2026, 12, true));
}

fn family(store: &Store, commune_id: i64, name: &str, qf: Option<u32>) -> i64 {
    let now = Timestamp::UNIX_EPOCH;
    store
        .write(|tx| {
            let id = families::create(tx, commune_id, "Émilie Durand", now, &mut random())?;
            let member = NewMember {
                role: Some(Role::Allocataire),
                nom_naissance: name.into(),
                prenoms: "ELODIE".into(),
                sexe: Some("F".into()),
                naissance: BirthParts {
                    annee: Some(1990),
                    mois: Some(3),
                    jour: None,
                },
                pays_naissance: Some("99100".into()),
                commune_naissance: Some("08480".into()),
                ..NewMember::default()
            };
            families::add_member(tx, id, &member, true, now)?;
            if let Some(valeur) = qf {
                let qf = NewQf {
                    valeur: Some(valeur),
                    annee: 2026,
                    mois: 10,
                    fournisseur: "CNAF".into(),
                    source: Source::Guichet,
                };
                families::add_qf(tx, id, &qf, "Émilie Durand", now)?;
            }
            Ok(id)
        })
        .unwrap()
}

fn answer(store: &Store, run_id: i64, family_id: i64, valeur: u32, previous: Option<u32>) {
    store
        .write(|tx| {
            tx.execute(
                "UPDATE refresh_items SET state = 'fait', valeur = ?3, annee = 2026, mois = 11,
                 fournisseur = 'CNAF', previous = ?4, changed = ?5
                 WHERE run_id = ?1 AND family_id = ?2",
                params![
                    run_id,
                    family_id,
                    valeur,
                    previous,
                    (previous != Some(valeur)) as i64
                ],
            )?;
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_run_plans_every_family_with_a_pivot_and_skips_opt_outs_and_applies_only_changes() {
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let now: Timestamp = "2026-11-22T08:00:00Z".parse().unwrap();
    let same = family(&store, commune_id, "BERNARD", Some(650));
    let new = family(&store, commune_id, "MARTIN", Some(400));
    let first = family(&store, commune_id, "PETIT", None);
    let refused = family(&store, commune_id, "DURAND", Some(900));
    store
        .write(|tx| {
            families::set_opt_out(
                tx,
                refused,
                Some((date("2026-10-01"), Channel::Courriel)),
                "Émilie Durand",
                date("2026-11-22"),
                now,
            )
        })
        .unwrap();
    let without_pivot = store
        .write(|tx| families::create(tx, commune_id, "Émilie Durand", now, &mut random()))
        .unwrap();

    let run_id = store
        .write(|tx| {
            start(
                tx,
                commune_id,
                Trigger::Programmee,
                "",
                date("2026-11-22"),
                now,
            )
        })
        .unwrap();
    let planned = store.read(|conn| summary(conn, run_id)).unwrap();
    assert_eq!(
        (planned.total, planned.opted_out, planned.pending),
        (3, 1, 3)
    );
    assert_eq!(planned.agent, journal::AGENT_SYSTEM);
    assert_eq!((planned.annee, planned.mois), (2026, 11));
    let items: Vec<i64> = store
        .read(|conn| {
            let mut s = conn.prepare("SELECT family_id FROM refresh_items WHERE run_id = ?1")?;
            let rows = s
                .query_map([run_id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(rows)
        })
        .unwrap();
    assert!(!items.contains(&without_pivot));
    assert_eq!(
        store
            .write(|tx| start(
                tx,
                commune_id,
                Trigger::Manuelle,
                "Paul",
                date("2026-11-22"),
                now
            ))
            .unwrap(),
        run_id,
        "an unfinished run is resumed, not doubled"
    );

    answer(&store, run_id, same, 650, Some(650));
    answer(&store, run_id, new, 450, Some(400));
    answer(&store, run_id, first, 300, None);
    store
        .write(|tx| {
            tx.execute(
                "UPDATE refresh_runs SET state = 'apercu' WHERE id = ?1",
                [run_id],
            )?;
            Ok(())
        })
        .unwrap();
    let preview = store
        .read(|conn| preview(conn, run_id, date("2026-11-22")))
        .unwrap();
    assert_eq!(preview.headline, "2 familles changent de QF.");
    assert_eq!(preview.changes.len(), 2);
    assert_eq!(preview.changes[0].name, "MARTIN ELODIE");
    assert_eq!(
        preview.summary.sentence(),
        "3 familles interrogées, 2 changent de QF, 0 à revoir, 0 en attente (1 famille \
         refusant l'actualisation, non interrogée)"
    );

    let written = store
        .write(|tx| apply(tx, run_id, "Paul Martin", now))
        .unwrap();
    assert_eq!(written, 2);
    let history = store.read(|conn| families::history(conn, new)).unwrap();
    assert_eq!(history[0].valeur, Some(450));
    assert_eq!(history[0].source, Source::Actualisation);
    assert_eq!(history[0].source.label(), "Actualisation");
    assert_eq!(history[0].agent, "Paul Martin");
    assert_eq!(
        store
            .read(|conn| families::history(conn, same))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.read(|conn| families::history(conn, refused)).unwrap()[0].valeur,
        Some(900)
    );
    let again = store.write(|tx| apply(tx, run_id, "Paul Martin", now));
    assert_eq!(again.unwrap_err().code, Code::Conflict);
}

#[test]
fn the_scheduler_resumes_an_interrupted_run_and_starts_a_due_one() {
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let tz = jiff::tz::TimeZone::UTC;
    let now: Timestamp = "2026-11-22T08:00:00Z".parse().unwrap();
    let today = date("2026-11-22");
    let step = |today| {
        store
            .read(|conn| next_step(conn, commune_id, today, &tz))
            .unwrap()
    };
    assert_eq!(step(today), Step::Rien);
    store
        .write(|tx| {
            set_schedule(
                tx,
                commune_id,
                &Schedule::Mensuelle { jour: 10 },
                "Paul",
                now,
            )
        })
        .unwrap();
    assert_eq!(
        store.read(|conn| schedule(conn, commune_id)).unwrap(),
        Schedule::Mensuelle { jour: 10 }
    );
    assert_eq!(step(today), Step::Lancer);
    let run_id = store
        .write(|tx| start(tx, commune_id, Trigger::Programmee, "", today, now))
        .unwrap();
    assert_eq!(step(today), Step::Reprendre(run_id));
    store
        .write(|tx| {
            tx.execute(
                "UPDATE refresh_runs SET state = 'apercu' WHERE id = ?1",
                [run_id],
            )?;
            Ok(())
        })
        .unwrap();
    assert_eq!(step(today), Step::Rien, "a preview waits for an agent");
    store.write(|tx| apply(tx, run_id, "Paul", now)).unwrap();
    assert_eq!(step(today), Step::Rien, "this month's run happened");
    assert_eq!(step(date("2026-12-10")), Step::Lancer);
}

#[test]
fn the_identity_asked_is_spelt_as_the_caisses_keep_it() {
    let member = families::Member {
        id: 1,
        role: Role::Allocataire,
        nom_naissance: "Lefèvre".into(),
        nom_usage: Some("Ben Saïd".into()),
        prenoms: "Jeanne  Stéphanie Chloé Zoé".into(),
        sexe: Some("F".into()),
        naissance: BirthParts {
            annee: Some(1987),
            mois: Some(6),
            jour: None,
        },
        pays_naissance: Some("99100".into()),
        commune_naissance: Some("69123".into()),
        commune_naissance_nom: None,
        departement_naissance: None,
        pivot: true,
    };
    let identity = identity_of(&member);
    assert_eq!(identity.nom_naissance, "LEFEVRE");
    assert_eq!(identity.nom_usage.as_deref(), Some("BEN SAID"));
    // At most three first names, each its own element.
    assert_eq!(identity.prenoms, ["JEANNE", "STEPHANIE", "CHLOE"]);
    assert_eq!(identity.date_naissance.as_deref(), Some("1987-06"));
    assert_eq!(identity.commune_naissance.as_deref(), Some("69123"));
}

#[test]
fn the_preview_counts_the_families_changing_bracket_in_todays_grids() {
    let (_dir, store, commune_id) = crate::fixtures::store_with_commune();
    let now: Timestamp = "2026-11-22T08:00:00Z".parse().unwrap();
    let today = date("2026-11-22");
    let mut cantine: crate::tariffs::Grid =
        serde_json::from_str(include_str!("../tariffs/testdata/champcevinel.json")).unwrap();
    (cantine.valid_from, cantine.valid_to) = (date("2026-09-01"), None);
    let mut later: crate::tariffs::Grid = serde_json::from_str(include_str!(
        "../tariffs/testdata/lieuvin_periscolaire.json"
    ))
    .unwrap();
    later.valid_from = date("2027-01-01");
    store
        .write(|tx| {
            crate::tariffs::store::save(tx, commune_id, &cantine, "Paul", now)?;
            crate::tariffs::store::save(tx, commune_id, &later, "Paul", now)
        })
        .unwrap();
    let same_bracket = family(&store, commune_id, "BERNARD", Some(590));
    let next_bracket = family(&store, commune_id, "MARTIN", Some(600));
    let first_qf = family(&store, commune_id, "PETIT", None);
    let run_id = store
        .write(|tx| start(tx, commune_id, Trigger::Manuelle, "Paul", today, now))
        .unwrap();
    // 590 → 610 stays in the canteen's first bracket, and would change bracket only in the
    // périscolaire grid, which starts in January.
    answer(&store, run_id, same_bracket, 610, Some(590));
    answer(&store, run_id, next_bracket, 630, Some(600));
    answer(&store, run_id, first_qf, 450, None);
    store
        .write(|tx| {
            tx.execute(
                "UPDATE refresh_runs SET state = 'apercu' WHERE id = ?1",
                [run_id],
            )?;
            Ok(())
        })
        .unwrap();
    let preview = store.read(|conn| preview(conn, run_id, today)).unwrap();
    assert_eq!(
        preview.headline,
        "3 familles changent de QF, 2 familles changent de tranche."
    );
    assert_eq!(preview.tranche_changes, 2);
    let tranches = |id| {
        preview
            .changes
            .iter()
            .find(|c| c.family_id == id)
            .unwrap()
            .tranches
            .clone()
    };
    assert_eq!(tranches(same_bracket), Vec::<String>::new());
    assert_eq!(
        tranches(next_bracket),
        vec!["cantine : Tranche 1 → Tranche 2"]
    );
    assert_eq!(
        tranches(first_qf),
        vec!["cantine : Tarif par défaut (QF non connu) → Tranche 1"]
    );
    let in_january = store
        .read(|conn| super::preview(conn, run_id, date("2027-01-04")))
        .unwrap();
    assert_eq!(
        in_january.headline,
        "3 familles changent de QF, 3 familles changent de tranche."
    );
}
