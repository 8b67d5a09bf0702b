//! The HTTP face of the fake Hubee: the WSO2 token endpoint, the gateway and `/teledossiers/v1`.
//!
//! One middleware plays the gateway for every request: it records what the client sent (for
//! `requests()`), counts the requests in flight, waits the base latency, applies the injected
//! faults, and checks the bearer token before any
//! `/teledossiers/v1` handler runs, exactly as WSO2 answers before Hubee itself sees the call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Extension, Json, Router};
use base64::Engine;
use serde_json::{json, Value};

use super::state::{ApiError, Caller, EventRequest, Hubee, PartnerInfo};
use super::{Config, Failure, RecordedRequest, Route};

/// What the handlers share.
pub struct Shared {
    pub hubee: Mutex<Hubee>,
    pub config: Config,
    pub faults: Mutex<Vec<(Route, usize, Failure)>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// The delay every request waits before it is handled.
    pub latency: Mutex<Duration>,
    /// Requests being handled now, and the most there ever were at once.
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

/// Counts one request in flight for as long as it lives, however the handling ends (an
/// answer, a dropped connection, a simulated hang-up).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks a mutex, going on with the data if a test thread panicked while holding it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/teledossiers/v1/notifications", get(list_notifications))
        .route(
            "/teledossiers/v1/notifications/{notification_id}",
            delete(delete_notification),
        )
        .route(
            "/teledossiers/v1/cases/{case_id}",
            get(get_case).patch(patch_case).post(override_patch_case),
        )
        .route(
            "/teledossiers/v1/cases/{case_id}/attachments/{attachment_id}",
            get(get_attachment),
        )
        .route("/teledossiers/v1/cases/{case_id}/events", post(post_event))
        .route(
            "/teledossiers/v1/cases/{case_id}/events/{event_id}",
            get(get_event).patch(patch_event).post(override_patch_event),
        )
        // Folders belong to the OSL and the administrators; an SI token may not touch them.
        .route("/teledossiers/v1/folders", any(folders_forbidden))
        .route("/teledossiers/v1/folders/{*rest}", any(folders_forbidden))
        .fallback(|| async { error(&ApiError::new(404, "Resource is not found")) })
        .method_not_allowed_fallback(|| async { error(&ApiError::new(405, "Method not allowed")) })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            gateway,
        ))
        .with_state(shared)
}

async fn folders_forbidden() -> Response {
    error(&ApiError::unauthorized_user())
}

/// Which route of the fault table a request is aimed at.
fn classify(method: &Method, path: &str) -> Option<Route> {
    if path == "/oauth2/token" {
        return Some(Route::Token);
    }
    let rest = path.strip_prefix("/teledossiers/v1/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let overridden = *method == Method::POST || *method == Method::PATCH;
    match (segments.as_slice(), method.as_str()) {
        (["notifications"], "GET") => Some(Route::ListNotifications),
        (["notifications", _], "DELETE") => Some(Route::DeleteNotification),
        (["cases", _], "GET") => Some(Route::GetCase),
        (["cases", _], _) if overridden => Some(Route::PatchCase),
        (["cases", _, "attachments", _], "GET") => Some(Route::GetAttachment),
        (["cases", _, "events"], "POST") => Some(Route::PostEvent),
        (["cases", _, "events", _], "GET") => Some(Route::GetEvent),
        (["cases", _, "events", _], _) if overridden => Some(Route::PatchEvent),
        _ => None,
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

async fn gateway(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let _in_flight = InFlight::enter(&shared);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let on_api = path.starts_with("/teledossiers/");
    let keeps_body = on_api && (parts.method == Method::POST || parts.method == Method::PATCH);
    let index = {
        let mut requests = lock(&shared.requests);
        requests.push(RecordedRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_string),
            editor_name: header_text(&parts.headers, "editorName"),
            application_name: header_text(&parts.headers, "applicationName"),
            software_version: header_text(&parts.headers, "softwareVersion"),
            has_authorization: parts.headers.contains_key(header::AUTHORIZATION),
            body: keeps_body.then(|| String::from_utf8_lossy(&bytes).into_owned()),
            status: None,
        });
        requests.len() - 1
    };
    let set_status = |status: StatusCode| {
        lock(&shared.requests)[index].status = Some(status.as_u16());
    };

    // The base latency delays the answer and nothing else: the request is already recorded
    // (in the order requests arrived) and is handled as usual afterwards.
    let latency = *lock(&shared.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let failure = classify(&parts.method, &path).and_then(|route| take_failure(&shared, route));
    match failure {
        Some(Failure::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Failure::Status(code)) => {
            let response = error(&ApiError::new(code, failure_message(code)));
            set_status(response.status());
            return response;
        }
        Some(Failure::HangUp) => {
            // "Socket hang up": unwinding out of the connection's task drops the socket before any
            // byte of the answer is written. `resume_unwind` skips the panic hook, so nothing is
            // printed; tokio contains the unwind to this connection.
            std::panic::resume_unwind(Box::new("simulated socket hang up"));
        }
        None => {}
    }

    let mut request = Request::from_parts(parts, Body::from(bytes));
    if on_api {
        match authorize(&shared, request.headers()) {
            Some(caller) => {
                let partner_info = PartnerInfo {
                    editor_name: header_text(request.headers(), "editorName"),
                    application_name: header_text(request.headers(), "applicationName"),
                    software_version: header_text(request.headers(), "softwareVersion"),
                };
                request.extensions_mut().insert(caller);
                request.extensions_mut().insert(partner_info);
            }
            None => {
                let response = (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({
                        "code": "900901",
                        "message": "Invalid Credentials",
                        "description": "Invalid Credentials. Make sure you have provided the correct security credentials",
                    })),
                )
                    .into_response();
                set_status(response.status());
                return response;
            }
        }
    }
    if on_api && shared.config.validate_uuids {
        if let Some(refusal) = malformed_id(request.method(), &path) {
            let response = error(&refusal);
            set_status(response.status());
            return response;
        }
    }
    let response = next.run(request).await;
    set_status(response.status());
    response
}

/// The gateway's schema refusal of an id that is not a UUID (§4, §12.3), if `path` has one.
fn malformed_id(method: &Method, path: &str) -> Option<ApiError> {
    let rest = path.strip_prefix("/teledossiers/v1/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let (template, ids): (&str, Vec<(&str, &str)>) = match segments.as_slice() {
        ["notifications", id] => (
            "/teledossiers/v1/notifications/{notificationId}",
            vec![("notificationId", id)],
        ),
        ["cases", id] => ("/teledossiers/v1/cases/{caseId}", vec![("caseId", id)]),
        ["cases", id, "events"] => (
            "/teledossiers/v1/cases/{caseId}/events",
            vec![("caseId", id)],
        ),
        ["cases", id, "attachments", attachment] => (
            "/teledossiers/v1/cases/{caseId}/attachments/{attachmentId}",
            vec![("caseId", id), ("attachmentId", attachment)],
        ),
        ["cases", id, "events", event] => (
            "/teledossiers/v1/cases/{caseId}/events/{eventId}",
            vec![("caseId", id), ("eventId", event)],
        ),
        _ => return None,
    };
    let (name, value) = ids
        .into_iter()
        .find(|(_, value)| uuid::Uuid::try_parse(value).is_err())?;
    Some(ApiError::new(
        400,
        &format!(
            "Bad Request : Validation failed.\n[ERROR][REQUEST][{method} {template} @path.{name}] Input string \"{value}\" is not a valid UUID"
        ),
    ))
}

fn take_failure(shared: &Shared, route: Route) -> Option<Failure> {
    let mut faults = lock(&shared.faults);
    let position = faults
        .iter()
        .position(|(target, _, _)| *target == route || *target == Route::Any)?;
    let failure = faults[position].2.clone();
    faults[position].1 -= 1;
    if faults[position].1 == 0 {
        faults.remove(position);
    }
    Some(failure)
}

fn failure_message(code: u16) -> &'static str {
    match code {
        500 => "Internal server",
        429 => "Too many requests",
        502 => "Bad gateway",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ => "Error",
    }
}

/// The caller of a `Bearer` token that exists and has not expired on the simulator's clock.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Option<Caller> {
    let value = header_text(headers, "authorization")?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    lock(&shared.hubee).caller(token.trim(), shared.config.clock.now())
}

fn error(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(error.body())).into_response()
}

fn answer(result: Result<Value, ApiError>, status: StatusCode) -> Response {
    match result {
        Ok(value) => (status, Json(value)).into_response(),
        Err(e) => error(&e),
    }
}

fn no_content(result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(&e),
    }
}

/// `application/x-www-form-urlencoded` pairs (also used for query strings).
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' if i + 3 <= bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        decoded.push(high * 16 + low);
                        i += 2;
                    }
                    _ => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

/// `POST /oauth2/token` (§3, §12.1).
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = header_text(&headers, "content-type").unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let fields: Vec<(String, String)> = if content_type
        .starts_with("application/x-www-form-urlencoded")
    {
        form_pairs(&text)
    } else if content_type.starts_with("application/json")
        && !shared.config.reject_json_token_requests
    {
        serde_json::from_str::<serde_json::Map<String, Value>>(&text)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_string())))
            .collect()
    } else {
        // The token endpoint only consumes forms; its JAX-RS stack refuses other media types.
        return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({
                    "error": "invalid_request",
                    "error_description": "Unsupported Content-Type, expected application/x-www-form-urlencoded",
                })),
            )
                .into_response();
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let basic = header_text(&headers, "authorization")
        .and_then(|value| value.strip_prefix("Basic ").map(str::to_string))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    let credentials = basic.or_else(|| field("client_id").zip(field("client_secret")));
    let now = shared.config.clock.now();
    let lifetime = shared.config.token_lifetime;
    let expires_at = now
        + jiff::SignedDuration::try_from(lifetime).unwrap_or(jiff::SignedDuration::from_secs(3600));
    let Some((client_id, client_secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client Authentication failed.",
        );
    };
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type value",
        );
    }
    let mut hubee = lock(&shared.hubee);
    if !hubee.knows_client(&client_id, &client_secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client Authentication failed.",
        );
    }
    if field("scope").as_deref() != Some("SI") {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "Invalid scope");
    }
    let Some(token) = hubee.issue_token(&client_id, &client_secret, expires_at) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client Authentication failed.",
        );
    };
    Json(json!({
        "access_token": token,
        "scope": "SI",
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
    }))
    .into_response()
}

async fn list_notifications(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = form_pairs(query.as_deref().unwrap_or(""));
    let mut max_result = 25usize;
    let mut event_details = false;
    let mut process_codes = Vec::new();
    for (name, value) in &pairs {
        match name.as_str() {
            "maxResult" => match parse_number(value) {
                Some(number) => max_result = number,
                None => {
                    return error(&ApiError::new(
                        400,
                        "Bad Request : Validation failed.\n[ERROR][REQUEST][GET /teledossiers/v1/notifications @query.maxResult] Instance type (string) does not match any allowed primitive type (allowed: [\"integer\",\"number\"]",
                    ))
                }
            },
            "eventDetails" => event_details = value == "true",
            "processCode" => process_codes.extend(value.split(',').map(str::to_string)),
            _ => {}
        }
    }
    let body = lock(&shared.hubee).list_notifications(
        &caller,
        max_result,
        &process_codes,
        event_details,
        shared.config.shuffle_notifications,
    );
    Json(body).into_response()
}

/// `maxResult` is declared `integer` or `number`; a negative number asks for nothing.
fn parse_number(text: &str) -> Option<usize> {
    let number: f64 = text.trim().parse().ok().filter(|n: &f64| n.is_finite())?;
    Some(if number < 0.0 { 0 } else { number as usize })
}

async fn delete_notification(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(notification_id): Path<String>,
) -> Response {
    no_content(lock(&shared.hubee).delete_notification(&caller, &notification_id))
}

async fn get_case(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(case_id): Path<String>,
) -> Response {
    answer(lock(&shared.hubee).case(&caller, &case_id), StatusCode::OK)
}

async fn get_attachment(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((case_id, attachment_id)): Path<(String, String)>,
) -> Response {
    match lock(&shared.hubee).attachment(&caller, &case_id, &attachment_id) {
        Ok((bytes, digest)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (header::HeaderName::from_static("digest"), digest),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error(&e),
    }
}

fn text_field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}

async fn post_event(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Extension(partner_info): Extension<PartnerInfo>,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(&ApiError::bad_request());
    };
    let request = EventRequest {
        action_type: text_field(&body, "actionType"),
        message: text_field(&body, "message"),
        comment: text_field(&body, "comment"),
        author: text_field(&body, "author"),
        notification: body
            .get("notification")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        case_current_status: text_field(&body, "caseCurrentStatus"),
        case_new_status: text_field(&body, "caseNewStatus"),
        partner_attributes: text_field(&body, "partnerAttributes"),
        attachments: body
            .get("attachments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    };
    let now = shared.config.clock.now();
    let result = lock(&shared.hubee).post_event(&caller, &case_id, request, partner_info, now);
    answer(result, StatusCode::CREATED)
}

async fn get_event(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((case_id, event_id)): Path<(String, String)>,
) -> Response {
    answer(
        lock(&shared.hubee).event(&caller, &case_id, &event_id),
        StatusCode::OK,
    )
}

/// The `status` of a PATCH body, or the 400 of a body that is not `{"status": "<text>"}`.
fn status_of(body: &Bytes) -> Result<String, ApiError> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|body| text_field(&body, "status"))
        .ok_or_else(ApiError::bad_request)
}

async fn patch_event(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((case_id, event_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let now = shared.config.clock.now();
    no_content(status_of(&body).and_then(|status| {
        lock(&shared.hubee).patch_event(&caller, &case_id, &event_id, &status, now)
    }))
}

async fn patch_case(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(case_id): Path<String>,
    body: Bytes,
) -> Response {
    let now = shared.config.clock.now();
    no_content(
        status_of(&body)
            .and_then(|status| lock(&shared.hubee).patch_case(&caller, &case_id, &status, now)),
    )
}

fn overrides_to_patch(headers: &HeaderMap) -> bool {
    header_text(headers, "x-http-method-override").is_some_and(|m| m.eq_ignore_ascii_case("PATCH"))
}

/// `POST` + `X-HTTP-Method-Override: PATCH` stands for `PATCH` (§4); any other `POST` is 405.
async fn override_patch_case(
    state: State<Arc<Shared>>,
    caller: Extension<Caller>,
    path: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !overrides_to_patch(&headers) {
        return error(&ApiError::new(405, "Method not allowed"));
    }
    patch_case(state, caller, path, body).await
}

async fn override_patch_event(
    state: State<Arc<Shared>>,
    caller: Extension<Caller>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !overrides_to_patch(&headers) {
        return error(&ApiError::new(405, "Method not allowed"));
    }
    patch_event(state, caller, path, body).await
}

/// How long `stop` waits for open connections before cutting them.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
