//! The Hubee sync engine: one pass pulls a commune's FormulaireQF dossiers from Hubee, stores
//! them, then acknowledges them (spec §6, issue 4).
//!
//! The order of every step follows one rule: **a dossier is committed locally before anything
//! is acknowledged or deleted on Hubee**. For a new dossier that is: read the case, download
//! and check every file, read `FormulaireQF.json`, commit the dossier with its files in one
//! transaction (idempotent on the case id), only then post `SI_RECEIVED`, only then delete the
//! notification. A pass interrupted anywhere leaves the notification on Hubee, so the next pass
//! sees the case again, finds it stored, and finishes the acknowledgement without a duplicate.
//!
//! `SI_RECEIVED` is not replayable (the client never retries it after a failure that may have
//! reached Hubee), so before posting it the engine looks at the case: if its status or its
//! events show that an earlier pass already posted it, it is not posted again.
//!
//! A complete dossier, once committed, goes into the family file (`families::reconcile_dossier`,
//! as the agent "système") in a transaction of its own: a family file that cannot take it (a
//! bug, a full disk) must never hold back a dossier the family sent, so its failure is logged
//! and the dossier is acknowledged all the same. At the end of every pass the commune's
//! committed dossiers not yet reconciled (stored before the family file existed, or whose
//! reconciliation failed) are reconciled too (`families::reconcile_pending`).
//!
//! A dossier that cannot be completed (a file still `PENDING`, an altered file, an unreadable
//! JSON) is stored with what could be kept, marked "incomplet" or "à vérifier" with a French
//! reason, and its notification is left on Hubee so the next pass tries again. After
//! [`MAX_ATTEMPTS`] passes Hubee is told `SI_INTG_ERROR` once; the dossier is never dropped.
//!
//! Failures that concern Hubee as a whole (outage, refused credentials, an answer this build
//! does not understand) end the pass: what was committed stays, what was not is retried next
//! time, and the French message goes to the commune's sync health. A failure that concerns one
//! dossier is counted and the pass goes on with the others.
//!
//! Notifications of another démarche are never deleted: they belong to another software.
//!
//! ## Concurrency
//!
//! A new dossier costs about six round trips to Hubee (the case, three files, `SI_RECEIVED`,
//! the DELETE) and almost no local work, so a pass spends its time waiting for answers. Within
//! a batch, notifications are therefore handled concurrently, and so are the downloads of one
//! case's files. [`PassOptions::concurrency`] bounds both the notifications handled at once
//! and the requests in flight (every call waits for a slot of one semaphore, held for that call
//! only); `1` gives back a strictly one-request-at-a-time pass. Everything runs on the pass's
//! own task (no spawning): the store's lock is only taken inside synchronous closures, never
//! across an `.await`, so handlers interleave only between whole transactions, and the order
//! rule above holds for each dossier exactly as before.
//!
//! Notifications of the same case (a duplicate "new dossier", an event about it) are handled
//! one after the other, in the order Hubee listed them: two handlers of one case running
//! together could both see the case without `SI_RECEIVED` and both post it, and Hubee would
//! refuse (or, worse, forward) the second one, since status events are not replayable. The
//! bookkeeping that spans notifications (already seen in this pass, left incomplete in this
//! pass, whether a batch deleted anything) is read before a batch starts and updated as each
//! case settles, and the next batch is asked only when the whole batch has settled.
//!
//! When one notification fails the pass, no new one starts; those in flight finish what they
//! began (a dossier being committed is committed and, if Hubee answers, acknowledged), then the
//! first failure ends the pass. Progress counts notifications as they complete, so `done` only
//! grows even though they complete out of order.

pub mod connect;
pub mod formulaire_qf;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use futures_util::stream::{self, StreamExt};
use jiff::Timestamp;
use rand::RngCore;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::communes::Commune;
use crate::dossiers::{self, NewDossier, NewFile, Saved, Statut, StoredDossier};
use crate::error::{Error, Result};
use crate::families::{self, reconcile::Backlog};
use crate::hubee::{Attachment, Case, ErrorKind, Event, HubeeClient, HubeeError, Notification};
use crate::store::Store;

/// The démarche this engine handles.
pub const PROCESS_CODE: &str = "FormulaireQF";

/// Notifications asked per `GET /notifications`; a smaller batch means the queue is empty.
pub const BATCH_SIZE: u32 = 25;

/// Passes after which an incomplete dossier is reported `SI_INTG_ERROR` to Hubee.
pub const MAX_ATTEMPTS: i64 = 5;

/// The name of the file the engine reads; the XML and the PDF are kept as archived copies.
pub const JSON_FILE: &str = "FormulaireQF.json";

/// Case statuses that show `SI_RECEIVED` was already posted (or overtaken).
const ACKNOWLEDGED_STATUSES: &[&str] = &[
    "SI_RECEIVED",
    "IN_PROGRESS",
    "ADD_AWAITING",
    "DONE",
    "REFUSED",
    "CLOSED",
    "ARCHIVED",
];

/// What a pass did, for the CLI's summary and the inbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Dossiers stored complete and acknowledged during this pass.
    pub nouveaux: usize,
    /// New-dossier notifications for cases already stored (a duplicate, an earlier interrupted
    /// pass): acknowledged if needed and deleted, nothing stored twice.
    pub deja_connus: usize,
    /// Dossiers kept "incomplet" or "à vérifier"; their notifications stay for the next pass.
    pub incomplets: usize,
    /// Notifications that failed for a reason of their own; they stay for the next pass.
    pub erreurs: usize,
    /// Event notifications handled (formulaire-qf's acknowledgements and closings).
    pub evenements: usize,
    /// Dossiers formulaire-qf closed on Hubee during this pass.
    pub clotures: usize,
    /// Notifications of another démarche, left untouched.
    pub ignorees: usize,
    /// `GET /notifications` calls made.
    pub lots: usize,
}

/// Where a pass is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A batch of `size` notifications arrived (`number` counts from 1).
    Batch { number: usize, size: usize },
    /// `done` notifications of the current batch of `total` are handled.
    Notification { done: usize, total: usize },
}

/// What one notification came to.
enum Outcome {
    New,
    Known,
    Incomplete,
    Event {
        closed: bool,
    },
    Foreign,
    /// A failure of this notification alone, already logged.
    Failed,
    /// Seen earlier in this pass and left on Hubee then: not handled twice.
    Repeated,
}

/// How a pass uses Hubee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassOptions {
    /// The most requests to Hubee in flight at once, and the most notifications handled at
    /// once. `1` makes the pass strictly one request at a time (0 is taken as 1).
    pub concurrency: usize,
}

/// The production concurrency: enough to hide Hubee's latency, few enough to stay a polite
/// client of a shared public service.
pub const DEFAULT_CONCURRENCY: usize = 8;

impl Default for PassOptions {
    fn default() -> PassOptions {
        PassOptions {
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// One full pass for `commune` (spec §6) with the production [`PassOptions`]. `Ok` when the
/// queue was read as far as it goes (some dossiers may still be incomplete, see the summary);
/// `Err` when Hubee could not be used, in which case the French message is also recorded in
/// the commune's sync health.
pub async fn run_pass(
    store: &Store,
    client: &HubeeClient,
    commune: &Commune,
    now: Timestamp,
    random: &mut (dyn RngCore + Send),
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<PassSummary> {
    run_pass_with(
        store,
        client,
        commune,
        now,
        random,
        progress,
        &PassOptions::default(),
    )
    .await
}

/// [`run_pass`] with chosen options (the benchmark compares concurrency 1 with the default).
pub async fn run_pass_with(
    store: &Store,
    client: &HubeeClient,
    commune: &Commune,
    now: Timestamp,
    random: &mut (dyn RngCore + Send),
    progress: &(dyn Fn(Progress) + Sync),
    options: &PassOptions,
) -> Result<PassSummary> {
    let _exclusive = lock_commune(store, commune)?;
    let concurrency = options.concurrency.max(1);
    let context = Context {
        store,
        hubee: Requests {
            client,
            slots: Semaphore::new(concurrency),
            concurrency,
        },
        commune,
        now,
        random: Mutex::new(random),
    };
    let result = pass(&context, progress).await;
    // The dossiers committed before this feature, or whose reconciliation failed right after
    // they were committed, are reconciled now, whatever became of the pass.
    context.reconcile_backlog();
    if result.is_ok() {
        context.close_settled().await;
    }
    let error = result.as_ref().err().map(|e| e.message.clone());
    let recorded = store.write(|tx| dossiers::record_pass(tx, commune.id, now, error.as_deref()));
    let summary = result?;
    recorded?;
    Ok(summary)
}

/// Takes the commune's pass lock: the window's poller and a scheduled `guichet-qf sync` may
/// run at the same moment, and two passes of one commune would each see the other's cases
/// half-acknowledged. The lock is an OS file lock next to the database, so the operating
/// system releases it when its process ends, however it ends: a crashed pass never blocks the
/// next one. The returned file holds the lock until it is dropped.
fn lock_commune(store: &Store, commune: &Commune) -> Result<std::fs::File> {
    let name = format!("releve-{}.lock", commune.id);
    store.try_lock_beside(&name)?.ok_or_else(|| {
        Error::new(
            crate::error::Code::Conflict,
            format!(
                "Un autre relevé Hubee est en cours pour {} (dans une autre fenêtre de Guichet \
                 QF ou par la tâche planifiée) : celui-ci est reporté au prochain passage. Rien \
                 n'est perdu.",
                commune.name
            ),
        )
    })
}

/// What every step of a pass needs.
struct Context<'a> {
    store: &'a Store,
    hubee: Requests<'a>,
    commune: &'a Commune,
    now: Timestamp,
    /// The random source of the families that reconciliation creates (their `external_id`).
    /// Locked only inside a store closure, never across an `.await`.
    random: Mutex<&'a mut (dyn RngCore + Send)>,
}

impl Context<'_> {
    /// Puts a committed dossier in the family file, in its own transaction. The dossier is
    /// already committed and will be acknowledged whatever happens here: a failure is logged
    /// and the dossier is tried again at the end of the pass ([`Context::reconcile_backlog`]).
    fn reconcile(&self, dossier_id: i64) {
        let outcome = self.store.write(|tx| {
            let mut random = self.random.lock().unwrap_or_else(|e| e.into_inner());
            families::reconcile_dossier(
                tx,
                dossier_id,
                families::SYSTEM_AGENT,
                self.now,
                &mut **random,
            )
        });
        if let Err(error) = outcome {
            tracing::warn!(dossier_id, error = %error.detail(), "dossier not reconciled");
        }
    }

    /// Reconciles the commune's committed dossiers not yet in the family file. A failure is
    /// logged: it never fails the pass, whose dossiers are committed already.
    fn reconcile_backlog(&self) {
        let outcome = self.store.write(|tx| {
            let mut random = self.random.lock().unwrap_or_else(|e| e.into_inner());
            families::reconcile_pending(tx, self.commune.id, self.now, &mut **random)
        });
        match outcome {
            Ok(backlog) if backlog != Backlog::default() => {
                tracing::info!(commune = %self.commune.siret, ?backlog, "dossiers reconciled");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(commune = %self.commune.siret, error = %error.detail(),
                    "reconciliation of stored dossiers failed");
            }
        }
    }
}

impl Context<'_> {
    /// With the `close_dossiers_in_family` setting on, marks "traité" on Hubee (`DONE`) the
    /// commune's received dossiers whose QF is in the family file, as an agent would from the
    /// inbox: the case is read first, so that `DONE` is never posted twice, and a case the
    /// family or Hubee already ended is left alone. A failure is logged and ends the sweep; the
    /// dossiers left are closed at the next pass.
    async fn close_settled(&self) {
        let settled = self.store.read(|conn| {
            if !crate::settings::get(conn)?.close_dossiers_in_family {
                return Ok(Vec::new());
            }
            families::reconcile::settled_dossiers(conn, self.commune.id)
        });
        let settled = match settled {
            Ok(settled) => settled,
            Err(error) => {
                tracing::warn!(error = %error.detail(), "dossiers to close not read");
                return;
            }
        };
        for dossier_id in settled {
            if let Err(error) = self.close_settled_dossier(dossier_id).await {
                tracing::warn!(dossier_id, error = %error.detail(),
                    "dossier in the family file not closed; tried again at the next pass");
                return;
            }
        }
    }

    async fn close_settled_dossier(&self, dossier_id: i64) -> Result<()> {
        let dossier = self.store.read(|conn| dossiers::get(conn, dossier_id))?;
        let case = self.hubee.get_case(&dossier.case_id).await?;
        match case.status.as_str() {
            "REFUSED" | "CLOSED" | "ARCHIVED" => return Ok(()),
            "DONE" => {}
            _ => {
                self.hubee
                    .post_status_event(&dossier.case_id, "DONE", None)
                    .await?
            }
        }
        self.store.write(|tx| {
            dossiers::mark_decided(tx, dossier_id, Statut::Traite, None, self.now).map(|_| ())
        })
    }
}

/// The Hubee calls of a pass, each waiting for one of `concurrency` slots, so that the pass
/// never has more requests in flight than its options allow, however its notifications and
/// downloads interleave. A slot is held for one call only, never while waiting for another.
struct Requests<'a> {
    client: &'a HubeeClient,
    slots: Semaphore,
    concurrency: usize,
}

impl Requests<'_> {
    async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed; were it ever, calls would simply go unthrottled.
        self.slots.acquire().await.ok()
    }

    async fn get_case(&self, case_id: &str) -> Result<Case, HubeeError> {
        let _slot = self.slot().await;
        self.client.get_case(case_id).await
    }

    async fn download_attachment(
        &self,
        case_id: &str,
        attachment_id: &str,
    ) -> Result<Attachment, HubeeError> {
        let _slot = self.slot().await;
        self.client
            .download_attachment(case_id, attachment_id)
            .await
    }

    async fn post_status_event(
        &self,
        case_id: &str,
        new_status: &str,
        comment: Option<&str>,
    ) -> Result<(), HubeeError> {
        let _slot = self.slot().await;
        self.client
            .post_status_event(case_id, new_status, comment, true)
            .await?;
        Ok(())
    }

    async fn delete_notification(&self, notification_id: &str) -> Result<(), HubeeError> {
        let _slot = self.slot().await;
        self.client.delete_notification(notification_id).await?;
        Ok(())
    }

    async fn get_event(&self, case_id: &str, event_id: &str) -> Result<Event, HubeeError> {
        let _slot = self.slot().await;
        self.client.get_event(case_id, event_id).await
    }

    async fn patch_event_status(
        &self,
        case_id: &str,
        event_id: &str,
        status: &str,
    ) -> Result<(), HubeeError> {
        let _slot = self.slot().await;
        self.client
            .patch_event_status(case_id, event_id, status)
            .await
    }
}

/// The notifications of one batch about the same case, in the order Hubee listed them: they
/// are handled one after the other (see the module documentation).
struct Group<'n> {
    case_id: Option<&'n str>,
    /// Each notification, and whether this pass sees it for the first time.
    members: Vec<(&'n Notification, bool)>,
    /// Whether the case was left incomplete earlier in this pass.
    incomplete_before: bool,
}

/// What the handling of a group came to: the outcomes of the notifications it handled, and the
/// failure that ended the pass, if one did.
struct Settled<'n> {
    case_id: Option<&'n str>,
    outcomes: Vec<Outcome>,
    error: Option<Error>,
}

/// Splits a batch into groups of the same case, in the order their first notification comes.
/// Notifications without a case id are groups of their own.
fn group_by_case<'n>(
    batch: &'n [Notification],
    seen: &mut HashSet<String>,
    incomplete_cases: &HashSet<String>,
) -> Vec<Group<'n>> {
    let mut groups: Vec<Group<'n>> = Vec::new();
    let mut index_of: HashMap<&'n str, usize> = HashMap::new();
    for notification in batch {
        let first_time = seen.insert(notification.id.clone());
        let case_id = notification.case_id.as_deref();
        let existing = case_id.and_then(|case_id| index_of.get(case_id).copied());
        match existing {
            Some(index) => groups[index].members.push((notification, first_time)),
            None => {
                if let Some(case_id) = case_id {
                    index_of.insert(case_id, groups.len());
                }
                groups.push(Group {
                    case_id,
                    members: vec![(notification, first_time)],
                    incomplete_before: case_id.is_some_and(|c| incomplete_cases.contains(c)),
                });
            }
        }
    }
    groups
}

async fn pass(context: &Context<'_>, progress: &(dyn Fn(Progress) + Sync)) -> Result<PassSummary> {
    let mut summary = PassSummary::default();
    let mut seen = HashSet::new();
    let mut incomplete_cases = HashSet::new();
    loop {
        // Nothing else is in flight between two batches: the listing needs no slot.
        let batch = context
            .hubee
            .client
            .list_notifications(BATCH_SIZE, true)
            .await
            .map_err(pass_error)?;
        summary.lots += 1;
        progress(Progress::Batch {
            number: summary.lots,
            size: batch.len(),
        });
        let groups = group_by_case(&batch, &mut seen, &incomplete_cases);
        let done = AtomicUsize::new(0);
        let stopping = AtomicBool::new(false);
        let report = || {
            // Counted and reported in one step, without an `.await` between: `done` only grows.
            let done = done.fetch_add(1, Ordering::SeqCst) + 1;
            progress(Progress::Notification {
                done,
                total: batch.len(),
            });
        };
        // Built before the stream rather than in a `map` closure, which would make the pass's
        // future lose `Send`.
        let handlers: Vec<_> = groups
            .into_iter()
            .map(|group| handle_group(context, group, &stopping, &report))
            .collect();
        let mut settling = stream::iter(handlers).buffer_unordered(context.hubee.concurrency);
        let mut deleted_any = false;
        let mut first_error = None;
        while let Some(settled) = settling.next().await {
            for outcome in &settled.outcomes {
                if let (Outcome::Incomplete, Some(case_id)) = (outcome, settled.case_id) {
                    incomplete_cases.insert(case_id.to_string());
                }
                match outcome {
                    Outcome::New => summary.nouveaux += 1,
                    Outcome::Known => summary.deja_connus += 1,
                    Outcome::Incomplete => summary.incomplets += 1,
                    Outcome::Event { closed } => {
                        summary.evenements += 1;
                        summary.clotures += usize::from(*closed);
                    }
                    Outcome::Foreign => summary.ignorees += 1,
                    Outcome::Failed => summary.erreurs += 1,
                    Outcome::Repeated => {}
                }
                deleted_any |= matches!(
                    outcome,
                    Outcome::New | Outcome::Known | Outcome::Event { .. }
                );
            }
            if let Some(error) = settled.error {
                // No new notification starts; those in flight finish what they began.
                stopping.store(true, Ordering::SeqCst);
                first_error.get_or_insert(error);
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        // A full batch means more may wait. But a full batch of notifications that stay on
        // Hubee (another démarche's, incomplete dossiers) would come back identical forever,
        // so paging stops as soon as a batch deleted nothing.
        if batch.len() < BATCH_SIZE as usize || !deleted_any {
            return Ok(summary);
        }
    }
}

/// Handles the notifications of one case in order, until one fails the pass or the pass is
/// stopping because another did.
async fn handle_group<'n>(
    context: &Context<'_>,
    group: Group<'n>,
    stopping: &AtomicBool,
    report: &(dyn Fn() + Sync),
) -> Settled<'n> {
    let mut incomplete = group.incomplete_before;
    let mut outcomes = Vec::with_capacity(group.members.len());
    for (notification, first_time) in group.members {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        // A case left incomplete earlier in this pass is not tried again through a duplicate
        // notification: an attempt counts passes, not notifications.
        let repeated = !first_time || (notification.event_id.is_none() && incomplete);
        let outcome = if repeated {
            Outcome::Repeated
        } else {
            match handle(context, notification).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    return Settled {
                        case_id: group.case_id,
                        outcomes,
                        error: Some(error),
                    }
                }
            }
        };
        incomplete |= matches!(outcome, Outcome::Incomplete);
        report();
        outcomes.push(outcome);
    }
    Settled {
        case_id: group.case_id,
        outcomes,
        error: None,
    }
}

/// Handles one notification. `Err` only for failures that end the pass.
async fn handle(context: &Context<'_>, notification: &Notification) -> Result<Outcome> {
    if notification.process_code != PROCESS_CODE {
        return Ok(Outcome::Foreign);
    }
    let Some(case_id) = notification.case_id.as_deref() else {
        tracing::warn!(notification = %notification.id, "notification without a case id");
        return Ok(Outcome::Failed);
    };
    let result = match notification.event_id.as_deref() {
        None => new_dossier(context, notification, case_id).await,
        Some(event_id) => event(context, notification, case_id, event_id).await,
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(Failure::Dossier(error)) => {
            tracing::warn!(
                notification = %notification.id,
                case = case_id,
                "dossier left for the next pass: {error}"
            );
            Ok(Outcome::Failed)
        }
        Err(Failure::Pass(error)) => Err(error),
    }
}

/// A failure while handling one notification: of that notification only, or of the pass.
enum Failure {
    Dossier(HubeeError),
    Pass(Error),
}

impl From<HubeeError> for Failure {
    fn from(error: HubeeError) -> Failure {
        if error.kind() == ErrorKind::Dossier {
            Failure::Dossier(error)
        } else {
            Failure::Pass(pass_error(error))
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Pass(error)
    }
}

fn pass_error(error: HubeeError) -> Error {
    tracing::warn!(kind = ?error.kind(), "sync pass stopped: {error}");
    Error::from(error)
}

/// A notification with `eventId: null`: a new dossier, or one already seen.
async fn new_dossier(
    context: &Context<'_>,
    notification: &Notification,
    case_id: &str,
) -> Result<Outcome, Failure> {
    let Context {
        store, hubee, now, ..
    } = context;
    let now = *now;
    let stored = store.read(|conn| dossiers::find_by_case(conn, case_id))?;
    if let Some(stored) = stored.filter(|stored| !stored.statut.is_pending()) {
        // Already committed by an earlier pass or an earlier notification: finish what that
        // pass may not have done, then let the notification go.
        if stored.acknowledged_at.is_none() {
            let case = hubee.get_case(case_id).await?;
            acknowledge(context, &case, &stored).await?;
        }
        hubee.delete_notification(&notification.id).await?;
        return Ok(Outcome::Known);
    }

    let case = hubee.get_case(case_id).await?;
    let new = collect(context, &case).await?;
    let complete = new.statut == Statut::Nouveau;
    let saved = store.write(|tx| dossiers::save(tx, &new, now))?;
    let stored = store
        .read(|conn| dossiers::find_by_case(conn, case_id))?
        .ok_or_else(|| Failure::Pass(Error::new(crate::error::Code::Internal, LOST)))?;
    if complete && !matches!(saved, Saved::AlreadyKnown(_)) {
        context.reconcile(stored.id);
    }
    if !complete {
        if stored.attempts >= MAX_ATTEMPTS && stored.intg_error_at.is_none() {
            report_integration_error(context, &case, &stored).await?;
        }
        return Ok(Outcome::Incomplete);
    }
    acknowledge(context, &case, &stored).await?;
    hubee.delete_notification(&notification.id).await?;
    Ok(match saved {
        Saved::AlreadyKnown(_) => Outcome::Known,
        Saved::Inserted(_) | Saved::Updated(_) => Outcome::New,
    })
}

const LOST: &str = "Le dossier enregistré est introuvable juste après son enregistrement. \
                    Signalez-le au support de Guichet QF.";

/// Downloads and checks the case's files and reads its JSON. Problems of a file become the
/// dossier's statut and reason; only failures of Hubee itself are returned as errors. The files
/// are downloaded concurrently (within the pass's slots) and then looked at in the case's
/// order, so that the stored files and the reasons keep that order.
async fn collect(context: &Context<'_>, case: &Case) -> Result<NewDossier, Failure> {
    let hubee = &context.hubee;
    // The futures are built before the stream, not by a closure inside it: a closure held
    // across an `.await` makes the pass's future lose `Send`.
    let downloads: Vec<_> = case
        .attachments
        .iter()
        .filter(|attachment| attachment.status.as_deref().unwrap_or("RECEIVED") == "RECEIVED")
        .map(|attachment| hubee.download_attachment(&case.id, &attachment.id))
        .collect();
    let mut downloads: Vec<Result<Attachment, HubeeError>> = stream::iter(downloads)
        .buffered(hubee.concurrency)
        .collect()
        .await;
    downloads.reverse();

    let mut files = Vec::new();
    let mut waiting = Vec::new();
    let mut to_check = Vec::new();
    let mut json = None;
    for attachment in &case.attachments {
        let name = attachment
            .file_name
            .clone()
            .unwrap_or_else(|| attachment.id.clone());
        let status = attachment.status.as_deref().unwrap_or("RECEIVED");
        if status != "RECEIVED" {
            let reason = match status {
                "PENDING" => format!(
                    "Le fichier « {name} » n'est pas encore disponible sur Hubee. Nouvel essai \
                     au prochain relevé."
                ),
                "CORRUPTED" => {
                    format!("Le fichier « {name} » a été rejeté par l'antivirus de Hubee.")
                }
                "REJECTED" => format!(
                    "Le fichier « {name} » a été rejeté par Hubee (il ne correspond pas à sa \
                     description)."
                ),
                "DELETED" => format!("Le fichier « {name} » a été purgé par Hubee."),
                other => format!("Le fichier « {name} » a un statut inconnu sur Hubee ({other})."),
            };
            if status == "PENDING" {
                waiting.push(reason);
            } else {
                to_check.push(reason);
            }
            continue;
        }
        // One download per received file, in the same order.
        let Some(download) = downloads.pop() else {
            continue;
        };
        let downloaded = match download {
            Ok(downloaded) => downloaded,
            Err(error) if error.kind() == ErrorKind::Dossier => {
                to_check.push(error.message().to_string());
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        if let Err(error) = downloaded.verify(attachment) {
            to_check.push(error.message().to_string());
            continue;
        }
        if name == JSON_FILE {
            json = Some(downloaded.bytes.clone());
        }
        files.push(NewFile {
            attachment_id: attachment.id.clone(),
            file_name: name,
            mime_type: attachment.mime_type.clone(),
            bytes: downloaded.bytes,
        });
    }
    let mut demande = None;
    let mut raw_json = None;
    match &json {
        Some(bytes) => {
            raw_json = Some(String::from_utf8_lossy(bytes).into_owned());
            match formulaire_qf::parse(bytes) {
                Ok(parsed) => demande = Some(parsed),
                Err(error) => to_check.push(error.message),
            }
        }
        None if !case
            .attachments
            .iter()
            .any(|a| a.file_name.as_deref() == Some(JSON_FILE)) =>
        {
            to_check.push(format!(
                "Le fichier {JSON_FILE} manque dans le dossier Hubee."
            ));
        }
        None => {}
    }
    let (statut, reasons) = if !to_check.is_empty() {
        (Statut::AVerifier, [to_check, waiting].concat())
    } else if !waiting.is_empty() {
        (Statut::Incomplet, waiting)
    } else {
        (Statut::Nouveau, Vec::new())
    };
    Ok(NewDossier {
        commune_id: context.commune.id,
        case_id: case.id.clone(),
        case_external_id: case.external_id.clone(),
        demande,
        raw_json,
        statut,
        reason: (!reasons.is_empty()).then(|| reasons.join(" ")),
        files,
    })
}

/// Whether `case` shows that `status` was already posted by us.
fn already_posted(case: &Case, status: &str) -> bool {
    case.status == status
        || case
            .events
            .iter()
            .any(|event| event.case_new_status.as_deref() == Some(status))
}

/// Posts `SI_RECEIVED` unless the case shows an earlier pass did, and records it.
async fn acknowledge(
    context: &Context<'_>,
    case: &Case,
    stored: &StoredDossier,
) -> Result<(), Failure> {
    let posted = ACKNOWLEDGED_STATUSES.contains(&case.status.as_str())
        || already_posted(case, "SI_RECEIVED");
    if !posted {
        context
            .hubee
            .post_status_event(&case.id, "SI_RECEIVED", None)
            .await?;
    }
    context
        .store
        .write(|tx| dossiers::mark_acknowledged(tx, stored.id, context.now))?;
    Ok(())
}

/// Tells Hubee the dossier cannot be integrated, once; the dossier and its notification stay.
async fn report_integration_error(
    context: &Context<'_>,
    case: &Case,
    stored: &StoredDossier,
) -> Result<(), Failure> {
    if !already_posted(case, "SI_INTG_ERROR") {
        // The reason stays local: it names the family's files.
        let comment =
            "Fichiers du dossier indisponibles, altérés ou illisibles après plusieurs relevés.";
        context
            .hubee
            .post_status_event(&case.id, "SI_INTG_ERROR", Some(comment))
            .await?;
    }
    context
        .store
        .write(|tx| dossiers::mark_integration_error(tx, stored.id, context.now))?;
    Ok(())
}

/// A notification about an event: formulaire-qf acknowledged one of ours (`RECEIVED`), or
/// created one (`SENT`, its `CLOSED` after our `DONE`/`REFUSED`).
async fn event(
    context: &Context<'_>,
    notification: &Notification,
    case_id: &str,
    event_id: &str,
) -> Result<Outcome, Failure> {
    let hubee = &context.hubee;
    if notification.event_status.as_deref() == Some("RECEIVED") {
        hubee.delete_notification(&notification.id).await?;
        return Ok(Outcome::Event { closed: false });
    }
    let event = hubee.get_event(case_id, event_id).await?;
    let mut closed = false;
    if event.case_new_status.as_deref() == Some("CLOSED") {
        // Recorded before the event is acknowledged, like everything else.
        closed = context
            .store
            .write(|tx| dossiers::mark_closed(tx, case_id, context.now))?;
    }
    if event.status.as_deref() != Some("RECEIVED") {
        hubee
            .patch_event_status(case_id, event_id, "RECEIVED")
            .await?;
    }
    hubee.delete_notification(&notification.id).await?;
    Ok(Outcome::Event { closed })
}

/// An agent's decision on a dossier. Hubee cannot undo either: the inbox asks for confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `DONE`: the QF is taken into account.
    Traite,
    /// `REFUSED`, with the reason written by the agent.
    Refuse { message: String },
}

/// Tells Hubee an agent's decision (`DONE` or `REFUSED`), then records it. formulaire-qf then
/// closes the case, which a later pass records as "clôturé".
///
/// The status event is not replayable, so the case is read first: if an earlier attempt already
/// moved it (its answer was lost), the decision is only recorded.
pub async fn close_dossier(
    store: &Store,
    client: &HubeeClient,
    dossier_id: i64,
    decision: &Decision,
    now: Timestamp,
) -> Result<StoredDossier> {
    let dossier = store.read(|conn| dossiers::get(conn, dossier_id))?;
    let (status, statut, message) = match decision {
        Decision::Traite => ("DONE", Statut::Traite, None),
        Decision::Refuse { message } => {
            let message = message.trim();
            if message.is_empty() {
                return Err(Error::validation(
                    "Indiquez le motif du refus : il est transmis avec le dossier.",
                ));
            }
            if message.chars().count() > 1000 {
                return Err(Error::validation(
                    "Le motif du refus est trop long (1 000 caractères au plus).",
                ));
            }
            ("REFUSED", Statut::Refuse, Some(message))
        }
    };
    let closable = matches!(dossier.statut, Statut::Nouveau | Statut::Recu)
        && dossier.acknowledged_at.is_some();
    if !closable {
        return Err(Error::new(
            crate::error::Code::Conflict,
            format!(
                "Ce dossier ne peut pas être marqué {} : il est « {} ».",
                statut.label(),
                dossier.statut.label()
            ),
        ));
    }
    let case = client.get_case(&dossier.case_id).await?;
    if !matches!(
        case.status.as_str(),
        "DONE" | "REFUSED" | "CLOSED" | "ARCHIVED"
    ) {
        client
            .post_status_event_with_message(&dossier.case_id, status, message, None, true)
            .await?;
    }
    store.write(|tx| dossiers::mark_decided(tx, dossier.id, statut, message, now))?;
    store.read(|conn| dossiers::get(conn, dossier.id))
}
