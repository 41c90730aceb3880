//! Writes a money command sends together, in one round trip, instead of one by one (SQLite group commit,
//! issue 14).
//!
//! **Why.** On SQLite a money command runs inside the file's one writer gate ([`crate::app::writer`]),
//! and the driver runs each SQLite connection on a thread of its own: every statement is a hand-off to
//! that thread and back, and those hand-offs, not the statements' work (a few µs each), are most of the
//! time a repayment holds the gate. Most of a command's writes need nothing back (the journal lines, the
//! loan's cached balances, the audit record, the chain heads' move, the receipt mail, the idempotency
//! key; and the loan transaction and its journal entry, whose ids the command took with the loan's lock,
//! `crate::app::loans::NextIds`), so they need not be sent the moment they are made.
//!
//! **How.** Inside [`scope`] (the commands of a group commit, on SQLite only) [`execute`] keeps the write
//! instead of sending it; the kept writes go as **one text of several statements** (the driver binds the
//! `?`s across them in order) either with the next read made through [`query_all`], or by [`flush`], or at
//! the end of the command, with the release of its savepoint when no kept write there has a count to check
//! ([`scope_closing`]). A write whose count of changed rows matters
//! (a chain head moved from where it was read) is followed in that text by `SELECT changes()`, and a count
//! other than the one expected fails the command as the write would have. An error of any kept write fails
//! the command, whose savepoint is then rolled back: nothing of it is written, as before.
//!
//! **What a command may assume.** A kept write is not visible until it is sent. So every read that may
//! follow a write of the same command and must see it sends the kept writes first: the posting's reads and
//! the chain heads' read call [`flush`] (nothing to send, nothing sent), and the receipt's audience is read
//! with them ([`query_all`]). Only writes on the scope's own connection are kept: a write on any other (the
//! pool, another transaction) is sent at once. Outside [`scope`] (PostgreSQL, a gated request, the close of
//! business) [`execute`] sends the write at once: the same statements, in the same order.

use std::{borrow::Cow, cell::RefCell};

use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value, Values};

use crate::error::{AppError, AppResult};

/// The most `?` values one text carries: SQLite refuses a statement with more than 32,766; a text above
/// this is sent in several round trips.
const VALUES_PER_TEXT_MAX: usize = 30_000;

tokio::task_local! {
    /// The writes kept by the command the current task runs, while it runs inside [`scope`].
    static KEPT: Kept;
}

/// How many rows a write must change: a different count fails the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// Any number (an insert, whose errors are its only failures).
    Any,
    /// Exactly this many, else the command fails naming `what`.
    Exactly(u64, Cow<'static, str>),
}

/// The writes a scope keeps, and the connection they are for.
struct Kept {
    /// The address of the scope's connection: a write is kept only when made on that very value (the
    /// functions that write take it by reference, so every reborrow has this address).
    conn: usize,
    writes: RefCell<Vec<KeptWrite>>,
}

/// The address of `conn`, as [`Kept::conn`] holds it.
fn address_of<C>(conn: &C) -> usize {
    conn as *const C as *const () as usize
}

/// One write not sent yet.
struct KeptWrite {
    sql: String,
    values: Vec<Value>,
    changes: Changes,
}

/// Runs `work` (one money command of a SQLite group commit, on `conn`, its savepoint) keeping its writes
/// made through [`execute`], and sends those still kept once it succeeded. A command that fails sends
/// nothing (its savepoint is rolled back by the caller).
pub async fn scope<C, T, F>(conn: &C, work: F) -> AppResult<T>
where
    C: ConnectionTrait,
    F: std::future::Future<Output = AppResult<T>>,
{
    scope_closing(conn, None, work).await.0
}

/// Runs `work` like [`scope`]; when it succeeded and none of the writes still kept at its end has a count to
/// check, `closing` if any (statements without values: the group commit's release of the command's savepoint)
/// goes last in the same text as them, saving it a round trip of its own. Returns the work's result and whether
/// `closing` was sent; it never is when the work or its last writes failed (SQLite stops a text at its first
/// failing statement), nor after writes whose counts are checked, since those are checked only once the text
/// has run and a failed check must still find the savepoint to roll back to.
pub async fn scope_closing<C, T, F>(
    conn: &C,
    closing: Option<&str>,
    work: F,
) -> (AppResult<T>, bool)
where
    C: ConnectionTrait,
    F: std::future::Future<Output = AppResult<T>>,
{
    let kept = Kept {
        conn: address_of(conn),
        writes: RefCell::new(Vec::new()),
    };
    KEPT.scope(kept, async {
        let value = match work.await {
            Ok(value) => value,
            Err(err) => return (Err(err), false),
        };
        let closes = KEPT.with(|kept| {
            let Some(closing) = closing else {
                return false;
            };
            let mut writes = kept.writes.borrow_mut();
            let closes =
                !writes.is_empty() && writes.iter().all(|write| write.changes == Changes::Any);
            if closes {
                writes.push(KeptWrite {
                    sql: closing.to_string(),
                    values: Vec::new(),
                    changes: Changes::Any,
                });
            }
            closes
        });
        match flush(conn).await {
            Ok(()) => (Ok(value), closes),
            Err(err) => (Err(err), false),
        }
    })
    .await
}

/// Whether a write made now on `conn` would be kept (inside [`scope`], on its connection, on SQLite).
fn keeps<C: ConnectionTrait>(conn: &C) -> bool {
    conn.get_database_backend() == DbBackend::Sqlite
        && KEPT
            .try_with(|kept| kept.conn == address_of(conn))
            .unwrap_or(false)
}

/// Keeps `statement` for the next round trip when `conn` keeps writes (inside [`scope`], on SQLite);
/// otherwise gives it back, for the caller to execute now.
pub fn keep<C: ConnectionTrait>(
    conn: &C,
    statement: Statement,
    changes: Changes,
) -> Result<(), Statement> {
    if !keeps(conn) {
        return Err(statement);
    }
    let values = statement
        .values
        .map(|Values(values)| values)
        .unwrap_or_default();
    KEPT.with(|kept| {
        kept.writes.borrow_mut().push(KeptWrite {
            sql: statement.sql,
            values,
            changes,
        })
    });
    Ok(())
}

/// Executes `statement` on `conn`, or keeps it for the next round trip inside [`scope`]; either way a
/// count of changed rows other than `changes` fails.
pub async fn execute<C: ConnectionTrait>(
    conn: &C,
    statement: Statement,
    changes: Changes,
) -> AppResult<()> {
    match keep(conn, statement, changes.clone()) {
        Ok(()) => Ok(()),
        Err(statement) => {
            // Boxed: sea-orm's execute future is large, and a debug build carries the command's future on
            // the stack.
            let changed = Box::pin(conn.execute_raw(statement)).await?.rows_affected();
            check(&changes, changed)
        }
    }
}

/// Sends the writes kept so far on `conn` (nothing outside [`scope`] or when none is kept).
pub async fn flush<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    if keeps(conn) {
        send(conn, None).await?;
    }
    Ok(())
}

/// Runs the read `statement` on `conn`, after the writes kept so far and in the same round trip.
pub async fn query_all<C: ConnectionTrait>(
    conn: &C,
    statement: Statement,
) -> AppResult<Vec<QueryResult>> {
    if keeps(conn) {
        return send(conn, Some(statement)).await;
    }
    Ok(conn.query_all_raw(statement).await?)
}

/// The name of the column that tells the rows of a kept write's count from the read's rows.
const CHECK_COLUMN: &str = "kept_write_changes";

/// One text sent in one round trip: kept writes (each followed by its check when it has one), then perhaps
/// a read.
#[derive(Default)]
struct Text {
    sql: String,
    values: Vec<Value>,
    /// What each check row of the text expects, by its index.
    checks: Vec<Changes>,
}

impl Text {
    fn add(&mut self, write: KeptWrite) {
        self.sql.push_str(&write.sql);
        self.sql.push_str(";\n");
        self.values.extend(write.values);
        if let Changes::Exactly(..) = write.changes {
            // The check's index, so that its row is matched to its write whatever else returns rows.
            self.sql.push_str(&format!(
                "SELECT {} AS {CHECK_COLUMN}, changes() AS changed;\n",
                self.checks.len()
            ));
            self.checks.push(write.changes);
        }
    }

    fn add_read(&mut self, read: Statement) {
        self.sql.push_str(&read.sql);
        self.values
            .extend(read.values.map(|Values(values)| values).unwrap_or_default());
    }

    /// Sends the text on `conn`; checks every kept write's count and returns the read's rows.
    async fn send<C: ConnectionTrait>(self, conn: &C) -> AppResult<Vec<QueryResult>> {
        let Text {
            sql,
            values,
            checks,
        } = self;
        let statement = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
        let mut read_rows = Vec::new();
        let mut checked = 0;
        for row in conn.query_all_raw(statement).await? {
            let Some(index) = row.try_get::<Option<i64>>("", CHECK_COLUMN).ok().flatten() else {
                read_rows.push(row);
                continue;
            };
            let expected = usize::try_from(index)
                .ok()
                .and_then(|i| checks.get(i))
                .cloned()
                .ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("no kept write has check {index}"))
                })?;
            let changed: i64 = row.try_get("", "changed")?;
            check(&expected, u64::try_from(changed).unwrap_or(u64::MAX))?;
            checked += 1;
        }
        if checked != checks.len() {
            return Err(AppError::internal(anyhow::anyhow!(
                "{checked} of {} checked writes reported their changes",
                checks.len()
            )));
        }
        Ok(read_rows)
    }
}

/// Sends the kept writes (taken from the scope), then `read`, in as few texts as the values allow (the read
/// with the last); the rows of `read`.
async fn send<C: ConnectionTrait>(
    conn: &C,
    mut read: Option<Statement>,
) -> AppResult<Vec<QueryResult>> {
    let kept = KEPT.with(|kept| std::mem::take(&mut *kept.writes.borrow_mut()));
    let mut texts: Vec<Text> = Vec::new();
    for write in kept {
        match texts.last_mut() {
            Some(text) if text.values.len() + write.values.len() <= VALUES_PER_TEXT_MAX => {
                text.add(write)
            }
            _ => {
                let mut text = Text::default();
                text.add(write);
                texts.push(text);
            }
        }
    }
    let count = texts.len();
    let mut read_rows = Vec::new();
    for (index, mut text) in texts.into_iter().enumerate() {
        if index + 1 == count {
            if let Some(read) = read.take() {
                text.add_read(read);
            }
        }
        read_rows.extend(text.send(conn).await?);
    }
    match read {
        // Nothing was kept: the read alone.
        Some(read) => Ok(conn.query_all_raw(read).await?),
        None => Ok(read_rows),
    }
}

/// `changed` against what the write expected.
fn check(changes: &Changes, changed: u64) -> AppResult<()> {
    match changes {
        Changes::Exactly(expected, what) if changed != *expected => Err(AppError::internal(
            anyhow::anyhow!("{what}: {changed} rows changed, {expected} expected"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{Database, DatabaseConnection, TransactionTrait};

    use super::*;

    async fn table() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            .await
            .expect("table");
        db
    }

    fn insert(n: i64) -> Statement {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (n) VALUES (?)",
            [n.into()],
        )
    }

    fn count() -> Statement {
        Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COUNT(*) AS c, SUM(n) AS s FROM t",
        )
    }

    async fn count_and_sum<C: ConnectionTrait>(conn: &C) -> (i64, Option<i64>) {
        let row = conn
            .query_one_raw(count())
            .await
            .expect("count")
            .expect("a row");
        (row.try_get("", "c").unwrap(), row.try_get("", "s").unwrap())
    }

    /// Inside the scope a write is not sent until a read through `query_all` (which sees it, in the same
    /// text) or the scope's end; the values of several kept writes are bound in order across them.
    #[tokio::test]
    async fn kept_writes_go_with_the_next_read_or_at_the_end_in_order() {
        let db = table().await;
        let txn = db.begin().await.expect("begin");
        scope(&txn, async {
            execute(&txn, insert(1), Changes::Any).await?;
            execute(&txn, insert(20), Changes::Any).await?;
            // Not sent yet: a read that does not go through this module does not see them.
            assert_eq!(count_and_sum(&txn).await, (0, None));
            let rows = query_all(&txn, count()).await?;
            assert_eq!(rows.len(), 1, "only the read's row comes back");
            assert_eq!(rows[0].try_get::<i64>("", "s").unwrap(), 21);
            execute(&txn, insert(300), Changes::Any).await?;
            Ok(())
        })
        .await
        .expect("the scope");
        assert_eq!(count_and_sum(&txn).await, (3, Some(321)));
        txn.commit().await.expect("commit");
    }

    /// A kept write whose count of changed rows is not the one expected fails the scope when it is sent,
    /// naming it; a count that matches passes.
    #[tokio::test]
    async fn a_kept_write_changing_other_than_the_expected_rows_fails_the_scope() {
        let db = table().await;
        let txn = db.begin().await.expect("begin");
        let update = |from: i64| {
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "UPDATE t SET n = n + 1 WHERE n = ?",
                [from.into()],
            )
        };
        let outcome = scope(&txn, async {
            execute(&txn, insert(5), Changes::Any).await?;
            execute(
                &txn,
                update(5),
                Changes::Exactly(1, "the row of five".into()),
            )
            .await?;
            execute(
                &txn,
                update(5),
                Changes::Exactly(1, "the row of five again".into()),
            )
            .await?;
            Ok(())
        })
        .await;
        let err = outcome.expect_err("the second update changes nothing");
        assert!(
            format!("{err:?}").contains("the row of five again: 0 rows changed, 1 expected"),
            "{err:?}"
        );
    }

    /// `scope_closing` sends its closing statements last in the text of the scope's last kept writes when none
    /// of them has a count to check, and says so; after a checked write, with no write left, or when the work
    /// fails, it does not send them.
    #[tokio::test]
    async fn the_closing_goes_with_the_last_writes_unless_one_is_checked() {
        let db = table().await;
        let txn = db.begin().await.expect("begin");
        // The closing here records that it ran (the group commit's is its savepoint's release).
        let closing = "INSERT INTO t (n) VALUES (1000)";
        let (result, closed) = scope_closing(&txn, Some(closing), async {
            execute(&txn, insert(1), Changes::Any).await?;
            Ok(())
        })
        .await;
        result.expect("the scope");
        assert!(closed, "no checked write: the closing goes with the last");
        assert_eq!(count_and_sum(&txn).await, (2, Some(1001)));

        let (result, closed) = scope_closing(&txn, Some(closing), async {
            execute(
                &txn,
                Statement::from_string(DbBackend::Sqlite, "UPDATE t SET n = n WHERE n = 1"),
                Changes::Exactly(1, "the row of one".into()),
            )
            .await
        })
        .await;
        result.expect("the scope");
        assert!(
            !closed,
            "a checked write: the closing is the caller's to send"
        );
        let (result, closed) = scope_closing(&txn, Some(closing), async { Ok(()) }).await;
        result.expect("the scope");
        assert!(!closed, "nothing kept: the closing is the caller's to send");
        let (result, closed) = scope_closing(&txn, Some(closing), async {
            execute(&txn, insert(7), Changes::Any).await?;
            Err::<(), _>(AppError::internal(anyhow::anyhow!("refused")))
        })
        .await;
        assert!(result.is_err());
        assert!(!closed, "a failed work sends nothing");
        assert_eq!(count_and_sum(&txn).await, (2, Some(1001)));
    }

    /// Inside a scope, a write on another connection than the scope's (here the pool itself) is not kept for
    /// the scope's transaction: it is sent at once, on its own connection.
    #[tokio::test]
    async fn a_write_on_another_connection_is_not_kept() {
        // A file: every connection of an in-memory pool would have a database of its own.
        let dir = tempfile::tempdir().expect("a directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let mut options = sea_orm::ConnectOptions::new(url);
        options.max_connections(2);
        let db = Database::connect(options).await.expect("sqlite");
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            .await
            .expect("table");
        let txn = db.begin().await.expect("begin");
        scope(&txn, async {
            execute(&db, insert(9), Changes::Any).await?;
            assert_eq!(count_and_sum(&db).await, (1, Some(9)), "sent at once");
            Ok(())
        })
        .await
        .expect("the scope");
        txn.rollback().await.expect("rollback");
        assert_eq!(
            count_and_sum(&db).await,
            (1, Some(9)),
            "not in the rolled back transaction"
        );
    }

    /// Outside a scope (and so on PostgreSQL, in a gated request, in the close) a write is sent at once and
    /// its count is checked there.
    #[tokio::test]
    async fn outside_a_scope_a_write_is_sent_at_once() {
        let db = table().await;
        execute(&db, insert(7), Changes::Any).await.expect("insert");
        assert_eq!(count_and_sum(&db).await, (1, Some(7)));
        let none = Statement::from_string(DbBackend::Sqlite, "UPDATE t SET n = 0 WHERE n = 8");
        let err = execute(&db, none, Changes::Exactly(1, "the row of eight".into()))
            .await
            .expect_err("no row of eight");
        assert!(format!("{err:?}").contains("the row of eight"), "{err:?}");
        flush(&db).await.expect("nothing to send");
    }
}
