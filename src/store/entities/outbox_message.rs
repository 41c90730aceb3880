//! `outbox_messages`: emails waiting to be delivered, being delivered, delivered or given up on.
//! See the migration `m20261125_000003_outbox` for the claiming design.

use sea_orm::entity::prelude::*;

/// A message waiting for its `next_attempt_at`.
pub const PENDING: &str = "pending";
/// Claimed by a worker until `next_attempt_at` (the lease).
pub const SENDING: &str = "sending";
/// Accepted by the SMTP server.
pub const SENT: &str = "sent";
/// Given up after the last attempt; an admin may retry it.
pub const FAILED: &str = "failed";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What makes the message unique, e.g. `due_reminder:42:2026-03-10:T-7`.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    /// The template, e.g. `payment_receipt`.
    pub kind: String,
    pub recipient: String,
    pub cc: Option<String>,
    /// `vi` or `en`.
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// RFC 5322 Message-ID, fixed at insert: `<outbox-{uuid}@coopfund>`.
    #[sea_orm(unique)]
    pub message_id: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts begun (counted when claimed).
    pub attempts: i32,
    /// When a pending message may be tried, or when a sending lease expires.
    pub next_attempt_at: DateTimeUtc,
    /// The claim of the worker holding a `sending` lease.
    pub claim_token: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// What the message is about, e.g. `loan` / `42`.
    pub related_type: Option<String>,
    pub related_id: Option<String>,
    /// The cooperative it concerns, for scoping.
    pub cooperative_id: Option<i64>,
    /// The VietQR text of the amount the mail asks for, drawn as an inline PNG when sent.
    pub qr_payload: Option<String>,
}

no_relations!();
