//! The portfolio report (DOMAIN.md §8, API.md `GET /api/v1/reports/portfolio?date=`): outstanding
//! principal by debt group, the provisions held, and the bad-debt ratio (Decree 45/2021 Art 45: groups
//! 3 + 4 + 5 over the total).
//!
//! Set-based: one grouped query over the loans' cached balances (written by every money command and by
//! each close of business, checked by `ledger verify`) and grouped sums over the journal. The principal
//! by group is therefore as of the loans' `balances_as_of` (the business date after a close); the
//! provisions are what the books hold on 22931 and 22932 through `date` (posted at month-end closes).
//! The general provision the rules require today (0.5% of groups 1-4) is shown next to the one held, so a
//! reader sees what the next month-end close will post.

use chrono::NaiveDate;
use coopfund_domain::{
    classification::DebtGroup, portfolio_summary, Account, AccountBalances, Vnd,
};
use rust_decimal::Decimal;
use sea_orm::{
    sea_query::Query, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{fund, ledger::READERS, Caller};
use crate::{
    error::{AppError, AppResult},
    store::{
        entities::{journal_entry, journal_line, loan},
        sum_vnd,
    },
};

/// Loan statuses whose principal is outstanding.
const OPEN_STATUSES: [&str; 1] = ["active"];

/// The outstanding principal of one debt group.
#[derive(Debug, Clone)]
pub struct GroupPrincipal {
    pub group: DebtGroup,
    pub loans: i64,
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
    let rows: Vec<(String, i64, i64)> = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::AccountCode)
        .column_as(sum_vnd("debit_vnd"), "debits")
        .column_as(sum_vnd("credit_vnd"), "credits")
        .filter(journal_line::Column::LoanId.is_null())
        .filter(journal_line::Column::AccountCode.is_in([
            Account::GeneralProvision.code(),
            Account::ProvisionExpense.code(),
        ]))
        .group_by(journal_line::Column::AccountCode)
        .into_tuple()
        .all(conn)
        .await?;
    let mut book = AccountBalances::new();
    for (code, debits, credits) in rows {
        if let Some(account) = Account::from_code(&code) {
            book.add(account, Vnd::from_i64(debits) - Vnd::from_i64(credits));
        }
    }
    Ok(book)
}

/// `?date=` (default: the business date).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PortfolioQuery {
    /// YYYY-MM-DD: provisions posted on or before it count.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// One debt group of the portfolio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupLine {
    /// 1 (standard) to 5 (loss).
    pub debt_group: u8,
    pub loans: i64,
    pub outstanding_principal_vnd: i64,
    /// The specific provision held on 22931 for the loans now in this group.
    pub specific_provision_vnd: i64,
}

/// `GET /api/v1/reports/portfolio`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioReport {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Groups 1 to 5, each present.
    pub groups: Vec<GroupLine>,
    pub total_outstanding_principal_vnd: i64,
    /// Groups 3 + 4 + 5.
    pub bad_debt_principal_vnd: i64,
    /// Bad debt / total × 100, to 2 decimals (Decree 45/2021 Art 45); null on an empty portfolio.
    #[schema(value_type = Option<String>)]
    pub bad_debt_ratio_percent: Option<Decimal>,
    /// The credit balance of 22931 through `date`.
    pub specific_provision_vnd: i64,
    /// The credit balance of 22932 through `date`.
    pub general_provision_vnd: i64,
    /// 0.5% of groups 1-4 now (what the next month-end close will hold on 22932).
    pub general_provision_required_vnd: i64,
}

fn to_i64(amount: Vnd) -> i64 {
    amount.to_i64().unwrap_or(i64::MAX)
}

/// Credit balances of 22931 per loan (and 22932 overall) through `date`.
async fn provisions_through<C: ConnectionTrait>(
    conn: &C,
    date: NaiveDate,
) -> AppResult<Vec<(Option<i64>, String, i64)>> {
    let rows: Vec<(Option<i64>, String, i64, i64)> = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::LoanId)
        .column(journal_line::Column::AccountCode)
        .column_as(sum_vnd("debit_vnd"), "debits")
        .column_as(sum_vnd("credit_vnd"), "credits")
        .filter(journal_line::Column::AccountCode.is_in([
            Account::SpecificProvision.code(),
            Account::GeneralProvision.code(),
        ]))
        .filter(
            journal_line::Column::EntryId.in_subquery(
                Query::select()
                    .column(journal_entry::Column::Id)
                    .from(journal_entry::Entity)
                    .and_where(journal_entry::Column::EntryDate.lte(date))
                    .to_owned(),
            ),
        )
        .group_by(journal_line::Column::LoanId)
        .group_by(journal_line::Column::AccountCode)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(loan_id, code, debits, credits)| (loan_id, code, credits - debits))
        .collect())
}

/// Outstanding by debt group, provisions and the bad-debt ratio. Staff (everyone but cooperatives).
pub async fn portfolio<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    query: PortfolioQuery,
) -> AppResult<PortfolioReport> {
    caller.require(&READERS)?;
    let date = match query.date {
        Some(date) => date,
        None => fund::business_date(conn).await?,
    };
    let by_group = principal_by_group(conn).await?;
    let rates = super::policy::current().provision_rates.clone();
    let summary = portfolio_summary(by_group.iter().map(|g| (g.group, g.principal)), &rates);
    let provisions = provisions_through(conn, date).await?;
    let loan_groups: std::collections::BTreeMap<i64, i32> = loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .column(loan::Column::DebtGroup)
        .filter(
            loan::Column::Id.is_in(
                provisions
                    .iter()
                    .filter_map(|(id, _, _)| *id)
                    .collect::<Vec<_>>(),
            ),
        )
        .into_tuple::<(i64, i32)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut specific_by_group = [0i64; 5];
    let (mut specific_total, mut general_total) = (0i64, 0i64);
    for (loan_id, code, credit_balance) in &provisions {
        if code == Account::GeneralProvision.code() {
            general_total += credit_balance;
            continue;
        }
        specific_total += credit_balance;
        let group = loan_id
            .and_then(|id| loan_groups.get(&id))
            .copied()
            .unwrap_or(1)
            .clamp(1, 5);
        specific_by_group[usize::try_from(group - 1).unwrap_or(0)] += credit_balance;
    }
    let groups = DebtGroup::ALL
        .into_iter()
        .map(|group| {
            let found = by_group.iter().find(|g| g.group == group);
            let index = usize::from(group.number()) - 1;
            GroupLine {
                debt_group: group.number(),
                loans: found.map_or(0, |g| g.loans),
                outstanding_principal_vnd: to_i64(summary.principal_by_group[index]),
                specific_provision_vnd: specific_by_group[index],
            }
        })
        .collect();
    Ok(PortfolioReport {
        date,
        groups,
        total_outstanding_principal_vnd: to_i64(summary.total_principal),
        bad_debt_principal_vnd: to_i64(summary.bad_debt_principal),
        bad_debt_ratio_percent: summary.bad_debt_ratio.map(|ratio| {
            let mut percent = (ratio * Decimal::ONE_HUNDRED).round_dp(2);
            percent.rescale(2);
            percent
        }),
        specific_provision_vnd: specific_total,
        general_provision_vnd: general_total,
        general_provision_required_vnd: to_i64(summary.general_provision),
    })
}
