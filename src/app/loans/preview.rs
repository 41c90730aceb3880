//! Reads for the accountant's desk that change nothing: how a repayment would be allocated before it
//! is posted, and the mails the fund queued about a loan.
//!
//! The preview folds the loan's stored events plus the repayment asked about through the same engine
//! the repayment command uses ([`super::repay`] appends the transaction and folds as of the business
//! date), so the allocation shown is the one the posting will make — no rule is written twice. A
//! payment the engine would refuse (above the payoff) is refused here with the same 422.

use coopfund_domain::{ids::LoanId, LoanEvent, LoanStatus};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    commands::{check_value_date, positive},
    find_for, AllocationView, PayoffView, Repay,
};
use crate::{
    app::{calendar, context::AppCtx, fund, loan_engine, outbox::OutboxMessage, Caller},
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::outbox_message,
};

/// What a repayment would do if posted now.
#[derive(Debug, Clone)]
pub struct RepaymentPreview {
    /// The allocation the engine makes of it (DOMAIN.md §5).
    pub allocation: AllocationView,
    /// The payoff on its value date, before it.
    pub payoff_before: PayoffView,
    /// The payoff on the business date once it is posted (0 when it settles the loan).
    pub payoff_after: PayoffView,
}

/// The event id the preview gives the repayment asked about (never a stored transaction's id, which
/// are numbers).
const PREVIEW_EVENT: &str = "preview";

/// How `command` would be allocated on loan `id` if posted now (accountant; the loan must be active).
/// Nothing is written.
#[tracing::instrument(name = "preview a repayment", skip_all, fields(loan_id = %id))]
pub async fn preview_repayment(
    ctx: &AppCtx,
    caller: &Caller,
    id: LoanId,
    command: &Repay,
) -> AppResult<RepaymentPreview> {
    caller.require(&[Role::Accountant])?;
    let amount = positive("amount_vnd", command.amount)?;
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let status = loan_engine::status_of(&loan)?;
    if status != LoanStatus::Active {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "invalid_loan_state",
            Localized::new(
                format!("Không thể thu nợ khi khoản vay ở trạng thái '{status}'."),
                format!("Cannot post a repayment on a loan whose status is '{status}'."),
            ),
        )
        .with_field("status"));
    }
    let today = fund::business_date(&ctx.db).await?;
    check_value_date("value_date", command.value_date, today)?;
    let calendar = calendar::in_force(&ctx.db).await?;
    let contract = loan_engine::contract_of(&loan, &calendar)?;
    let day_count = loan_engine::day_count_of(&loan)?;
    let stored = loan_engine::transactions_of(&ctx.db, loan.id).await?;
    let mut events = loan_engine::events_of(&stored)?;
    let before = loan_engine::fold_at(&contract, &events, command.value_date)?;
    // After every stored event, as the command's insertion would order it.
    events.push(LoanEvent::repayment(
        PREVIEW_EVENT,
        command.value_date,
        u64::MAX,
        amount,
        command.kind,
    ));
    let after = loan_engine::fold_at(&contract, &events, today)?;
    let allocation = after
        .allocations
        .iter()
        .find(|a| a.event_id.as_deref() == Some(PREVIEW_EVENT))
        .map(AllocationView::from)
        .unwrap_or_default();
    Ok(RepaymentPreview {
        allocation,
        payoff_before: before.payoff_quote(day_count).into(),
        payoff_after: after.payoff_quote(day_count).into(),
    })
}

/// The most mails listed about one loan (newest first).
pub const MAILS_LIMIT: u64 = 50;

/// The mails queued about loan `id` (reminders, notices, receipts), newest first, at most
/// [`MAILS_LIMIT`]. Staff (a cooperative reads its own notifications elsewhere).
#[tracing::instrument(name = "list a loan's mails", skip_all, fields(loan_id = %id))]
pub async fn mails(ctx: &AppCtx, caller: &Caller, id: LoanId) -> AppResult<Vec<OutboxMessage>> {
    caller.require(&crate::app::ledger::READERS)?;
    let loan = find_for(&ctx.db, caller, id.get()).await?;
    let rows = outbox_message::Entity::find()
        .filter(outbox_message::Column::RelatedType.eq("loan"))
        .filter(outbox_message::Column::RelatedId.eq(loan.id.to_string()))
        .order_by_desc(outbox_message::Column::Id)
        .limit(MAILS_LIMIT)
        .all(&ctx.db)
        .await?;
    rows.into_iter().map(OutboxMessage::try_from).collect()
}
