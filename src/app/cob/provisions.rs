//! Provisions at month end (module docs of [`super`], DOMAIN.md §8): each open loan's specific provision
//! in its own close-of-business entry, the release of what finished loans still hold, and the portfolio's
//! general provision.

use chrono::{Datelike, Duration, NaiveDate};
use coopfund_domain::{
    classification::{DebtGroup, ProvisionRates},
    LoanStatus,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

use crate::{
    app::{
        chains::ChainHeads,
        context::AppCtx,
        ledger::{self, BookQuery, LoanScope, Posting, Provision},
        policy::Policy,
        Caller,
    },
    error::{AppError, AppResult},
    store::entities::{journal_entry, loan},
};

/// The specific provision a close of `date` posts for a loan: set at a month end (DOMAIN.md §8) with the
/// rates of `policy`, kept on every other day.
pub(crate) fn provision_on(
    policy: &Policy,
    date: NaiveDate,
    loan: &loan::Model,
    state: &coopfund_domain::LoanState,
    group: DebtGroup,
) -> Provision {
    if is_month_end(date) {
        month_end_provision(&policy.provision_rates, loan, state, group)
    } else {
        Provision::Keep
    }
}

/// True when `date` is the last day of its month: its close posts the provisions (DOMAIN.md §8,
/// microfinance institutions classify monthly).
pub fn is_month_end(date: NaiveDate) -> bool {
    (date + Duration::days(1)).day() == 1
}

/// DOMAIN.md §8 (Decree 86/2024 rates): specific provision = rate(group) × max(0, outstanding principal −
/// discounted collateral value), the collateral as discounted at approval (`loans.collateral_value_vnd`).
fn month_end_provision(
    rates: &ProvisionRates,
    loan: &loan::Model,
    state: &coopfund_domain::LoanState,
    group: DebtGroup,
) -> Provision {
    let outstanding = state.in_term_principal + state.overdue_principal;
    let collateral = coopfund_domain::Vnd::from_i64(loan.collateral_value_vnd);
    Provision::Set(coopfund_domain::specific_provision(
        group,
        outstanding,
        collateral,
        rates,
    ))
}

/// The month-end release of the specific provision of loans that are no longer open (module docs):
/// every closed or written-off loan whose subledger still holds a balance on 22931 gets the entry that
/// moves its book to a provision of 0 (posted by difference like every close-of-business entry, under
/// the loan's `cob:{loan}:{date}` key, which the open-loan close never uses for a finished loan). In one
/// transaction; a rerun finds nothing left to release. Returns the number of entries posted.
#[tracing::instrument(skip_all, fields(%date))]
pub(super) async fn release_finished_provisions(
    ctx: &AppCtx,
    caller: &Caller,
    date: NaiveDate,
) -> AppResult<i32> {
    let _gate = ctx.writer.enter(&ctx.db).await;
    let txn = ctx.db.begin().await?;
    let specific_provision = [coopfund_domain::Account::SpecificProvision.code()];
    let holding = ledger::posted_sums(
        &txn,
        &BookQuery::per_loan(LoanScope::LoansInStatus(&LoanStatus::FINISHED))
            .on(&specific_provision),
    )
    .await?;
    let mut posted_entries = 0;
    let calendar = crate::app::calendar::in_force(&txn).await?;
    // Every entry of the release linked in memory, the journal's head moved once before the commit.
    let mut heads = ChainHeads::new();
    for sum in holding {
        if sum.net_debit().is_zero() {
            continue;
        }
        let loan_id = sum.loan_id.ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("a loan's provision line has no loan"))
        })?;
        let loan = crate::app::loans::lock_loan(&txn, loan_id).await?;
        if !crate::app::loan_engine::status_of(&loan)?.is_finished() {
            // Reopened (its payoff reversed): the open-loan close set its provision.
            continue;
        }
        let group = ledger::cached_group(loan_id, loan.debt_group)?;
        let transactions = crate::app::loan_engine::transactions_of(&txn, loan_id).await?;
        let loan_state =
            ledger::fold_loan(&loan, &transactions, &calendar, date + Duration::days(1))?;
        let posting = Posting::close_of_business(loan_id, date, ctx.now());
        let posted = ledger::posted_book(&txn, loan_id).await?;
        let entry = ledger::post_loan_difference(
            &txn,
            &mut heads,
            caller,
            &loan,
            &loan_state,
            group,
            &posting,
            Provision::Set(coopfund_domain::Vnd::ZERO),
            &posted,
        )
        .await?;
        posted_entries += i32::from(entry.is_some());
    }
    heads.finish(&txn).await?;
    txn.commit().await?;
    Ok(posted_entries)
}

/// Posts the portfolio's general provision at a month-end close (DOMAIN.md §8: 0.5% of the outstanding
/// principal of groups 1-4), by difference against what 22932 holds: one entry without `loan_id`, Dr 6426 /
/// Cr 22932 or the reverse, business key `cob:general_provision:{date}` (a rerun finds no difference, or
/// the key). Reads the balances COB just cached on every open loan. Returns whether an entry was posted.
#[tracing::instrument(skip_all, fields(%date))]
pub(super) async fn post_general_provision(
    ctx: &AppCtx,
    caller: &Caller,
    date: NaiveDate,
) -> AppResult<bool> {
    let _gate = ctx.writer.enter(&ctx.db).await;
    let txn = ctx.db.begin().await?;
    let posting = Posting::general_provision(date, ctx.now());
    let already = journal_entry::Entity::find()
        .filter(journal_entry::Column::BusinessKey.eq(posting.business_key.clone()))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Ok(false);
    }
    let by_group = crate::app::reports::principal_by_group(&txn).await?;
    let summary = coopfund_domain::portfolio_summary(
        by_group.iter().map(|g| (g.group, g.principal)),
        &ctx.policy.provision_rates,
    );
    let target = coopfund_domain::general_provision_book(summary.general_provision);
    let posted = crate::app::reports::portfolio_level_book(&txn).await?;
    let entry = coopfund_domain::entry_for_difference(&target, &posted).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "the general provision book does not balance: {e}"
        ))
    })?;
    let Some(entry) = entry else { return Ok(false) };
    ledger::post_entry(&txn, caller, None, &entry, &posting).await?;
    txn.commit().await?;
    Ok(true)
}
