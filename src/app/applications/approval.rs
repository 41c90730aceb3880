//! Approval: the decision of the domain ([`coopfund_domain::application::approve`]) on
//! everything it needs, loaded in one serialized transaction, and the loan it creates
//! ([`NewLoan`]). A refusal writes nothing: the transaction is dropped before any write.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{
    application::{self as rules, Action, Decision, FourEyes, Refusal, Step},
    limits::{Breach, Rule},
    Language, Vnd,
};
use coopfund_domain::{
    ids::{ApplicationId, LoanId},
    LoanStatus,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    IntoActiveModel, NotSet, Set, Statement,
};
use serde::Serialize;

use super::{
    commands::{is_eligible, not_eligible, optional_reason, provisional_number, record_transition},
    find_for, load_product, not_found, permit, status_of, transition_error, Application, Policy,
    Status,
};
use crate::{
    app::{
        audit::{self, Audited},
        context::AppCtx,
        event_mail, fund,
        idempotency::{run_keyed, IdempotencyKey, Idempotent},
        lending_limits, products, Caller,
    },
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::{application, cooperative, loan, product},
};

/// The status of a loan approval has just created.
const APPROVED_LOAN_STATUS: &str = LoanStatus::Approved.as_str();
/// A fixed key for `pg_advisory_xact_lock`: approvals run one at a time on PostgreSQL.
const APPROVAL_LOCK_KEY: i64 = 0x636f_6f70_6170_7072; // "coopappr"

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

/// The 422 of an approval refused by the rules (the 409 of one whose state does not allow it).
pub(crate) fn refusal_error(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::Transition(err) => transition_error(err),
        Refusal::FourEyes(who) => four_eyes(who),
        Refusal::BorrowerNotEligible => not_eligible(),
        Refusal::BadDebtNotDeclared => AppError::new(
            ErrorKind::Rule,
            "bad_debt_not_declared",
            Localized::new(
                "Khách hàng chưa cam kết không có nợ xấu tại tổ chức tín dụng (Nghị định 45/2021 Điều 22).",
                "The borrower has not declared that it has no bad debt at any credit institution (Decree 45/2021 Art 22).",
            ),
        )
        .with_field("no_bad_debt_declared"),
        Refusal::RateCap(breach) => products::cap_error(breach),
        Refusal::Limit(breach) => breach_error(breach),
    }
}

/// The 422 of a four-eyes breach (DOMAIN.md §6).
fn four_eyes(who: FourEyes) -> AppError {
    let (vi, en) = match who {
        FourEyes::Creator => (
            "người lập hồ sơ không được phê duyệt hồ sơ của mình",
            "the creator of an application may not approve it",
        ),
        FourEyes::Appraiser => (
            "người thẩm định không được phê duyệt hồ sơ mình đã thẩm định",
            "the appraiser of an application may not approve it",
        ),
        FourEyes::FirstApprover => (
            "phê duyệt của Hội đồng quản lý phải do người khác với người phê duyệt lần đầu",
            "the management council's approval must come from an approver other than the first",
        ),
    };
    AppError::new(
        ErrorKind::Rule,
        "four_eyes_violation",
        Localized::new(
            format!("Nguyên tắc bốn mắt: {vi} (DOMAIN §6)."),
            format!("Four-eyes rule: {en} (DOMAIN §6)."),
        ),
    )
}

/// The 422 of a lending limit: the rule, the limit, the exposure and the room left, in both
/// languages (amounts as people write them).
pub fn breach_error(breach: Breach) -> AppError {
    let vi = |amount_vnd: i64| Vnd::from_i64(amount_vnd).for_people(Language::Vietnamese);
    let en = |amount_vnd: i64| Vnd::from_i64(amount_vnd).for_people(Language::English);
    let (limit_vi, limit_en) = (vi(breach.limit_vnd), en(breach.limit_vnd));
    let (exp_vi, exp_en) = (vi(breach.exposure_vnd), en(breach.exposure_vnd));
    let (room_vi, room_en) = (vi(breach.room_vnd), en(breach.room_vnd));
    let (req_vi, req_en) = (vi(breach.requested_vnd), en(breach.requested_vnd));
    let message = match breach.rule {
        Rule::ProjectShare => Localized::new(
            format!("Số tiền vay {req_vi} vượt 80% tổng vốn dự án (Nghị định 45/2021 Điều 22): tối đa được vay {limit_vi}."),
            format!("The loan of {req_en} exceeds 80% of the project's total capital (Decree 45/2021 Art 22): at most {limit_en} may be lent."),
        ),
        Rule::OwnCapital => Localized::new(
            format!("Vốn tự có {exp_vi} thấp hơn 20% tổng vốn dự án (Nghị định 45/2021 Điều 22): tối thiểu {limit_vi}, còn thiếu {room_vi}."),
            format!("Own capital of {exp_en} is below 20% of the project's total capital (Decree 45/2021 Art 22): minimum {limit_en}, short by {room_en}."),
        ),
        Rule::SingleCustomer => Localized::new(
            format!("Dư nợ của khách hàng sau khoản vay {req_vi} vượt giới hạn 15% vốn điều lệ thực có (Nghị định 45/2021 Điều 23): giới hạn {limit_vi}, dư nợ hiện tại {exp_vi}, còn được vay {room_vi}."),
            format!("The customer's exposure after this loan of {req_en} exceeds the limit of 15% of paid-in charter capital (Decree 45/2021 Art 23): limit {limit_en}, current exposure {exp_en}, room left {room_en}."),
        ),
        Rule::RelatedGroup => Localized::new(
            format!("Dư nợ của khách hàng và người có liên quan sau khoản vay {req_vi} vượt giới hạn 25% vốn điều lệ thực có (Nghị định 45/2021 Điều 23): giới hạn {limit_vi}, dư nợ hiện tại {exp_vi}, còn được vay {room_vi}."),
            format!("The exposure of the customer and its related persons after this loan of {req_en} exceeds the limit of 25% of paid-in charter capital (Decree 45/2021 Art 23): limit {limit_en}, current exposure {exp_en}, room left {room_en}."),
        ),
    };
    AppError::new(ErrorKind::Rule, breach.rule.code(), message).with_field(breach.rule.field())
}

/// Everything the approval decision needs, loaded in the approving transaction.
async fn approval_case<C: ConnectionTrait>(
    conn: &C,
    policy: Policy,
    app: &application::Model,
    coop: &cooperative::Model,
    product: &product::Model,
) -> AppResult<rules::ApprovalCase> {
    Ok(rules::ApprovalCase {
        status: status_of(app)?,
        amount_vnd: app.amount_vnd,
        project_total_vnd: app.project_total_vnd,
        own_capital_vnd: app.own_capital_vnd,
        no_bad_debt_declared: app.no_bad_debt_declared,
        borrower_eligible: is_eligible(coop),
        created_by: app.created_by,
        appraised_by: app.appraised_by,
        approved_by: app.approved_by,
        rates: products::rates_of(product),
        exposure: lending_limits::exposure_of(conn, coop).await?,
        council_approval_above_vnd: policy.council_approval_above_vnd,
    })
}

/// The case approval would decide on for application `id`, loaded outside any approval (the
/// checks shown on the application page, [`crate::app::lending_limits::for_application`]): the
/// same loading as [`approve`], without its lock. 404 for an application the caller may not see.
pub(crate) async fn approval_case_for<C: ConnectionTrait>(
    conn: &C,
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
) -> AppResult<(
    application::Model,
    cooperative::Model,
    product::Model,
    rules::ApprovalCase,
)> {
    let current = find_for(conn, caller, id).await?;
    let coop = cooperative::Entity::find_by_id(current.cooperative_id)
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    let product = load_product(conn, current.product_id).await?;
    let case = approval_case(conn, Policy::of(ctx), &current, &coop, &product).await?;
    Ok((current, coop, product, case))
}

/// The loan an approval creates, before it has an id and a number: the terms snapshot of the
/// application and its product. The one place the approved loan row is built (approval, the bulk
/// demo).
#[derive(Debug, Clone, PartialEq)]
pub struct NewLoan<'a> {
    /// The application approved: the borrower, the amount, the method, installments, period and grace.
    application: &'a application::Model,
    /// Its product: the rate, day count, rounding, overdue and late rates, allocation and prepayment rules.
    product: &'a product::Model,
    /// The cooperative's officer; when none is assigned, the officer who appraised it.
    officer_id: Option<i64>,
    /// Σ appraised × (1 − discount%) of the application's collateral.
    collateral_value_vnd: i64,
}

impl<'a> NewLoan<'a> {
    /// The application's amount and terms with the product's rates and rules, as they are at
    /// approval (later product changes do not reach the loan). No collateral value and the
    /// appraiser as officer until [`NewLoan::officer`] and [`NewLoan::collateral_value_vnd`] say
    /// otherwise.
    pub fn from_approval(
        application: &'a application::Model,
        product: &'a product::Model,
    ) -> NewLoan<'a> {
        NewLoan {
            application,
            product,
            officer_id: application.appraised_by,
            collateral_value_vnd: 0,
        }
    }

    /// The cooperative's officer, when it has one (the appraiser otherwise).
    pub fn officer(self, cooperative_officer_id: Option<i64>) -> NewLoan<'a> {
        NewLoan {
            officer_id: cooperative_officer_id.or(self.officer_id),
            ..self
        }
    }

    /// The discounted value of the application's collateral.
    pub fn collateral_value_vnd(self, collateral_value_vnd: i64) -> NewLoan<'a> {
        NewLoan {
            collateral_value_vnd,
            ..self
        }
    }

    /// The row as approval leaves it: status `approved`, nothing signed or disbursed, every
    /// balance 0, group 1, version 1.
    pub fn into_model(self, id: i64, number: String, at: DateTime<Utc>) -> loan::Model {
        let (app, product) = (self.application, self.product);
        loan::Model {
            id,
            number,
            application_id: app.id,
            cooperative_id: app.cooperative_id,
            product_id: app.product_id,
            officer_id: self.officer_id,
            principal_vnd: app.amount_vnd,
            rate_percent: product.rate_percent,
            method: app.method.clone(),
            installments: app.installments,
            period_months: app.period_months,
            principal_grace: app.principal_grace,
            day_count: product.day_count.clone(),
            installment_unit_vnd: product.installment_unit_vnd,
            first_due_on: None,
            overdue_multiplier: product.overdue_multiplier,
            late_rate_percent: product.late_rate_percent,
            allocation_order: product.allocation_order.clone(),
            prepayment_rule: product.prepayment_rule.clone(),
            collateral_value_vnd: self.collateral_value_vnd,
            status: APPROVED_LOAN_STATUS.into(),
            contract_number: None,
            signed_on: None,
            first_disbursed_on: None,
            closed_on: None,
            disbursed_vnd: 0,
            in_term_principal_vnd: 0,
            overdue_principal_vnd: 0,
            advance_vnd: 0,
            dpd: 0,
            debt_group: 1,
            restructure_count: 0,
            balances_as_of: None,
            balances_cached_by_command: false,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }
}

/// Inserts the loan approval creates ([`NewLoan`]) and numbers it `HTX-{year}-{id:06}` in the
/// same transaction.
async fn create_loan(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    app: &application::Model,
    coop: &cooperative::Model,
    product: &product::Model,
    collateral_value_vnd: i64,
    business_date: NaiveDate,
) -> AppResult<loan::Model> {
    let row = NewLoan::from_approval(app, product)
        .officer(coop.officer_id)
        .collateral_value_vnd(collateral_value_vnd)
        .into_model(0, provisional_number(), ctx.now());
    let mut active = row.into_active_model().reset_all();
    active.id = NotSet;
    let inserted = active.insert(txn).await?;
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
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    reason: Option<String>,
) -> AppResult<Application> {
    approve_keyed(ctx, caller, id, reason, None)
        .await?
        .fresh()
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "an approval without a key is never a replay"
            ))
        })
}

/// [`approve`] as a keyed command ([`run_keyed`]): approval creates a loan, so with an
/// `Idempotency-Key` a retry returns the first response (API.md) instead of a 409 for the changed
/// state. A refusal rolls back: nothing is written.
#[tracing::instrument(name = "approve an application", skip_all, fields(application_id = id.get()))]
pub async fn approve_keyed(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    reason: Option<String>,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<Application>> {
    permit(
        caller,
        Action::Approve {
            council_required: false,
        },
    )?;
    let reason = optional_reason(reason.as_deref())?;
    // The unit of work owns what it uses (its future outlives no borrow).
    let (owned_ctx, owned_caller) = (ctx.clone(), caller.clone());
    let operation = format!("application.approve:{id}");
    run_keyed(ctx, caller, &operation, key, move |txn| {
        Box::pin(async move {
            serialize_approvals(txn).await?;
            approve_in(txn, &owned_ctx, &owned_caller, id, reason).await
        })
    })
    .await
}

/// The approval inside its transaction: load, decide, store, audit, mail.
async fn approve_in(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
    reason: Option<String>,
) -> AppResult<Application> {
    let policy = Policy::of(ctx);
    let current = find_for(txn, caller, id).await?;
    let coop = cooperative::Entity::find_by_id(current.cooperative_id)
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let product = load_product(txn, current.product_id).await?;
    let case = approval_case(txn, policy, &current, &coop, &product).await?;
    let (to, step) = match rules::approve(&case, caller.user_id()) {
        Decision::Refused(refusal) => return Err(refusal_error(refusal)),
        Decision::Approved { step } => (Status::Approved, step),
        Decision::AwaitingCouncil => (Status::AwaitingCouncil, Step::First),
    };
    let mut active = current.clone().into_active_model();
    match step {
        Step::First => active.approved_by = Set(caller.user_id()),
        Step::Council => active.council_approved_by = Set(caller.user_id()),
    }
    active.status = Set(to.as_str().into());
    let completes = to == Status::Approved;
    if completes {
        active.decided_at = Set(Some(ctx.now()));
        if reason.is_some() {
            active.decision_reason = Set(reason.clone());
        }
    }
    let action = match step {
        Step::First => "application.approve",
        Step::Council => "application.council_approve",
    };
    let mut view = record_transition(
        txn,
        ctx,
        caller,
        &current,
        active,
        action,
        reason.as_deref(),
    )
    .await?;
    if completes {
        let business_date = fund::business_date(txn).await?;
        let created = create_loan(
            txn,
            ctx,
            &current,
            &coop,
            &product,
            view.collateral_value_vnd,
            business_date,
        )
        .await?;
        audit::created(
            txn,
            ctx,
            caller,
            "loan.create",
            &LoanCreated {
                id: created.id,
                number: &created.number,
                application_id: current.id,
                principal_vnd: created.principal_vnd,
            },
        )
        .await?;
        // DOMAIN.md §10: the decision is mailed once it is final (after the council, when needed).
        event_mail::application_approved(txn, &ctx.settings, &current, &created, business_date)
            .await?;
        view.loan_id = Some(LoanId::new(created.id));
        view.loan_number = Some(created.number);
    }
    Ok(view)
}

/// The audit record of a loan created by approval.
#[derive(Serialize)]
struct LoanCreated<'a> {
    id: i64,
    number: &'a str,
    application_id: i64,
    principal_vnd: i64,
}

impl Audited for LoanCreated<'_> {
    const ENTITY_TYPE: &'static str = "loan";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_refusal_names_limit_exposure_and_room_in_both_languages() {
        let breach = coopfund_domain::limits::check_exposure(
            Rule::SingleCustomer,
            coopfund_domain::limits::SINGLE_CUSTOMER_MAX_PERCENT,
            10_000_000_000,
            1_200_000_000,
            500_000_000,
        )
        .unwrap_err();
        let err = breach_error(breach);
        assert_eq!(err.code, "single_customer_limit_exceeded");
        assert_eq!(err.field.as_deref(), Some("amount_vnd"));
        assert_eq!(
            err.message.vi,
            "Dư nợ của khách hàng sau khoản vay 500.000.000 đồng vượt giới hạn 15% vốn điều lệ thực có (Nghị định 45/2021 Điều 23): giới hạn 1.500.000.000 đồng, dư nợ hiện tại 1.200.000.000 đồng, còn được vay 300.000.000 đồng."
        );
        assert_eq!(
            err.message.en,
            "The customer's exposure after this loan of 500,000,000 VND exceeds the limit of 15% of paid-in charter capital (Decree 45/2021 Art 23): limit 1,500,000,000 VND, current exposure 1,200,000,000 VND, room left 300,000,000 VND."
        );
    }
}
