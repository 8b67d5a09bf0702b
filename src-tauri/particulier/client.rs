//! The HTTP client of `GET /v3/dss/quotient_familial/identite` (spec §2, §4, §8, §9).
//!
//! Why it is built this way:
//! - **Everything comes in as arguments**: the API origin (resolved by `endpoints.rs`), the
//!   token, the timeouts, the shared [`RateLimiter`] and the wall clock used to read
//!   `RateLimit-Reset` (an epoch second). The client never reads the environment.
//! - **Timeouts**: 5 s to connect, 20 s for the whole exchange, above the server's own 10 s
//!   wait for the caisse, so that its 504 arrives rather than a client-side timeout.
//! - **Every request waits for the token's limiter**; a 429 pauses that limiter (every caller
//!   of the token) for `Retry-After` (else `RateLimit-Reset`, else `meta.retry_in`, never 0)
//!   and is replayed at most [`ClientConfig::rate_limit_retries`] times, and only when the wait
//!   fits the caller's patience; `RateLimit-Remaining: 0` pauses it until the reset.
//! - **No other retry**: an agent is waiting at the counter; an outage is reported at once
//!   with what to do.
//! - **Answers are read leniently**: both content types, missing keys (a token without a
//!   scope), `valeur` null or 0, dates with `00` parts.
//! - **Every exchange is reported** ([`Call`]: status, API code, `X-Request-Id`) so that the
//!   caller journals each one, the replays of a 429 included.
//! - **The token stays secret**: a [`SecretString`] exposed only in the `Authorization` header,
//!   never in an error, a log or `Debug`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::errors::{classify, parse_errors, ErrorKind, LookupError};
use super::identity::{Identity, Period};
use super::limiter::RateLimiter;
use crate::error::{Code, Error};
use crate::vault::{ExposeSecret, SecretString};

/// The path of the identity lookup, as journaled (never with its query string).
pub const IDENTITY_PATH: &str = "/v3/dss/quotient_familial/identite";

/// The wall clock, to read `RateLimit-Reset`.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How long a call may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// The whole exchange; at least 15 s (the server waits 10 s for the caisse).
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(20),
        }
    }
}

/// Everything a client needs; nothing else is read.
pub struct ClientConfig {
    /// The API origin (`ServiceUrls::particulier_url`).
    pub base_url: String,
    pub token: SecretString,
    pub timeouts: Timeouts,
    /// The token's limiter, shared with every other caller ([`super::limiter::shared`]).
    pub limiter: Arc<RateLimiter>,
    pub clock: Clock,
    /// The longest a caller waits for its turn or for a 429 to pass; beyond, it fails at once.
    pub max_wait: Duration,
    /// How many times a 429 is replayed.
    pub rate_limit_retries: u32,
    /// The town hall's network (proxy), from [`crate::network::load`]; the system's settings
    /// unless the caller sets it.
    pub network: crate::network::Network,
}

impl ClientConfig {
    /// A configuration for the counter: default timeouts, 10 s of patience, two replays.
    pub fn counter(
        base_url: String,
        token: SecretString,
        limiter: Arc<RateLimiter>,
        clock: Clock,
    ) -> ClientConfig {
        ClientConfig {
            base_url,
            token,
            timeouts: Timeouts::default(),
            limiter,
            clock,
            max_wait: Duration::from_secs(10),
            rate_limit_retries: 2,
            network: crate::network::Network::system(),
        }
    }
}

/// One exchange with the server, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `None` when no answer came (timeout, dropped connection).
    pub http_status: Option<u16>,
    pub api_code: Option<String>,
    pub request_id: Option<String>,
}

/// A successful answer: the `data` blocks as received, and the `X-Request-Id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub data: serde_json::Map<String, Value>,
    pub request_id: Option<String>,
}

/// The result of a lookup and every exchange it took.
#[derive(Debug)]
pub struct Exchange {
    pub result: Result<Answer, LookupError>,
    pub calls: Vec<Call>,
}

/// The API Particulier client of one token.
pub struct ParticulierClient {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
    limiter: Arc<RateLimiter>,
    clock: Clock,
    max_wait: Duration,
    rate_limit_retries: u32,
}

impl fmt::Debug for ParticulierClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParticulierClient")
            .field("base_url", &self.base_url)
            .field("token", &"[caché]")
            .field("rate", &self.limiter.rate())
            .finish_non_exhaustive()
    }
}

impl ParticulierClient {
    pub fn new(config: ClientConfig) -> Result<ParticulierClient, Error> {
        let http = config
            .network
            .client_builder()?
            .connect_timeout(config.timeouts.connect)
            .timeout(config.timeouts.request)
            .user_agent(concat!("guichet-qf/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::new(
                    Code::Internal,
                    "Le client HTTP d'API Particulier n'a pas pu être préparé.",
                )
                .with_source(e)
            })?;
        Ok(ParticulierClient {
            http,
            base_url: config.base_url.trim_end_matches('/').to_string(),
            token: config.token,
            limiter: config.limiter,
            clock: config.clock,
            max_wait: config.max_wait,
            rate_limit_retries: config.rate_limit_retries,
        })
    }

    /// The most calls per second this client's token may make, all callers together.
    pub fn rate(&self) -> u32 {
        self.limiter.rate()
    }

    /// `GET /v3/dss/quotient_familial/identite` for `identity`, on behalf of `recipient` (the
    /// commune's SIRET), for `period` or the current month.
    pub async fn quotient_familial(
        &self,
        recipient: &str,
        identity: &Identity,
        period: Option<Period>,
    ) -> Exchange {
        let query = identity.query(recipient, period);
        let mut calls = Vec::new();
        let mut replays = 0;
        loop {
            if let Err(too_long) = self.limiter.acquire(Some(self.max_wait)).await {
                let error = LookupError {
                    retry_after: Some(too_long.wait),
                    ..LookupError::new(
                        ErrorKind::RateLimited,
                        "Trop de demandes envoyées à API Particulier avec le jeton de la commune.",
                        format!("Réessayez dans {} s.", too_long.wait.as_secs().max(1)),
                    )
                };
                return Exchange {
                    result: Err(error),
                    calls,
                };
            }
            let (result, call) = self.send(&query).await;
            calls.push(call);
            match result {
                Err(error)
                    if error.kind == ErrorKind::RateLimited
                        && replays < self.rate_limit_retries
                        && error.retry_after.is_some_and(|w| w <= self.max_wait) =>
                {
                    replays += 1;
                }
                result => return Exchange { result, calls },
            }
        }
    }

    async fn send(&self, query: &[(&'static str, String)]) -> (Result<Answer, LookupError>, Call) {
        let url = format!("{}{IDENTITY_PATH}", self.base_url);
        let response = self
            .http
            .get(&url)
            .query(query)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                let call = Call {
                    http_status: None,
                    api_code: None,
                    request_id: None,
                };
                return (Err(network_error(error)), call);
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let request_id = header(&headers, "x-request-id");
        self.observe_rate_limit(&headers, status);
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(error) => {
                let call = Call {
                    http_status: Some(status),
                    api_code: None,
                    request_id: request_id.clone(),
                };
                let mut failure = network_error(error);
                failure.http_status = Some(status);
                failure.request_id = request_id;
                return (Err(failure), call);
            }
        };
        let api_code = parse_errors(&body).into_iter().find_map(|e| e.code);
        let call = Call {
            http_status: Some(status),
            api_code,
            request_id: request_id.clone(),
        };
        if !(200..300).contains(&status) {
            let retry_after = (status == 429)
                .then(|| self.retry_after(&headers))
                .flatten();
            let error = classify(status, &body, request_id, retry_after);
            if status == 429 {
                let wait = error.retry_after.unwrap_or(Duration::from_secs(1));
                self.limiter.pause_for(wait);
            }
            return (Err(error), call);
        }
        let data = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|mut v| match v.get_mut("data").map(Value::take) {
                Some(Value::Object(data)) => Some(data),
                _ => None,
            });
        match data {
            Some(data) => (Ok(Answer { data, request_id }), call),
            None => {
                let error = LookupError {
                    http_status: Some(status),
                    request_id,
                    technical: format!(
                        "unreadable 200: {}",
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    ),
                    ..LookupError::new(
                        ErrorKind::Unexpected,
                        "La réponse d'API Particulier est illisible.",
                        "Réessayez ; si cela se répète, signalez-le au support de Guichet QF.",
                    )
                };
                (Err(error), call)
            }
        }
    }

    /// What the server says about the token itself: `/v3/token/introspect`, or, where that
    /// route does not exist (404), `/api/introspect` for the scopes (see [`super::token`]).
    /// Returns the status and body of the answer that counts.
    pub async fn introspect(&self) -> Result<(u16, Vec<u8>, bool), LookupError> {
        let mut v3 = true;
        for path in [super::token::INTROSPECT_V3, super::token::INTROSPECT_V2] {
            if self.limiter.acquire(Some(self.max_wait)).await.is_err() {
                return Err(LookupError::new(
                    ErrorKind::RateLimited,
                    "Trop de demandes envoyées à API Particulier avec le jeton de la commune.",
                    "La vérification du jeton sera refaite plus tard.",
                ));
            }
            let response = self
                .http
                .get(format!("{}{path}", self.base_url))
                .bearer_auth(self.token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(network_error)?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(network_error)?.to_vec();
            if status == 404 && v3 {
                v3 = false;
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(classify(status, &body, None, None));
            }
            return Ok((status, body, v3));
        }
        Err(LookupError::new(
            ErrorKind::Unexpected,
            "API Particulier ne propose aucune route d'introspection du jeton.",
            "La date d'expiration est lue dans le jeton lui-même.",
        ))
    }

    /// `Retry-After` in seconds, else `RateLimit-Reset` (an epoch second) minus now; never 0.
    fn retry_after(&self, headers: &HeaderMap) -> Option<Duration> {
        if let Some(seconds) = header(headers, "retry-after").and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_secs(seconds.max(1)));
        }
        self.until_reset(headers)
    }

    fn until_reset(&self, headers: &HeaderMap) -> Option<Duration> {
        let reset = header(headers, "ratelimit-reset")?.parse::<i64>().ok()?;
        let now = (self.clock)().as_second();
        // Some servers give seconds to wait rather than an epoch second.
        let seconds = if reset > 1_000_000_000 {
            reset - now
        } else {
            reset
        };
        Some(Duration::from_secs(seconds.clamp(1, 3600) as u64))
    }

    /// An exhausted window (`RateLimit-Remaining: 0`) holds every caller until it resets.
    fn observe_rate_limit(&self, headers: &HeaderMap, status: u16) {
        if status == 429 {
            return;
        }
        let exhausted = header(headers, "ratelimit-remaining")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|remaining| remaining == 0);
        if exhausted {
            if let Some(wait) = self.until_reset(headers) {
                self.limiter.pause_for(wait.min(Duration::from_secs(60)));
            }
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The URL is dropped from the error first: its query string holds the identity.
fn network_error(error: reqwest::Error) -> LookupError {
    let error = error.without_url();
    let (message, next) = if error.is_timeout() {
        (
            "API Particulier n'a pas répondu à temps.",
            "Réessayez dans quelques minutes ; si cela dure, consultez \
             status.particulier.api.gouv.fr.",
        )
    } else if error.is_connect() {
        (
            "API Particulier est injoignable.",
            "Vérifiez la connexion internet de la mairie, puis réessayez.",
        )
    } else {
        (
            "La connexion avec API Particulier a été interrompue.",
            "Réessayez dans quelques instants.",
        )
    };
    LookupError {
        technical: format!("network: {error}"),
        ..LookupError::new(ErrorKind::Unavailable, message, next)
    }
}
