//! What the fake Hubee knows and the rules it enforces, without any HTTP.
//!
//! Keeping the model apart from the routes lets each rule of `shared/specs/hubee.md` (scoping
//! §12.3, status transitions §7.1, event rules §5.5, acknowledgements §5.6, the OSL's behaviour
//! §9) be read in one place. Every operation takes the current time as an argument; the server
//! reads it from the `SimClock`.

use std::collections::HashMap;

use base64::Engine;
use jiff::Timestamp;
use rand::seq::SliceRandom;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::formulaire_qf::FormulaireQf;

pub const PROCESS_CODE: &str = "FormulaireQF";

/// Which "previous status" table `caseNewStatus` is checked against (§7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransitionRules {
    /// The "statuts entrants" of the 2024 contract, stricter than what Hubee accepts.
    Documented,
    /// The "Avant" column of the valise's workflow sheet, which DINUM's own script relies on.
    #[default]
    Practice,
}

/// How a status event and the case's status relate (§12.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusMode {
    /// Mode A, the 2024 contract: `POST /events` with `caseNewStatus` moves the case.
    #[default]
    EventMovesCase,
    /// Mode B, the 2022 flow: the case must first be moved by `PATCH /cases/{id}`, and the event
    /// must then announce that same status.
    PatchBeforeEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentStatus {
    Pending,
    Received,
    Corrupted,
    Rejected,
    Deleted,
}

impl AttachmentStatus {
    fn code(self) -> &'static str {
        match self {
            AttachmentStatus::Pending => "PENDING",
            AttachmentStatus::Received => "RECEIVED",
            AttachmentStatus::Corrupted => "CORRUPTED",
            AttachmentStatus::Rejected => "REJECTED",
            AttachmentStatus::Deleted => "DELETED",
        }
    }
}

/// An error answered as `{"errors":[{"code":…,"message":…}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: &str) -> ApiError {
        ApiError {
            status,
            message: message.to_string(),
        }
    }

    /// The generic schema-validation refusal of §4.
    pub fn bad_request() -> ApiError {
        ApiError::new(400, "Bad request")
    }

    pub fn unauthorized_user() -> ApiError {
        ApiError::new(403, "Unauthorized user")
    }

    pub fn body(&self) -> Value {
        json!({ "errors": [{ "code": self.status, "message": self.message }] })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub kind: &'static str,
    pub company_register: String,
    pub branch_code: String,
}

impl Organization {
    pub fn si(siret: &str, cog: &str) -> Organization {
        Organization {
            kind: "SI",
            company_register: siret.to_string(),
            branch_code: cog.to_string(),
        }
    }

    /// formulaire-qf's own organization; its real SIRET is not published (§13.9), so this is
    /// DINUM's.
    pub fn formulaire_qf() -> Organization {
        Organization {
            kind: "OSL",
            company_register: "13002526500013".to_string(),
            branch_code: "75107".to_string(),
        }
    }

    fn json(&self) -> Value {
        json!({
            "type": self.kind,
            "companyRegister": self.company_register,
            "branchCode": self.branch_code,
        })
    }
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub organization: Organization,
    pub process_code: String,
}

/// The tracing headers of §4, echoed in `partnerInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerInfo {
    pub editor_name: Option<String>,
    pub application_name: Option<String>,
    pub software_version: Option<String>,
}

impl PartnerInfo {
    fn json(&self) -> Value {
        json!({
            "editorName": self.editor_name,
            "applicationName": self.application_name,
            "softwareVersion": self.software_version,
        })
    }
}

struct Subscription {
    caller: Caller,
    client_id: String,
    client_secret: String,
}

struct Token {
    caller: Caller,
    expires_at: Timestamp,
}

struct Attachment {
    id: String,
    status: AttachmentStatus,
    file_name: String,
    mime_type: String,
    bytes: Vec<u8>,
    /// Set by the "digest mismatch" fault: the `digest` header then describes other bytes.
    wrong_digest: bool,
}

impl Attachment {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status.code(),
            "fileName": self.file_name,
            "type": PROCESS_CODE,
            "size": self.bytes.len(),
            "mimeType": self.mime_type,
        })
    }
}

struct Event {
    id: String,
    transmitter: Organization,
    message: Option<String>,
    comment: Option<String>,
    action_type: String,
    author: Option<String>,
    notification: bool,
    create_date_time: Timestamp,
    update_date_time: Option<Timestamp>,
    status: &'static str,
    case_current_status: Option<String>,
    case_new_status: Option<String>,
    partner_attributes: Option<String>,
    attachments: Vec<Value>,
    partner_info: PartnerInfo,
}

impl Event {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "transmitter": self.transmitter.json(),
            "message": self.message,
            "comment": self.comment,
            "actionType": self.action_type,
            "author": self.author,
            "notification": self.notification,
            "createDateTime": time(self.create_date_time),
            "updateDateTime": self.update_date_time.map(time),
            "status": self.status,
            "caseCurrentStatus": self.case_current_status,
            "caseNewStatus": self.case_new_status,
            "partnerAttributes": self.partner_attributes,
            "attachments": self.attachments,
            "partnerInfo": self.partner_info.json(),
        })
    }
}

struct Case {
    id: String,
    folder_id: String,
    folder_status: String,
    external_id: String,
    status: String,
    recipient: Organization,
    process_code: String,
    applicant_first_name: String,
    applicant_last_name: String,
    create_date_time: Timestamp,
    update_date_time: Timestamp,
    transmission_date_time: Timestamp,
    close_date_time: Option<Timestamp>,
    attachments: Vec<Attachment>,
    events: Vec<Event>,
    /// The status set by the last `PATCH /cases/{id}` that no event has announced yet.
    patched_status: Option<String>,
}

impl Case {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status,
            "recipient": self.recipient.json(),
            "externalId": self.external_id,
            "processCode": self.process_code,
            "createDateTime": time(self.create_date_time),
            "updateDateTime": time(self.update_date_time),
            "transmissionDateTime": time(self.transmission_date_time),
            "closeDateTime": self.close_date_time.map(time),
            "partnerAttributes": null,
            "applicant": {
                "firstName": self.applicant_first_name,
                "lastName": self.applicant_last_name,
                "email": null,
            },
            "attachments": self.attachments.iter().map(Attachment::json).collect::<Vec<_>>(),
            "events": self.events.iter().map(Event::json).collect::<Vec<_>>(),
        })
    }
}

#[derive(Clone)]
struct Notification {
    id: String,
    process_code: String,
    case_id: String,
    event_id: Option<String>,
    event_action_type: Option<String>,
    event_status: Option<&'static str>,
    date_time: Timestamp,
    recipient: Organization,
    transmitter: Organization,
}

impl Notification {
    fn json(&self, event_details: bool) -> Value {
        let mut value = json!({
            "id": self.id,
            "processCode": self.process_code,
            "caseId": self.case_id,
            "eventId": self.event_id,
            "dateTime": time(self.date_time),
            "recipient": self.recipient.json(),
            "transmitter": self.transmitter.json(),
        });
        if event_details {
            value["eventActionType"] = json!(self.event_action_type);
            value["eventStatus"] = json!(self.event_status);
        }
        value
    }
}

/// A dossier put into Hubee by the simulated formulaire-qf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededDossier {
    pub folder_id: String,
    pub case_id: String,
    /// `Formulaire-QF-<reference>-01`.
    pub case_external_id: String,
    /// The notification (with `eventId: null`) that tells the SI about it.
    pub notification_id: String,
    pub files: Vec<SeededFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededFile {
    pub attachment_id: String,
    pub file_name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// The fields of `POST /cases/{id}/events` the simulator checks.
#[derive(Debug, Clone, Default)]
pub struct EventRequest {
    pub action_type: Option<String>,
    pub message: Option<String>,
    pub comment: Option<String>,
    pub author: Option<String>,
    pub notification: bool,
    pub case_current_status: Option<String>,
    pub case_new_status: Option<String>,
    pub partner_attributes: Option<String>,
    pub attachments: Vec<Value>,
}

const ACTION_TYPES: &[&str] = &[
    "STATUS_UPDATE",
    "ATTACH_DEPOSIT",
    "ATTACH_DL",
    "ATTACH_DL_ALL",
    "COM_ADD",
    "SENDING_MESSAGE",
];

/// The statuses a service instructeur may give a case; the others belong to Hubee or the OSL.
const SI_STATUSES: &[&str] = &[
    "SENT",
    "SI_RECEIVED",
    "IN_PROGRESS",
    "ADD_AWAITING",
    "REFUSED",
    "DONE",
    "SI_INTG_ERROR",
];

/// The statuses a case may have before `to`, per `rules` (§7.1).
fn previous_statuses(rules: TransitionRules, to: &str) -> &'static [&'static str] {
    match (rules, to) {
        (TransitionRules::Documented, "SENT") => &["HUBEE_NOTIFIED"],
        (TransitionRules::Documented, "SI_RECEIVED") => &["SENT"],
        (TransitionRules::Documented, "IN_PROGRESS") => &["SI_RECEIVED"],
        (TransitionRules::Documented, "ADD_AWAITING") => &["IN_PROGRESS"],
        (TransitionRules::Documented, "REFUSED" | "DONE") => {
            &["SI_RECEIVED", "IN_PROGRESS", "ADD_AWAITING"]
        }
        (TransitionRules::Documented, "SI_INTG_ERROR") => {
            &["SI_RECEIVED", "IN_PROGRESS", "ADD_AWAITING", "DONE"]
        }
        (TransitionRules::Documented, "CLOSED") => &[
            "SI_RECEIVED",
            "IN_PROGRESS",
            "ADD_AWAITING",
            "DONE",
            "REFUSED",
        ],
        (TransitionRules::Practice, "SENT") => &["HUBEE_NOTIFIED"],
        (TransitionRules::Practice, "SI_RECEIVED") => &["SENT", "HUBEE_NOTIFIED"],
        (TransitionRules::Practice, "IN_PROGRESS") => &["SENT", "HUBEE_NOTIFIED", "SI_RECEIVED"],
        (TransitionRules::Practice, "ADD_AWAITING" | "REFUSED") => {
            &["SENT", "HUBEE_NOTIFIED", "SI_RECEIVED", "IN_PROGRESS"]
        }
        (TransitionRules::Practice, "SI_INTG_ERROR") => &["SENT", "HUBEE_NOTIFIED", "SI_RECEIVED"],
        (TransitionRules::Practice, "DONE") => &["SENT", "SI_RECEIVED", "IN_PROGRESS"],
        // formulaire-qf closes refused cases too (§9), so REFUSED joins the sheet's list.
        (TransitionRules::Practice, "CLOSED") => &["DONE", "IN_PROGRESS", "REFUSED"],
        _ => &[],
    }
}

/// Whether a service instructeur may move a case from `from` to `to`.
pub fn transition_allowed(rules: TransitionRules, from: &str, to: &str) -> bool {
    SI_STATUSES.contains(&to) && previous_statuses(rules, to).contains(&from)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Times as Hubee writes them: UTC, milliseconds.
fn time(at: Timestamp) -> String {
    format!("{at:.3}")
}

/// The base64 SHA-256 Hubee puts in the `digest` header (no `SHA-256=` prefix, §4).
pub fn digest(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// The whole state of the fake Hubee.
pub struct Hubee {
    pub rules: TransitionRules,
    pub status_mode: StatusMode,
    subscriptions: Vec<Subscription>,
    tokens: HashMap<String, Token>,
    cases: Vec<Case>,
    notifications: Vec<Notification>,
}

impl Hubee {
    pub fn new(rules: TransitionRules, status_mode: StatusMode) -> Hubee {
        Hubee {
            rules,
            status_mode,
            subscriptions: Vec::new(),
            tokens: HashMap::new(),
            cases: Vec::new(),
            notifications: Vec::new(),
        }
    }

    pub fn subscribe(&mut self, siret: &str, cog: &str, client_id: &str, client_secret: &str) {
        self.subscriptions.retain(|s| s.client_id != client_id);
        self.subscriptions.push(Subscription {
            caller: Caller {
                organization: Organization::si(siret, cog),
                process_code: PROCESS_CODE.to_string(),
            },
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
        });
    }

    pub fn knows_client(&self, client_id: &str, client_secret: &str) -> bool {
        self.subscriptions
            .iter()
            .any(|s| s.client_id == client_id && s.client_secret == client_secret)
    }

    /// A new opaque token for these client credentials, or `None` when they are wrong.
    pub fn issue_token(
        &mut self,
        client_id: &str,
        client_secret: &str,
        expires_at: Timestamp,
    ) -> Option<String> {
        let subscription = self
            .subscriptions
            .iter()
            .find(|s| s.client_id == client_id && s.client_secret == client_secret)?;
        let token = format!("{}", uuid::Uuid::new_v4().simple());
        self.tokens.insert(
            token.clone(),
            Token {
                caller: subscription.caller.clone(),
                expires_at,
            },
        );
        Some(token)
    }

    /// Who `token` speaks for, if it exists and has not expired at `now`.
    pub fn caller(&self, token: &str, now: Timestamp) -> Option<Caller> {
        self.tokens
            .get(token)
            .filter(|t| now < t.expires_at)
            .map(|t| t.caller.clone())
    }

    pub fn expire_all_tokens(&mut self) {
        self.tokens.clear();
    }

    pub fn list_notifications(
        &self,
        caller: &Caller,
        max_result: usize,
        process_codes: &[String],
        event_details: bool,
        shuffle: bool,
    ) -> Value {
        let mut visible: Vec<&Notification> = self
            .notifications
            .iter()
            .filter(|n| n.recipient == caller.organization)
            .filter(|n| process_codes.is_empty() || process_codes.contains(&n.process_code))
            .collect();
        if shuffle {
            visible.shuffle(&mut rand::rng());
        }
        Value::Array(
            visible
                .into_iter()
                .take(max_result)
                .map(|n| n.json(event_details))
                .collect(),
        )
    }

    pub fn delete_notification(&mut self, caller: &Caller, id: &str) -> Result<(), ApiError> {
        let index = self
            .notifications
            .iter()
            .position(|n| n.id == id)
            .ok_or_else(|| ApiError::new(404, "Notification is not found"))?;
        if self.notifications[index].recipient != caller.organization {
            return Err(ApiError::unauthorized_user());
        }
        self.notifications.remove(index);
        Ok(())
    }

    fn visible_case(&self, caller: &Caller, id: &str) -> Result<usize, ApiError> {
        let index = self
            .cases
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| ApiError::new(404, "Case is not found"))?;
        let case = &self.cases[index];
        if case.recipient != caller.organization || case.process_code != caller.process_code {
            return Err(ApiError::unauthorized_user());
        }
        Ok(index)
    }

    pub fn case(&self, caller: &Caller, id: &str) -> Result<Value, ApiError> {
        let index = self.visible_case(caller, id)?;
        Ok(self.cases[index].json())
    }

    /// The bytes of a `RECEIVED` attachment and the `digest` header to send with them.
    pub fn attachment(
        &self,
        caller: &Caller,
        case_id: &str,
        attachment_id: &str,
    ) -> Result<(Vec<u8>, String), ApiError> {
        let index = self.visible_case(caller, case_id)?;
        let attachment = self.cases[index]
            .attachments
            .iter()
            .find(|a| a.id == attachment_id && a.status == AttachmentStatus::Received)
            .ok_or_else(|| ApiError::new(404, "File is not found"))?;
        let digest = if attachment.wrong_digest {
            digest(b"not the bytes that were sent")
        } else {
            digest(&attachment.bytes)
        };
        Ok((attachment.bytes.clone(), digest))
    }

    pub fn post_event(
        &mut self,
        caller: &Caller,
        case_id: &str,
        request: EventRequest,
        partner_info: PartnerInfo,
        now: Timestamp,
    ) -> Result<Value, ApiError> {
        let index = self.visible_case(caller, case_id)?;
        let action_type = request
            .action_type
            .clone()
            .filter(|a| ACTION_TYPES.contains(&a.as_str()))
            .ok_or_else(ApiError::bad_request)?;
        let too_long = |text: &Option<String>, max: usize| {
            text.as_ref().is_some_and(|t| t.chars().count() > max)
        };
        if too_long(&request.message, 1000)
            || too_long(&request.comment, 1000)
            || too_long(&request.author, 255)
            || too_long(&request.partner_attributes, 1024)
        {
            return Err(ApiError::bad_request());
        }
        let deposit = action_type == "ATTACH_DEPOSIT";
        if deposit == request.attachments.is_empty() {
            return Err(ApiError::bad_request());
        }
        let rules = self.rules;
        let status_mode = self.status_mode;
        let case = &mut self.cases[index];
        let previous_status = case.status.clone();
        if action_type == "STATUS_UPDATE" {
            let new_status = request
                .case_new_status
                .clone()
                .ok_or_else(ApiError::bad_request)?;
            let announces_patch = case.patched_status.as_deref() == Some(new_status.as_str());
            match status_mode {
                StatusMode::PatchBeforeEvent if !announces_patch => {
                    return Err(ApiError::bad_request())
                }
                _ if announces_patch => case.patched_status = None,
                _ => {
                    if !transition_allowed(rules, &case.status, &new_status) {
                        return Err(ApiError::bad_request());
                    }
                    case.status = new_status;
                    case.update_date_time = now;
                }
            }
        }
        let event = Event {
            id: new_id(),
            transmitter: caller.organization.clone(),
            message: request.message,
            comment: request.comment,
            action_type: action_type.clone(),
            author: request.author,
            notification: request.notification,
            create_date_time: now,
            update_date_time: None,
            status: if deposit { "IN_PROGRESS" } else { "SENT" },
            case_current_status: request.case_current_status.or(Some(previous_status)),
            case_new_status: request.case_new_status,
            partner_attributes: request.partner_attributes,
            attachments: request.attachments,
            partner_info,
        };
        let body = event.json();
        if event.notification && !deposit {
            let notification = Notification {
                id: new_id(),
                process_code: case.process_code.clone(),
                case_id: case.id.clone(),
                event_id: Some(event.id.clone()),
                event_action_type: Some(action_type),
                event_status: Some("SENT"),
                date_time: now,
                recipient: Organization::formulaire_qf(),
                transmitter: caller.organization.clone(),
            };
            self.notifications.push(notification);
        }
        self.cases[index].events.push(event);
        Ok(body)
    }

    pub fn event(&self, caller: &Caller, case_id: &str, event_id: &str) -> Result<Value, ApiError> {
        let index = self.visible_case(caller, case_id)?;
        self.cases[index]
            .events
            .iter()
            .find(|e| e.id == event_id)
            .map(Event::json)
            .ok_or_else(|| ApiError::new(404, "Event is not found"))
    }

    /// `PATCH /cases/{id}/events/{eid}`: the recipient acknowledges (`RECEIVED`), or the
    /// transmitter finalises an attachment deposit (`SENT`).
    pub fn patch_event(
        &mut self,
        caller: &Caller,
        case_id: &str,
        event_id: &str,
        status: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let index = self.visible_case(caller, case_id)?;
        self.set_event_status(index, &caller.organization, event_id, status, now)
    }

    fn set_event_status(
        &mut self,
        index: usize,
        by: &Organization,
        event_id: &str,
        status: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let case = &mut self.cases[index];
        let event = case
            .events
            .iter_mut()
            .find(|e| e.id == event_id)
            .ok_or_else(|| ApiError::new(404, "Event is not found"))?;
        match status {
            "RECEIVED" if event.status == "RECEIVED" => Ok(()),
            "RECEIVED" if event.status == "SENT" && &event.transmitter != by => {
                event.status = "RECEIVED";
                event.update_date_time = Some(now);
                if event.notification {
                    let notification = Notification {
                        id: new_id(),
                        process_code: case.process_code.clone(),
                        case_id: case.id.clone(),
                        event_id: Some(event.id.clone()),
                        event_action_type: Some(event.action_type.clone()),
                        event_status: Some("RECEIVED"),
                        date_time: now,
                        recipient: event.transmitter.clone(),
                        transmitter: by.clone(),
                    };
                    self.notifications.push(notification);
                }
                Ok(())
            }
            "SENT" if event.status == "IN_PROGRESS" && &event.transmitter == by => {
                event.status = "SENT";
                event.update_date_time = Some(now);
                // A deposit is announced to the other party only once its files are all there.
                if event.notification {
                    let recipient = if event.transmitter == case.recipient {
                        Organization::formulaire_qf()
                    } else {
                        case.recipient.clone()
                    };
                    let notification = Notification {
                        id: new_id(),
                        process_code: case.process_code.clone(),
                        case_id: case.id.clone(),
                        event_id: Some(event.id.clone()),
                        event_action_type: Some(event.action_type.clone()),
                        event_status: Some("SENT"),
                        date_time: now,
                        recipient,
                        transmitter: by.clone(),
                    };
                    self.notifications.push(notification);
                }
                Ok(())
            }
            _ => Err(ApiError::bad_request()),
        }
    }

    /// `PATCH /cases/{id}` by a service instructeur (the legacy flow, §5.7).
    pub fn patch_case(
        &mut self,
        caller: &Caller,
        case_id: &str,
        status: &str,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let index = self.visible_case(caller, case_id)?;
        let case = &mut self.cases[index];
        if !transition_allowed(self.rules, &case.status, status) {
            return Err(ApiError::bad_request());
        }
        case.status = status.to_string();
        case.update_date_time = now;
        case.patched_status = Some(status.to_string());
        Ok(())
    }

    /// What formulaire-qf does when a citizen submits the form (§8.1, §12.11a).
    pub fn seed(
        &mut self,
        siret: &str,
        cog: &str,
        dossier: &FormulaireQf,
        now: Timestamp,
    ) -> SeededDossier {
        let recipient = Organization::si(siret, cog);
        assert!(
            self.subscriptions
                .iter()
                .any(|s| s.caller.organization == recipient),
            "Case recipient SI-{siret}-{cog} does not suscribed to {PROCESS_CODE}"
        );
        let files: Vec<SeededFile> = dossier
            .files(now)
            .into_iter()
            .map(|file| SeededFile {
                attachment_id: new_id(),
                file_name: file.file_name,
                mime_type: file.mime_type.to_string(),
                bytes: file.bytes,
            })
            .collect();
        let case = Case {
            id: new_id(),
            folder_id: new_id(),
            folder_status: "HUBEE_NOTIFIED".to_string(),
            external_id: format!("{}-01", dossier.folder_external_id()),
            status: "HUBEE_NOTIFIED".to_string(),
            recipient: recipient.clone(),
            process_code: PROCESS_CODE.to_string(),
            applicant_first_name: dossier.identity.given_names.clone(),
            applicant_last_name: dossier.identity.family_name.clone(),
            create_date_time: now,
            update_date_time: now,
            transmission_date_time: now,
            close_date_time: None,
            attachments: files
                .iter()
                .map(|file| Attachment {
                    id: file.attachment_id.clone(),
                    status: AttachmentStatus::Received,
                    file_name: file.file_name.clone(),
                    mime_type: file.mime_type.clone(),
                    bytes: file.bytes.clone(),
                    wrong_digest: false,
                })
                .collect(),
            events: Vec::new(),
            patched_status: None,
        };
        let notification_id = self.notify_new_case(&case, now);
        let seeded = SeededDossier {
            folder_id: case.folder_id.clone(),
            case_id: case.id.clone(),
            case_external_id: case.external_id.clone(),
            notification_id,
            files,
        };
        self.cases.push(case);
        seeded
    }

    fn notify_new_case(&mut self, case: &Case, now: Timestamp) -> String {
        let notification = Notification {
            id: new_id(),
            process_code: case.process_code.clone(),
            case_id: case.id.clone(),
            event_id: None,
            event_action_type: None,
            event_status: None,
            date_time: now,
            recipient: case.recipient.clone(),
            transmitter: Organization::formulaire_qf(),
        };
        let id = notification.id.clone();
        self.notifications.push(notification);
        id
    }

    /// One more "new dossier" notification for a case already notified (a fault of §12.12).
    pub fn duplicate_notification(&mut self, case_id: &str, now: Timestamp) -> String {
        let index = self.case_index(case_id);
        let case = &self.cases[index];
        let notification = Notification {
            id: new_id(),
            process_code: case.process_code.clone(),
            case_id: case.id.clone(),
            event_id: None,
            event_action_type: None,
            event_status: None,
            date_time: now,
            recipient: case.recipient.clone(),
            transmitter: Organization::formulaire_qf(),
        };
        let id = notification.id.clone();
        self.notifications.push(notification);
        id
    }

    /// A case of another démarche for the same commune, and its notification (§12.12).
    pub fn foreign_process_notification(
        &mut self,
        siret: &str,
        cog: &str,
        process_code: &str,
        now: Timestamp,
    ) -> String {
        let case = Case {
            id: new_id(),
            folder_id: new_id(),
            folder_status: "HUBEE_NOTIFIED".to_string(),
            external_id: format!("{process_code}-{}", &new_id()[..8]),
            status: "HUBEE_NOTIFIED".to_string(),
            recipient: Organization::si(siret, cog),
            process_code: process_code.to_string(),
            applicant_first_name: "Camille".to_string(),
            applicant_last_name: "AUTRE".to_string(),
            create_date_time: now,
            update_date_time: now,
            transmission_date_time: now,
            close_date_time: None,
            attachments: Vec::new(),
            events: Vec::new(),
            patched_status: None,
        };
        let id = self.notify_new_case(&case, now);
        self.cases.push(case);
        id
    }

    pub fn set_attachment_status(
        &mut self,
        case_id: &str,
        file_name: &str,
        status: AttachmentStatus,
    ) {
        self.attachment_mut(case_id, file_name).status = status;
    }

    pub fn break_digest(&mut self, case_id: &str, file_name: &str) {
        self.attachment_mut(case_id, file_name).wrong_digest = true;
    }

    pub fn replace_file(&mut self, case_id: &str, file_name: &str, bytes: Vec<u8>) {
        self.attachment_mut(case_id, file_name).bytes = bytes;
    }

    fn case_index(&self, case_id: &str) -> usize {
        self.cases
            .iter()
            .position(|c| c.id == case_id)
            .unwrap_or_else(|| panic!("the simulator has no case {case_id}"))
    }

    fn attachment_mut(&mut self, case_id: &str, file_name: &str) -> &mut Attachment {
        let index = self.case_index(case_id);
        self.cases[index]
            .attachments
            .iter_mut()
            .find(|a| a.file_name == file_name)
            .unwrap_or_else(|| panic!("case {case_id} has no file {file_name}"))
    }

    /// One run of formulaire-qf's `ReadHubEENotificationsJob` (§9, §12.11b): it reads its own
    /// notifications, closes cases the SI finished, acknowledges the SI's status events and
    /// deletes what it processed; notifications of other démarches stay in its queue.
    pub fn run_osl_cycle(&mut self, now: Timestamp) {
        let osl = Organization::formulaire_qf();
        let (mine, others): (Vec<Notification>, Vec<Notification>) =
            std::mem::take(&mut self.notifications)
                .into_iter()
                .partition(|n| n.recipient == osl && n.process_code == PROCESS_CODE);
        self.notifications = others;
        for notification in mine {
            let Some(event_id) = notification.event_id else {
                continue;
            };
            let Some(index) = self.cases.iter().position(|c| c.id == notification.case_id) else {
                continue;
            };
            let Some(event) = self.cases[index].events.iter().find(|e| e.id == event_id) else {
                continue;
            };
            if event.status != "SENT" || event.action_type != "STATUS_UPDATE" {
                continue;
            }
            let new_status = event.case_new_status.clone().unwrap_or_default();
            let current_status = event.case_current_status.clone();
            if new_status == "DONE" || new_status == "REFUSED" {
                self.close_case(index, current_status, now);
            }
            // Acknowledging an event the OSL received cannot fail.
            let _ = self.set_event_status(index, &osl, &event_id, "RECEIVED", now);
        }
    }

    /// `PATCH CLOSED`, the `CLOSED` event (notified to the SI) and the folder's closure.
    fn close_case(&mut self, index: usize, current_status: Option<String>, now: Timestamp) {
        let osl = Organization::formulaire_qf();
        let case = &mut self.cases[index];
        case.status = "CLOSED".to_string();
        case.update_date_time = now;
        case.close_date_time = Some(now);
        case.folder_status = "CLOSED".to_string();
        let event = Event {
            id: new_id(),
            transmitter: osl.clone(),
            message: Some("Dossier traité par le service.".to_string()),
            comment: None,
            action_type: "STATUS_UPDATE".to_string(),
            author: Some("DINUM".to_string()),
            notification: true,
            create_date_time: now,
            update_date_time: None,
            status: "SENT",
            case_current_status: current_status,
            case_new_status: Some("CLOSED".to_string()),
            partner_attributes: None,
            attachments: Vec::new(),
            partner_info: PartnerInfo::default(),
        };
        let notification = Notification {
            id: new_id(),
            process_code: case.process_code.clone(),
            case_id: case.id.clone(),
            event_id: Some(event.id.clone()),
            event_action_type: Some("STATUS_UPDATE".to_string()),
            event_status: Some("SENT"),
            date_time: now,
            recipient: case.recipient.clone(),
            transmitter: osl,
        };
        case.events.push(event);
        self.notifications.push(notification);
    }

    /// The folder's `globalStatus`, which only the OSL sees.
    pub fn folder_status(&self, case_id: &str) -> String {
        self.cases[self.case_index(case_id)].folder_status.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_rules_refuse_the_jumps_practice_allows() {
        assert!(transition_allowed(
            TransitionRules::Practice,
            "HUBEE_NOTIFIED",
            "SI_RECEIVED"
        ));
        assert!(!transition_allowed(
            TransitionRules::Documented,
            "HUBEE_NOTIFIED",
            "SI_RECEIVED"
        ));
        assert!(!transition_allowed(
            TransitionRules::Practice,
            "HUBEE_NOTIFIED",
            "DONE"
        ));
        assert!(!transition_allowed(
            TransitionRules::Practice,
            "DONE",
            "CLOSED"
        ));
    }

    #[test]
    fn a_deposit_is_announced_to_the_osl_only_once_finalised() {
        let now = Timestamp::from_second(1_795_000_000).unwrap();
        let mut hubee = Hubee::new(TransitionRules::Practice, StatusMode::EventMovesCase);
        hubee.subscribe("21040107100019", "04107", "id", "secret");
        let dossier = crate::simulators::hubee::fictitious_dossiers(1, 1).remove(0);
        let seeded = hubee.seed("21040107100019", "04107", &dossier, now);
        let caller = Caller {
            organization: Organization::si("21040107100019", "04107"),
            process_code: PROCESS_CODE.to_string(),
        };
        let request = EventRequest {
            action_type: Some("ATTACH_DEPOSIT".into()),
            notification: true,
            attachments: vec![json!({"fileName": "accuse.pdf"})],
            ..EventRequest::default()
        };
        let event = hubee
            .post_event(
                &caller,
                &seeded.case_id,
                request,
                PartnerInfo::default(),
                now,
            )
            .unwrap();
        let to_osl = |hubee: &Hubee| {
            hubee
                .notifications
                .iter()
                .filter(|n| n.recipient == Organization::formulaire_qf())
                .count()
        };
        assert_eq!(to_osl(&hubee), 0);
        let event_id = event["id"].as_str().unwrap();
        hubee
            .patch_event(&caller, &seeded.case_id, event_id, "SENT", now)
            .unwrap();
        assert_eq!(to_osl(&hubee), 1);
        assert_eq!(
            hubee.patch_event(&caller, &seeded.case_id, event_id, "SENT", now),
            Err(ApiError::bad_request())
        );
    }

    #[test]
    fn digest_is_plain_base64_sha256() {
        assert_eq!(
            digest(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
