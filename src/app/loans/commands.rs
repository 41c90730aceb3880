//! The loan commands: sign, disburse, repay, reverse, restructure, write off, recover. Each takes a typed
//! command (names, kinds and dates already parsed by its caller: `TryFrom` of the API's body, a page's form, the
//! demo) and runs in one unit of work (see the module docs of [`super`]).

use std::{future::Future, pin::Pin};

use chrono::NaiveDate;
use coopfund_domain::{
    ids::{LoanId, TransactionId},
    LoanStatus, Method, RepaymentKind, RestructureKind, TransactionKind, Vnd,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QueryTrait, Set, TryIntoModel,
};
use serde::Serialize;

use super::{lock_loan_with_calendar, state_of, LoanView, LockedLoan, TransactionView};
use crate::{
    app::{
        audit::{self, Change},
        context::AppCtx,
        deferred_writes::{self, Changes},
        event_mail, follow_ups,
        idempotency::{run_keyed, IdempotencyKey, Idempotent},
        ledger::{self, Posting},
        loan_engine::{self, contract_of, kind_of, status_of, transactions_of},
        validate, Caller,
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::entities::{journal_entry, loan, loan_transaction},
};

// ----- commands -----

/// Sign the contract of an approved loan.
#[derive(Debug, Clone)]
pub struct SignContract {
    /// The contract number (số hợp đồng tín dụng).
    pub contract_number: String,
    /// The signing date, at most the business date.
    pub signed_on: NaiveDate,
}

/// Pay out a tranche.
#[derive(Debug, Clone)]
pub struct Disburse {
    /// The amount, above zero.
    pub amount: Vnd,
    /// At most the business date, not before the contract was signed.
    pub value_date: NaiveDate,
    /// The bank's reference (UNC …).
    pub reference: String,
}

/// Post money received.
#[derive(Debug, Clone)]
pub struct Repay {
    /// The amount, above zero and at most the payoff.
    pub amount: Vnd,
    /// At most the business date; back-dated payments are replayed by the engine.
    pub value_date: NaiveDate,
    /// The bank's reference.
    pub reference: String,
    /// Ordinary (excess held as an advance) or prepayment (excess cuts principal).
    pub kind: RepaymentKind,
}

/// Reverse a transaction of the loan.
#[derive(Debug, Clone)]
pub struct Reverse {
    /// The transaction to cancel.
    pub transaction_id: TransactionId,
    /// Why (required).
    pub reason: String,
}

/// Restructure the loan (Decree 45/2021 Art 27).
#[derive(Debug, Clone)]
pub struct Restructure {
    /// Adjustment (due dates move, maturity unchanged) or extension (maturity later).
    pub kind: RestructureKind,
    /// The first new due date, after the business date.
    pub first_due_on: NaiveDate,
    /// Number of new installments for all unpaid principal.
    pub installments: u32,
    /// Months between new due dates (`None`: the loan's).
    pub period_months: Option<u32>,
    /// Method of the new schedule (`None`: the loan's).
    pub method: Option<Method>,
    /// Interest-only installments at the start.
    pub principal_grace: u32,
    /// Interest waived or reduced: needs `interest_reduction` above zero.
    pub interest_reduced: bool,
    /// Interest forgiven (late, then overdue, then unpaid contractual interest).
    pub interest_reduction: Vnd,
    /// Effective date (`None`: the business date, also the latest allowed).
    pub value_date: Option<NaiveDate>,
    /// Why (required; the approval's grounds).
    pub reason: String,
}

/// Write the loan off (Decree 45/2021 Art 29).
#[derive(Debug, Clone)]
pub struct WriteOff {
    /// The risk handling council's decision and grounds (required).
    pub reason: String,
    /// Effective date (`None`: the business date, also the latest allowed).
    pub value_date: Option<NaiveDate>,
    /// The approver's confirmation of writing off a loan still in term.
    pub early: Option<follow_ups::EarlyWriteOff>,
}

/// Record money recovered on a written-off loan (DOMAIN.md §9).
#[derive(Debug, Clone)]
pub struct Recover {
    /// The amount, above zero and at most what remains under follow-up.
    pub amount: Vnd,
    /// At most the business date, not before the write-off.
    pub value_date: NaiveDate,
    /// The bank's reference, or the court's enforcement decision.
    pub reference: String,
}

// ----- the money command frame -----

type Command<'t, T> = Pin<Box<dyn Future<Output = AppResult<T>> + Send + 't>>;

/// Runs a money command on loan `loan_id` in the one idempotent unit of work ([`run_keyed`], operation
/// `loan.{operation}:{loan_id}`): the loan locked for the rest of the transaction, the business date and the
/// fund's calendar in force (one statement for both: every command that folds needs the calendar), the
/// command. `links` says whether the command links rows into the loan's part of the chains (a transaction,
/// its entry, its audit record): then on SQLite their heads are read with the lock, in the same round trip.
async fn run_money<T, F>(
    ctx: &AppCtx,
    caller: &Caller,
    operation: &str,
    loan_id: LoanId,
    key: Option<&IdempotencyKey>,
    links: bool,
    command: F,
) -> AppResult<Idempotent<T>>
where
    T: Serialize + Send,
    F: for<'t> FnOnce(&'t DatabaseTransaction, LockedLoan) -> Command<'t, T> + Send + 'static,
{
    let operation = format!("loan.{operation}:{loan_id}");
    run_keyed(ctx, caller, &operation, key, move |txn| {
        Box::pin(async move {
            let mut locked = Box::pin(lock_loan_with_calendar(txn, loan_id.get(), links)).await?;
            // The row with the as-of date of its cached balances, as every reader takes it (the close leaves
            // unchanged loans unwritten; issue 14, cobpg): the command's audited "before" shows it.
            locked.loan.balances_as_of =
                crate::app::ledger::effective_balances_as_of(&locked.loan, &locked.marks)?;
            command(txn, locked).await
        })
    })
    .await
}

/// The loan's status when it is one of `allowed`; 409 `invalid_loan_state` naming it otherwise.
fn require_status(
    loan: &loan::Model,
    allowed: &[LoanStatus],
    action_vi: &str,
    action_en: &str,
) -> AppResult<LoanStatus> {
    let status = status_of(loan)?;
    if allowed.contains(&status) {
        return Ok(status);
    }
    Err(AppError::new(
        ErrorKind::Conflict,
        "invalid_loan_state",
        Localized::new(
            format!("Không thể {action_vi} khi khoản vay ở trạng thái '{status}'."),
            format!("Cannot {action_en} a loan whose status is '{status}'."),
        ),
    )
    .with_field("status"))
}

pub(super) fn check_value_date(
    field: &str,
    value_date: NaiveDate,
    today: NaiveDate,
) -> AppResult<()> {
    if value_date > today {
        return Err(AppError::new(
            ErrorKind::Rule,
            "value_date_after_business_date",
            Localized::new(
                format!("Ngày hiệu lực {value_date} sau ngày làm việc hiện tại {today}."),
                format!("The value date {value_date} is after the business date {today}."),
            ),
        )
        .with_field(field));
    }
    Ok(())
}

/// DOMAIN.md §7: a new schedule starts after the business date, so a back-dated restructuring can never leave
/// the loan past due on its new schedule the moment it is recorded.
fn check_new_schedule_starts_after(first_due_on: NaiveDate, today: NaiveDate) -> AppResult<()> {
    if first_due_on <= today {
        return Err(AppError::new(
            ErrorKind::Rule,
            "restructure_first_due_not_after_business_date",
            Localized::new(
                format!(
                    "Kỳ trả nợ đầu tiên của lịch mới ({}) phải sau ngày làm việc hiện tại ({}).",
                    first_due_on.format("%d/%m/%Y"),
                    today.format("%d/%m/%Y")
                ),
                format!(
                    "The new schedule's first due date ({first_due_on}) must be after the business date ({today})."
                ),
            ),
        )
        .with_field("first_due_on"));
    }
    Ok(())
}

pub(super) fn positive(field: &str, amount: Vnd) -> AppResult<Vnd> {
    if amount.is_positive() {
        Ok(amount)
    } else {
        Err(AppError::invalid(field, Reason::MustBePositive))
    }
}

fn amount_vnd(amount: Vnd) -> AppResult<i64> {
    amount.to_i64().ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "amount {amount} does not fit a stored amount"
        ))
    })
}

fn reference_of(reference: &str) -> AppResult<String> {
    validate::text("reference", reference, 100)
}

fn reason_of(reason: &str) -> AppResult<String> {
    validate::text("reason", reason, 2000)
}

/// A transaction about to be appended to a loan; one constructor per kind.
struct NewTransaction {
    kind: TransactionKind,
    value_date: NaiveDate,
    amount_vnd: i64,
    reference: String,
    repayment_kind: Option<RepaymentKind>,
    reverses_id: Option<i64>,
    reason: Option<String>,
    details: String,
    approved_by: Option<i64>,
}

impl NewTransaction {
    fn of(
        kind: TransactionKind,
        value_date: NaiveDate,
        amount: Vnd,
        reference: String,
    ) -> AppResult<NewTransaction> {
        Ok(NewTransaction {
            kind,
            value_date,
            amount_vnd: amount_vnd(amount)?,
            reference,
            repayment_kind: None,
            reverses_id: None,
            reason: None,
            details: "{}".into(),
            approved_by: None,
        })
    }

    /// Cancels `original`: same value date, amount and reference.
    fn reversal(original: &loan_transaction::Model, reason: String) -> NewTransaction {
        NewTransaction {
            kind: TransactionKind::Reversal,
            value_date: original.value_date,
            amount_vnd: original.amount_vnd,
            reference: original.reference.clone(),
            repayment_kind: None,
            reverses_id: Some(original.id),
            reason: Some(reason),
            details: "{}".into(),
            approved_by: None,
        }
    }

    fn restructure(
        terms: &coopfund_domain::Restructure,
        decision: Decision,
    ) -> AppResult<NewTransaction> {
        let details = serde_json::to_string(terms).map_err(AppError::internal)?;
        let reference = terms.kind.as_str().to_string();
        decision.record(TransactionKind::Restructure, Vnd::ZERO, reference, details)
    }

    fn write_off(principal: Vnd, details: String, decision: Decision) -> AppResult<NewTransaction> {
        decision.record(
            TransactionKind::WriteOff,
            principal,
            "write-off".into(),
            details,
        )
    }
}

/// An approver's decision on the loan (a restructuring, a write-off), as its transaction records it.
struct Decision {
    /// The effective date: the business date unless the command gave an earlier one.
    value_date: NaiveDate,
    /// Why (the approval's grounds, the council's decision).
    reason: String,
    /// The approver.
    approved_by: Option<i64>,
}

impl Decision {
    /// The transaction of kind `kind` recording this decision.
    fn record(
        self,
        kind: TransactionKind,
        amount: Vnd,
        reference: String,
        details: String,
    ) -> AppResult<NewTransaction> {
        Ok(NewTransaction {
            reason: Some(self.reason),
            details,
            approved_by: self.approved_by,
            ..NewTransaction::of(kind, self.value_date, amount, reference)?
        })
    }
}

/// A transaction appended and posted: its view, the loan row after it and the fold the books were posted from.
pub(crate) struct Recorded {
    /// The transaction as the API shows it.
    pub view: TransactionView,
    /// The stored transaction.
    pub transaction: loan_transaction::Model,
    /// The loan row with its cached balances updated.
    pub loan: loan::Model,
    /// The loan as of the business date, with the transaction.
    pub state: coopfund_domain::LoanState,
    /// The fund's calendar in force, as the fold used it (the mail's next due date reads it too).
    pub calendar: coopfund_domain::HolidayCalendar,
}

/// The audit record's `after` of an appended transaction: `{"transaction", "loan", "journal_entry_id"}`, in
/// that order. Serialised straight to its text, not built as a `serde_json::Value` tree first (a map and a
/// copy of every field of both views, on every money command).
#[derive(Serialize)]
struct RecordedAfter<'a> {
    transaction: &'a TransactionView,
    loan: &'a LoanView,
    journal_entry_id: Option<i64>,
}

/// Appends a transaction, refolds, posts the books, caches balances and audits.
async fn record(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    locked: LockedLoan,
    new: NewTransaction,
) -> AppResult<Recorded> {
    let LockedLoan {
        loan,
        today,
        calendar,
        mut heads,
        next_ids,
        ..
    } = locked;
    let mut inserted = loan_transaction::ActiveModel {
        loan_id: Set(loan.id),
        kind: Set(new.kind.as_str().to_string()),
        value_date: Set(new.value_date),
        amount_vnd: Set(new.amount_vnd),
        reference: Set(new.reference),
        repayment_kind: Set(new.repayment_kind.map(|kind| kind.as_str().to_string())),
        reverses_id: Set(new.reverses_id),
        reason: Set(new.reason),
        details: Set(new.details),
        approved_by: Set(new.approved_by),
        created_by: Set(caller.user_id()),
        created_at: Set(ctx.now()),
        ..Default::default()
    };
    // The three chains this command appends to (the transaction, its entry, the audit record) are read
    // once, at this first row (on PostgreSQL locked to the commit, as one `link` would), and moved in
    // one statement once the audit record is linked.
    // The loan's part of each chain (issue 14, chainparts): commands on loans of other parts do not wait.
    heads
        .link(
            txn,
            coopfund_domain::chain::Chain::LoanTransactions,
            std::slice::from_mut(&mut inserted),
        )
        .await?;
    let inserted = match next_ids {
        // Its id known (SQLite, `NextIds`): the insert goes with the posting's reads, which see it.
        Some(ids) => {
            inserted.id = Set(ids.transaction_id);
            let row = inserted.clone().try_into_model()?;
            let insert =
                loan_transaction::Entity::insert(inserted).build(txn.get_database_backend());
            deferred_writes::execute(txn, insert, Changes::Any).await?;
            row
        }
        None => inserted.insert(txn).await?,
    };
    // A back-dated event or a reversal makes the loan's later snapshots stale (issue 14), and so does one dated
    // on the business date once the close of that date has closed the loan.
    crate::app::loan_engine::invalidate_snapshots(txn, &inserted, today, loan.balances_as_of)
        .await?;
    let reverses_entry_id = match new.reverses_id {
        Some(original) => journal_entry::Entity::find()
            .filter(journal_entry::Column::TransactionId.eq(original))
            .order_by_asc(journal_entry::Column::Id)
            .one(txn)
            .await?
            .map(|e| e.id),
        None => None,
    };
    let posting = Posting {
        kind: new.kind.as_str().to_string(),
        entry_date: today,
        description: format!(
            "{} {} #{} ({}, {})",
            new.kind.journal_name(),
            loan.number,
            inserted.id,
            inserted.value_date,
            inserted.reference
        ),
        transaction_id: Some(inserted.id),
        reverses_entry_id,
        business_key: Some(format!("loan:{}:tx:{}", loan.id, inserted.id)),
        posted_at: ctx.now(),
        entry_id: next_ids.map(|ids| ids.entry_id),
    };
    let before = LoanView::cached(loan.clone())?;
    // Read once for the command (with the business date, `run_money`): the fold, the mail's next due date (its
    // grace end) and nothing else.
    let refolded = ledger::refold_and_post(
        txn,
        &mut heads,
        &ctx.policy.classification,
        caller,
        loan,
        today,
        &posting,
        &calendar,
        |_, _, _| ledger::Provision::Keep,
    )
    .await?;
    // The allocation is not stored on the (append-only) transaction row: it is the engine's, recomputed on
    // every read, and kept as posted in the audit record below. No other transaction of the loan is read for
    // the view: the one just appended cannot have been reversed yet (`reversed_by` is empty).
    let view = TransactionView::of(&inserted, &[], &refolded.state)?;
    let after = LoanView::live(ctx, refolded.loan.clone(), &refolded.state, today)?;
    audit::record_linked(
        txn,
        &mut heads,
        caller,
        ctx.now(),
        Change {
            action: &format!("loan.{}", new.kind.as_str()),
            entity_type: "loan",
            entity_id: refolded.loan.id.to_string(),
            before: Some(&before),
            after: Some(&RecordedAfter {
                transaction: &view,
                loan: &after,
                journal_entry_id: refolded.entry_id,
            }),
        },
    )
    .await?;
    heads.finish(txn).await?;
    Ok(Recorded {
        view,
        transaction: inserted,
        loan: refolded.loan,
        state: refolded.state,
        calendar,
    })
}

// ----- appending a transaction -----

/// The mail a transaction queues in its own unit of work (DOMAIN.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mail {
    /// No mail.
    Nothing,
    /// The disbursement notice.
    Disbursement,
    /// The payment receipt (allocation, next due).
    PaymentReceipt,
    /// The payment receipt of a recovery.
    RecoveryReceipt,
}

/// The rule of one kind of transaction: the loan statuses it applies in, how a refusal names it, its mail.
struct Rule {
    /// The idempotency operation (`loan.{operation}:{loan_id}`).
    operation: &'static str,
    /// The kind of transaction appended.
    kind: TransactionKind,
    statuses: &'static [LoanStatus],
    action_vi: &'static str,
    action_en: &'static str,
    mail: Mail,
}

const DISBURSEMENT: Rule = Rule {
    operation: "disburse",
    kind: TransactionKind::Disbursement,
    statuses: &[LoanStatus::ContractSigned, LoanStatus::Active],
    action_vi: "giải ngân",
    action_en: "disburse",
    mail: Mail::Disbursement,
};
const REPAYMENT: Rule = Rule {
    operation: "repay",
    kind: TransactionKind::Repayment,
    statuses: &[LoanStatus::Active],
    action_vi: "thu nợ",
    action_en: "post a repayment on",
    mail: Mail::PaymentReceipt,
};
/// Any transaction of the loan can be reversed (the engine refuses what cannot be replayed).
const REVERSAL: Rule = Rule {
    operation: "reverse",
    kind: TransactionKind::Reversal,
    statuses: LoanStatus::ALL,
    action_vi: "hủy giao dịch",
    action_en: "reverse a transaction of",
    mail: Mail::Nothing,
};
const RESTRUCTURE: Rule = Rule {
    operation: "restructure",
    kind: TransactionKind::Restructure,
    statuses: &[LoanStatus::Active],
    action_vi: "cơ cấu lại",
    action_en: "restructure",
    mail: Mail::Nothing,
};
const WRITE_OFF: Rule = Rule {
    operation: "write_off",
    kind: TransactionKind::WriteOff,
    statuses: &[LoanStatus::Active],
    action_vi: "xử lý rủi ro",
    action_en: "write off",
    mail: Mail::Nothing,
};
/// A recovered loan goes to the engine too: its refusal names what remains (0).
const RECOVERY: Rule = Rule {
    operation: "recover",
    kind: TransactionKind::Recovery,
    statuses: &[LoanStatus::WrittenOff, LoanStatus::Recovered],
    action_vi: "thu hồi nợ đã xử lý rủi ro",
    action_en: "record a recovery on",
    mail: Mail::RecoveryReceipt,
};

type Build<'t> = Pin<Box<dyn Future<Output = AppResult<NewTransaction>> + Send + 't>>;

/// Appends the transaction `build` makes (after its own checks on the locked loan and the business date) to
/// loan `loan_id` under `rule`, in one money command: the status check, [`record`], the mail.
async fn append<F>(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    key: Option<&IdempotencyKey>,
    rule: &'static Rule,
    build: F,
) -> AppResult<Idempotent<TransactionView>>
where
    F: for<'t> FnOnce(&'t DatabaseTransaction, &'t loan::Model, NaiveDate) -> Build<'t>
        + Send
        + 'static,
{
    let ctx_owned = ctx.clone();
    let caller_owned = caller.clone();
    // Boxed: a money command's future is large, and a caller that awaits several in turn (the bank
    // statement's confirmation) would otherwise carry it on a debug build's stack.
    Box::pin(run_money(
        ctx,
        caller,
        rule.operation,
        loan_id,
        key,
        true,
        move |txn, locked| {
            Box::pin(async move {
                require_status(&locked.loan, rule.statuses, rule.action_vi, rule.action_en)?;
                let new = build(txn, &locked.loan, locked.today).await?;
                let recorded = record(txn, &ctx_owned, &caller_owned, locked, new).await?;
                let settings = &ctx_owned.settings;
                match rule.mail {
                    Mail::Nothing => {}
                    Mail::Disbursement => {
                        event_mail::disbursement(txn, settings, &recorded).await?
                    }
                    Mail::PaymentReceipt => {
                        event_mail::payment_receipt(txn, settings, &recorded).await?
                    }
                    Mail::RecoveryReceipt => {
                        event_mail::recovery_receipt(txn, settings, &recorded).await?
                    }
                }
                Ok(recorded.view)
            })
        },
    ))
    .await
}

// ----- the use cases -----

/// Signs the contract: `approved` → `contract_signed`. Officers and approvers.
#[tracing::instrument(name = "sign a loan contract", skip_all, fields(loan_id = %loan_id))]
pub async fn sign(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    command: SignContract,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<LoanView>> {
    caller.require(&[Role::Officer, Role::Approver])?;
    let contract_number = validate::text("contract_number", &command.contract_number, 50)?;
    let (ctx_owned, caller_owned) = (ctx.clone(), caller.clone());
    run_money(
        ctx,
        caller,
        "sign",
        loan_id,
        key,
        false,
        move |txn,
              LockedLoan {
                  loan,
                  today,
                  calendar,
                  ..
              }| {
            Box::pin(async move {
                require_status(
                    &loan,
                    &[LoanStatus::Approved],
                    "ký hợp đồng",
                    "sign the contract of",
                )?;
                check_value_date("signed_on", command.signed_on, today)?;
                let before = LoanView::cached(loan.clone())?;
                let version = loan.version + 1;
                let mut active: loan::ActiveModel = loan.into();
                active.status = Set(LoanStatus::ContractSigned.as_str().into());
                active.contract_number = Set(Some(contract_number));
                active.signed_on = Set(Some(command.signed_on));
                active.version = Set(version);
                active.updated_at = Set(ctx_owned.now());
                let signed = active.update(txn).await?;
                let contract = contract_of(&signed, &calendar)?;
                let state = loan_engine::fold_at(&contract, &[], today)?;
                let after = LoanView::live(&ctx_owned, signed, &state, today)?;
                audit::changed(txn, &ctx_owned, &caller_owned, "loan.sign", &before, &after)
                    .await?;
                Ok(after)
            })
        },
    )
    .await
}

/// Money paid out or received on the loan (a disbursement, a repayment, a recovery), as its command gave it.
struct Movement {
    amount: Vnd,
    value_date: NaiveDate,
    reference: String,
    /// A repayment's kind; `None` for the others.
    repayment_kind: Option<RepaymentKind>,
}

impl Movement {
    fn of(amount: Vnd, value_date: NaiveDate, reference: String) -> Movement {
        Movement {
            amount,
            value_date,
            reference,
            repayment_kind: None,
        }
    }
}

/// Appends `movement` (accountant) under `rule`: the amount above zero, the reference checked, the value
/// date at most the business date and passing `check` on the locked loan. The engine refuses more than
/// there is to pay (a repayment above the payoff, a recovery above what remains).
async fn append_movement(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    key: Option<&IdempotencyKey>,
    rule: &'static Rule,
    movement: Movement,
    check: fn(&loan::Model, NaiveDate) -> AppResult<()>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Accountant])?;
    let amount = positive("amount_vnd", movement.amount)?;
    let reference = reference_of(&movement.reference)?;
    let (value_date, repayment_kind) = (movement.value_date, movement.repayment_kind);
    append(ctx, caller, loan_id, key, rule, move |_, loan, today| {
        Box::pin(async move {
            check_value_date("value_date", value_date, today)?;
            check(loan, value_date)?;
            Ok(NewTransaction {
                repayment_kind,
                ..NewTransaction::of(rule.kind, value_date, amount, reference)?
            })
        })
    })
    .await
}

/// Appends the transaction `build` makes from an approver's decision (a restructuring, a write-off) under
/// `rule`: `reason` (already checked) and the effective date, `value_date` or else the business date and
/// never after it, recorded with the approver.
async fn append_decision<F>(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    key: Option<&IdempotencyKey>,
    rule: &'static Rule,
    (reason, value_date): (String, Option<NaiveDate>),
    build: F,
) -> AppResult<Idempotent<TransactionView>>
where
    F: for<'t> FnOnce(&'t DatabaseTransaction, &'t loan::Model, NaiveDate, Decision) -> Build<'t>
        + Send
        + 'static,
{
    let approved_by = caller.user_id();
    append(ctx, caller, loan_id, key, rule, move |txn, loan, today| {
        let value_date = value_date.unwrap_or(today);
        let decision = Decision {
            value_date,
            reason,
            approved_by,
        };
        Box::pin(async move {
            check_value_date("value_date", value_date, today)?;
            build(txn, loan, today, decision).await
        })
    })
    .await
}

/// A tranche is paid out under a signed contract: not before it was signed.
fn after_signing(loan: &loan::Model, value_date: NaiveDate) -> AppResult<()> {
    if loan.signed_on.is_some_and(|signed| value_date < signed) {
        return Err(AppError::new(
            ErrorKind::Rule,
            "value_date_before_contract",
            Localized::new(
                "Ngày giải ngân trước ngày ký hợp đồng.",
                "The disbursement's value date is before the contract was signed.",
            ),
        )
        .with_field("value_date"));
    }
    Ok(())
}

/// A repayment or a recovery may be dated any day up to the business date.
fn any_time(_: &loan::Model, _: NaiveDate) -> AppResult<()> {
    Ok(())
}

/// Disburses a tranche (accountant): never above the approved principal (422), value date ≤ business date;
/// the first one makes the loan active.
#[tracing::instrument(name = "disburse a loan", skip_all, fields(loan_id = %loan_id))]
pub async fn disburse(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    command: Disburse,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<TransactionView>> {
    let movement = Movement::of(command.amount, command.value_date, command.reference);
    append_movement(
        ctx,
        caller,
        loan_id,
        key,
        &DISBURSEMENT,
        movement,
        after_signing,
    )
    .await
}

/// Posts a repayment (accountant). Above the payoff → 422 naming the payoff; equal to it closes the loan.
#[tracing::instrument(name = "post a repayment", skip_all, fields(loan_id = %loan_id))]
pub async fn repay(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    command: Repay,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<TransactionView>> {
    let movement = Movement {
        repayment_kind: Some(command.kind),
        ..Movement::of(command.amount, command.value_date, command.reference)
    };
    append_movement(ctx, caller, loan_id, key, &REPAYMENT, movement, any_time).await
}

/// Records money recovered on a written-off loan (accountant): the written-off principal first (Dr 1121 /
/// Cr 711, Dr 0090 / Cr 0042), then the interest not recognised (Dr 1121 / Cr 51511, Dr 0090 / Cr 0041); the
/// loan is `recovered` when nothing remains. Above what remains → 422 naming it. Idempotent like a repayment;
/// a receipt mail is queued in the same transaction.
#[tracing::instrument(name = "record a recovery", skip_all, fields(loan_id = %loan_id))]
pub async fn recover(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    command: Recover,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<TransactionView>> {
    let movement = Movement::of(command.amount, command.value_date, command.reference);
    append_movement(ctx, caller, loan_id, key, &RECOVERY, movement, any_time).await
}

/// Reverses a transaction (accountant; reason required): appends a reversal, replays the loan without the
/// original and posts the correcting entry, linked to the original's entry. Nothing is deleted.
#[tracing::instrument(name = "reverse a loan transaction", skip_all, fields(loan_id = %loan_id, transaction_id = %command.transaction_id))]
pub async fn reverse(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    command: Reverse,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Accountant])?;
    let reason = reason_of(&command.reason)?;
    let transaction_id = command.transaction_id;
    append(ctx, caller, loan_id, key, &REVERSAL, move |txn, loan, _| {
        Box::pin(async move {
            let all = transactions_of(txn, loan.id).await?;
            let original = all
                .iter()
                .find(|t| t.id == transaction_id.get())
                .ok_or_else(|| AppError::not_found("giao dịch", "Transaction"))?;
            if kind_of(original)? == TransactionKind::Reversal {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "reversal_not_reversible",
                    Localized::new(
                        "Không thể hủy một giao dịch hủy.",
                        "A reversal cannot itself be reversed.",
                    ),
                ));
            }
            if all.iter().any(|t| t.reverses_id == Some(original.id)) {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "already_reversed",
                    Localized::new(
                        "Giao dịch này đã được hủy.",
                        "This transaction was already reversed.",
                    ),
                ));
            }
            Ok(NewTransaction::reversal(original, reason))
        })
    })
    .await
}

/// Restructures (approver): all unpaid principal over a new schedule (Decree 45/2021 Art 27).
#[tracing::instrument(name = "restructure a loan", skip_all, fields(loan_id = %loan_id))]
pub async fn restructure(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    command: Restructure,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Approver])?;
    let reason = reason_of(&command.reason)?;
    if command.interest_reduction.is_negative() {
        return Err(AppError::invalid(
            "interest_reduction_vnd",
            Reason::MustNotBeNegative,
        ));
    }
    if command.interest_reduced && command.interest_reduction.is_zero() {
        return Err(AppError::new(
            ErrorKind::Rule,
            "interest_reduction_amount_required",
            Localized::new(
                "Miễn, giảm lãi phải ghi rõ số tiền lãi được miễn, giảm (interest_reduction_vnd).",
                "An interest reduction must state the amount forgiven (interest_reduction_vnd).",
            ),
        )
        .with_field("interest_reduction_vnd"));
    }
    append_decision(
        ctx,
        caller,
        loan_id,
        key,
        &RESTRUCTURE,
        (reason, command.value_date),
        move |_, loan, today, decision| {
            Box::pin(async move {
                check_new_schedule_starts_after(command.first_due_on, today)?;
                let period_months = match command.period_months {
                    Some(months) => months,
                    None => u32::try_from(loan.period_months).map_err(|_| {
                        AppError::unreadable("loan", loan.id, "period_months", loan.period_months)
                    })?,
                };
                let terms = coopfund_domain::Restructure {
                    kind: command.kind,
                    first_due_on: command.first_due_on,
                    installments: command.installments,
                    period_months,
                    method: match command.method {
                        Some(method) => method,
                        None => loan_engine::method_of(loan)?,
                    },
                    principal_grace: command.principal_grace,
                    interest_reduced: command.interest_reduced
                        || command.interest_reduction.is_positive(),
                    interest_reduction: command.interest_reduction,
                };
                // Kept as an integer of đồng, like every stored amount.
                amount_vnd(terms.interest_reduction)?;
                NewTransaction::restructure(&terms, decision)
            })
        },
    )
    .await
}

/// Writes the loan off against its provision (approver, for the risk handling council, Decree 45/2021
/// Art 29): Dr 22931 / Cr 12831-12832, a provision short of the principal topped up in the same entry
/// (Dr 6426), memo 0042; accruals stop. A loan still in term needs `early: true` with `early_reason`.
#[tracing::instrument(name = "write off a loan", skip_all, fields(loan_id = %loan_id))]
pub async fn write_off(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: LoanId,
    command: WriteOff,
    key: Option<&IdempotencyKey>,
) -> AppResult<Idempotent<TransactionView>> {
    caller.require(&[Role::Approver])?;
    let reason = reason_of(&command.reason)?;
    append_decision(
        ctx,
        caller,
        loan_id,
        key,
        &WRITE_OFF,
        (reason, command.value_date),
        move |txn, loan, _, decision| {
            Box::pin(async move {
                let (state, _) = state_of(txn, loan, decision.value_date).await?;
                let details = follow_ups::check_write_off(&state, command.early.as_ref())?;
                let principal =
                    Vnd::from_i64(loan.in_term_principal_vnd + loan.overdue_principal_vnd);
                NewTransaction::write_off(principal, details, decision)
            })
        },
    )
    .await
}
