//! The Decree 45/2021 checks as people read them: a cooperative's exposure against the 15% / 25%
//! limits of paid-in charter capital, and an application's checks (exposure and room, loan ≤ 80%
//! of the project, own capital ≥ 20%, rate caps) with what approval would decide now.
//!
//! Read-only, and never a second copy of a rule: the exposure is loaded by the one function the
//! approval uses (`exposure_of`), each check is the domain's ([`coopfund_domain::limits`]), and the
//! verdict is the domain's approval decision ([`coopfund_domain::application::approve`]) on the
//! same case the approval builds, its refusal worded by the approval's own messages. What the page
//! shows before a click is what the click would do (unless exposure changes in between: approval
//! checks again in its serialized transaction).

use coopfund_domain::{
    application::{self as rules, Decision, Status},
    ids::{ApplicationId, CooperativeId},
    limits::{self, Cap, Exposure, Rule},
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{applications, context::AppCtx, fund, products, Caller};
use crate::{
    auth::Role,
    error::{AppError, AppResult},
    store::{
        self,
        entities::{cooperative, loan},
    },
};

/// Who may read the checks: the fund's staff (a cooperative sees its own application's state,
/// not the fund's exposure figures).
const STAFF: [Role; 5] = Role::STAFF;

/// Loan statuses whose principal counts against the Decree 45 Art 23 limits.
const EXPOSED_LOAN_STATUSES: [&str; 3] = [
    coopfund_domain::LoanStatus::Approved.as_str(),
    coopfund_domain::LoanStatus::ContractSigned.as_str(),
    coopfund_domain::LoanStatus::Active.as_str(),
];

/// One check with its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Which rule (its stable code is [`Rule::code`]).
    pub rule: Rule,
    /// The percentage in the law (15, 25, 80 or 20).
    pub percent: i64,
    /// The limit in đồng: the most that may be owed or lent; for own capital, the least required.
    pub limit_vnd: i64,
    /// What counts against the limit before this loan; the loan itself for the project share;
    /// the own capital for the own-capital rule.
    pub current_vnd: i64,
    /// This loan (0 for a cooperative's exposure on its own).
    pub requested_vnd: i64,
    /// How much more the limit allows before this loan; for own capital, the shortfall.
    pub room_vnd: i64,
    /// What counts against the limit after this loan (`current_vnd + requested_vnd`).
    pub after_vnd: i64,
    /// Whether the rule holds.
    pub ok: bool,
}

impl Check {
    fn exposure(
        rule: Rule,
        percent: i64,
        charter_vnd: i64,
        current_vnd: i64,
        requested_vnd: i64,
    ) -> Check {
        let limit_vnd = limits::percent_of_floor(charter_vnd, percent);
        Check {
            rule,
            percent,
            limit_vnd,
            current_vnd,
            requested_vnd,
            room_vnd: limit_vnd.saturating_sub(current_vnd).max(0),
            after_vnd: current_vnd.saturating_add(requested_vnd),
            ok: limits::check_exposure(rule, percent, charter_vnd, current_vnd, requested_vnd)
                .is_ok(),
        }
    }
}

/// One rate against its legal cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCheck {
    /// Which cap.
    pub cap: Cap,
    /// The product's rate (percent per year; the overdue multiplier as a factor).
    pub value: Decimal,
    /// The legal maximum.
    pub max: Decimal,
    pub ok: bool,
}

/// A cooperative's exposure against the Decree 45/2021 Art 23 limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CooperativeExposure {
    /// The fund's paid-in charter capital.
    pub charter_capital_vnd: i64,
    /// Its own exposure against 15%.
    pub customer: Check,
    /// Its related group, when it has one, against 25%.
    pub related_group: Option<Check>,
    /// The name of that group.
    pub related_group_name: Option<String>,
}

/// An application's Decree 45 checks and what approval would decide now.
#[derive(Debug)]
pub struct ApplicationChecks {
    pub charter_capital_vnd: i64,
    /// Art 22: the loan ≤ 80% of the project.
    pub loan_share: Check,
    /// Art 22: own capital ≥ 20% of the project.
    pub own_capital: Check,
    /// Art 23: the customer ≤ 15% after this loan.
    pub single_customer: Check,
    /// Art 23: with related persons ≤ 25% after this loan.
    pub related_group: Option<Check>,
    pub related_group_name: Option<String>,
    /// Civil Code Art 466, 468: the product's rates within their caps.
    pub rates: Vec<RateCheck>,
    /// Art 20: the borrower's kind may borrow.
    pub borrower_eligible: bool,
    /// Art 22: no bad debt declared.
    pub no_bad_debt_declared: bool,
    /// Whether two approvals are needed, and above what amount.
    pub council_required: bool,
    pub council_approval_above_vnd: i64,
    /// Whether the application is still open to approval (not approved, rejected or withdrawn).
    pub open: bool,
    /// The refusal approval would give now (for an application not yet appraised: once it is);
    /// `None` when it would pass. The four-eyes rule is judged for the caller when an approver.
    pub refusal: Option<AppError>,
}

/// What one customer (or a group) owes or may still draw: outstanding principal plus approved
/// but not yet disbursed principal of loans approved, signed or active (Decree 45/2021 Art 23).
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

/// What counts against the Art 23 limits for `coop`: the one loading both the approval (in its
/// serialized transaction) and the pages use.
pub(crate) async fn exposure_of<C: ConnectionTrait>(
    conn: &C,
    coop: &cooperative::Model,
) -> AppResult<Exposure> {
    let related_group_vnd = match coop.related_group.as_deref() {
        Some(group) => {
            let related: Vec<i64> = cooperative::Entity::find()
                .select_only()
                .column(cooperative::Column::Id)
                .filter(cooperative::Column::RelatedGroup.eq(group))
                .into_tuple()
                .all(conn)
                .await?;
            Some(exposure_vnd(conn, related).await?)
        }
        None => None,
    };
    Ok(Exposure {
        charter_capital_vnd: fund::paid_in_charter_capital_vnd(conn).await?,
        customer_vnd: exposure_vnd(conn, vec![coop.id]).await?,
        related_group_vnd,
    })
}

fn exposure_checks(exposure: &Exposure, requested_vnd: i64) -> (Check, Option<Check>) {
    let charter = exposure.charter_capital_vnd;
    let customer = Check::exposure(
        Rule::SingleCustomer,
        limits::SINGLE_CUSTOMER_MAX_PERCENT,
        charter,
        exposure.customer_vnd,
        requested_vnd,
    );
    let group = exposure.related_group_vnd.map(|group_vnd| {
        Check::exposure(
            Rule::RelatedGroup,
            limits::RELATED_GROUP_MAX_PERCENT,
            charter,
            group_vnd,
            requested_vnd,
        )
    });
    (customer, group)
}

fn not_found() -> AppError {
    AppError::not_found("hợp tác xã", "Cooperative")
}

/// Decree 45/2021 Art 22 on a loan of `amount_vnd` for a project of `project_total_vnd` with
/// `own_capital_vnd` of the borrower's own: the loan ≤ 80% and own capital ≥ 20%, each with its
/// numbers. No database: what a form shows as one types, and the application page.
pub fn project_checks(
    amount_vnd: i64,
    project_total_vnd: i64,
    own_capital_vnd: i64,
) -> (Check, Check) {
    let share_limit_vnd =
        limits::percent_of_floor(project_total_vnd, limits::LOAN_SHARE_OF_PROJECT_MAX_PERCENT);
    let loan_share = Check {
        rule: Rule::ProjectShare,
        percent: limits::LOAN_SHARE_OF_PROJECT_MAX_PERCENT,
        limit_vnd: share_limit_vnd,
        current_vnd: amount_vnd,
        requested_vnd: 0,
        room_vnd: share_limit_vnd.saturating_sub(amount_vnd),
        after_vnd: amount_vnd,
        ok: limits::check_loan_share(amount_vnd, project_total_vnd).is_ok(),
    };
    let minimum_vnd = limits::own_capital_minimum_vnd(project_total_vnd);
    let own_capital = Check {
        rule: Rule::OwnCapital,
        percent: limits::OWN_CAPITAL_SHARE_MIN_PERCENT,
        limit_vnd: minimum_vnd,
        current_vnd: own_capital_vnd,
        requested_vnd: 0,
        room_vnd: minimum_vnd.saturating_sub(own_capital_vnd).max(0),
        after_vnd: own_capital_vnd,
        ok: limits::check_own_capital(amount_vnd, project_total_vnd, own_capital_vnd).is_ok(),
    };
    (loan_share, own_capital)
}

/// A cooperative's exposure and room against 15% / 25% of paid-in charter capital. Staff.
#[tracing::instrument(name = "cooperative exposure", skip_all, fields(cooperative_id = %id))]
pub async fn for_cooperative(
    ctx: &AppCtx,
    caller: &Caller,
    id: CooperativeId,
) -> AppResult<CooperativeExposure> {
    caller.require(&STAFF)?;
    let coop = cooperative::Entity::find_by_id(id.get())
        .one(&ctx.db)
        .await?
        .ok_or_else(not_found)?;
    let exposure = exposure_of(&ctx.db, &coop).await?;
    let (customer, related_group) = exposure_checks(&exposure, 0);
    Ok(CooperativeExposure {
        charter_capital_vnd: exposure.charter_capital_vnd,
        customer,
        related_group,
        related_group_name: coop.related_group,
    })
}

/// An application's Decree 45 checks, each with its numbers, and the refusal approval would give
/// now. Staff; another cooperative's application is a 404 as everywhere.
#[tracing::instrument(name = "application checks", skip_all, fields(application_id = %id))]
pub async fn for_application(
    ctx: &AppCtx,
    caller: &Caller,
    id: ApplicationId,
) -> AppResult<ApplicationChecks> {
    caller.require(&STAFF)?;
    let (row, coop, product, mut case) =
        applications::approval_case_for(&ctx.db, ctx, caller, id).await?;
    let exposure = case.exposure;
    let (single_customer, related_group) = exposure_checks(&exposure, row.amount_vnd);
    let (loan_share, own_capital) =
        project_checks(row.amount_vnd, row.project_total_vnd, row.own_capital_vnd);
    let rates_in_force = products::rates_of(&product);
    let rates = [
        (Cap::Rate, rates_in_force.rate_percent),
        (Cap::OverdueMultiplier, rates_in_force.overdue_multiplier),
        (Cap::LateRate, rates_in_force.late_rate_percent),
    ]
    .into_iter()
    .map(|(cap, value)| RateCheck {
        cap,
        value,
        max: cap.max(),
        ok: value <= cap.max(),
    })
    .collect();
    let status = case.status;
    let open = status.is_open();
    // Before appraisal, what approval would say once the application reaches the approver.
    if matches!(
        status,
        Status::Draft | Status::Submitted | Status::InAppraisal
    ) {
        case.status = Status::Appraised;
    }
    let approver = (caller.role() == Role::Approver)
        .then(|| caller.user_id())
        .flatten();
    let refusal = if open {
        match rules::approve(&case, approver) {
            Decision::Refused(refusal) => Some(applications::refusal_error(refusal)),
            Decision::Approved { .. } | Decision::AwaitingCouncil => None,
        }
    } else {
        None
    };
    Ok(ApplicationChecks {
        charter_capital_vnd: exposure.charter_capital_vnd,
        loan_share,
        own_capital,
        single_customer,
        related_group,
        related_group_name: coop.related_group,
        rates,
        borrower_eligible: case.borrower_eligible,
        no_bad_debt_declared: case.no_bad_debt_declared,
        council_required: rules::council_required(row.amount_vnd, case.council_approval_above_vnd),
        council_approval_above_vnd: case.council_approval_above_vnd,
        open,
        refusal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_checks_show_each_limit_with_its_numbers_and_hold_at_the_edge() {
        // 800 of 1 000 is exactly 80%; 200 own is exactly 20%: both hold.
        let (share, own) = project_checks(800_000_000, 1_000_000_000, 200_000_000);
        assert!(share.ok && own.ok);
        assert_eq!((share.limit_vnd, share.room_vnd), (800_000_000, 0));
        assert_eq!((own.limit_vnd, own.room_vnd), (200_000_000, 0));
        // One đồng more lent, one đồng less own: both refused, with the shortfall.
        let (share, own) = project_checks(800_000_001, 1_000_000_000, 199_999_999);
        assert!(!share.ok && !own.ok);
        assert_eq!(own.room_vnd, 1);
        assert_eq!(share.current_vnd, 800_000_001);
    }

    #[test]
    fn an_exposure_check_counts_this_loan_and_shows_the_room_before_it() {
        // 15% of 10 billion = 1.5 billion; 900 million owed; 800 million asked: 1.7 billion.
        let (customer, group) = exposure_checks(
            &Exposure {
                charter_capital_vnd: 10_000_000_000,
                customer_vnd: 900_000_000,
                related_group_vnd: Some(900_000_000),
            },
            800_000_000,
        );
        assert!(!customer.ok);
        assert_eq!(
            (customer.limit_vnd, customer.room_vnd, customer.after_vnd),
            (1_500_000_000, 600_000_000, 1_700_000_000)
        );
        // 25% is 2.5 billion: the group still has room.
        let group = group.expect("a related group");
        assert!(group.ok);
        assert_eq!(group.room_vnd, 1_600_000_000);
    }
}
