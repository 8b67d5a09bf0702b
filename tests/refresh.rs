//! The QF refresh against the API Particulier simulator: a run asks each family once, skips
//! the opt-outs, journals every call, previews and applies; 429s are honoured without a
//! failure; a 401 mid-batch stops the run at once and it resumes once the token is good again;
//! 404 `23003`/`10003` go to an agent; 5xx are retried, then left for the resume; a run killed
//! midway resumes without asking an answered family again and without losing a result.
//!
//! Each test mints its own token: the limiter is shared per token across the process, and the
//! tests run in parallel.

#[path = "support/refresh_families.rs"]
mod refresh_families;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use guichet_qf::communes::{self, Commune, Environment, NewCommune};
use guichet_qf::families::{self, Channel, Source};
use guichet_qf::journal;
use guichet_qf::particulier::client::Clock;
use guichet_qf::particulier::connect;
use guichet_qf::particulier::ParticulierClient;
use guichet_qf::refresh::{self, Progress, RunOptions, RunState, Summary, Trigger};
use guichet_qf::simulators::clock::SimClock;
use guichet_qf::simulators::particulier::{
    Config, Fault, ParticulierSimulator, ProviderError, TokenRecord,
};
use guichet_qf::store::{self, Store, DATABASE_FILE};
use guichet_qf::vault::SecretString;
use jiff::{SignedDuration, Timestamp};

use refresh_families::{name_of, queries, seed};

const MAJASTRES: &str = "21040107100019";
const QF_SCOPES: [&str; 4] = [
    "cnaf_quotient_familial",
    "cnaf_allocataires",
    "cnaf_enfants",
    "cnaf_adresse",
];

/// After the CAF's November update: the run asks the current month.
fn november_22() -> Timestamp {
    "2026-11-22T09:00:00Z".parse().unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    commune: Commune,
    simulator: ParticulierSimulator,
    clock: SimClock,
    token: String,
}

async fn setup(rate_limit_per_second: u32) -> Setup {
    let clock = SimClock::running_from(november_22());
    let simulator = ParticulierSimulator::start(
        0,
        Config {
            clock: clock.clone(),
            rate_limit_per_second,
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let token = simulator.mint_token(
        &QF_SCOPES,
        november_22() + SignedDuration::from_hours(24 * 365),
    );
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&dir.path().join(DATABASE_FILE)).unwrap();
    let commune = communes::add(
        &store,
        &NewCommune {
            siret: MAJASTRES.into(),
            name: "Majastres".into(),
            cog: "04107".into(),
            environment: Environment::Simulateur,
        },
        november_22(),
    )
    .unwrap();
    Setup {
        _dir: dir,
        store,
        commune,
        simulator,
        clock,
        token,
    }
}

impl Setup {
    fn client(&self) -> ParticulierClient {
        let clock = self.clock.clone();
        let clock: Clock = std::sync::Arc::new(move || clock.now());
        connect::batch_client(
            &self.store,
            &guichet_qf::network::Network::direct(),
            self.simulator.url(),
            SecretString::from(self.token.clone()),
            clock,
        )
        .unwrap()
    }

    fn today(&self) -> jiff::civil::Date {
        self.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    fn start(&self, trigger: Trigger) -> i64 {
        let today = self.today();
        self.store
            .write(|tx| {
                refresh::start(
                    tx,
                    self.commune.id,
                    trigger,
                    "Paul Martin",
                    today,
                    self.clock.now(),
                )
            })
            .unwrap()
    }

    async fn run(
        &self,
        run_id: i64,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> guichet_qf::error::Result<Summary> {
        let client = self.client();
        let clock = self.clock.clone();
        refresh::run(
            &self.store,
            &client,
            &self.commune,
            run_id,
            &fast(10),
            &move || clock.now(),
            progress,
        )
        .await
    }

    fn blacklist(&self, blacklisted: bool) {
        let mut record = TokenRecord::from_claims(&self.token).unwrap();
        record.blacklisted = blacklisted;
        self.simulator.add_token(record);
    }
}

/// Every journal row, oldest first.
fn journal_rows(store: &Store) -> Vec<journal::Row> {
    store
        .read(|conn| {
            journal::list(
                conn,
                &journal::Filter::default(),
                &jiff::tz::TimeZone::UTC,
                10_000,
            )
        })
        .unwrap()
}

/// Production options with test-sized waits between retries.
fn fast(rate: u32) -> RunOptions {
    RunOptions {
        backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        ..RunOptions::at_rate(rate)
    }
}

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(name_of).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_asks_each_family_once_skips_opt_outs_previews_and_applies() {
    let setup = setup(20).await;
    // 0..4 keep their QF, 4..8 change, 8..12 have none yet; 12 opted out.
    let ids = seed(
        &setup.store,
        &setup.simulator,
        setup.commune.id,
        13,
        |i| 500 + i as i64,
        |i| match i {
            0..4 => Some(500 + i as u32),
            4..8 => Some(100),
            12 => Some(100),
            _ => None,
        },
    );
    setup
        .store
        .write(|tx| {
            families::set_opt_out(
                tx,
                ids[12],
                Some(("2026-10-01".parse().unwrap(), Channel::Courriel)),
                "Émilie Durand",
                "2026-11-22".parse().unwrap(),
                november_22(),
            )
        })
        .unwrap();
    let run_id = setup.start(Trigger::Programmee);
    let seen = Mutex::new(Vec::new());
    let summary = setup
        .run(run_id, &|p| seen.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(summary.state, RunState::Apercu);
    assert_eq!(
        (
            summary.total,
            summary.answered,
            summary.changed,
            summary.opted_out
        ),
        (12, 12, 8, 1)
    );
    assert_eq!(summary.pending + summary.to_review, 0);
    let seen = seen.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done));
    assert_eq!(
        seen.last().map(|p| (p.done, p.total, p.errors)),
        Some((12, 12, 0))
    );

    let (asked, answered) = queries(&setup.simulator);
    for name in names(0..12) {
        assert_eq!(asked.get(&name), Some(&1), "{name} asked once");
        assert_eq!(answered.get(&name), Some(&1));
    }
    assert!(
        !asked.contains_key(&name_of(12)),
        "the opt-out is never asked"
    );
    let rows = journal_rows(&setup.store);
    let calls: Vec<_> = rows
        .iter()
        .filter(|r| r.action == journal::Action::ConsultationQf)
        .collect();
    assert_eq!(calls.len(), 12);
    let external_ids: Vec<String> = ids[..12]
        .iter()
        .map(|id| {
            setup
                .store
                .read(|c| families::get(c, *id))
                .unwrap()
                .external_id
        })
        .collect();
    for row in &calls {
        assert_eq!(row.agent, journal::AGENT_SYSTEM);
        assert_eq!(row.motif.as_deref(), Some(refresh::MOTIF_SCHEDULED));
        assert_eq!(row.http_status, Some(200));
        assert!(external_ids.contains(row.reference.as_ref().unwrap()));
    }

    let preview = setup
        .store
        .read(|conn| refresh::preview(conn, run_id, setup.today()))
        .unwrap();
    assert_eq!(preview.headline, "8 familles changent de QF.");
    assert_eq!(preview.changes.len(), 8);
    assert!(preview.changes.iter().all(|c| c.valeur.is_some()));
    let untouched = setup.store.read(|c| families::history(c, ids[5])).unwrap();
    assert_eq!(
        untouched.len(),
        1,
        "nothing reaches the history before apply"
    );

    let written = setup
        .store
        .write(|tx| refresh::apply(tx, run_id, "Paul Martin", november_22()))
        .unwrap();
    assert_eq!(written, 8);
    let history = setup.store.read(|c| families::history(c, ids[5])).unwrap();
    assert_eq!(history[0].valeur, Some(505));
    assert_eq!(history[0].source, Source::Actualisation);
    assert_eq!((history[0].annee, history[0].mois), (2026, 11));
    assert_eq!(
        setup
            .store
            .read(|c| families::history(c, ids[1]))
            .unwrap()
            .len(),
        1,
        "an unchanged QF is not written again"
    );
    assert_eq!(
        setup.store.read(|c| families::history(c, ids[12])).unwrap()[0].valeur,
        Some(100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_answers_are_honoured_and_nothing_fails() {
    // The server allows 3 requests a second; the installation is configured for 10.
    let setup = setup(3).await;
    seed(
        &setup.store,
        &setup.simulator,
        setup.commune.id,
        15,
        |_| 700,
        |_| None,
    );
    let run_id = setup.start(Trigger::Manuelle);
    let summary = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!(summary.state, RunState::Apercu);
    assert_eq!(
        (summary.answered, summary.pending, summary.to_review),
        (15, 0, 0)
    );
    let limited = setup
        .simulator
        .requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert!(
        limited > 0,
        "the server's limit was hit, so 429s were honoured"
    );
    let (_, answered) = queries(&setup.simulator);
    assert!(names(0..15).iter().all(|n| answered.get(n) == Some(&1)));
    let rows = journal_rows(&setup.store);
    assert!(rows
        .iter()
        .all(|r| r.agent == "Paul Martin" && r.motif.as_deref() == Some(refresh::MOTIF_MANUAL)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_mid_batch_stops_at_once_and_the_run_resumes_afterwards() {
    let setup = setup(20).await;
    seed(
        &setup.store,
        &setup.simulator,
        setup.commune.id,
        30,
        |_| 800,
        |_| None,
    );
    let run_id = setup.start(Trigger::Programmee);
    let revoked = AtomicBool::new(false);
    let summary = setup
        .run(run_id, &|p| {
            if p.done >= 5 && !revoked.swap(true, Ordering::SeqCst) {
                setup.blacklist(true);
            }
        })
        .await
        .unwrap();
    assert_eq!(summary.state, RunState::Arretee);
    let reason = summary.stop_reason.clone().unwrap();
    assert!(reason.contains("révoqué"), "{reason}");
    assert!(summary.pending > 0 && summary.answered >= 5);
    let refused = setup
        .simulator
        .requests()
        .iter()
        .filter(|r| r.status == 401)
        .count();
    assert!(
        refused <= 3,
        "the run stopped at once, not after {refused} refusals"
    );
    let stored = setup.store.read(|c| refresh::summary(c, run_id)).unwrap();
    assert_eq!(stored.state, RunState::Arretee);

    setup.blacklist(false);
    let resumed = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!(resumed.state, RunState::Apercu);
    assert_eq!(resumed.answered, 30);
    let (_, answered) = queries(&setup.simulator);
    assert!(
        names(0..30).iter().all(|n| answered.get(n) == Some(&1)),
        "each family answered exactly once across both runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dossier_at_the_caisse_goes_to_an_agent_and_is_never_applied() {
    let setup = setup(20).await;
    let ids = seed(
        &setup.store,
        &setup.simulator,
        setup.commune.id,
        4,
        |_| 650,
        |_| Some(600),
    );
    // Before the CAF's monthly update, the current month answers 404 23003.
    setup.simulator.inject(Fault::EarlyMonth { on: true });
    let run_id = setup.start(Trigger::Programmee);
    let summary = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!(summary.state, RunState::Apercu);
    assert_eq!(
        (summary.to_review, summary.answered, summary.pending),
        (4, 0, 0)
    );
    let preview = setup
        .store
        .read(|c| refresh::preview(c, run_id, setup.today()))
        .unwrap();
    assert_eq!(preview.to_review.len(), 4);
    for review in &preview.to_review {
        assert!(review.message.starts_with("Plus de dossier CAF/MSA ?"));
        assert!(review.message.contains("n'est pas écartée"));
        assert_eq!(review.api_code.as_deref(), Some("23003"));
    }
    setup
        .store
        .write(|tx| refresh::apply(tx, run_id, "Paul Martin", november_22()))
        .unwrap();
    for id in &ids {
        let family = setup.store.read(|c| families::get(c, *id)).unwrap();
        assert_eq!(
            family.history.len(),
            1,
            "the family keeps its QF, nothing is rejected"
        );
    }

    // A MSA family without a dossier: 404 10003.
    setup.simulator.inject(Fault::EarlyMonth { on: false });
    setup.simulator.inject(Fault::ProviderError {
        error: ProviderError::NoMsaDossier,
        calls: 1,
    });
    let run_id = setup.start(Trigger::Manuelle);
    let summary = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!((summary.to_review, summary.answered), (1, 3));
    let preview = setup
        .store
        .read(|c| refresh::preview(c, run_id, setup.today()))
        .unwrap();
    assert_eq!(preview.to_review[0].api_code.as_deref(), Some("10003"));
    assert!(preview.to_review[0].message.contains("MSA"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_outages_are_retried_then_left_for_the_resume() {
    let setup = setup(20).await;
    seed(
        &setup.store,
        &setup.simulator,
        setup.commune.id,
        5,
        |_| 900,
        |_| None,
    );
    // Three 502 35001: retried within the run, every family ends answered.
    setup.simulator.inject(Fault::ProviderError {
        error: ProviderError::Unavailable,
        calls: 3,
    });
    let run_id = setup.start(Trigger::Programmee);
    let summary = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!(summary.state, RunState::Apercu);
    assert_eq!(summary.answered, 5);
    let failed = setup
        .simulator
        .requests()
        .iter()
        .filter(|r| r.status == 502)
        .count();
    assert_eq!(failed, 3);
    let journaled = journal_rows(&setup.store);
    assert_eq!(
        journaled.len(),
        8,
        "every call journaled, failures included"
    );
    setup
        .store
        .write(|tx| refresh::apply(tx, run_id, "Paul Martin", november_22()))
        .unwrap();

    // A long maintenance: each family is tried 3 times, then waits for the resume.
    setup.simulator.inject(Fault::ProviderError {
        error: ProviderError::Maintenance { retry_in: Some(1) },
        calls: 1_000,
    });
    let run_id = setup.start(Trigger::Programmee);
    let summary = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!(summary.state, RunState::Arretee);
    assert_eq!((summary.pending, summary.answered), (5, 0));
    assert!(summary.stop_reason.unwrap().contains("à la reprise"));
    let attempts: Vec<i64> = setup
        .store
        .read(|c| {
            let mut s = c.prepare("SELECT attempts FROM refresh_items WHERE run_id = ?1")?;
            let rows = s
                .query_map([run_id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(rows)
        })
        .unwrap();
    assert!(attempts.iter().all(|a| *a == 3), "{attempts:?}");
    setup.simulator.inject(Fault::Clear);
    let resumed = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!((resumed.state, resumed.answered), (RunState::Apercu, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_midway_resumes_without_asking_an_answered_family_again() {
    let setup = setup(20).await;
    let ids = seed(
        &setup.store,
        &setup.simulator,
        setup.commune.id,
        40,
        |i| 300 + i as i64,
        |_| None,
    );
    let run_id = setup.start(Trigger::Programmee);
    let done = AtomicU32::new(0);
    let killed = tokio::time::timeout(Duration::from_secs(60), async {
        let progress = |p: Progress| done.store(p.done, Ordering::SeqCst);
        let run = setup.run(run_id, &progress);
        let watch = async {
            while done.load(Ordering::SeqCst) < 15 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        // Dropping the run's future is what a closed window or a crash does to it.
        tokio::select! {
            _ = run => panic!("the run finished before it was killed"),
            _ = watch => {}
        }
    })
    .await;
    assert!(killed.is_ok());
    let before = setup.store.read(|c| refresh::summary(c, run_id)).unwrap();
    assert_eq!(before.state, RunState::EnCours, "as a crash leaves it");
    assert!(before.answered >= 15 && before.answered < 40);
    let answered_before: Vec<String> = setup
        .store
        .read(|c| {
            let mut s = c.prepare(
                "SELECT family_id FROM refresh_items WHERE run_id = ?1 AND state = 'fait'",
            )?;
            let rows = s
                .query_map([run_id], |r| r.get::<_, i64>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .unwrap()
        .into_iter()
        .map(|id| name_of(ids.iter().position(|x| *x == id).unwrap()))
        .collect();

    let resumed = setup.run(run_id, &|_| {}).await.unwrap();
    assert_eq!((resumed.state, resumed.answered), (RunState::Apercu, 40));
    let (asked, _) = queries(&setup.simulator);
    for name in &answered_before {
        assert_eq!(
            asked.get(name),
            Some(&1),
            "{name} answered before the kill, asked again"
        );
    }
    let twice = asked.values().filter(|n| **n > 1).count();
    assert!(
        twice <= 40 - answered_before.len() && asked.values().all(|n| *n <= 2),
        "only the calls in flight at the kill are asked again"
    );
    let preview = setup
        .store
        .read(|c| refresh::preview(c, run_id, setup.today()))
        .unwrap();
    assert_eq!(preview.changes.len(), 40, "every result kept");
    for (index, id) in ids.iter().enumerate() {
        let change = preview.changes.iter().find(|c| c.family_id == *id).unwrap();
        assert_eq!(change.valeur, Some(300 + index as u32));
    }
}
