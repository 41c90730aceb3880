//! The wire types of `POST /api/v1/schedule/preview`: the terms as sent and the preview, the JSON of
//! `crate::app::schedule_preview`'s request and response.

use chrono::NaiveDate;
use coopfund_domain::Vnd;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::schedule_preview as preview;

/// The terms of a preview, as sent (API.md "Schedule preview").
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
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

impl From<PreviewRequest> for preview::PreviewRequest {
    fn from(r: PreviewRequest) -> preview::PreviewRequest {
        preview::PreviewRequest {
            principal_vnd: r.principal_vnd,
            rate_percent: r.rate_percent,
            installments: r.installments,
            period_months: r.period_months,
            method: r.method,
            disbursed_on: r.disbursed_on,
            first_due_on: r.first_due_on,
            principal_grace: r.principal_grace,
            day_count: r.day_count,
            installment_unit_vnd: r.installment_unit_vnd,
        }
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

impl From<preview::PreviewInstallment> for PreviewInstallment {
    fn from(r: preview::PreviewInstallment) -> PreviewInstallment {
        PreviewInstallment {
            seq: r.seq,
            due_on: r.due_on,
            days: r.days,
            principal_vnd: r.principal_vnd,
            interest_vnd: r.interest_vnd,
            total_vnd: r.total_vnd,
            closing_balance_vnd: r.closing_balance_vnd,
        }
    }
}

/// A preview: the installments and their totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewResponse {
    pub installments: Vec<PreviewInstallment>,
    #[schema(value_type = i64)]
    pub total_principal_vnd: Vnd,
    #[schema(value_type = i64)]
    pub total_interest_vnd: Vnd,
}

impl From<preview::PreviewResponse> for PreviewResponse {
    fn from(r: preview::PreviewResponse) -> PreviewResponse {
        PreviewResponse {
            installments: r.installments.into_iter().map(Into::into).collect(),
            total_principal_vnd: r.total_principal_vnd,
            total_interest_vnd: r.total_interest_vnd,
        }
    }
}
