//! A fake Hubee on loopback, as a commune's software (an "SI") sees it, with formulaire-qf
//! (the "OSL") simulated behind it.
//!
//! The Hubee client of Guichet QF must be tested against every answer the real service gives,
//! refusals and breakdowns included, and agents must be able to train without real families.
//! This module follows `shared/specs/hubee.md` §12: the WSO2 token endpoint, the gateway's 401
//! `900901`, the `/teledossiers/v1` routes an SI uses with the error bodies and messages of §4,
//! the status transitions of §7, the three files of §8, and formulaire-qf's notification job of
//! §9. Tests drive it through `seed_formulaire_qf`, `run_osl_cycle`, `inject` and `requests`,
//! and move time with the shared `SimClock` instead of waiting. A base latency delays every
//! answer (it changes nothing else), and `max_in_flight` tells how many requests a client had
//! open at once: together they let tests and the sync benchmark see concurrency.
//!
//! `state` holds the model and its rules without HTTP; `server` is the HTTP face;
//! `formulaire_qf` renders a family's submission; `families` invents families.

mod families;
mod formulaire_qf;
mod server;
mod state;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use families::{caf_spelling, fictitious_dossiers};
pub use formulaire_qf::{
    FormulaireQf, Gender, Person, PivotIdentity, QuotientFamilial, Regime, RenderedFile, Sex,
};
pub use state::{
    digest, AttachmentStatus, SeededDossier, SeededFile, StatusMode, TransitionRules, PROCESS_CODE,
};

use super::clock::SimClock;
use server::{lock, Shared};
use state::Hubee;

/// How the simulator behaves; `Default` is the real Hubee as documented in 2024.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long an access token stays valid (one hour in production).
    pub token_lifetime: Duration,
    /// Answers notifications in random order, since Hubee does not guarantee any.
    pub shuffle_notifications: bool,
    /// The only time source of the simulator.
    pub clock: SimClock,
    /// Refuses token requests with a JSON body, as the token endpoint does since 2025.
    pub reject_json_token_requests: bool,
    /// Which previous statuses each `caseNewStatus` accepts.
    pub transition_rules: TransitionRules,
    /// Whether a status event moves the case (2024 contract) or must follow a `PATCH`.
    pub status_mode: StatusMode,
    /// Refuses ids that are not UUIDs with the gateway's 400. Off by default: real Hubee ids
    /// are declared UUIDs, but official examples and fixtures contain ids that are not.
    pub validate_uuids: bool,
    /// How long every request waits before it is handled, as a real network and gateway make
    /// it wait: the sync engine's concurrency only shows against a Hubee that takes time to
    /// answer. Zero by default; see also [`HubeeSimulator::set_latency`].
    pub latency: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            token_lifetime: Duration::from_secs(3600),
            shuffle_notifications: true,
            clock: SimClock::real(),
            reject_json_token_requests: true,
            transition_rules: TransitionRules::default(),
            status_mode: StatusMode::default(),
            validate_uuids: false,
            latency: Duration::ZERO,
        }
    }
}

/// The client id and secret of one subscription (one commune × one démarche).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

/// The routes a fault can be aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Token,
    ListNotifications,
    DeleteNotification,
    GetCase,
    GetAttachment,
    PostEvent,
    GetEvent,
    /// `PATCH /cases/{id}/events/{eid}` (or its `POST` override).
    PatchEvent,
    /// `PATCH /cases/{id}` (or its `POST` override).
    PatchCase,
    /// Whatever route comes next.
    Any,
}

/// What a failing call does instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Answers this status with an `{"errors":[…]}` body (500 "Internal server", 429…).
    Status(u16),
    /// Answers normally, but only after this delay (for client timeouts).
    Delay(Duration),
    /// Closes the connection without answering ("Socket Hang Up").
    HangUp,
}

/// The breakdowns of §12.12.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The next `times` calls to `route` fail with `failure`.
    Failing {
        route: Route,
        times: usize,
        failure: Failure,
    },
    /// Every token issued so far becomes invalid (401 `900901`), as on expiry mid-run.
    ExpireAllTokens,
    /// A second "new dossier" notification for a case already notified.
    DuplicateNotification { case_id: String },
    /// A case of another démarche for this commune, and its notification in the same queue.
    ForeignProcessNotification {
        siret: String,
        cog: String,
        process_code: String,
    },
    /// A file of the case takes this status (`PENDING` upload, `CORRUPTED` by the antivirus…).
    AttachmentStatus {
        case_id: String,
        file_name: String,
        status: AttachmentStatus,
    },
    /// The `digest` header of this file no longer matches its bytes.
    DigestMismatch { case_id: String, file_name: String },
    /// This file now holds these bytes, with a matching size and digest (a `FormulaireQF.json`
    /// that is not JSON, an older shape…).
    ReplaceFile {
        case_id: String,
        file_name: String,
        bytes: Vec<u8>,
    },
}

/// One request as the simulator received it, and the status it answered (`None` when the
/// connection was dropped or the answer is still being prepared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub editor_name: Option<String>,
    pub application_name: Option<String>,
    pub software_version: Option<String>,
    pub has_authorization: bool,
    /// The body of `POST` and `PATCH` calls to `/teledossiers/v1` (events, patches).
    pub body: Option<String>,
    pub status: Option<u16>,
}

/// A running simulator. `stop` waits for it to finish; dropping it also stops listening.
pub struct HubeeSimulator {
    address: SocketAddr,
    shared: Arc<Shared>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl HubeeSimulator {
    /// Listens on 127.0.0.1:`port` (0 lets the system choose).
    pub async fn start(port: u16, config: Config) -> std::io::Result<HubeeSimulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            hubee: Mutex::new(Hubee::new(config.transition_rules, config.status_mode)),
            latency: Mutex::new(config.latency),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            config,
            faults: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
        });
        let app = server::router(shared.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(HubeeSimulator {
            address,
            shared,
            shutdown,
            task,
        })
    }

    /// The token URL, as `https://auth.hubee.numerique.gouv.fr/oauth2/token` in production.
    pub fn auth_url(&self) -> String {
        format!("http://{}/oauth2/token", self.address)
    }

    /// The API origin, without `/teledossiers/v1`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Subscribes the commune `SI-<siret>-<cog>` to FormulaireQF in API access mode.
    pub fn add_subscriber(&self, siret: &str, cog: &str, credentials: &Credentials) {
        lock(&self.shared.hubee).subscribe(
            siret,
            cog,
            &credentials.client_id,
            &credentials.client_secret,
        );
    }

    /// What formulaire-qf does when a citizen of this commune submits the form. Panics when the
    /// commune has no subscription, as Hubee refuses such a folder.
    pub fn seed_formulaire_qf(
        &self,
        siret: &str,
        cog: &str,
        dossier: &FormulaireQf,
    ) -> SeededDossier {
        let now = self.shared.config.clock.now();
        lock(&self.shared.hubee).seed(siret, cog, dossier, now)
    }

    /// One run of formulaire-qf's notification job (every four hours in production).
    pub fn run_osl_cycle(&self) {
        let now = self.shared.config.clock.now();
        lock(&self.shared.hubee).run_osl_cycle(now);
    }

    /// Applies a fault. Panics when it names a case or file the simulator does not have, since
    /// a fault aimed at nothing would let a test pass for the wrong reason.
    pub fn inject(&self, fault: Fault) {
        let now = self.shared.config.clock.now();
        let mut hubee = lock(&self.shared.hubee);
        match fault {
            Fault::Failing {
                route,
                times,
                failure,
            } => {
                if times > 0 {
                    lock(&self.shared.faults).push((route, times, failure));
                }
            }
            Fault::ExpireAllTokens => hubee.expire_all_tokens(),
            Fault::DuplicateNotification { case_id } => {
                hubee.duplicate_notification(&case_id, now);
            }
            Fault::ForeignProcessNotification {
                siret,
                cog,
                process_code,
            } => {
                hubee.foreign_process_notification(&siret, &cog, &process_code, now);
            }
            Fault::AttachmentStatus {
                case_id,
                file_name,
                status,
            } => hubee.set_attachment_status(&case_id, &file_name, status),
            Fault::DigestMismatch { case_id, file_name } => {
                hubee.break_digest(&case_id, &file_name)
            }
            Fault::ReplaceFile {
                case_id,
                file_name,
                bytes,
            } => hubee.replace_file(&case_id, &file_name, bytes),
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Makes every request from now on wait `latency` before it is handled.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    /// The largest number of requests the simulator was handling at the same time since it
    /// started (or since [`HubeeSimulator::reset_max_in_flight`]), to check a client's
    /// concurrency from the outside.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Starts counting [`HubeeSimulator::max_in_flight`] again from the requests in flight now.
    pub fn reset_max_in_flight(&self) {
        let now = self.shared.in_flight.load(Ordering::SeqCst);
        self.shared.max_in_flight.store(now, Ordering::SeqCst);
    }

    /// The folder's `globalStatus` for a case (only the OSL sees folders).
    pub fn folder_status(&self, case_id: &str) -> String {
        lock(&self.shared.hubee).folder_status(case_id)
    }

    /// Stops listening; connections still open after a short grace are cut.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        if tokio::time::timeout(server::STOP_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}
