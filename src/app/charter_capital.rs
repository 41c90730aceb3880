//! The fund's paid-in charter capital: contributions recorded by an admin or accountant, and
//! the fund's overview. Their sum sets the Decree 45/2021 Art 23 limits (15% per customer, 25%
//! with related persons) checked at approval.
//!
//! A contribution is posted in the same transaction as its row: Dr 1121 cash at bank / Cr 4111
//! charter capital (DOMAIN.md §9), kind `charter_capital`, no loan, business key
//! `charter_capital:{id}`. [`post_contribution`] is deliberately small and self-contained; the
//! general posting code of the loans module may replace it.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    audit::{self, Change},
    fund, idempotency, validate, Caller,
};
use crate::{
    auth::Role,
    config::FundSettings,
    error::{AppError, AppResult, Reason},
    store::entities::{charter_capital_contribution, journal_entry, journal_line},
};

/// Cash at bank (DOMAIN.md §9).
const CASH_AT_BANK: &str = "1121";
/// Charter capital (DOMAIN.md §9).
const CHARTER_CAPITAL: &str = "4111";

/// A contribution to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionInput {
    /// More than 0 đồng.
    pub amount_vnd: i64,
    /// On or before the business date.
    #[schema(value_type = String, format = Date)]
    pub contributed_on: NaiveDate,
    /// The decision or bank document, e.g. `QĐ 123/QĐ-UBND`.
    pub reference: String,
}

/// A recorded contribution.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContributionView {
    pub id: i64,
    pub amount_vnd: i64,
    #[schema(value_type = String, format = Date)]
    pub contributed_on: NaiveDate,
    pub reference: String,
    pub created_by: Option<i64>,
    /// The journal entry Dr 1121 / Cr 4111.
    pub journal_entry_id: Option<i64>,
}

impl From<charter_capital_contribution::Model> for ContributionView {
    fn from(m: charter_capital_contribution::Model) -> Self {
        ContributionView {
            id: m.id,
            amount_vnd: m.amount_vnd,
            contributed_on: m.contributed_on,
            reference: m.reference,
            created_by: m.created_by,
            journal_entry_id: None,
        }
    }
}

/// The fund at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FundView {
    pub name: String,
    pub province: String,
    #[schema(value_type = String, format = Date)]
    pub business_date: NaiveDate,
    pub paid_in_charter_capital_vnd: i64,
    /// Oldest first.
    pub contributions: Vec<ContributionView>,
}

/// Records a contribution and posts it. Admins and accountants.
///
/// A money command: with an `Idempotency-Key` (`request`), a retry returns the first response and
/// records nothing more; writers are serialized on SQLite like every money command.
pub async fn contribute(
    db: &DatabaseConnection,
    writer: &crate::app::writer::MoneyWriter,
    caller: &Caller,
    input: ContributionInput,
    request: Option<&idempotency::IdempotencyRequest>,
) -> AppResult<idempotency::Idempotent<ContributionView>> {
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
    let _gate = writer.enter(db).await;
    let txn = db.begin().await?;
    if let Some(request) = request {
        if let Some(idempotency::Idempotent::Replayed { status, body }) =
            idempotency::replay_of(&txn, caller, request).await?
        {
            txn.rollback().await?;
            return Ok(idempotency::Idempotent::Replayed { status, body });
        }
    }
    let business_date = fund::business_date(&txn).await?;
    if input.contributed_on > business_date {
        return Err(AppError::invalid(
            "contributed_on",
            Reason::OutOfRange {
                min: "1900-01-01".into(),
                max: business_date.to_string(),
            },
        ));
    }
    let row = charter_capital_contribution::ActiveModel {
        amount_vnd: Set(amount_vnd),
        contributed_on: Set(input.contributed_on),
        reference: Set(reference),
        created_by: Set(caller.user_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let entry_id = post_contribution(&txn, caller, &row).await?;
    let view = ContributionView {
        journal_entry_id: Some(entry_id),
        ..ContributionView::from(row)
    };
    audit::record(
        &txn,
        caller,
        Change::<(), _> {
            action: "charter_capital.contribute",
            entity_type: "charter_capital_contribution",
            entity_id: view.id.to_string(),
            before: None,
            after: Some(&view),
        },
    )
    .await?;
    if let Some(request) = request {
        if let Err(err) = idempotency::remember(&txn, caller, request, 201, &view).await {
            txn.rollback().await?;
            return if idempotency::is_race(&err) {
                idempotency::resolve_race(db, caller, request).await
            } else {
                Err(err)
            };
        }
    }
    txn.commit().await?;
    Ok(idempotency::Idempotent::Fresh(view))
}

/// DOMAIN.md §9: Dr 1121 / Cr 4111 for the contribution, one balanced entry of two lines, on the
/// contribution date. Returns the entry's id.
pub async fn post_contribution<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    contribution: &charter_capital_contribution::Model,
) -> AppResult<i64> {
    let entry = journal_entry::ActiveModel {
        entry_date: Set(contribution.contributed_on),
        kind: Set("charter_capital".into()),
        description: Set(format!(
            "Góp vốn điều lệ / Charter capital contribution: {}",
            contribution.reference
        )),
        loan_id: Set(None),
        transaction_id: Set(None),
        reverses_entry_id: Set(None),
        business_key: Set(Some(format!("charter_capital:{}", contribution.id))),
        created_by: Set(caller.user_id()),
        posted_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    for (account, debit_vnd, credit_vnd) in [
        (CASH_AT_BANK, contribution.amount_vnd, 0),
        (CHARTER_CAPITAL, 0, contribution.amount_vnd),
    ] {
        journal_line::ActiveModel {
            entry_id: Set(entry.id),
            account_code: Set(account.into()),
            debit_vnd: Set(debit_vnd),
            credit_vnd: Set(credit_vnd),
            loan_id: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(entry.id)
}

/// The fund's name, province, business date, paid-in charter capital and contributions. Staff.
pub async fn overview(
    db: &DatabaseConnection,
    caller: &Caller,
    settings: &FundSettings,
) -> AppResult<FundView> {
    caller.require(&[
        Role::Admin,
        Role::Officer,
        Role::Approver,
        Role::Accountant,
        Role::Auditor,
    ])?;
    let contributions = charter_capital_contribution::Entity::find()
        .order_by_asc(charter_capital_contribution::Column::ContributedOn)
        .order_by_asc(charter_capital_contribution::Column::Id)
        .all(db)
        .await?;
    Ok(FundView {
        name: settings.name.clone(),
        province: settings.province.clone(),
        business_date: fund::business_date(db).await?,
        paid_in_charter_capital_vnd: fund::paid_in_charter_capital_vnd(db).await?,
        contributions: contributions
            .into_iter()
            .map(ContributionView::from)
            .collect(),
    })
}
