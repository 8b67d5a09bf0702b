//! Tests of the retention limits and the purge, on a store built with every data class at
//! both sides of each limit.

use std::path::Path;

use jiff::civil::{date, Date};
use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rusqlite::params;

use super::*;
use crate::families::{self, NewMember, NewQf, Role, Source};
use crate::fixtures::store_with_commune;
use crate::store::Store;

const AGENT: &str = "Claire Martin";

fn now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

fn today() -> Date {
    date(2026, 11, 23)
}

fn days_ago(days: i64) -> Timestamp {
    now().checked_sub((days * 24).hours()).unwrap()
}

fn months_ago(months: i64, plus_days: i64) -> Timestamp {
    now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_sub(months.months())
        .unwrap()
        .timestamp()
        .checked_add((plus_days * 24).hours())
        .unwrap()
}

/// A family with a pivot allocataire (full identity) and a child.
fn family(store: &Store, commune: i64, seed: u64) -> i64 {
    store
        .write(|tx| {
            let id = families::create(
                tx,
                commune,
                AGENT,
                days_ago(2000),
                &mut StdRng::seed_from_u64(seed),
            )?;
            let parent = NewMember {
                role: Some(Role::Allocataire),
                nom_naissance: format!("DUPONT{seed}"),
                prenoms: "MARIE CLAIRE".into(),
                sexe: Some("F".into()),
                naissance: BirthParts {
                    annee: Some(1985),
                    mois: Some(3),
                    jour: Some(4),
                },
                pays_naissance: Some("99100".into()),
                commune_naissance: Some("04107".into()),
                ..NewMember::default()
            };
            families::add_member(tx, id, &parent, true, days_ago(2000))?;
            let child = NewMember {
                role: Some(Role::Enfant),
                nom_naissance: format!("DUPONT{seed}"),
                prenoms: "LEO".into(),
                naissance: BirthParts {
                    annee: Some(2018),
                    mois: Some(5),
                    jour: Some(6),
                },
                ..NewMember::default()
            };
            families::add_member(tx, id, &child, false, days_ago(2000))?;
            Ok(id)
        })
        .unwrap()
}

fn end_enrolment(store: &Store, family: i64, on: Date) {
    store
        .write(|tx| families::set_enrolment_end(tx, family, Some(on), AGENT, today(), now()))
        .unwrap();
}

fn opt_out(store: &Store, family: i64, on: Date) {
    store
        .write(|tx| {
            families::set_opt_out(
                tx,
                family,
                Some((on, families::Channel::Courriel)),
                AGENT,
                today(),
                now(),
            )
        })
        .unwrap();
}

/// A QF typed at the counter at `recorded_at` for the month `annee`/`mois`.
fn qf(store: &Store, family: i64, recorded_at: Timestamp, annee: i32, mois: i32) -> i64 {
    let new = NewQf {
        valeur: Some(800),
        annee,
        mois,
        fournisseur: "CNAF".into(),
        source: Source::Guichet,
    };
    store
        .write(|tx| families::add_qf(tx, family, &new, AGENT, recorded_at))
        .unwrap()
}

/// A dossier with one PDF file; `decided_at` set makes it "traité" and acknowledged.
fn dossier(
    store: &Store,
    commune: i64,
    case: &str,
    statut: &str,
    decided_at: Option<Timestamp>,
    family: Option<i64>,
) -> i64 {
    let received = decided_at
        .unwrap_or(days_ago(3))
        .checked_sub(48.hours())
        .unwrap();
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO dossiers (commune_id, case_id, reference, statut, raw_json,
                 received_at, updated_at, acknowledged_at, decided_at)
                 VALUES (?1, ?2, ?2, ?3, '{}', ?4, ?4, ?5, ?6)",
                params![
                    commune,
                    case,
                    statut,
                    received.to_string(),
                    decided_at.map(|_| received.to_string()),
                    decided_at.map(|at| at.to_string()),
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO dossier_files (dossier_id, attachment_id, file_name, bytes, sha256)
                 VALUES (?1, 'a1', 'attestation.pdf', x'255044462d', 'x')",
                [id],
            )?;
            if let Some(family) = family {
                tx.execute(
                    "INSERT INTO family_dossiers (dossier_id, family_id, how, attached_at,
                     attached_by) VALUES (?1, ?2, 'agent', ?3, ?4)",
                    params![id, family, received.to_string(), AGENT],
                )?;
            }
            Ok(id)
        })
        .unwrap()
}

fn journal_row(store: &Store, at: Timestamp) {
    store
        .write(|tx| {
            journal::append(
                tx,
                &journal::Entry::new(at, AGENT, journal::Action::FamilleConsultee),
            )
        })
        .unwrap();
}

fn export_file(dir: &Path, name: &str, modified: Timestamp) {
    let path = dir.join(name);
    std::fs::write(&path, "a;b\r\n").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(std::time::SystemTime::from(modified))
        .unwrap();
}

fn ids(store: &Store, sql: &str) -> Vec<i64> {
    store
        .read(|conn| {
            let mut statement = conn.prepare(sql)?;
            let ids = statement
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(ids)
        })
        .unwrap()
}

fn count(store: &Store, table: &str) -> i64 {
    store
        .read(
            |conn| Ok(conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?),
        )
        .unwrap()
}

const TABLES: [&str; 10] = [
    "families",
    "family_members",
    "qf_history",
    "family_dossiers",
    "dossiers",
    "dossier_files",
    "refresh_runs",
    "refresh_items",
    "journal",
    "family_search",
];

fn snapshot(store: &Store) -> Vec<i64> {
    TABLES.iter().map(|table| count(store, table)).collect()
}

/// Everything of a purge's report that says what is removed, without who and when.
fn removed(report: &PurgeReport) -> serde_json::Value {
    let communes: Vec<_> = report
        .communes
        .iter()
        .map(|c| {
            serde_json::json!([
                c.commune_id,
                c.families,
                c.identities,
                c.qf_entries,
                c.refresh_runs,
                c.dossiers,
                c.dossier_files,
                c.kept_referenced,
                c.removed_from,
                c.removed_to
            ])
        })
        .collect();
    serde_json::json!([
        communes,
        report.journal_rows,
        report.journal_before,
        report.export_files
    ])
}

/// The store every purge test starts from, with the defaults' limits (QF 24 months, identity
/// 0 days, family 12 months, files 30 days, exports 7 days, journal 36 months), and what each
/// piece is, to check what went.
struct World {
    dir: tempfile::TempDir,
    store: Store,
    commune: i64,
    exports: std::path::PathBuf,
    /// Enrolled, three QFs: latest recent, one a day younger than 24 months, one a day older.
    enrolled: i64,
    qf_latest: i64,
    qf_young: i64,
    qf_old: i64,
    /// Enrolled, its only QF older than 24 months: kept, the basis of its tariff.
    enrolled_old_only: i64,
    qf_only: i64,
    /// Enrolment ended a day more than 12 months ago: goes whole with its closed dossier.
    gone: i64,
    gone_dossier: i64,
    /// Enrolment ended exactly 12 months ago: stays, its pivot identity cleared.
    ended_12_months: i64,
    /// Enrolment ended yesterday: identity cleared. Ended today: kept.
    ended_yesterday: i64,
    ended_today: i64,
    /// Ended long ago but an "incomplet" dossier: the family stays (identity cleared).
    held: i64,
    held_dossier: i64,
    /// Dossiers of the enrolled family closed 31 and 29 days ago.
    closed_31: i64,
    closed_29: i64,
    /// A "nouveau" dossier, never acknowledged, received years ago.
    new_old: i64,
    /// Closed dossiers of no family, a day older and a day younger than 24 months.
    orphan_old: i64,
    orphan_young: i64,
    /// Refresh runs: applied a day older and a day younger than 24 months, and an old one
    /// still waiting for an agent (unfinished runs stay).
    run_old: i64,
    run_young: i64,
    run_waiting: i64,
}

/// A refresh run started at `started` in `state`, with one item for `family`.
fn refresh_run(store: &Store, commune: i64, family: i64, started: Timestamp, state: &str) -> i64 {
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO refresh_runs (commune_id, started_at, trigger, agent, motif, annee,
                 mois, explicit_period, state, updated_at)
                 VALUES (?1, ?2, 'programmee', 'système', 'actualisation programmée', 2024, 11,
                         0, ?3, ?2)",
                params![commune, started.to_string(), state],
            )?;
            let run = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO refresh_items (run_id, family_id, state) VALUES (?1, ?2, 'en_attente')",
                params![run, family],
            )?;
            Ok(run)
        })
        .unwrap()
}

fn world() -> World {
    let (dir, store, commune) = store_with_commune();
    // Journal rows first, in time order: a day older and a day younger than 36 months.
    journal_row(&store, months_ago(36, -1));
    journal_row(&store, months_ago(36, 1));

    let enrolled = family(&store, commune, 1);
    let qf_old = qf(&store, enrolled, months_ago(24, -1), 2024, 10);
    let qf_young = qf(&store, enrolled, months_ago(24, 1), 2024, 11);
    let qf_latest = qf(&store, enrolled, days_ago(10), 2026, 10);

    let enrolled_old_only = family(&store, commune, 2);
    let qf_only = qf(&store, enrolled_old_only, months_ago(30, 0), 2024, 4);

    let gone = family(&store, commune, 3);
    qf(&store, gone, days_ago(500), 2025, 6);
    let gone_dossier = dossier(
        &store,
        commune,
        "gone",
        "traite",
        Some(days_ago(500)),
        Some(gone),
    );
    end_enrolment(&store, gone, date(2025, 11, 22));

    let ended_12_months = family(&store, commune, 4);
    end_enrolment(&store, ended_12_months, date(2025, 11, 23));

    let ended_yesterday = family(&store, commune, 5);
    // Its only QF, old: no tariff is based on it any more once the enrolment ended.
    qf(&store, ended_yesterday, days_ago(800), 2024, 8);
    end_enrolment(&store, ended_yesterday, date(2026, 11, 22));
    let ended_today = family(&store, commune, 6);
    end_enrolment(&store, ended_today, today());

    let held = family(&store, commune, 7);
    let held_dossier = dossier(&store, commune, "held", "incomplet", None, Some(held));
    end_enrolment(&store, held, date(2023, 1, 1));

    let closed_31 = dossier(
        &store,
        commune,
        "c31",
        "traite",
        Some(days_ago(31)),
        Some(enrolled),
    );
    let closed_29 = dossier(
        &store,
        commune,
        "c29",
        "refuse",
        Some(days_ago(29)),
        Some(enrolled),
    );
    let new_old = dossier(&store, commune, "new", "nouveau", None, None);
    store
        .write(|tx| {
            tx.execute(
                "UPDATE dossiers SET received_at = '2020-01-01T00:00:00Z' WHERE id = ?1",
                [new_old],
            )?;
            Ok(())
        })
        .unwrap();
    let orphan_old = dossier(
        &store,
        commune,
        "o-old",
        "cloture",
        Some(months_ago(24, -1)),
        None,
    );
    let orphan_young = dossier(
        &store,
        commune,
        "o-young",
        "traite",
        Some(months_ago(24, 1)),
        None,
    );

    let run_old = refresh_run(&store, commune, enrolled, months_ago(24, -1), "appliquee");
    let run_young = refresh_run(&store, commune, enrolled, months_ago(24, 1), "abandonnee");
    let run_waiting = refresh_run(&store, commune, enrolled, months_ago(30, 0), "apercu");

    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    export_file(&exports, "familles-2026-11-15-0930.csv", days_ago(8));
    export_file(
        &exports,
        "journal-des-acces-2026-11-15-0931-2.csv",
        days_ago(8),
    );
    export_file(&exports, "familles-2026-11-17-0930.csv", days_ago(6));
    export_file(&exports, "budget-2026.csv", days_ago(400));

    World {
        dir,
        store,
        commune,
        exports,
        enrolled,
        qf_latest,
        qf_young,
        qf_old,
        enrolled_old_only,
        qf_only,
        gone,
        gone_dossier,
        ended_12_months,
        ended_yesterday,
        ended_today,
        held,
        held_dossier,
        closed_31,
        closed_29,
        new_old,
        orphan_old,
        orphan_young,
        run_old,
        run_young,
        run_waiting,
    }
}

fn run(world: &World, dry_run: bool) -> PurgeReport {
    purge(
        &world.store,
        &Retention::default(),
        dry_run,
        AGENT,
        now(),
        today(),
        Some(&world.exports),
    )
    .unwrap()
}

fn pivot_birth_year(store: &Store, family: i64) -> Option<i32> {
    store
        .read(|conn| {
            Ok(families::get(conn, family)?
                .pivot()
                .and_then(|m| m.naissance.annee))
        })
        .unwrap()
}

#[test]
fn the_dry_run_removes_nothing_and_reports_exactly_what_the_real_run_removes() {
    let world = world();
    let before = snapshot(&world.store);
    let dry = run(&world, true);
    assert_eq!(snapshot(&world.store), before, "a dry run removes nothing");
    assert_eq!(std::fs::read_dir(&world.exports).unwrap().count(), 4);
    assert!(dry.dry_run);
    assert_eq!(dry.id, None);
    assert_eq!(
        dry.summary,
        "1 famille, 2 dossiers, 2 entrées de QF, 3 identités de référence, les fichiers Hubee \
         de 2 dossiers clos, 1 actualisation terminée, 1 ligne du journal des accès, 2 fichiers \
         d'export seront supprimés."
    );
    let planned = world
        .store
        .read(|conn| {
            plan(
                conn,
                &Retention::default(),
                today(),
                now(),
                Some(&world.exports),
            )
        })
        .unwrap();
    assert_eq!(removed(&planned), removed(&dry));

    let real = run(&world, false);
    assert_eq!(removed(&real), removed(&dry));
    assert!(!real.dry_run);
    assert!(real.id.is_some());
    assert!(real.summary.ends_with("ont été supprimés."));
    let commune = &real.communes[0];
    assert_eq!(
        (
            commune.families,
            commune.dossiers,
            commune.qf_entries,
            commune.identities,
            commune.dossier_files,
            commune.refresh_runs
        ),
        (1, 2, 2, 3, 2, 1)
    );

    // The rows that went are exactly those counted.
    let after = snapshot(&world.store);
    let gone: Vec<i64> = before.iter().zip(&after).map(|(b, a)| b - a).collect();
    // families 1; members 2 (the family's); QF 2 counted + 1 of the family; its link;
    // dossiers 2 (the family's and the old orphan); files of those 2 and of 2 closed dossiers;
    // journal: 1 purged, then the purge's row and the elimination's row added; search row.
    // refresh runs 1 with its item.
    assert_eq!(gone, vec![1, 2, 3, 1, 2, 4, 1, 1, 1 - 2, 1]);
    assert_eq!(
        ids(&world.store, "SELECT id FROM refresh_runs ORDER BY id"),
        vec![world.run_young, world.run_waiting]
    );
    let _ = world.run_old;
    assert_eq!(ids(&world.store, "SELECT id FROM families ORDER BY id"), {
        let mut kept = vec![
            world.enrolled,
            world.enrolled_old_only,
            world.ended_12_months,
            world.ended_yesterday,
            world.ended_today,
            world.held,
        ];
        kept.sort();
        kept
    });
    assert_eq!(
        ids(&world.store, "SELECT id FROM qf_history ORDER BY id"),
        vec![world.qf_young, world.qf_latest, world.qf_only]
    );
    let _ = world.qf_old;
    assert_eq!(
        ids(&world.store, "SELECT id FROM dossiers ORDER BY id"),
        vec![
            world.held_dossier,
            world.closed_31,
            world.closed_29,
            world.new_old,
            world.orphan_young
        ]
    );
    let _ = (world.gone, world.gone_dossier, world.orphan_old);
    assert_eq!(
        ids(
            &world.store,
            "SELECT dossier_id FROM dossier_files ORDER BY dossier_id"
        ),
        vec![world.held_dossier, world.closed_29, world.new_old]
    );
    assert_eq!(
        ids(
            &world.store,
            "SELECT id FROM dossiers WHERE files_eliminated_at IS NOT NULL AND raw_json IS NULL
             ORDER BY id"
        ),
        vec![world.closed_31, world.orphan_young]
    );
    // The inbox says the files went; the dossier is still there.
    let shown = world
        .store
        .read(|conn| crate::inbox::detail(conn, world.closed_31))
        .unwrap();
    assert_eq!(shown.files_eliminated_at, Some(now()));
    assert!(shown.files.is_empty());
    let mut left: Vec<String> = std::fs::read_dir(&world.exports)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec!["budget-2026.csv", "familles-2026-11-17-0930.csv"]
    );

    // Run again: nothing left to remove, nothing stored.
    let again = run(&world, false);
    assert!(again.is_empty(), "{}", again.summary);
    assert_eq!(again.id, None);
    assert_eq!(world.store.read(list).unwrap(), vec![real]);
    let _ = world.commune;
}

#[test]
fn identities_clear_after_the_end_of_enrolment_and_the_opt_out_not_before() {
    let world = world();
    run(&world, false);
    for (family, cleared) in [
        (world.ended_today, false),
        (world.ended_yesterday, true),
        (world.ended_12_months, true),
        (world.held, true),
        (world.enrolled, false),
    ] {
        assert_eq!(
            pivot_birth_year(&world.store, family).is_none(),
            cleared,
            "family {family}"
        );
    }
    let family = world
        .store
        .read(|conn| families::get(conn, world.ended_yesterday))
        .unwrap();
    assert_eq!(family.identity_cleared_at, Some(now()));
    let member = &family.members[0];
    assert_eq!(
        (
            member.nom_naissance.as_str(),
            member.sexe.as_deref(),
            member.pays_naissance.as_deref()
        ),
        ("DUPONT5", None, None),
        "the names stay, the identity goes"
    );
    // The child's birth date is part of the family file, not of the pivot identity.
    assert_eq!(family.members[1].naissance.annee, Some(2018));
}

#[test]
fn an_opt_out_clears_the_identity_after_the_delay_and_the_refresh_skips_the_family() {
    let (_dir, store, commune) = store_with_commune();
    let limits = Retention {
        identity_days: 10,
        ..Retention::default()
    };
    let younger = family(&store, commune, 1);
    opt_out(&store, younger, date(2026, 11, 13));
    let older = family(&store, commune, 2);
    opt_out(&store, older, date(2026, 11, 12));
    let report = purge(&store, &limits, false, AGENT, now(), today(), None).unwrap();
    assert_eq!(report.communes[0].identities, 1);
    assert_eq!(pivot_birth_year(&store, younger), Some(1985));
    assert_eq!(pivot_birth_year(&store, older), None);

    // The next refresh run plans the younger family (as an opt-out) and not the other.
    let planned = store
        .write(|tx| {
            let run = crate::refresh::plan(
                tx,
                commune,
                crate::refresh::Trigger::Manuelle,
                AGENT,
                today(),
                now(),
            )?;
            let mut statement =
                tx.prepare("SELECT family_id FROM refresh_items WHERE run_id = ?1")?;
            let ids = statement
                .query_map([run], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(ids)
        })
        .unwrap();
    assert_eq!(planned, vec![younger]);
}

#[test]
fn a_family_whose_enrolment_ended_is_not_refreshed_any_more() {
    let (_dir, store, commune) = store_with_commune();
    let still = family(&store, commune, 1);
    let ended = family(&store, commune, 2);
    end_enrolment(&store, ended, today());
    let planned = store
        .write(|tx| {
            let run = crate::refresh::plan(
                tx,
                commune,
                crate::refresh::Trigger::Manuelle,
                AGENT,
                today(),
                now(),
            )?;
            Ok(tx.query_row(
                "SELECT group_concat(family_id) FROM refresh_items WHERE run_id = ?1",
                [run],
                |row| row.get::<_, String>(0),
            )?)
        })
        .unwrap();
    assert_eq!(planned, still.to_string());
}

#[test]
fn the_journal_verifies_after_a_purge_and_records_it_without_names() {
    let world = world();
    let report = run(&world, false);
    let verification = world.store.read(journal::verify).unwrap();
    assert!(verification.intact, "{:?}", verification.reason);
    let rows = world
        .store
        .read(|conn| {
            journal::list(
                conn,
                &journal::Filter::default(),
                &jiff::tz::TimeZone::UTC,
                10,
            )
        })
        .unwrap();
    let actions: Vec<journal::Action> = rows.iter().map(|row| row.action).collect();
    assert!(actions.contains(&journal::Action::Purge));
    let elimination = rows
        .iter()
        .find(|row| row.action == journal::Action::Elimination)
        .expect("the elimination is journaled");
    assert_eq!(elimination.agent, AGENT);
    let detail = elimination.detail.clone().unwrap();
    assert!(detail.starts_with("1 famille, 2 dossiers"), "{detail}");
    assert!(
        detail.contains("ont été supprimés. Sauvegarde : guichet-qf-"),
        "{detail}"
    );
    assert!(detail.contains(report.backup_name.as_deref().unwrap()));
    assert!(!detail.contains("DUPONT"));
    // The row a day younger than 36 months is still there.
    assert_eq!(
        world
            .store
            .read(|conn| Ok(conn.query_row(
                "SELECT COUNT(*) FROM journal WHERE action = 'famille_consultee'",
                [],
                |r| r.get::<_, i64>(0)
            )?))
            .unwrap(),
        1
    );
}

#[test]
fn the_backup_is_made_before_and_holds_what_was_removed() {
    let world = world();
    let report = run(&world, false);
    let name = report.backup_name.clone().unwrap();
    let path = world.store.backups_dir().join(&name);
    assert!(path.exists(), "{name}");
    assert!(name.contains("securite"));
    let copy = rusqlite::Connection::open(&path).unwrap();
    let families: i64 = copy
        .query_row("SELECT COUNT(*) FROM families", [], |r| r.get(0))
        .unwrap();
    assert_eq!(families, 7, "the backup holds the family removed");
    let files: i64 = copy
        .query_row("SELECT COUNT(*) FROM dossier_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(files, 7);
    let _ = world.dir.path();
}

#[test]
fn a_dry_run_makes_no_backup_and_stores_nothing() {
    let world = world();
    run(&world, true);
    assert!(
        !world.store.backups_dir().exists()
            || std::fs::read_dir(world.store.backups_dir())
                .unwrap()
                .count()
                == 0
    );
    assert!(world.store.read(list).unwrap().is_empty());
}

#[test]
fn limits_are_saved_and_validated_in_french() {
    let (_dir, store, _) = store_with_commune();
    assert_eq!(store.read(get).unwrap(), Retention::default());
    let too_short = Retention {
        journal_months: 35,
        ..Retention::default()
    };
    let error = save(&store, &too_short).unwrap_err();
    assert_eq!(
        error.message,
        "Journal des accès : 36 mois au moins (conditions d'API Particulier et du formulaire QF)."
    );
    let unjustified = Retention {
        journal_months: 48,
        journal_justification: "  ".into(),
        ..Retention::default()
    };
    let error = save(&store, &unjustified).unwrap_err();
    assert_eq!(
        error.message,
        "Journal des accès : au-delà de 36 mois, indiquez la justification (elle est demandée \
         sur DataPass)."
    );
    let bad_qf = Retention {
        qf_history_months: 6,
        export_days: 400,
        ..Retention::default()
    };
    assert_eq!(problems(&bad_qf).len(), 2);
    assert_eq!(store.read(get).unwrap(), Retention::default());
    let justified = Retention {
        journal_months: 48,
        journal_justification: " Contrôle de la chambre régionale des comptes. ".into(),
        qf_history_months: 36,
        ..Retention::default()
    };
    let saved = save(&store, &justified).unwrap();
    assert_eq!(saved.journal_months, 48);
    assert_eq!(
        saved.journal_justification,
        "Contrôle de la chambre régionale des comptes."
    );
    assert_eq!(store.read(get).unwrap(), saved);
}

#[test]
fn the_summary_agrees_in_number_and_gender() {
    let one = |families, qf_entries, dossiers| CommunePurge {
        commune_id: 1,
        commune_siret: "21040107100019".into(),
        commune_name: "Majastres".into(),
        families,
        identities: 0,
        qf_entries,
        refresh_runs: 0,
        dossiers,
        dossier_files: 0,
        kept_referenced: 0,
        removed_from: None,
        removed_to: None,
        summary: String::new(),
    };
    assert_eq!(
        commune_summary(&one(1, 0, 0), true),
        "Majastres : 1 famille sera supprimée."
    );
    assert_eq!(
        commune_summary(&one(2, 3, 0), false),
        "Majastres : 2 familles, 3 entrées de QF ont été supprimées."
    );
    assert_eq!(
        commune_summary(&one(0, 0, 1), false),
        "Majastres : 1 dossier a été supprimé."
    );
    assert_eq!(
        commune_summary(&one(1, 0, 1), true),
        "Majastres : 1 famille, 1 dossier seront supprimés."
    );
}

#[test]
fn only_the_names_the_application_gives_are_export_files() {
    for name in [
        "familles-2026-11-23-0946.csv",
        "familles-2026-11-23-0946-2.csv",
        "journal-des-acces-2026-11-23-0946.csv",
    ] {
        assert!(is_app_export_name(name), "{name}");
    }
    for name in [
        "familles.csv",
        "familles-2026-11-23-0946.xlsx",
        "familles-2026-11-23-0946-.csv",
        "familles-2026-11-23-09466.csv",
        "Familles-2026-11-23-0946.csv",
        "budget-2026-11-23-0946.csv",
    ] {
        assert!(!is_app_export_name(name), "{name}");
    }
}

#[test]
fn a_dossier_another_family_still_names_is_kept_and_the_purge_succeeds() {
    let (_dir, store, commune) = store_with_commune();
    // The family that goes whole, with two closed dossiers attached to it.
    let gone = family(&store, commune, 1);
    let own = dossier(
        &store,
        commune,
        "own",
        "traite",
        Some(days_ago(500)),
        Some(gone),
    );
    let shared = dossier(
        &store,
        commune,
        "shared",
        "traite",
        Some(days_ago(500)),
        Some(gone),
    );
    end_enrolment(&store, gone, date(2025, 1, 10));
    // Another family, still enrolled, whose QF entry came from the second dossier.
    let other = family(&store, commune, 2);
    let entry = store
        .write(|tx| {
            tx.execute(
                "INSERT INTO qf_history (family_id, valeur, annee, mois, fournisseur, source,
                 dossier_id, recorded_at, agent)
                 VALUES (?1, 640, 2026, 10, 'CNAF', 'dossier_hubee', ?2, ?3, ?4)",
                params![other, shared, days_ago(20).to_string(), AGENT],
            )?;
            Ok(tx.last_insert_rowid())
        })
        .unwrap();

    let dry = purge(
        &store,
        &Retention::default(),
        true,
        AGENT,
        now(),
        today(),
        None,
    )
    .unwrap();
    let done = purge(
        &store,
        &Retention::default(),
        false,
        AGENT,
        now(),
        today(),
        None,
    )
    .expect("the purge never fails on a reference");
    assert_eq!(removed(&dry), removed(&done));
    let commune_report = &done.communes[0];
    assert_eq!(commune_report.families, 1);
    assert_eq!(commune_report.dossiers, 1);
    assert_eq!(commune_report.kept_referenced, 1);
    assert_eq!(dry.communes[0].kept_referenced, 1);
    assert!(
        commune_report.summary.ends_with(
            "1 dossier conservé car encore référencé par l'historique d'une autre famille."
        ),
        "{}",
        commune_report.summary
    );
    assert_eq!(
        ids(&store, "SELECT id FROM dossiers ORDER BY id"),
        vec![shared]
    );
    assert!(!ids(&store, "SELECT id FROM dossiers").contains(&own));
    assert_eq!(ids(&store, "SELECT id FROM families"), vec![other]);
    assert_eq!(
        ids(
            &store,
            "SELECT id FROM qf_history WHERE dossier_id IS NOT NULL"
        ),
        vec![entry]
    );
    // The stored purge keeps the count for the bordereau.
    let stored = store.read(list).unwrap();
    assert_eq!(stored[0].communes[0].kept_referenced, 1);
}
