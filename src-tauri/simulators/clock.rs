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
    /// `None` follows the system clock (shifted by `offset`); `Some` is frozen until set or
    /// advanced.
    fixed: Arc<Mutex<Option<Timestamp>>>,
    /// How far a running clock is from the system clock (zero for [`SimClock::real`]).
    offset: SignedDuration,
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
            offset: SignedDuration::ZERO,
        }
    }

    /// Reads `at` now and runs at the system clock's pace from there: the date is the test's,
    /// while the rate-limit windows roll as they do for real (a long batch needs both).
    pub fn running_from(at: Timestamp) -> SimClock {
        SimClock {
            fixed: Arc::default(),
            offset: at.duration_since(Timestamp::now()),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.lock()
            .unwrap_or_else(|| Timestamp::now() + self.offset)
    }

    pub fn set(&self, at: Timestamp) {
        *self.fixed.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }

    /// Moves a frozen clock forward (a real clock is frozen at its current time first).
    pub fn advance(&self, by: SignedDuration) {
        let mut fixed = self.fixed.lock().unwrap_or_else(|p| p.into_inner());
        let base = fixed.unwrap_or_else(|| Timestamp::now() + self.offset);
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

    #[test]
    fn a_running_clock_starts_at_the_given_time_and_moves_on() {
        let start = Timestamp::from_second(1_795_000_000).unwrap();
        let clock = SimClock::running_from(start);
        let first = clock.now();
        assert!(first >= start && first < start + SignedDuration::from_secs(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first);
    }
}
