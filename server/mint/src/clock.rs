//! Time as an input: the mint reads the time only through [`Clock`], so tests
//! can move it (token reuse, rate limits, session expiry) without sleeping.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the mint gets the time from.
pub trait Clock: Send + Sync + Debug + 'static {
    /// Monotonic time since some fixed start: token reuse and rate limits.
    fn monotonic(&self) -> Duration;
    /// Wall-clock time, Unix seconds: the `exp`/`nbf`/`iat` of session tokens.
    fn unix(&self) -> i64;
}

/// The real clocks of the machine.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock whose monotonic time starts now.
    pub fn new() -> Self {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn monotonic(&self) -> Duration {
        self.start.elapsed()
    }

    fn unix(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to, for tests and simulations. It
/// starts at the machine's wall time, so tokens signed "now" are valid.
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<(Duration, i64)>,
}

impl ManualClock {
    /// A clock stopped at the machine's current wall time.
    pub fn new() -> Self {
        ManualClock {
            state: Mutex::new((Duration::ZERO, SystemClock::new().unix())),
        }
    }

    /// Moves both the monotonic and the wall time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let before = state.0;
        state.0 += by;
        let whole_seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        state.1 += whole_seconds(state.0) - whole_seconds(before);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn monotonic(&self) -> Duration {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn unix(&self) -> i64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_times_together_and_only_when_told() {
        let clock = ManualClock::new();
        let (m0, u0) = (clock.monotonic(), clock.unix());
        clock.advance(Duration::from_millis(1_500));
        clock.advance(Duration::from_millis(600));
        assert_eq!(clock.monotonic() - m0, Duration::from_millis(2_100));
        assert_eq!(
            clock.unix() - u0,
            2,
            "wall seconds follow whole monotonic seconds"
        );
    }
}
