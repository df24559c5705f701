//! Per-minute counting with a **sliding window counter** (the scheme Cloudflare describes in
//! "Counting things, a lot of different things", and that `pingora-limits` computes with
//! `Rate::rate_with`): counts are kept per fixed one-minute window, and the last minute is estimated
//! as the previous window's count, weighted by how much of it still overlaps the last 60 s, plus the
//! current window's count. It smooths the burst a plain fixed window allows at its boundary (up to
//! twice the limit within a few seconds) at the cost of two counters per limit.
//!
//! Both stores decide with these functions: the in-process one directly, the Redis one in its script
//! (the same inequality, evaluated atomically next to the counters) and here for the wait it reports.

use std::time::Duration;

/// The length of one window: every rate limit is per minute.
pub const WINDOW: Duration = Duration::from_secs(60);

/// One limit's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    /// The whole previous window's count.
    pub previous: u64,
    /// The current window's count so far.
    pub current: u64,
    /// How far into the current window we are, 0 ≤ elapsed < 1.
    pub elapsed: f64,
}

impl Counts {
    /// The estimated count over the last [`WINDOW`].
    pub fn estimate(&self) -> f64 {
        self.previous as f64 * (1.0 - self.elapsed) + self.current as f64
    }

    /// Whether `cost` more stays within `limit`.
    pub fn admits(&self, limit: u64, cost: u64) -> bool {
        self.estimate() + cost as f64 <= limit as f64
    }

    /// How long until `cost` more would fit under `limit`, if nothing else is counted meanwhile;
    /// `None` when it never can (`cost` alone is over the limit).
    pub fn wait_for(&self, limit: u64, cost: u64, window: Duration) -> Option<Duration> {
        if cost > limit {
            return None;
        }
        let room = (limit - cost) as f64;
        let (previous, current) = (self.previous as f64, self.current as f64);
        let elapsed = self.elapsed.clamp(0.0, 1.0);
        // The window position (in windows from the current one's start) at which it fits.
        let fits_at = if current <= room {
            // Within this window, as the previous window's share decays: previous·(1 − t) + current ≤ room.
            if previous > 0.0 {
                (1.0 - (room - current) / previous).max(elapsed)
            } else {
                elapsed
            }
        } else {
            // In the next window, where this one's count becomes the decaying share: current·(1 − t) ≤ room.
            1.0 + (1.0 - room / current)
        };
        Some(window.mul_f64((fits_at - elapsed).max(0.0)))
    }
}

/// Whole seconds to tell a client (`Retry-After`, messages): rounded up, at least 1.
pub fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(previous: u64, current: u64, elapsed: f64) -> Counts {
        Counts {
            previous,
            current,
            elapsed,
        }
    }

    #[test]
    fn the_previous_window_weighs_by_its_overlap() {
        assert_eq!(counts(60, 0, 0.0).estimate(), 60.0);
        assert_eq!(counts(60, 10, 0.5).estimate(), 40.0);
        assert_eq!(counts(60, 10, 0.75).estimate(), 25.0);
    }

    #[test]
    fn admits_up_to_the_limit_and_not_past_it() {
        assert!(counts(0, 19, 0.3).admits(20, 1));
        assert!(!counts(0, 20, 0.3).admits(20, 1));
        // 40 in the previous window, half of it still in the last minute: 20 + 0 → the 21st request does not fit.
        assert!(!counts(40, 0, 0.5).admits(20, 1));
        assert!(counts(40, 0, 0.53).admits(20, 1));
        assert!(
            !counts(0, 900, 0.0).admits(1000, 101),
            "a token cost counts whole"
        );
        assert!(counts(0, 900, 0.0).admits(1000, 100));
    }

    #[test]
    fn a_full_current_window_waits_into_the_next_one() {
        // 20 of 20 used half-way through: the window ends in 30 s, then 5 % of the next (3 s) frees one.
        let wait = counts(0, 20, 0.5).wait_for(20, 1, WINDOW).unwrap();
        assert_eq!(whole_seconds(wait), 33);
    }

    #[test]
    fn a_decaying_previous_window_frees_room_within_this_one() {
        // previous 40 at 25 %: 30 of it left; the 21st request fits once it decays to 19: at 52.5 %.
        let wait = counts(40, 0, 0.25).wait_for(20, 1, WINDOW).unwrap();
        assert_eq!(whole_seconds(wait), 17);
        assert!(counts(40, 0, 0.526).admits(20, 1));
    }

    #[test]
    fn a_cost_over_the_limit_never_fits() {
        assert_eq!(counts(0, 0, 0.0).wait_for(1000, 1001, WINDOW), None);
        assert!(!counts(0, 0, 0.0).admits(1000, 1001));
    }

    #[test]
    fn every_reported_wait_is_enough_and_never_over_two_windows() {
        for previous in [0u64, 5, 20, 40, 100] {
            for current in [0u64, 5, 19, 20, 35] {
                for step in 0..20 {
                    let elapsed = f64::from(step) / 20.0;
                    let c = counts(previous, current, elapsed);
                    if c.admits(20, 1) {
                        continue;
                    }
                    let wait = c.wait_for(20, 1, WINDOW).unwrap();
                    assert!(wait <= WINDOW * 2, "{c:?}: {wait:?}");
                    // Where the counters will be after the wait, with nothing else counted.
                    let at = elapsed + wait.as_secs_f64() / WINDOW.as_secs_f64() + 1e-9;
                    let later = if at < 1.0 {
                        counts(previous, current, at)
                    } else {
                        counts(current, 0, at - 1.0)
                    };
                    assert!(
                        later.admits(20, 1),
                        "{c:?} waited {wait:?} and still does not fit: {later:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn whole_seconds_round_up_and_never_say_zero() {
        assert_eq!(whole_seconds(Duration::from_millis(0)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1200)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(12)), 12);
    }
}
