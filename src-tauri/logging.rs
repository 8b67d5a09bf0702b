//! The log file, in `logs/` of the data directory, one file a day, the last 30 kept.
//!
//! Agents send this file with support requests, so it must never hold a secret or a family's
//! identity: secrets are `SecretString`s (their `Debug` is redacted) and errors are logged through
//! [`crate::error::Error::detail`], which carries French messages and technical causes only.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

const FILE_PREFIX: &str = "guichet-qf";
const FILE_SUFFIX: &str = "log";

/// The folder of the log files.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// Today's log file, or the last one written: the files are named `guichet-qf.YYYY-MM-DD.log`,
/// so the greatest name is the newest. `None` before the first line was ever logged.
pub fn latest_file(data_dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(log_dir(data_dir))
        .ok()?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| {
                        name.starts_with(&format!("{FILE_PREFIX}."))
                            && name.ends_with(&format!(".{FILE_SUFFIX}"))
                    })
        })
        .max()
}

/// Starts logging to the data directory; keep the guard alive until exit so lines are flushed.
/// Logging is a convenience: if the folder cannot be written, the app runs without it.
pub fn init(data_dir: &Path, filter: &str) -> Option<WorkerGuard> {
    let dir = log_dir(data_dir);
    // The appender prunes old files at start and complains on stderr if the folder is missing.
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(30)
        .build(dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
