//! The wire types of `POST /api/v1/schedule/preview`: the terms as sent and the preview, the JSON of
//! `crate::app::schedule_preview`'s request and response.

use chrono::NaiveDate;
use coopfund_domain::{schedule::Installment, Vnd};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::schedule_preview as preview;

view! {
    /// The terms of a preview, as sent (API.md "Schedule preview").
    #[derive(Debug, Clone, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PreviewRequest into preview::PreviewRequest {
        pub principal_vnd: i64,
        /// Percent per year as a decimal string, e.g. `"7.2"`.
        pub rate_percent: String,
        pub installments: u32,
        /// 1, 3, 6 or 12.
        pub period_months: u32,
        /// `annuity`, `equal_principal` or `bullet`.
        pub method: String,
        #[schema(value_type = String, format = Date)]
        pub disbursed_on: NaiveDate,
        #[serde(default)]
        #[schema(value_type = Option<String>, format = Date)]
        pub first_due_on: Option<NaiveDate>,
        /// The first installments that pay interest only (default 0).
        #[serde(default)]
        pub principal_grace: u32,
        /// `actual_365` (default) or `per_period`.
        #[serde(default)]
        pub day_count: Option<String>,
        /// Annuity installments are rounded to a multiple of this (default 1).
        #[serde(default)]
        pub installment_unit_vnd: Option<i64>,
    }
}

/// One installment of a preview.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewInstallment {
    pub seq: u32,
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    pub days: i64,
    #[schema(value_type = i64)]
    pub principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub interest_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_vnd: Vnd,
    #[schema(value_type = i64)]
    pub closing_balance_vnd: Vnd,
}

impl From<Installment> for PreviewInstallment {
    /// The engine's installment with each amount named with its unit.
    fn from(i: Installment) -> Self {
        PreviewInstallment {
            seq: i.seq,
            due_on: i.due_on,
            days: i.days,
            principal_vnd: i.principal,
            interest_vnd: i.interest,
            total_vnd: i.total,
            closing_balance_vnd: i.closing_balance,
        }
    }
}

view! {
    /// A preview: the installments and their totals.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct PreviewResponse from preview::PreviewResponse {
        pub installments: Vec<PreviewInstallment> [each],
        #[schema(value_type = i64)]
        pub total_principal_vnd: Vnd,
        #[schema(value_type = i64)]
        pub total_interest_vnd: Vnd,
    }
}
