//! The wire types of `/api/v1/applications`. The schema names are those the API has always
//! published (`ApplicationInput`, `ApplicationPatch`, ...), so clients see no change.

use chrono::{DateTime, Utc};
use coopfund_domain::{
    ids::{ApplicationId, CooperativeId, LoanId, ProductId, UserId},
    Method,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_named;
use crate::{
    app::applications::{
        Application, ApplicationChanges, ApplicationFilter, ApplicationPage, Appraisal,
        NewApplication, NewCollateral, Recommendation, Status,
    },
    error::AppError,
};

const METHODS: [Method; 3] = [Method::Annuity, Method::EqualPrincipal, Method::Bullet];

fn method(text: &str) -> Result<Method, AppError> {
    parse_named("method", text, &METHODS, Method::as_str)
}

view! {
    /// A collateral item as sent.
    #[derive(Debug, Clone, Deserialize, ToSchema)]
    #[schema(as = CollateralInput)]
    #[serde(deny_unknown_fields)]
    pub struct CollateralBody into NewCollateral {
        /// e.g. `land_use_right`, `machinery`, `deposit`.
        pub kind: String,
        pub description: String,
        pub appraised_value_vnd: i64,
        /// Haircut applied to the appraised value, 0 to 100 (a decimal string).
        #[schema(value_type = String, example = "30")]
        pub discount_rate_percent: Decimal,
    }
}

/// An application to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = ApplicationInput)]
#[serde(deny_unknown_fields)]
pub struct ApplicationBody {
    pub product_id: i64,
    /// Required for officers; ignored for a cooperative user (its own cooperative).
    #[serde(default)]
    pub cooperative_id: Option<i64>,
    pub amount_vnd: i64,
    pub installments: i64,
    pub period_months: i64,
    /// `annuity`, `equal_principal` or `bullet` (one the product allows).
    pub method: String,
    #[serde(default)]
    pub principal_grace: Option<i64>,
    pub purpose: String,
    pub project_total_vnd: i64,
    pub own_capital_vnd: i64,
    #[serde(default)]
    pub collateral: Vec<CollateralBody>,
    /// Decree 45/2021 Art 22: no bad debt at any credit institution.
    #[serde(default)]
    pub no_bad_debt_declared: bool,
    /// References of the documents handed in.
    #[serde(default)]
    pub documents: Vec<String>,
}

/// The command `$command` read from body `$b`: the fields a new application and a patch pass
/// through alike, written once; `$field: $value` are the ones they read differently.
macro_rules! application_command {
    ($command:ident from $b:ident { $($field:ident: $value:expr),* $(,)? }) => {
        $command {
            $($field: $value,)*
            amount_vnd: $b.amount_vnd,
            installments: $b.installments,
            period_months: $b.period_months,
            principal_grace: $b.principal_grace,
            purpose: $b.purpose,
            project_total_vnd: $b.project_total_vnd,
            own_capital_vnd: $b.own_capital_vnd,
            no_bad_debt_declared: $b.no_bad_debt_declared,
            documents: $b.documents,
        }
    };
}

impl TryFrom<ApplicationBody> for NewApplication {
    type Error = AppError;

    fn try_from(body: ApplicationBody) -> Result<NewApplication, AppError> {
        Ok(application_command!(NewApplication from body {
            method: method(&body.method)?,
            product_id: body.product_id.into(),
            cooperative_id: body.cooperative_id.map(Into::into),
            collateral: body
                .collateral
                .into_iter()
                .map(NewCollateral::from)
                .collect(),
        }))
    }
}

/// Changes to a draft; `version` must be the one last read. `collateral` and `documents`
/// replace the lists when given.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = ApplicationPatch)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatchBody {
    pub version: i32,
    pub product_id: Option<i64>,
    pub amount_vnd: Option<i64>,
    pub installments: Option<i64>,
    pub period_months: Option<i64>,
    pub method: Option<String>,
    pub principal_grace: Option<i64>,
    pub purpose: Option<String>,
    pub project_total_vnd: Option<i64>,
    pub own_capital_vnd: Option<i64>,
    pub collateral: Option<Vec<CollateralBody>>,
    pub no_bad_debt_declared: Option<bool>,
    pub documents: Option<Vec<String>>,
}

impl TryFrom<ApplicationPatchBody> for ApplicationChanges {
    type Error = AppError;

    fn try_from(body: ApplicationPatchBody) -> Result<ApplicationChanges, AppError> {
        Ok(application_command!(ApplicationChanges from body {
            method: body.method.as_deref().map(method).transpose()?,
            version: body.version,
            product_id: body.product_id.map(Into::into),
            collateral: body
                .collateral
                .map(|items| items.into_iter().map(NewCollateral::from).collect()),
        }))
    }
}

/// The body of submit, approve and withdraw (all optional) and of reject (`reason` required).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[schema(as = DecisionInput)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The appraisal.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = AppraisalInput)]
#[serde(deny_unknown_fields)]
pub struct AppraisalBody {
    pub note: String,
    /// `approve` or `reject`.
    pub recommendation: String,
}

impl TryFrom<AppraisalBody> for Appraisal {
    type Error = AppError;

    fn try_from(body: AppraisalBody) -> Result<Appraisal, AppError> {
        Ok(Appraisal {
            recommendation: parse_named(
                "recommendation",
                &body.recommendation,
                &Recommendation::ALL,
                Recommendation::as_str,
            )?,
            note: body.note,
        })
    }
}

/// Filters and paging of the list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplicationQuery {
    pub status: Option<String>,
    pub cooperative_id: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl TryFrom<ApplicationQuery> for ApplicationFilter {
    type Error = AppError;

    fn try_from(query: ApplicationQuery) -> Result<ApplicationFilter, AppError> {
        Ok(ApplicationFilter {
            status: query
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| parse_named("status", s, &Status::ALL, Status::as_str))
                .transpose()?,
            cooperative_id: query.cooperative_id.map(Into::into),
            limit: query.limit,
            cursor: query.cursor,
            ..ApplicationFilter::default()
        })
    }
}

/// A collateral item as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollateralView {
    pub id: i64,
    pub kind: String,
    pub description: String,
    pub appraised_value_vnd: i64,
    pub discount_rate_percent: String,
}

/// An application as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationView {
    #[schema(value_type = i64)]
    pub id: ApplicationId,
    /// `DN-2026-000123`.
    pub number: String,
    #[schema(value_type = i64)]
    pub cooperative_id: CooperativeId,
    #[schema(value_type = i64)]
    pub product_id: ProductId,
    pub amount_vnd: i64,
    pub installments: i32,
    pub period_months: i32,
    #[schema(value_type = String)]
    pub method: Method,
    pub principal_grace: i32,
    pub purpose: String,
    pub project_total_vnd: i64,
    pub own_capital_vnd: i64,
    pub collateral: Vec<CollateralView>,
    /// Σ appraised × (1 − discount%), rounded half-up to the đồng.
    pub collateral_value_vnd: i64,
    pub no_bad_debt_declared: bool,
    pub documents: Vec<String>,
    /// draft, submitted, in_appraisal, appraised, awaiting_council, approved, rejected, withdrawn.
    #[schema(value_type = String)]
    pub status: Status,
    #[schema(value_type = Option<i64>)]
    pub created_by: Option<UserId>,
    #[schema(value_type = Option<i64>)]
    pub appraised_by: Option<UserId>,
    pub appraisal_note: Option<String>,
    pub appraisal_recommendation: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub approved_by: Option<UserId>,
    #[schema(value_type = Option<i64>)]
    pub council_approved_by: Option<UserId>,
    /// Whether the amount is above the council threshold (two approvals needed).
    pub council_approval_required: bool,
    pub decision_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The loan created by approval.
    #[schema(value_type = Option<i64>)]
    pub loan_id: Option<LoanId>,
    /// `HTX-2026-000123`.
    pub loan_number: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Application> for ApplicationView {
    fn from(a: Application) -> ApplicationView {
        ApplicationView {
            id: a.id,
            number: a.number,
            cooperative_id: a.cooperative_id,
            product_id: a.product_id,
            amount_vnd: a.amount_vnd,
            installments: a.installments,
            period_months: a.period_months,
            method: a.method,
            principal_grace: a.principal_grace,
            purpose: a.purpose,
            project_total_vnd: a.project_total_vnd,
            own_capital_vnd: a.own_capital_vnd,
            collateral: a
                .collateral
                .into_iter()
                .map(|c| CollateralView {
                    id: c.id,
                    kind: c.kind,
                    description: c.description,
                    appraised_value_vnd: c.appraised_value_vnd,
                    discount_rate_percent: c.discount_rate_percent.to_string(),
                })
                .collect(),
            collateral_value_vnd: a.collateral_value_vnd,
            no_bad_debt_declared: a.no_bad_debt_declared,
            documents: a.documents,
            status: a.status,
            created_by: a.created_by,
            appraised_by: a.appraised_by,
            appraisal_note: a.appraisal_note,
            appraisal_recommendation: a.appraisal_recommendation.map(|r| r.as_str().into()),
            approved_by: a.approved_by,
            council_approved_by: a.council_approved_by,
            council_approval_required: a.council_approval_required,
            decision_reason: a.decision_reason,
            submitted_at: a.submitted_at,
            decided_at: a.decided_at,
            loan_id: a.loan_id,
            loan_number: a.loan_number,
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

view! {
    /// One page, newest first.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    #[schema(as = ApplicationPage)]
    pub struct ApplicationPageView from ApplicationPage {
        pub items: Vec<ApplicationView> [each],
        pub next_cursor: Option<String>,
    }
}
