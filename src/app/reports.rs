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
    pub outstanding_principal_vnd: i64,
    /// The specific provision held on 22931 for the loans now in this group. A loan closed since the last
    /// month end still holds its provision until that month end's close of business releases it; it
    /// counts here in the group it was closed in.
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
    /// Written-off loans under follow-up and recoveries (Decree 45/2021 Art 29).
    pub written_off: written_off::WrittenOffSummary,
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
        // 22931 is held per loan (DOMAIN.md §9: posted in the loan's own entries); a line without a loan or
        // a loan without a valid group is a corrupt book, named, not counted in some group by default.
        let Some(loan_id) = loan_id else {
            return Err(AppError::internal(anyhow::anyhow!(
                "specific provision (22931) lines without a loan hold {credit_balance}"
            )));
        };
        let group = loan_groups
            .get(loan_id)
            .and_then(|group| u8::try_from(*group).ok())
            .and_then(DebtGroup::from_number)
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "loan {loan_id} holds a specific provision but has no valid debt group ({:?})",
                    loan_groups.get(loan_id)
                ))
            })?;
        specific_by_group[usize::from(group.number()) - 1] += credit_balance;
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
        written_off: written_off::summary(conn, query.from, date).await?,
    })
}

/// The written-off block of the portfolio report, all from the journal (posted by difference, so it equals
/// the loans' books): memo 0042 per loan for what is under follow-up, 711 for principal recovered, and the
/// recovery transactions (reversed ones left out) for the money recovered in the period.
pub mod written_off {
    use chrono::{Datelike, NaiveDate};
    use coopfund_domain::Account;
    use rust_decimal::Decimal;
    use sea_orm::{
        sea_query::Query, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    };
    use serde::Serialize;
    use utoipa::ToSchema;

    use crate::{
        app::loan_engine::kind,
        error::{AppError, AppResult, Reason},
        store::{
            entities::{journal_entry, journal_line, loan_transaction},
            sum_vnd,
        },
    };

    /// Written-off loans under follow-up on `date` and recoveries over `[recoveries_from, date]`.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct WrittenOffSummary {
        /// Loans whose memo 0042 balance is positive on `date`.
        pub loans_under_follow_up: i64,
        /// Σ memo 0042 on `date`: written-off principal not yet recovered.
        pub principal_under_follow_up_vnd: i64,
        #[schema(value_type = String, format = Date)]
        pub recoveries_from: NaiveDate,
        /// Money recovered (principal and interest) with value dates in the period, reversals excluded.
        pub recoveries_in_period_vnd: i64,
        /// Written-off principal recovered in the period (711 credited by entries dated in it).
        pub recovered_principal_in_period_vnd: i64,
        /// Principal recovered / principal ever written off, × 100 to 2 decimals, through `date`
        /// (711 / (711 + 0042)); null when nothing was written off.
        #[schema(value_type = Option<String>)]
        pub recovery_rate_percent: Option<Decimal>,
    }

    /// Net debit per (loan, account) of `accounts` for entries dated in `[from, to]` (`from` None: all before).
    async fn balances<C: ConnectionTrait>(
        conn: &C,
        accounts: [&str; 2],
        from: Option<NaiveDate>,
        to: NaiveDate,
    ) -> AppResult<Vec<(Option<i64>, String, i64)>> {
        let mut entries = Query::select();
        entries
            .column(journal_entry::Column::Id)
            .from(journal_entry::Entity)
            .and_where(journal_entry::Column::EntryDate.lte(to));
        if let Some(from) = from {
            entries.and_where(journal_entry::Column::EntryDate.gte(from));
        }
        let rows: Vec<(Option<i64>, String, i64, i64)> = journal_line::Entity::find()
            .select_only()
            .column(journal_line::Column::LoanId)
            .column(journal_line::Column::AccountCode)
            .column_as(sum_vnd("debit_vnd"), "debits")
            .column_as(sum_vnd("credit_vnd"), "credits")
            .filter(journal_line::Column::AccountCode.is_in(accounts))
            .filter(journal_line::Column::EntryId.in_subquery(entries.to_owned()))
            .group_by(journal_line::Column::LoanId)
            .group_by(journal_line::Column::AccountCode)
            .into_tuple()
            .all(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(loan, code, debits, credits)| (loan, code, debits - credits))
            .collect())
    }

    /// The block for `date`, the recoveries' period starting `from` (default 1 January of `date`'s year).
    pub async fn summary<C: ConnectionTrait>(
        conn: &C,
        from: Option<NaiveDate>,
        date: NaiveDate,
    ) -> AppResult<WrittenOffSummary> {
        let from =
            from.unwrap_or_else(|| NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date));
        if from > date {
            return Err(AppError::invalid(
                "from",
                Reason::OutOfRange {
                    min: "2000-01-01".into(),
                    max: date.to_string(),
                },
            ));
        }
        let (memo, income) = (
            Account::MemoWrittenOffLoans.code(),
            Account::OtherIncome.code(),
        );
        let (mut loans, mut under, mut recovered_ever) = (0i64, 0i64, 0i64);
        for (_, code, net_debit) in balances(conn, [memo, income], None, date).await? {
            if code == memo && net_debit > 0 {
                loans += 1;
                under += net_debit;
            } else if code == income {
                recovered_ever -= net_debit;
            }
        }
        let recovered_principal_in_period_vnd: i64 =
            balances(conn, [income, income], Some(from), date)
                .await?
                .into_iter()
                .map(|(_, _, net_debit)| -net_debit)
                .sum();
        let reversed = Query::select()
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
        let written_off_ever = under + recovered_ever;
        let recovery_rate_percent = (written_off_ever > 0).then(|| {
            let mut percent = (Decimal::from(recovered_ever) * Decimal::ONE_HUNDRED
                / Decimal::from(written_off_ever))
            .round_dp(2);
            percent.rescale(2);
            percent
        });
        Ok(WrittenOffSummary {
            loans_under_follow_up: loans,
            principal_under_follow_up_vnd: under,
            recoveries_from: from,
            recoveries_in_period_vnd: recoveries.unwrap_or(0),
            recovered_principal_in_period_vnd,
            recovery_rate_percent,
        })
    }
}
