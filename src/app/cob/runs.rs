//! The records of the close of business: who started a run, where it is, what it did, as read from
//! `cob_runs` (status and trigger parsed at the boundary; unknown text is an error naming the run).

use chrono::{NaiveDate, Utc};

use crate::{
    error::{AppError, AppResult},
    store::entities::cob_run,
};

/// Who started a run (`cob_runs.trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The nightly job.
    Schedule,
    /// The API (an admin or accountant asked for it).
    Api,
    /// `coopfund cob run`.
    Cli,
}

/// Where a run is (`cob_runs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Closing the date now (or killed while closing it).
    Running,
    /// Every loan closed and the business date moved.
    Finished,
    /// Some loan failed; the business date did not move.
    Failed,
}

/// One spelling per variant (`as_str`, stored and shown) and its parser, whose error names the text.
macro_rules! stored_names {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored and API spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = AppError;
            fn from_str(text: &str) -> AppResult<$ty> {
                match text {
                    $($text => Ok($ty::$variant),)+
                    other => Err(AppError::internal(anyhow::anyhow!(
                        concat!("unknown ", $what, " {:?}"),
                        other
                    ))),
                }
            }
        }
    };
}

stored_names!(Trigger, "close-of-business trigger", {
    Schedule => "schedule",
    Api => "api",
    Cli => "cli",
});

stored_names!(RunStatus, "close-of-business run status", {
    Running => "running",
    Finished => "finished",
    Failed => "failed",
});

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Loans closed.
    pub loans_processed: i32,
    /// Journal entries posted.
    pub entries_posted: i32,
    /// Mails queued.
    pub notices_queued: i32,
    /// Loans that failed.
    pub errors: i32,
}

/// One closed (or attempted) business date, read from `cob_runs`.
#[derive(Debug, Clone)]
pub struct CobRun {
    /// The run's id.
    pub id: i64,
    /// The date it closed.
    pub business_date: NaiveDate,
    /// Where it is.
    pub status: RunStatus,
    /// Who started it.
    pub trigger: Trigger,
    /// Which process ran it (host and pid).
    pub instance: String,
    /// When it started and finished.
    pub started_at: chrono::DateTime<Utc>,
    pub finished_at: Option<chrono::DateTime<Utc>>,
    /// What it did.
    pub counts: RunCounts,
    /// The first failure, if any.
    pub message: Option<String>,
}

impl TryFrom<cob_run::Model> for CobRun {
    type Error = AppError;

    /// The stored run, its status and trigger parsed; unknown text is an error naming the run.
    fn try_from(m: cob_run::Model) -> AppResult<CobRun> {
        let id = m.id;
        let named = |err: AppError| {
            AppError::internal(anyhow::anyhow!("stored close-of-business run {id}: {err}"))
        };
        Ok(CobRun {
            status: m.status.parse().map_err(named)?,
            trigger: m.trigger.parse().map_err(named)?,
            id: m.id,
            business_date: m.business_date,
            instance: m.instance,
            started_at: m.started_at,
            finished_at: m.finished_at,
            counts: RunCounts {
                loans_processed: m.loans_processed,
                entries_posted: m.entries_posted,
                notices_queued: m.notices_queued,
                errors: m.errors,
            },
            message: m.message,
        })
    }
}

/// What a call to [`super::run_through`] did.
#[derive(Debug, Clone)]
pub struct CobOutcome {
    /// False when another instance holds the COB lock (nothing was done here).
    pub ran: bool,
    /// The dates closed by this call, in order.
    pub runs: Vec<CobRun>,
    /// The business date after the call.
    pub business_date: NaiveDate,
    /// What happened, in a sentence.
    pub message: String,
}

/// The current business date (API.md) and the last closed day (the day before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessDates {
    /// What "today" means to the service.
    pub business_date: NaiveDate,
    /// The day before the business date.
    pub last_closed_date: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_statuses_and_triggers_read_back_what_is_stored_and_refuse_anything_else() {
        for status in [RunStatus::Running, RunStatus::Finished, RunStatus::Failed] {
            assert_eq!(status.as_str().parse::<RunStatus>().unwrap(), status);
        }
        for trigger in [Trigger::Schedule, Trigger::Api, Trigger::Cli] {
            assert_eq!(trigger.as_str().parse::<Trigger>().unwrap(), trigger);
        }
        let err = "done".parse::<RunStatus>().unwrap_err();
        assert!(err.to_string().contains("\"done\""), "{err}");
    }

    #[test]
    fn a_stored_run_with_an_unknown_status_is_an_error_naming_the_run() {
        let row = cob_run::Model {
            id: 17,
            business_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            status: "foo".into(),
            trigger: "api".into(),
            instance: "host:1".into(),
            started_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
            finished_at: None,
            loans_processed: 0,
            entries_posted: 0,
            notices_queued: 0,
            errors: 0,
            message: None,
        };
        let err = CobRun::try_from(row).unwrap_err();
        assert!(err.to_string().contains("run 17"), "{err}");
    }
}
