//! The one error type of the domain, and the `{ code, message }` shape that crosses IPC.
//!
//! Why one type rather than a `thiserror` enum per module: every error here ends in front of a
//! counter agent, so what matters is (a) a French sentence that says what happened and what to do,
//! written where the failure is understood, and (b) a small, stable [`Code`] that the UI and the
//! CLI can branch on. The underlying cause (a SQLite error, an I/O error) is kept as `source` for
//! the log file and never shown.
//!
//! Add a [`Code`] variant only when a consumer (the UI, the CLI, a test) branches on it.

use serde::Serialize;
use ts_rs::TS;

/// What kind of failure this is, for the UI to react to (lock screen, recovery screen, inline
/// field error…). Stable identifiers: the UI matches these, never the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Code {
    /// The agent's input is wrong; the message names the field.
    Validation,
    NotFound,
    /// The input collides with existing data (a SIRET already registered…).
    Conflict,
    /// The database was written by a newer Guichet QF; it was left untouched.
    DatabaseTooNew,
    /// The database file is damaged; a backup must be restored.
    DatabaseCorrupted,
    /// Reading or writing local files failed (disk full, permissions…).
    Storage,
    /// The secrets vault needs its passphrase before secrets can be used.
    VaultLocked,
    /// No secret has been protected yet and no key source was chosen.
    VaultNotInitialised,
    WrongPassphrase,
    /// The OS keystore refused or is missing the vault key.
    KeystoreUnavailable,
    WrongPin,
    /// Too many wrong PINs: the agent must wait.
    AgentBlocked,
    /// Nobody is at the desk (idle lock or never opened): show the lock screen.
    SessionLocked,
    /// The agent's role does not allow this action.
    Forbidden,
    /// API Particulier refuses the commune's token (expired, revoked, unknown, without the
    /// scopes): an administrator must act, the agent cannot.
    TokenRefused,
    /// Hubee refuses the commune's client id or secret: an administrator types them again in
    /// Paramètres.
    CredentialsRefused,
    /// One stored secret cannot be read back (altered bytes): it is typed again in Paramètres.
    /// Unlike [`Code::DatabaseCorrupted`], the rest of the database is usable and the screen
    /// stays where it is.
    SecretDamaged,
    /// A State service is unreachable, down or asks to slow down: try again later.
    ServiceUnavailable,
    Internal,
}

/// A failure with a French message for the agent.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: Code,
    pub message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            source: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Error::new(Code::Validation, message)
    }

    /// Keeps the technical cause for the log while the agent sees `self.message`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The whole chain, for the log file only.
    pub fn detail(&self) -> String {
        let mut text = format!("[{:?}] {}", self.code, self.message);
        let mut cause = std::error::Error::source(self);
        while let Some(inner) = cause {
            text.push_str(" — cause : ");
            text.push_str(&inner.to_string());
            cause = inner.source();
        }
        text
    }

    pub fn to_ipc(&self) -> IpcError {
        IpcError {
            code: self.code,
            message: self.message.clone(),
        }
    }
}

/// The only error shape the web view and `--json` outputs ever see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct IpcError {
    pub code: Code,
    pub message: String,
}

impl From<&Error> for IpcError {
    fn from(error: &Error) -> Self {
        error.to_ipc()
    }
}

/// SQLite failures reach the agent as "the local database", with the corruption cases singled out
/// because they have their own way back (restore a backup).
impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let code = error.sqlite_error_code();
        match code {
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => Error::new(
                Code::DatabaseCorrupted,
                "Le fichier de la base de données est endommagé. Restaurez une sauvegarde \
                 (Paramètres › Sauvegardes, ou l'écran de récupération).",
            ),
            Some(ErrorCode::DiskFull) => Error::new(
                Code::Storage,
                "Le disque est plein : libérez de la place puis recommencez. Rien n'a été enregistré.",
            ),
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) => Error::new(
                Code::Storage,
                "Guichet QF ne peut pas écrire dans son dossier de données (droits insuffisants).",
            ),
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Error::new(
                Code::Storage,
                "La base de données est occupée par un autre programme Guichet QF. Réessayez \
                 dans un instant.",
            ),
            _ => Error::new(
                Code::Storage,
                "La base de données locale n'a pas pu être lue ou écrite.",
            ),
        }
        .with_source(error)
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::new(
            Code::Storage,
            "Un fichier du dossier de données n'a pas pu être lu ou écrit.",
        )
        .with_source(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipc_shape_is_code_and_message_only() {
        let error = Error::validation("Le SIRET doit comporter 14 chiffres.")
            .with_source(std::io::Error::other("hidden cause"));
        let json = serde_json::to_value(error.to_ipc()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "validation", "message": "Le SIRET doit comporter 14 chiffres."})
        );
        assert!(error.detail().contains("hidden cause"));
    }
}
