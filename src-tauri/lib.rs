//! Guichet QF: the quotient familial of families, at the town-hall counter.
//!
//! The domain modules below never import `tauri`; `app` is the window's thin shell and `cli`
//! the command line, both calling the same domain functions. See ARCHITECTURE.md.

pub mod agents;
pub mod app;
pub mod cli;
pub mod communes;
pub mod demonstration;
pub mod desk;
pub mod documents;
pub mod dossiers;
pub mod endpoints;
pub mod error;
pub mod families;
#[cfg(test)]
mod fixtures;
pub mod hubee;
pub mod identifiers;
pub mod inbox;
pub mod journal;
pub mod launch;
pub mod logging;
pub mod network;
pub mod particulier;
pub mod places;
pub mod poster;
pub mod refresh;
pub mod retention;
pub mod rgpd;
pub mod settings;
pub mod setup;
pub mod simulators;
pub mod store;
pub mod support;
pub mod sync;
pub mod tariffs;
pub mod text;
pub mod vault;

/// The program: the window without arguments, the command line otherwise. Returns the exit code.
pub fn main_entry() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() <= 1 {
        app::run()
    } else {
        cli::run(args)
    }
}
