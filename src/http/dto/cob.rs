//! The business date and the close of business on the wire.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::{
    cob::{self, BusinessDates, CobRun},
    page::Page,
};

view! {
    /// The current business date (API.md).
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct BusinessDateView from BusinessDates {
        #[schema(value_type = String, format = Date)]
        pub business_date: NaiveDate,
        /// The last closed day (the day before the business date).
        #[schema(value_type = String, format = Date)]
        pub last_closed_date: NaiveDate,
    }
}

/// `POST /api/v1/cob/run`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CobRequest {
    /// Close every business date up to and including this one.
    #[schema(value_type = String, format = Date)]
    pub through: NaiveDate,
}

/// One closed (or attempted) business date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CobRunView {
    pub id: i64,
    #[schema(value_type = String, format = Date)]
    pub business_date: NaiveDate,
    /// running, finished or failed.
    pub status: String,
    /// schedule, api or cli.
    pub trigger: String,
    pub instance: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub loans_processed: i32,
    pub entries_posted: i32,
    pub notices_queued: i32,
    pub errors: i32,
    pub message: Option<String>,
}

impl From<CobRun> for CobRunView {
    fn from(run: CobRun) -> Self {
        CobRunView {
            id: run.id,
            business_date: run.business_date,
            status: run.status.as_str().into(),
            trigger: run.trigger.as_str().into(),
            instance: run.instance,
            started_at: run.started_at,
            finished_at: run.finished_at,
            loans_processed: run.counts.loans_processed,
            entries_posted: run.counts.entries_posted,
            notices_queued: run.counts.notices_queued,
            errors: run.counts.errors,
            message: run.message,
        }
    }
}

view! {
    /// What a call to `POST /api/v1/cob/run` did.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct CobOutcome from cob::CobOutcome {
        /// False when another instance holds the COB lock (nothing was done here).
        pub ran: bool,
        /// The dates closed by this call, in order.
        pub runs: Vec<CobRunView> [each],
        /// The business date after the call.
        #[schema(value_type = String, format = Date)]
        pub business_date: NaiveDate,
        pub message: String,
    }
}

/// Paging for the list of runs.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CobRunQuery {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

view! {
    /// One page of runs, newest first.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct CobRunPage from Page<CobRun> {
        pub items: Vec<CobRunView> [each],
        pub next_cursor: Option<String>,
    }
}
