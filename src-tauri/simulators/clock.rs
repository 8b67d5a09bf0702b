//! The simulators' "now": real time for the demonstration, set by hand in tests.
//!
//! Token expiry, rate-limit windows and the "which months can be asked for" rules of API
//! Particulier all depend on the date; tests must decide it rather than wait for it. This is the
//! only place where the simulators read the system clock.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// A shared clock; clones see the same time.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    /// `None` follows the system clock; `Some` is frozen until set or advanced.
    fixed: Arc<Mutex<Option<Timestamp>>>,
}

impl SimClock {
    /// Follows the system clock.
    pub fn real() -> SimClock {
        SimClock::default()
    }

    /// Frozen at `at` until moved.
    pub fn fixed(at: Timestamp) -> SimClock {
        SimClock {
            fixed: Arc::new(Mutex::new(Some(at))),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.lock().unwrap_or_else(Timestamp::now)
    }

    pub fn set(&self, at: Timestamp) {
        *self.fixed.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }

    /// Moves a frozen clock forward (a real clock is frozen at its current time first).
    pub fn advance(&self, by: SignedDuration) {
        let mut fixed = self.fixed.lock().unwrap_or_else(|p| p.into_inner());
        let base = fixed.unwrap_or_else(Timestamp::now);
        *fixed = Some(base + by);
    }

    fn lock(&self) -> Option<Timestamp> {
        *self.fixed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_a_frozen_time() {
        let start = Timestamp::from_second(1_795_000_000).unwrap();
        let clock = SimClock::fixed(start);
        let other = clock.clone();
        other.advance(SignedDuration::from_secs(90));
        assert_eq!(clock.now(), start + SignedDuration::from_secs(90));
    }
}
