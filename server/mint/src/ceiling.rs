//! The global ceilings on new visitors, across all addresses: how many new
//! visitor customers an hour (`--new-visitors-per-hour`) and how much budget
//! they are handed in a UTC day (`--visitor-budget-per-day-usd`). A script
//! rotating through addresses (a free IPv6 tunnel gives tens of thousands of
//! /64s) passes every per-address limit; these bound what it can cost the
//! host. Hours and days are fixed UTC windows, so `Retry-After` says when
//! the next one starts. This is the state of one process; with
//! `--redis-url` the same count is kept in Redis ([`crate::store`]) and this
//! serves only while Redis is unreachable.

use std::sync::Mutex;
use std::time::Duration;

use crate::store::Ceiling;

/// The ceilings; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceilings {
    /// New visitor customers per UTC hour.
    pub new_visitors_per_hour: u64,
    /// The sum of the budgets handed to new visitors in a UTC day, US dollars.
    pub visitor_budget_per_day_usd: f64,
}

impl Ceilings {
    /// No ceiling.
    pub const OFF: Ceilings = Ceilings {
        new_visitors_per_hour: 0,
        visitor_budget_per_day_usd: 0.0,
    };

    /// Whether any ceiling is on.
    pub fn is_on(&self) -> bool {
        self.new_visitors_per_hour > 0 || self.visitor_budget_per_day_usd > 0.0
    }

    /// The daily budget in micro-dollars (0: off).
    pub fn daily_micros(&self) -> u64 {
        micros(self.visitor_budget_per_day_usd)
    }
}

impl Default for Ceilings {
    /// 500 new visitors an hour and 100 USD of visitor budget a day: a host
    /// pays at most that for anonymous visitors unless it raises them.
    fn default() -> Self {
        Ceilings {
            new_visitors_per_hour: 500,
            visitor_budget_per_day_usd: 100.0,
        }
    }
}

/// US dollars as whole micro-dollars (what Redis adds up exactly).
pub fn micros(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1e6).round() as u64
    } else {
        0
    }
}

/// How long until the window of `ceiling` that holds `unix` ends.
pub fn retry_after(ceiling: Ceiling, unix: i64) -> Duration {
    let window = match ceiling {
        Ceiling::HourlyVisitors => 3600,
        Ceiling::DailyBudget => 86_400,
    };
    Duration::from_secs((window - unix.rem_euclid(window)) as u64)
}

/// The label of a ceiling (metrics, logs, error messages).
pub fn label(ceiling: Ceiling) -> &'static str {
    match ceiling {
        Ceiling::HourlyVisitors => "hourly_visitors",
        Ceiling::DailyBudget => "daily_budget",
    }
}

#[derive(Debug, Default)]
struct Window {
    hour: i64,
    visitors: u64,
    day: i64,
    spent_micros: u64,
}

/// This process's count of new visitors and their budgets.
#[derive(Debug, Default)]
pub struct LocalCeilings {
    window: Mutex<Window>,
}

impl LocalCeilings {
    /// Counts one new visitor with `budget_micros` at `unix`, unless a
    /// ceiling is reached.
    pub fn admit(&self, ceilings: &Ceilings, unix: i64, budget_micros: u64) -> Result<(), Ceiling> {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let (hour, day) = (unix.div_euclid(3600), unix.div_euclid(86_400));
        if window.hour != hour {
            window.hour = hour;
            window.visitors = 0;
        }
        if window.day != day {
            window.day = day;
            window.spent_micros = 0;
        }
        if ceilings.new_visitors_per_hour > 0 && window.visitors >= ceilings.new_visitors_per_hour {
            return Err(Ceiling::HourlyVisitors);
        }
        let max = ceilings.daily_micros();
        if max > 0 && window.spent_micros + budget_micros > max {
            return Err(Ceiling::DailyBudget);
        }
        window.visitors += 1;
        window.spent_micros += budget_micros;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_count_per_utc_hour_and_day_and_say_when_the_next_one_starts() {
        let local = LocalCeilings::default();
        let ceilings = Ceilings {
            new_visitors_per_hour: 2,
            visitor_budget_per_day_usd: 0.25,
        };
        let noon = 1_800_000_000 - 1_800_000_000 % 86_400 + 12 * 3600;
        assert_eq!(local.admit(&ceilings, noon, micros(0.10)), Ok(()));
        assert_eq!(local.admit(&ceilings, noon + 1, micros(0.10)), Ok(()));
        assert_eq!(
            local.admit(&ceilings, noon + 2, micros(0.10)),
            Err(Ceiling::HourlyVisitors)
        );
        assert_eq!(
            retry_after(Ceiling::HourlyVisitors, noon + 2),
            Duration::from_secs(3598)
        );
        assert_eq!(
            local.admit(&ceilings, noon + 3600, micros(0.10)),
            Err(Ceiling::DailyBudget),
            "a new hour, but 0.30 USD would pass the day's 0.25"
        );
        assert_eq!(
            retry_after(Ceiling::DailyBudget, noon + 3600),
            Duration::from_secs(11 * 3600)
        );
        assert_eq!(
            local.admit(&ceilings, noon + 12 * 3600, micros(0.10)),
            Ok(()),
            "a new UTC day"
        );
        assert!(!Ceilings::OFF.is_on());
        assert_eq!(local.admit(&Ceilings::OFF, noon, u64::MAX / 2), Ok(()));
    }
}
