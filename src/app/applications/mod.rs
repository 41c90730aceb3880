//! Loan applications and their life cycle (DOMAIN.md §6, §7), up to the loan that approval
//! creates.
//!
//! The life cycle (draft → submitted → appraised → [awaiting_council →] approved, rejected or
//! withdrawn), four-eyes and the approval decision are pure rules of the domain
//! ([`coopfund_domain::application`]); the lending limits and rate caps too
//! ([`coopfund_domain::limits`]). This module loads what they need, asks them, stores what they
//! decide with its audit record and mail, and words their refusals for people.
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
//!   limits of paid-in charter capital (arithmetic in [`coopfund_domain::limits`]). Approvals are
//!   serialized (an advisory lock on PostgreSQL; the money writer gate and a first write on
//!   SQLite) so two approvals for one customer cannot both use the same room.
//! - **Product fit** (method, period, amount and term ranges, grace) is checked at create and
//!   edit as a 400 naming the field: the request asks for something the product does not offer.
//! - **Numbers** `DN-{year}-{id:06}` and loans `HTX-{year}-{id:06}`: the year of the business
//!   date and the row id, set in the inserting transaction, so they are unique without a counter
//!   table or a race (the sequence runs across years).
//! - `documents` is stored as a JSON array (references may contain commas).
//! - Every transition is audited with its from/to states and reason in the same transaction.

//!
//! The module in four parts: this file holds the commands, the read model and the loading shared
//! by the rest; `commands` the writes before approval, `queries` the reads and `approval`
//! the decision and the loan it creates.

use chrono::{DateTime, Utc};
use coopfund_domain::{
    application::{self as rules, Action, Actor, TransitionError},
    ids::{ApplicationId, CooperativeId, LoanId, ProductId, UserId},
    limits, Method,
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::Caller;
use crate::{
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::entities::{application, collateral_item, cooperative, loan, product},
};

mod approval;
mod commands;
mod queries;

pub(crate) use approval::{approval_case_for, refusal_error};
pub use approval::{approve, approve_keyed, breach_error, NewLoan};
pub use commands::{appraise, create, reject, submit, update, withdraw};
/// Application states (DOMAIN.md §7, plus `awaiting_council`) and the appraiser's
/// recommendation: the domain's.
pub use coopfund_domain::application::{Recommendation, Status};
pub use queries::{get, list, people};

/// The lending settings a use case needs.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Above this amount, a second (council) approval is required.
    pub council_approval_above_vnd: i64,
}

impl Policy {
    /// The policy configured for `ctx` (`[lending]`).
    pub fn of(ctx: &super::context::AppCtx) -> Policy {
        Policy {
            council_approval_above_vnd: ctx.settings.lending.council_approval_above_vnd,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

/// A collateral item to pledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCollateral {
    /// e.g. `land_use_right`, `machinery`, `deposit`.
    pub kind: String,
    pub description: String,
    pub appraised_value_vnd: i64,
    /// Haircut applied to the appraised value, 0 to 100.
    pub discount_rate_percent: Decimal,
}

/// An application to create (ranges are checked by [`create`], against the product too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    pub product_id: ProductId,
    /// Required for officers; ignored for a cooperative user (its own cooperative).
    pub cooperative_id: Option<CooperativeId>,
    pub amount_vnd: i64,
    pub installments: i64,
    pub period_months: i64,
    pub method: Method,
    /// Installments of principal grace (0 when absent).
    pub principal_grace: Option<i64>,
    pub purpose: String,
    pub project_total_vnd: i64,
    pub own_capital_vnd: i64,
    pub collateral: Vec<NewCollateral>,
    /// Decree 45/2021 Art 22: no bad debt at any credit institution.
    pub no_bad_debt_declared: bool,
    /// References of the documents handed in.
    pub documents: Vec<String>,
}

/// Changes to a draft; `version` must be the one last read. `collateral` and `documents` replace
/// the lists when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationChanges {
    pub version: i32,
    pub product_id: Option<ProductId>,
    pub amount_vnd: Option<i64>,
    pub installments: Option<i64>,
    pub period_months: Option<i64>,
    pub method: Option<Method>,
    pub principal_grace: Option<i64>,
    pub purpose: Option<String>,
    pub project_total_vnd: Option<i64>,
    pub own_capital_vnd: Option<i64>,
    pub collateral: Option<Vec<NewCollateral>>,
    pub no_bad_debt_declared: Option<bool>,
    pub documents: Option<Vec<String>>,
}

/// The appraisal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appraisal {
    pub note: String,
    pub recommendation: Recommendation,
}

/// Filters and paging of the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationFilter {
    pub status: Option<Status>,
    pub cooperative_id: Option<CooperativeId>,
    /// Only applications this user created or appraised (an officer's "mine").
    pub involving_user: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// The read model

/// A collateral item as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collateral {
    pub id: i64,
    pub kind: String,
    pub description: String,
    pub appraised_value_vnd: i64,
    pub discount_rate_percent: Decimal,
}

/// An application as the fund knows it, with its collateral and the loan approval created. Its
/// JSON (audit records, idempotent replays) is the API's view of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    pub id: ApplicationId,
    /// `DN-2026-000123`.
    pub number: String,
    pub cooperative_id: CooperativeId,
    pub product_id: ProductId,
    pub amount_vnd: i64,
    pub installments: i32,
    pub period_months: i32,
    pub method: Method,
    pub principal_grace: i32,
    pub purpose: String,
    pub project_total_vnd: i64,
    pub own_capital_vnd: i64,
    pub collateral: Vec<Collateral>,
    /// Σ appraised × (1 − discount%), rounded half-up to the đồng.
    pub collateral_value_vnd: i64,
    pub no_bad_debt_declared: bool,
    pub documents: Vec<String>,
    pub status: Status,
    pub created_by: Option<UserId>,
    pub appraised_by: Option<UserId>,
    pub appraisal_note: Option<String>,
    pub appraisal_recommendation: Option<Recommendation>,
    pub approved_by: Option<UserId>,
    pub council_approved_by: Option<UserId>,
    /// Whether the amount is above the council threshold (two approvals needed).
    pub council_approval_required: bool,
    pub decision_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The loan created by approval.
    pub loan_id: Option<LoanId>,
    /// `HTX-2026-000123`.
    pub loan_number: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl super::audit::Audited for Application {
    const ENTITY_TYPE: &'static str = "application";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

/// One page, newest first.
pub type ApplicationPage = super::page::Page<Application>;

// ---------------------------------------------------------------------------------------------
// Reading stored rows: every stored value is parsed here, once, and one that cannot be read is
// an error naming the row.

/// The stored state of `row`.
fn status_of(row: &application::Model) -> AppResult<Status> {
    row.status
        .parse()
        .map_err(|_| AppError::unreadable("application", row.id, "status", &row.status))
}

/// The stored document references (a JSON array).
fn documents_of(row: &application::Model) -> AppResult<Vec<String>> {
    serde_json::from_str(&row.documents)
        .map_err(|_| AppError::unreadable("application", row.id, "documents", &row.documents))
}

/// The collateral items as stored.
fn collateral_of(items: &[collateral_item::Model]) -> AppResult<Vec<Collateral>> {
    items
        .iter()
        .map(|item| {
            Ok(Collateral {
                id: item.id,
                kind: item.kind.clone(),
                description: item.description.clone(),
                appraised_value_vnd: item.appraised_value_vnd,
                discount_rate_percent: item.discount_rate_percent.get(),
            })
        })
        .collect()
}

/// Σ appraised × (1 − discount%), exact, then rounded half-up to the đồng once
/// ([`limits::discounted_collateral_vnd`]).
fn discounted_collateral_vnd(items: &[Collateral]) -> AppResult<i64> {
    let items: Vec<limits::Collateral> = items
        .iter()
        .map(|item| limits::Collateral {
            appraised_value_vnd: item.appraised_value_vnd,
            discount_rate_percent: item.discount_rate_percent,
        })
        .collect();
    limits::discounted_collateral_vnd(&items)
        .to_i64()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("collateral value out of range")))
}

/// The read model of one stored application.
fn application_of(
    m: application::Model,
    collateral: &[collateral_item::Model],
    loan: Option<(i64, String)>,
    policy: Policy,
) -> AppResult<Application> {
    let collateral = collateral_of(collateral)?;
    Ok(Application {
        collateral_value_vnd: discounted_collateral_vnd(&collateral)?,
        collateral,
        status: status_of(&m)?,
        documents: documents_of(&m)?,
        method: m
            .method
            .parse()
            .map_err(|_| AppError::unreadable("application", m.id, "method", &m.method))?,
        appraisal_recommendation: m
            .appraisal_recommendation
            .as_deref()
            .map(|r| {
                r.parse().map_err(|_| {
                    AppError::unreadable("application", m.id, "appraisal_recommendation", r)
                })
            })
            .transpose()?,
        council_approval_required: rules::council_required(
            m.amount_vnd,
            policy.council_approval_above_vnd,
        ),
        id: ApplicationId::new(m.id),
        number: m.number,
        cooperative_id: CooperativeId::new(m.cooperative_id),
        product_id: ProductId::new(m.product_id),
        amount_vnd: m.amount_vnd,
        installments: m.installments,
        period_months: m.period_months,
        principal_grace: m.principal_grace,
        purpose: m.purpose,
        project_total_vnd: m.project_total_vnd,
        own_capital_vnd: m.own_capital_vnd,
        no_bad_debt_declared: m.no_bad_debt_declared,
        created_by: m.created_by.map(UserId::new),
        appraised_by: m.appraised_by.map(UserId::new),
        appraisal_note: m.appraisal_note,
        approved_by: m.approved_by.map(UserId::new),
        council_approved_by: m.council_approved_by.map(UserId::new),
        decision_reason: m.decision_reason,
        submitted_at: m.submitted_at,
        decided_at: m.decided_at,
        loan_id: loan.as_ref().map(|(id, _)| LoanId::new(*id)),
        loan_number: loan.map(|(_, number)| number),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The read models of `rows` with two more queries (collateral, loans), not one per row.
async fn applications_of<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<application::Model>,
    policy: Policy,
) -> AppResult<Vec<Application>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let collateral = collateral_item::Entity::find()
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
            let mine: Vec<collateral_item::Model> = collateral
                .iter()
                .filter(|c| c.application_id == row.id)
                .cloned()
                .collect();
            let loan = loans
                .iter()
                .find(|l| l.application_id == row.id)
                .map(|l| (l.id, l.number.clone()));
            application_of(row, &mine, loan, policy)
        })
        .collect()
}

async fn application_one<C: ConnectionTrait>(
    conn: &C,
    row: application::Model,
    policy: Policy,
) -> AppResult<Application> {
    applications_of(conn, vec![row], policy)
        .await?
        .pop()
        .ok_or_else(not_found)
}

// ---------------------------------------------------------------------------------------------
// Loading, who may act, and the refusals every command shares

fn not_found() -> AppError {
    AppError::not_found("hồ sơ vay", "Loan application")
}

/// The application if the caller may see it: 404 otherwise, so another cooperative's
/// application is never revealed.
async fn find_for<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: ApplicationId,
) -> AppResult<application::Model> {
    let found = application::Entity::find_by_id(id.get())
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    if !caller.may_see_cooperative(found.cooperative_id) {
        return Err(not_found());
    }
    Ok(found)
}

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

/// Who the caller is to the application rules.
fn actor_of(caller: &Caller) -> Actor {
    match caller.role() {
        Role::Cooperative => Actor::Cooperative,
        Role::Officer => Actor::Officer,
        Role::Approver => Actor::Approver,
        Role::Admin | Role::Accountant | Role::Auditor => Actor::Other,
    }
}

/// 403 unless the caller's role may take `action` at all (checked before loading, so another
/// cooperative's application is never revealed by a 404 against a 403).
fn permit(caller: &Caller, action: Action) -> AppResult<()> {
    if action.permits(actor_of(caller)) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// The state `action` moves `current` to (409 when its state does not allow it).
fn move_to(caller: &Caller, current: &application::Model, action: Action) -> AppResult<Status> {
    rules::transition(status_of(current)?, action, actor_of(caller)).map_err(transition_error)
}

/// The 409 of an action the application's state does not allow; a 403 for a role that may never
/// take it.
fn transition_error(err: TransitionError) -> AppError {
    let (action, current) = match err {
        TransitionError::NotPermitted { .. } => return AppError::forbidden(),
        TransitionError::InvalidState { action, from } => (action, from.as_str()),
    };
    let (action_vi, action_en) = match action {
        Action::Edit => ("sửa", "edit"),
        Action::Submit => ("nộp", "submit"),
        Action::Appraise => ("thẩm định", "appraise"),
        Action::Approve { .. } => ("phê duyệt", "approve"),
        Action::Reject => ("từ chối", "reject"),
        Action::Withdraw => ("rút", "withdraw"),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_that_does_not_allow_the_action_is_a_409_naming_it() {
        let err = transition_error(TransitionError::InvalidState {
            action: Action::Approve {
                council_required: false,
            },
            from: Status::Draft,
        });
        assert_eq!(
            (err.code.as_str(), err.kind),
            ("invalid_state", ErrorKind::Conflict)
        );
        assert_eq!(
            err.message.vi,
            "Không thể phê duyệt hồ sơ đang ở trạng thái 'draft'."
        );
        assert_eq!(
            err.message.en,
            "Cannot approve an application in state 'draft'."
        );
    }

    #[test]
    fn a_role_that_may_never_take_the_action_is_a_403() {
        let err = transition_error(TransitionError::NotPermitted {
            action: Action::Appraise,
            actor: Actor::Cooperative,
        });
        assert_eq!(err.kind, ErrorKind::Forbidden);
    }
}
