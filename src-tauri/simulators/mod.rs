//! In-process simulators of the two State services, Hubee and API Particulier.
//!
//! Nothing here can reach the real services, and agents must train without real families, so
//! both are simulated on loopback, following `shared/specs/hubee.md` §12 and
//! `shared/specs/api-particulier.md` §11 to the letter (headers, status codes, error bodies,
//! pagination, rate limits). Production code never knows it talks to a simulator: it only gets
//! base URLs. Tests and the demonstration mode start them; `guichet-qf simulateur` serves them
//! to outside clients.

pub mod hubee;
pub mod particulier;

pub mod clock;
pub mod demo;
