//! The books (DOMAIN.md §9): posting each loan's difference, reading the journal, the trial balance,
//! and `coopfund ledger verify`.
//!
//! ## Posting by difference
//! After every event the loan is refolded by the engine up to the business date; the engine states what
//! each account should hold for that loan ([`coopfund_domain::loan_book`]) and the balanced entry that
//! moves the posted balances there ([`coopfund_domain::entry_for_difference`]). That entry is written in
//! the transaction of the event, tagged with the loan and the transaction, every line carrying `loan_id`
//! (the loan subledger). A back-dated payment or a reversal therefore posts, on the business date, exactly
//! the correction the replay implies; a reversal's entry points at the reversed transaction's entry with
//! `reverses_entry_id`. Days already closed are never re-dated: corrections are posted on the business date.
//!
//! Entries are append-only: no code path here updates or deletes a journal row (a PostgreSQL trigger
//! refuses it too). Circular 200/2014 codes; Circular 52/2022 Art 5(2) for income recognition (the engine).
//!
//! ## Layout
//! - [`books`]: the one posted-book query (sums per account and loan) every reader of the books uses, and each
//!   loan's running book (`loan_books`) that posting by difference reads;
//! - [`posting`]: entry headers, the target book, posting the difference, refolding and caching a loan;
//! - [`journal`]: the chart with balances, the trial balance and the journal;
//! - [`statement`]: one account's statement (sổ chi tiết);
//! - [`fn@verify`]: `coopfund ledger verify`; [`integrity`]: its checks of business keys, transaction
//!   references and charter capital;
//! - [`text`]: every sentence the books write for people (entry descriptions, refusals).

pub mod books;
pub mod integrity;
pub mod journal;
pub mod lines;
pub mod posting;
pub mod statement;
pub mod text;
pub mod verify;

pub use books::{posted_book, posted_books, posted_sums, BookQuery, LoanScope, PostedSum};
pub use journal::*;
pub use posting::*;
pub use statement::*;
pub use verify::*;

use coopfund_domain::LoanState;

use crate::auth::Role;

/// Who reads the books: everyone but cooperatives.
pub const READERS: [Role; 5] = [
    Role::Admin,
    Role::Accountant,
    Role::Auditor,
    Role::Approver,
    Role::Officer,
];

/// The loan status the engine's state implies (`approved` and `contract_signed` stay until disbursed). A
/// written-off loan is `written_off` while anything remains under follow-up, then `recovered`.
pub fn status_of(current: &str, state: &LoanState) -> String {
    super::loan_engine::status_text_after_fold(current, state)
}
