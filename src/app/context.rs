//! The one context every use case takes: the database, the writer gate, the settings, the
//! classification policy and the clock. Built once per process in [`crate::state::AppState::new`]
//! (or by a test with its own clock or policy), and cheap to clone (handles and `Arc`s).
//!
//! It replaces the positional `(db, writer, settings)` arguments and the process-wide policy: two
//! apps in one test process each hold their own policy, and no use case reads the wall clock
//! (the wall clock is read in `app/` only by [`SystemClock`]; a use case asks [`AppCtx::now`]).

use std::{fmt, sync::Arc};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseConnection;

use super::{policy::Policy, writer::MoneyWriter};
use crate::config::Settings;

/// Where a use case reads the time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock of the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always reads `at` (tests, reproducible demos).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// What a use case needs from its process.
#[derive(Clone)]
pub struct AppCtx {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Serializes writers on SQLite (see [`crate::app::writer`]).
    pub writer: MoneyWriter,
    /// The validated configuration.
    pub settings: Arc<Settings>,
    /// Debt-group thresholds and provision rates in force (from `[classification]`).
    pub policy: Arc<Policy>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for AppCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCtx")
            .field("policy", &self.policy)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl AppCtx {
    /// The context of a process over `db` with `settings`, on the system clock.
    pub fn new(db: DatabaseConnection, settings: Arc<Settings>) -> Self {
        let policy = Arc::new(Policy::from_settings(&settings.classification));
        AppCtx {
            db,
            writer: MoneyWriter::new(),
            settings,
            policy,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same context reading the time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        AppCtx { clock, ..self }
    }

    /// The same context with another classification policy.
    pub fn with_policy(self, policy: Policy) -> Self {
        AppCtx {
            policy: Arc::new(policy),
            ..self
        }
    }

    /// The current instant, from the context's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The fund's calendar date now, in its time zone.
    pub fn today(&self) -> NaiveDate {
        self.now()
            .with_timezone(&self.settings.time_zone())
            .date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_reads_the_same_instant() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = FixedClock(at);
        assert_eq!(clock.now(), at);
        assert_eq!(clock.now(), at);
    }
}
