//! The wire types of `/api/v1/bank-statements`, `/api/v1/bank-statement-lines` and a cooperative's bank
//! accounts: each view is the JSON of the record the use case returns (`crate::app::bank_statements`),
//! field for field, with its OpenAPI schema; query parameters and bodies convert into its inputs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use coopfund_domain::RepaymentKind;

use crate::{
    app::bank_statements::{
        self as statements, confirm, formats::StatementFormat, import, reconcile, Direction,
        LineStatus,
    },
    error::AppError,
};

view! {
    /// How many lines of a statement are in each state.
    #[derive(Debug, Clone, Default, Serialize, ToSchema)]
    pub struct LineCounts from statements::LineCounts {
        pub proposed: i64,
        pub ambiguous: i64,
        pub unmatched: i64,
        pub awaiting_second: i64,
        pub posting: i64,
        pub posted: i64,
        pub rejected: i64,
    }
}

view! {
    /// A statement as imported.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct StatementView from statements::StatementView {
        pub id: i64,
        pub bank_account: String,
        /// csv, xlsx, camt053 or mt940.
        #[schema(value_type = String)]
        pub format: StatementFormat,
        pub profile: Option<String>,
        pub file_name: String,
        pub file_sha256: String,
        pub statement_ref: Option<String>,
        #[schema(value_type = Option<String>, format = Date)]
        pub period_from: Option<NaiveDate>,
        #[schema(value_type = Option<String>, format = Date)]
        pub period_to: Option<NaiveDate>,
        pub opening_balance_vnd: Option<i64>,
        pub closing_balance_vnd: Option<i64>,
        /// Lines in the file.
        pub line_count: i32,
        /// Lines of the file not seen before (the others belong to an earlier statement).
        pub new_line_count: i32,
        pub imported_by: Option<i64>,
        pub imported_at: DateTime<Utc>,
        /// The states of this statement's own lines.
        pub counts: LineCounts [into],
    }
}

view! {
    /// One part of a line to post on one loan.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Split from statements::Split {
        pub loan_id: i64,
        pub amount_vnd: i64,
    }
}

impl From<Split> for statements::Split {
    fn from(r: Split) -> statements::Split {
        statements::Split {
            loan_id: r.loan_id,
            amount_vnd: r.amount_vnd,
        }
    }
}

view! {
    /// One line with its proposal and decision.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct LineView from statements::LineView {
        pub id: i64,
        /// The statement that first brought the line.
        pub statement_id: i64,
        pub line_no: i32,
        #[schema(value_type = String, format = Date)]
        pub booking_date: NaiveDate,
        #[schema(value_type = String, format = Date)]
        pub value_date: NaiveDate,
        /// credit (money in) or debit (money out).
        #[schema(value_type = String)]
        pub direction: Direction,
        pub amount_vnd: i64,
        pub description: String,
        pub bank_transaction_id: Option<String>,
        pub counterparty_name: String,
        pub counterparty_account: String,
        /// proposed, ambiguous, unmatched, awaiting_second, posting, posted, rejected.
        #[schema(value_type = String)]
        pub status: LineStatus,
        /// The loan proposed (credit) or of the disbursement proposed (debit).
        pub proposed_loan_id: Option<i64>,
        pub proposed_loan_number: Option<String>,
        /// Debit: the disbursement transaction proposed.
        pub proposed_transaction_id: Option<i64>,
        /// Why it was matched or not (loan_number, loan_number_truncated, account_and_amount_due …).
        pub match_reason: String,
        /// 0–100.
        pub match_confidence: i32,
        /// Loans (credit) or disbursements (debit) that were considered.
        pub candidates: Vec<i64>,
        /// What is (to be) posted: loan and amount per part.
        pub plan: Vec<Split> [each],
        /// ordinary or prepayment.
        #[schema(value_type = Option<String>)]
        pub repayment_kind: Option<RepaymentKind>,
        /// The loan transactions posted for it.
        pub posted_transactions: Vec<i64>,
        pub reject_reason: Option<String>,
        /// Why the last attempt to post failed.
        pub last_error: Option<String>,
        pub proposed_by: Option<i64>,
        pub decided_by: Option<i64>,
        pub decided_at: Option<DateTime<Utc>>,
        /// For an open credit with a proposed loan: the payoff on the value date (a line above it is
        /// not posted).
        pub payoff_vnd: Option<i64>,
    }
}

view! {
    /// A statement with its lines.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct StatementDetail from statements::StatementDetail {
        pub statement: StatementView [into],
        pub lines: Vec<LineView> [each],
    }
}

/// `?limit=` of the list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// At most this many, newest first (default 50).
    pub limit: Option<u64>,
}

impl From<StatementQuery> for statements::StatementQuery {
    fn from(r: StatementQuery) -> statements::StatementQuery {
        statements::StatementQuery { limit: r.limit }
    }
}

view! {
    /// `POST /cooperatives/{id}/bank-accounts`.
    #[derive(Debug, Clone, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct NewBankAccount into statements::NewBankAccount {
        /// The account number as the bank writes it; stored as its digits and letters.
        pub account_number: String,
        /// The bank and branch.
        pub bank_name: String,
    }
}

view! {
    /// A cooperative's registered account.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct BankAccountView from statements::BankAccountView {
        pub id: i64,
        pub cooperative_id: i64,
        pub account_number: String,
        pub bank_name: String,
        pub created_at: DateTime<Utc>,
    }
}

/// `POST /bank-statement-lines/{id}/confirm`: as proposed (empty body `{}`), or to other loans.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmInput {
    /// The parts to post (reassign: one part on another loan; split: several), summing to the line's
    /// amount. Absent: the proposal, in full.
    #[serde(default)]
    pub splits: Option<Vec<Split>>,
    /// ordinary (default) or prepayment.
    #[serde(default)]
    pub kind: Option<String>,
    /// A debit: the disbursement transaction it is (absent: the proposal).
    #[serde(default)]
    pub transaction_id: Option<i64>,
}

impl TryFrom<ConfirmInput> for confirm::ConfirmInput {
    type Error = AppError;

    fn try_from(r: ConfirmInput) -> Result<confirm::ConfirmInput, AppError> {
        Ok(confirm::ConfirmInput {
            splits: r.splits.map(|v| v.into_iter().map(Into::into).collect()),
            kind: r.kind.as_deref().map(confirm::repayment_kind).transpose()?,
            transaction_id: r.transaction_id,
        })
    }
}

/// `POST /bank-statement-lines/{id}/reject`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// Why the line is not a repayment (a bank fee, a refund, a grant …).
    pub reason: String,
}

impl From<RejectInput> for confirm::RejectInput {
    fn from(r: RejectInput) -> confirm::RejectInput {
        confirm::RejectInput { reason: r.reason }
    }
}

view! {
    /// `POST /bank-statements/{id}/confirm`.
    #[derive(Debug, Clone, Default, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct BulkConfirmInput into confirm::BulkConfirmInput {
        /// The lines to confirm as proposed; absent: every proposed line of the statement with at least
        /// `bank_statements.bulk_min_confidence_percent`.
        #[serde(default)]
        pub line_ids: Option<Vec<i64>>,
    }
}

view! {
    /// What happened to one line of a bulk confirmation.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct BulkLineOutcome from confirm::BulkLineOutcome {
        pub line_id: i64,
        /// The line's status afterwards.
        pub status: String,
        /// The refusal's code, when the line was not confirmed (e.g. above_payoff).
        pub error_code: Option<String>,
        pub error_message: Option<String>,
    }
}

view! {
    /// A bulk confirmation.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct BulkOutcome from confirm::BulkOutcome {
        pub confirmed: i64,
        pub refused: i64,
        pub lines: Vec<BulkLineOutcome> [each],
    }
}

view! {
    /// `POST /bank-statements?format=&profile=&account=&file_name=` (the body is the file).
    #[derive(Debug, Clone, Default, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct ImportQuery into import::ImportQuery {
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
}

view! {
    /// What an import did.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct ImportOutcome from import::ImportOutcome {
        pub statement: StatementView [into],
        /// True when this very file was imported before: nothing was added.
        pub duplicate_file: bool,
        /// Lines added now.
        pub new_lines: i32,
        /// Lines of the file already known from an earlier statement (not added again).
        pub known_lines: i32,
    }
}

view! {
    /// A bank line the books do not have.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct UnpostedLine from reconcile::UnpostedLine {
        pub line_id: i64,
        #[schema(value_type = String, format = Date)]
        pub value_date: NaiveDate,
        /// + money in, − money out.
        pub signed_amount_vnd: i64,
        #[schema(value_type = String)]
        pub status: LineStatus,
        pub description: String,
    }
}

view! {
    /// A 1121 posting no bank line accounts for.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct UnmatchedPosting from reconcile::UnmatchedPosting {
        pub entry_id: i64,
        pub transaction_id: Option<i64>,
        #[schema(value_type = String, format = Date)]
        pub date: NaiveDate,
        /// + debit of 1121 (money in), − credit.
        pub signed_amount_vnd: i64,
        pub description: String,
    }
}

view! {
    /// The reconciliation of one statement.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct Reconciliation from reconcile::Reconciliation {
        pub statement_id: i64,
        pub bank_account: String,
        #[schema(value_type = String, format = Date)]
        pub period_from: NaiveDate,
        #[schema(value_type = String, format = Date)]
        pub period_to: NaiveDate,
        /// The bank's balance at the end of the day before `period_from` (null if the file gave none).
        pub bank_opening_vnd: Option<i64>,
        pub bank_closing_vnd: Option<i64>,
        /// 1121 at the end of the day before `period_from`.
        pub ledger_opening_vnd: i64,
        /// 1121 at the end of `period_to`.
        pub ledger_closing_vnd: i64,
        /// bank − ledger, opening (null without a bank balance).
        pub opening_difference_vnd: Option<i64>,
        /// bank − ledger, closing.
        pub closing_difference_vnd: Option<i64>,
        pub unposted_lines: Vec<UnpostedLine> [each],
        pub postings_without_bank_line: Vec<UnmatchedPosting> [each],
        /// The movement difference the lists above do not explain.
        pub unexplained_vnd: i64,
        /// The statement gave both balances, both differences and the unexplained amount are 0, and no
        /// line or posting is left unexplained.
        pub reconciled: bool,
    }
}
