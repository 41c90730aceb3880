//! `bank_statement_lines`: one movement on the fund's bank account, unique per account on
//! `dedupe_key` (the bank's transaction id, or a fingerprint of the line), with its match proposal and
//! the accountant's decision. JSON columns: `candidates` (the loans considered), `plan` (the split to
//! post), `posted_transactions` (the loan transactions posted).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_statement_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The statement that first brought this line.
    pub statement_id: i64,
    pub bank_account: String,
    pub line_no: i32,
    pub booking_date: Date,
    pub value_date: Date,
    /// `credit` (money in) or `debit` (money out).
    pub direction: String,
    pub amount_vnd: i64,
    pub description: String,
    pub bank_transaction_id: Option<String>,
    pub counterparty_name: String,
    pub counterparty_account: String,
    pub dedupe_key: String,
    /// See `crate::app::bank_statements::status`.
    pub status: String,
    pub proposed_loan_id: Option<i64>,
    /// For a debit: the disbursement it is matched to.
    pub proposed_transaction_id: Option<i64>,
    pub match_reason: String,
    /// 0–100.
    pub match_confidence: i32,
    pub candidates: String,
    pub plan: Option<String>,
    pub repayment_kind: Option<String>,
    /// Four-eyes: who proposed the plan a second accountant confirms.
    pub proposed_by: Option<i64>,
    /// Who is posting the line now (status `posting`).
    pub posting_by: Option<i64>,
    pub posted_transactions: String,
    pub reject_reason: Option<String>,
    pub last_error: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub version: i32,
}

no_relations!();
