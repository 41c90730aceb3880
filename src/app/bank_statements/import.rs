//! Importing one statement file: read it ([`super::formats`]), then in **one transaction** store the
//! statement with the file's SHA-256, the lines not seen before with their match proposals
//! ([`super::matching`]) and the audit records — or nothing, whatever fails.
//!
//! "Not seen before": a line is unique per bank account on the bank's transaction id, or, when the
//! bank gives none, on a fingerprint (dates, direction, amount, folded message, payer's account, and
//! its occurrence among identical lines of the file, so two identical transfers on one day stay two).
//! The same file again returns the statement already imported (200, nothing new); an overlapping
//! statement adds only its new lines. A unique index on (bank account, key) makes this hold even for
//! two imports at once.

use std::collections::HashMap;

use chrono::NaiveDate;
use coopfund_domain::{InstallmentStatus, LoanStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    formats::{self, ParsedLine},
    matching::{self, Due, LoanIndex, LoanRef, Proposal},
    statement_view, Direction, LineStatus, StatementView,
};
use crate::{
    app::{
        audit::{self, Change},
        context::AppCtx,
        loan_engine::kind,
        loans, validate, Caller,
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::{
        self,
        entities::{
            bank_statement, bank_statement_line, cooperative_bank_account, loan, loan_transaction,
        },
    },
};

/// `POST /bank-statements?format=&profile=&account=&file_name=` (the body is the file).
#[derive(Debug, Clone, Default)]
pub struct ImportQuery {
    /// csv, xlsx, camt053 or mt940 (required; csv and xlsx need `profile`).
    pub format: Option<String>,
    /// The bank profile of a CSV/XLSX export (`[bank_statements.profiles]`).
    pub profile: Option<String>,
    /// The fund's account the statement is of; camt.053 and MT940 say it themselves (when both are
    /// given they must agree).
    pub account: Option<String>,
    /// The file's name, as shown.
    pub file_name: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub statement: StatementView,
    /// True when this very file was imported before: nothing was added.
    pub duplicate_file: bool,
    /// Lines added now.
    pub new_lines: i32,
    /// Lines of the file already known from an earlier statement (not added again).
    pub known_lines: i32,
}

/// Text from a bank, made safe to store and show: control and invisible formatting characters
/// become spaces, runs of spaces one, at most `max_chars`.
fn clean(text: &str, max_chars: usize) -> String {
    let replaced: String = text
        .chars()
        .map(|c| {
            if c.is_control() || validate::is_invisible_format(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    replaced
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max_chars)
        .collect()
}

/// The line's unique key on its account.
fn dedupe_key(line: &ParsedLine, occurrence: u32) -> String {
    if let Some(id) = &line.bank_transaction_id {
        return format!("id:{}", clean(id, 100));
    }
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "{}|{}|{}|{}|{}|{}|{}",
        line.booking_date,
        line.value_date,
        if line.credit { "C" } else { "D" },
        line.amount_vnd,
        matching::compact(&line.description),
        matching::account_key(&line.counterparty_account),
        occurrence
    ));
    format!("fp:{}", &hex::encode(hasher.finalize())[..40])
}

fn bad_request(code: &str, field: &str, vi: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::BadRequest, code, Localized::new(vi, en)).with_field(field)
}

/// What the matcher needs, read before the import's transaction.
pub struct MatchData {
    index: LoanIndex,
    /// Registered account (folded) → cooperative.
    accounts: HashMap<String, i64>,
    /// Active loans per cooperative.
    active_by_cooperative: HashMap<i64, Vec<i64>>,
    disbursements: Vec<matching::Disbursement>,
    /// What each loan is due, read once per loan as needed.
    dues: HashMap<i64, Due>,
}

impl MatchData {
    /// Loads the loans, the registered accounts and the disbursements between `from` and `to`.
    pub async fn load(db: &DatabaseConnection, from: NaiveDate, to: NaiveDate) -> AppResult<Self> {
        let loans: Vec<(i64, String, i64, String)> = loan::Entity::find()
            .select_only()
            .column(loan::Column::Id)
            .column(loan::Column::Number)
            .column(loan::Column::CooperativeId)
            .column(loan::Column::Status)
            .into_tuple()
            .all(db)
            .await?;
        let mut active_by_cooperative: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, _, cooperative_id, state) in &loans {
            if state == LoanStatus::Active.as_str() {
                active_by_cooperative
                    .entry(*cooperative_id)
                    .or_default()
                    .push(*id);
            }
        }
        let index = LoanIndex::new(
            loans
                .into_iter()
                .map(|(loan_id, number, cooperative_id, state)| LoanRef {
                    loan_id,
                    number,
                    cooperative_id,
                    active: state == LoanStatus::Active.as_str(),
                })
                .collect(),
        );
        let accounts = cooperative_bank_account::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.account_number, a.cooperative_id))
            .collect();
        let reversed: Vec<Option<i64>> = loan_transaction::Entity::find()
            .select_only()
            .column(loan_transaction::Column::ReversesId)
            .filter(loan_transaction::Column::ReversesId.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        let reversed: std::collections::HashSet<i64> = reversed.into_iter().flatten().collect();
        let disbursements = loan_transaction::Entity::find()
            .filter(loan_transaction::Column::Kind.eq(kind::DISBURSEMENT))
            .filter(loan_transaction::Column::ValueDate.gte(from - chrono::Duration::days(7)))
            .filter(loan_transaction::Column::ValueDate.lte(to + chrono::Duration::days(7)))
            .all(db)
            .await?
            .into_iter()
            .filter(|t| !reversed.contains(&t.id))
            .map(|t| matching::Disbursement {
                transaction_id: t.id,
                amount_vnd: t.amount_vnd,
                value_date: t.value_date,
                reference: t.reference,
            })
            .collect();
        Ok(MatchData {
            index,
            accounts,
            active_by_cooperative,
            disbursements,
            dues: HashMap::new(),
        })
    }

    /// The proposal for one line; the loan of a debit's disbursement is looked up by the caller.
    pub async fn propose(
        &mut self,
        ctx: &AppCtx,
        caller: &Caller,
        line: &ParsedLine,
    ) -> AppResult<Proposal> {
        if !line.credit {
            return Ok(matching::debit_proposal(
                line.amount_vnd,
                line.value_date,
                line.booking_date,
                &line.description,
                &self.disbursements,
            ));
        }
        if let Some(found) = self.index.by_number(&line.description) {
            return Ok(found);
        }
        let account = matching::account_key(&line.counterparty_account);
        let Some(cooperative_id) = (!account.is_empty())
            .then(|| self.accounts.get(&account).copied())
            .flatten()
        else {
            return Ok(Proposal::None {
                candidates: Vec::new(),
                reason: matching::reason::NOTHING,
            });
        };
        let loan_ids = self
            .active_by_cooperative
            .get(&cooperative_id)
            .cloned()
            .unwrap_or_default();
        let mut dues = Vec::new();
        for loan_id in loan_ids {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.dues.entry(loan_id) {
                // What is due as of the business date, through the loan use case (the same fold as
                // every screen); read once per loan per import.
                let view = loans::get(ctx, caller, loan_id.into()).await?;
                let schedule = loans::schedule(ctx, caller, loan_id.into()).await?;
                let installments_vnd = schedule
                    .installments
                    .iter()
                    .filter(|i| {
                        ![InstallmentStatus::Paid, InstallmentStatus::Restructured]
                            .iter()
                            .any(|s| i.status == loans::installment_status_name(*s))
                    })
                    .map(|i| {
                        let rest = i.total_vnd - i.paid_principal_vnd - i.paid_interest_vnd;
                        Ok([
                            crate::app::ledger::stored_vnd(i.total_vnd)?,
                            crate::app::ledger::stored_vnd(rest)?,
                        ])
                    })
                    .collect::<AppResult<Vec<[i64; 2]>>>()?
                    .into_iter()
                    .flatten()
                    .collect();
                slot.insert(Due {
                    loan_id,
                    owed_now_vnd: crate::app::ledger::stored_vnd(view.owed_now_vnd)?,
                    next_due_vnd: match view.next_due {
                        Some(next) => crate::app::ledger::stored_vnd(next.total_vnd)?,
                        None => 0,
                    },
                    installments_vnd,
                });
            }
            dues.push(self.dues[&loan_id].clone());
        }
        Ok(matching::by_amount_due(line.amount_vnd, &dues))
    }

    /// The loan of disbursement transaction `id`.
    async fn loan_of_transaction(db: &DatabaseConnection, id: i64) -> AppResult<Option<i64>> {
        Ok(loan_transaction::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|t| t.loan_id))
    }
}

/// Imports a statement file (accountant, admin): the new statement, or (`duplicate_file`) the one
/// already imported from the same file.
#[tracing::instrument(name = "import a bank statement", skip_all)]
pub async fn import(
    ctx: &AppCtx,
    caller: &Caller,
    query: ImportQuery,
    bytes: &[u8],
) -> AppResult<ImportOutcome> {
    let (db, writer, settings) = (&ctx.db, &ctx.writer, &*ctx.settings);
    caller.require(&[Role::Accountant, Role::Admin])?;
    let format = match query.format.as_deref().map(str::trim) {
        None | Some("") => return Err(AppError::invalid("format", Reason::Required)),
        Some(f) => validate::one_of("format", f, &formats::FORMATS)?,
    };
    let profile = match query
        .profile
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(name) => Some(settings.bank_statements.profile(name).ok_or_else(|| {
            AppError::invalid(
                "profile",
                Reason::UnknownValue {
                    allowed: settings
                        .bank_statements
                        .profiles
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            )
        })?),
        None => None,
    };
    if matches!(format, "csv" | "xlsx") {
        match profile {
            None => return Err(AppError::invalid("profile", Reason::Required)),
            Some(p) if p.format != format => {
                return Err(bad_request(
                    "profile_format_mismatch",
                    "profile",
                    format!(
                        "Hồ sơ «{}» dành cho tệp {}, không phải {format}.",
                        p.name, p.format
                    ),
                    format!(
                        "Profile «{}» is for {} files, not {format}.",
                        p.name, p.format
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("file", Reason::Required));
    }
    let file_name =
        validate::optional_text("file_name", query.file_name.as_deref().unwrap_or(""), 200)?;
    let file_name = if file_name.is_empty() {
        format!("statement.{format}")
    } else {
        file_name
    };
    let parsed = formats::parse(format, bytes, profile)?;
    let given = query
        .account
        .as_deref()
        .map(|a| validate::text("account", a, 50))
        .transpose()?;
    let bank_account = match (&parsed.account, &given) {
        (Some(file), Some(given))
            if matching::account_key(file) != matching::account_key(given) =>
        {
            return Err(bad_request(
                "statement_account_mismatch",
                "account",
                format!("Sao kê là của tài khoản {file}, không phải {given}."),
                format!("The statement is of account {file}, not {given}."),
            ))
        }
        (Some(file), _) => matching::account_key(file),
        (None, Some(given)) => matching::account_key(given),
        (None, None) => return Err(AppError::invalid("account", Reason::Required)),
    };
    let sha256 = hex::encode(Sha256::digest(bytes));

    let from = parsed
        .lines
        .iter()
        .map(|l| l.value_date.min(l.booking_date))
        .min();
    let to = parsed
        .lines
        .iter()
        .map(|l| l.value_date.max(l.booking_date))
        .max();
    let today = crate::app::fund::business_date(db).await?;
    let mut data = MatchData::load(db, from.unwrap_or(today), to.unwrap_or(today)).await?;

    writer
        .hold(db, async {
            let txn = db.begin().await?;
            if let Some(existing) = bank_statement::Entity::find()
                .filter(bank_statement::Column::BankAccount.eq(bank_account.as_str()))
                .filter(bank_statement::Column::FileSha256.eq(sha256.as_str()))
                .one(&txn)
                .await?
            {
                let view = statement_view(&txn, existing).await?;
                txn.rollback().await?;
                let known = view.line_count;
                return Ok(ImportOutcome {
                    statement: view,
                    duplicate_file: true,
                    new_lines: 0,
                    known_lines: known,
                });
            }
            let outcome = store_statement(
                &txn,
                ctx,
                caller,
                &mut data,
                StatementMeta {
                    bank_account: &bank_account,
                    format,
                    profile: profile.map(|p| p.name.clone()),
                    file_name,
                    sha256: &sha256,
                },
                parsed,
            )
            .await;
            match outcome {
                Ok(outcome) => {
                    txn.commit().await?;
                    Ok(outcome)
                }
                Err(err) => {
                    txn.rollback().await?;
                    Err(err)
                }
            }
        })
        .await
}

struct StatementMeta<'a> {
    bank_account: &'a str,
    format: &'a str,
    profile: Option<String>,
    file_name: String,
    sha256: &'a str,
}

async fn store_statement(
    txn: &DatabaseTransaction,
    ctx: &AppCtx,
    caller: &Caller,
    data: &mut MatchData,
    meta: StatementMeta<'_>,
    parsed: formats::ParsedStatement,
) -> AppResult<ImportOutcome> {
    let unique_race = |err: sea_orm::DbErr| -> AppError {
        if store::is_unique_violation(&err) {
            AppError::new(
                ErrorKind::Conflict,
                "statement_import_in_progress",
                Localized::new(
                    "Sao kê này đang được nhập ở nơi khác; hãy thử lại sau giây lát.",
                    "This statement is being imported elsewhere; retry in a moment.",
                ),
            )
        } else {
            err.into()
        }
    };
    let statement = bank_statement::ActiveModel {
        bank_account: Set(meta.bank_account.to_string()),
        format: Set(meta.format.to_string()),
        profile: Set(meta.profile),
        file_name: Set(meta.file_name),
        file_sha256: Set(meta.sha256.to_string()),
        statement_ref: Set(parsed.statement_ref.as_deref().map(|r| clean(r, 100))),
        period_from: Set(parsed.period_from),
        period_to: Set(parsed.period_to),
        opening_balance_vnd: Set(parsed.opening_balance_vnd),
        closing_balance_vnd: Set(parsed.closing_balance_vnd),
        line_count: Set(parsed.lines.len() as i32),
        new_line_count: Set(0),
        imported_by: Set(caller.user_id()),
        imported_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(unique_race)?;

    // Keys of the file's lines, then the ones this account already has.
    let mut seen: HashMap<String, u32> = HashMap::new();
    let keyed: Vec<(String, &ParsedLine)> = parsed
        .lines
        .iter()
        .map(|line| {
            let probe = dedupe_key(line, 0);
            let occurrence = seen.entry(probe).or_insert(0);
            let key = if line.bank_transaction_id.is_some() {
                dedupe_key(line, 0)
            } else {
                dedupe_key(line, *occurrence)
            };
            *occurrence += 1;
            (key, line)
        })
        .collect();
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in keyed.chunks(500) {
        let keys: Vec<String> = chunk.iter().map(|(k, _)| k.clone()).collect();
        let found: Vec<String> = bank_statement_line::Entity::find()
            .select_only()
            .column(bank_statement_line::Column::DedupeKey)
            .filter(bank_statement_line::Column::BankAccount.eq(meta.bank_account))
            .filter(bank_statement_line::Column::DedupeKey.is_in(keys))
            .into_tuple()
            .all(txn)
            .await?;
        known.extend(found);
    }
    let mut fresh = Vec::new();
    let mut in_file: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (key, line) in &keyed {
        // A bank id repeated within one file is the same line twice (some exports repeat a line
        // across page breaks): kept once.
        if known.contains(key) || !in_file.insert(key.as_str()) {
            continue;
        }
        fresh.push((key.clone(), *line));
    }
    let known_lines = (keyed.len() - fresh.len()) as i32;

    let mut models = Vec::with_capacity(fresh.len());
    let mut matched: Vec<serde_json::Value> = Vec::new();
    for (key, line) in fresh {
        let proposal = data.propose(ctx, caller, line).await?;
        let (state, loan_id, transaction_id, reason, confidence, candidates) = match proposal {
            Proposal::One {
                id,
                reason,
                confidence,
            } if line.credit => (
                LineStatus::Proposed,
                Some(id),
                None,
                reason,
                confidence,
                vec![id],
            ),
            Proposal::One {
                id,
                reason,
                confidence,
            } => {
                let loan_id = MatchData::loan_of_transaction(&ctx.db, id).await?;
                (
                    LineStatus::Proposed,
                    loan_id,
                    Some(id),
                    reason,
                    confidence,
                    vec![id],
                )
            }
            Proposal::Ambiguous { candidates, reason } => {
                (LineStatus::Ambiguous, None, None, reason, 0, candidates)
            }
            Proposal::None { candidates, reason } => {
                (LineStatus::Unmatched, None, None, reason, 0, candidates)
            }
        };
        matched.push(serde_json::json!({
            "line_no": line.line_no, "status": state, "loan_id": loan_id,
            "transaction_id": transaction_id, "reason": reason, "confidence": confidence,
        }));
        models.push(bank_statement_line::ActiveModel {
            statement_id: Set(statement.id),
            bank_account: Set(meta.bank_account.to_string()),
            line_no: Set(line.line_no as i32),
            booking_date: Set(line.booking_date),
            value_date: Set(line.value_date),
            direction: Set(if line.credit {
                Direction::Credit
            } else {
                Direction::Debit
            }
            .as_str()
            .into()),
            amount_vnd: Set(line.amount_vnd),
            description: Set(clean(&line.description, 2000)),
            bank_transaction_id: Set(line.bank_transaction_id.as_deref().map(|id| clean(id, 100))),
            counterparty_name: Set(clean(&line.counterparty_name, 200)),
            counterparty_account: Set(clean(&line.counterparty_account, 50)),
            dedupe_key: Set(key),
            status: Set(state.as_str().into()),
            proposed_loan_id: Set(loan_id),
            proposed_transaction_id: Set(transaction_id),
            match_reason: Set(reason.to_string()),
            match_confidence: Set(confidence),
            candidates: Set(serde_json::to_string(&candidates).unwrap_or_else(|_| "[]".into())),
            plan: Set(None),
            repayment_kind: Set(None),
            proposed_by: Set(None),
            posting_by: Set(None),
            posted_transactions: Set("[]".into()),
            reject_reason: Set(None),
            last_error: Set(None),
            decided_by: Set(None),
            decided_at: Set(None),
            version: Set(1),
            ..Default::default()
        });
    }
    let new_lines = models.len() as i32;
    // Batches keep each INSERT under SQLite's and PostgreSQL's bound-parameter limits.
    let mut models = models.into_iter().peekable();
    while models.peek().is_some() {
        let batch: Vec<_> = models.by_ref().take(100).collect();
        bank_statement_line::Entity::insert_many(batch)
            .exec(txn)
            .await
            .map_err(unique_race)?;
    }
    let mut active: bank_statement::ActiveModel = statement.clone().into();
    active.new_line_count = Set(new_lines);
    let statement = active.update(txn).await?;
    let view = statement_view(txn, statement).await?;
    audit::record_at(
        txn,
        caller,
        ctx.now(),
        Change::created(
            "bank_statement.import",
            "bank_statement",
            view.id.to_string(),
            &serde_json::json!({
                "statement": view, "new_lines": new_lines, "known_lines": known_lines,
            }),
        ),
    )
    .await?;
    audit::record_at(
        txn,
        caller,
        ctx.now(),
        Change::created(
            "bank_statement.match",
            "bank_statement",
            view.id.to_string(),
            &serde_json::json!({ "lines": matched }),
        ),
    )
    .await?;
    Ok(ImportOutcome {
        statement: view,
        duplicate_file: false,
        new_lines,
        known_lines,
    })
}
