//! `/reports` on the wire.

use chrono::NaiveDate;
use coopfund_domain::{classification::DebtGroup, Vnd};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::reports::{Portfolio, WrittenOff};

/// `?date=` (default: the business date).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PortfolioQuery {
    /// YYYY-MM-DD: provisions posted on or before it count.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    /// YYYY-MM-DD: the first day of the period of `written_off.recoveries_*` (default: 1 January of `date`'s year).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
}

/// One debt group of the portfolio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupLine {
    /// 1 (standard) to 5 (loss).
    pub debt_group: u8,
    pub loans: i64,
    #[schema(value_type = i64)]
    pub outstanding_principal_vnd: Vnd,
    /// The specific provision held on 22931 for the loans now in this group. A loan closed since the last
    /// month end still holds its provision until that month end's close of business releases it; it
    /// counts here in the group it was closed in.
    #[schema(value_type = i64)]
    pub specific_provision_vnd: Vnd,
}

impl GroupLine {
    /// The lines of groups 1 to 5 of `portfolio`, each present.
    pub fn all_of(portfolio: &Portfolio) -> Vec<GroupLine> {
        DebtGroup::ALL
            .into_iter()
            .map(|group| {
                let index = usize::from(group.number()) - 1;
                GroupLine {
                    debt_group: group.number(),
                    loans: portfolio.loans_by_group[index],
                    outstanding_principal_vnd: portfolio.summary.principal_by_group[index],
                    specific_provision_vnd: portfolio.specific_provision_by_group[index],
                }
            })
            .collect()
    }
}

/// Written-off loans under follow-up on `date` and recoveries over `[recoveries_from, date]`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WrittenOffSummary {
    /// Loans whose memo 0042 balance is positive on `date`.
    pub loans_under_follow_up: i64,
    /// Σ memo 0042 on `date`: written-off principal not yet recovered.
    #[schema(value_type = i64)]
    pub principal_under_follow_up_vnd: Vnd,
    #[schema(value_type = String, format = Date)]
    pub recoveries_from: NaiveDate,
    /// Money recovered (principal and interest) with value dates in the period, reversals excluded.
    #[schema(value_type = i64)]
    pub recoveries_in_period_vnd: Vnd,
    /// Written-off principal recovered in the period (711 credited by entries dated in it).
    #[schema(value_type = i64)]
    pub recovered_principal_in_period_vnd: Vnd,
    /// Principal recovered / principal ever written off, × 100 to 2 decimals, through `date`
    /// (711 / (711 + 0042)); null when nothing was written off.
    #[schema(value_type = Option<String>)]
    pub recovery_rate_percent: Option<Decimal>,
}

impl From<&WrittenOff> for WrittenOffSummary {
    fn from(w: &WrittenOff) -> Self {
        WrittenOffSummary {
            loans_under_follow_up: w.loans_under_follow_up,
            principal_under_follow_up_vnd: w.principal_under_follow_up,
            recoveries_from: w.recoveries_from,
            recoveries_in_period_vnd: w.recoveries_in_period,
            recovered_principal_in_period_vnd: w.recovered_principal_in_period,
            recovery_rate_percent: w.recovery_rate_percent(),
        }
    }
}

/// `GET /api/v1/reports/portfolio`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioReport {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Groups 1 to 5, each present.
    pub groups: Vec<GroupLine>,
    #[schema(value_type = i64)]
    pub total_outstanding_principal_vnd: Vnd,
    /// Groups 3 + 4 + 5.
    #[schema(value_type = i64)]
    pub bad_debt_principal_vnd: Vnd,
    /// Bad debt / total × 100, to 2 decimals (Decree 45/2021 Art 45); null on an empty portfolio.
    #[schema(value_type = Option<String>)]
    pub bad_debt_ratio_percent: Option<Decimal>,
    /// The credit balance of 22931 through `date`.
    #[schema(value_type = i64)]
    pub specific_provision_vnd: Vnd,
    /// The credit balance of 22932 through `date`.
    #[schema(value_type = i64)]
    pub general_provision_vnd: Vnd,
    /// 0.5% of groups 1-4 now (what the next month-end close will hold on 22932).
    #[schema(value_type = i64)]
    pub general_provision_required_vnd: Vnd,
    /// Written-off loans under follow-up and recoveries (Decree 45/2021 Art 29).
    pub written_off: WrittenOffSummary,
}

impl From<&Portfolio> for PortfolioReport {
    fn from(p: &Portfolio) -> Self {
        PortfolioReport {
            date: p.date,
            groups: GroupLine::all_of(p),
            total_outstanding_principal_vnd: p.summary.total_principal,
            bad_debt_principal_vnd: p.summary.bad_debt_principal,
            bad_debt_ratio_percent: p.bad_debt_ratio_percent(),
            specific_provision_vnd: p.specific_provision(),
            general_provision_vnd: p.general_provision,
            general_provision_required_vnd: p.summary.general_provision,
            written_off: WrittenOffSummary::from(&p.written_off),
        }
    }
}
