//! One rate limiter per API Particulier token, shared by every caller of the process.
//!
//! API Particulier allows 20 requests per second per token, all endpoints together (spec §9),
//! and bans the IP for 12 hours when 429s are ignored. Counter lookups, and later the batch
//! refresh, may run at the same time with the same token, so they must draw from one budget:
//! [`shared`] hands out one limiter per token (keyed by a digest, never the token itself).
//!
//! The rule is a sliding window: a request may leave only when fewer than `rate` requests left
//! in the second before it. Each caller *reserves* its departure time under a lock, in arrival
//! order, then sleeps until then without holding the lock; the reservations are kept increasing
//! and each is at least one second after the one `rate` places before it, so no window of one
//! second ever holds more than `rate` departures, whatever the interleaving of callers.
//!
//! The server can still say "wait": a 429's `Retry-After`, or `RateLimit-Remaining: 0` until
//! `RateLimit-Reset`. [`RateLimiter::pause_for`] then holds every caller back until that time.
//! A caller that would have to wait longer than it can afford (an agent at the counter) gets
//! the wait back instead of sleeping ([`RateLimiter::reserve`] with a limit).
//!
//! The decision ([`Window`]) takes the current instant as an argument, so it is tested with
//! made-up instants; only [`RateLimiter::acquire`] reads the monotonic clock and sleeps.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::vault::{ExposeSecret, SecretString};

/// The rate used unless configured otherwise (half of the server's 20).
pub const DEFAULT_RATE: u32 = 10;
/// The highest rate accepted, a margin under the server's 20 for clocks and transit.
pub const MAX_RATE: u32 = 18;
/// The window of the server's limit.
pub const WINDOW: Duration = Duration::from_secs(1);

/// The departures already granted, and how long the server asked everyone to wait.
#[derive(Debug)]
pub struct Window {
    rate: usize,
    /// The last `rate` departures, increasing.
    departures: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Window {
    /// `rate` is clamped to 1..=[`MAX_RATE`].
    pub fn new(rate: u32) -> Window {
        let rate = rate.clamp(1, MAX_RATE) as usize;
        Window {
            rate,
            departures: VecDeque::with_capacity(rate),
            paused_until: None,
        }
    }

    pub fn rate(&self) -> u32 {
        self.rate as u32
    }

    /// The earliest departure a caller arriving at `now` could get, without reserving it.
    pub fn next_departure(&self, now: Instant) -> Instant {
        let mut at = now;
        if let Some(paused) = self.paused_until {
            at = at.max(paused);
        }
        if let Some(last) = self.departures.back() {
            at = at.max(*last);
        }
        if self.departures.len() >= self.rate {
            if let Some(oldest) = self.departures.front() {
                at = at.max(*oldest + WINDOW);
            }
        }
        at
    }

    /// Reserves the next departure for a caller arriving at `now`.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let at = self.next_departure(now);
        if self.departures.len() >= self.rate {
            self.departures.pop_front();
        }
        self.departures.push_back(at);
        at
    }

    /// Changes the rate (clamped like [`Window::new`]); departures already granted stay, so a
    /// lower rate takes effect without a burst in between.
    pub fn set_rate(&mut self, rate: u32) {
        self.rate = rate.clamp(1, MAX_RATE) as usize;
        while self.departures.len() > self.rate {
            self.departures.pop_front();
        }
    }

    /// Nobody leaves before `until` (a 429, or an exhausted server window).
    pub fn pause_until(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }
}

/// A [`Window`] behind a lock, with the sleeping.
#[derive(Debug)]
pub struct RateLimiter {
    window: Mutex<Window>,
}

/// A caller would have had to wait longer than it accepted; nothing was reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    pub wait: Duration,
}

impl RateLimiter {
    pub fn new(rate: u32) -> RateLimiter {
        RateLimiter {
            window: Mutex::new(Window::new(rate)),
        }
    }

    pub fn rate(&self) -> u32 {
        self.lock().rate()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for this caller's turn. With `max_wait`, returns [`TooLong`] at once instead of
    /// waiting longer than that.
    pub async fn acquire(&self, max_wait: Option<Duration>) -> Result<(), TooLong> {
        let departure = {
            let mut window = self.lock();
            let now = Instant::now();
            if let Some(max_wait) = max_wait {
                let wait = window.next_departure(now).saturating_duration_since(now);
                if wait > max_wait {
                    return Err(TooLong { wait });
                }
            }
            window.reserve(now)
        };
        tokio::time::sleep_until(tokio::time::Instant::from_std(departure)).await;
        Ok(())
    }

    /// Holds every caller back for `wait` from now.
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        self.lock().pause_until(until);
    }
}

/// The process-wide limiter of `token`, at `rate`. Every caller reads the rate from the same
/// setting, so a caller asking another rate means the administrator changed it: the shared
/// limiter takes the new rate rather than a second limiter being made.
pub fn shared(token: &SecretString, rate: u32) -> Arc<RateLimiter> {
    static LIMITERS: OnceLock<Mutex<HashMap<[u8; 32], Arc<RateLimiter>>>> = OnceLock::new();
    let key: [u8; 32] = Sha256::digest(token.expose_secret().as_bytes()).into();
    let mut limiters = LIMITERS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let limiter = limiters
        .entry(key)
        .or_insert_with(|| Arc::new(RateLimiter::new(rate)))
        .clone();
    limiter.lock().set_rate(rate);
    limiter
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most departures found in any one-second window `[t, t + 1 s)`.
    fn busiest_second(departures: &[Instant]) -> usize {
        departures
            .iter()
            .map(|start| {
                departures
                    .iter()
                    .filter(|d| **d >= *start && **d < *start + WINDOW)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn never_more_than_the_rate_in_any_second_whatever_the_arrivals() {
        let origin = Instant::now();
        for rate in [1, 3, 10, 18] {
            let mut window = Window::new(rate);
            let mut departures = Vec::new();
            // Bursts of callers arriving together, then trickles, then a long gap, then a burst
            // again: arrival times in milliseconds.
            let mut arrivals: Vec<u64> = vec![0; 40];
            arrivals.extend((0..30).map(|i| 100 + i * 37));
            arrivals.extend(std::iter::repeat_n(9_000, 25));
            arrivals.extend((0..50).map(|i| 9_000 + (i * 7919) % 3_000));
            for millis in arrivals {
                let now = origin + Duration::from_millis(millis);
                let at = window.reserve(now);
                assert!(at >= now, "nobody leaves before arriving");
                departures.push(at);
            }
            assert_eq!(busiest_second(&departures), rate as usize, "rate {rate}");
            assert!(departures.windows(2).all(|w| w[0] <= w[1]), "in order");
        }
    }

    #[test]
    fn a_burst_at_the_rate_leaves_at_once_and_the_next_waits_a_second() {
        let origin = Instant::now();
        let mut window = Window::new(10);
        for _ in 0..10 {
            assert_eq!(window.reserve(origin), origin);
        }
        assert_eq!(window.reserve(origin), origin + WINDOW);
    }

    #[test]
    fn a_pause_holds_everyone_back_and_rates_are_clamped() {
        let origin = Instant::now();
        let mut window = Window::new(10);
        window.pause_until(origin + Duration::from_secs(3));
        window.pause_until(origin + Duration::from_secs(1));
        assert_eq!(window.reserve(origin), origin + Duration::from_secs(3));
        assert_eq!(Window::new(50).rate(), MAX_RATE);
        assert_eq!(Window::new(0).rate(), 1);
    }

    #[test]
    fn one_limiter_per_token() {
        let a = shared(&SecretString::from("jeton-a".to_string()), 10);
        let again = shared(&SecretString::from("jeton-a".to_string()), 5);
        let b = shared(&SecretString::from("jeton-b".to_string()), 5);
        assert!(Arc::ptr_eq(&a, &again));
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(
            a.rate(),
            5,
            "the latest configured rate applies to every holder"
        );
    }

    #[test]
    fn lowering_the_rate_keeps_the_seconds_already_granted() {
        let origin = Instant::now();
        let mut window = Window::new(10);
        for _ in 0..10 {
            window.reserve(origin);
        }
        window.set_rate(3);
        // The last three departures stay: the next one waits out their second.
        assert_eq!(window.reserve(origin), origin + WINDOW);
        window.set_rate(40);
        assert_eq!(window.rate(), MAX_RATE);
    }
}
