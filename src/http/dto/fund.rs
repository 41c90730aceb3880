//! The wire types of `/api/v1/fund`: the fund at a glance and its charter capital contributions
//! (published under their old schema names).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::charter_capital::{Contribution, Fund, NewContribution};

view! {
    /// A contribution to record.
    #[derive(Debug, Clone, Deserialize, ToSchema)]
    #[schema(as = ContributionInput)]
    #[serde(deny_unknown_fields)]
    pub struct ContributionBody into NewContribution {
        /// More than 0 đồng.
        pub amount_vnd: i64,
        /// On or before the business date.
        #[schema(value_type = String, format = Date)]
        pub contributed_on: NaiveDate,
        /// The decision or bank document, e.g. `QĐ 123/QĐ-UBND`.
        pub reference: String,
    }
}

view! {
    /// A recorded contribution.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct ContributionView from Contribution {
        pub id: i64,
        pub amount_vnd: i64,
        #[schema(value_type = String, format = Date)]
        pub contributed_on: NaiveDate,
        pub reference: String,
        pub created_by: Option<i64>,
        /// The journal entry Dr 1121 / Cr 4111.
        pub journal_entry_id: Option<i64>,
    }
}

view! {
    /// The fund at a glance.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct FundView from Fund {
        pub name: String,
        pub province: String,
        #[schema(value_type = String, format = Date)]
        pub business_date: NaiveDate,
        pub paid_in_charter_capital_vnd: i64,
        /// Oldest first.
        pub contributions: Vec<ContributionView> [each],
    }
}
