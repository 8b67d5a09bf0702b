//! The window's background Hubee poller: one loop that runs a sync pass for each configured
//! commune when its interval has passed, or at once when an agent clicks "Relever maintenant".
//!
//! Hubee only keeps dossiers until someone pulls them; it never pushes. So the open window asks
//! every few minutes (the `sync_interval_minutes` setting), and the scheduled `guichet-qf sync`
//! covers the hours when the window is closed. The loop wakes every [`TICK`] to compare each
//! commune's last attempt with the interval, which keeps the schedule right after a sleep of the
//! PC or a change of the setting without timers to cancel.
//!
//! Passes run one commune after the other, on the async runtime, never on the UI thread; their
//! progress goes to the web view as `sync-state` events, so the window never freezes and an
//! inbox opened mid-pass shows where it is. The loop goes on while the desk is locked: dossiers
//! keep arriving at lunchtime.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use rand::SeedableRng;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use ts_rs::TS;

use super::{lock, Shell};
use crate::communes::{self, Commune};
use crate::dossiers::{self, SyncHealth};
use crate::error::Result;
use crate::settings;
use crate::sync::{self, PassSummary, Progress};

/// How often the loop looks at the schedule.
const TICK: Duration = Duration::from_secs(30);

/// The event the web view listens to.
pub const EVENT: &str = "sync-state";

/// Where a commune's relevé stands, for the inbox header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SyncState {
    #[ts(type = "number")]
    pub commune_id: i64,
    pub running: bool,
    /// The batch being handled (from 1) and its progress.
    pub batch: u32,
    pub done: u32,
    pub total: u32,
    #[ts(type = "string | null")]
    pub last_attempt: Option<Timestamp>,
    #[ts(type = "string | null")]
    pub last_success: Option<Timestamp>,
    /// In French; `None` when the last pass completed.
    pub last_error: Option<String>,
    /// What the last pass of this window did, if it completed.
    pub last_summary: Option<SummaryView>,
    /// Whether the commune has its Hubee credentials: without them nothing is polled.
    pub configured: bool,
}

/// A completed pass, in the words of the CLI summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SummaryView {
    pub nouveaux: u32,
    pub deja_connus: u32,
    pub incomplets: u32,
    pub erreurs: u32,
    pub clotures: u32,
}

impl From<PassSummary> for SummaryView {
    fn from(summary: PassSummary) -> SummaryView {
        let n = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
        SummaryView {
            nouveaux: n(summary.nouveaux),
            deja_connus: n(summary.deja_connus),
            incomplets: n(summary.incomplets),
            erreurs: n(summary.erreurs),
            clotures: n(summary.clotures),
        }
    }
}

/// The poller's shared state: the wake-up bell and the last known state of each commune.
#[derive(Default)]
pub struct Poller {
    wake: tokio::sync::Notify,
    /// An agent asked for a pass of every commune now.
    requested: Mutex<bool>,
    states: Mutex<HashMap<i64, SyncState>>,
}

impl Poller {
    /// "Relever maintenant": every configured commune, as soon as the current pass ends.
    pub fn request(&self) {
        *lock(&self.requested) = true;
        self.wake.notify_one();
    }

    fn take_request(&self) -> bool {
        std::mem::take(&mut *lock(&self.requested))
    }

    /// The state of every commune of the current database, health read from the store.
    pub fn states(&self, shell: &Shell) -> Result<Vec<SyncState>> {
        let store = shell.store()?;
        let mut states = Vec::new();
        for commune in store.read(communes::list)? {
            let health = store.read(|conn| dossiers::sync_health(conn, commune.id))?;
            let configured = sync::connect::has_credentials(&store, &commune)?;
            let known = lock(&self.states).get(&commune.id).cloned();
            states.push(merge(&commune, known, &health, configured));
        }
        Ok(states)
    }

    /// Forgets what was learnt about another database (the demonstration starts or stops).
    pub fn forget(&self) {
        lock(&self.states).clear();
    }
}

/// The live state (running, progress) over the stored health.
fn merge(
    commune: &Commune,
    known: Option<SyncState>,
    health: &SyncHealth,
    configured: bool,
) -> SyncState {
    let known = known.unwrap_or_default();
    SyncState {
        commune_id: commune.id,
        last_attempt: health.last_attempt,
        last_success: health.last_success,
        last_error: health.last_error.clone(),
        configured,
        ..known
    }
}

/// The loop; spawned once when the window starts.
pub async fn run(handle: AppHandle) {
    loop {
        let requested = handle.state::<Shell>().poller.take_request();
        tick(&handle, requested).await;
        let shell = handle.state::<Shell>();
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shell.poller.wake.notified() => {}
        }
    }
}

/// One look at the schedule: a pass for each configured commune that is due (or all of them
/// when an agent asked).
async fn tick(handle: &AppHandle, requested: bool) {
    let shell = handle.state::<Shell>();
    let Ok(store) = shell.store() else {
        return;
    };
    let now = Timestamp::now();
    let (communes, interval) = match store.read(|conn| {
        Ok((
            communes::list(conn)?,
            settings::get(conn)?.sync_interval_minutes,
        ))
    }) {
        Ok(read) => read,
        Err(error) => {
            tracing::warn!(error = %error.detail(), "poller could not read the communes");
            return;
        }
    };
    for commune in communes {
        let due = match store.read(|conn| dossiers::sync_health(conn, commune.id)) {
            Ok(health) => requested || health.due(interval, now),
            Err(_) => false,
        };
        if !due || !sync::connect::has_credentials(&store, &commune).unwrap_or(false) {
            continue;
        }
        pass(handle, &shell, &commune).await;
    }
}

/// One pass for `commune`, its progress sent to the web view.
async fn pass(handle: &AppHandle, shell: &Shell, commune: &Commune) {
    let emit = |state: &SyncState| {
        if let Err(error) = handle.emit(EVENT, state) {
            tracing::warn!(%error, "sync state not sent to the window");
        }
    };
    let update = |change: &dyn Fn(&mut SyncState)| {
        let mut states = lock(&shell.poller.states);
        let state = states.entry(commune.id).or_insert_with(|| SyncState {
            commune_id: commune.id,
            configured: true,
            ..SyncState::default()
        });
        change(state);
        let state = state.clone();
        drop(states);
        emit(&state);
    };
    update(&|state| {
        state.running = true;
        state.batch = 0;
        state.done = 0;
        state.total = 0;
    });
    let now = Timestamp::now();
    let outcome = async {
        let store = shell.store()?;
        let client = shell.hubee_client(&store, commune)?;
        let progress = |progress: Progress| match progress {
            Progress::Batch { number, size } => update(&|state| {
                state.batch = u32::try_from(number).unwrap_or(u32::MAX);
                state.done = 0;
                state.total = u32::try_from(size).unwrap_or(u32::MAX);
            }),
            Progress::Notification { done, total } => update(&|state| {
                state.done = u32::try_from(done).unwrap_or(u32::MAX);
                state.total = u32::try_from(total).unwrap_or(u32::MAX);
            }),
        };
        // The operating system's randomness, for the `external_id` of the families created.
        let mut random = rand::rngs::StdRng::from_os_rng();
        sync::run_pass(&store, &client, commune, now, &mut random, &progress).await
    }
    .await;
    let health = shell
        .store()
        .and_then(|store| store.read(|conn| dossiers::sync_health(conn, commune.id)))
        .unwrap_or_default();
    // A pass that could not even start (vault locked, simulators stopped) is not in the store's
    // health: its message is shown from here.
    let error = outcome.as_ref().err().map(|error| {
        tracing::warn!(commune = %commune.siret, error = %error.detail(), "sync pass failed");
        error.message.clone()
    });
    update(&|state| {
        state.running = false;
        state.last_attempt = health.last_attempt.or(Some(now));
        state.last_success = health.last_success;
        state.last_error = error.clone().or_else(|| health.last_error.clone());
        if let Ok(summary) = &outcome {
            state.last_summary = Some((*summary).into());
        }
    });
}
