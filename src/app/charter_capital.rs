//! The fund's paid-in charter capital: contributions recorded by an admin or accountant, and
//! the fund's overview. Their sum sets the Decree 45/2021 Art 23 limits (15% per customer, 25%
//! with related persons) checked at approval.
//!
//! A contribution is posted in the same transaction as its row: Dr 1121 cash at bank / Cr 4111
//! charter capital (DOMAIN.md §9), kind `charter_capital`, no loan, business key
//! `charter_capital:{id}`. [`post_contribution`] is deliberately small and self-contained; the
//! general posting code of the loans module may replace it.

use chrono::NaiveDate;
use coopfund_domain::chain::Chain;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryOrder, Set,
};
use serde::Serialize;

use super::{
    audit::{self, Audited},
    context::AppCtx,
    fund,
    idempotency::{run_keyed, IdempotencyKey, Idempotent},
    validate, Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, Reason},
    store::entities::{charter_capital_contribution, journal_entry, journal_line},
};

/// Cash at bank (DOMAIN.md §9).
const CASH_AT_BANK: &str = "1121";
/// Charter capital (DOMAIN.md §9).
const CHARTER_CAPITAL: &str = "4111";

/// The kind of the journal entry that records a contribution (its business key starts with it too).
pub(crate) const ENTRY_KIND: &str = "charter_capital";

/// A contribution to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContribution {
    /// More than 0 đồng.
    pub amount_vnd: i64,
    /// On or before the business date.
    pub contributed_on: NaiveDate,
    /// The decision or bank document, e.g. `QĐ 123/QĐ-UBND`.
    pub reference: String,
}

/// A recorded contribution. Its JSON (audit records, idempotent replays) is the API's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contribution {
    pub id: i64,
    pub amount_vnd: i64,
    pub contributed_on: NaiveDate,
    pub reference: String,
    pub created_by: Option<i64>,
    /// The journal entry Dr 1121 / Cr 4111 (known when it was just posted).
    pub journal_entry_id: Option<i64>,
}

impl From<charter_capital_contribution::Model> for Contribution {
    fn from(m: charter_capital_contribution::Model) -> Self {
        Contribution {
            id: m.id,
            amount_vnd: m.amount_vnd,
            contributed_on: m.contributed_on,
            reference: m.reference,
            created_by: m.created_by,
            journal_entry_id: None,
        }
    }
}

impl Audited for Contribution {
    const ENTITY_TYPE: &'static str = "charter_capital_contribution";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

/// The fund at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fund {
    pub name: String,
    pub province: String,
    pub business_date: NaiveDate,
    pub paid_in_charter_capital_vnd: i64,
    /// Oldest first.
    pub contributions: Vec<Contribution>,
}

/// Records a contribution and posts it. Admins and accountants.
///
/// A money command ([`run_keyed`]): with an `Idempotency-Key` a retry returns the first response
/// and records nothing more; writers are serialized on SQLite like every money command.
#[tracing::instrument(name = "contribute charter capital", skip_all, fields(amount_vnd = input.amount_vnd))]
pub async fn contribute(
    ctx: &AppCtx,
    caller: &Caller,
    input: NewContribution,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<Contribution>> {
    caller.require(&[Role::Admin, Role::Accountant])?;
    let amount_vnd = validate::positive("amount_vnd", input.amount_vnd)?;
    if amount_vnd > coopfund_domain::Vnd::MAX_INPUT {
        return Err(AppError::invalid(
            "amount_vnd",
            Reason::OutOfRange {
                min: "1".into(),
                max: coopfund_domain::Vnd::MAX_INPUT.to_string(),
            },
        ));
    }
    let reference = validate::text("reference", &input.reference, 100)?;
    // The unit of work owns what it uses (its future outlives no borrow).
    let (owned_ctx, owned_caller) = (ctx.clone(), caller.clone());
    let contributed_on = input.contributed_on;
    run_keyed(ctx, caller, "charter_capital.contribute", key, move |txn| {
        Box::pin(async move {
            record(
                txn,
                &owned_ctx,
                &owned_caller,
                amount_vnd,
                contributed_on,
                reference,
            )
            .await
        })
    })
    .await
}

/// The contribution inside its transaction: check the date, insert, post, audit.
async fn record(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    amount_vnd: i64,
    contributed_on: NaiveDate,
    reference: String,
) -> AppResult<Contribution> {
    let business_date = fund::business_date(txn).await?;
    if contributed_on > business_date {
        return Err(AppError::invalid(
            "contributed_on",
            Reason::OutOfRange {
                min: "1900-01-01".into(),
                max: business_date.to_string(),
            },
        ));
    }
    let mut row = charter_capital_contribution::ActiveModel {
        amount_vnd: Set(amount_vnd),
        contributed_on: Set(contributed_on),
        reference: Set(reference),
        created_by: Set(caller.user_id()),
        created_at: Set(ctx.now()),
        ..Default::default()
    };
    super::chains::link(txn, Chain::CharterCapital, std::slice::from_mut(&mut row)).await?;
    let row = row.insert(txn).await?;
    let entry_id = post_contribution(txn, ctx, caller, &row).await?;
    let contribution = Contribution {
        journal_entry_id: Some(entry_id),
        ..Contribution::from(row)
    };
    audit::created(
        txn,
        ctx,
        caller,
        "charter_capital.contribute",
        &contribution,
    )
    .await?;
    Ok(contribution)
}

/// DOMAIN.md §9: Dr 1121 / Cr 4111 for the contribution, one balanced entry of two lines, on the
/// contribution date. Returns the entry's id.
pub async fn post_contribution<C: ConnectionTrait>(
    conn: &C,
    ctx: &AppCtx,
    caller: &Caller,
    contribution: &charter_capital_contribution::Model,
) -> AppResult<i64> {
    let mut entry = journal_entry::ActiveModel {
        entry_date: Set(contribution.contributed_on),
        kind: Set(ENTRY_KIND.into()),
        description: Set(format!(
            "Góp vốn điều lệ / Charter capital contribution: {}",
            contribution.reference
        )),
        loan_id: Set(None),
        transaction_id: Set(None),
        reverses_entry_id: Set(None),
        business_key: Set(Some(format!("charter_capital:{}", contribution.id))),
        created_by: Set(caller.user_id()),
        posted_at: Set(ctx.now()),
        ..Default::default()
    };
    let mut lines = [
        (CASH_AT_BANK, contribution.amount_vnd, 0),
        (CHARTER_CAPITAL, 0, contribution.amount_vnd),
    ]
    .map(
        |(account, debit_vnd, credit_vnd)| journal_line::ActiveModel {
            account_code: Set(account.into()),
            debit_vnd: Set(debit_vnd),
            credit_vnd: Set(credit_vnd),
            loan_id: Set(None),
            ..Default::default()
        },
    );
    super::chains::link_entries(conn, std::slice::from_mut(&mut entry), &[lines.as_slice()])
        .await?;
    let entry = entry.insert(conn).await?;
    for line in &mut lines {
        line.entry_id = Set(entry.id);
        line.clone().insert(conn).await?;
    }
    Ok(entry.id)
}

/// The fund's name, province, business date, paid-in charter capital and contributions. Staff.
#[tracing::instrument(name = "read the fund overview", skip_all)]
pub async fn overview(ctx: &AppCtx, caller: &Caller) -> AppResult<Fund> {
    caller.require(&Role::STAFF)?;
    let db = &ctx.db;
    let contributions = charter_capital_contribution::Entity::find()
        .order_by_asc(charter_capital_contribution::Column::ContributedOn)
        .order_by_asc(charter_capital_contribution::Column::Id)
        .all(db)
        .await?;
    Ok(Fund {
        name: ctx.settings.fund.name.clone(),
        province: ctx.settings.fund.province.clone(),
        business_date: fund::business_date(db).await?,
        paid_in_charter_capital_vnd: fund::paid_in_charter_capital_vnd(db).await?,
        contributions: contributions.into_iter().map(Contribution::from).collect(),
    })
}
