//! The Hubee client of a commune's software (an "SI"), as `shared/specs/hubee.md` §3–§5 describe it.
//!
//! Why it is built this way:
//! - **Everything comes in as arguments**: the token URL and API origin (resolved by
//!   `endpoints.rs`), the credentials, the software identity sent on every call, the timeouts,
//!   the retry policy and the clock used for token expiry. The client never reads the
//!   environment or the system clock, so tests drive it against the simulator with short
//!   timeouts and a clock they move.
//! - **One token, reused** until `expires_in` minus [`TOKEN_MARGIN`] on the injected clock
//!   ("Il est toutefois conseillé de ne pas le faire à chaque appel", §3). The gateway may still
//!   invalidate it earlier (WSO2 `900901`): a 401 from the API fetches one new token and replays
//!   the call once; a second 401 means the credentials are refused.
//! - **Safe to share between concurrent calls** (the sync pass runs several at once): the token
//!   is replaced under an async lock held during the fetch, so calls that find it expired, or
//!   refused by the gateway, wait for one fetch and use its token instead of each asking for
//!   one. When that fetch fails, the calls that were waiting for it get its error rather than
//!   trying again one after the other, so an outage of the token endpoint ends a pass after
//!   one round of retries, not one per call in flight.
//! - **Retries** with capped, jittered exponential backoff on what says "try again": 5xx, 429,
//!   timeouts and dropped connections. Other 4xx are answers about the request itself and
//!   are never retried.
//! - **`POST /cases/{id}/events` is the one call that is not safe to replay**: a timeout or a
//!   dropped connection after the request left may hide an event Hubee already applied, and
//!   posting the same `STATUS_UPDATE` again would then be refused as a forbidden transition (or,
//!   worse, notify formulaire-qf twice). So it is retried only when the request provably never
//!   reached Hubee (the connection could not be opened, or the gateway answered 401 before
//!   Hubee saw it). Any other failure is returned at once as [`ErrorKind::RetryLater`]; the
//!   caller reads the case with [`HubeeClient::get_case`] before posting again, and finds the
//!   event already applied when the case's status is the one it asked for.
//! - **Errors say what the sync engine must do** ([`ErrorKind`]: try again later, fix the
//!   credentials, or set this dossier aside) and carry a French sentence for the agent, with
//!   the HTTP status and Hubee's own message kept for the log.
//! - **Secrets stay secret**: the client secret and the bearer token are [`SecretString`]s,
//!   exposed only where a request is built, and never part of an error or of `Debug`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Code, Error};
use crate::vault::{ExposeSecret, SecretString};

/// The prefix of every Hubee resource an SI uses (§2).
pub const API_PREFIX: &str = "/teledossiers/v1";

/// How long before its announced expiry a token is replaced, so that a call never leaves with
/// a token about to die on the way.
pub const TOKEN_MARGIN: SignedDuration = SignedDuration::from_secs(60);

/// The lifetime assumed when the token endpoint does not say (one hour, §3).
const DEFAULT_TOKEN_LIFETIME: i64 = 3600;

/// Hubee's limit on each tracing header (§4).
pub const IDENTITY_MAX_CHARS: usize = 50;

/// The "now" of the client, used only to know when the cached token expires.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The software making the calls, sent as `editorName`, `applicationName` and `softwareVersion`
/// on every request (token included), which Hubee echoes in `partnerInfo` (§4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareIdentity {
    pub editor_name: String,
    pub application_name: String,
    pub software_version: String,
}

/// How long a call may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection (TCP and TLS).
    pub connect: Duration,
    /// The whole exchange, answer body included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
        }
    }
}

/// How a failure worth retrying is retried: `max_attempts` tries in all, the n-th wait drawn
/// between half and all of `min(max_delay, base_delay × 2ⁿ⁻¹)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Five tries, as DINUM's reference script does (§6), within about half a minute.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before try number `attempt + 1`, jittered so that several installations
    /// failing together do not retry together.
    fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let full_ms = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
        if full_ms == 0 {
            return full;
        }
        Duration::from_millis(rand::rng().random_range(full_ms / 2..=full_ms))
    }
}

/// Everything a client needs; nothing else is read.
pub struct ClientConfig {
    /// The full OAuth2 token URL (`ServiceUrls::hubee_auth_url`).
    pub token_url: String,
    /// The API origin without `/teledossiers/v1` (`ServiceUrls::hubee_api_url`).
    pub api_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub identity: SoftwareIdentity,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub clock: Clock,
    /// The town hall's network (proxy), from [`crate::network::load`].
    pub network: crate::network::Network,
}

/// What the sync engine does about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Hubee is unreachable, slow or broken (network, timeout, 5xx, 429): nothing is wrong on
    /// the commune's side; try again at the next sync.
    RetryLater,
    /// The token endpoint refuses the client id or secret, or the API refuses a fresh token:
    /// an administrator must fix the credentials in Paramètres.
    CredentialsRefused,
    /// This dossier (case, file, event or notification) cannot be handled as asked (400, 403,
    /// 404, altered file): set it aside and go on with the others.
    Dossier,
    /// Hubee answered something this client does not understand: a bug or a contract change.
    Unexpected,
}

/// A failed Hubee call: what to do about it, a French sentence for the agent, and the technical
/// cause (HTTP status, Hubee's message) for the log. Never contains a secret or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubeeError {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    technical: String,
}

impl HubeeError {
    fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        status: Option<u16>,
        technical: impl Into<String>,
    ) -> HubeeError {
        HubeeError {
            kind,
            message: message.into(),
            status,
            technical: technical.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The sentence for the agent.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status Hubee answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// What happened, for the log: the call, the status and Hubee's own message.
    pub fn technical(&self) -> &str {
        &self.technical
    }

    fn credentials(status: Option<u16>, technical: impl Into<String>) -> HubeeError {
        HubeeError::new(
            ErrorKind::CredentialsRefused,
            "Les identifiants Hubee de la commune sont refusés : vérifiez l'identifiant client \
             et la clé secrète dans Paramètres.",
            status,
            technical,
        )
    }

    fn unreadable(technical: impl Into<String>) -> HubeeError {
        HubeeError::new(
            ErrorKind::Unexpected,
            "La réponse de Hubee n'a pas pu être lue. Nouvel essai au prochain relevé ; si cela \
             se répète, signalez-le au support de Guichet QF.",
            None,
            technical,
        )
    }
}

impl fmt::Display for HubeeError {
    /// The technical side, since the agent's sentence is `message()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.technical)
    }
}

impl std::error::Error for HubeeError {}

/// The agent sees the French sentence; the log gets the technical cause through `detail()`.
/// The sync engine branches on [`ErrorKind`] before any conversion; the codes are for the
/// window and the CLI: refused credentials are `CredentialsRefused` (an administrator acts),
/// a dossier's 404 and 403 keep their meaning, a refused request on a dossier collides with
/// its state (`Conflict`), an outage is `ServiceUnavailable` (try again later), and an answer
/// this client does not understand is `Internal`.
impl From<HubeeError> for Error {
    fn from(error: HubeeError) -> Error {
        let code = match (error.kind, error.status) {
            (ErrorKind::CredentialsRefused, _) => Code::CredentialsRefused,
            (ErrorKind::Dossier, Some(404)) => Code::NotFound,
            (ErrorKind::Dossier, Some(403)) => Code::Forbidden,
            (ErrorKind::Dossier, _) => Code::Conflict,
            (ErrorKind::RetryLater, _) => Code::ServiceUnavailable,
            (ErrorKind::Unexpected, _) => Code::Internal,
        };
        Error::new(code, error.message.clone()).with_source(error)
    }
}

/// `{type, companyRegister, branchCode}`: an SI is `SI` + SIRET + code COG (§1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub company_register: Option<String>,
    #[serde(default)]
    pub branch_code: Option<String>,
}

/// One pending notification (§5.1). `event_id` is `None` for a new dossier.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub process_code: String,
    #[serde(default)]
    pub case_id: Option<String>,
    #[serde(default)]
    pub event_id: Option<String>,
    /// Only with `eventDetails=true`.
    #[serde(default)]
    pub event_action_type: Option<String>,
    /// `SENT` or `RECEIVED`; only with `eventDetails=true`.
    #[serde(default)]
    pub event_status: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub date_time: Option<Timestamp>,
    #[serde(default)]
    pub recipient: Option<Organization>,
    #[serde(default)]
    pub transmitter: Option<Organization>,
}

/// The person who submitted the form (§5.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Applicant {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A file of a case as the case describes it (§5.3). Only `RECEIVED` files can be downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseAttachment {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Not in the published schema; read if Hubee ever sends it.
    #[serde(default)]
    pub digest: Option<String>,
}

/// The tracing headers Hubee stored with an event (§4).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerInfo {
    #[serde(default)]
    pub editor_name: Option<String>,
    #[serde(default)]
    pub application_name: Option<String>,
    #[serde(default)]
    pub software_version: Option<String>,
}

/// An event of a case (§5.5). Statuses are kept as Hubee writes them, unknown values included.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    #[serde(default)]
    pub action_type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub case_current_status: Option<String>,
    #[serde(default)]
    pub case_new_status: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub notification: bool,
    #[serde(default)]
    pub transmitter: Option<Organization>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub create_date_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub update_date_time: Option<Timestamp>,
    #[serde(default)]
    pub partner_attributes: Option<String>,
    #[serde(default)]
    pub partner_info: Option<PartnerInfo>,
}

/// A case (télédossier) as the SI sees it (§5.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub process_code: Option<String>,
    #[serde(default)]
    pub recipient: Option<Organization>,
    #[serde(default)]
    pub applicant: Option<Applicant>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub create_date_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub update_date_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub transmission_date_time: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub close_date_time: Option<Timestamp>,
    #[serde(default)]
    pub partner_attributes: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub attachments: Vec<CaseAttachment>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub events: Vec<Event>,
}

/// A downloaded file and the `digest` header (base64 SHA-256) Hubee sent with it, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub bytes: Vec<u8>,
    pub digest: Option<String>,
}

impl fmt::Debug for Attachment {
    /// A family's data stays out of logs: only the size and the digest are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("bytes", &format_args!("{} octets", self.bytes.len()))
            .field("digest", &self.digest)
            .finish()
    }
}

impl Attachment {
    /// Checks the bytes against the case's description (`size`) and Hubee's `digest` header,
    /// each when present (§5.4: "verify size (+digest if present)"). An altered file is a
    /// [`ErrorKind::Dossier`] failure: it must not be stored, and its notification must not
    /// be deleted, so the next sync downloads it again.
    pub fn verify(&self, expected: &CaseAttachment) -> Result<(), HubeeError> {
        let name = expected.file_name.as_deref().unwrap_or(&expected.id);
        let actual_size = self.bytes.len() as u64;
        if let Some(size) = expected.size {
            if size != actual_size {
                return Err(HubeeError::new(
                    ErrorKind::Dossier,
                    format!(
                        "Le fichier « {name} » reçu de Hubee est incomplet ({actual_size} octets \
                         au lieu de {size}). Il sera téléchargé à nouveau au prochain relevé."
                    ),
                    None,
                    format!(
                        "attachment {}: size {actual_size}, expected {size}",
                        expected.id
                    ),
                ));
            }
        }
        let announced = self.digest.as_deref().or(expected.digest.as_deref());
        if let Some(announced) = announced {
            let computed = sha256_base64(&self.bytes);
            if announced.trim() != computed {
                return Err(HubeeError::new(
                    ErrorKind::Dossier,
                    format!(
                        "Le fichier « {name} » reçu de Hubee est altéré (son empreinte ne \
                         correspond pas). Il sera téléchargé à nouveau au prochain relevé."
                    ),
                    None,
                    format!(
                        "attachment {}: digest {computed}, announced {announced}",
                        expected.id
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The base64 SHA-256 of `bytes`, as Hubee writes it in the `digest` header (no prefix, §4).
pub fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// What `DELETE /notifications/{id}` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Hubee deleted it now (204).
    Removed,
    /// Hubee no longer had it (404 "Notification is not found"): an earlier delete, perhaps one
    /// whose answer was lost, already removed it.
    AlreadyGone,
}

/// What a call is about, to phrase its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// The token endpoint.
    Token,
    Notifications,
    Notification,
    Case,
    Attachment,
    Event,
    StatusEvent,
}

/// One API call, described before it is sent (so that it can be sent again).
struct Call {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<serde_json::Value>,
    subject: Subject,
    /// Whether a failure that may have reached Hubee can be replayed (false for POST events).
    replayable: bool,
}

/// What Hubee answered with a success status.
struct Answer {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A cached token and the time after which it is replaced.
struct CachedToken {
    value: SecretString,
    refresh_after: Timestamp,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusEventRequest<'a> {
    action_type: &'static str,
    case_new_status: &'a str,
    notification: bool,
    author: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// The Hubee client of one subscription (one commune × FormulaireQF).
pub struct HubeeClient {
    http: reqwest::Client,
    token_url: String,
    api_url: String,
    client_id: String,
    client_secret: SecretString,
    identity: SoftwareIdentity,
    identity_headers: HeaderMap,
    retry: RetryPolicy,
    clock: Clock,
    token: tokio::sync::Mutex<TokenSlot>,
    /// `TokenSlot::fetches`, readable without waiting for the lock.
    token_fetches: AtomicU64,
}

/// The cached token and what became of the last attempt to fetch one.
#[derive(Default)]
struct TokenSlot {
    cached: Option<CachedToken>,
    /// Fetches finished so far, successful or not: a call that sees this number change while
    /// it waited for the lock knows a fetch was made for it.
    fetches: u64,
    /// The failure of the last fetch, if it failed.
    failure: Option<HubeeError>,
}

impl fmt::Debug for HubeeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubeeClient")
            .field("token_url", &self.token_url)
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[caché]")
            .field("identity", &self.identity)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl HubeeClient {
    /// Checks the identity headers (at most 50 characters each, printable) and prepares the
    /// HTTP client. No call is made yet.
    pub fn new(config: ClientConfig) -> Result<HubeeClient, Error> {
        let mut identity_headers = HeaderMap::new();
        for (name, value) in [
            ("editorName", &config.identity.editor_name),
            ("applicationName", &config.identity.application_name),
            ("softwareVersion", &config.identity.software_version),
        ] {
            if value.chars().count() > IDENTITY_MAX_CHARS {
                return Err(Error::validation(format!(
                    "L'en-tête Hubee {name} dépasse {IDENTITY_MAX_CHARS} caractères : « {value} »."
                )));
            }
            let header = HeaderValue::from_str(value).map_err(|_| {
                Error::validation(format!(
                    "L'en-tête Hubee {name} contient des caractères interdits : « {value} »."
                ))
            })?;
            identity_headers.insert(name, header);
        }
        let http = config
            .network
            .client_builder()?
            .connect_timeout(config.timeouts.connect)
            .timeout(config.timeouts.request)
            .build()
            .map_err(|e| {
                Error::new(
                    Code::Internal,
                    "Le client HTTP de Hubee n'a pas pu être préparé.",
                )
                .with_source(e)
            })?;
        Ok(HubeeClient {
            http,
            token_url: config.token_url,
            api_url: config.api_url.trim_end_matches('/').to_string(),
            client_id: config.client_id,
            client_secret: config.client_secret,
            identity: config.identity,
            identity_headers,
            retry: config.retry,
            clock: config.clock,
            token: tokio::sync::Mutex::new(TokenSlot::default()),
            token_fetches: AtomicU64::new(0),
        })
    }

    /// `GET /notifications` (§5.1): at most `max_result` pending notifications; with
    /// `event_details`, each says which event it announces and that event's status.
    pub async fn list_notifications(
        &self,
        max_result: u32,
        event_details: bool,
    ) -> Result<Vec<Notification>, HubeeError> {
        let mut query = vec![("maxResult", max_result.to_string())];
        if event_details {
            query.push(("eventDetails", "true".to_string()));
        }
        let answer = self
            .call(Call {
                method: Method::GET,
                path: "/notifications".to_string(),
                query,
                body: None,
                subject: Subject::Notifications,
                replayable: true,
            })
            .await?;
        parse_json(&answer, "GET /notifications")
    }

    /// `DELETE /notifications/{id}` (§5.2). Deleting twice is not an error: the second time says
    /// [`Deleted::AlreadyGone`], which is also what a retry after a lost answer sees.
    pub async fn delete_notification(&self, notification_id: &str) -> Result<Deleted, HubeeError> {
        let result = self
            .call(Call {
                method: Method::DELETE,
                path: format!("/notifications/{}", segment(notification_id)),
                query: Vec::new(),
                body: None,
                subject: Subject::Notification,
                replayable: true,
            })
            .await;
        match result {
            Ok(_) => Ok(Deleted::Removed),
            Err(error) if error.status == Some(404) => Ok(Deleted::AlreadyGone),
            Err(error) => Err(error),
        }
    }

    /// `GET /cases/{id}` (§5.3): the case, its files and its events.
    pub async fn get_case(&self, case_id: &str) -> Result<Case, HubeeError> {
        let answer = self
            .call(Call {
                method: Method::GET,
                path: format!("/cases/{}", segment(case_id)),
                query: Vec::new(),
                body: None,
                subject: Subject::Case,
                replayable: true,
            })
            .await?;
        parse_json(&answer, "GET /cases/{id}")
    }

    /// `GET /cases/{id}/attachments/{aid}` (§5.4): the file's bytes and Hubee's `digest`. Check
    /// them with [`Attachment::verify`] before storing anything.
    pub async fn download_attachment(
        &self,
        case_id: &str,
        attachment_id: &str,
    ) -> Result<Attachment, HubeeError> {
        let answer = self
            .call(Call {
                method: Method::GET,
                path: format!(
                    "/cases/{}/attachments/{}",
                    segment(case_id),
                    segment(attachment_id)
                ),
                query: Vec::new(),
                body: None,
                subject: Subject::Attachment,
                replayable: true,
            })
            .await?;
        let digest = answer
            .headers
            .get("digest")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        Ok(Attachment {
            bytes: answer.body,
            digest,
        })
    }

    /// `POST /cases/{id}/events` with `actionType: STATUS_UPDATE` (§5.5, 2024 contract: no
    /// `caseCurrentStatus`, no `PATCH /cases`). `comment` is the note meant for SIs only;
    /// `notification: true` tells formulaire-qf. Not replayed after a failure that may have
    /// reached Hubee (see the module documentation): on [`ErrorKind::RetryLater`], read the case
    /// before posting again.
    pub async fn post_status_event(
        &self,
        case_id: &str,
        new_status: &str,
        comment: Option<&str>,
        notification: bool,
    ) -> Result<Event, HubeeError> {
        self.post_status_event_with_message(case_id, new_status, None, comment, notification)
            .await
    }

    /// [`HubeeClient::post_status_event`] with a `message`, the text shown to the other side
    /// (the reason of a refusal). Same rule: never replayed, read the case before posting again.
    pub async fn post_status_event_with_message(
        &self,
        case_id: &str,
        new_status: &str,
        message: Option<&str>,
        comment: Option<&str>,
        notification: bool,
    ) -> Result<Event, HubeeError> {
        let request = StatusEventRequest {
            action_type: "STATUS_UPDATE",
            case_new_status: new_status,
            notification,
            author: &self.identity.application_name,
            comment,
            message,
        };
        let body = serde_json::to_value(&request)
            .map_err(|e| HubeeError::unreadable(format!("status event body: {e}")))?;
        let answer = self
            .call(Call {
                method: Method::POST,
                path: format!("/cases/{}/events", segment(case_id)),
                query: Vec::new(),
                body: Some(body),
                subject: Subject::StatusEvent,
                replayable: false,
            })
            .await?;
        parse_json(&answer, "POST /cases/{id}/events")
    }

    /// `GET /cases/{id}/events/{eid}` (§5.6).
    pub async fn get_event(&self, case_id: &str, event_id: &str) -> Result<Event, HubeeError> {
        let answer = self
            .call(Call {
                method: Method::GET,
                path: format!("/cases/{}/events/{}", segment(case_id), segment(event_id)),
                query: Vec::new(),
                body: None,
                subject: Subject::Event,
                replayable: true,
            })
            .await?;
        parse_json(&answer, "GET /cases/{id}/events/{eid}")
    }

    /// `PATCH /cases/{id}/events/{eid}` with `{"status": status}` (§5.6), `RECEIVED` to
    /// acknowledge an event of formulaire-qf. Replaying it is harmless: acknowledging an event
    /// already `RECEIVED` succeeds.
    pub async fn patch_event_status(
        &self,
        case_id: &str,
        event_id: &str,
        status: &str,
    ) -> Result<(), HubeeError> {
        self.call(Call {
            method: Method::PATCH,
            path: format!("/cases/{}/events/{}", segment(case_id), segment(event_id)),
            query: Vec::new(),
            body: Some(serde_json::json!({ "status": status })),
            subject: Subject::Event,
            replayable: true,
        })
        .await?;
        Ok(())
    }

    /// Sends `call` with a valid token, replaying it once with a new token after a 401 and
    /// retrying what the retry policy allows.
    async fn call(&self, call: Call) -> Result<Answer, HubeeError> {
        let url = format!("{}{API_PREFIX}{}", self.api_url, call.path);
        let what = format!("{} {API_PREFIX}{}", call.method, call.path);
        let mut attempt = 1;
        let mut token_replaced = false;
        loop {
            let token = self.token().await?;
            let mut request = self
                .http
                .request(call.method.clone(), &url)
                .headers(self.identity_headers.clone())
                .bearer_auth(token.expose_secret());
            if !call.query.is_empty() {
                request = request.query(&call.query);
            }
            if let Some(body) = &call.body {
                request = request.json(body);
            }
            // Whether the request provably never reached Hubee (the connection was not opened).
            let mut never_reached = false;
            let failure = match exchange(request).await {
                Ok((status, headers, body)) if status.is_success() => {
                    return Ok(Answer { headers, body });
                }
                Ok((StatusCode::UNAUTHORIZED, _, _)) if !token_replaced => {
                    // The gateway refused the token before Hubee saw the call, so even a POST
                    // event is safe to replay once.
                    token_replaced = true;
                    self.forget_token(&token).await;
                    continue;
                }
                Ok((StatusCode::UNAUTHORIZED, _, body)) => {
                    return Err(HubeeError::credentials(
                        Some(401),
                        format!(
                            "{what}: 401 with a fresh token: {}",
                            hubee_message(&body).unwrap_or_default()
                        ),
                    ));
                }
                Ok((status, _, body)) => api_error(status, &body, call.subject, &what),
                Err(sent) => {
                    never_reached = sent.is_connect();
                    network_error(&sent, &what)
                }
            };
            let replay = failure.kind == ErrorKind::RetryLater
                && attempt < self.retry.max_attempts
                && (call.replayable || never_reached);
            if !replay {
                return Err(failure);
            }
            tracing::warn!(
                "Hubee : {} (essai {attempt}/{}), nouvel essai",
                failure.technical,
                self.retry.max_attempts
            );
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }

    /// The cached token, or a new one when none is cached or it is about to expire. Concurrent
    /// calls share one fetch, and its failure (see the module documentation).
    async fn token(&self) -> Result<SecretString, HubeeError> {
        let fetches_before = self.token_fetches.load(Ordering::SeqCst);
        let mut slot = self.token.lock().await;
        let now = (self.clock)();
        if let Some(token) = slot.cached.as_ref() {
            if now < token.refresh_after {
                return Ok(token.value.clone());
            }
        }
        if slot.fetches != fetches_before {
            if let Some(failure) = &slot.failure {
                return Err(failure.clone());
            }
        }
        let fetched = self.fetch_token(now).await;
        slot.fetches += 1;
        self.token_fetches.store(slot.fetches, Ordering::SeqCst);
        match fetched {
            Ok(fresh) => {
                let value = fresh.value.clone();
                slot.cached = Some(fresh);
                slot.failure = None;
                Ok(value)
            }
            Err(failure) => {
                slot.failure = Some(failure.clone());
                Err(failure)
            }
        }
    }

    /// Drops the cached token if it is still the one the gateway refused; a call running at
    /// the same time may already have replaced it, and that new token is kept.
    async fn forget_token(&self, refused: &SecretString) {
        let mut slot = self.token.lock().await;
        if slot
            .cached
            .as_ref()
            .is_some_and(|token| token.value.expose_secret() == refused.expose_secret())
        {
            slot.cached = None;
        }
    }

    /// `POST <token URL>` with `grant_type=client_credentials&scope=SI` and HTTP Basic (§3).
    async fn fetch_token(&self, now: Timestamp) -> Result<CachedToken, HubeeError> {
        let what = "POST /oauth2/token";
        let mut attempt = 1;
        loop {
            let request = self
                .http
                .post(&self.token_url)
                .headers(self.identity_headers.clone())
                .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                .form(&[("grant_type", "client_credentials"), ("scope", "SI")]);
            let failure = match exchange(request).await {
                Ok((status, _, body)) if status.is_success() => {
                    // The body holds the token: it never goes into an error or the log.
                    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| {
                        HubeeError::unreadable(format!("{what}: {status} with an unreadable body"))
                    })?;
                    let lifetime = answer
                        .expires_in
                        .filter(|seconds| *seconds > 0)
                        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
                    let lifetime = SignedDuration::from_secs(lifetime);
                    // A token shorter-lived than twice the margin is kept for half its life.
                    let margin = if lifetime > TOKEN_MARGIN * 2 {
                        TOKEN_MARGIN
                    } else {
                        lifetime / 2
                    };
                    return Ok(CachedToken {
                        value: SecretString::from(answer.access_token),
                        refresh_after: now.checked_add(lifetime - margin).unwrap_or(now),
                    });
                }
                Ok((status, _, body))
                    if status == StatusCode::UNAUTHORIZED
                        || (status == StatusCode::BAD_REQUEST
                            && oauth_error(&body).as_deref() == Some("invalid_client")) =>
                {
                    return Err(HubeeError::credentials(
                        Some(status.as_u16()),
                        format!(
                            "{what}: {status} {}",
                            oauth_error(&body).unwrap_or_default()
                        ),
                    ));
                }
                Ok((status, _, body)) => api_error(status, &body, Subject::Token, what),
                Err(sent) => network_error(&sent, what),
            };
            if failure.kind != ErrorKind::RetryLater || attempt >= self.retry.max_attempts {
                return Err(failure);
            }
            tracing::warn!(
                "Hubee : {} (essai {attempt}/{}), nouvel essai",
                failure.technical,
                self.retry.max_attempts
            );
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }
}

/// Sends a request and reads the whole answer, so that a body cut short counts as a network
/// failure like any other.
async fn exchange(
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, HeaderMap, Vec<u8>), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    Ok((status, headers, body))
}

fn network_error(error: &reqwest::Error, what: &str) -> HubeeError {
    if error.is_timeout() {
        HubeeError::new(
            ErrorKind::RetryLater,
            "Hubee ne répond pas (délai dépassé). Nouvel essai au prochain relevé.",
            None,
            format!("{what}: timeout: {error}"),
        )
    } else if error.is_connect() {
        HubeeError::new(
            ErrorKind::RetryLater,
            "Hubee est injoignable : vérifiez la connexion internet de la mairie. Nouvel essai \
             au prochain relevé.",
            None,
            format!("{what}: connection could not be opened: {error}"),
        )
    } else {
        HubeeError::new(
            ErrorKind::RetryLater,
            "La connexion avec Hubee a été interrompue. Nouvel essai au prochain relevé.",
            None,
            format!("{what}: connection dropped: {error}"),
        )
    }
}

/// Hubee's `{"errors":[{"code","message"}]}` message (§4), or the gateway's `message`.
fn hubee_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .pointer("/errors/0/message")
        .or_else(|| value.get("message"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// The OAuth2 `error` code of a token endpoint answer.
fn oauth_error(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("error")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// A failure status other than the first 401, as the sync engine must see it.
fn api_error(status: StatusCode, body: &[u8], subject: Subject, what: &str) -> HubeeError {
    let code = status.as_u16();
    let hubee = hubee_message(body).unwrap_or_default();
    let technical = format!("{what}: {code} « {hubee} »");
    if status.is_server_error() {
        return HubeeError::new(
            ErrorKind::RetryLater,
            format!("Hubee est indisponible (erreur {code}). Nouvel essai au prochain relevé."),
            Some(code),
            technical,
        );
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return HubeeError::new(
            ErrorKind::RetryLater,
            "Hubee reçoit trop de demandes (erreur 429). Nouvel essai au prochain relevé.",
            Some(code),
            technical,
        );
    }
    let message = match (subject, code) {
        (Subject::Token, _) => {
            return HubeeError::new(
                ErrorKind::Unexpected,
                format!(
                    "Hubee refuse la demande de jeton d'accès (erreur {code}). Si cela se \
                     répète, signalez-le au support de Guichet QF."
                ),
                Some(code),
                format!("{what}: {code} {}", oauth_error(body).unwrap_or_default()),
            )
        }
        (Subject::Notifications, _) => {
            return HubeeError::new(
                ErrorKind::Unexpected,
                format!(
                    "Hubee refuse la lecture des notifications (erreur {code}). Si cela se \
                     répète, signalez-le au support de Guichet QF."
                ),
                Some(code),
                technical,
            )
        }
        (_, 403) => format!(
            "Hubee refuse l'accès à ce dossier (erreur 403) : il n'est pas adressé à la commune \
             ou relève d'une autre démarche. Hubee indique : « {hubee} »."
        ),
        (Subject::Attachment, 404) => "Ce fichier n'est pas disponible sur Hubee (erreur 404) : \
             il n'a pas encore été déposé, ou il a été rejeté ou purgé."
            .to_string(),
        (Subject::Event | Subject::StatusEvent, 404) => {
            "Cet événement du dossier est introuvable sur Hubee (erreur 404).".to_string()
        }
        (Subject::Notification, 404) => {
            "Cette notification est introuvable sur Hubee (erreur 404).".to_string()
        }
        (_, 404) => "Ce dossier est introuvable sur Hubee (erreur 404) : il a pu être clos, \
             archivé ou supprimé."
            .to_string(),
        (Subject::StatusEvent, _) => format!(
            "Hubee refuse ce changement de statut (erreur {code}) : le dossier n'est peut-être \
             plus dans un statut qui le permet. Consultez le dossier avant de réessayer. Hubee \
             indique : « {hubee} »."
        ),
        _ => format!(
            "Hubee refuse la demande sur ce dossier (erreur {code}). Hubee indique : « {hubee} »."
        ),
    };
    HubeeError::new(ErrorKind::Dossier, message, Some(code), technical)
}

fn parse_json<T: serde::de::DeserializeOwned>(
    answer: &Answer,
    what: &str,
) -> Result<T, HubeeError> {
    serde_json::from_slice(&answer.body)
        .map_err(|e| HubeeError::unreadable(format!("{what}: unreadable answer: {e}")))
}

/// An id as a path segment: ids are opaque strings (§4), so anything that could leave the
/// segment is percent-encoded.
fn segment(id: &str) -> String {
    let mut encoded = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A Hubee date, or `None` when absent or unreadable: a date never makes a dossier unreadable.
fn lenient_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Timestamp>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    Ok(text.and_then(|text| text.parse().ok()))
}

/// A list Hubee may send as `null`.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..20 {
            let first = policy.delay(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.delay(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = policy.delay(9);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn hubee_error_bodies_are_read() {
        let body = br#"{"errors":[{"code":404,"message":"Case is not found"}]}"#;
        let error = api_error(StatusCode::NOT_FOUND, body, Subject::Case, "GET /x");
        assert_eq!(error.kind(), ErrorKind::Dossier);
        assert_eq!(error.status(), Some(404));
        assert!(error.technical().contains("Case is not found"));
        assert!(error.message().starts_with("Ce dossier est introuvable"));
        let converted: Error = error.into();
        assert_eq!(converted.code, Code::NotFound);
        assert!(converted.detail().contains("Case is not found"));
    }

    #[test]
    fn server_errors_and_429_are_retry_later() {
        for status in [500, 502, 503, 429] {
            let status = StatusCode::from_u16(status).unwrap();
            let error = api_error(status, b"", Subject::Case, "GET /x");
            assert_eq!(error.kind(), ErrorKind::RetryLater, "{status}");
        }
        let unavailable = api_error(StatusCode::SERVICE_UNAVAILABLE, b"", Subject::Case, "x");
        assert!(unavailable
            .message()
            .starts_with("Hubee est indisponible (erreur 503)"));
    }

    #[test]
    fn ids_cannot_leave_their_path_segment() {
        assert_eq!(segment("d7923df5-c071"), "d7923df5-c071");
        assert_eq!(segment("../folders/x?y"), "..%2Ffolders%2Fx%3Fy");
    }

    #[test]
    fn verify_checks_size_and_digest() {
        let bytes = b"{\"quotient\":512}".to_vec();
        let expected = CaseAttachment {
            id: "a1".into(),
            status: Some("RECEIVED".into()),
            file_name: Some("FormulaireQF.json".into()),
            kind: None,
            size: Some(bytes.len() as u64),
            mime_type: None,
            digest: None,
        };
        let good = Attachment {
            digest: Some(sha256_base64(&bytes)),
            bytes: bytes.clone(),
        };
        assert_eq!(good.verify(&expected), Ok(()));
        let altered = Attachment {
            digest: Some(sha256_base64(b"other")),
            bytes: bytes.clone(),
        };
        assert_eq!(
            altered.verify(&expected).unwrap_err().kind(),
            ErrorKind::Dossier
        );
        let short = Attachment {
            digest: None,
            bytes: bytes[..4].to_vec(),
        };
        assert!(short
            .verify(&expected)
            .unwrap_err()
            .message()
            .contains("4 octets au lieu de 16"));
    }

    #[test]
    fn lenient_dates_survive_bad_values() {
        let notification: Notification = serde_json::from_str(
            r#"{"id":"n","processCode":"FormulaireQF","caseId":"c","eventId":null,
                "dateTime":"pas une date"}"#,
        )
        .unwrap();
        assert_eq!(notification.date_time, None);
        assert_eq!(notification.event_id, None);
    }
}
