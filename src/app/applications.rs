//! Loan applications and their life cycle (DOMAIN.md §6, §7), up to the loan that approval
//! creates.
//!
//! ```text
//! draft ──submit──▶ submitted ──appraise──▶ appraised ──approve──▶ approved (+ loan)
//!                   (in_appraisal)            │  └─approve (above the council threshold)──▶ awaiting_council ──approve──▶ approved
//!                                             └──reject──▶ rejected        (awaiting_council ──reject──▶ rejected)
//! any open state ──withdraw──▶ withdrawn
//! ```
//!
//! Choices, and why:
//! - **Appraisal is one step**: an officer's `appraise` takes a submitted application straight to
//!   `appraised`, recording `appraised_by`, the note and the recommendation. `in_appraisal` is
//!   accepted as a state an application may be in (DOMAIN.md §7) but nothing sets it today: a
//!   separate "start appraisal" step would record nothing the audit trail does not already have.
//! - **Who acts**: an officer for any cooperative; a cooperative user only for its own
//!   cooperative (others' applications are 404, never 403, so their existence is not revealed).
//!   Any user of the borrowing cooperative may act for it (submit, edit a draft, withdraw), as
//!   the creator may. Approve and reject are the approver role's.
//! - **Four-eyes** (DOMAIN.md §6): the approver is neither the creator nor the appraiser; above
//!   `[lending] council_approval_above_vnd` the first approval moves the application to the extra
//!   status `awaiting_council` and a second approver — not the creator, the appraiser or the
//!   first approver — completes it (the management council). A breach is a rule refusal: 422
//!   `four_eyes_violation`, like the lending limits, not a 403 (the role is right; this
//!   application is the problem).
//! - **Approval checks** (Decree 45/2021 Art 20, 22, 23, 25) run at each approval, because
//!   exposure may change between the two: eligible kind, no-bad-debt declared, loan ≤ 80% and own
//!   capital ≥ 20% of the project, rates within caps, product still active, and the 15% / 25%
//!   limits of paid-in charter capital (arithmetic in [`super::lending_limits`]). Approvals are
//!   serialized (an advisory lock on PostgreSQL; the money writer gate and a first write on
//!   SQLite) so two approvals for one customer cannot both use the same room.
//! - **Product fit** (method, period, amount and term ranges, grace) is checked at create and
//!   edit as a 400 naming the field: the request asks for something the product does not offer.
//! - **Numbers** `DN-{year}-{id:06}` and loans `HTX-{year}-{id:06}`: the year of the business
//!   date and the row id, set in the inserting transaction, so they are unique without a counter
//!   table or a race (the sequence runs across years).
//! - `documents` is stored as a JSON array (references may contain commas).
//! - Every transition is audited with its from/to states and reason in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    audit::{self, Change},
    cooperatives::{paging, KINDS},
    event_mail, fund,
    lending_limits::{self, Rule},
    products::{self, split_list},
    validate,
    writer::MoneyWriter,
    Caller,
};
use crate::{
    auth::Role,
    config::Settings,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::{
        self,
        entities::{application, collateral_item, cooperative, loan, product},
    },
};

/// Application states (DOMAIN.md §7, plus `awaiting_council`).
pub mod status {
    pub const DRAFT: &str = "draft";
    pub const SUBMITTED: &str = "submitted";
    pub const IN_APPRAISAL: &str = "in_appraisal";
    pub const APPRAISED: &str = "appraised";
    /// Approved once; the management council's second approval is pending.
    pub const AWAITING_COUNCIL: &str = "awaiting_council";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    pub const WITHDRAWN: &str = "withdrawn";
    /// States from which an application may still be withdrawn.
    pub const OPEN: [&str; 5] = [DRAFT, SUBMITTED, IN_APPRAISAL, APPRAISED, AWAITING_COUNCIL];
}

/// Loan statuses whose principal counts against the Decree 45 Art 23 limits.
pub const EXPOSED_LOAN_STATUSES: [&str; 3] = ["approved", "contract_signed", "active"];
/// An appraiser's recommendation.
pub const RECOMMENDATIONS: [&str; 2] = ["approve", "reject"];
const MAX_COLLATERAL_ITEMS: usize = 50;
const MAX_DOCUMENTS: usize = 50;
/// A fixed key for `pg_advisory_xact_lock`: approvals run one at a time on PostgreSQL.
const APPROVAL_LOCK_KEY: i64 = 0x636f_6f70_6170_7072; // "coopappr"

/// A collateral item as sent.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollateralInput {
    /// e.g. `land_use_right`, `machinery`, `deposit`.
    pub kind: String,
    pub description: String,
    pub appraised_value_vnd: i64,
    /// Haircut applied to the appraised value, 0 to 100 (a decimal string).
    #[schema(value_type = String, example = "30")]
    pub discount_rate_percent: Decimal,
}

/// An application to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
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
    pub collateral: Vec<CollateralInput>,
    /// Decree 45/2021 Art 22: no bad debt at any credit institution.
    #[serde(default)]
    pub no_bad_debt_declared: bool,
    /// References of the documents handed in.
    #[serde(default)]
    pub documents: Vec<String>,
}

/// Changes to a draft; `version` must be the one last read. `collateral` and `documents`
/// replace the lists when given.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatch {
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
    pub collateral: Option<Vec<CollateralInput>>,
    pub no_bad_debt_declared: Option<bool>,
    pub documents: Option<Vec<String>>,
}

/// The body of submit, approve and withdraw (all optional) and of reject (`reason` required).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The appraisal.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraisalInput {
    pub note: String,
    /// `approve` or `reject`.
    pub recommendation: String,
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
    pub id: i64,
    /// `DN-2026-000123`.
    pub number: String,
    pub cooperative_id: i64,
    pub product_id: i64,
    pub amount_vnd: i64,
    pub installments: i32,
    pub period_months: i32,
    pub method: String,
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
    pub status: String,
    pub created_by: Option<i64>,
    pub appraised_by: Option<i64>,
    pub appraisal_note: Option<String>,
    pub appraisal_recommendation: Option<String>,
    pub approved_by: Option<i64>,
    pub council_approved_by: Option<i64>,
    /// Whether the amount is above the council threshold (two approvals needed).
    pub council_approval_required: bool,
    pub decision_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The loan created by approval.
    pub loan_id: Option<i64>,
    /// `HTX-2026-000123`.
    pub loan_number: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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

/// One page, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<ApplicationView>,
    pub next_cursor: Option<String>,
}

/// What the audit trail keeps for a transition.
#[derive(Serialize)]
struct Transition<'a> {
    from: &'a str,
    to: &'a str,
    reason: Option<&'a str>,
    application: &'a ApplicationView,
}

/// The lending settings a use case needs.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Above this amount, a second (council) approval is required.
    pub council_approval_above_vnd: i64,
}

// ---------------------------------------------------------------------------------------------
// Validation

/// The fields after validation, as stored.
struct Valid {
    product_id: i64,
    amount_vnd: i64,
    installments: i32,
    period_months: i32,
    method: String,
    principal_grace: i32,
    purpose: String,
    project_total_vnd: i64,
    own_capital_vnd: i64,
    collateral: Vec<collateral_item::ActiveModel>,
    no_bad_debt_declared: bool,
    documents: String,
}

fn range(field: &str, value: i64, min: i64, max: i64) -> AppResult<i64> {
    if value < min || value > max {
        return Err(AppError::invalid(
            field,
            Reason::OutOfRange {
                min: min.to_string(),
                max: max.to_string(),
            },
        ));
    }
    Ok(value)
}

fn small(field: &str, value: i64, min: i64, max: i64) -> AppResult<i32> {
    let value = range(field, value, min, max)?;
    i32::try_from(value).map_err(|_| {
        AppError::invalid(
            field,
            Reason::OutOfRange {
                min: min.to_string(),
                max: max.to_string(),
            },
        )
    })
}

fn validate_collateral(items: &[CollateralInput]) -> AppResult<Vec<collateral_item::ActiveModel>> {
    if items.len() > MAX_COLLATERAL_ITEMS {
        return Err(AppError::invalid(
            "collateral",
            Reason::OutOfRange {
                min: "0".into(),
                max: MAX_COLLATERAL_ITEMS.to_string(),
            },
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |name: &str| format!("collateral[{i}].{name}");
            let discount = item.discount_rate_percent;
            if discount < Decimal::ZERO || discount > Decimal::ONE_HUNDRED {
                return Err(AppError::invalid(
                    field("discount_rate_percent"),
                    Reason::OutOfRange {
                        min: "0".into(),
                        max: "100".into(),
                    },
                ));
            }
            Ok(collateral_item::ActiveModel {
                kind: Set(validate::text(&field("kind"), &item.kind, 40)?),
                description: Set(validate::text(
                    &field("description"),
                    &item.description,
                    2000,
                )?),
                appraised_value_vnd: Set(range(
                    &field("appraised_value_vnd"),
                    item.appraised_value_vnd,
                    0,
                    coopfund_domain::Vnd::MAX_INPUT,
                )?),
                discount_rate_percent: Set(discount.normalize().to_string()),
                ..Default::default()
            })
        })
        .collect()
}

fn validate_documents(documents: &[String]) -> AppResult<String> {
    if documents.len() > MAX_DOCUMENTS {
        return Err(AppError::invalid(
            "documents",
            Reason::OutOfRange {
                min: "0".into(),
                max: MAX_DOCUMENTS.to_string(),
            },
        ));
    }
    let cleaned = documents
        .iter()
        .enumerate()
        .map(|(i, d)| validate::text(&format!("documents[{i}]"), d, 300))
        .collect::<AppResult<Vec<String>>>()?;
    serde_json::to_string(&cleaned).map_err(AppError::internal)
}

/// Shapes and ranges that do not depend on the product.
fn validate_shape(input: &ApplicationInput) -> AppResult<Valid> {
    let max_vnd = coopfund_domain::Vnd::MAX_INPUT;
    let project_total_vnd = range("project_total_vnd", input.project_total_vnd, 1, max_vnd)?;
    Ok(Valid {
        product_id: input.product_id,
        amount_vnd: range("amount_vnd", input.amount_vnd, 1, max_vnd)?,
        installments: small(
            "installments",
            input.installments,
            1,
            i64::from(coopfund_domain::schedule::MAX_INSTALLMENTS),
        )?,
        period_months: small("period_months", input.period_months, 1, 12)?,
        method: validate::one_of("method", &input.method, &products::METHODS)?.to_string(),
        principal_grace: small(
            "principal_grace",
            input.principal_grace.unwrap_or(0),
            0,
            i64::from(coopfund_domain::schedule::MAX_INSTALLMENTS),
        )?,
        purpose: validate::text("purpose", &input.purpose, 2000)?,
        project_total_vnd,
        own_capital_vnd: range(
            "own_capital_vnd",
            input.own_capital_vnd,
            0,
            project_total_vnd,
        )?,
        collateral: validate_collateral(&input.collateral)?,
        no_bad_debt_declared: input.no_bad_debt_declared,
        documents: validate_documents(&input.documents)?,
    })
}

/// The request must be something the product offers (400 naming the field), and terms the
/// engine can schedule.
fn check_against_product(
    valid: &Valid,
    product: &product::Model,
    business_date: NaiveDate,
) -> AppResult<()> {
    if !product.active {
        return Err(AppError::new(
            ErrorKind::Rule,
            "product_inactive",
            Localized::new(
                format!("Sản phẩm cho vay {} đã ngừng áp dụng.", product.code),
                format!("Loan product {} is no longer offered.", product.code),
            ),
        )
        .with_field("product_id"));
    }
    let methods = split_list(&product.methods);
    let allowed: Vec<&str> = methods.iter().map(String::as_str).collect();
    validate::one_of("method", &valid.method, &allowed)?;
    let periods = split_list(&product.period_months);
    let allowed: Vec<&str> = periods.iter().map(String::as_str).collect();
    validate::one_of("period_months", &valid.period_months.to_string(), &allowed)?;
    range(
        "amount_vnd",
        valid.amount_vnd,
        product.min_amount_vnd,
        product.max_amount_vnd,
    )?;
    range(
        "installments",
        i64::from(valid.installments),
        i64::from(product.min_installments),
        i64::from(product.max_installments),
    )?;
    range(
        "principal_grace",
        i64::from(valid.principal_grace),
        0,
        i64::from(product.max_principal_grace),
    )?;
    engine_terms(valid, product, business_date)?
        .validate()
        .map_err(|err| {
            let field = if err.field() == "principal_vnd" {
                "amount_vnd"
            } else {
                err.field()
            };
            AppError::new(
                ErrorKind::BadRequest,
                err.code(),
                Localized::new(
                    format!("Điều kiện vay không hợp lệ: {err}."),
                    format!("The terms are invalid: {err}."),
                ),
            )
            .with_field(field)
        })
}

fn parse_decimal(field: &str, text: &str) -> AppResult<Decimal> {
    text.parse()
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored {field} {text:?}: {e}")))
}

/// The terms as the engine sees them, disbursed on the business date (a placeholder: the real
/// date is the first disbursement's).
fn engine_terms(
    valid: &Valid,
    product: &product::Model,
    business_date: NaiveDate,
) -> AppResult<coopfund_domain::ScheduleTerms> {
    let method = valid.method.parse().map_err(|_| {
        AppError::invalid(
            "method",
            Reason::UnknownValue {
                allowed: products::METHODS.join(", "),
            },
        )
    })?;
    let mut terms = coopfund_domain::ScheduleTerms::new(
        coopfund_domain::Vnd::from_i64(valid.amount_vnd),
        parse_decimal("rate_percent", &product.rate_percent)?,
        business_date,
        u32::try_from(valid.installments).unwrap_or(0),
        u32::try_from(valid.period_months).unwrap_or(0),
        method,
    );
    terms.principal_grace = u32::try_from(valid.principal_grace).unwrap_or(0);
    terms.day_count = product.day_count.parse().unwrap_or_default();
    terms.installment_unit = coopfund_domain::Vnd::from_i64(product.installment_unit_vnd);
    Ok(terms)
}

// ---------------------------------------------------------------------------------------------
// Loading and showing

fn not_found() -> AppError {
    AppError::not_found("hồ sơ vay", "Loan application")
}

fn invalid_state(current: &str, action_vi: &str, action_en: &str) -> AppError {
    AppError::new(
        ErrorKind::Conflict,
        "invalid_state",
        Localized::new(
            format!("Không thể {action_vi} hồ sơ đang ở trạng thái '{current}'."),
            format!("Cannot {action_en} an application in state '{current}'."),
        ),
    )
    .with_field("status")
}

fn four_eyes(vi: &str, en: &str) -> AppError {
    AppError::new(
        ErrorKind::Rule,
        "four_eyes_violation",
        Localized::new(
            format!("Nguyên tắc bốn mắt: {vi} (DOMAIN §6)."),
            format!("Four-eyes rule: {en} (DOMAIN §6)."),
        ),
    )
}

/// The application if the caller may see it (404 otherwise).
async fn load_for_caller<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: i64,
) -> AppResult<application::Model> {
    let found = application::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    if !caller.may_see_cooperative(found.cooperative_id) {
        return Err(not_found());
    }
    Ok(found)
}

/// Σ appraised × (1 − discount%), exact, then rounded half-up to the đồng once.
pub fn discounted_collateral_vnd(items: &[collateral_item::Model]) -> AppResult<i64> {
    let mut exact = Decimal::ZERO;
    for item in items {
        let discount = parse_decimal("discount_rate_percent", &item.discount_rate_percent)?;
        let kept = (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED;
        exact += Decimal::from(item.appraised_value_vnd) * kept;
    }
    coopfund_domain::round_half_up_to_dong(exact)
        .to_i64()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("collateral value out of range")))
}

fn view_of(
    m: application::Model,
    collateral: Vec<collateral_item::Model>,
    loan: Option<(i64, String)>,
    policy: Policy,
) -> AppResult<ApplicationView> {
    let collateral_value_vnd = discounted_collateral_vnd(&collateral)?;
    Ok(ApplicationView {
        id: m.id,
        number: m.number,
        cooperative_id: m.cooperative_id,
        product_id: m.product_id,
        amount_vnd: m.amount_vnd,
        installments: m.installments,
        period_months: m.period_months,
        method: m.method,
        principal_grace: m.principal_grace,
        purpose: m.purpose,
        project_total_vnd: m.project_total_vnd,
        own_capital_vnd: m.own_capital_vnd,
        collateral: collateral
            .into_iter()
            .map(|c| CollateralView {
                id: c.id,
                kind: c.kind,
                description: c.description,
                appraised_value_vnd: c.appraised_value_vnd,
                discount_rate_percent: c.discount_rate_percent,
            })
            .collect(),
        collateral_value_vnd,
        no_bad_debt_declared: m.no_bad_debt_declared,
        documents: serde_json::from_str(&m.documents).unwrap_or_default(),
        status: m.status,
        created_by: m.created_by,
        appraised_by: m.appraised_by,
        appraisal_note: m.appraisal_note,
        appraisal_recommendation: m.appraisal_recommendation,
        approved_by: m.approved_by,
        council_approved_by: m.council_approved_by,
        council_approval_required: m.amount_vnd > policy.council_approval_above_vnd,
        decision_reason: m.decision_reason,
        submitted_at: m.submitted_at,
        decided_at: m.decided_at,
        loan_id: loan.as_ref().map(|(id, _)| *id),
        loan_number: loan.map(|(_, number)| number),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Builds the views of `rows` with two more queries (collateral, loans), not one per row.
async fn views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<application::Model>,
    policy: Policy,
) -> AppResult<Vec<ApplicationView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut collateral = collateral_item::Entity::find()
        .filter(collateral_item::Column::ApplicationId.is_in(ids.clone()))
        .order_by_asc(collateral_item::Column::Id)
        .all(conn)
        .await?;
    let loans = loan::Entity::find()
        .filter(loan::Column::ApplicationId.is_in(ids))
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) = collateral
                .drain(..)
                .partition(|c| c.application_id == row.id);
            collateral = rest;
            let loan = loans
                .iter()
                .find(|l| l.application_id == row.id)
                .map(|l| (l.id, l.number.clone()));
            view_of(row, mine, loan, policy)
        })
        .collect()
}

async fn view_one<C: ConnectionTrait>(
    conn: &C,
    row: application::Model,
    policy: Policy,
) -> AppResult<ApplicationView> {
    views(conn, vec![row], policy)
        .await?
        .pop()
        .ok_or_else(not_found)
}

// ---------------------------------------------------------------------------------------------
// Create, read, edit

async fn load_cooperative<C: ConnectionTrait>(conn: &C, id: i64) -> AppResult<cooperative::Model> {
    cooperative::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "cooperative_id",
                Reason::UnknownValue {
                    allowed: "the id of a registered cooperative".into(),
                },
            )
        })
}

async fn load_product<C: ConnectionTrait>(conn: &C, id: i64) -> AppResult<product::Model> {
    product::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "product_id",
                Reason::UnknownValue {
                    allowed: "the id of a loan product".into(),
                },
            )
        })
}

/// Decree 45/2021 Art 20: never an enterprise (already refused at registration; re-checked).
fn check_eligible(coop: &cooperative::Model) -> AppResult<()> {
    if KINDS.contains(&coop.kind.as_str()) {
        return Ok(());
    }
    Err(AppError::new(
        ErrorKind::Rule,
        "borrower_not_eligible",
        Localized::new(
            "Quỹ chỉ cho vay hợp tác xã, liên hiệp hợp tác xã và thành viên hợp tác xã (Nghị định 45/2021 Điều 20).",
            "The fund lends only to cooperatives, unions of cooperatives and their members (Decree 45/2021 Art 20).",
        ),
    ))
}

async fn insert_collateral<C: ConnectionTrait>(
    conn: &C,
    application_id: i64,
    items: Vec<collateral_item::ActiveModel>,
) -> AppResult<()> {
    for mut item in items {
        item.application_id = Set(application_id);
        item.insert(conn).await?;
    }
    Ok(())
}

/// A placeholder unique number, replaced in the same transaction once the row id is known.
fn provisional_number() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("tmp-{}", &id[..26])
}

/// Creates a draft. Officers (any cooperative) and cooperative users (their own).
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    policy: Policy,
    input: ApplicationInput,
) -> AppResult<ApplicationView> {
    caller.require(&[Role::Officer, Role::Cooperative])?;
    let cooperative_id = match caller.own_cooperative() {
        Some(own) => own,
        None => input
            .cooperative_id
            .ok_or_else(|| AppError::invalid("cooperative_id", Reason::Required))?,
    };
    let valid = validate_shape(&input)?;
    let txn = db.begin().await?;
    let coop = load_cooperative(&txn, cooperative_id).await?;
    check_eligible(&coop)?;
    let product = load_product(&txn, valid.product_id).await?;
    let business_date = fund::business_date(&txn).await?;
    check_against_product(&valid, &product, business_date)?;
    let now = Utc::now();
    let inserted = application::ActiveModel {
        number: Set(provisional_number()),
        cooperative_id: Set(cooperative_id),
        product_id: Set(valid.product_id),
        amount_vnd: Set(valid.amount_vnd),
        installments: Set(valid.installments),
        period_months: Set(valid.period_months),
        method: Set(valid.method),
        principal_grace: Set(valid.principal_grace),
        purpose: Set(valid.purpose),
        project_total_vnd: Set(valid.project_total_vnd),
        own_capital_vnd: Set(valid.own_capital_vnd),
        no_bad_debt_declared: Set(valid.no_bad_debt_declared),
        documents: Set(valid.documents),
        status: Set(status::DRAFT.into()),
        created_by: Set(caller.user_id()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut numbered = inserted.clone().into_active_model();
    numbered.number = Set(format!(
        "DN-{}-{:06}",
        business_date.format("%Y"),
        inserted.id
    ));
    let created = numbered.update(&txn).await?;
    insert_collateral(&txn, created.id, valid.collateral).await?;
    let view = view_one(&txn, created, policy).await?;
    audit::record(
        &txn,
        caller,
        Change::<(), _> {
            action: "application.create",
            entity_type: "application",
            entity_id: view.id.to_string(),
            before: None,
            after: Some(&view),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// One application; 404 for another cooperative's. Any logged-in user.
pub async fn get(
    db: &DatabaseConnection,
    caller: &Caller,
    policy: Policy,
    id: i64,
) -> AppResult<ApplicationView> {
    caller.require(&Role::ALL)?;
    let row = load_for_caller(db, caller, id).await?;
    view_one(db, row, policy).await
}

/// Applications newest first, filtered by status and cooperative; a cooperative user sees only
/// its own.
pub async fn list(
    db: &DatabaseConnection,
    caller: &Caller,
    policy: Policy,
    query: ApplicationQuery,
) -> AppResult<ApplicationPage> {
    caller.require(&Role::ALL)?;
    let (limit, cursor) = paging(query.limit, query.cursor.as_deref())?;
    let mut select = application::Entity::find().order_by_desc(application::Column::Id);
    if let Some(own) = caller.own_cooperative() {
        select = select.filter(application::Column::CooperativeId.eq(own));
    }
    if let Some(cooperative_id) = query.cooperative_id {
        select = select.filter(application::Column::CooperativeId.eq(cooperative_id));
    }
    if let Some(wanted) = query.status.as_deref().filter(|s| !s.is_empty()) {
        let all = [
            status::OPEN.as_slice(),
            &[status::APPROVED, status::REJECTED, status::WITHDRAWN],
        ]
        .concat();
        let wanted = validate::one_of("status", wanted, &all)?;
        select = select.filter(application::Column::Status.eq(wanted));
    }
    if let Some(cursor) = cursor {
        select = select.filter(application::Column::Id.lt(cursor));
    }
    let rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
    let items = views(db, rows, policy).await?;
    let next_cursor = has_more
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(ApplicationPage { items, next_cursor })
}

fn merge(
    current: &application::Model,
    patch: &ApplicationPatch,
    collateral: &[collateral_item::Model],
) -> AppResult<ApplicationInput> {
    let current_collateral = || -> AppResult<Vec<CollateralInput>> {
        collateral
            .iter()
            .map(|c| {
                Ok(CollateralInput {
                    kind: c.kind.clone(),
                    description: c.description.clone(),
                    appraised_value_vnd: c.appraised_value_vnd,
                    discount_rate_percent: parse_decimal(
                        "discount_rate_percent",
                        &c.discount_rate_percent,
                    )?,
                })
            })
            .collect()
    };
    Ok(ApplicationInput {
        product_id: patch.product_id.unwrap_or(current.product_id),
        cooperative_id: Some(current.cooperative_id),
        amount_vnd: patch.amount_vnd.unwrap_or(current.amount_vnd),
        installments: patch
            .installments
            .unwrap_or(i64::from(current.installments)),
        period_months: patch
            .period_months
            .unwrap_or(i64::from(current.period_months)),
        method: patch
            .method
            .clone()
            .unwrap_or_else(|| current.method.clone()),
        principal_grace: Some(
            patch
                .principal_grace
                .unwrap_or(i64::from(current.principal_grace)),
        ),
        purpose: patch
            .purpose
            .clone()
            .unwrap_or_else(|| current.purpose.clone()),
        project_total_vnd: patch.project_total_vnd.unwrap_or(current.project_total_vnd),
        own_capital_vnd: patch.own_capital_vnd.unwrap_or(current.own_capital_vnd),
        collateral: match &patch.collateral {
            Some(items) => items.clone(),
            None => current_collateral()?,
        },
        no_bad_debt_declared: patch
            .no_bad_debt_declared
            .unwrap_or(current.no_bad_debt_declared),
        documents: match &patch.documents {
            Some(docs) => docs.clone(),
            None => serde_json::from_str(&current.documents).unwrap_or_default(),
        },
    })
}

/// Officers, or a user of the borrowing cooperative (the creator is one of these).
fn may_act_for_borrower(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Officer, Role::Cooperative])
}

/// Edits a draft (creator's cooperative or an officer) if `version` is still current.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Caller,
    policy: Policy,
    id: i64,
    patch: ApplicationPatch,
) -> AppResult<ApplicationView> {
    may_act_for_borrower(caller)?;
    let txn = db.begin().await?;
    let current = load_for_caller(&txn, caller, id).await?;
    if current.status != status::DRAFT {
        return Err(invalid_state(&current.status, "sửa", "edit"));
    }
    if current.version != patch.version {
        return Err(AppError::stale_version());
    }
    let collateral = collateral_item::Entity::find()
        .filter(collateral_item::Column::ApplicationId.eq(id))
        .order_by_asc(collateral_item::Column::Id)
        .all(&txn)
        .await?;
    let before = view_of(current.clone(), collateral.clone(), None, policy)?;
    let valid = validate_shape(&merge(&current, &patch, &collateral)?)?;
    let product = load_product(&txn, valid.product_id).await?;
    check_against_product(&valid, &product, fund::business_date(&txn).await?)?;
    let mut active = current.clone().into_active_model();
    active.product_id = Set(valid.product_id);
    active.amount_vnd = Set(valid.amount_vnd);
    active.installments = Set(valid.installments);
    active.period_months = Set(valid.period_months);
    active.method = Set(valid.method);
    active.principal_grace = Set(valid.principal_grace);
    active.purpose = Set(valid.purpose);
    active.project_total_vnd = Set(valid.project_total_vnd);
    active.own_capital_vnd = Set(valid.own_capital_vnd);
    active.no_bad_debt_declared = Set(valid.no_bad_debt_declared);
    active.documents = Set(valid.documents);
    let updated = store_versioned(&txn, &current, active).await?;
    if patch.collateral.is_some() {
        collateral_item::Entity::delete_many()
            .filter(collateral_item::Column::ApplicationId.eq(id))
            .exec(&txn)
            .await?;
        insert_collateral(&txn, id, valid.collateral).await?;
    }
    let after = view_one(&txn, updated, policy).await?;
    audit::record(
        &txn,
        caller,
        Change {
            action: "application.update",
            entity_type: "application",
            entity_id: id.to_string(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Writes `active` only if the row still has `current.version` (a concurrent change loses
/// cleanly with 409), bumping the version.
async fn store_versioned(
    txn: &DatabaseTransaction,
    current: &application::Model,
    mut active: application::ActiveModel,
) -> AppResult<application::Model> {
    active.version = Set(current.version + 1);
    active.updated_at = Set(Utc::now());
    let result = application::Entity::update_many()
        .set(active)
        .filter(application::Column::Id.eq(current.id))
        .filter(application::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::stale_version());
    }
    application::Entity::find_by_id(current.id)
        .one(txn)
        .await?
        .ok_or_else(not_found)
}

/// Stores a state change and its audit record (from, to, reason).
async fn record_transition(
    txn: &DatabaseTransaction,
    caller: &Caller,
    policy: Policy,
    current: &application::Model,
    active: application::ActiveModel,
    action: &str,
    reason: Option<&str>,
) -> AppResult<ApplicationView> {
    let before = view_one(txn, current.clone(), policy).await?;
    let updated = store_versioned(txn, current, active).await?;
    let after = view_one(txn, updated, policy).await?;
    let transition = Transition {
        from: &current.status,
        to: &after.status,
        reason,
        application: &after,
    };
    audit::record(
        txn,
        caller,
        Change {
            action,
            entity_type: "application",
            entity_id: current.id.to_string(),
            before: Some(&before),
            after: Some(&transition),
        },
    )
    .await?;
    Ok(after)
}

fn optional_reason(input: &DecisionInput) -> AppResult<Option<String>> {
    match input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(reason) => Ok(Some(validate::text("reason", reason, 2000)?)),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Transitions

/// draft → submitted. Officers or the borrowing cooperative.
pub async fn submit(
    db: &DatabaseConnection,
    settings: &Settings,
    caller: &Caller,
    policy: Policy,
    id: i64,
    input: DecisionInput,
) -> AppResult<ApplicationView> {
    may_act_for_borrower(caller)?;
    let reason = optional_reason(&input)?;
    let txn = db.begin().await?;
    let current = load_for_caller(&txn, caller, id).await?;
    if current.status != status::DRAFT {
        return Err(invalid_state(&current.status, "nộp", "submit"));
    }
    let mut active = current.clone().into_active_model();
    active.status = Set(status::SUBMITTED.into());
    active.submitted_at = Set(Some(Utc::now()));
    let view = record_transition(
        &txn,
        caller,
        policy,
        &current,
        active,
        "application.submit",
        reason.as_deref(),
    )
    .await?;
    // DOMAIN.md §10: the cooperative hears that the fund registered its application.
    let received_on = fund::business_date(&txn).await?;
    event_mail::application_received(&txn, settings, &current, received_on).await?;
    txn.commit().await?;
    Ok(view)
}

/// submitted (or in_appraisal) → appraised, recording the appraiser, note and recommendation.
/// Officers.
pub async fn appraise(
    db: &DatabaseConnection,
    caller: &Caller,
    policy: Policy,
    id: i64,
    input: AppraisalInput,
) -> AppResult<ApplicationView> {
    caller.require(&[Role::Officer])?;
    let note = validate::text("note", &input.note, 5000)?;
    let recommendation =
        validate::one_of("recommendation", &input.recommendation, &RECOMMENDATIONS)?;
    let txn = db.begin().await?;
    let current = load_for_caller(&txn, caller, id).await?;
    if current.status != status::SUBMITTED && current.status != status::IN_APPRAISAL {
        return Err(invalid_state(&current.status, "thẩm định", "appraise"));
    }
    let mut active = current.clone().into_active_model();
    active.status = Set(status::APPRAISED.into());
    active.appraised_by = Set(caller.user_id());
    active.appraisal_note = Set(Some(note.clone()));
    active.appraisal_recommendation = Set(Some(recommendation.to_string()));
    let reason = format!("{recommendation}: {note}");
    let view = record_transition(
        &txn,
        caller,
        policy,
        &current,
        active,
        "application.appraise",
        Some(&reason),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// appraised | awaiting_council → rejected, with a reason. Approvers.
pub async fn reject(
    db: &DatabaseConnection,
    settings: &Settings,
    caller: &Caller,
    policy: Policy,
    id: i64,
    input: DecisionInput,
) -> AppResult<ApplicationView> {
    caller.require(&[Role::Approver])?;
    let reason =
        optional_reason(&input)?.ok_or_else(|| AppError::invalid("reason", Reason::Required))?;
    let txn = db.begin().await?;
    let current = load_for_caller(&txn, caller, id).await?;
    if current.status != status::APPRAISED && current.status != status::AWAITING_COUNCIL {
        return Err(invalid_state(&current.status, "từ chối", "reject"));
    }
    let mut active = current.clone().into_active_model();
    active.status = Set(status::REJECTED.into());
    active.decision_reason = Set(Some(reason.clone()));
    active.decided_at = Set(Some(Utc::now()));
    let view = record_transition(
        &txn,
        caller,
        policy,
        &current,
        active,
        "application.reject",
        Some(&reason),
    )
    .await?;
    let decided_on = fund::business_date(&txn).await?;
    event_mail::application_rejected(&txn, settings, &current, &reason, decided_on).await?;
    txn.commit().await?;
    Ok(view)
}

/// Any open state → withdrawn. Officers or the borrowing cooperative.
pub async fn withdraw(
    db: &DatabaseConnection,
    caller: &Caller,
    policy: Policy,
    id: i64,
    input: DecisionInput,
) -> AppResult<ApplicationView> {
    may_act_for_borrower(caller)?;
    let reason = optional_reason(&input)?;
    let txn = db.begin().await?;
    let current = load_for_caller(&txn, caller, id).await?;
    if !status::OPEN.contains(&current.status.as_str()) {
        return Err(invalid_state(&current.status, "rút", "withdraw"));
    }
    let mut active = current.clone().into_active_model();
    active.status = Set(status::WITHDRAWN.into());
    active.decided_at = Set(Some(Utc::now()));
    let view = record_transition(
        &txn,
        caller,
        policy,
        &current,
        active,
        "application.withdraw",
        reason.as_deref(),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

// ---------------------------------------------------------------------------------------------
// Approval

/// Makes concurrent approvals queue: on PostgreSQL a transaction-scoped advisory lock; on SQLite
/// a first statement that writes, so the transaction holds the write lock before it reads.
async fn serialize_approvals(txn: &DatabaseTransaction) -> AppResult<()> {
    let statement = match txn.get_database_backend() {
        DbBackend::Postgres => Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({APPROVAL_LOCK_KEY})"),
        ),
        backend => Statement::from_string(
            backend,
            "UPDATE fund_state SET updated_at = updated_at WHERE id = 1",
        ),
    };
    txn.execute_raw(statement).await?;
    Ok(())
}

/// DOMAIN.md §6: neither the creator nor the appraiser approves; the council's approver is a
/// third person, not the first approver either.
fn check_four_eyes(app: &application::Model, approver_id: Option<i64>) -> AppResult<()> {
    let same = |other: Option<i64>| approver_id.is_some() && approver_id == other;
    if same(app.created_by) {
        return Err(four_eyes(
            "người lập hồ sơ không được phê duyệt hồ sơ của mình",
            "the creator of an application may not approve it",
        ));
    }
    if same(app.appraised_by) {
        return Err(four_eyes(
            "người thẩm định không được phê duyệt hồ sơ mình đã thẩm định",
            "the appraiser of an application may not approve it",
        ));
    }
    if app.status == status::AWAITING_COUNCIL && same(app.approved_by) {
        return Err(four_eyes(
            "phê duyệt của Hội đồng quản lý phải do người khác với người phê duyệt lần đầu",
            "the management council's approval must come from an approver other than the first",
        ));
    }
    Ok(())
}

fn bad_debt_not_declared() -> AppError {
    AppError::new(
        ErrorKind::Rule,
        "bad_debt_not_declared",
        Localized::new(
            "Khách hàng chưa cam kết không có nợ xấu tại tổ chức tín dụng (Nghị định 45/2021 Điều 22).",
            "The borrower has not declared that it has no bad debt at any credit institution (Decree 45/2021 Art 22).",
        ),
    )
    .with_field("no_bad_debt_declared")
}

/// What one customer (or a group) owes or may still draw: outstanding principal plus approved
/// but not yet disbursed principal of loans approved, signed or active.
async fn exposure_vnd<C: ConnectionTrait>(conn: &C, cooperative_ids: Vec<i64>) -> AppResult<i64> {
    let total: Option<i64> = loan::Entity::find()
        .select_only()
        .column_as(
            store::sum_vnd(
                "in_term_principal_vnd + overdue_principal_vnd + principal_vnd - disbursed_vnd",
            ),
            "total",
        )
        .filter(loan::Column::CooperativeId.is_in(cooperative_ids))
        .filter(loan::Column::Status.is_in(EXPOSED_LOAN_STATUSES))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(total.unwrap_or(0))
}

/// Every lending rule of DOMAIN.md §6 that approval checks, first breach first.
async fn check_lending_rules(
    txn: &DatabaseTransaction,
    app: &application::Model,
    coop: &cooperative::Model,
    product: &product::Model,
) -> AppResult<()> {
    check_eligible(coop)?;
    if !app.no_bad_debt_declared {
        return Err(bad_debt_not_declared());
    }
    lending_limits::check_project_share(app.amount_vnd, app.project_total_vnd, app.own_capital_vnd)
        .map_err(lending_limits::Breach::to_error)?;
    products::check_rate_caps(
        parse_decimal("rate_percent", &product.rate_percent)?,
        parse_decimal("overdue_multiplier", &product.overdue_multiplier)?,
        parse_decimal("late_rate_percent", &product.late_rate_percent)?,
    )?;
    let charter_capital_vnd = fund::paid_in_charter_capital_vnd(txn).await?;
    // Decree 45/2021 Art 23: one customer ≤ 15% of paid-in charter capital.
    let own = exposure_vnd(txn, vec![coop.id]).await?;
    lending_limits::check_exposure(
        Rule::SingleCustomer,
        lending_limits::SINGLE_CUSTOMER_MAX_PERCENT,
        charter_capital_vnd,
        own,
        app.amount_vnd,
    )
    .map_err(lending_limits::Breach::to_error)?;
    // Decree 45/2021 Art 23: with related persons ≤ 25%.
    if let Some(group) = coop.related_group.as_deref() {
        let related: Vec<i64> = cooperative::Entity::find()
            .select_only()
            .column(cooperative::Column::Id)
            .filter(cooperative::Column::RelatedGroup.eq(group))
            .into_tuple()
            .all(txn)
            .await?;
        let group_exposure = exposure_vnd(txn, related).await?;
        lending_limits::check_exposure(
            Rule::RelatedGroup,
            lending_limits::RELATED_GROUP_MAX_PERCENT,
            charter_capital_vnd,
            group_exposure,
            app.amount_vnd,
        )
        .map_err(lending_limits::Breach::to_error)?;
    }
    Ok(())
}

/// Inserts the loan approval creates: the terms snapshot of application and product, status
/// `approved`, every balance 0, group 1.
async fn create_loan(
    txn: &DatabaseTransaction,
    app: &application::Model,
    coop: &cooperative::Model,
    product: &product::Model,
    business_date: NaiveDate,
) -> AppResult<loan::Model> {
    let collateral = collateral_item::Entity::find()
        .filter(collateral_item::Column::ApplicationId.eq(app.id))
        .all(txn)
        .await?;
    let now = Utc::now();
    let inserted = loan::ActiveModel {
        number: Set(provisional_number()),
        application_id: Set(app.id),
        cooperative_id: Set(app.cooperative_id),
        product_id: Set(app.product_id),
        // The cooperative's officer; when none is assigned, the officer who appraised it.
        officer_id: Set(coop.officer_id.or(app.appraised_by)),
        principal_vnd: Set(app.amount_vnd),
        rate_percent: Set(product.rate_percent.clone()),
        method: Set(app.method.clone()),
        installments: Set(app.installments),
        period_months: Set(app.period_months),
        principal_grace: Set(app.principal_grace),
        day_count: Set(product.day_count.clone()),
        installment_unit_vnd: Set(product.installment_unit_vnd),
        first_due_on: Set(None),
        overdue_multiplier: Set(product.overdue_multiplier.clone()),
        late_rate_percent: Set(product.late_rate_percent.clone()),
        allocation_order: Set(product.allocation_order.clone()),
        prepayment_rule: Set(product.prepayment_rule.clone()),
        collateral_value_vnd: Set(discounted_collateral_vnd(&collateral)?),
        status: Set("approved".into()),
        contract_number: Set(None),
        signed_on: Set(None),
        first_disbursed_on: Set(None),
        closed_on: Set(None),
        disbursed_vnd: Set(0),
        in_term_principal_vnd: Set(0),
        overdue_principal_vnd: Set(0),
        advance_vnd: Set(0),
        dpd: Set(0),
        debt_group: Set(1),
        restructure_count: Set(0),
        balances_as_of: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut numbered = inserted.clone().into_active_model();
    numbered.number = Set(format!(
        "HTX-{}-{:06}",
        business_date.format("%Y"),
        inserted.id
    ));
    Ok(numbered.update(txn).await?)
}

/// Approves: appraised → approved (creating the loan), or, above the council threshold,
/// appraised → awaiting_council → approved with a second, different approver. Approvers.
pub async fn approve(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    settings: &Settings,
    caller: &Caller,
    policy: Policy,
    id: i64,
    input: DecisionInput,
) -> AppResult<ApplicationView> {
    approve_keyed(db, writer, settings, caller, policy, id, input, None)
        .await?
        .fresh()
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "an approval without a key is never a replay"
            ))
        })
}

/// [`approve`] as a keyed command: approval creates a loan, so with an `Idempotency-Key` a retry
/// returns the first response (API.md) instead of a 409 for the changed state.
#[allow(clippy::too_many_arguments)]
pub async fn approve_keyed(
    db: &DatabaseConnection,
    writer: &MoneyWriter,
    settings: &Settings,
    caller: &Caller,
    policy: Policy,
    id: i64,
    input: DecisionInput,
    request: Option<&super::idempotency::IdempotencyRequest>,
) -> AppResult<super::idempotency::Idempotent<ApplicationView>> {
    use super::idempotency::{self, Idempotent};
    caller.require(&[Role::Approver])?;
    let reason = optional_reason(&input)?;
    // Taken before a connection is borrowed (see app::writer); a no-op on PostgreSQL.
    let _gate = writer.enter(db).await;
    let txn = db.begin().await?;
    serialize_approvals(&txn).await?;
    if let Some(request) = request {
        if let Some(Idempotent::Replayed { status, body }) =
            idempotency::replay_of(&txn, caller, request).await?
        {
            txn.rollback().await?;
            return Ok(Idempotent::Replayed { status, body });
        }
    }
    let current = load_for_caller(&txn, caller, id).await?;
    if current.status != status::APPRAISED && current.status != status::AWAITING_COUNCIL {
        return Err(invalid_state(&current.status, "phê duyệt", "approve"));
    }
    check_four_eyes(&current, caller.user_id())?;
    let coop = cooperative::Entity::find_by_id(current.cooperative_id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let product = load_product(&txn, current.product_id).await?;
    check_lending_rules(&txn, &current, &coop, &product).await?;
    let needs_council = current.amount_vnd > policy.council_approval_above_vnd;
    let mut active = current.clone().into_active_model();
    let first = current.status == status::APPRAISED;
    if first {
        active.approved_by = Set(caller.user_id());
    } else {
        active.council_approved_by = Set(caller.user_id());
    }
    let completes = !(first && needs_council);
    if completes {
        active.status = Set(status::APPROVED.into());
        active.decided_at = Set(Some(Utc::now()));
        if reason.is_some() {
            active.decision_reason = Set(reason.clone());
        }
    } else {
        active.status = Set(status::AWAITING_COUNCIL.into());
    }
    let action = if first {
        "application.approve"
    } else {
        "application.council_approve"
    };
    let mut view = record_transition(
        &txn,
        caller,
        policy,
        &current,
        active,
        action,
        reason.as_deref(),
    )
    .await?;
    if completes {
        let business_date = fund::business_date(&txn).await?;
        let created = create_loan(&txn, &current, &coop, &product, business_date).await?;
        audit::record(
            &txn,
            caller,
            Change::<(), _> {
                action: "loan.create",
                entity_type: "loan",
                entity_id: created.id.to_string(),
                before: None,
                after: Some(&LoanCreated {
                    id: created.id,
                    number: &created.number,
                    application_id: current.id,
                    principal_vnd: created.principal_vnd,
                }),
            },
        )
        .await?;
        // DOMAIN.md §10: the decision is mailed once it is final (after the council, when needed).
        event_mail::application_approved(&txn, settings, &current, &created, business_date).await?;
        view.loan_id = Some(created.id);
        view.loan_number = Some(created.number);
    }
    if let Some(request) = request {
        if let Err(err) = idempotency::remember(&txn, caller, request, 200, &view).await {
            txn.rollback().await?;
            return if idempotency::is_race(&err) {
                idempotency::resolve_race(db, caller, request).await
            } else {
                Err(err)
            };
        }
    }
    txn.commit().await?;
    Ok(Idempotent::Fresh(view))
}

/// The audit record of a loan created by approval.
#[derive(Serialize)]
struct LoanCreated<'a> {
    id: i64,
    number: &'a str,
    application_id: i64,
    principal_vnd: i64,
}
