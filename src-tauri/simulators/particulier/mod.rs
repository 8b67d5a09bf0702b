//! A faithful fake of API Particulier's quotient familial endpoint, on loopback.
//!
//! Agents train and tests run without real families and without the network, so this server
//! answers like staging (`staging.particulier.api.gouv.fr`) does, following
//! `shared/specs/api-particulier.md` §11: the same check order (rate limit, token, scopes,
//! in-flight conflict, version, recipient, parameters), the same codes and texts, the same
//! headers, and the official staging fixtures matched the staging way. On top of staging it
//! keeps a token table (to expire or blacklist a token), accepts extra families (`add_case`, so
//! a family received from Hubee can be refreshed later) and injects the provider faults a
//! client must survive (`inject`). Time comes only from the [`SimClock`].

mod errors;
mod fixtures;
mod tokens;
mod validation;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::clock::SimClock;
use errors::{ApiError, JSON_API, PLAIN_JSON};
use fixtures::StoredCase;
use validation::{IdentityQuery, Rules};

pub use errors::ProviderError;
pub use fixtures::IdentityCase;
pub use tokens::TokenRecord;

/// The scopes that open the quotient familial endpoint, each unlocking one key of `data`.
const QF_SCOPES: [(&str, &str); 4] = [
    ("cnaf_quotient_familial", "quotient_familial"),
    ("cnaf_allocataires", "allocataires"),
    ("cnaf_enfants", "enfants"),
    ("cnaf_adresse", "adresse"),
];

const UNKNOWN_URL: &str =
    "Cette URL n'existe pas sur Api particulier, veuillez vérifier votre URL.";
const QF_V1_GONE: &str = "L'API Quotient Familial v1 n'est plus disponible depuis le 31/10/2025. \
                          Veuillez utiliser l'API v2 : \
                          https://particulier.api.gouv.fr/catalogue/cnav/quotient_familial";
const SVAIR_GONE: &str = "Cette URL n'existe plus sur API Particulier depuis le 8 janvier 2024. \
                          Veuillez mettre à jour votre application.";

/// Which generation of the error nomenclature the simulator speaks (spec §8.2, §11.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Nomenclature {
    /// The code of April 2026 and the staging fixtures: a missing recipient is `00210`, an
    /// unknown identity gets the fixtures' `404.yaml`.
    #[default]
    April2026,
    /// The newest nomenclature: a missing recipient is `00203`, an unknown identity is 422
    /// `35560`, periods older than 23 months are refused with `00355`, and the typographic
    /// apostrophe of names is turned into `'` before validation.
    Latest,
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct Config {
    pub clock: SimClock,
    /// Requests per token per one-second window (20 in production and staging).
    pub rate_limit_per_second: u32,
    /// How long the server waits for the provider before answering 504 `35002` (10 s for real);
    /// a [`Fault::Latency`] longer than this turns into that 504.
    pub provider_timeout: Duration,
    pub nomenclature: Nomenclature,
    /// Production removes the keys of `data` the token has no scope for; staging does not.
    pub mask_missing_scopes: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            clock: SimClock::real(),
            rate_limit_per_second: 20,
            provider_timeout: Duration::from_secs(10),
            nomenclature: Nomenclature::April2026,
            mask_missing_scopes: false,
        }
    }
}

/// The provider troubles of §11.9, applied to the identity lookups that pass validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The next `calls` lookups answer this provider error.
    ProviderError { error: ProviderError, calls: u32 },
    /// The next `calls` lookups wait `latency` first; beyond `Config::provider_timeout` they
    /// answer 504 `35002` once the timeout has elapsed.
    Latency { latency: Duration, calls: u32 },
    /// The next `calls` requests answer 409 `00015` as if an identical one were in flight.
    Conflict { calls: u32 },
    /// While on, CNAF families asked for the current month answer 404 `23003`, as before the
    /// CAF's monthly update.
    EarlyMonth { on: bool },
    /// The next `calls` families carry this `valeur` (`None` for `null`, `Some(0)` for 0).
    QuotientValue { valeur: Option<i64>, calls: u32 },
    /// The next `calls` families come from the MSA, computed today.
    Msa { calls: u32 },
    /// While on, every request is refused by the habilitation's IP allow-list (403 `00107`),
    /// before anything else is looked at.
    IpNotAllowed { on: bool },
    /// The next `calls` families have birth dates with unknown month and day (`YYYY-00-00`),
    /// as the CNAF sends them when it does not know them.
    DatesWithZeroParts { calls: u32 },
    /// Removes every pending fault.
    Clear,
}

/// One request as the simulator received and answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The decoded query pairs, in the order sent.
    pub query: Vec<(String, String)>,
    pub authorization_present: bool,
    pub status: u16,
    pub request_id: String,
}

/// A running simulator; [`ParticulierSimulator::stop`] ends it.
pub struct ParticulierSimulator {
    shared: Arc<Shared>,
    address: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ParticulierSimulator {
    /// Listens on `127.0.0.1:port` (`0` lets the OS choose) with the staging token registered.
    pub async fn start(port: u16, config: Config) -> std::io::Result<ParticulierSimulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        let mut staging = fixtures::staging_cases();
        let catch_all = match staging
            .iter()
            .position(|(name, _)| *name == fixtures::CATCH_ALL)
        {
            Some(index) => staging.remove(index).1,
            None => {
                return Err(std::io::Error::other(
                    "404.yaml is missing from the fixtures",
                ))
            }
        };
        let shared = Arc::new(Shared {
            config,
            tokens: Mutex::default(),
            added_cases: Mutex::default(),
            staging: staging.into_iter().map(|(_, case)| case).collect(),
            catch_all,
            faults: Mutex::default(),
            windows: Mutex::default(),
            in_flight: Mutex::default(),
            requests: Mutex::default(),
        });
        if let Some(record) = TokenRecord::from_claims(tokens::STAGING_TOKEN.trim()) {
            insert_token(&shared, record);
        }
        let router = Router::new()
            .route("/{version}/dss/quotient_familial/identite", get(identity))
            .route(
                "/{version}/dss/quotient_familial/france_connect",
                get(france_connect),
            )
            .route("/api/v2/composition-familiale", get(|| gone(QF_V1_GONE)))
            .route("/api/impots/svair", get(|| gone(SVAIR_GONE)))
            .route("/api/v2/avis-imposition", get(|| gone(SVAIR_GONE)))
            .route("/api/introspect", get(introspect_v2))
            .route("/v3/token/introspect", get(introspect_v3))
            .route("/api/{provider}/ping", get(ping))
            .fallback(unknown_url)
            .layer(middleware::from_fn_with_state(shared.clone(), frame))
            .with_state(shared.clone());
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = signal.await;
                })
                .await;
        });
        Ok(ParticulierSimulator {
            shared,
            address,
            shutdown,
            task,
        })
    }

    /// The origin, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Adds or replaces (by `jti`) a row of the token table.
    pub fn add_token(&self, token: TokenRecord) {
        insert_token(&self.shared, token);
    }

    /// The official staging token, registered at start with its scopes and its 2036 expiry.
    pub fn staging_token(&self) -> String {
        tokens::STAGING_TOKEN.trim().to_string()
    }

    /// A fresh JWT with these scopes, registered for DINUM's SIRET.
    pub fn mint_token(&self, scopes: &[&str], expires_at: Timestamp) -> String {
        let now = self.shared.config.clock.now();
        let jwt = tokens::mint(scopes, now, expires_at);
        insert_token(
            &self.shared,
            TokenRecord {
                jwt: jwt.clone(),
                scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
                siret: tokens::DINUM_SIRET.to_string(),
                issued_at: Some(now),
                expires_at: Some(expires_at),
                blacklisted: false,
                rate_limit_per_minute: None,
            },
        );
        jwt
    }

    /// Answers `case` for its parameters, before the staging fixtures (the latest added wins).
    pub fn add_case(&self, case: IdentityCase) {
        lock(&self.shared.added_cases).push(StoredCase::from_case(&case));
    }

    pub fn inject(&self, fault: Fault) {
        let mut faults = lock(&self.shared.faults);
        match fault {
            Fault::ProviderError { error, calls } => faults.provider = Some((error, calls)),
            Fault::Latency { latency, calls } => faults.latency = Some((latency, calls)),
            Fault::Conflict { calls } => faults.conflict = calls,
            Fault::EarlyMonth { on } => faults.early_month = on,
            Fault::QuotientValue { valeur, calls } => faults.valeur = Some((valeur, calls)),
            Fault::Msa { calls } => faults.msa = calls,
            Fault::IpNotAllowed { on } => faults.ip_not_allowed = on,
            Fault::DatesWithZeroParts { calls } => faults.zero_dates = calls,
            Fault::Clear => *faults = Faults::default(),
        }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

struct Shared {
    config: Config,
    /// By `jti`.
    tokens: Mutex<HashMap<String, TokenRecord>>,
    added_cases: Mutex<Vec<StoredCase>>,
    staging: Vec<StoredCase>,
    catch_all: StoredCase,
    faults: Mutex<Faults>,
    /// Rate-limit windows by token.
    windows: Mutex<HashMap<String, Window>>,
    /// Hashes of the (token, parameters) being answered.
    in_flight: Mutex<HashSet<[u8; 32]>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

#[derive(Debug, Default)]
struct Faults {
    provider: Option<(ProviderError, u32)>,
    latency: Option<(Duration, u32)>,
    conflict: u32,
    early_month: bool,
    valeur: Option<(Option<i64>, u32)>,
    msa: u32,
    ip_not_allowed: bool,
    zero_dates: u32,
}

/// Takes one use of a counted fault.
fn take<T: Copy>(slot: &mut Option<(T, u32)>) -> Option<T> {
    let (value, calls) = (*slot)?;
    *slot = if calls > 1 {
        Some((value, calls - 1))
    } else {
        None
    };
    Some(value)
}

fn take_count(count: &mut u32) -> bool {
    if *count == 0 {
        return false;
    }
    *count -= 1;
    true
}

/// A poisoned lock only means a handler panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn insert_token(shared: &Shared, record: TokenRecord) {
    lock(&shared.tokens).insert(record.jti(), record);
}

/// A fixed rate-limit window of one token.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

/// What the `RateLimit-*` headers say after a request.
struct Usage {
    limit: u32,
    remaining: u32,
    reset: i64,
    exceeded: bool,
}

/// Counts a request of `key` when `counted`, in a fixed window of 1 s (or 60 s for a token with
/// its own per-minute limit), as Rack::Attack does (spec §9).
fn rate_usage(shared: &Shared, key: Option<&str>, per_minute: Option<u32>, counted: bool) -> Usage {
    let now = shared.config.clock.now().as_second();
    let (limit, period) = match per_minute {
        Some(limit) => (limit, 60),
        None => (shared.config.rate_limit_per_second, 1),
    };
    let start = now - now.rem_euclid(period);
    let reset = start + period;
    let Some(key) = key else {
        return Usage {
            limit,
            remaining: limit,
            reset,
            exceeded: false,
        };
    };
    let mut windows = lock(&shared.windows);
    let window = windows
        .entry(key.to_string())
        .or_insert(Window { start, count: 0 });
    if window.start != start {
        *window = Window { start, count: 0 };
    }
    if counted {
        window.count += 1;
    }
    Usage {
        limit,
        remaining: limit.saturating_sub(window.count),
        reset,
        exceeded: window.count > limit,
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?;
    (!token.is_empty()).then(|| token.to_string())
}

/// The quotient familial routes, which share the 20-per-second group of v3 JSON endpoints.
fn is_throttled_route(path: &str) -> bool {
    path.ends_with("/dss/quotient_familial/identite")
        || path.ends_with("/dss/quotient_familial/france_connect")
}

/// The layer every answer goes through: the Rack-level checks (blacklist, rate limit) and the
/// headers of §11.6, then the record of the request.
async fn frame(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = query_pairs(request.uri().query());
    let authorization_present = request.headers().contains_key(AUTHORIZATION);
    let token = bearer(request.headers());
    let key = token
        .as_deref()
        .map(|jwt| tokens::jti_from_jwt(jwt).unwrap_or_else(|| jwt.to_string()));
    let record = key
        .as_ref()
        .and_then(|key| lock(&shared.tokens).get(key).cloned());
    let per_minute = record
        .as_ref()
        .and_then(|record| record.rate_limit_per_minute);
    let blacklisted = record.as_ref().is_some_and(|record| record.blacklisted);
    let usage = rate_usage(
        &shared,
        key.as_deref(),
        per_minute,
        !blacklisted && is_throttled_route(&path),
    );
    let ip_not_allowed = lock(&shared.faults).ip_not_allowed;
    let mut response = if ip_not_allowed {
        error_response(&[errors::ip_not_allowed()])
    } else if blacklisted {
        error_response(&[errors::blacklisted_token()])
    } else if usage.exceeded {
        let mut response = error_response(&[errors::too_many_requests()]);
        let now = shared.config.clock.now().as_second();
        let retry_after = (usage.reset - now).max(0).to_string();
        if let Ok(value) = HeaderValue::from_str(&retry_after) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-request-id", request_id.clone());
    set("x-response-cached", "false".to_string());
    set("x-cache-expires-in", String::new());
    set("ratelimit-limit", usage.limit.to_string());
    set("ratelimit-remaining", usage.remaining.to_string());
    set("ratelimit-reset", usage.reset.to_string());
    lock(&shared.requests).push(RecordedRequest {
        method,
        path,
        query,
        authorization_present,
        status: response.status().as_u16(),
        request_id,
    });
    response
}

/// The decoded pairs of a query string, in order (`+` is a space, as in forms).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let Some(query) = query else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// `%XX` escapes to bytes, then UTF-8 (invalid sequences replaced).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
            if let Ok(value) = u8::from_str_radix(hex, 16) {
                decoded.push(value);
                index += 3;
                continue;
            }
        }
        decoded.push(if byte == b'+' { b' ' } else { byte });
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn json_response(status: u16, content_type: &str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// One answer for errors of the same status; the first decides status and content type.
fn error_response(found: &[ApiError]) -> Response {
    let (status, content_type) = found
        .first()
        .map(|error| (error.status, error.content_type))
        .unwrap_or((500, PLAIN_JSON));
    json_response(status, content_type, errors::body(found).to_string())
}

fn text_response(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn gone(text: &'static str) -> Response {
    text_response(StatusCode::GONE, text)
}

async fn unknown_url() -> Response {
    text_response(StatusCode::NOT_FOUND, UNKNOWN_URL)
}

/// The token of a v3 request from the table, or the 401 to answer (boxed: errors are large and
/// rare).
fn authenticate(shared: &Shared, token: Option<&str>) -> Result<TokenRecord, Box<ApiError>> {
    let invalid = || Box::new(errors::invalid_token());
    let token = token.ok_or_else(invalid)?;
    let jti = tokens::jti_from_jwt(token).ok_or_else(invalid)?;
    let record = lock(&shared.tokens)
        .get(&jti)
        .cloned()
        .ok_or_else(invalid)?;
    match record.expires_at {
        Some(expires_at) if expires_at <= shared.config.clock.now() => {
            Err(Box::new(errors::expired_token()))
        }
        _ => Ok(record),
    }
}

/// "Today" for the period and birth-date rules: the date in France.
fn today(shared: &Shared) -> Date {
    let now = shared.config.clock.now();
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    now.to_zoned(zone).date()
}

/// A `Content-Type` that is not `type/subtype[; parameters]` is a 400 `00401` (spec §2.1).
fn content_type_malformed(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return true;
    };
    let essence = text.split(';').next().unwrap_or("").trim();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match essence.split_once('/') {
        Some((kind, subtype)) => !(token(kind) && token(subtype)),
        None => true,
    }
}

/// Removes its key from the in-flight set when the request ends, however it ends.
struct InFlight {
    shared: Arc<Shared>,
    key: [u8; 32],
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.shared.in_flight).remove(&self.key);
    }
}

/// `GET /{version}/dss/quotient_familial/identite`.
async fn identity(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    request: Request,
) -> Response {
    if content_type_malformed(request.headers()) {
        return error_response(&[errors::bad_request()]);
    }
    let token = bearer(request.headers());
    let record = match authenticate(&shared, token.as_deref()) {
        Ok(record) => record,
        Err(error) => return error_response(&[*error]),
    };
    let has_scope = |scope: &str| record.scopes.iter().any(|owned| owned == scope);
    if !QF_SCOPES.iter().any(|(scope, _)| has_scope(scope)) {
        return error_response(&[errors::insufficient_privileges()]);
    }
    let raw_query = request.uri().query().unwrap_or("").to_string();
    let conflict_key: [u8; 32] = Sha256::new()
        .chain_update(record.jti())
        .chain_update([0])
        .chain_update(&version)
        .chain_update([0])
        .chain_update(&raw_query)
        .finalize()
        .into();
    let forced_conflict = take_count(&mut lock(&shared.faults).conflict);
    if forced_conflict || !lock(&shared.in_flight).insert(conflict_key) {
        return error_response(&[errors::conflict()]);
    }
    let _in_flight = InFlight {
        shared: shared.clone(),
        key: conflict_key,
    };
    if version != "v3" {
        return error_response(&[errors::unsupported_version(&version)]);
    }
    let pairs = query_pairs(Some(&raw_query));
    let recipient = pairs
        .iter()
        .find(|(key, _)| key == "recipient")
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty());
    match recipient {
        None if shared.config.nomenclature == Nomenclature::Latest => {
            return error_response(&[errors::missing_recipient()])
        }
        Some(recipient) if validation::recipient_valid(recipient) => {}
        _ => return error_response(&[errors::invalid_recipient()]),
    }
    let pairs = if shared.config.nomenclature == Nomenclature::Latest {
        validation::replace_typographic_apostrophes(pairs)
    } else {
        pairs
    };
    let query = IdentityQuery::from_pairs(&pairs);
    let today = today(&shared);
    let rules = Rules {
        history_limit: shared.config.nomenclature == Nomenclature::Latest,
    };
    let invalid = validation::parameter_errors(&query, today, rules);
    if !invalid.is_empty() {
        return error_response(&invalid);
    }
    let birth = validation::birth_date(&query, today).unwrap_or_default();

    let latency = take(&mut lock(&shared.faults).latency);
    if let Some(latency) = latency {
        let timeout = shared.config.provider_timeout;
        tokio::time::sleep(latency.min(timeout)).await;
        if latency > timeout {
            return error_response(&[ProviderError::Timeout.answer()]);
        }
    }
    let provider_error = take(&mut lock(&shared.faults).provider);
    if let Some(error) = provider_error {
        return error_response(&[error.answer()]);
    }

    let key = fixtures::key_of_query(&query, birth);
    let found = lock(&shared.added_cases)
        .iter()
        .rev()
        .find(|case| case.key == key)
        .cloned()
        .or_else(|| shared.staging.iter().find(|case| case.key == key).cloned());
    let case = match found {
        Some(case) => case,
        None if shared.config.nomenclature == Nomenclature::Latest => {
            return error_response(&[ProviderError::IdentityNotRecognised.answer()])
        }
        None => shared.catch_all.clone(),
    };
    if case.status != 200 {
        return json_response(case.status, JSON_API, case.body);
    }
    family_response(&shared, &query, today, &record, case.body)
}

/// A 200 family, after the faults that change it and, in production mode, the scope masks.
fn family_response(
    shared: &Shared,
    query: &IdentityQuery,
    today: Date,
    record: &TokenRecord,
    body: String,
) -> Response {
    let mut faults = lock(&shared.faults);
    let early_month = faults.early_month;
    let valeur = take(&mut faults.valeur);
    let msa = take_count(&mut faults.msa);
    let zero_dates = take_count(&mut faults.zero_dates);
    drop(faults);
    let mask = shared.config.mask_missing_scopes;
    if !early_month && valeur.is_none() && !msa && !zero_dates && !mask {
        return json_response(200, JSON_API, body);
    }
    let Ok(mut payload) = serde_json::from_str::<Value>(&body) else {
        return json_response(200, JSON_API, body);
    };
    let current_period = {
        let year = today.year().to_string();
        let month = today.month().to_string();
        query.get("annee").is_none_or(|annee| annee == year)
            && query
                .get("mois")
                .is_none_or(|mois| mois.trim_start_matches('0') == month)
    };
    let quotient = &mut payload["data"]["quotient_familial"];
    if early_month && current_period && !msa && quotient["fournisseur"] == "CNAF" {
        return error_response(&[ProviderError::NoCnafDossier.answer()]);
    }
    if let Some(valeur) = valeur {
        quotient["valeur"] = json!(valeur);
    }
    if zero_dates {
        for people in ["allocataires", "enfants"] {
            if let Some(list) = payload["data"][people].as_array_mut() {
                for person in list {
                    if let Some(date) = person["date_naissance"].as_str() {
                        let year = date.get(..4).unwrap_or("0000").to_string();
                        person["date_naissance"] = json!(format!("{year}-00-00"));
                    }
                }
            }
        }
    }
    let quotient = &mut payload["data"]["quotient_familial"];
    if msa {
        quotient["fournisseur"] = json!("MSA");
        quotient["annee_calcul"] = json!(today.year());
        quotient["mois_calcul"] = json!(today.month());
    }
    if mask {
        if let Some(data) = payload["data"].as_object_mut() {
            for (scope, key) in QF_SCOPES {
                if !record.scopes.iter().any(|owned| owned == scope) {
                    data.remove(key);
                }
            }
        }
    }
    json_response(200, JSON_API, payload.to_string())
}

/// `GET /{version}/dss/quotient_familial/france_connect`: it expects a FranceConnect access
/// token, which the simulator never issues, so API tokens are refused as on the real server
/// (spec §5).
async fn france_connect(headers: HeaderMap) -> Response {
    let error = if bearer(&headers).is_some() {
        errors::france_connect_token_unknown()
    } else {
        errors::france_connect_token_missing()
    };
    error_response(&[error])
}

/// `GET /api/introspect`: the v2-era introspection, token from `X-Api-Key`, `Authorization:
/// Bearer` or `?token=` (spec §3.3).
async fn introspect_v2(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let headers = request.headers();
    let token = headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or_else(|| bearer(headers))
        .or_else(|| {
            query_pairs(request.uri().query())
                .into_iter()
                .find(|(key, _)| key == "token")
                .map(|(_, value)| value)
        });
    match authenticate(&shared, token.as_deref()) {
        Ok(record) => json_response(
            200,
            PLAIN_JSON,
            json!({ "_id": record.jti(), "name": "", "scopes": record.scopes }).to_string(),
        ),
        Err(error) => json_response(
            401,
            PLAIN_JSON,
            json!({
                "error": "access_denied",
                "reason": error.title,
                "message": error.detail,
            })
            .to_string(),
        ),
    }
}

/// `GET /v3/token/introspect` (spec §3.3).
async fn introspect_v3(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let record = match authenticate(&shared, bearer(&headers).as_deref()) {
        Ok(record) => record,
        Err(error) => return error_response(&[*error]),
    };
    let body = json!({
        "data": {
            "id": record.jti(),
            "type": "standard",
            "scopes": record.scopes,
            "datapass_id": null,
            "siret_souscripteur": record.siret,
            "date_emission": record.issued_at.map(|at| at.to_string()),
            "date_expiration": record.expires_at.map(|at| at.to_string()),
            "rate_limit_par_minute": record.rate_limit_per_minute,
            "delegation": null,
        },
        "links": {},
        "meta": {},
    });
    json_response(200, JSON_API, body.to_string())
}

/// `GET /api/{provider}/ping`: staging's fake ping (spec §10.2 item 9).
async fn ping(State(shared): State<Arc<Shared>>, Path(provider): Path<String>) -> Response {
    if provider == "cnaf_msa_quotient_familial" {
        let now = shared.config.clock.now().to_string();
        json_response(
            200,
            PLAIN_JSON,
            json!({ "status": "ok", "last_update": now }).to_string(),
        )
    } else {
        json_response(404, PLAIN_JSON, "{}".to_string())
    }
}
