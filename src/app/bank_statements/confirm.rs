//! The accountant's decisions on a line: confirm (as proposed, reassigned to another loan, or split
//! across loans), reject as "not a repayment" with a reason, or confirm a whole statement's proposals.
//!
//! **Posted once, whatever is clicked.** Confirming a credit runs in three steps:
//! 1. *Claim* — one short transaction locks the line (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite
//!    the writer gate serializes), checks it is still open, checks every part against the loan's payoff
//!    on the bank's value date (a line above it is refused with the payoff, nothing changes), stores the
//!    plan, moves the line to `posting` with the claimer, audits. A second accountant confirming the same
//!    line at the same moment waits for the lock, then finds it `posting` or `posted`: 409 or the posted
//!    line, never a second posting.
//! 2. *Post* — each part through [`loans::repay`], the ordinary repayment use case (its transaction,
//!    allocation, books, audit and receipt mail), with value date = the bank's value date, reference =
//!    the bank's transaction id, and the idempotency key `bank-line-{line}-{part}`: the key is stored in
//!    the repayment's own transaction, so a retry after a crash between parts replays instead of posting
//!    again.
//! 3. *Done* — the line becomes `posted` with the loan transactions.
//!
//! A failure in step 2 before any part is posted returns the line to its open state with the error
//! kept; after a part is posted it stays `posting` and only its claimer may resume it (the keys replay
//! what was posted, the rest is posted).
//!
//! Four-eyes (`bank_statements.four_eyes`): the first confirmation only proposes the plan
//! (`awaiting_second`); a different accountant's confirmation posts it.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;

use super::{conflict, line_not_found, line_views, Direction, LineStatus, LineView, Split};
use crate::{
    app::{
        audit::{self, Audited},
        context::AppCtx,
        idempotency::{IdempotencyKey, Idempotent},
        loans, validate, Caller,
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::entities::{bank_statement, bank_statement_line, loan_transaction},
};
use coopfund_domain::{Language, RepaymentKind, Vnd};

/// `POST /bank-statement-lines/{id}/confirm`: as proposed (empty body `{}`), or to other loans.
#[derive(Debug, Clone, Default)]
pub struct ConfirmInput {
    /// The parts to post (reassign: one part on another loan; split: several), summing to the line's
    /// amount. Absent: the proposal, in full.
    pub splits: Option<Vec<Split>>,
    /// ordinary (default) or prepayment.
    pub kind: Option<RepaymentKind>,
    /// A debit: the disbursement transaction it is (absent: the proposal).
    pub transaction_id: Option<i64>,
}

/// The repayment kind a confirmation asks for, as typed (`ordinary` or `prepayment`); 400 naming
/// `kind` otherwise.
pub fn repayment_kind(text: &str) -> AppResult<RepaymentKind> {
    text.parse().map_err(|_| {
        AppError::invalid(
            "kind",
            Reason::UnknownValue {
                allowed: RepaymentKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        )
    })
}

/// `POST /bank-statement-lines/{id}/reject`.
#[derive(Debug, Clone)]
pub struct RejectInput {
    /// Why the line is not a repayment (a bank fee, a refund, a grant …).
    pub reason: String,
}

/// `POST /bank-statements/{id}/confirm`.
#[derive(Debug, Clone, Default)]
pub struct BulkConfirmInput {
    /// The lines to confirm as proposed; absent: every proposed line of the statement with at least
    /// `bank_statements.bulk_min_confidence_percent`.
    pub line_ids: Option<Vec<i64>>,
}

/// What happened to one line of a bulk confirmation.
#[derive(Debug, Clone, Serialize)]
pub struct BulkLineOutcome {
    pub line_id: i64,
    /// The line's status afterwards.
    pub status: String,
    /// The refusal's code, when the line was not confirmed (e.g. above_payoff).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// A bulk confirmation.
#[derive(Debug, Clone, Serialize)]
pub struct BulkOutcome {
    pub confirmed: i64,
    pub refused: i64,
    pub lines: Vec<BulkLineOutcome>,
}

/// Locks line `id` for the rest of `txn` (see [`loans::lock_loan`] for why SQLite writes first).
async fn lock_line(txn: &DatabaseTransaction, id: i64) -> AppResult<bank_statement_line::Model> {
    use sea_orm::{sea_query::Expr, ConnectionTrait};
    let found = if txn.get_database_backend() == DbBackend::Sqlite {
        let touched = bank_statement_line::Entity::update_many()
            .col_expr(
                bank_statement_line::Column::Version,
                Expr::col(bank_statement_line::Column::Version),
            )
            .filter(bank_statement_line::Column::Id.eq(id))
            .exec(txn)
            .await?;
        if touched.rows_affected == 0 {
            None
        } else {
            bank_statement_line::Entity::find_by_id(id).one(txn).await?
        }
    } else {
        bank_statement_line::Entity::find_by_id(id)
            .lock_exclusive()
            .one(txn)
            .await?
    };
    found.ok_or_else(line_not_found)
}

fn closed_line(line: &bank_statement_line::Model) -> AppError {
    match LineStatus::of(line) {
        Err(unreadable) => unreadable,
        Ok(LineStatus::Rejected) => conflict(
            "bank_line_rejected",
            format!(
                "Dòng sao kê đã được đánh dấu không phải trả nợ ({}).",
                line.reject_reason.clone().unwrap_or_default()
            ),
            format!(
                "The line was marked not a repayment ({}).",
                line.reject_reason.clone().unwrap_or_default()
            ),
        ),
        Ok(LineStatus::Posted) => conflict(
            "bank_line_posted",
            "Dòng sao kê đã được hạch toán.",
            "The line has already been posted.",
        ),
        _ => conflict(
            "bank_line_in_progress",
            "Một kế toán khác đang hạch toán dòng này; hãy tải lại sau giây lát.",
            "Another accountant is posting this line; reload in a moment.",
        ),
    }
}

/// A statement line as its audit records show it, before and after a step.
#[derive(Serialize)]
struct AuditedLine<'a> {
    id: i64,
    status: &'a str,
    amount_vnd: i64,
    value_date: chrono::NaiveDate,
    bank_transaction_id: Option<&'a str>,
    proposed_loan_id: Option<i64>,
    plan: Option<&'a str>,
    posted_transactions: &'a str,
}

impl<'a> From<&'a bank_statement_line::Model> for AuditedLine<'a> {
    fn from(line: &'a bank_statement_line::Model) -> Self {
        AuditedLine {
            id: line.id,
            status: &line.status,
            amount_vnd: line.amount_vnd,
            value_date: line.value_date,
            bank_transaction_id: line.bank_transaction_id.as_deref(),
            proposed_loan_id: line.proposed_loan_id,
            plan: line.plan.as_deref(),
            posted_transactions: &line.posted_transactions,
        }
    }
}

impl Audited for AuditedLine<'_> {
    const ENTITY_TYPE: &'static str = "bank_statement_line";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

async fn audit_line(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    action: &str,
    before: &bank_statement_line::Model,
    after: &bank_statement_line::Model,
) -> AppResult<()> {
    let (before, after) = (AuditedLine::from(before), AuditedLine::from(after));
    audit::changed(txn, ctx, caller, action, &before, &after).await
}

async fn view_of(db: &DatabaseConnection, line: bank_statement_line::Model) -> AppResult<LineView> {
    Ok(line_views(db, vec![line]).await?.remove(0))
}

/// The reference a repayment from this line carries: the bank's transaction id (else the line's key).
fn reference_of(line: &bank_statement_line::Model) -> String {
    match &line.bank_transaction_id {
        Some(id) if !id.trim().is_empty() => id.chars().take(100).collect(),
        // No id from the bank: the start of the line's fingerprint, unique enough to find it again.
        _ => {
            let fingerprint = line.dedupe_key.trim_start_matches("fp:");
            format!("SK-{}", fingerprint.chars().take(16).collect::<String>())
        }
    }
}

/// The plan a confirmation asks for, checked against the line.
fn plan_of(line: &bank_statement_line::Model, input: &ConfirmInput) -> AppResult<Vec<Split>> {
    let splits = match &input.splits {
        Some(splits) => splits.clone(),
        None => match (&line.plan, line.proposed_loan_id) {
            (Some(stored), _) if LineStatus::of(line)? == LineStatus::AwaitingSecond => {
                serde_json::from_str(stored).map_err(AppError::internal)?
            }
            (_, Some(loan_id)) if LineStatus::of(line)? == LineStatus::Proposed => vec![Split {
                loan_id,
                amount_vnd: line.amount_vnd,
            }],
            _ => {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "bank_line_not_proposed",
                    Localized::new(
                        "Dòng này chưa được gán cho khoản vay nào: hãy chọn khoản vay (splits).",
                        "This line has no proposed loan: choose the loan (splits).",
                    ),
                )
                .with_field("splits"))
            }
        },
    };
    if splits.is_empty() || splits.len() > 20 {
        return Err(AppError::invalid(
            "splits",
            Reason::OutOfRange {
                min: "1".into(),
                max: "20".into(),
            },
        ));
    }
    for (i, split) in splits.iter().enumerate() {
        validate::positive(&format!("splits[{i}].amount_vnd"), split.amount_vnd)?;
        if splits[..i].iter().any(|s| s.loan_id == split.loan_id) {
            return Err(AppError::invalid(
                format!("splits[{i}].loan_id"),
                Reason::InvalidFormat {
                    expected: "each loan once",
                },
            ));
        }
    }
    let total: i64 = splits.iter().map(|s| s.amount_vnd).sum();
    if total != line.amount_vnd {
        return Err(AppError::new(
            ErrorKind::Rule,
            "split_sum_mismatch",
            Localized::new(
                format!(
                    "Tổng các phần ({total}) phải bằng số tiền của dòng sao kê ({}).",
                    line.amount_vnd
                ),
                format!(
                    "The parts add up to {total}, not the line's amount {}.",
                    line.amount_vnd
                ),
            ),
        )
        .with_field("splits"));
    }
    Ok(splits)
}

/// Refuses a part above the loan's payoff on the value date, naming the payoff (DOMAIN.md §5).
async fn check_payoffs(
    ctx: &AppCtx,
    caller: &Caller,
    line: &bank_statement_line::Model,
    plan: &[Split],
) -> AppResult<()> {
    for split in plan {
        let payoff =
            loans::payoff(ctx, caller, split.loan_id.into(), Some(line.value_date)).await?;
        if Vnd::from_i64(split.amount_vnd) > payoff.total_vnd {
            return Err(AppError::new(
                ErrorKind::Rule,
                "above_payoff",
                Localized::new(
                    format!(
                        "Số tiền {} vượt số tiền tất toán {} của khoản vay #{} ngày {}: không hạch toán. Hãy chia cho khoản vay khác, hoặc đánh dấu không phải trả nợ.",
                        Vnd::from_i64(split.amount_vnd).for_people(Language::Vietnamese),
                        payoff.total_vnd.for_people(Language::Vietnamese),
                        split.loan_id,
                        line.value_date.format("%d/%m/%Y")
                    ),
                    format!(
                        "{} is above the payoff {} of loan #{} on {}: not posted. Split it across loans, or mark it not a repayment.",
                        Vnd::from_i64(split.amount_vnd).for_people(Language::English),
                        payoff.total_vnd.for_people(Language::English),
                        split.loan_id,
                        line.value_date
                    ),
                ),
            )
            .with_field("amount_vnd"));
        }
    }
    Ok(())
}

/// Confirms line `id` (accountant). Returns the line as it is afterwards (`posted`, or
/// `awaiting_second` under four-eyes). Confirming a line already posted returns it unchanged.
#[tracing::instrument(name = "confirm a bank statement line", skip_all, fields(line_id = id))]
pub async fn confirm(
    ctx: &AppCtx,
    caller: &Caller,
    id: i64,
    input: ConfirmInput,
) -> AppResult<LineView> {
    let (db, writer, settings) = (&ctx.db, &ctx.writer, &*ctx.settings);
    caller.require(&[Role::Accountant])?;
    let repayment_kind = input.kind.unwrap_or_default();
    writer
        .hold(db, async {
            // Step 1: claim.
            let txn = db.begin().await?;
            let line = lock_line(&txn, id).await?;
            if Direction::of(&line)? == Direction::Debit {
                let done = confirm_debit(&txn, ctx, caller, line, &input).await;
                return match done {
                    Ok(line) => {
                        txn.commit().await?;
                        view_of(db, line).await
                    }
                    Err(err) => {
                        txn.rollback().await?;
                        Err(err)
                    }
                };
            }
            let resuming = LineStatus::of(&line)? == LineStatus::Posting && line.posting_by == caller.user_id();
            if LineStatus::of(&line)? == LineStatus::Posted {
                txn.rollback().await?;
                return view_of(db, line).await;
            }
            if !resuming && !LineStatus::of(&line)?.is_open() {
                txn.rollback().await?;
                return Err(closed_line(&line));
            }
            let plan: Vec<Split> = if resuming {
                serde_json::from_str(line.plan.as_deref().unwrap_or("[]")).map_err(AppError::internal)?
            } else {
                let plan = match plan_of(&line, &input) {
                    Ok(plan) => plan,
                    Err(err) => {
                        txn.rollback().await?;
                        return Err(err);
                    }
                };
                if LineStatus::of(&line)? == LineStatus::AwaitingSecond {
                    let stored: Vec<Split> =
                        serde_json::from_str(line.plan.as_deref().unwrap_or("[]")).map_err(AppError::internal)?;
                    if line.proposed_by == caller.user_id() {
                        txn.rollback().await?;
                        return Err(conflict(
                            "four_eyes_same_user",
                            "Người đề xuất không được tự xác nhận: cần một kế toán khác.",
                            "The accountant who proposed this posting cannot confirm it: another accountant must.",
                        ));
                    }
                    if stored != plan {
                        txn.rollback().await?;
                        return Err(conflict(
                            "bank_line_plan_differs",
                            "Phương án khác với phương án đã đề xuất; hãy từ chối hoặc đề xuất lại.",
                            "The plan differs from the one proposed; reject it or propose again.",
                        ));
                    }
                }
                if let Err(err) = check_payoffs(ctx, caller, &line, &plan).await {
                    txn.rollback().await?;
                    return Err(err);
                }
                plan
            };
            let plan_json = serde_json::to_string(&plan).map_err(AppError::internal)?;
            if !resuming && settings.bank_statements.four_eyes && LineStatus::of(&line)? != LineStatus::AwaitingSecond {
                let before = line.clone();
                let mut active: bank_statement_line::ActiveModel = line.into();
                active.status = Set(LineStatus::AwaitingSecond.as_str().into());
                active.plan = Set(Some(plan_json));
                active.repayment_kind = Set(Some(repayment_kind.as_str().into()));
                active.proposed_by = Set(caller.user_id());
                active.version = Set(before.version + 1);
                let after = active.update(&txn).await?;
                audit_line(&txn, ctx, caller, "bank_line.propose", &before, &after).await?;
                txn.commit().await?;
                return view_of(db, after).await;
            }
            let before = line.clone();
            let kind_to_post = if resuming || LineStatus::of(&line)? == LineStatus::AwaitingSecond {
                match line.repayment_kind.as_deref() {
                    None => repayment_kind,
                    Some(stored) => stored.parse().map_err(|_| {
                        AppError::unreadable("bank statement line", line.id, "repayment_kind", stored)
                    })?,
                }
            } else {
                repayment_kind
            };
            let previous_status = if resuming { LineStatus::Proposed } else { LineStatus::of(&line)? };
            let mut active: bank_statement_line::ActiveModel = line.into();
            active.status = Set(LineStatus::Posting.as_str().into());
            active.plan = Set(Some(plan_json));
            active.repayment_kind = Set(Some(kind_to_post.as_str().into()));
            active.posting_by = Set(caller.user_id());
            active.last_error = Set(None);
            active.version = Set(before.version + 1);
            let claimed = active.update(&txn).await?;
            if !resuming {
                audit_line(&txn, ctx, caller, "bank_line.confirm", &before, &claimed).await?;
            }
            txn.commit().await?;

            // Step 2: post each part through the repayment use case.
            let reference = reference_of(&claimed);
            let mut posted: Vec<i64> = Vec::new();
            for (part, split) in plan.iter().enumerate() {
                let body = serde_json::json!({
                    "amount_vnd": split.amount_vnd, "value_date": claimed.value_date,
                    "reference": reference, "kind": kind_to_post,
                });
                let key = IdempotencyKey::new(
                    &format!("bank-line-{}-{part}", claimed.id),
                    body.to_string().as_bytes(),
                )?;
                let outcome = loans::repay(
                    ctx,
                    caller,
                    split.loan_id.into(),
                    loans::Repay {
                        amount: Vnd::from_i64(split.amount_vnd),
                        value_date: claimed.value_date,
                        reference: reference.clone(),
                        kind: kind_to_post,
                    },
                    Some(&key),
                )
                .await;
                match outcome {
                    Ok(Idempotent::Fresh(tx)) => posted.push(tx.id),
                    Ok(Idempotent::Replayed { body, .. }) => {
                        let id = serde_json::from_str::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v["id"].as_i64())
                            .ok_or_else(|| AppError::internal(anyhow::anyhow!("replayed repayment without id")))?;
                        posted.push(id);
                    }
                    Err(err) => {
                        release(db, claimed.id, previous_status, posted.is_empty(), &err).await?;
                        return Err(err);
                    }
                }
            }

            // Step 3: done.
            let txn = db.begin().await?;
            let line = lock_line(&txn, id).await?;
            let before = line.clone();
            let mut active: bank_statement_line::ActiveModel = line.into();
            active.status = Set(LineStatus::Posted.as_str().into());
            active.posted_transactions = Set(serde_json::to_string(&posted).map_err(AppError::internal)?);
            active.posting_by = Set(None);
            active.decided_by = Set(caller.user_id());
            active.decided_at = Set(Some(ctx.now()));
            active.version = Set(before.version + 1);
            let after = active.update(&txn).await?;
            audit_line(&txn, ctx, caller, "bank_line.posted", &before, &after).await?;
            txn.commit().await?;
            view_of(db, after).await
        })
        .await
}

/// After a failed part: back to `previous` when nothing was posted, else kept `posting` for its
/// claimer to resume; the error is kept on the line either way.
async fn release(
    db: &DatabaseConnection,
    id: i64,
    previous: LineStatus,
    nothing_posted: bool,
    err: &AppError,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let line = lock_line(&txn, id).await?;
    let version = line.version + 1;
    let mut active: bank_statement_line::ActiveModel = line.into();
    if nothing_posted {
        active.status = Set(previous.as_str().into());
        active.posting_by = Set(None);
    }
    active.last_error = Set(Some(format!("{}: {}", err.code, err.message.vi)));
    active.version = Set(version);
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A debit confirmed as the disbursement it is (no money moves: the disbursement was posted when it
/// was made); one bank line per disbursement.
async fn confirm_debit(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    line: bank_statement_line::Model,
    input: &ConfirmInput,
) -> AppResult<bank_statement_line::Model> {
    if LineStatus::of(&line)? == LineStatus::Posted {
        return Ok(line);
    }
    if !LineStatus::of(&line)?.is_open() {
        return Err(closed_line(&line));
    }
    let Some(transaction_id) = input.transaction_id.or(line.proposed_transaction_id) else {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "bank_line_not_proposed",
            Localized::new(
                "Dòng chi này chưa gắn với lần giải ngân nào: hãy chọn giao dịch giải ngân (transaction_id).",
                "This debit has no proposed disbursement: choose it (transaction_id).",
            ),
        )
        .with_field("transaction_id"));
    };
    let tx = loan_transaction::Entity::find_by_id(transaction_id)
        .one(txn)
        .await?
        .filter(|t| {
            t.kind == crate::app::loan_engine::kind::DISBURSEMENT && t.amount_vnd == line.amount_vnd
        })
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Rule,
                "disbursement_mismatch",
                Localized::new(
                    "Giao dịch này không phải lần giải ngân có cùng số tiền với dòng sao kê.",
                    "That transaction is not a disbursement of the line's amount.",
                ),
            )
            .with_field("transaction_id")
        })?;
    let taken = bank_statement_line::Entity::find()
        .filter(bank_statement_line::Column::ProposedTransactionId.eq(tx.id))
        .filter(bank_statement_line::Column::Status.eq(LineStatus::Posted.as_str()))
        .filter(bank_statement_line::Column::Id.ne(line.id))
        .one(txn)
        .await?;
    if taken.is_some() {
        return Err(conflict(
            "disbursement_already_matched",
            "Lần giải ngân này đã khớp với một dòng sao kê khác.",
            "This disbursement is already matched to another bank line.",
        ));
    }
    let before = line.clone();
    let mut active: bank_statement_line::ActiveModel = line.into();
    active.status = Set(LineStatus::Posted.as_str().into());
    active.proposed_transaction_id = Set(Some(tx.id));
    active.proposed_loan_id = Set(Some(tx.loan_id));
    active.posted_transactions = Set(format!("[{}]", tx.id));
    active.decided_by = Set(caller.user_id());
    active.decided_at = Set(Some(ctx.now()));
    active.version = Set(before.version + 1);
    let after = active.update(txn).await?;
    audit_line(
        txn,
        ctx,
        caller,
        "bank_line.confirm_disbursement",
        &before,
        &after,
    )
    .await?;
    Ok(after)
}

/// Marks line `id` "not a repayment" with a reason (accountant).
#[tracing::instrument(name = "reject a bank statement line", skip_all, fields(line_id = id))]
pub async fn reject(
    ctx: &AppCtx,
    caller: &Caller,
    id: i64,
    input: RejectInput,
) -> AppResult<LineView> {
    caller.require(&[Role::Accountant])?;
    let reason = validate::text("reason", &input.reason, 2000)?;
    let db = &ctx.db;
    ctx.writer
        .hold(db, async {
            let txn = db.begin().await?;
            let line = lock_line(&txn, id).await?;
            if !LineStatus::of(&line)?.is_open() {
                txn.rollback().await?;
                return Err(closed_line(&line));
            }
            let before = line.clone();
            let mut active: bank_statement_line::ActiveModel = line.into();
            active.status = Set(LineStatus::Rejected.as_str().into());
            active.reject_reason = Set(Some(reason));
            active.decided_by = Set(caller.user_id());
            active.decided_at = Set(Some(ctx.now()));
            active.version = Set(before.version + 1);
            let after = active.update(&txn).await?;
            audit_line(&txn, ctx, caller, "bank_line.reject", &before, &after).await?;
            txn.commit().await?;
            view_of(db, after).await
        })
        .await
}

/// Confirms the proposals of statement `id` one line at a time (each is its own posting; a refused
/// line, e.g. above the payoff, is reported and the others go on).
#[tracing::instrument(name = "confirm a bank statement", skip_all, fields(statement_id = id))]
pub async fn confirm_statement(
    ctx: &AppCtx,
    caller: &Caller,
    id: i64,
    input: BulkConfirmInput,
) -> AppResult<BulkOutcome> {
    let db = &ctx.db;
    caller.require(&[Role::Accountant])?;
    bank_statement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(super::statement_not_found)?;
    let mut query = bank_statement_line::Entity::find()
        .filter(bank_statement_line::Column::StatementId.eq(id))
        .order_by_asc(bank_statement_line::Column::LineNo);
    match &input.line_ids {
        Some(ids) => {
            if ids.len() > 10_000 {
                return Err(AppError::invalid(
                    "line_ids",
                    Reason::OutOfRange {
                        min: "0".into(),
                        max: "10000 lines".into(),
                    },
                ));
            }
            query = query.filter(bank_statement_line::Column::Id.is_in(ids.clone()));
        }
        None => {
            query = query
                .filter(bank_statement_line::Column::Status.is_in([
                    LineStatus::Proposed.as_str(),
                    LineStatus::AwaitingSecond.as_str(),
                ]))
                .filter(
                    bank_statement_line::Column::MatchConfidence
                        .gte(ctx.settings.bank_statements.bulk_min_confidence_percent),
                );
        }
    }
    let lines = query.all(db).await?;
    if let Some(ids) = &input.line_ids {
        if let Some(missing) = ids.iter().find(|i| !lines.iter().any(|l| l.id == **i)) {
            return Err(AppError::new(
                ErrorKind::NotFound,
                "not_found",
                Localized::new(
                    format!("Dòng {missing} không thuộc sao kê này."),
                    format!("Line {missing} is not in this statement."),
                ),
            )
            .with_field("line_ids"));
        }
    }
    let mut outcome = BulkOutcome {
        confirmed: 0,
        refused: 0,
        lines: Vec::new(),
    };
    for line in lines {
        match confirm(ctx, caller, line.id, ConfirmInput::default()).await {
            Ok(view) => {
                outcome.confirmed += 1;
                outcome.lines.push(BulkLineOutcome {
                    line_id: line.id,
                    status: view.status.to_string(),
                    error_code: None,
                    error_message: None,
                });
            }
            Err(err) if err.kind == ErrorKind::Internal => return Err(err),
            Err(err) => {
                outcome.refused += 1;
                outcome.lines.push(BulkLineOutcome {
                    line_id: line.id,
                    status: line.status.clone(),
                    error_code: Some(err.code.clone()),
                    error_message: Some(err.message.get(caller.lang).to_string()),
                });
            }
        }
    }
    Ok(outcome)
}
