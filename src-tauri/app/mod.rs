//! The Tauri shell: the window, its state, and the commands the web view may call.
//!
//! Thin on purpose. A command deserialises its arguments, checks who is at the desk, calls one
//! domain function and turns the error into the `{ code, message }` shape; anything smarter
//! belongs in a domain module, where the CLI and the tests can reach it without a window.
//! Secrets only ever travel from the web view to Rust (an agent typing a token), never back.

mod commands;
mod poller;
mod refresher;

use std::sync::{Arc, Mutex, RwLock};

use jiff::Timestamp;
use serde::Serialize;
use ts_rs::TS;

use crate::agents::Agent;
use crate::desk::{self, DeskSession};
use crate::error::{Code, Error, IpcError, Result};
use crate::launch::Launch;
use crate::settings;
use crate::store::{self, Store};
use crate::vault::{self, DataKey, Keystore, VaultStatus};

/// What the window should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AppState {
    Ready,
    /// No agent yet: the first-run wizard.
    FirstRun,
    /// The database cannot be opened: the recovery screen.
    StoreUnavailable,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppStatus {
    pub state: AppState,
    pub store_error: Option<IpcError>,
    pub vault: VaultStatus,
    /// The agent at the desk, `None` when locked.
    pub agent: Option<Agent>,
    pub idle_lock_minutes: u32,
    pub data_dir: String,
    /// The demonstration mode is on: fictitious data, simulators instead of the State.
    pub demo: bool,
}

/// The database, or why it could not be opened.
enum StoreSlot {
    Ready(Arc<Store>),
    Unavailable(Error),
}

/// The event that tells the page the token guardian learnt something new (payload: the
/// commune's id), so that it asks for the banners again.
pub const TOKEN_CHECKED_EVENT: &str = "token-checked";

/// Everything the commands share. Each part has its own lock, held for a statement or two and
/// never across an `.await`, so `std::sync` locks are the right tool.
pub struct Shell {
    launch: Launch,
    keystore: Box<dyn Keystore>,
    /// Probed once at start: asking the OS keystore can take a D-Bus round trip.
    keystore_available: bool,
    store: RwLock<StoreSlot>,
    key: Mutex<Option<DataKey>>,
    desk: Mutex<Option<DeskSession>>,
    /// The running demonstration, if any. An async lock: starting and stopping await the
    /// simulators while holding it, so that two clicks cannot start two demonstrations.
    demo: tokio::sync::Mutex<Option<RunningDemo>>,
    poller: poller::Poller,
    refresher: refresher::Refresher,
    /// When the window process started, for the time to the first paint in the log (support
    /// and `cargo bench --bench window`).
    started: std::time::Instant,
    painted: std::sync::atomic::AtomicBool,
}

/// The demonstration while it runs, and what it replaced.
struct RunningDemo {
    set: Arc<crate::simulators::demo::Demo>,
    /// Adds a dossier every minute, like families sending the form.
    arrivals: tauri::async_runtime::JoinHandle<()>,
    /// The real database, put back when the demonstration ends.
    real: StoreSlot,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shell {
    /// Opens the database and, where the OS keystore holds the vault key, the vault.
    pub fn start(launch: Launch, started: std::time::Instant, now: Timestamp) -> Shell {
        let keystore = launch.keystore();
        let keystore_available = keystore.available();
        let shell = Shell {
            launch,
            keystore,
            keystore_available,
            store: RwLock::new(StoreSlot::Unavailable(Error::new(Code::Internal, ""))),
            key: Mutex::new(None),
            desk: Mutex::new(None),
            demo: tokio::sync::Mutex::new(None),
            poller: poller::Poller::default(),
            refresher: refresher::Refresher::default(),
            started,
            painted: std::sync::atomic::AtomicBool::new(false),
        };
        let slot = match store::open(&shell.launch.database_path()) {
            Ok(store) => {
                shell.after_open(&store, now);
                StoreSlot::Ready(Arc::new(store))
            }
            Err(error) => {
                tracing::error!(error = %error.detail(), "database unavailable");
                StoreSlot::Unavailable(error)
            }
        };
        *shell.store.write().unwrap_or_else(|p| p.into_inner()) = slot;
        shell
    }

    /// Logs the time from the process start to the page's first drawn screen, the first time
    /// only (a reloaded page must not overwrite the figure).
    fn log_first_paint(&self) {
        use std::sync::atomic::Ordering;
        if !self.painted.swap(true, Ordering::Relaxed) {
            let milliseconds = self.started.elapsed().as_millis() as u64;
            tracing::info!(milliseconds, "first paint");
        }
    }

    /// Daily backup and vault opening, after the database was opened or restored.
    fn after_open(&self, store: &Store, now: Timestamp) {
        crate::setup::daily_backup(store, now);
        let key = if self.keystore_available {
            vault::open_with_keystore(store, self.keystore.as_ref()).unwrap_or_else(|error| {
                tracing::warn!(error = %error.detail(), "vault key not found in the keystore");
                None
            })
        } else {
            None
        };
        *lock(&self.key) = key;
    }

    fn store(&self) -> Result<Arc<Store>> {
        match &*self.store.read().unwrap_or_else(|p| p.into_inner()) {
            StoreSlot::Ready(store) => Ok(store.clone()),
            StoreSlot::Unavailable(error) => Err(Error::new(error.code, error.message.clone())),
        }
    }

    /// The agent at the desk, if the desk has not locked itself since the last action.
    fn agent(&self, now: Timestamp) -> Result<Agent> {
        let store = self.store()?;
        let idle = store.read(settings::get)?.idle_lock_minutes;
        let mut desk = lock(&self.desk);
        let session = desk.as_mut().ok_or_else(desk::locked)?;
        match session.check(now, idle) {
            Ok(agent) => Ok(agent.clone()),
            Err(error) => {
                *desk = None;
                Err(error)
            }
        }
    }

    /// The service URLs of `commune`'s environment: the demonstration's simulators for the
    /// fictitious commune, the launch overrides if any, the State's addresses otherwise.
    fn service_urls(
        &self,
        commune: &crate::communes::Commune,
    ) -> Result<crate::endpoints::ServiceUrls> {
        let simulators = self
            .demo
            .try_lock()
            .ok()
            .and_then(|running| running.as_ref().map(|demo| demo.set.urls()));
        crate::endpoints::resolve(
            commune.environment,
            &self.launch.endpoints,
            simulators.as_ref(),
        )
    }

    /// The Hubee client of `commune`: its credentials from the vault, the URLs of its
    /// environment (the demonstration's simulators for the fictitious commune).
    fn hubee_client(
        &self,
        store: &Store,
        commune: &crate::communes::Commune,
    ) -> Result<crate::hubee::HubeeClient> {
        let urls = self.service_urls(commune)?;
        let clock: crate::hubee::Clock = Arc::new(Timestamp::now);
        let key = self.key()?;
        let network = crate::network::load(store, Some(&key))?;
        crate::sync::connect::client_for(store, &key, &network, commune, &urls, clock)
    }

    /// The API Particulier client of `commune`: its token from the vault, the URL of its
    /// environment, and the token's rate limiter shared with every other caller.
    fn particulier_client(
        &self,
        store: &Store,
        commune: &crate::communes::Commune,
    ) -> Result<crate::particulier::ParticulierClient> {
        use crate::particulier::connect;
        let urls = self.service_urls(commune)?;
        let token = connect::token_of(store, &self.key()?, commune)?;
        let clock: crate::particulier::client::Clock = Arc::new(Timestamp::now);
        let network = self.network(store)?;
        connect::counter_client(store, &network, urls.particulier_url, token, clock)
    }

    /// The refresh batch's API Particulier client of `commune`: the same token and shared
    /// limiter as the counter, a batch's patience.
    fn particulier_batch_client(
        &self,
        store: &Store,
        commune: &crate::communes::Commune,
    ) -> Result<crate::particulier::ParticulierClient> {
        use crate::particulier::connect;
        let urls = self.service_urls(commune)?;
        let token = connect::token_of(store, &self.key()?, commune)?;
        let clock: crate::particulier::client::Clock = Arc::new(Timestamp::now);
        let network = self.network(store)?;
        connect::batch_client(store, &network, urls.particulier_url, token, clock)
    }

    /// Asks API Particulier about `commune_id`'s token and records the answer for the banners,
    /// then tells the page (`token-checked`) to ask for them again. A failure is only logged:
    /// the banner stays as it was and the next check tries again.
    async fn check_particulier_token(
        &self,
        handle: &tauri::AppHandle,
        commune_id: i64,
        now: Timestamp,
    ) {
        use crate::particulier::token;
        let run = async {
            let store = self.store()?;
            let commune = store.read(|conn| crate::communes::get(conn, commune_id))?;
            let Some(secret) = vault::get(
                &store,
                &self.key()?,
                commune.id,
                vault::SecretKind::ParticulierToken,
            )?
            else {
                return store.write(|tx| token::forget(tx, commune.id));
            };
            let client = self.particulier_client(&store, &commune)?;
            let info = token::inspect(&client, &secret)
                .await
                .map_err(Error::from)?;
            store.write(|tx| token::record(tx, commune.id, &info, now))
        };
        match run.await {
            Ok(()) => {
                use tauri::Emitter;
                if let Err(error) = handle.emit(TOKEN_CHECKED_EVENT, commune_id) {
                    tracing::warn!(%error, "token-checked event not sent");
                }
            }
            Err(error) => {
                tracing::warn!(commune = commune_id, error = %error.detail(), "token not checked")
            }
        }
    }

    /// The daily check of every commune's token (and of those never checked).
    async fn check_particulier_tokens_due(&self, handle: &tauri::AppHandle, now: Timestamp) {
        use crate::particulier::token;
        let Ok(store) = self.store() else {
            return;
        };
        let Ok(communes) = store.read(crate::communes::list) else {
            return;
        };
        for commune in communes {
            let configured = store
                .read(|conn| vault::statuses(conn, commune.id))
                .map(|statuses| {
                    statuses.iter().any(|s| {
                        s.kind == vault::SecretKind::ParticulierToken && s.configured_at.is_some()
                    })
                })
                .unwrap_or(false);
            let checked_at = store
                .read(|conn| token::recorded(conn, commune.id))
                .ok()
                .flatten()
                .map(|(_, at)| at);
            if configured && token::check_due(checked_at, now) {
                self.check_particulier_token(handle, commune.id, now).await;
            }
        }
    }

    /// Where the files an agent opens are written for the system viewer; emptied at every
    /// start so that families' documents do not pile up outside the database.
    fn viewer_dir(&self) -> std::path::PathBuf {
        self.launch.data_dir.join(crate::inbox::VIEWER_FOLDER)
    }

    fn administrator(&self, now: Timestamp) -> Result<Agent> {
        let agent = self.agent(now)?;
        desk::require_administrator(&agent)?;
        Ok(agent)
    }

    /// The town hall's network for every HTTP client of the window, with the proxy password
    /// when the vault is open.
    fn network(&self, store: &Store) -> Result<crate::network::Network> {
        let key = lock(&self.key).clone();
        crate::network::load(store, key.as_ref())
    }

    fn key(&self) -> Result<DataKey> {
        lock(&self.key).clone().ok_or_else(|| {
            Error::new(
                Code::VaultLocked,
                "Le coffre des secrets est verrouillé : saisissez la phrase de protection \
                 (Paramètres › Secrets).",
            )
        })
    }

    /// What « À propos » shows: the launch's paths, the web view's version and, when it is
    /// open, what the database says (the demonstration's while it runs).
    fn about(&self) -> crate::support::About {
        let demo = self
            .demo
            .try_lock()
            .map(|running| running.is_some())
            .unwrap_or(false);
        let engine = if cfg!(windows) {
            "WebView2"
        } else if cfg!(target_os = "macos") {
            "WKWebView"
        } else {
            "WebKitGTK"
        };
        let store = self.store().ok();
        crate::support::about(
            &crate::support::Installation {
                data_dir: &self.launch.data_dir,
                home_dir: self.launch.home_dir.as_deref(),
                webview: tauri::webview_version()
                    .ok()
                    .map(|version| format!("{engine} {version}")),
                keystore_available: self.keystore_available,
                demo,
            },
            store.as_deref(),
        )
    }

    fn status(&self, now: Timestamp) -> Result<AppStatus> {
        let data_dir = self.launch.data_dir.display().to_string();
        // `try_lock` is enough: while a start or stop holds the lock, the previous answer stands.
        let demo = self
            .demo
            .try_lock()
            .map(|running| running.is_some())
            .unwrap_or(false);
        let store = match self.store() {
            Ok(store) => store,
            Err(error) => {
                return Ok(AppStatus {
                    state: AppState::StoreUnavailable,
                    store_error: Some(error.to_ipc()),
                    vault: VaultStatus {
                        source: None,
                        unlocked: false,
                        keystore_available: self.keystore_available,
                    },
                    agent: None,
                    idle_lock_minutes: settings::DEFAULT_IDLE_LOCK_MINUTES,
                    data_dir,
                    demo,
                })
            }
        };
        let state = if crate::setup::needed(&store)? {
            AppState::FirstRun
        } else {
            AppState::Ready
        };
        let key = lock(&self.key).clone();
        let vault =
            store.read(|conn| vault::status(conn, self.keystore_available, key.as_ref()))?;
        let idle_lock_minutes = store.read(settings::get)?.idle_lock_minutes;
        let agent = {
            let mut desk = lock(&self.desk);
            if desk
                .as_ref()
                .is_some_and(|session| session.expired(now, idle_lock_minutes))
            {
                *desk = None;
            }
            desk.as_ref().map(|session| session.agent().clone())
        };
        Ok(AppStatus {
            state,
            store_error: None,
            vault,
            agent,
            idle_lock_minutes,
            data_dir,
            demo,
        })
    }

    fn replace_store(&self, slot: StoreSlot) -> StoreSlot {
        std::mem::replace(
            &mut *self.store.write().unwrap_or_else(|p| p.into_inner()),
            slot,
        )
    }

    /// Switches to the demonstration: its own database, vault key and agent at the desk.
    async fn start_demo(&self, handle: &tauri::AppHandle, now: Timestamp) -> Result<AppStatus> {
        let mut running = self.demo.lock().await;
        if running.is_none() {
            let started = crate::demonstration::start(
                &self.launch.data_dir,
                self.launch.demo_token_lifetime,
                now,
            )
            .await?;
            let set = Arc::new(started.set);
            let arrivals = {
                let set = set.clone();
                let period = self.launch.demo_arrival_period;
                let handle = handle.clone();
                tauri::async_runtime::spawn(async move {
                    loop {
                        tokio::time::sleep(period).await;
                        set.add_dossier();
                        // The real Hubee never pushes; the demonstration relèves at once so
                        // that the agent sees the dossier arrive.
                        use tauri::Manager;
                        handle.state::<Shell>().poller.request();
                    }
                })
            };
            let real = self.replace_store(StoreSlot::Ready(Arc::new(started.store)));
            *lock(&self.key) = Some(started.key);
            *lock(&self.desk) = Some(DeskSession::for_agent(started.agent, now));
            *running = Some(RunningDemo {
                set,
                arrivals,
                real,
            });
            tracing::info!("demonstration started");
            // The demonstration's token is new: the guardian looks at it at once.
            let handle = handle.clone();
            tauri::async_runtime::spawn(async move {
                use tauri::Manager;
                let shell = handle.state::<Shell>();
                shell
                    .check_particulier_tokens_due(&handle, Timestamp::now())
                    .await;
            });
        }
        drop(running);
        self.poller.forget();
        self.refresher.forget();
        self.poller.request();
        self.status(now)
    }

    /// Leaves the demonstration: the real database comes back, the desk locks.
    async fn stop_demo(&self, now: Timestamp) -> Result<AppStatus> {
        let mut running = self.demo.lock().await;
        if let Some(demo) = running.take() {
            demo.arrivals.abort();
            let _ = demo.arrivals.await;
            self.replace_store(demo.real);
            *lock(&self.desk) = None;
            *lock(&self.key) = None;
            if let Ok(store) = self.store() {
                self.after_open(&store, now);
            }
            match Arc::try_unwrap(demo.set) {
                Ok(set) => set.stop().await,
                Err(_) => tracing::warn!("demonstration simulators still shared; left to drop"),
            }
            tracing::info!("demonstration stopped");
        }
        drop(running);
        self.poller.forget();
        self.refresher.forget();
        self.status(now)
    }
}

/// Maps a domain error to the IPC shape, logging the technical detail.
fn ipc(error: Error) -> IpcError {
    tracing::warn!(error = %error.detail(), "command failed");
    error.to_ipc()
}

/// Opens the window; returns the exit code.
/// WebKitGTK composites the page with OpenGL by default. On a PC without a usable GPU driver
/// (old town-hall PCs, virtual desktops, Xvfb) that means Mesa's software renderer, whose
/// buffers cost about 70 MB in the web process for a page of forms that needs no GPU at all
/// (measured by `cargo bench --bench window`: 306 MB → 240 MB PSS). It also sidesteps the
/// GPU-driver crashes WebKitGTK is known for. Windows (WebView2) is not concerned.
#[cfg(target_os = "linux")]
fn lighten_webkit(window: &tauri::WebviewWindow) {
    let result = window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&webview.inner()) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    if let Err(error) = result {
        tracing::warn!(%error, "WebKit settings not applied");
    }
}

pub fn run() -> i32 {
    let started = std::time::Instant::now();
    let launch = match Launch::from_env() {
        Ok(launch) => launch,
        Err(error) => {
            eprintln!("Erreur : {}", error.message);
            return 1;
        }
    };
    let _log = crate::logging::init(&launch.data_dir, &launch.log_filter);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "window starting");
    let shell = Shell::start(launch, started, Timestamp::now());
    crate::inbox::clear_viewer_dir(&shell.viewer_dir());
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(shell)
        .setup(|app| {
            use tauri::Manager;
            #[cfg(target_os = "linux")]
            if let Some(window) = app.get_webview_window("main") {
                lighten_webkit(&window);
            }
            tauri::async_runtime::spawn(poller::run(app.handle().clone()));
            // The QF refresh: "Actualiser maintenant", and the schedule at start then hourly.
            tauri::async_runtime::spawn(refresher::run(app.handle().clone()));
            // The token guardian: at start, then every hour for the tokens not checked today.
            let guardian = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    let shell = guardian.state::<Shell>();
                    shell
                        .check_particulier_tokens_due(&guardian, Timestamp::now())
                        .await;
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
            });
            let handle = app.handle().clone();
            // A window left open for days still gets its daily backup, and the PAC file is
            // downloaded again once a day (at start too), so that a changed proxy is followed;
            // a failure keeps the last copy and is tried again the next hour.
            tauri::async_runtime::spawn(async move {
                loop {
                    let shell = handle.state::<Shell>();
                    if let Ok(store) = shell.store() {
                        let now = Timestamp::now();
                        crate::setup::daily_backup(&store, now);
                        if let Err(error) =
                            crate::network::pac::refresh_if_stale(&store, now).await
                        {
                            tracing::warn!(error = %error.detail(), "PAC file not downloaded again");
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
            });
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    match result {
        Ok(()) => 0,
        Err(error) => {
            tracing::error!(%error, "window failed");
            eprintln!("Erreur : la fenêtre de Guichet QF n'a pas pu s'ouvrir ({error}).");
            1
        }
    }
}
