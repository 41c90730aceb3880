//! Writing to the outbox: a message becomes a row in the transaction of the event that causes
//! it, so the event and its mail are committed together or not at all (DESIGN.md, jobs and
//! email). Nothing is sent here; the worker ([`super::worker`]) delivers after commit.
//!
//! The dedupe key is unique in the table. [`enqueue`] inserts with
//! `INSERT … ON CONFLICT (dedupe_key) DO NOTHING` rather than catching a unique violation: on
//! PostgreSQL a failed statement aborts the whole transaction, which would take the caller's
//! payment or COB step down with it. A duplicate is therefore a quiet no-op on both backends.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Set, Statement,
    TryInsertResult,
};

use crate::{
    app::deferred_writes::{self, Changes},
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

/// [`enqueue_with_qr`] for the mail a money command queues with its transaction (a receipt, a disbursement
/// notice): in a group commit the insert goes with the command's other writes
/// ([`crate::app::deferred_writes`]), so whether the dedupe key was queued already (the same mail for the
/// same transaction; then nothing is written) is not answered.
pub async fn enqueue_with_command<C: ConnectionTrait>(
    conn: &C,
    message: NewMessage,
    now: DateTime<Utc>,
    qr_payload: Option<String>,
) -> AppResult<()> {
    let insert = outbox_message::Entity::insert(new_row(message, now, qr_payload))
        .on_conflict(
            OnConflict::column(outbox_message::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .build(conn.get_database_backend());
    deferred_writes::execute(conn, insert, Changes::Any).await
}

/// The columns [`enqueue_many`] writes (all but `id`), in the order of [`OUTBOX_RECORD`].
const OUTBOX_COLUMNS: [outbox_message::Column; 20] = [
    outbox_message::Column::DedupeKey,
    outbox_message::Column::Kind,
    outbox_message::Column::Recipient,
    outbox_message::Column::Cc,
    outbox_message::Column::Language,
    outbox_message::Column::Subject,
    outbox_message::Column::BodyText,
    outbox_message::Column::BodyHtml,
    outbox_message::Column::MessageId,
    outbox_message::Column::Status,
    outbox_message::Column::Attempts,
    outbox_message::Column::NextAttemptAt,
    outbox_message::Column::ClaimToken,
    outbox_message::Column::LastError,
    outbox_message::Column::CreatedAt,
    outbox_message::Column::SentAt,
    outbox_message::Column::RelatedType,
    outbox_message::Column::RelatedId,
    outbox_message::Column::CooperativeId,
    outbox_message::Column::QrPayload,
];

/// [`OUTBOX_COLUMNS`] with their PostgreSQL types, as a `json_to_recordset` record definition.
const OUTBOX_RECORD: &str = "dedupe_key text, kind text, recipient text, cc text, language text, \
    subject text, body_text text, body_html text, message_id text, status text, attempts integer, \
    next_attempt_at timestamptz, claim_token text, last_error text, created_at timestamptz, \
    sent_at timestamptz, related_type text, related_id text, cooperative_id bigint, qr_payload text";

/// [`enqueue_with_qr`] for many messages at once (the close of business queues a chunk's notices together):
/// one `INSERT … SELECT … ON CONFLICT (dedupe_key) DO NOTHING` for all of them instead of one statement each,
/// rows in the order given. The rows are one JSON parameter (`jsonb_each` on SQLite, `json_to_recordset` on
/// PostgreSQL), so the statement's text is the same whatever the number of messages and each connection
/// prepares it once (issue 14, alloc: a multi-row `VALUES` of each chunk's count was a new statement of up to
/// 10,000 bound values to parse every chunk, kept in sqlx's statement cache afterwards). Each value goes into
/// the JSON as sqlx binds it, so the rows written are those of the `VALUES` form. Returns how many rows were
/// written (a message whose dedupe key is already queued is a quiet no-op, as with [`enqueue`]).
pub async fn enqueue_many<C: ConnectionTrait>(
    conn: &C,
    messages: Vec<(NewMessage, Option<String>)>,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    if messages.is_empty() {
        return Ok(0);
    }
    let rows: Vec<outbox_message::ActiveModel> = messages
        .into_iter()
        .map(|(message, qr_payload)| new_row(message, now, qr_payload))
        .collect();
    let backend = conn.get_database_backend();
    let statement = if backend == DbBackend::Postgres {
        let columns = crate::app::ledger::posting::record_columns(OUTBOX_RECORD);
        Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO outbox_messages ({columns}) SELECT {columns} \
                 FROM json_to_recordset($1::text::json) AS r({OUTBOX_RECORD}) \
                 ON CONFLICT (dedupe_key) DO NOTHING"
            ),
            [crate::app::ledger::posting::postgres_json_records(&rows, &OUTBOX_COLUMNS)?.into()],
        )
    } else {
        // `WHERE true`: SQLite reads an `ON CONFLICT` right after a `FROM` as a join's constraint.
        Statement::from_sql_and_values(
            backend,
            crate::app::ledger::posting::sqlite_json_insert(
                "outbox_messages",
                &OUTBOX_COLUMNS,
                "WHERE true ON CONFLICT (dedupe_key) DO NOTHING",
            ),
            [crate::app::ledger::posting::sqlite_json_rows(&rows, &OUTBOX_COLUMNS)?.into()],
        )
    };
    Ok(conn.execute_raw(statement).await?.rows_affected())
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
