//! The portfolio report (DOMAIN.md §8, API.md `GET /api/v1/reports/portfolio?date=`): outstanding
//! principal by debt group, the provisions held, and the bad-debt ratio (Decree 45/2021 Art 45: groups
//! 3 + 4 + 5 over the total).
//!
//! Set-based: one grouped query over the loans' cached balances (written by every money command and by
//! each close of business, checked by `ledger verify`) and grouped sums over the journal. The principal
//! by group is therefore as of the loans' cached as-of date (the business date after a close:
//! `ledger::effective_balances_as_of`, a close leaves unchanged loans unwritten); the
//! provisions are what the books hold on 22931 and 22932 through `date` (posted at month-end closes).
//! The general provision the rules require today (0.5% of groups 1-4) is shown next to the one held, so a
//! reader sees what the next month-end close will post.

use coopfund_domain::LoanStatus;
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use coopfund_domain::{
    classification::DebtGroup, portfolio_summary, Account, AccountBalances, PortfolioSummary, Vnd,
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{
    context::AppCtx,
    fund,
    ledger::{cached_group, posted_sums, BookQuery, LoanScope, READERS},
    loan_engine::kind,
    Caller,
};
use crate::{
    error::{AppError, AppResult, Reason},
    store::{
        entities::{loan, loan_transaction},
        sum_vnd,
    },
};

/// Loan statuses whose principal is outstanding.
const OPEN_STATUSES: [&str; 1] = [LoanStatus::Active.as_str()];

/// The outstanding principal of one debt group.
#[derive(Debug, Clone)]
pub struct GroupPrincipal {
    /// The debt group.
    pub group: DebtGroup,
    /// Open loans in it.
    pub loans: i64,
    /// Their outstanding principal (in term + overdue).
    pub principal: Vnd,
}

/// Outstanding principal (in term + overdue) of open loans by cached debt group: one grouped query.
pub async fn principal_by_group<C: ConnectionTrait>(conn: &C) -> AppResult<Vec<GroupPrincipal>> {
    let rows: Vec<(i32, i64, i64)> = loan::Entity::find()
        .select_only()
        .column(loan::Column::DebtGroup)
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "loans")
        .column_as(
            sum_vnd("in_term_principal_vnd + overdue_principal_vnd"),
            "principal",
        )
        .filter(loan::Column::Status.is_in(OPEN_STATUSES))
        .group_by(loan::Column::DebtGroup)
        .into_tuple()
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|(group, loans, principal)| {
            let group = u8::try_from(group)
                .ok()
                .and_then(DebtGroup::from_number)
                .ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("a loan has debt group {group}"))
                })?;
            Ok(GroupPrincipal {
                group,
                loans,
                principal: Vnd::from_i64(principal),
            })
        })
        .collect()
}

/// The portfolio-level book: lines without a loan (the general provision, Dr 6426 / Cr 22932), as net
/// debits on 22932 and 6426.
pub async fn portfolio_level_book<C: ConnectionTrait>(conn: &C) -> AppResult<AccountBalances> {
    let accounts = [
        Account::GeneralProvision.code(),
        Account::ProvisionExpense.code(),
    ];
    let query = BookQuery {
        loans: LoanScope::PortfolioLevel,
        ..BookQuery::per_account().on(&accounts)
    };
    let mut book = AccountBalances::new();
    for sum in posted_sums(conn, &query).await? {
        book.add(sum.account()?, sum.net_debit());
    }
    Ok(book)
}

/// A ratio as a percentage to 2 decimals (`0.0325` → `3.25`).
fn percent_2dp(ratio: Decimal) -> Decimal {
    let mut percent = (ratio * Decimal::ONE_HUNDRED).round_dp(2);
    percent.rescale(2);
    percent
}

/// The portfolio on a date.
#[derive(Debug, Clone)]
pub struct Portfolio {
    /// Provisions posted on or before it count.
    pub date: NaiveDate,
    /// Outstanding principal by group, the bad debt and the general provision required now.
    pub summary: PortfolioSummary,
    /// Open loans in groups 1 to 5.
    pub loans_by_group: [i64; 5],
    /// The specific provision held on 22931 for the loans now in groups 1 to 5. A loan closed since the
    /// last month end still holds its provision until that month end's close releases it; it counts in
    /// the group it was closed in.
    pub specific_provision_by_group: [Vnd; 5],
    /// The credit balance of 22932 through `date`.
    pub general_provision: Vnd,
    /// Written-off loans under follow-up and recoveries (Decree 45/2021 Art 29).
    pub written_off: WrittenOff,
}

impl Portfolio {
    /// The credit balance of 22931 through `date`.
    pub fn specific_provision(&self) -> Vnd {
        self.specific_provision_by_group.iter().copied().sum()
    }

    /// Bad debt / total × 100, to 2 decimals (Decree 45/2021 Art 45); `None` on an empty portfolio.
    pub fn bad_debt_ratio_percent(&self) -> Option<Decimal> {
        self.summary.bad_debt_ratio.map(percent_2dp)
    }
}

/// Outstanding by debt group, provisions and the bad-debt ratio on `date` (default: the business
/// date), the recoveries counted from `from` (default: 1 January of `date`'s year). Staff (everyone
/// but cooperatives).
#[tracing::instrument(skip_all, fields(date = ?date, from = ?from))]
pub async fn portfolio(
    ctx: &AppCtx,
    caller: &Caller,
    date: Option<NaiveDate>,
    from: Option<NaiveDate>,
) -> AppResult<Portfolio> {
    caller.require(&READERS)?;
    let conn = &ctx.db;
    let date = match date {
        Some(date) => date,
        None => fund::business_date(conn).await?,
    };
    let by_group = principal_by_group(conn).await?;
    let summary = portfolio_summary(
        by_group.iter().map(|g| (g.group, g.principal)),
        &ctx.policy.provision_rates,
    );
    let mut loans_by_group = [0i64; 5];
    for g in &by_group {
        loans_by_group[usize::from(g.group.number()) - 1] += g.loans;
    }
    let accounts = [
        Account::SpecificProvision.code(),
        Account::GeneralProvision.code(),
    ];
    let provisions = posted_sums(
        conn,
        &BookQuery::per_loan(LoanScope::All)
            .on(&accounts)
            .dated(None, Some(date)),
    )
    .await?;
    let loan_groups: BTreeMap<i64, i32> = loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .column(loan::Column::DebtGroup)
        .filter(loan::Column::Id.is_in(provisions.iter().filter_map(|p| p.loan_id)))
        .into_tuple::<(i64, i32)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut specific_provision_by_group = [Vnd::ZERO; 5];
    let mut general_provision = Vnd::ZERO;
    for held in &provisions {
        if held.account()? == Account::GeneralProvision {
            general_provision += held.net_credit();
            continue;
        }
        // 22931 is held per loan (DOMAIN.md §9: posted in the loan's own entries); a line without a loan or
        // a loan without a valid group is a corrupt book, named, not counted in some group by default.
        let Some(loan_id) = held.loan_id else {
            return Err(AppError::internal(anyhow::anyhow!(
                "specific provision (22931) lines without a loan hold {}",
                held.net_credit()
            )));
        };
        let stored = loan_groups.get(&loan_id).copied().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "loan {loan_id} holds a specific provision but is not stored"
            ))
        })?;
        let group = cached_group(loan_id, stored)?;
        specific_provision_by_group[usize::from(group.number()) - 1] += held.net_credit();
    }
    Ok(Portfolio {
        date,
        summary,
        loans_by_group,
        specific_provision_by_group,
        general_provision,
        written_off: written_off(conn, from, date).await?,
    })
}

/// Written-off loans under follow-up on `date` and recoveries over `[recoveries_from, date]`.
#[derive(Debug, Clone)]
pub struct WrittenOff {
    /// Loans whose memo 0042 balance is positive on `date`.
    pub loans_under_follow_up: i64,
    /// Σ memo 0042 on `date`: written-off principal not yet recovered.
    pub principal_under_follow_up: Vnd,
    /// The first day of the recoveries' period.
    pub recoveries_from: NaiveDate,
    /// Money recovered (principal and interest) with value dates in the period, reversals excluded.
    pub recoveries_in_period: Vnd,
    /// Written-off principal recovered in the period (711 credited by entries dated in it).
    pub recovered_principal_in_period: Vnd,
    /// Written-off principal ever recovered through `date` (711).
    pub recovered_principal_ever: Vnd,
}

impl WrittenOff {
    /// Principal recovered / principal ever written off, × 100 to 2 decimals, through `date`
    /// (711 / (711 + 0042)); `None` when nothing was written off.
    pub fn recovery_rate_percent(&self) -> Option<Decimal> {
        let written_off_ever = self.principal_under_follow_up + self.recovered_principal_ever;
        written_off_ever.is_positive().then(|| {
            let mut percent = (self.recovered_principal_ever.as_decimal() * Decimal::ONE_HUNDRED
                / written_off_ever.as_decimal())
            .round_dp(2);
            percent.rescale(2);
            percent
        })
    }
}

/// The first day of the recoveries' period of a report for `date`: `from`, by default 1 January of
/// `date`'s year; a `from` after `date` is refused (400 naming `from`).
pub(crate) fn recoveries_from(from: Option<NaiveDate>, date: NaiveDate) -> AppResult<NaiveDate> {
    let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date));
    if from > date {
        return Err(AppError::invalid(
            "from",
            Reason::OutOfRange {
                min: "2000-01-01".into(),
                max: date.to_string(),
            },
        ));
    }
    Ok(from)
}

/// The written-off block of the portfolio report for `date`, the recoveries' period starting `from`
/// (default 1 January of `date`'s year), all from the journal (posted by difference, so it equals the
/// loans' books): memo 0042 per loan for what is under follow-up, 711 for principal recovered, and the
/// recovery transactions (reversed ones left out) for the money recovered in the period.
async fn written_off<C: ConnectionTrait>(
    conn: &C,
    from: Option<NaiveDate>,
    date: NaiveDate,
) -> AppResult<WrittenOff> {
    let from = recoveries_from(from, date)?;
    let (memo, income) = (
        Account::MemoWrittenOffLoans.code(),
        Account::OtherIncome.code(),
    );
    let (mut loans, mut under, mut recovered_ever) = (0i64, Vnd::ZERO, Vnd::ZERO);
    let (both, income_only) = ([memo, income], [income]);
    let through_date = BookQuery::per_loan(LoanScope::All)
        .on(&both)
        .dated(None, Some(date));
    for sum in posted_sums(conn, &through_date).await? {
        if sum.account_code == memo && sum.net_debit().is_positive() {
            loans += 1;
            under += sum.net_debit();
        } else if sum.account_code == income {
            recovered_ever += sum.net_credit();
        }
    }
    let in_period = BookQuery::per_loan(LoanScope::All)
        .on(&income_only)
        .dated(Some(from), Some(date));
    let recovered_principal_in_period = posted_sums(conn, &in_period)
        .await?
        .iter()
        .map(|sum| sum.net_credit())
        .sum();
    let reversed = sea_orm::sea_query::Query::select()
        .column(loan_transaction::Column::ReversesId)
        .from(loan_transaction::Entity)
        .and_where(loan_transaction::Column::ReversesId.is_not_null())
        .to_owned();
    let recoveries: Option<i64> = loan_transaction::Entity::find()
        .select_only()
        .column_as(sum_vnd("amount_vnd"), "recovered")
        .filter(loan_transaction::Column::Kind.eq(kind::RECOVERY))
        .filter(loan_transaction::Column::ValueDate.gte(from))
        .filter(loan_transaction::Column::ValueDate.lte(date))
        .filter(loan_transaction::Column::Id.not_in_subquery(reversed))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(WrittenOff {
        loans_under_follow_up: loans,
        principal_under_follow_up: under,
        recoveries_from: from,
        // SUM over no rows is 0 (`sum_vnd` coalesces); an aggregate always returns its one row.
        recoveries_in_period: Vnd::from_i64(recoveries.unwrap_or(0)),
        recovered_principal_in_period,
        recovered_principal_ever: recovered_ever,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written_off(under: i64, recovered_ever: i64) -> WrittenOff {
        WrittenOff {
            loans_under_follow_up: 1,
            principal_under_follow_up: Vnd::from_i64(under),
            recoveries_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            recoveries_in_period: Vnd::ZERO,
            recovered_principal_in_period: Vnd::ZERO,
            recovered_principal_ever: Vnd::from_i64(recovered_ever),
        }
    }

    #[test]
    fn the_recovery_rate_is_recovered_over_ever_written_off_to_two_decimals() {
        let rate = written_off(2_000_000, 1_000_000).recovery_rate_percent();
        assert_eq!(rate.map(|r| r.to_string()).as_deref(), Some("33.33"));
        let whole = written_off(0, 5_000_000).recovery_rate_percent();
        assert_eq!(whole.map(|r| r.to_string()).as_deref(), Some("100.00"));
    }

    #[test]
    fn nothing_written_off_has_no_recovery_rate() {
        assert_eq!(written_off(0, 0).recovery_rate_percent(), None);
    }

    #[test]
    fn a_ratio_is_shown_as_a_percentage_with_two_decimals() {
        assert_eq!(percent_2dp(Decimal::new(325, 4)).to_string(), "3.25");
        assert_eq!(percent_2dp(Decimal::ONE).to_string(), "100.00");
        assert_eq!(percent_2dp(Decimal::new(1, 3)).to_string(), "0.10");
    }
}
