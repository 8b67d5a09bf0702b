//! The window's QF refresh loop: "Actualiser maintenant" for an agent, and the commune's
//! schedule checked at start and every hour.
//!
//! A refresh takes minutes (2 000 families at 10 per second), so it never runs inside a
//! command: the command asks, this loop runs [`refresh::start_and_run`] on the async runtime
//! and sends its progress to the web view as `refresh-state` events, so the window never
//! freezes and the Actualisation screen shows the bar wherever the agent was. The schedule's
//! decision is the domain's ([`refresh::next_step`]): a run interrupted by a crash or a closed
//! window is resumed, a due one is started with the agent "système"; nothing is applied
//! without an agent (the preview waits on the screen).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use ts_rs::TS;

use super::{lock, Shell};
use crate::communes::{self, Commune};
use crate::error::Result;
use crate::refresh::{self, Progress, RunOptions, Schedule, Step, Summary, Trigger};
use crate::vault;

/// The event the web view listens to.
pub const EVENT: &str = "refresh-state";

/// How often the schedule is looked at (requests wake the loop at once).
const SCHEDULE_EVERY: Duration = Duration::from_secs(3600);

/// Where a commune's refresh stands, for the Actualisation screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "RefreshView")]
pub struct RefreshView {
    #[ts(type = "number")]
    pub commune_id: i64,
    pub schedule: Schedule,
    /// Whether the commune has its API Particulier token: without it nothing is asked.
    pub configured: bool,
    pub running: bool,
    /// The running run's progress.
    pub progress: Option<Progress>,
    /// The latest run (running, stopped, waiting for "Appliquer", applied).
    pub latest: Option<Summary>,
    /// Why the last run could not even start (vault locked, no token), in French.
    pub last_error: Option<String>,
}

/// What the loop knows beyond the store.
#[derive(Debug, Clone, Default)]
struct Live {
    running: bool,
    progress: Option<Progress>,
    last_error: Option<String>,
}

/// The loop's shared state: the bell, the agents' requests and the live state per commune.
#[derive(Default)]
pub struct Refresher {
    wake: tokio::sync::Notify,
    /// "Actualiser maintenant": (commune, agent's name), in order.
    requests: Mutex<Vec<(i64, String)>>,
    live: Mutex<HashMap<i64, Live>>,
}

impl Refresher {
    /// "Actualiser maintenant" for `commune_id` by `agent`, as soon as the loop is free.
    pub fn request(&self, commune_id: i64, agent: String) {
        let mut requests = lock(&self.requests);
        if !requests.iter().any(|(id, _)| *id == commune_id) {
            requests.push((commune_id, agent));
        }
        drop(requests);
        lock(&self.live).entry(commune_id).or_default().running = true;
        self.wake.notify_one();
    }

    /// Forgets what was learnt about another database (the demonstration starts or stops).
    pub fn forget(&self) {
        lock(&self.live).clear();
        lock(&self.requests).clear();
    }

    /// The commune's refresh: its schedule and latest run from the store, the live part from
    /// the loop.
    pub fn view(&self, shell: &Shell, commune_id: i64) -> Result<RefreshView> {
        let store = shell.store()?;
        let (schedule, latest) = store.read(|conn| {
            communes::get(conn, commune_id)?;
            Ok((
                refresh::schedule(conn, commune_id)?,
                refresh::latest(conn, commune_id)?,
            ))
        })?;
        let configured = store
            .read(|conn| vault::statuses(conn, commune_id))?
            .iter()
            .any(|s| s.kind == vault::SecretKind::ParticulierToken && s.configured_at.is_some());
        let live = lock(&self.live)
            .get(&commune_id)
            .cloned()
            .unwrap_or_default();
        Ok(RefreshView {
            commune_id,
            schedule,
            configured,
            running: live.running,
            progress: live.progress.filter(|_| live.running),
            latest,
            last_error: live.last_error,
        })
    }
}

/// The loop; spawned once when the window starts.
pub async fn run(handle: AppHandle) {
    let mut last_schedule: Option<Instant> = None;
    loop {
        let requests = std::mem::take(&mut *lock(&handle.state::<Shell>().refresher.requests));
        for (commune_id, agent) in requests {
            once(&handle, commune_id, Trigger::Manuelle, &agent).await;
        }
        if last_schedule.is_none_or(|at| at.elapsed() >= SCHEDULE_EVERY) {
            last_schedule = Some(Instant::now());
            scheduled(&handle).await;
        }
        let shell = handle.state::<Shell>();
        tokio::select! {
            _ = tokio::time::sleep(SCHEDULE_EVERY) => {}
            _ = shell.refresher.wake.notified() => {}
        }
    }
}

/// The schedule of every commune with a token: resume what was interrupted, start what is due.
async fn scheduled(handle: &AppHandle) {
    let shell = handle.state::<Shell>();
    let Ok(store) = shell.store() else {
        return;
    };
    let Ok(list) = store.read(communes::list) else {
        return;
    };
    let today = Timestamp::now()
        .to_zoned(shell.launch.time_zone.clone())
        .date();
    for commune in list {
        let step =
            store.read(|conn| refresh::next_step(conn, commune.id, today, &shell.launch.time_zone));
        match step {
            Ok(Step::Rien) => {}
            Ok(Step::Reprendre(_) | Step::Lancer) => {
                once(handle, commune.id, Trigger::Programmee, "").await;
            }
            Err(error) => {
                tracing::warn!(commune = %commune.siret, error = %error.detail(), "refresh schedule unread")
            }
        }
    }
}

/// One run (started or resumed) for `commune_id`, its progress sent to the web view.
async fn once(handle: &AppHandle, commune_id: i64, trigger: Trigger, agent: &str) {
    let shell = handle.state::<Shell>();
    let emit = || match shell.refresher.view(&shell, commune_id) {
        Ok(view) => {
            if let Err(error) = handle.emit(EVENT, &view) {
                tracing::warn!(%error, "refresh state not sent to the window");
            }
        }
        Err(error) => tracing::warn!(error = %error.detail(), "refresh state unread"),
    };
    let update = |change: &dyn Fn(&mut Live)| {
        change(lock(&shell.refresher.live).entry(commune_id).or_default());
        emit();
    };
    update(&|live| {
        live.running = true;
        live.progress = None;
        live.last_error = None;
    });
    let outcome = async {
        let store = shell.store()?;
        let commune: Commune = store.read(|conn| communes::get(conn, commune_id))?;
        let client = shell.particulier_batch_client(&store, &commune)?;
        let options = RunOptions::at_rate(client.rate());
        let today = Timestamp::now()
            .to_zoned(shell.launch.time_zone.clone())
            .date();
        let progress = |progress: Progress| update(&|live| live.progress = Some(progress));
        refresh::start_and_run(
            &store,
            &client,
            &commune,
            trigger,
            agent,
            &options,
            today,
            &Timestamp::now,
            &progress,
        )
        .await
    }
    .await;
    let error = outcome.as_ref().err().map(|error| {
        tracing::warn!(commune = commune_id, error = %error.detail(), "refresh failed");
        error.message.clone()
    });
    update(&|live| {
        live.running = false;
        live.last_error = error.clone();
    });
}
