//! After a write-off (Decree 45/2021 Art 29, DOMAIN.md §9): the fund keeps pursuing a written-off debt for
//! years. This module holds what the loan screens show of it and the officers' follow-up actions.
//!
//! - **Under follow-up**: the principal written off and the interest not recognised at the write-off (the
//!   unpaid contractual interest, memo 0041), less what was recovered ([`UnderFollowUp`], on the loan view).
//!   Overdue and late interest accrued until the write-off are not followed up (never booked; see the engine's
//!   module docs).
//! - **Recoveries** are money commands in [`super::loans::recover`]: the written-off principal first, then the
//!   interest not recognised; the loan becomes `recovered` when nothing remains (it then leaves the close of
//!   business like a closed loan). A reversal works as for any transaction.
//! - **Follow-up actions** (`loan_follow_ups`): a visit, a letter, a legal case, with the date and a note,
//!   recorded by officers on a `written_off` loan, read by staff. They are the fund's internal file: a
//!   cooperative is answered 404, as for anything it may not see. Append-only, audited (`loan.follow_up`).
//! - **Early write-off**: a loan still in term (DPD 0, nothing overdue on the write-off's value date) is written
//!   off only when the approver confirms it (`early: true` with `early_reason`, kept in the write-off
//!   transaction's details); otherwise 422 `write_off_in_term`. A loan holding an advance (only a loan in term
//!   can) is refused too, 422 `write_off_advance_held`: the borrower's money must not stay on 3388 behind a
//!   written-off loan.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{LoanState, LoanStatus, TransactionKind, Vnd};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::Serialize;

use super::{
    audit::{self, Audited},
    context::AppCtx,
    fund,
    ledger::READERS,
    loan_engine::{self, contract_of, events_of, kind_of, status_of, transactions_of},
    loans::AllocationView,
    validate, Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::entities::{loan, loan_follow_up},
};

/// What remains of a written-off loan under follow-up, and what was recovered.
#[derive(Debug, Clone, Serialize)]
pub struct UnderFollowUp {
    pub written_off_on: NaiveDate,
    /// Principal written off (memo 0042 at the write-off).
    pub written_off_principal_vnd: Vnd,
    /// Interest not recognised at the write-off (memo 0041): unpaid contractual interest.
    pub written_off_interest_vnd: Vnd,
    pub recovered_principal_vnd: Vnd,
    pub recovered_interest_vnd: Vnd,
    /// Principal still under follow-up (memo 0042 now).
    pub principal_vnd: Vnd,
    /// Interest not recognised still under follow-up (memo 0041 now).
    pub interest_vnd: Vnd,
    /// principal_vnd + interest_vnd: the most a recovery may be.
    pub total_vnd: Vnd,
    /// When the last of it was recovered (the loan is then `recovered`).
    pub recovered_on: Option<NaiveDate>,
}

/// The follow-up summary of a written-off loan (`None` for any other loan).
pub fn under_follow_up(state: &LoanState) -> Option<UnderFollowUp> {
    let written_off_on = state.written_off_on?;
    let principal_vnd = state.principal_under_follow_up();
    let interest_vnd = state.interest_under_follow_up();
    Some(UnderFollowUp {
        written_off_on,
        written_off_principal_vnd: state.written_off_principal,
        written_off_interest_vnd: state.written_off_interest,
        recovered_principal_vnd: state.recovered_principal(),
        recovered_interest_vnd: state.recovered_interest(),
        principal_vnd,
        interest_vnd,
        total_vnd: principal_vnd + interest_vnd,
        recovered_on: state.recovered_on,
    })
}

/// A recovery's split as an allocation: `principal_vnd` written-off principal, `interest_vnd` interest not
/// recognised.
pub fn recovery_split(state: &LoanState, event_id: &str) -> Option<AllocationView> {
    state
        .recoveries
        .iter()
        .find(|r| r.event_id == event_id)
        .map(|r| AllocationView {
            principal_vnd: r.principal,
            interest_vnd: r.interest,
            ..Default::default()
        })
}

/// The approver's confirmation of an early write-off.
#[derive(Debug, Clone, Serialize)]
pub struct EarlyWriteOff {
    pub early: bool,
    pub early_reason: String,
}

/// Reads `early` and `early_reason` of a write-off: `early: true` needs a reason (400 `required`).
pub fn early_write_off(
    early: Option<bool>,
    early_reason: Option<&str>,
) -> AppResult<Option<EarlyWriteOff>> {
    if early != Some(true) {
        return Ok(None);
    }
    let reason = early_reason.unwrap_or_default();
    if reason.trim().is_empty() {
        return Err(AppError::invalid("early_reason", Reason::Required));
    }
    Ok(Some(EarlyWriteOff {
        early: true,
        early_reason: validate::text("early_reason", reason, 2000)?,
    }))
}

/// Refuses to write off a loan still in term on the value date (`state`, before the write-off) unless
/// confirmed as early, or one holding an advance (the borrower's money would stay on 3388 for ever: reverse
/// the payment and post it again as a prepayment, which cuts the principal, or refund it first); the
/// write-off transaction's details.
pub fn check_write_off(state: &LoanState, early: Option<&EarlyWriteOff>) -> AppResult<String> {
    if state.advance.is_positive() {
        // The stored figure, as the message has always written it.
        let advance = state.advance.as_decimal();
        return Err(AppError::new(
            ErrorKind::Rule,
            "write_off_advance_held",
            Localized::new(
                format!("Khoản vay đang giữ {advance} đồng tiền trả trước: hãy hủy và ghi lại khoản thu đó như trả nợ trước hạn (hoặc hoàn trả) trước khi xử lý rủi ro."),
                format!("The loan holds an advance of {advance} đồng: reverse that payment and post it again as a prepayment (or refund it) before writing the loan off."),
            ),
        ));
    }
    let in_term =
        state.dpd == 0 && state.overdue_principal.is_zero() && state.unpaid_interest.is_zero();
    match early {
        Some(early) if in_term => serde_json::to_string(early).map_err(AppError::internal),
        None if in_term => Err(AppError::new(
            ErrorKind::Rule,
            "write_off_in_term",
            Localized::new(
                "Khoản vay còn trong hạn (không có nợ quá hạn): chỉ xử lý rủi ro trước hạn khi người phê duyệt xác nhận (early: true) và nêu lý do (early_reason).",
                "The loan is still in term (nothing overdue): an early write-off needs the approver's confirmation (early: true) and a reason (early_reason).",
            ),
        )
        .with_field("early")),
        _ => Ok("{}".into()),
    }
}

// ----- follow-up actions -----

/// The kind of a follow-up action, stored and shown by its name (`visit`, `letter`, `legal_case`,
/// `other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// A visit to the cooperative.
    Visit,
    /// A letter sent to it.
    Letter,
    /// A case brought to court.
    LegalCase,
    /// Anything else (the note says what).
    Other,
}

impl ActionKind {
    /// Every kind, in the order they are offered.
    pub const ALL: [ActionKind; 4] = [
        ActionKind::Visit,
        ActionKind::Letter,
        ActionKind::LegalCase,
        ActionKind::Other,
    ];

    /// Its name, as stored and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Visit => "visit",
            ActionKind::Letter => "letter",
            ActionKind::LegalCase => "legal_case",
            ActionKind::Other => "other",
        }
    }

    /// The kind named `name`, or the 400 on `field` listing the kinds.
    pub fn parse(field: &str, name: &str) -> AppResult<ActionKind> {
        ActionKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| {
                AppError::invalid(
                    field,
                    Reason::UnknownValue {
                        allowed: ActionKind::ALL.map(ActionKind::as_str).join(", "),
                    },
                )
            })
    }
}

/// `POST /loans/{id}/follow-ups` (officer).
#[derive(Debug, Clone)]
pub struct FollowUpInput {
    /// visit, letter, legal_case or other.
    pub kind: String,
    /// When it was done (at most the business date).
    pub acted_on: NaiveDate,
    /// What was done and found (required).
    pub note: String,
}

/// One follow-up action.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpView {
    pub id: i64,
    pub loan_id: i64,
    pub kind: ActionKind,
    pub acted_on: NaiveDate,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A follow-up action is audited on its loan.
impl Audited for FollowUpView {
    const ENTITY_TYPE: &'static str = "loan";
    fn audit_id(&self) -> String {
        self.loan_id.to_string()
    }
}

impl TryFrom<loan_follow_up::Model> for FollowUpView {
    type Error = AppError;

    /// A stored kind that is not one of [`ActionKind::ALL`] is an error naming the action.
    fn try_from(m: loan_follow_up::Model) -> AppResult<Self> {
        let kind = ActionKind::parse("kind", &m.kind)
            .map_err(|_| AppError::unreadable("follow-up action", m.id, "kind", &m.kind))?;
        Ok(FollowUpView {
            id: m.id,
            loan_id: m.loan_id,
            kind,
            acted_on: m.acted_on,
            note: m.note,
            created_by: m.created_by,
            created_at: m.created_at,
        })
    }
}

/// One recovery in the follow-up file.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryLine {
    pub transaction_id: i64,
    pub value_date: NaiveDate,
    pub reference: String,
    pub amount_vnd: Vnd,
    pub principal_vnd: Vnd,
    pub interest_vnd: Vnd,
}

/// `GET /loans/{id}/follow-ups`: what remains, the recoveries (reversed ones left out) and the actions,
/// oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpFile {
    pub loan_id: i64,
    pub status: String,
    pub as_of: NaiveDate,
    /// Absent when the loan is not written off.
    pub under_follow_up: Option<UnderFollowUp>,
    pub recoveries: Vec<RecoveryLine>,
    pub actions: Vec<FollowUpView>,
}

fn loan_not_found() -> AppError {
    AppError::not_found("khoản vay", "Loan")
}

/// A cooperative never sees the fund's follow-up file: 404, as for a loan it may not see.
fn hide_from_cooperatives(caller: &Caller) -> AppResult<()> {
    if caller.role() == Role::Cooperative {
        return Err(loan_not_found());
    }
    Ok(())
}

/// Records a follow-up action on a written-off loan (officer), audited.
#[tracing::instrument(name = "record a follow-up action", skip_all, fields(loan_id = loan_id))]
pub async fn record(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: i64,
    input: FollowUpInput,
) -> AppResult<FollowUpView> {
    hide_from_cooperatives(caller)?;
    caller.require(&[Role::Officer])?;
    let kind = ActionKind::parse("kind", &input.kind)?;
    let note = validate::text("note", &input.note, 4000)?;
    let txn = ctx.db.begin().await?;
    let found = loan::Entity::find_by_id(loan_id)
        .one(&txn)
        .await?
        .ok_or_else(loan_not_found)?;
    if status_of(&found)? != LoanStatus::WrittenOff {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "invalid_loan_state",
            Localized::new(
                format!(
                    "Chỉ ghi nhận biện pháp thu hồi cho khoản vay đã xử lý rủi ro; khoản vay đang ở trạng thái '{}'.",
                    found.status
                ),
                format!(
                    "Follow-up actions are recorded on written-off loans; this loan's status is '{}'.",
                    found.status
                ),
            ),
        )
        .with_field("status"));
    }
    let today = fund::business_date(&txn).await?;
    if input.acted_on > today {
        return Err(AppError::new(
            ErrorKind::Rule,
            "value_date_after_business_date",
            Localized::new(
                format!(
                    "Ngày thực hiện {} sau ngày làm việc hiện tại {today}.",
                    input.acted_on
                ),
                format!(
                    "The action's date {} is after the business date {today}.",
                    input.acted_on
                ),
            ),
        )
        .with_field("acted_on"));
    }
    let inserted = loan_follow_up::ActiveModel {
        loan_id: Set(found.id),
        kind: Set(kind.as_str().to_string()),
        acted_on: Set(input.acted_on),
        note: Set(note),
        created_by: Set(caller.user_id()),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let view = FollowUpView::try_from(inserted)?;
    audit::created(&txn, ctx, caller, "loan.follow_up", &view).await?;
    txn.commit().await?;
    Ok(view)
}

/// The follow-up file of a loan (staff).
#[tracing::instrument(name = "read a loan's follow-up file", skip_all, fields(loan_id = loan_id))]
pub async fn file(ctx: &AppCtx, caller: &Caller, loan_id: i64) -> AppResult<FollowUpFile> {
    hide_from_cooperatives(caller)?;
    caller.require(&READERS)?;
    let found = loan::Entity::find_by_id(loan_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(loan_not_found)?;
    let today = fund::business_date(&ctx.db).await?;
    let transactions = transactions_of(&ctx.db, found.id).await?;
    let calendar = super::calendar::in_force(&ctx.db).await?;
    let state = loan_engine::fold_at(
        &contract_of(&found, &calendar)?,
        &events_of(&transactions)?,
        today,
    )?;
    let mut recovery_transactions = Vec::new();
    for tx in &transactions {
        if kind_of(tx)? == TransactionKind::Recovery {
            recovery_transactions.push(tx);
        }
    }
    let recoveries = state
        .recoveries
        .iter()
        .filter_map(|r| {
            let tx = recovery_transactions
                .iter()
                .find(|t| t.id.to_string() == r.event_id)?;
            Some(RecoveryLine {
                transaction_id: tx.id,
                value_date: r.value_date,
                reference: tx.reference.clone(),
                amount_vnd: r.amount,
                principal_vnd: r.principal,
                interest_vnd: r.interest,
            })
        })
        .collect();
    let actions = loan_follow_up::Entity::find()
        .filter(loan_follow_up::Column::LoanId.eq(found.id))
        .order_by_asc(loan_follow_up::Column::ActedOn)
        .order_by_asc(loan_follow_up::Column::Id)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(FollowUpView::try_from)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(FollowUpFile {
        loan_id: found.id,
        status: found.status.clone(),
        as_of: today,
        under_follow_up: under_follow_up(&state),
        recoveries,
        actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_kind_reads_back_from_its_stored_name_and_an_unknown_one_is_a_400_listing_them()
    {
        for kind in ActionKind::ALL {
            assert_eq!(ActionKind::parse("kind", kind.as_str()).unwrap(), kind);
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
        let refused = ActionKind::parse("kind", "phone_call").unwrap_err();
        assert_eq!(refused.code, "unknown_value");
        assert_eq!(refused.field.as_deref(), Some("kind"));
        assert_eq!(
            refused.message.en,
            "Field 'kind' has an unknown value; allowed: visit, letter, legal_case, other."
        );
        assert_eq!(
            refused.message.vi,
            "Giá trị của trường 'kind' không hợp lệ; chấp nhận: visit, letter, legal_case, other."
        );
    }
}
