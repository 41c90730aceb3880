//! Idempotency keys of money commands (API.md): a retry with the same `Idempotency-Key` and the same
//! body gets the first response again (marked `Idempotency-Replayed: true`); the same key with another
//! body is a 409 `idempotency_key_reused`.
//!
//! The key is stored in `idempotency_keys` (unique per user and key) **in the transaction of the
//! command's effects**, so a crash never leaves a key without its effect or an effect without its key.
//! Only successful responses are stored: a refused command rolls back, so its retry runs again (and may
//! succeed once the cause is fixed, e.g. the business date moved).
//!
//! Concurrency: the command first locks its loan (see [`crate::app::loans`]), then looks the key up, so
//! identical requests racing on one loan queue behind the lock and the losers find the winner's key and
//! replay it. A race on the unique index itself (the same key sent to two different loans at once) ends
//! in a unique violation; the loser rolls back and [`run_keyed`] replays, refuses as reused, or, if the
//! winner has not committed yet, answers 409 `request_in_progress` — never a second posting, never a 500.
//!
//! **The one unit of work** is [`run_keyed`] (zero2prod's `try_processing` / `save_response`): gate,
//! transaction, replay, the use case's work, remember, commit, and the race resolved. It knows no
//! HTTP: the key is scoped by the caller and an operation name the use case gives (`loan.repay:17`)
//! and fingerprints the body; the HTTP layer picks the status code (`crate::http::idempotency`).
//! Every money command (loans, approval, charter capital, bank statement lines) goes through it.

use std::{future::Future, pin::Pin};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryTrait, Set,
    TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    context::AppCtx,
    deferred_writes::{self, Changes},
    writer, Caller,
};
use crate::{
    error::{AppError, AppResult, ErrorKind, Localized, Reason},
    store::{self, entities::idempotency_key},
};

/// The header that carries the key.
pub const HEADER: &str = "Idempotency-Key";
/// The header set on a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";
/// The longest key accepted (the column is 200 characters).
pub const MAX_KEY_CHARS: usize = 200;

/// `value` with every object's keys in order, so two bodies that differ only in key order or
/// whitespace fingerprint alike (serde_json keeps insertion order in this build).
fn sorted_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().map(|(k, v)| (k, sorted_keys(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted_keys).collect())
        }
        other => other,
    }
}

/// The result of a keyed command: done now, or the stored first response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotent<T> {
    /// The command ran now.
    Fresh(T),
    /// A retry: the first response, as stored.
    Replayed {
        /// Its HTTP status when one was stored with it; `None` for [`run_keyed`], whose caller answers
        /// a replay with the status of a fresh result.
        status: Option<u16>,
        /// Its JSON body.
        body: String,
    },
}

impl<T> Idempotent<T> {
    /// The fresh value (for callers that never pass a key).
    pub fn fresh(self) -> Option<T> {
        match self {
            Idempotent::Fresh(value) => Some(value),
            Idempotent::Replayed { .. } => None,
        }
    }

    /// The same outcome with the fresh value mapped by `f` (a replay is the stored JSON as it is).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Idempotent<U> {
        match self {
            Idempotent::Fresh(value) => Idempotent::Fresh(f(value)),
            Idempotent::Replayed { status, body } => Idempotent::Replayed { status, body },
        }
    }
}

fn reused() -> AppError {
    AppError::new(
        ErrorKind::Conflict,
        "idempotency_key_reused",
        Localized::new(
            "Idempotency-Key này đã được dùng cho một yêu cầu khác; hãy dùng khóa mới.",
            "This Idempotency-Key was already used for a different request; use a new key.",
        ),
    )
    .with_field(HEADER)
}

/// The code of [`in_progress`]: [`run_keyed`] turns it into the winner's answer once it committed.
const IN_PROGRESS: &str = "request_in_progress";

fn in_progress() -> AppError {
    AppError::new(
        ErrorKind::Conflict,
        IN_PROGRESS,
        Localized::new(
            "Một yêu cầu với cùng Idempotency-Key đang được xử lý; hãy thử lại sau giây lát.",
            "A request with the same Idempotency-Key is being processed; retry in a moment.",
        ),
    )
    .with_field(HEADER)
}

/// A client's idempotency key and the fingerprint of its body: what [`run_keyed`] needs from a
/// request, without its method or path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    key: String,
    body_fingerprint: String,
}

impl IdempotencyKey {
    /// Checks the key (1 to 200 visible ASCII characters; 400 naming the header) and fingerprints
    /// `body` as canonical JSON, so whitespace and key order do not make another body.
    pub fn new(key: &str, body: &[u8]) -> AppResult<Self> {
        let key = checked_key(key)?;
        let canonical = serde_json::from_slice::<serde_json::Value>(body)
            .map(|value| sorted_keys(value).to_string().into_bytes())
            .unwrap_or_else(|_| body.to_vec());
        Ok(IdempotencyKey {
            key: key.to_string(),
            body_fingerprint: hex::encode(Sha256::digest(&canonical)),
        })
    }

    /// The key as the client sent it (trimmed).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The fingerprint of `operation` asked with this body: a retry of the same operation with the
    /// same body matches, anything else is a reuse of the key.
    fn request_hash(&self, operation: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"operation\n");
        hasher.update(operation.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.body_fingerprint.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// The 1-to-200-visible-ASCII-characters check of a key.
fn checked_key(key: &str) -> AppResult<&str> {
    let key = key.trim();
    let visible = key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !visible {
        return Err(AppError::invalid(
            HEADER,
            Reason::InvalidFormat {
                expected: "1 to 200 visible ASCII characters",
            },
        ));
    }
    Ok(key)
}

/// The work of a keyed command, run inside the transaction [`run_keyed`] opened.
pub type Work<'t, T> = Pin<Box<dyn Future<Output = AppResult<T>> + Send + 't>>;

/// The stored first response of `key` by `user_id`, when it is the same request (`request_hash`);
/// 409 `idempotency_key_reused` when the key was used for another.
async fn stored_response<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    key: &str,
    request_hash: &str,
) -> AppResult<Option<String>> {
    // Unique per user and key: at most one row, read without `LIMIT ?` (`store::one_by_key`).
    let stored = store::one_by_key(
        idempotency_key::Entity::find()
            .filter(idempotency_key::Column::UserId.eq(user_id))
            .filter(idempotency_key::Column::Key.eq(key)),
        conn,
    )
    .await?;
    match stored {
        None => Ok(None),
        Some(row) if row.request_hash == request_hash => Ok(Some(row.response_body)),
        Some(_) => Err(reused()),
    }
}

/// The one idempotent unit of work of a money command.
///
/// 1. Enters the writer gate and opens a transaction; on SQLite outside a gated request, joins the
///    group commit instead ([`writer::Member`]: a savepoint in the batch's transaction, answered once
///    the batch has committed).
/// 2. With a key (and a user: the CLI and jobs send none): a retry of the same `operation` with the
///    same body returns the stored first response, [`Idempotent::Replayed`], and does nothing else;
///    the key used for anything else is a 409 `idempotency_key_reused`.
/// 3. Runs `work` in the transaction (a refusal rolls everything back, so its retry runs again).
/// 4. Remembers the response under the key, in the same transaction, and commits: the effect and
///    its key are written together or not at all.
/// 5. When the same key raced in another transaction and won (a unique violation on the key), rolls
///    back and answers what the winner answered, or 409 `request_in_progress` while it has not
///    committed.
///
/// `operation` names what is asked and on what, e.g. `loan.repay:17`: the same key and body sent
/// for another loan is another request.
#[tracing::instrument(name = "keyed unit of work", skip_all, fields(operation = %operation, keyed = key.is_some()))]
pub async fn run_keyed<T, F>(
    ctx: &AppCtx,
    caller: &Caller,
    operation: &str,
    key: Option<&IdempotencyKey>,
    work: F,
) -> AppResult<Idempotent<T>>
where
    T: Serialize + Send,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> Work<'t, T>,
{
    let keyed = match (key, caller.user_id()) {
        (Some(key), Some(user_id)) => Some((key, user_id, key.request_hash(operation))),
        _ => None,
    };
    let keyed_ref = keyed.as_ref();
    let outcome = if writer::groups_commits(&ctx.db) {
        // SQLite outside a gated request: one command of a group commit (see `writer`).
        let member = writer::Member::join(&ctx.db).await?;
        // Boxed: the command's future is large, and a debug build's stack is not. Its writes that need
        // nothing back go together, with its next read or at its end (`Member::run`, `deferred_writes`).
        let outcome = member
            .run(Box::pin(keyed_work(
                ctx,
                member.txn(),
                operation,
                keyed_ref,
                work,
            )))
            .await;
        member.finish(outcome).await
    } else {
        let _gate = ctx.writer.enter(&ctx.db).await;
        let txn = ctx.db.begin().await?;
        match Box::pin(keyed_work(ctx, &txn, operation, keyed_ref, work)).await {
            Ok(outcome) => {
                match &outcome {
                    Idempotent::Fresh(_) => txn.commit().await?,
                    Idempotent::Replayed { .. } => txn.rollback().await?,
                }
                Ok(outcome)
            }
            Err(err) => {
                txn.rollback().await?;
                Err(err)
            }
        }
    };
    match (outcome, &keyed) {
        // The same key raced in another transaction and won: answer what it answered once committed.
        (Err(err), Some((key, user_id, hash))) if err.code == IN_PROGRESS => {
            match stored_response(&ctx.db, *user_id, key.key(), hash).await? {
                Some(body) => Ok(Idempotent::Replayed { status: None, body }),
                None => Err(err),
            }
        }
        (outcome, _) => outcome,
    }
}

/// Steps 2 to 4 of [`run_keyed`] on `txn`, which the caller commits or rolls back (a replay writes
/// nothing; a lost race on the key is the error `request_in_progress`, its effects to roll back).
async fn keyed_work<T, F>(
    ctx: &AppCtx,
    txn: &DatabaseTransaction,
    operation: &str,
    keyed: Option<&(&IdempotencyKey, i64, String)>,
    work: F,
) -> AppResult<Idempotent<T>>
where
    T: Serialize + Send,
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> Work<'t, T>,
{
    if let Some((key, user_id, hash)) = keyed {
        if let Some(body) = stored_response(txn, *user_id, key.key(), hash).await? {
            return Ok(Idempotent::Replayed { status: None, body });
        }
    }
    let value = work(txn).await?;
    if let Some((key, user_id, hash)) = keyed {
        let body = serde_json::to_string(&value).map_err(AppError::internal)?;
        let row = idempotency_key::ActiveModel {
            user_id: Set(*user_id),
            key: Set(key.key().to_string()),
            // The operation names the request; the HTTP columns stay empty (the HTTP layer
            // answers a replay with the status of a fresh result).
            method: Set(String::new()),
            path: Set(operation.to_string()),
            request_hash: Set(hash.clone()),
            status_code: Set(0),
            response_body: Set(body),
            created_at: Set(ctx.now()),
            ..Default::default()
        };
        // Without `RETURNING`: the row (with the whole response body) is not read back. In a group commit
        // it goes with the command's other writes: the key was looked up in the same transaction under the
        // writer gate, so no other command can have taken it meanwhile. Boxed: sea-orm's insert future is
        // large, and a debug build carries the command's future on the stack.
        let insert = idempotency_key::Entity::insert(row).build(txn.get_database_backend());
        if let Err(insert) = deferred_writes::keep(txn, insert, Changes::Any) {
            match Box::pin(txn.execute_raw(insert)).await {
                Ok(_) => {}
                Err(err) if store::is_unique_violation(&err) => return Err(in_progress()),
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(Idempotent::Fresh(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_overlong_key_is_refused() {
        assert!(IdempotencyKey::new("ключ", b"{}").is_err());
        assert!(IdempotencyKey::new("", b"{}").is_err());
        assert!(IdempotencyKey::new(&"k".repeat(201), b"{}").is_err());
    }

    #[test]
    /// The same JSON with other whitespace or key order (and a key with spaces around it) has the same
    /// fingerprint; another body or another operation does not.
    fn a_key_fingerprints_the_operation_and_the_body_not_its_layout() {
        let a = IdempotencyKey::new("k1", br#"{"a":1,"b":2}"#).unwrap();
        let b = IdempotencyKey::new(" k1 ", b"{ \"b\": 2, \"a\": 1 }").unwrap();
        let c = IdempotencyKey::new("k1", br#"{"a":1,"b":3}"#).unwrap();
        assert_eq!(
            a.request_hash("loan.repay:1"),
            b.request_hash("loan.repay:1")
        );
        assert_ne!(
            a.request_hash("loan.repay:1"),
            c.request_hash("loan.repay:1")
        );
        assert_ne!(
            a.request_hash("loan.repay:1"),
            a.request_hash("loan.repay:2")
        );
    }
}
