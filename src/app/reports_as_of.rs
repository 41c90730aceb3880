//! Reports as of any past date that show what was true then (issue 11 item 2): the portfolio by debt
//! group with its provisions and bad-debt ratio, aging with PAR10/PAR30 and their monthly trend,
//! disbursements and collections over a period by district, cooperative kind and product, the largest
//! exposures against the 15%/25% limits, and write-offs and recoveries.
//!
//! ## What "as of D" means
//! The state of the books when day D was closed. A back-dated payment or a reversal entered after
//! that close must not rewrite a report for D, so two clocks are used together:
//! - **the loans** are refolded by the engine to the end of D (the start of D + 1, as the close of D
//!   folded them) from the transactions **recorded** by D — those whose journal entry was posted on
//!   a business date ≤ D (every money event posts its entry on the business date it is recorded,
//!   whatever its value date); a transaction that posted nothing counts when its `created_at` is
//!   before the close of D finished. Transactions recorded later are left out even when their value
//!   date is ≤ D. While D is not closed (D is the business date or later) the report says it is
//!   provisional (`closed = false`);
//! - **the books** (provisions, charter capital) are the journal entries dated ≤ D: entries are
//!   posted on the business date they are written and never re-dated (`ledger` module docs), so a
//!   later correction is posted after D and leaves D's books alone.
//!
//! Each loan's debt group is the engine's classification at the end of D, raised to the worst group
//! of the cooperative's open loans (DOMAIN.md §8), as the close of D decided it. A report lists in
//! `later_corrections` the transactions recorded after D's close with a value date ≤ D: they do not
//! change this report, but the loans' current figures for those days differ from it.
//!
//! The holiday calendar is the one in force now (its changes are not versioned).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use coopfund_domain::{
    aging::{above_limit, percent_2dp, Aging},
    classification::DebtGroup,
    limits::{RELATED_GROUP_MAX_PERCENT, SINGLE_CUSTOMER_MAX_PERCENT},
    Account, HolidayCalendar, LoanState, Vnd,
};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    calendar,
    context::AppCtx,
    fund,
    ledger::{fold_loan, posted_sums, BookQuery, LoanScope, READERS},
    loan_engine::{self, kind},
    Caller,
};
use crate::{
    error::{AppError, AppResult, Reason},
    store::entities::{cob_run, cooperative, journal_entry, loan, loan_transaction, product},
};

/// Loans folded per batch (one query for their transactions).
const LOANS_PER_BATCH: u64 = 500;
/// The most month ends a trend goes back.
pub const TREND_MONTHS_MAX: u32 = 12;
/// How many largest exposures a report lists.
pub const EXPOSURES_LISTED: usize = 10;

/// What the report is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsOfRequest {
    /// The day (default: the last closed day, the business date − 1).
    pub date: Option<NaiveDate>,
    /// The first day of the period of flows, write-offs and recoveries (default: 1 January of `date`'s year).
    pub from: Option<NaiveDate>,
    /// Month ends in the PAR trend, 0..=[`TREND_MONTHS_MAX`] (default 6).
    pub trend_months: Option<u32>,
}

/// One loan at the end of the day, from the transactions recorded by then.
#[derive(Debug, Clone)]
pub struct LoanAsOf {
    /// The loan.
    pub loan_id: i64,
    /// Its cooperative.
    pub cooperative_id: i64,
    /// Its product.
    pub product_id: i64,
    /// Principal in term (12831) and overdue (12832).
    pub in_term: Vnd,
    /// Principal overdue.
    pub overdue: Vnd,
    /// Days past due at the end of the day.
    pub dpd: i64,
    /// The debt group, the cooperative's worst applied.
    pub group: DebtGroup,
    /// Disbursed with value dates in the period (reversed tranches left out).
    pub disbursed_in_period: Vnd,
    /// Principal collected with value dates in the period.
    pub principal_collected_in_period: Vnd,
    /// Interest collected (contractual, overdue, late) with value dates in the period.
    pub interest_collected_in_period: Vnd,
    /// Principal written off in the period.
    pub written_off_in_period: Vnd,
    /// Money recovered on a written-off loan in the period.
    pub recovered_in_period: Vnd,
}

impl LoanAsOf {
    /// Outstanding principal (in term + overdue).
    pub fn outstanding(&self) -> Vnd {
        self.in_term + self.overdue
    }
}

/// One group of the portfolio.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupAsOf {
    /// Loans with principal outstanding in it.
    pub loans: i64,
    /// Their principal.
    pub principal: Vnd,
    /// The specific provision (22931) held through the day for the loans in it.
    pub specific_provision: Vnd,
}

/// Disbursements and collections of one district, cooperative kind or product.
#[derive(Debug, Clone, Default)]
pub struct FlowLine {
    /// `district`, `cooperative_kind` or `product`.
    pub dimension: &'static str,
    /// The district's name, the kind's code, or the product's code.
    pub key: String,
    /// A name for people (the product's name; the key otherwise).
    pub label: String,
    /// Loans with a disbursement in the period.
    pub loans_disbursed: i64,
    /// Disbursed in the period.
    pub disbursed: Vnd,
    /// Principal collected in the period.
    pub principal_collected: Vnd,
    /// Interest collected in the period.
    pub interest_collected: Vnd,
}

/// One borrower's (or related group's) outstanding principal against the limit.
#[derive(Debug, Clone)]
pub struct ExposureLine {
    /// `cooperative` (15% limit) or `related_group` (25%).
    pub scope: &'static str,
    /// The cooperative's id, or the related group's name.
    pub key: String,
    /// The cooperative's name, or the group's name.
    pub name: String,
    /// Outstanding principal at the end of the day.
    pub outstanding: Vnd,
    /// Outstanding / charter capital × 100, 2 decimals; `None` without charter capital.
    pub percent_of_charter_capital: Option<Decimal>,
    /// The limit in percent.
    pub limit_percent: i64,
    /// Above the limit.
    pub above_limit: bool,
}

/// PAR at one month end.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    /// The month end.
    pub date: NaiveDate,
    /// Outstanding principal then.
    pub outstanding: Vnd,
    /// PAR10 then, percent.
    pub par10_percent: Option<Decimal>,
    /// PAR30 then, percent.
    pub par30_percent: Option<Decimal>,
}

/// Transactions recorded after the day's close with a value date on or before it.
#[derive(Debug, Clone, Default)]
pub struct LaterCorrections {
    /// How many.
    pub transactions: i64,
    /// Of how many loans.
    pub loans: i64,
    /// The earliest value date among them.
    pub earliest_value_date: Option<NaiveDate>,
}

/// Write-offs and recoveries over the period.
#[derive(Debug, Clone, Default)]
pub struct WriteOffs {
    /// Loans written off in the period.
    pub loans_written_off: i64,
    /// Their principal.
    pub principal_written_off: Vnd,
    /// Money recovered on written-off loans in the period.
    pub recovered: Vnd,
    /// Memo 0042 through the day: written-off principal still followed up.
    pub principal_under_follow_up: Vnd,
}

/// The report as of a day.
#[derive(Debug, Clone)]
pub struct ReportAsOf {
    /// The day.
    pub date: NaiveDate,
    /// The first day of the period.
    pub from: NaiveDate,
    /// Whether the day was closed (false: provisional, later entries on it may still change it).
    pub closed: bool,
    /// The close that fixed the report (transactions recorded after it are left out).
    pub recorded_through: Option<DateTime<Utc>>,
    /// Groups 1 to 5.
    pub groups: [GroupAsOf; 5],
    /// The general provision (22932) held through the day.
    pub general_provision: Vnd,
    /// Aging by days past due.
    pub aging: Aging,
    /// PAR at the month ends before the day, oldest first.
    pub trend: Vec<TrendPoint>,
    /// Flows by district, then cooperative kind, then product.
    pub flows: Vec<FlowLine>,
    /// Charter capital (4111) through the day.
    pub charter_capital: Vnd,
    /// The largest exposures, cooperatives then related groups, largest first.
    pub exposures: Vec<ExposureLine>,
    /// Write-offs and recoveries.
    pub write_offs: WriteOffs,
    /// The books through the day: Σ 12831 + 12832 (the reconciliation with the loans above).
    pub ledger_principal: Vnd,
    /// Corrections entered later for days up to this one.
    pub later_corrections: LaterCorrections,
    /// Every loan (for the lending report).
    pub loans: Vec<LoanAsOf>,
}

impl ReportAsOf {
    /// Σ outstanding principal.
    pub fn total_principal(&self) -> Vnd {
        self.groups.iter().map(|g| g.principal).sum()
    }

    /// Groups 3 to 5.
    pub fn bad_debt(&self) -> Vnd {
        self.groups[2..].iter().map(|g| g.principal).sum()
    }

    /// Bad debt / total × 100 to 2 decimals (Decree 45/2021 Art 45); `None` on an empty portfolio.
    pub fn bad_debt_ratio_percent(&self) -> Option<Decimal> {
        percent_2dp(self.bad_debt(), self.total_principal())
    }

    /// Σ specific provisions.
    pub fn specific_provision(&self) -> Vnd {
        self.groups.iter().map(|g| g.specific_provision).sum()
    }

    /// Totals of the flows of one dimension (each dimension adds up to the same totals).
    pub fn flow_totals(&self) -> FlowLine {
        let mut total = FlowLine {
            dimension: "total",
            ..FlowLine::default()
        };
        for line in self.flows.iter().filter(|l| l.dimension == "product") {
            total.loans_disbursed += line.loans_disbursed;
            total.disbursed += line.disbursed;
            total.principal_collected += line.principal_collected;
            total.interest_collected += line.interest_collected;
        }
        total
    }
}

/// The first finished close of business for a date ≥ `date`: when it finished.
async fn recorded_through<C: ConnectionTrait>(
    conn: &C,
    date: NaiveDate,
) -> AppResult<Option<DateTime<Utc>>> {
    let run = cob_run::Entity::find()
        .filter(cob_run::Column::BusinessDate.gte(date))
        .filter(cob_run::Column::Status.eq("finished"))
        .order_by_asc(cob_run::Column::BusinessDate)
        .one(conn)
        .await?;
    Ok(run.and_then(|r| r.finished_at))
}

/// The portfolio's loans at the end of `date` from the transactions recorded through `cutoff` (all
/// when `None`), with the period's flows from `from`.
async fn loans_as_of<C: ConnectionTrait>(
    conn: &C,
    ctx: &AppCtx,
    calendar: &HolidayCalendar,
    date: NaiveDate,
    from: NaiveDate,
    cutoff: Option<DateTime<Utc>>,
) -> AppResult<Vec<LoanAsOf>> {
    let next_day = date + Duration::days(1);
    let mut folded: Vec<(LoanAsOf, DebtGroup)> = Vec::new();
    let mut after_id = 0i64;
    loop {
        let batch = loan::Entity::find()
            .filter(loan::Column::Id.gt(after_id))
            .order_by_asc(loan::Column::Id)
            .limit(LOANS_PER_BATCH)
            .all(conn)
            .await?;
        let Some(last) = batch.last() else { break };
        after_id = last.id;
        let ids: Vec<i64> = batch.iter().map(|l| l.id).collect();
        // The business date each transaction was recorded on: the date of the entry it posted.
        let posted_on: BTreeMap<i64, NaiveDate> = journal_entry::Entity::find()
            .select_only()
            .column(journal_entry::Column::TransactionId)
            .column(journal_entry::Column::EntryDate)
            .filter(journal_entry::Column::LoanId.is_in(ids.clone()))
            .filter(journal_entry::Column::TransactionId.is_not_null())
            .into_tuple::<(Option<i64>, NaiveDate)>()
            .all(conn)
            .await?
            .into_iter()
            .filter_map(|(tx, day)| tx.map(|tx| (tx, day)))
            .fold(BTreeMap::new(), |mut first, (tx, day)| {
                let seen: &mut NaiveDate = first.entry(tx).or_insert(day);
                *seen = (*seen).min(day);
                first
            });
        let recorded = |tx: &loan_transaction::Model| match posted_on.get(&tx.id) {
            Some(day) => *day <= date,
            // A transaction that moved nothing in the books: by the close's clock.
            None => cutoff.is_none_or(|cutoff| tx.created_at <= cutoff),
        };
        let mut by_loan: BTreeMap<i64, Vec<loan_transaction::Model>> = BTreeMap::new();
        for tx in loan_transaction::Entity::find()
            .filter(loan_transaction::Column::LoanId.is_in(ids))
            .order_by_asc(loan_transaction::Column::Id)
            .all(conn)
            .await?
        {
            if recorded(&tx) {
                by_loan.entry(tx.loan_id).or_default().push(tx);
            }
        }
        for loan in &batch {
            let Some(transactions) = by_loan.get(&loan.id) else {
                continue;
            };
            // Nothing with a value date after the day can have happened by its end.
            let known: Vec<loan_transaction::Model> = transactions
                .iter()
                .filter(|tx| tx.value_date <= date)
                .cloned()
                .collect();
            if known.is_empty() {
                continue;
            }
            let state = fold_loan(loan, &known, calendar, next_day)?;
            let own_group = loan_engine::loan_group(&state, &ctx.policy.classification);
            folded.push((
                flows_of(loan, &known, &state, from, date, own_group)?,
                own_group,
            ));
        }
        if (batch.len() as u64) < LOANS_PER_BATCH {
            break;
        }
    }
    // DOMAIN.md §8: every open loan of a cooperative takes the group of its worst open loan.
    let mut worst: BTreeMap<i64, DebtGroup> = BTreeMap::new();
    for (loan, group) in &folded {
        if loan.outstanding().is_positive() {
            let entry = worst.entry(loan.cooperative_id).or_insert(DebtGroup::One);
            *entry = (*entry).max(*group);
        }
    }
    Ok(folded
        .into_iter()
        .map(|(mut loan, group)| {
            loan.group = group.max(
                worst
                    .get(&loan.cooperative_id)
                    .copied()
                    .unwrap_or(DebtGroup::One),
            );
            loan
        })
        .collect())
}

/// A loan's figures from its state at the end of the day and its known transactions.
fn flows_of(
    loan: &loan::Model,
    known: &[loan_transaction::Model],
    state: &LoanState,
    from: NaiveDate,
    date: NaiveDate,
    group: DebtGroup,
) -> AppResult<LoanAsOf> {
    let in_period = |day: NaiveDate| day >= from && day <= date;
    let reversed: BTreeSet<i64> = known.iter().filter_map(|tx| tx.reverses_id).collect();
    let disbursed_in_period = known
        .iter()
        .filter(|tx| tx.kind == kind::DISBURSEMENT && !reversed.contains(&tx.id))
        .filter(|tx| in_period(tx.value_date))
        .map(|tx| Vnd::from_i64(tx.amount_vnd))
        .sum();
    let (mut principal, mut interest) = (Vnd::ZERO, Vnd::ZERO);
    for allocation in state.allocations.iter().filter(|a| in_period(a.value_date)) {
        principal +=
            allocation.overdue_principal + allocation.principal + allocation.prepaid_principal;
        interest += allocation.unpaid_interest
            + allocation.overdue_interest
            + allocation.late_interest
            + allocation.interest;
    }
    let written_off_in_period = if state.written_off_on.is_some_and(in_period) {
        state.written_off_principal
    } else {
        Vnd::ZERO
    };
    let recovered_in_period = state
        .recoveries
        .iter()
        .filter(|r| in_period(r.value_date))
        .map(|r| r.amount)
        .sum();
    Ok(LoanAsOf {
        loan_id: loan.id,
        cooperative_id: loan.cooperative_id,
        product_id: loan.product_id,
        in_term: state.in_term_principal,
        overdue: state.overdue_principal,
        dpd: state.dpd,
        group,
        disbursed_in_period,
        principal_collected_in_period: principal,
        interest_collected_in_period: interest,
        written_off_in_period,
        recovered_in_period,
    })
}

/// The report as of `request.date`. Staff (everyone but cooperatives).
#[tracing::instrument(skip_all, fields(date = ?request.date, from = ?request.from))]
pub async fn report_as_of(
    ctx: &AppCtx,
    caller: &Caller,
    request: AsOfRequest,
) -> AppResult<ReportAsOf> {
    caller.require(&READERS)?;
    let conn = &ctx.db;
    let business_date = fund::business_date(conn).await?;
    let date = request
        .date
        .unwrap_or_else(|| business_date - Duration::days(1));
    let from = super::reports::recoveries_from(request.from, date)?;
    let trend_months = request.trend_months.unwrap_or(6);
    if trend_months > TREND_MONTHS_MAX {
        return Err(AppError::invalid(
            "trend_months",
            Reason::OutOfRange {
                min: "0".into(),
                max: TREND_MONTHS_MAX.to_string(),
            },
        ));
    }
    let calendar = calendar::in_force(conn).await?;
    let cutoff = recorded_through(conn, date).await?;
    let loans = loans_as_of(conn, ctx, &calendar, date, from, cutoff).await?;

    // The books through the day.
    let codes = [
        Account::LoansInTerm.code(),
        Account::LoansOverdue.code(),
        Account::GeneralProvision.code(),
        Account::CharterCapital.code(),
        Account::MemoWrittenOffLoans.code(),
    ];
    let (mut ledger_principal, mut general_provision, mut charter_capital, mut follow_up) =
        (Vnd::ZERO, Vnd::ZERO, Vnd::ZERO, Vnd::ZERO);
    for sum in posted_sums(
        conn,
        &BookQuery::per_account().on(&codes).dated(None, Some(date)),
    )
    .await?
    {
        match sum.account()? {
            Account::LoansInTerm | Account::LoansOverdue => ledger_principal += sum.net_debit(),
            Account::GeneralProvision => general_provision += sum.net_credit(),
            Account::CharterCapital => charter_capital += sum.net_credit(),
            Account::MemoWrittenOffLoans => follow_up += sum.net_debit(),
            _ => {}
        }
    }
    let specific = [Account::SpecificProvision.code()];
    let mut provision_by_loan: BTreeMap<i64, Vnd> = BTreeMap::new();
    for sum in posted_sums(
        conn,
        &BookQuery::per_loan(LoanScope::All)
            .on(&specific)
            .dated(None, Some(date)),
    )
    .await?
    {
        *provision_by_loan
            .entry(sum.loan_id.unwrap_or_default())
            .or_default() += sum.net_credit();
    }

    let mut groups = [GroupAsOf::default(); 5];
    let mut aging = Aging::default();
    let mut write_offs = WriteOffs {
        principal_under_follow_up: follow_up,
        ..WriteOffs::default()
    };
    for loan in &loans {
        let index = usize::from(loan.group.number()) - 1;
        if loan.outstanding().is_positive() {
            groups[index].loans += 1;
            groups[index].principal += loan.outstanding();
            aging.add(loan.dpd, loan.outstanding());
        }
        // A closed loan's provision is released at the next month end: it counts in its last group.
        if let Some(held) = provision_by_loan.remove(&loan.loan_id) {
            groups[index].specific_provision += held;
        }
        if loan.written_off_in_period.is_positive() {
            write_offs.loans_written_off += 1;
            write_offs.principal_written_off += loan.written_off_in_period;
        }
        write_offs.recovered += loan.recovered_in_period;
    }
    // 22931 held for loans with nothing recorded by the day (cannot happen in a sound book) or
    // without a loan: counted in group 1 rather than dropped, so the total equals the books.
    for held in provision_by_loan.into_values() {
        groups[0].specific_provision += held;
    }

    let flows = flows_by_dimension(conn, &loans).await?;
    let exposures = exposures(conn, &loans, charter_capital).await?;
    let later_corrections = later_corrections(conn, date).await?;

    let mut trend = Vec::new();
    for back in (1..=trend_months).rev() {
        let Some(month_end) = month_end_before(date, back) else {
            continue;
        };
        let cutoff = recorded_through(conn, month_end).await?;
        let then = loans_as_of(conn, ctx, &calendar, month_end, month_end, cutoff).await?;
        let mut aging_then = Aging::default();
        for loan in then.iter().filter(|l| l.outstanding().is_positive()) {
            aging_then.add(loan.dpd, loan.outstanding());
        }
        trend.push(TrendPoint {
            date: month_end,
            outstanding: aging_then.total(),
            par10_percent: aging_then.par_percent(10),
            par30_percent: aging_then.par_percent(30),
        });
    }

    Ok(ReportAsOf {
        date,
        from,
        closed: date < business_date && cutoff.is_some(),
        recorded_through: cutoff,
        groups,
        general_provision,
        aging,
        trend,
        flows,
        charter_capital,
        exposures,
        write_offs,
        ledger_principal,
        later_corrections,
        loans,
    })
}

/// The last day of the month `back` months before `date`'s month.
fn month_end_before(date: NaiveDate, back: u32) -> Option<NaiveDate> {
    let first_of_month = date.with_day(1)?;
    let first_after =
        first_of_month.checked_sub_months(chrono::Months::new(back.checked_sub(1)?))?;
    first_after.pred_opt()
}

async fn flows_by_dimension<C: ConnectionTrait>(
    conn: &C,
    loans: &[LoanAsOf],
) -> AppResult<Vec<FlowLine>> {
    let cooperative_ids: BTreeSet<i64> = loans.iter().map(|l| l.cooperative_id).collect();
    let cooperatives: BTreeMap<i64, (String, String)> = cooperative::Entity::find()
        .select_only()
        .column(cooperative::Column::Id)
        .column(cooperative::Column::District)
        .column(cooperative::Column::Kind)
        .into_tuple::<(i64, String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .filter(|(id, _, _)| cooperative_ids.contains(id))
        .map(|(id, district, kind)| (id, (district, kind)))
        .collect();
    let products: BTreeMap<i64, (String, String)> = product::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, (p.code, p.name)))
        .collect();
    let mut lines: BTreeMap<(u8, String), FlowLine> = BTreeMap::new();
    for loan in loans {
        let moved = loan.disbursed_in_period.is_positive()
            || loan.principal_collected_in_period.is_positive()
            || loan.interest_collected_in_period.is_positive();
        if !moved {
            continue;
        }
        let (district, kind) = cooperatives
            .get(&loan.cooperative_id)
            .cloned()
            .unwrap_or_default();
        let (code, name) = products.get(&loan.product_id).cloned().unwrap_or_default();
        for (order, dimension, key, label) in [
            (0u8, "district", district.clone(), district),
            (1, "cooperative_kind", kind.clone(), kind),
            (2, "product", code, name),
        ] {
            let line = lines
                .entry((order, key.clone()))
                .or_insert_with(|| FlowLine {
                    dimension,
                    key,
                    label,
                    ..FlowLine::default()
                });
            if loan.disbursed_in_period.is_positive() {
                line.loans_disbursed += 1;
            }
            line.disbursed += loan.disbursed_in_period;
            line.principal_collected += loan.principal_collected_in_period;
            line.interest_collected += loan.interest_collected_in_period;
        }
    }
    Ok(lines.into_values().collect())
}

async fn exposures<C: ConnectionTrait>(
    conn: &C,
    loans: &[LoanAsOf],
    charter_capital: Vnd,
) -> AppResult<Vec<ExposureLine>> {
    let mut by_cooperative: BTreeMap<i64, Vnd> = BTreeMap::new();
    for loan in loans.iter().filter(|l| l.outstanding().is_positive()) {
        *by_cooperative.entry(loan.cooperative_id).or_default() += loan.outstanding();
    }
    let ids: Vec<i64> = by_cooperative.keys().copied().collect();
    let rows: Vec<(i64, String, Option<String>)> = if ids.is_empty() {
        Vec::new()
    } else {
        cooperative::Entity::find()
            .select_only()
            .column(cooperative::Column::Id)
            .column(cooperative::Column::Name)
            .column(cooperative::Column::RelatedGroup)
            .filter(cooperative::Column::Id.is_in(ids))
            .into_tuple()
            .all(conn)
            .await?
    };
    let mut by_group: BTreeMap<String, Vnd> = BTreeMap::new();
    let mut single = Vec::new();
    for (id, name, related) in rows {
        let outstanding = by_cooperative.get(&id).copied().unwrap_or_default();
        if let Some(group) = related.filter(|g| !g.trim().is_empty()) {
            *by_group.entry(group).or_default() += outstanding;
        }
        single.push(exposure_line(
            "cooperative",
            id.to_string(),
            name,
            outstanding,
            charter_capital,
            SINGLE_CUSTOMER_MAX_PERCENT,
        ));
    }
    let by_amount = |a: &ExposureLine, b: &ExposureLine| {
        b.outstanding.cmp(&a.outstanding).then(a.key.cmp(&b.key))
    };
    single.sort_by(by_amount);
    single.truncate(EXPOSURES_LISTED);
    let mut groups: Vec<ExposureLine> = by_group
        .into_iter()
        .map(|(group, outstanding)| {
            exposure_line(
                "related_group",
                group.clone(),
                group,
                outstanding,
                charter_capital,
                RELATED_GROUP_MAX_PERCENT,
            )
        })
        .collect();
    groups.sort_by(by_amount);
    groups.truncate(EXPOSURES_LISTED);
    single.extend(groups);
    Ok(single)
}

fn exposure_line(
    scope: &'static str,
    key: String,
    name: String,
    outstanding: Vnd,
    charter_capital: Vnd,
    limit_percent: i64,
) -> ExposureLine {
    ExposureLine {
        scope,
        key,
        name,
        outstanding,
        percent_of_charter_capital: percent_2dp(outstanding, charter_capital),
        limit_percent,
        above_limit: above_limit(outstanding, charter_capital, limit_percent),
    }
}

async fn later_corrections<C: ConnectionTrait>(
    conn: &C,
    date: NaiveDate,
) -> AppResult<LaterCorrections> {
    // Entries posted after the day for transactions whose value date is on or before it.
    let rows: Vec<(i64, NaiveDate)> = loan_transaction::Entity::find()
        .select_only()
        .column(loan_transaction::Column::LoanId)
        .column(loan_transaction::Column::ValueDate)
        .filter(loan_transaction::Column::ValueDate.lte(date))
        .filter(
            loan_transaction::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(journal_entry::Column::TransactionId)
                    .from(journal_entry::Entity)
                    .and_where(journal_entry::Column::EntryDate.gt(date))
                    .and_where(journal_entry::Column::TransactionId.is_not_null())
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(conn)
        .await?;
    let loans: BTreeSet<i64> = rows.iter().map(|(loan, _)| *loan).collect();
    Ok(LaterCorrections {
        transactions: rows.len() as i64,
        loans: loans.len() as i64,
        earliest_value_date: rows.iter().map(|(_, day)| *day).min(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ends_go_back_whole_months() {
        let d = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        assert_eq!(month_end_before(d, 1), NaiveDate::from_ymd_opt(2026, 5, 31));
        assert_eq!(
            month_end_before(d, 6),
            NaiveDate::from_ymd_opt(2025, 12, 31)
        );
        let mid = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        assert_eq!(
            month_end_before(mid, 1),
            NaiveDate::from_ymd_opt(2026, 2, 28)
        );
    }
}

/// The period of a lending report to the central fund and the province (Decree 45/2021 Art 34/44;
/// Circular 52/2022 Appendix 1a): a half year (cut-offs 30/6 and 31/12) or the whole year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LendingPeriod {
    /// 1/1 to 30/6.
    FirstHalf,
    /// 1/7 to 31/12.
    SecondHalf,
    /// 1/1 to 31/12.
    Year,
}

impl LendingPeriod {
    /// Reads `h1`, `h2` or `year`.
    pub fn parse(text: &str) -> AppResult<LendingPeriod> {
        match text.trim() {
            "h1" => Ok(LendingPeriod::FirstHalf),
            "h2" => Ok(LendingPeriod::SecondHalf),
            "year" => Ok(LendingPeriod::Year),
            _ => Err(AppError::invalid(
                "period",
                Reason::UnknownValue {
                    allowed: "h1, h2, year".into(),
                },
            )),
        }
    }

    /// `h1`, `h2` or `year`.
    pub fn as_str(self) -> &'static str {
        match self {
            LendingPeriod::FirstHalf => "h1",
            LendingPeriod::SecondHalf => "h2",
            LendingPeriod::Year => "year",
        }
    }

    /// The first and last day of the period in `year`.
    pub fn days(self, year: i32) -> Option<(NaiveDate, NaiveDate)> {
        let day = |m, d| NaiveDate::from_ymd_opt(year, m, d);
        Some(match self {
            LendingPeriod::FirstHalf => (day(1, 1)?, day(6, 30)?),
            LendingPeriod::SecondHalf => (day(7, 1)?, day(12, 31)?),
            LendingPeriod::Year => (day(1, 1)?, day(12, 31)?),
        })
    }
}

/// The lending report of a period (Appendix 1a's figures) and its reconciliation with the books.
#[derive(Debug, Clone)]
pub struct LendingReport {
    /// The year.
    pub year: i32,
    /// The half or the year.
    pub period: LendingPeriod,
    /// The report as of the cut-off, its period the report's.
    pub report: ReportAsOf,
    /// Loans with a disbursement in the period.
    pub loans_made: i64,
    /// Disbursed in the period.
    pub disbursed: Vnd,
    /// Principal collected in the period.
    pub principal_collected: Vnd,
    /// Interest collected in the period.
    pub interest_collected: Vnd,
    /// Loans with principal outstanding at the cut-off.
    pub loans_outstanding: i64,
    /// Loans past due at the cut-off.
    pub loans_overdue: i64,
    /// Principal overdue at the cut-off (12832).
    pub overdue_principal: Vnd,
    /// The books at the cut-off: 12831 + 12832, 22931, 22932 (trial balance through the cut-off).
    pub ledger_specific_provision: Vnd,
}

impl LendingReport {
    /// Whether the report's outstanding principal and provisions equal the books at the cut-off.
    pub fn reconciles(&self) -> bool {
        self.report.total_principal() == self.report.ledger_principal
            && self.report.specific_provision() == self.ledger_specific_provision
    }
}

/// The lending report of `period` of `year` (its cut-off must be closed or at least reached). Staff.
#[tracing::instrument(skip_all, fields(year = ?year, period = ?period))]
pub async fn lending_report(
    ctx: &AppCtx,
    caller: &Caller,
    year: Option<i32>,
    period: Option<LendingPeriod>,
) -> AppResult<LendingReport> {
    caller.require(&READERS)?;
    let (year, period) = match (year, period) {
        (Some(year), Some(period)) => (year, period),
        (year, period) => {
            // Default: the last half year whose cut-off is before the business date.
            let today = fund::business_date(&ctx.db).await?;
            let (last_year, last_half) = if today.month() > 6 {
                (today.year(), LendingPeriod::FirstHalf)
            } else {
                (today.year() - 1, LendingPeriod::SecondHalf)
            };
            match (year, period) {
                (Some(year), None) if year == last_year => (year, last_half),
                (Some(year), None) => (year, LendingPeriod::SecondHalf),
                (None, Some(period)) => (last_year, period),
                _ => (last_year, last_half),
            }
        }
    };
    let (from, to) = period
        .days(year)
        .filter(|_| (2000..=9999).contains(&year))
        .ok_or_else(|| {
            AppError::invalid(
                "year",
                Reason::OutOfRange {
                    min: "2000".into(),
                    max: "9999".into(),
                },
            )
        })?;
    let report = report_as_of(
        ctx,
        caller,
        AsOfRequest {
            date: Some(to),
            from: Some(from),
            trend_months: Some(0),
        },
    )
    .await?;
    let specific = [Account::SpecificProvision.code()];
    let ledger_specific_provision = posted_sums(
        &ctx.db,
        &BookQuery::per_account().on(&specific).dated(None, Some(to)),
    )
    .await?
    .iter()
    .map(|sum| sum.net_credit())
    .sum();
    let open = || {
        report
            .loans
            .iter()
            .filter(|l| l.outstanding().is_positive())
    };
    Ok(LendingReport {
        year,
        period,
        loans_made: report
            .loans
            .iter()
            .filter(|l| l.disbursed_in_period.is_positive())
            .count() as i64,
        disbursed: report.loans.iter().map(|l| l.disbursed_in_period).sum(),
        principal_collected: report
            .loans
            .iter()
            .map(|l| l.principal_collected_in_period)
            .sum(),
        interest_collected: report
            .loans
            .iter()
            .map(|l| l.interest_collected_in_period)
            .sum(),
        loans_outstanding: open().count() as i64,
        loans_overdue: open().filter(|l| l.dpd > 0).count() as i64,
        overdue_principal: open().map(|l| l.overdue).sum(),
        ledger_specific_provision,
        report,
    })
}
