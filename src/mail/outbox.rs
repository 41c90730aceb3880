//! Writing to the outbox: a message becomes a row in the transaction of the event that causes
//! it, so the event and its mail are committed together or not at all (DESIGN.md, jobs and
//! email). Nothing is sent here; the worker ([`super::worker`]) delivers after commit.
//!
//! The dedupe key is unique in the table. [`enqueue`] inserts with
//! `INSERT … ON CONFLICT (dedupe_key) DO NOTHING` rather than catching a unique violation: on
//! PostgreSQL a failed statement aborts the whole transaction, which would take the caller's
//! payment or COB step down with it. A duplicate is therefore a quiet no-op on both backends.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set, TryInsertResult};

use crate::{
    error::{AppResult, Lang},
    store::entities::outbox_message,
};

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Unique per message that must go out once, e.g. `due_reminder:42:2026-03-10:T-7`.
    pub dedupe_key: String,
    /// The template kind, e.g. `payment_receipt`.
    pub kind: String,
    pub recipient: String,
    pub cc: Option<String>,
    pub language: Lang,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// What the message is about, e.g. (`loan`, `42`).
    pub related: Option<(String, String)>,
    /// The cooperative it concerns, for scoping.
    pub cooperative_id: Option<i64>,
}

/// The Message-ID a new row gets: unique, and fixed for every delivery attempt of the row.
pub fn new_message_id() -> String {
    format!("<outbox-{}@coopfund>", uuid::Uuid::new_v4().simple())
}

/// Queues `message` on `conn` (pass the caller's transaction). Returns `true` if a row was
/// written, `false` if a message with the same dedupe key already exists (nothing changes, and
/// the transaction stays usable).
pub async fn enqueue<C: ConnectionTrait>(conn: &C, message: NewMessage) -> AppResult<bool> {
    enqueue_at(conn, message, Utc::now()).await
}

/// [`enqueue`] with an explicit clock: the message is due for delivery from `now`.
pub async fn enqueue_at<C: ConnectionTrait>(
    conn: &C,
    message: NewMessage,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    enqueue_with_qr(conn, message, now, None).await
}

/// [`enqueue_at`] for a mail that asks for a payment: `qr_payload` is the VietQR text the worker draws
/// as an inline PNG when it sends the mail (issue 10 §4).
pub async fn enqueue_with_qr<C: ConnectionTrait>(
    conn: &C,
    message: NewMessage,
    now: DateTime<Utc>,
    qr_payload: Option<String>,
) -> AppResult<bool> {
    let row = new_row(message, now, qr_payload);
    let result = outbox_message::Entity::insert(row)
        .on_conflict_do_nothing_on([outbox_message::Column::DedupeKey])
        .exec_without_returning(conn)
        .await?;
    Ok(matches!(result, TryInsertResult::Inserted(rows) if rows > 0))
}

/// The most messages of one [`enqueue_many`] statement (19 bound values each, under SQLite's 32,766).
const ENQUEUE_ROWS_MAX: usize = 500;

/// [`enqueue_with_qr`] for many messages at once (the close of business queues a chunk's notices together):
/// one multi-row `INSERT … ON CONFLICT (dedupe_key) DO NOTHING` per 500 messages instead of one statement
/// each, rows in the order given. Returns how many rows were written (a message whose dedupe key is
/// already queued is a quiet no-op, as with [`enqueue`]).
pub async fn enqueue_many<C: ConnectionTrait>(
    conn: &C,
    messages: Vec<(NewMessage, Option<String>)>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut written = 0;
    let mut rows = messages
        .into_iter()
        .map(|(message, qr_payload)| new_row(message, now, qr_payload))
        .peekable();
    while rows.peek().is_some() {
        let batch: Vec<outbox_message::ActiveModel> =
            rows.by_ref().take(ENQUEUE_ROWS_MAX).collect();
        let result = outbox_message::Entity::insert_many(batch)
            .on_conflict_do_nothing_on([outbox_message::Column::DedupeKey])
            .exec_without_returning(conn)
            .await?;
        // Every message of the batch already queued: `Conflicted`, nothing written.
        if let TryInsertResult::Inserted(rows) = result {
            written += rows;
        }
    }
    Ok(written)
}

/// The pending outbox row of `message`, due from `now`, with a new Message-ID.
fn new_row(
    message: NewMessage,
    now: DateTime<Utc>,
    qr_payload: Option<String>,
) -> outbox_message::ActiveModel {
    let (related_type, related_id) = message.related.unzip();
    outbox_message::ActiveModel {
        dedupe_key: Set(message.dedupe_key),
        kind: Set(message.kind),
        recipient: Set(message.recipient),
        cc: Set(message.cc.filter(|cc| !cc.trim().is_empty())),
        language: Set(message.language.code().to_string()),
        subject: Set(message.subject),
        body_text: Set(message.body_text),
        body_html: Set(message.body_html),
        message_id: Set(new_message_id()),
        status: Set(outbox_message::PENDING.to_string()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claim_token: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        related_type: Set(related_type),
        related_id: Set(related_id),
        cooperative_id: Set(message.cooperative_id),
        qr_payload: Set(qr_payload),
        ..Default::default()
    }
}
