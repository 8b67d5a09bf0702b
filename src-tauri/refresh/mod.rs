//! The refresh of the families' QF on API Particulier (issue 7): on a schedule per commune, or
//! when an agent clicks "Actualiser maintenant".
//!
//! Why it is built this way:
//! - **A run is planned in the store before any call** ([`start`]): one row per family of the
//!   commune with a pivot identity and still enrolled, the families who opted out recorded as such
//!   and never asked (users-and-peers §3, R7). A family whose pivot identity the retention purge
//!   cleared has no pivot member any more and is simply not planned. The primary key (run, family) is the promise that no family is
//!   asked twice in one run.
//! - **Each answer is committed as soon as it arrives**, so a crash, a killed process or a
//!   closed window loses at most the calls in flight; [`run`] on the same run later continues
//!   with the families not answered yet and never asks an answered one again.
//! - **The token's one shared limiter** paces the batch with the counter's lookups (spec §9:
//!   20 requests per second per token, a 12-hour IP ban for ignoring 429s). The batch also has
//!   its own even pace ([`RunOptions::rate`], never above the configured rate) and checks
//!   whether it must stop *after* waiting for its turn, so that a 401 stops it at once rather
//!   than after the requests already queued. Its concurrency keeps the pace full whatever the
//!   latency.
//! - **Failures are sorted by what a person must do**: 401/403 stops the whole run with the
//!   token's French message (an administrator must act; the run resumes afterwards), and so
//!   does an answer this build does not understand (a wrong address would fail every family); 404
//!   `23003`/`10003` and refused identities go "à revoir" for an agent — a family is never
//!   rejected automatically (users-and-peers §3: offer the paper attestation); 5xx, timeouts
//!   and 409 are retried a few times with a backoff, then left for the next resume; a 429 is
//!   honoured by the client and its limiter.
//! - **Nothing reaches the history before an agent saw the preview** ([`preview`]: "N familles
//!   changent de QF"); [`apply`] then writes the changed QFs in one transaction, with the source
//!   `actualisation`.
//! - **Every call is journaled** by [`particulier::lookup_for`] (agent "système" and motif
//!   "actualisation programmée" for the schedule), with the family's opaque `external_id` as
//!   reference, never an identity.
//! - **Which month**: CAF data are updated once a month, after the first weekend; before that,
//!   the current month is not there yet (spec §4.5, §13.9), so the run asks the previous month.
//!
//! Nothing here reads the clock or the environment: `today`, `now` and a clock are arguments.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use jiff::civil::{Date, Weekday};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::communes::Commune;
use crate::error::{Code, Error, Result};
use crate::families::{self, Member, NewQf, Source};
use crate::journal;
use crate::particulier::errors::ErrorKind;
use crate::particulier::identity::{self, IdentityInput, Period};
use crate::particulier::{self, LookupRequest, ParticulierClient, QfValue};
use crate::store::Store;
use crate::tariffs;

/// The motif journaled with each call of a scheduled run.
pub const MOTIF_SCHEDULED: &str = "actualisation programmée";
/// The motif journaled with each call of "Actualiser maintenant".
pub const MOTIF_MANUAL: &str = "actualisation à la demande";

/// When a commune's QFs are refreshed on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export, rename = "RefreshSchedule")]
pub enum Schedule {
    /// Only when an agent asks.
    Aucune,
    /// Every month, from day `jour` (after the CAF's update: the 10th is safe).
    Mensuelle { jour: u8 },
    /// Every year in month `mois`, from day `jour` (February for a January-based délibération).
    Annuelle { mois: u8, jour: u8 },
}

impl Schedule {
    /// Checks the day (1 to 28, so that every month has it) and the month.
    pub fn check(&self) -> Result<()> {
        let (mois, jour) = match *self {
            Schedule::Aucune => return Ok(()),
            Schedule::Mensuelle { jour } => (1, jour),
            Schedule::Annuelle { mois, jour } => (mois, jour),
        };
        if !(1..=12).contains(&mois) {
            return Err(Error::validation("Mois : choisissez un mois de 1 à 12."));
        }
        if !(1..=28).contains(&jour) {
            return Err(Error::validation(
                "Jour : choisissez un jour de 1 à 28 (présent dans tous les mois).",
            ));
        }
        Ok(())
    }
}

/// Whether a scheduled run is due `today` (the commune's local date), given the local date the
/// last run started. A run is due from the schedule's day to the end of its month (of its
/// month of the year for a yearly one) unless one already started since that day; a window
/// missed entirely (the PC off all month) waits for the next one — "Actualiser maintenant" is
/// there for the rest.
pub fn due(schedule: &Schedule, last_run: Option<Date>, today: Date) -> bool {
    let from = match *schedule {
        Schedule::Aucune => return false,
        Schedule::Mensuelle { jour } => Date::new(today.year(), today.month(), jour as i8),
        Schedule::Annuelle { mois, jour } => {
            if today.month() != mois as i8 {
                return false;
            }
            Date::new(today.year(), mois as i8, jour as i8)
        }
    };
    let Ok(from) = from else {
        return false;
    };
    today >= from && last_run.is_none_or(|last| last < from)
}

/// The first day the CAF's data of `year`/`month` can be read: the day after the month's first
/// Sunday ("après le premier week-end du mois", spec §4.5).
pub fn caf_update_day(year: i16, month: i8) -> Date {
    let first = Date::new(year, month, 1).unwrap_or_default();
    let days_to_sunday =
        (7 + Weekday::Sunday.to_monday_zero_offset() - first.weekday().to_monday_zero_offset()) % 7;
    first
        .checked_add(jiff::Span::new().days(i64::from(days_to_sunday) + 1))
        .unwrap_or(first)
}

/// The month a run started `today` asks, and whether it must be sent (`annee`/`mois`): the
/// current month (not sent, the server's default) once the CAF updated it, else the previous
/// month (sent).
pub fn period_for(today: Date) -> (Period, bool) {
    if today >= caf_update_day(today.year(), today.month()) {
        let period = Period {
            annee: today.year(),
            mois: today.month(),
        };
        (period, false)
    } else {
        let previous = today
            .first_of_month()
            .checked_sub(jiff::Span::new().days(1))
            .unwrap_or(today);
        let period = Period {
            annee: previous.year(),
            mois: previous.month(),
        };
        (period, true)
    }
}

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "RefreshTrigger")]
pub enum Trigger {
    /// The schedule (agent "système").
    Programmee,
    /// An agent's "Actualiser maintenant".
    Manuelle,
}

impl Trigger {
    fn id(self) -> &'static str {
        match self {
            Trigger::Programmee => "programmee",
            Trigger::Manuelle => "manuelle",
        }
    }

    fn from_id(id: &str) -> Trigger {
        if id == "programmee" {
            Trigger::Programmee
        } else {
            Trigger::Manuelle
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "RefreshState")]
pub enum RunState {
    /// Asking (or interrupted by a crash: resumed as it is).
    EnCours,
    /// Stopped on an error (token refused, families left to retry); resumable.
    Arretee,
    /// Every family answered; waits for an agent to apply.
    Apercu,
    /// The changed QFs are in the history.
    Appliquee,
    /// Replaced by a newer run before being applied.
    Abandonnee,
}

impl RunState {
    fn id(self) -> &'static str {
        match self {
            RunState::EnCours => "en_cours",
            RunState::Arretee => "arretee",
            RunState::Apercu => "apercu",
            RunState::Appliquee => "appliquee",
            RunState::Abandonnee => "abandonnee",
        }
    }

    fn from_id(id: &str) -> RunState {
        match id {
            "en_cours" => RunState::EnCours,
            "arretee" => RunState::Arretee,
            "apercu" => RunState::Apercu,
            "appliquee" => RunState::Appliquee,
            _ => RunState::Abandonnee,
        }
    }
}

/// How a run uses API Particulier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// The batch's own pace, requests per second; never above the token's configured rate
    /// (the shared limiter enforces that anyway).
    pub rate: u32,
    /// Calls made for one family in one run before it is left "à réessayer".
    pub attempts: u32,
    /// The first wait before asking again after a 5xx (doubled each time, capped at
    /// `max_backoff`; a longer `retry_in` from the server is honoured up to that cap).
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl RunOptions {
    /// The production options at `rate`.
    pub fn at_rate(rate: u32) -> RunOptions {
        RunOptions {
            rate: rate.max(1),
            attempts: 3,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
        }
    }

    /// Families handled at once: twice the rate, so that the limiter stays full even when the
    /// caisse takes two seconds to answer.
    fn concurrency(&self) -> usize {
        (self.rate as usize * 2).max(2)
    }
}

/// Where a run is, for a progress bar: `done` of `total` families answered (or set aside for
/// an agent), `errors` of them à revoir or à réessayer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "RefreshProgress")]
pub struct Progress {
    #[ts(type = "number")]
    pub run_id: i64,
    pub done: u32,
    pub total: u32,
    pub errors: u32,
}

/// The counts of a run, as the window, the CLI and the preview show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "RefreshSummary")]
pub struct Summary {
    #[ts(type = "number")]
    pub run_id: i64,
    #[ts(type = "number")]
    pub commune_id: i64,
    pub state: RunState,
    pub trigger: Trigger,
    pub agent: String,
    #[ts(type = "string")]
    pub started_at: Timestamp,
    /// The month asked.
    pub annee: i16,
    pub mois: i8,
    /// Families to ask (those who opted out are not counted).
    pub total: u32,
    /// Answered with a QF (or "ressources non connues").
    pub answered: u32,
    /// Answered with a QF different from the family's last one (or a first one).
    pub changed: u32,
    /// For an agent: no dossier any more at the CAF/MSA, identity refused.
    pub to_review: u32,
    /// Not asked yet, or to ask again (service unavailable).
    pub pending: u32,
    /// Families who asked not to be refreshed, never asked.
    pub opted_out: u32,
    /// Why the run stopped, in French.
    pub stop_reason: Option<String>,
    /// [`Summary::sentence`], for the window (the French text is written once, here).
    pub text: String,
}

impl Summary {
    /// Families asked in this run, answered or set aside for an agent.
    pub fn queried(&self) -> u32 {
        self.answered + self.to_review
    }

    /// "12 familles interrogées, 3 changent de QF, 1 à revoir, 0 en attente".
    pub fn sentence(&self) -> String {
        format!(
            "{} interrogée{}, {} de QF, {} à revoir, {} en attente{}",
            families_word(self.queried()),
            plural(self.queried()),
            changes_word(self.changed),
            self.to_review,
            self.pending,
            if self.opted_out > 0 {
                format!(
                    " ({} refusant l'actualisation, non interrogée{})",
                    families_word(self.opted_out),
                    plural(self.opted_out)
                )
            } else {
                String::new()
            }
        )
    }
}

fn plural(n: u32) -> &'static str {
    if n > 1 {
        "s"
    } else {
        ""
    }
}

fn families_word(n: u32) -> String {
    format!("{n} famille{}", plural(n))
}

fn changes_word(n: u32) -> String {
    if n > 1 {
        format!("{n} changent")
    } else {
        format!("{n} change")
    }
}

/// A family whose QF changes, for the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "RefreshChange")]
pub struct Change {
    #[ts(type = "number")]
    pub family_id: i64,
    pub external_id: String,
    /// The pivot's names, for the agent.
    pub name: String,
    /// The last QF known (`None`: none, or "ressources non connues").
    pub previous: Option<u32>,
    /// `None`: "ressources non connues".
    pub valeur: Option<u32>,
    pub fournisseur: String,
    /// The services whose bracket changes with the new QF, in French ("cantine : Tranche 2 →
    /// Tranche 3"), for the grids valid on the day of the preview; empty when none changes.
    pub tranches: Vec<String>,
}

/// A family an agent must look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "RefreshReview")]
pub struct Review {
    #[ts(type = "number")]
    pub family_id: i64,
    pub external_id: String,
    pub name: String,
    /// What happened and what to do, in French.
    pub message: String,
    pub api_code: Option<String>,
}

/// What the agent reads before applying: "N familles changent de QF", "M familles changent de
/// tranche" and the families.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, rename = "RefreshPreview")]
pub struct Preview {
    pub summary: Summary,
    /// "3 familles changent de QF, 2 familles changent de tranche." (the second part only when
    /// the commune has a tariff grid valid on the day of the preview).
    pub headline: String,
    /// How many changing families change bracket for at least one service.
    pub tranche_changes: u32,
    pub changes: Vec<Change>,
    pub to_review: Vec<Review>,
}

// ---------------------------------------------------------------------------------------------
// The schedule in the store.

/// The commune's schedule ([`Schedule::Aucune`] when none was set).
pub fn schedule(conn: &Connection, commune_id: i64) -> Result<Schedule> {
    let row: Option<(String, Option<u8>, u8)> = conn
        .query_row(
            "SELECT kind, month, day FROM refresh_schedules WHERE commune_id = ?1",
            [commune_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        Some((kind, _, jour)) if kind == "mensuelle" => Schedule::Mensuelle { jour },
        Some((kind, Some(mois), jour)) if kind == "annuelle" => Schedule::Annuelle { mois, jour },
        _ => Schedule::Aucune,
    })
}

/// Saves the commune's schedule.
pub fn set_schedule(
    tx: &Transaction<'_>,
    commune_id: i64,
    schedule: &Schedule,
    agent: &str,
    now: Timestamp,
) -> Result<()> {
    schedule.check()?;
    let (kind, month, day) = match *schedule {
        Schedule::Aucune => ("aucune", None, 10),
        Schedule::Mensuelle { jour } => ("mensuelle", None, jour),
        Schedule::Annuelle { mois, jour } => ("annuelle", Some(mois), jour),
    };
    tx.execute(
        "INSERT INTO refresh_schedules (commune_id, kind, month, day, updated_at, updated_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (commune_id) DO UPDATE SET kind = ?2, month = ?3, day = ?4,
         updated_at = ?5, updated_by = ?6",
        params![commune_id, kind, month, day, now.to_string(), agent],
    )?;
    Ok(())
}

/// What the schedule wants done for a commune now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing to do.
    Rien,
    /// A run was interrupted (crash, closed window, token refused): continue it.
    Reprendre(i64),
    /// A scheduled run is due.
    Lancer,
}

/// The scheduler's decision for `commune_id` on its local date `today` (`tz` turns the last
/// run's start into a local date). A run waiting for an agent to apply it holds the next one.
pub fn next_step(
    conn: &Connection,
    commune_id: i64,
    today: Date,
    tz: &jiff::tz::TimeZone,
) -> Result<Step> {
    if let Some((run_id, state)) = unfinished(conn, commune_id)? {
        return Ok(match state {
            RunState::EnCours | RunState::Arretee => Step::Reprendre(run_id),
            _ => Step::Rien,
        });
    }
    let last: Option<String> = conn
        .query_row(
            "SELECT started_at FROM refresh_runs WHERE commune_id = ?1 AND state != 'abandonnee'
             ORDER BY started_at DESC, id DESC LIMIT 1",
            [commune_id],
            |row| row.get(0),
        )
        .optional()?;
    let last = last
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(|t| t.to_zoned(tz.clone()).date());
    Ok(if due(&schedule(conn, commune_id)?, last, today) {
        Step::Lancer
    } else {
        Step::Rien
    })
}

// ---------------------------------------------------------------------------------------------
// Planning.

/// The commune's run not yet applied or abandoned, with its state.
pub fn unfinished(conn: &Connection, commune_id: i64) -> Result<Option<(i64, RunState)>> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, state FROM refresh_runs
             WHERE commune_id = ?1 AND state IN ('en_cours', 'arretee', 'apercu')",
            [commune_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(row.map(|(id, state)| (id, RunState::from_id(&state))))
}

/// The run to continue, or a new one: an interrupted run (`en_cours`, `arretee`) is resumed as
/// it is; a run waiting in preview is abandoned for the new one (its answers are older); else
/// [`plan`] a new run. Returns the run's id.
pub fn start(
    tx: &Transaction<'_>,
    commune_id: i64,
    trigger: Trigger,
    agent: &str,
    today: Date,
    now: Timestamp,
) -> Result<i64> {
    match unfinished(tx, commune_id)? {
        Some((run_id, RunState::EnCours | RunState::Arretee)) => return Ok(run_id),
        Some((run_id, _)) => {
            tx.execute(
                "UPDATE refresh_runs SET state = 'abandonnee', updated_at = ?2 WHERE id = ?1",
                params![run_id, now.to_string()],
            )?;
        }
        None => {}
    }
    plan(tx, commune_id, trigger, agent, today, now)
}

/// Plans a new run: every family of the commune with a pivot identity whose enrolment has not
/// ended by `today` (the retention purge clears that identity soon after), those who opted out
/// recorded as such (never asked). `today` decides the month asked ([`period_for`]).
pub fn plan(
    tx: &Transaction<'_>,
    commune_id: i64,
    trigger: Trigger,
    agent: &str,
    today: Date,
    now: Timestamp,
) -> Result<i64> {
    let agent = match trigger {
        Trigger::Programmee => journal::AGENT_SYSTEM,
        Trigger::Manuelle => agent.trim(),
    };
    if agent.is_empty() {
        return Err(Error::validation(
            "Agent : obligatoire pour l'actualisation.",
        ));
    }
    let motif = match trigger {
        Trigger::Programmee => MOTIF_SCHEDULED,
        Trigger::Manuelle => MOTIF_MANUAL,
    };
    let (period, explicit) = period_for(today);
    tx.execute(
        "INSERT INTO refresh_runs (commune_id, started_at, trigger, agent, motif, annee, mois,
         explicit_period, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'en_cours', ?2)",
        params![
            commune_id,
            now.to_string(),
            trigger.id(),
            agent,
            motif,
            period.annee,
            period.mois,
            explicit as i64,
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO refresh_items (run_id, family_id, state)
         SELECT ?1, f.id, CASE WHEN f.opt_out_on IS NULL THEN 'en_attente' ELSE 'refus_famille' END
         FROM families f
         WHERE f.commune_id = ?2
           AND (f.enrolment_ended_on IS NULL OR f.enrolment_ended_on > ?3)
           AND EXISTS (SELECT 1 FROM family_members m WHERE m.family_id = f.id AND m.pivot = 1)",
        params![run_id, commune_id, today.to_string()],
    )?;
    Ok(run_id)
}

// ---------------------------------------------------------------------------------------------
// Running.

/// A run's fixed parts, read once.
struct RunRow {
    commune_id: i64,
    agent: String,
    motif: String,
    period: Option<Period>,
    state: RunState,
}

fn run_row(conn: &Connection, run_id: i64) -> Result<RunRow> {
    conn.query_row(
        "SELECT commune_id, agent, motif, annee, mois, explicit_period, state
         FROM refresh_runs WHERE id = ?1",
        [run_id],
        |row| {
            let explicit: i64 = row.get(5)?;
            let period = Period {
                annee: row.get(3)?,
                mois: row.get(4)?,
            };
            let state: String = row.get(6)?;
            Ok(RunRow {
                commune_id: row.get(0)?,
                agent: row.get(1)?,
                motif: row.get(2)?,
                period: (explicit == 1).then_some(period),
                state: RunState::from_id(&state),
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::new(Code::NotFound, "Cette actualisation n'existe pas."))
}

/// The batch's own pace: departures evenly spaced at `1/rate`, where the shared limiter would
/// allow a burst of `rate` at once. Even spacing keeps a single call in flight at a time on a
/// fast server, so that a 401 stops the run before the next call leaves, and it stays under the
/// shared limiter's window, which then never holds a batch call back.
struct Pace {
    interval: Duration,
    next: Mutex<Option<tokio::time::Instant>>,
}

impl Pace {
    fn new(rate: u32) -> Pace {
        Pace {
            interval: Duration::from_secs(1) / rate.max(1),
            next: Mutex::new(None),
        }
    }

    /// Waits for this caller's departure, reserved in arrival order.
    async fn wait(&self) {
        let departure = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = tokio::time::Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(departure).await;
    }
}

/// What happened to one family in this call of [`run`].
enum Outcome {
    Settled,
    Retry,
    /// Not asked: the run is stopping.
    NotAsked,
}

struct Context<'a> {
    store: &'a Store,
    client: &'a ParticulierClient,
    commune: &'a Commune,
    run_id: i64,
    row: RunRow,
    options: RunOptions,
    pace: Pace,
    clock: &'a (dyn Fn() -> Timestamp + Sync),
    /// Set by the first 401/403 (or local failure): no new call starts.
    stopping: AtomicBool,
    /// The reason of the stop, first one wins.
    stop: Mutex<Option<Error>>,
}

/// Runs (or resumes) `run_id` for `commune` until every family is answered or the run must
/// stop. `progress` is called after each family settles. `Ok` with the run's [`Summary`] (its
/// state says whether it finished, `Apercu`, or stopped, `Arretee` with the reason); `Err` only
/// when the run could not be used (unknown, already applied, another process running it, the
/// database failing).
pub async fn run(
    store: &Store,
    client: &ParticulierClient,
    commune: &Commune,
    run_id: i64,
    options: &RunOptions,
    clock: &(dyn Fn() -> Timestamp + Sync),
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary> {
    let _exclusive = lock_commune(store, commune)?;
    let row = store.read(|conn| run_row(conn, run_id))?;
    if row.commune_id != commune.id {
        return Err(Error::new(
            Code::NotFound,
            "Cette actualisation n'existe pas.",
        ));
    }
    match row.state {
        RunState::EnCours | RunState::Arretee => {}
        RunState::Apercu => return store.read(|conn| summary(conn, run_id)),
        RunState::Appliquee | RunState::Abandonnee => {
            return Err(Error::new(
                Code::Conflict,
                "Cette actualisation est terminée : lancez-en une nouvelle.",
            ))
        }
    }
    let now = clock();
    store.write(|tx| {
        tx.execute(
            "UPDATE refresh_runs SET state = 'en_cours', stop_reason = NULL, updated_at = ?2
             WHERE id = ?1",
            params![run_id, now.to_string()],
        )?;
        Ok(())
    })?;
    let todo: Vec<(i64, String)> = store.read(|conn| {
        let mut statement = conn.prepare(
            "SELECT i.family_id, f.external_id FROM refresh_items i
             JOIN families f ON f.id = i.family_id
             WHERE i.run_id = ?1 AND i.state IN ('en_attente', 'a_reessayer')
             ORDER BY i.family_id",
        )?;
        let rows = statement
            .query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    })?;
    let rate = options.rate.min(client.rate()).max(1);
    let context = Context {
        store,
        client,
        commune,
        run_id,
        row,
        options: *options,
        pace: Pace::new(rate),
        clock,
        stopping: AtomicBool::new(false),
        stop: Mutex::new(None),
    };
    report(&context, progress)?;
    let mut failure: Option<Error> = None;
    let mut outcomes = stream::iter(todo)
        .map(|(family_id, external_id)| {
            let context = &context;
            async move { handle(context, family_id, &external_id).await }
        })
        .buffer_unordered(options.concurrency());
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Ok(Outcome::Settled | Outcome::Retry) => report(&context, progress)?,
            Ok(Outcome::NotAsked) => {}
            Err(error) => {
                context.stopping.store(true, Ordering::SeqCst);
                failure.get_or_insert(error);
            }
        }
    }
    drop(outcomes);
    let stop = context
        .stop
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let now = clock();
    let counts = store.read(|conn| summary(conn, run_id))?;
    let (state, reason) =
        match (&stop, &failure) {
            (Some(stop), _) => (RunState::Arretee, Some(stop.message.clone())),
            (None, Some(failure)) => (RunState::Arretee, Some(failure.message.clone())),
            (None, None) if counts.pending > 0 => {
                (
                    RunState::Arretee,
                    Some(format!(
                "API Particulier n'a pas pu répondre pour {} : {} interrogée{} à la reprise \
                 de l'actualisation.",
                families_word(counts.pending),
                if counts.pending > 1 { "elles seront" } else { "elle sera" },
                plural(counts.pending),
            )),
                )
            }
            (None, None) => (RunState::Apercu, None),
        };
    store.write(|tx| {
        tx.execute(
            "UPDATE refresh_runs SET state = ?2, stop_reason = ?3, updated_at = ?4 WHERE id = ?1",
            params![run_id, state.id(), reason, now.to_string()],
        )?;
        Ok(())
    })?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    store.read(|conn| summary(conn, run_id))
}

fn report(context: &Context<'_>, progress: &(dyn Fn(Progress) + Sync)) -> Result<()> {
    let counts = context.store.read(|conn| summary(conn, context.run_id))?;
    progress(Progress {
        run_id: context.run_id,
        done: counts.queried(),
        total: counts.total,
        errors: counts.to_review + retry_count(context)?,
    });
    Ok(())
}

fn retry_count(context: &Context<'_>) -> Result<u32> {
    context.store.read(|conn| {
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM refresh_items WHERE run_id = ?1 AND state = 'a_reessayer'",
            [context.run_id],
            |row| row.get(0),
        )?)
    })
}

/// The identity API Particulier is asked for: the pivot member's, with the counter's rules.
pub fn identity_of(member: &Member) -> IdentityInput {
    // Names go out as the caisses keep them: upper case, without accents. API Particulier
    // transliterates to ASCII before matching in production (spec §13.3), so nothing is lost,
    // and an identity written with FranceConnect's accents ("Lefèvre") still finds the family
    // where the matching is accent-sensitive (the staging environment).
    let caf = |name: &str| crate::text::fold(name).to_uppercase();
    IdentityInput {
        nom_naissance: caf(&member.nom_naissance),
        nom_usage: member.nom_usage.as_deref().map(caf),
        prenoms: caf(&member.prenoms)
            .split_whitespace()
            .take(identity::MAX_PRENOMS)
            .map(str::to_string)
            .collect(),
        sexe: member.sexe.clone().unwrap_or_default(),
        date_naissance: Some(member.naissance.iso()).filter(|d| !d.is_empty()),
        pays_naissance: member.pays_naissance.clone().unwrap_or_default(),
        commune_naissance: member.commune_naissance.clone(),
        commune_naissance_nom: member.commune_naissance_nom.clone(),
        departement_naissance: member.departement_naissance.clone(),
    }
}

/// The French text of "plus de dossier CAF/MSA ?" for the agent who reviews the family.
fn no_dossier_message(api_code: Option<&str>) -> String {
    let lead = match api_code {
        Some("23003") => "Plus de dossier CAF/MSA ? La CAF n'a plus de dossier pour cette famille.",
        Some("10003") => "Plus de dossier CAF/MSA ? La MSA n'a plus de dossier pour cette famille.",
        _ => "Plus de dossier CAF/MSA ? Aucune caisse n'a de dossier pour cette famille.",
    };
    format!(
        "{lead} Vérifiez avec elle (changement de caisse, fin de droits) et proposez \
         l'attestation papier : la famille n'est pas écartée."
    )
}

async fn handle(context: &Context<'_>, family_id: i64, external_id: &str) -> Result<Outcome> {
    if context.stopping.load(Ordering::SeqCst) {
        return Ok(Outcome::NotAsked);
    }
    let store = context.store;
    let pivot = store.read(|conn| {
        Ok(families::members(conn, family_id)?
            .into_iter()
            .find(|m| m.pivot))
    })?;
    let today = (context.clock)().to_zoned(jiff::tz::TimeZone::UTC).date();
    let identity = match pivot {
        None => Err(Error::validation(
            "La famille n'a plus d'identité de référence : choisissez l'allocataire à \
             interroger dans sa fiche.",
        )),
        Some(member) => identity::normalise(&identity_of(&member), today),
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(error) => {
            let message = format!(
                "L'identité de référence ne peut pas être envoyée à API Particulier : {} \
                 Corrigez-la dans la fiche de la famille.",
                error.message
            );
            store_review(context, family_id, &message, None, None)?;
            return Ok(Outcome::Settled);
        }
    };
    let request = LookupRequest {
        agent: &context.row.agent,
        motif: &context.row.motif,
        identity: &identity,
        period: context.row.period,
    };
    let mut attempt = 0;
    loop {
        context.pace.wait().await;
        if context.stopping.load(Ordering::SeqCst) {
            return Ok(Outcome::NotAsked);
        }
        attempt += 1;
        let now = (context.clock)();
        let answer = particulier::lookup_for(
            store,
            context.client,
            context.commune,
            &request,
            Some(external_id),
            now,
        )
        .await;
        let error = match answer {
            Ok(lookup) => {
                store_answer(context, family_id, &lookup, now)?;
                return Ok(Outcome::Settled);
            }
            Err(error) => error,
        };
        match error.kind {
            // The token, or an answer this build does not understand (a wrong address): the
            // next family would fail the same way, so the run stops at once.
            ErrorKind::TokenRefused | ErrorKind::Unexpected => {
                context.stopping.store(true, Ordering::SeqCst);
                count_attempt(context, family_id, &error, now)?;
                let mut stop = context.stop.lock().unwrap_or_else(|p| p.into_inner());
                stop.get_or_insert_with(|| Error::new(error.code, error.full_message()));
                return Ok(Outcome::NotAsked);
            }
            ErrorKind::NoDossier => {
                let message = no_dossier_message(error.api_code.as_deref());
                store_review(
                    context,
                    family_id,
                    &message,
                    error.http_status,
                    error.api_code.as_deref(),
                )?;
                return Ok(Outcome::Settled);
            }
            ErrorKind::InvalidInput
            | ErrorKind::IdentityNotRecognised
            | ErrorKind::PeriodRefused => {
                store_review(
                    context,
                    family_id,
                    &error.full_message(),
                    error.http_status,
                    error.api_code.as_deref(),
                )?;
                return Ok(Outcome::Settled);
            }
            ErrorKind::Local => return Err(Error::from(error)),
            ErrorKind::Unavailable | ErrorKind::Conflict | ErrorKind::RateLimited => {
                if attempt >= context.options.attempts {
                    store_retry(context, family_id, &error, now)?;
                    return Ok(Outcome::Retry);
                }
                count_attempt(context, family_id, &error, now)?;
                let doubled = context
                    .options
                    .backoff
                    .saturating_mul(1 << (attempt - 1).min(8));
                let wait = error
                    .retry_after
                    .map_or(doubled, |asked| asked.max(doubled))
                    .min(context.options.max_backoff);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

fn count_attempt(
    context: &Context<'_>,
    family_id: i64,
    error: &particulier::LookupError,
    now: Timestamp,
) -> Result<()> {
    context.store.write(|tx| {
        tx.execute(
            "UPDATE refresh_items SET attempts = attempts + 1, http_status = ?3, api_code = ?4,
             message = ?5, updated_at = ?6 WHERE run_id = ?1 AND family_id = ?2",
            params![
                context.run_id,
                family_id,
                error.http_status,
                error.api_code,
                error.full_message(),
                now.to_string()
            ],
        )?;
        Ok(())
    })
}

fn store_retry(
    context: &Context<'_>,
    family_id: i64,
    error: &particulier::LookupError,
    now: Timestamp,
) -> Result<()> {
    count_attempt(context, family_id, error, now)?;
    context.store.write(|tx| {
        tx.execute(
            "UPDATE refresh_items SET state = 'a_reessayer' WHERE run_id = ?1 AND family_id = ?2",
            params![context.run_id, family_id],
        )?;
        Ok(())
    })
}

fn store_review(
    context: &Context<'_>,
    family_id: i64,
    message: &str,
    http_status: Option<u16>,
    api_code: Option<&str>,
) -> Result<()> {
    let now = (context.clock)();
    context.store.write(|tx| {
        tx.execute(
            "UPDATE refresh_items SET state = 'a_revoir', message = ?3, http_status = ?4,
             api_code = ?5, attempts = attempts + ?6, updated_at = ?7
             WHERE run_id = ?1 AND family_id = ?2",
            params![
                context.run_id,
                family_id,
                message,
                http_status,
                api_code,
                http_status.is_some() as i64,
                now.to_string()
            ],
        )?;
        Ok(())
    })
}

fn store_answer(
    context: &Context<'_>,
    family_id: i64,
    lookup: &particulier::Lookup,
    now: Timestamp,
) -> Result<()> {
    let quotient = lookup.quotient.as_ref();
    let fournisseur = quotient
        .and_then(|q| q.fournisseur.as_deref())
        .map(str::to_uppercase)
        .filter(|f| f == "CNAF" || f == "MSA");
    let (Some(quotient), Some(fournisseur)) = (quotient, fournisseur) else {
        return store_review(
            context,
            family_id,
            "API Particulier a répondu sans quotient familial pour cette famille (jeton sans \
             cette donnée, ou caisse non précisée) : demandez l'attestation papier.",
            Some(200),
            None,
        );
    };
    let valeur = match quotient.valeur {
        QfValue::Known(v) => u32::try_from(v).ok().filter(|v| *v > 0),
        QfValue::Unknown => None,
    };
    let period = context.row.period;
    let annee = quotient
        .annee
        .or(period.map(|p| i64::from(p.annee)))
        .unwrap_or_else(|| i64::from(now.to_zoned(jiff::tz::TimeZone::UTC).year()));
    let mois = quotient
        .mois
        .filter(|m| (1..=12).contains(m))
        .or(period.map(|p| i64::from(p.mois)))
        .unwrap_or_else(|| i64::from(now.to_zoned(jiff::tz::TimeZone::UTC).month()));
    context.store.write(|tx| {
        let previous = families::history(tx, family_id)?.into_iter().next();
        let changed = previous.as_ref().is_none_or(|p| p.valeur != valeur);
        tx.execute(
            "UPDATE refresh_items SET state = 'fait', valeur = ?3, annee = ?4, mois = ?5,
             fournisseur = ?6, previous = ?7, changed = ?8, http_status = 200, api_code = NULL,
             message = NULL, attempts = attempts + 1, updated_at = ?9
             WHERE run_id = ?1 AND family_id = ?2",
            params![
                context.run_id,
                family_id,
                valeur,
                annee,
                mois,
                fournisseur,
                previous.and_then(|p| p.valeur),
                changed as i64,
                now.to_string()
            ],
        )?;
        Ok(())
    })
}

/// What "Actualiser maintenant", the scheduler and `guichet-qf refresh` do: [`start`] (resume
/// the interrupted run or plan a new one) then [`run`]. `today` is the commune's local date.
#[allow(clippy::too_many_arguments)]
pub async fn start_and_run(
    store: &Store,
    client: &ParticulierClient,
    commune: &Commune,
    trigger: Trigger,
    agent: &str,
    options: &RunOptions,
    today: Date,
    clock: &(dyn Fn() -> Timestamp + Sync),
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary> {
    let now = clock();
    let run_id = store.write(|tx| start(tx, commune.id, trigger, agent, today, now))?;
    run(store, client, commune, run_id, options, clock, progress).await
}

/// Takes the commune's refresh lock: the window's scheduler, its "Actualiser maintenant" and a
/// scheduled `guichet-qf refresh` may start together, and two processes running one run would
/// ask the same families twice. An OS file lock next to the database, released by the system
/// however the process ends, so a crashed run never blocks its resumption.
fn lock_commune(store: &Store, commune: &Commune) -> Result<std::fs::File> {
    let name = format!("actualisation-{}.lock", commune.id);
    store.try_lock_beside(&name)?.ok_or_else(|| {
        Error::new(
            Code::Conflict,
            format!(
                "Une actualisation des QF de {} est déjà en cours (dans une autre fenêtre de \
                 Guichet QF ou par la tâche planifiée).",
                commune.name
            ),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Reading and applying.

/// A run's counts.
pub fn summary(conn: &Connection, run_id: i64) -> Result<Summary> {
    type Row = (i64, String, String, String, String, i16, i8, Option<String>);
    let row: Row = conn
        .query_row(
            "SELECT commune_id, state, trigger, agent, started_at, annee, mois, stop_reason
             FROM refresh_runs WHERE id = ?1",
            [run_id],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| Error::new(Code::NotFound, "Cette actualisation n'existe pas."))?;
    let (total, answered, changed, to_review, pending, opted_out): (u32, u32, u32, u32, u32, u32) =
        conn.query_row(
            "SELECT COALESCE(SUM(state != 'refus_famille'), 0),
                    COALESCE(SUM(state = 'fait'), 0),
                    COALESCE(SUM(state = 'fait' AND changed = 1), 0),
                    COALESCE(SUM(state = 'a_revoir'), 0),
                    COALESCE(SUM(state IN ('en_attente', 'a_reessayer')), 0),
                    COALESCE(SUM(state = 'refus_famille'), 0)
             FROM refresh_items WHERE run_id = ?1",
            [run_id],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            },
        )?;
    let (commune_id, state, trigger, agent, started_at, annee, mois, stop_reason) = row;
    let mut summary = Summary {
        run_id,
        commune_id,
        state: RunState::from_id(&state),
        trigger: Trigger::from_id(&trigger),
        agent,
        started_at: started_at.parse().unwrap_or(Timestamp::UNIX_EPOCH),
        annee,
        mois,
        total,
        answered,
        changed,
        to_review,
        pending,
        opted_out,
        stop_reason,
        text: String::new(),
    };
    summary.text = summary.sentence();
    Ok(summary)
}

/// The commune's latest run (any state), for the window.
pub fn latest(conn: &Connection, commune_id: i64) -> Result<Option<Summary>> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM refresh_runs WHERE commune_id = ?1 ORDER BY id DESC LIMIT 1",
            [commune_id],
            |row| row.get(0),
        )
        .optional()?;
    id.map(|id| summary(conn, id)).transpose()
}

fn pivot_name(conn: &Connection, family_id: i64) -> Result<String> {
    Ok(families::members(conn, family_id)?
        .into_iter()
        .find(|m| m.pivot)
        .map(|m| format!("{} {}", m.nom_naissance, m.prenoms))
        .unwrap_or_default())
}

/// Before applying: "N familles changent de QF", "M familles changent de tranche" (a family
/// whose new QF puts it in another bracket of any grid valid on `today`; for a taux d'effort,
/// a move between the floor, the proportional part and the ceiling), the families that change
/// and those an agent must look at.
pub fn preview(conn: &Connection, run_id: i64, today: Date) -> Result<Preview> {
    let summary = summary(conn, run_id)?;
    let grids = tariffs::store::grids_on(conn, run_row(conn, run_id)?.commune_id, today)?;
    let mut statement = conn.prepare(
        "SELECT i.family_id, f.external_id, i.previous, i.valeur, i.fournisseur
         FROM refresh_items i JOIN families f ON f.id = i.family_id
         WHERE i.run_id = ?1 AND i.state = 'fait' AND i.changed = 1 ORDER BY i.family_id",
    )?;
    let rows = statement
        .query_map([run_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<u32>>(2)?,
                row.get::<_, Option<u32>>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut changes = Vec::with_capacity(rows.len());
    let mut tranche_changes = 0;
    for (family_id, external_id, previous, valeur, fournisseur) in rows {
        let before = tariffs::store::tariffs_for_qf(&grids, previous)?;
        let after = tariffs::store::tariffs_for_qf(&grids, valeur)?;
        let tranches: Vec<String> = before
            .iter()
            .zip(&after)
            .filter(|(old, new)| old.priced.basis != new.priced.basis)
            .map(|(old, new)| {
                format!(
                    "{} : {} → {}",
                    new.service, old.priced.label, new.priced.label
                )
            })
            .collect();
        if !tranches.is_empty() {
            tranche_changes += 1;
        }
        changes.push(Change {
            family_id,
            name: pivot_name(conn, family_id)?,
            external_id,
            previous,
            valeur,
            fournisseur,
            tranches,
        });
    }
    let mut statement = conn.prepare(
        "SELECT i.family_id, f.external_id, COALESCE(i.message, ''), i.api_code
         FROM refresh_items i JOIN families f ON f.id = i.family_id
         WHERE i.run_id = ?1 AND i.state = 'a_revoir' ORDER BY i.family_id",
    )?;
    let rows = statement
        .query_map([run_id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut to_review = Vec::with_capacity(rows.len());
    for (family_id, external_id, message, api_code) in rows {
        to_review.push(Review {
            family_id,
            name: pivot_name(conn, family_id)?,
            external_id,
            message,
            api_code,
        });
    }
    let headline = if grids.is_empty() {
        format!("{} de QF.", changes_word_families(summary.changed))
    } else {
        format!(
            "{} de QF, {} de tranche.",
            changes_word_families(summary.changed),
            changes_word_families(tranche_changes)
        )
    };
    Ok(Preview {
        summary,
        headline,
        tranche_changes,
        changes,
        to_review,
    })
}

fn changes_word_families(n: u32) -> String {
    if n > 1 {
        format!("{n} familles changent")
    } else {
        format!("{n} famille change")
    }
}

/// Writes the run's changed QFs into the families' history (source `actualisation`) in the
/// caller's transaction and closes the run. A run still asking cannot be applied; a stopped
/// one can (its families not answered wait for the next run). Returns how many QFs were
/// written.
pub fn apply(tx: &Transaction<'_>, run_id: i64, agent: &str, now: Timestamp) -> Result<usize> {
    let row = run_row(tx, run_id)?;
    match row.state {
        RunState::Apercu | RunState::Arretee => {}
        RunState::EnCours => {
            return Err(Error::new(
                Code::Conflict,
                "L'actualisation est encore en cours : attendez la fin pour l'appliquer.",
            ))
        }
        RunState::Appliquee | RunState::Abandonnee => {
            return Err(Error::new(
                Code::Conflict,
                "Cette actualisation a déjà été appliquée ou remplacée.",
            ))
        }
    }
    let changes: Vec<(i64, Option<u32>, i32, i32, String)> = {
        let mut statement = tx.prepare(
            "SELECT family_id, valeur, annee, mois, fournisseur FROM refresh_items
             WHERE run_id = ?1 AND state = 'fait' AND changed = 1 ORDER BY family_id",
        )?;
        let rows = statement
            .query_map([run_id], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows
    };
    for (family_id, valeur, annee, mois, fournisseur) in &changes {
        let qf = NewQf {
            valeur: *valeur,
            annee: *annee,
            mois: *mois,
            fournisseur: fournisseur.clone(),
            source: Source::Actualisation,
        };
        families::add_qf(tx, *family_id, &qf, agent.trim(), now)?;
    }
    tx.execute(
        "UPDATE refresh_runs SET state = 'appliquee', applied_at = ?2, applied_by = ?3,
         updated_at = ?2 WHERE id = ?1",
        params![run_id, now.to_string(), agent.trim()],
    )?;
    Ok(changes.len())
}

#[cfg(test)]
mod tests;
