//! The wire types of `/api/v1/fund`: the fund at a glance and its charter capital contributions
//! (published under their old schema names).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::charter_capital::{Contribution, Fund, NewContribution};

/// A contribution to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = ContributionInput)]
#[serde(deny_unknown_fields)]
pub struct ContributionBody {
    /// More than 0 đồng.
    pub amount_vnd: i64,
    /// On or before the business date.
    #[schema(value_type = String, format = Date)]
    pub contributed_on: NaiveDate,
    /// The decision or bank document, e.g. `QĐ 123/QĐ-UBND`.
    pub reference: String,
}

impl From<ContributionBody> for NewContribution {
    fn from(body: ContributionBody) -> NewContribution {
        NewContribution {
            amount_vnd: body.amount_vnd,
            contributed_on: body.contributed_on,
            reference: body.reference,
        }
    }
}

/// A recorded contribution.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContributionView {
    pub id: i64,
    pub amount_vnd: i64,
    #[schema(value_type = String, format = Date)]
    pub contributed_on: NaiveDate,
    pub reference: String,
    pub created_by: Option<i64>,
    /// The journal entry Dr 1121 / Cr 4111.
    pub journal_entry_id: Option<i64>,
}

impl From<Contribution> for ContributionView {
    fn from(c: Contribution) -> ContributionView {
        ContributionView {
            id: c.id,
            amount_vnd: c.amount_vnd,
            contributed_on: c.contributed_on,
            reference: c.reference,
            created_by: c.created_by,
            journal_entry_id: c.journal_entry_id,
        }
    }
}

/// The fund at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FundView {
    pub name: String,
    pub province: String,
    #[schema(value_type = String, format = Date)]
    pub business_date: NaiveDate,
    pub paid_in_charter_capital_vnd: i64,
    /// Oldest first.
    pub contributions: Vec<ContributionView>,
}

impl From<Fund> for FundView {
    fn from(f: Fund) -> FundView {
        FundView {
            name: f.name,
            province: f.province,
            business_date: f.business_date,
            paid_in_charter_capital_vnd: f.paid_in_charter_capital_vnd,
            contributions: f
                .contributions
                .into_iter()
                .map(ContributionView::from)
                .collect(),
        }
    }
}
