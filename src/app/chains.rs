//! Tamper-evident books (issue 11 item 1): the one appender every chained row goes through, and
//! `coopfund audit verify` / `GET /api/v1/audit/verify` / `coopfund audit checkpoint`.
//!
//! The encoding, the walk and what a chain proves are in [`coopfund_domain::chain`]. Here:
//!
//! - **Appending** ([`ChainHeads`], and [`link`], [`link_entries`] for one chain): before a chained row
//!   is inserted, its link (sequence number, previous hash, own hash) is computed from the values about
//!   to be written, in the caller's transaction; the heads are read at the first row linked and every
//!   head moved is written back in one statement ([`ChainHeads::finish`], before the commit). The head
//!   row is the lock that makes one writer per chain: on PostgreSQL every head is taken `FOR UPDATE` in a
//!   fixed order (so two transactions appending to several chains never deadlock on them) and held to the
//!   commit; on SQLite the read of the heads is an `UPDATE … RETURNING`, so the transaction holds the
//!   database's write lock from then on (and the writer gate already serialises the process's writers).
//!   A unique index on (`chain_part`, `chain_seq`) backs both: a part cannot fork.
//!   The audit trail, the journal and the loan transactions are split into parts (issue 14, chainparts;
//!   [`coopfund_domain::chain`], "Parts"): a unit of work links all its rows into one part, the one of
//!   its loan ([`ChainHeads::for_loan`]: the money commands, a loan's close of business), part 0 (work
//!   with no loan, and the provisions' release and the bulk demo, whose units span many loans) or a bulk
//!   part ([`ChainHeads::bulk`]: the set-based close's chunks, two of which are written at once on
//!   PostgreSQL), and locks that part's heads only. So repayments on loans of different parts no longer
//!   wait for one another's commit (its WAL flush) on one set of heads, and since a unit takes the heads
//!   of one part, in one fixed order, two units never wait for each other's heads in opposite orders.
//!   Rows inserted: audit records ([`crate::app::audit`]), journal entries with their lines
//!   ([`crate::app::ledger::posting`], [`crate::app::charter_capital`]), loan transactions
//!   ([`crate::app::loans`]), charter capital contributions, and the bulk demo's rows.
//! - **Verifying** ([`verify`]): each chain is read in sequence order, in batches, inside one read
//!   transaction (a consistent snapshot while the service keeps writing), and walked; rows outside the
//!   chain and journal lines without an entry are found by their own queries.

use chrono::{DateTime, Utc};
use coopfund_domain::chain::{
    self, links_after_in, part_of_loan, Chain, ChainWalk, Checkpoint, ColumnSpec, Field, FieldKind,
    Finding, Head, Link, ENCODING, JOURNAL_LINE_COLUMNS,
};
use migration::chain_rows::{self, Order};
use sea_orm::{
    sea_query::Nullable, AccessMode, ActiveModelTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, EntityTrait, IsolationLevel, Iterable, QueryResult, Statement, TransactionTrait,
    Value,
};
use serde::Serialize;

use super::{
    context::AppCtx,
    deferred_writes::{self, Changes},
    Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult},
    store::entities::{journal_entry, journal_line},
};

/// Rows read per batch while verifying.
const VERIFY_BATCH_ROWS: u64 = 2_000;
/// Findings kept per chain (the count says how many there were).
const FINDINGS_KEPT_MAX: usize = 100;

/// The value of column `name` of `model`, as the encoding reads it.
fn field_of<A: ActiveModelTrait>(model: &A, name: &str, kind: FieldKind) -> AppResult<Field> {
    let column = <<A::Entity as EntityTrait>::Column as Iterable>::iter()
        .find(|c| sea_orm::IdenStatic::as_str(c) == name)
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "chained column {name} is not in the entity"
            ))
        })?;
    let value = model.get(column).into_value();
    fn typed<T: sea_orm::sea_query::ValueType + Nullable>(
        value: Option<Value>,
        name: &str,
    ) -> AppResult<Option<T>> {
        match value {
            None => Ok(None),
            Some(value) => {
                <Option<T> as sea_orm::sea_query::ValueType>::try_from(value).map_err(|_| {
                    AppError::internal(anyhow::anyhow!(
                        "chained column {name} has an unexpected type"
                    ))
                })
            }
        }
    }
    Ok(match kind {
        FieldKind::Int => typed::<i64>(value, name)?.map_or(Field::Null, Field::Int),
        FieldKind::Text => typed::<String>(value, name)?.map_or(Field::Null, Field::Text),
        FieldKind::Date => {
            typed::<chrono::NaiveDate>(value, name)?.map_or(Field::Null, Field::Date)
        }
        FieldKind::Timestamp => typed::<DateTime<Utc>>(value, name)?
            .map_or(Field::Null, |at| Field::Micros(at.timestamp_micros())),
    })
}

/// The hashed fields of `model` for `columns`.
pub fn fields_of<A: ActiveModelTrait>(model: &A, columns: &[ColumnSpec]) -> AppResult<Vec<Field>> {
    columns
        .iter()
        .map(|(name, kind)| field_of(model, name, *kind))
        .collect()
}

/// Sets the link columns of `model`, a row of part `part`.
fn set_link<A: ActiveModelTrait>(model: &mut A, part: u16, link: &Link) -> AppResult<()> {
    let part = i16::try_from(part)
        .map_err(|_| AppError::internal(anyhow::anyhow!("chain part {part} out of range")))?;
    let values: [(&str, Value); 4] = [
        ("chain_part", part.into()),
        ("chain_seq", Some(link.seq).into()),
        ("chain_prev", Some(link.prev.clone()).into()),
        ("chain_hash", Some(link.hash.clone()).into()),
    ];
    for (name, value) in values {
        let column = <<A::Entity as EntityTrait>::Column as Iterable>::iter()
            .find(|c| sea_orm::IdenStatic::as_str(c) == name)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("{name} is not in the entity")))?;
        model.set(column, value);
    }
    Ok(())
}

/// The chain heads of one unit of work, read once and moved once: the rows it appends to any chain are
/// linked in memory after the heads as read, and every head it moved is written back in one statement
/// at its end ([`ChainHeads::finish`]). A money command appends to three chains (the loan transaction,
/// its journal entry, the audit record): two statements for the three instead of two per chain.
///
/// The heads are read at the first row linked, not before: on PostgreSQL every head is taken
/// `FOR UPDATE` then, in one fixed order (so two transactions appending to several chains never
/// deadlock on them), and held to the commit, as a single [`link`] takes them; on SQLite the read is an
/// `UPDATE … RETURNING` that changes nothing, so the transaction holds the database's write lock before
/// it reads the heads (and the writer gate already serialises the process's writers). The move checks
/// that every head is still where it was read (nothing else may append to these chains in between in
/// the same transaction: a single [`link`] would read the head as stored and collide on the unique
/// `chain_seq`), and refuses otherwise: the caller's transaction must then roll back.
///
/// Every row is linked into one part of its chain: part 0 ([`ChainHeads::new`]) or its loan's
/// ([`ChainHeads::for_loan`]); only that part's heads are read and locked.
#[derive(Debug, Default)]
#[must_use = "the heads must be moved (`ChainHeads::finish`) in the transaction that inserts the linked rows"]
pub struct ChainHeads {
    /// The part every row is linked into.
    part: u16,
    /// Each chain's head (of `part`) as read and as moved by the rows linked so far; `None` until the
    /// first row.
    heads: Option<Vec<(Head, Head)>>,
}

impl ChainHeads {
    /// The heads of part 0, for work with no loan (or many); nothing is read or locked until a row is
    /// linked.
    pub fn new() -> ChainHeads {
        ChainHeads::default()
    }

    /// The heads of loan `loan_id`'s part ([`part_of_loan`]), for a unit of work on that loan: every row
    /// it links (its audit record too) goes into that part.
    pub fn for_loan(loan_id: i64) -> ChainHeads {
        ChainHeads {
            part: part_of_loan(loan_id),
            heads: None,
        }
    }

    /// The heads of loan `loan_id`'s part as read by [`loan_heads_read_sqlite`]'s statement (`rows`: its
    /// rows, and only those).
    pub(crate) fn for_loan_read(loan_id: i64, rows: &[QueryResult]) -> AppResult<ChainHeads> {
        let part = part_of_loan(loan_id);
        Ok(ChainHeads {
            part,
            heads: Some(heads_of(rows, part, &head_names(part))?),
        })
    }

    /// The heads of the `index`-th bulk part ([`coopfund_domain::chain::bulk_part`]), for a unit of work
    /// that spans many loans and runs beside another one (the close of business's chunks): no money command
    /// ever waits for them.
    pub fn bulk(index: usize) -> ChainHeads {
        ChainHeads {
            part: coopfund_domain::chain::bulk_part(index),
            heads: None,
        }
    }

    /// `chain`'s head after the rows linked so far, the heads read (and locked) first if they were not.
    async fn current<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        chain: Chain,
    ) -> AppResult<&mut Head> {
        if self.heads.is_none() {
            self.heads = Some(read_heads(conn, self.part).await?);
        }
        let part = self.part;
        self.heads
            .iter_mut()
            .flatten()
            .find(|(read, _)| read.chain == chain)
            .map(|(_, moved)| moved)
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "the head of chain {} is missing (chain_heads)",
                    chain.head_name(part)
                ))
            })
    }

    /// Links `models` (rows of `chain`'s table, in the order they will be inserted) into `chain` after
    /// the rows linked before them: sets their `chain_seq`, `chain_prev` and `chain_hash`. Not for journal
    /// entries (their lines are hashed with them: [`ChainHeads::link_entries`]).
    pub async fn link<C, A>(&mut self, conn: &C, chain: Chain, models: &mut [A]) -> AppResult<()>
    where
        C: ConnectionTrait,
        A: ActiveModelTrait,
    {
        if models.is_empty() {
            return Ok(());
        }
        let head = self.current(conn, chain).await?;
        *head = link_after(head, models)?;
        Ok(())
    }

    /// Links journal entry `headers` with their `lines` (in insertion order; the lines' `entry_id` need
    /// not be known yet) into the journal chain after the entries linked before them.
    pub async fn link_entries<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        headers: &mut [journal_entry::ActiveModel],
        lines: &[&[journal_line::ActiveModel]],
    ) -> AppResult<()> {
        if headers.is_empty() {
            return Ok(());
        }
        let head = self.current(conn, Chain::Journal).await?;
        *head = link_entries_after(head, headers, lines)?;
        Ok(())
    }

    /// Moves every head a row was linked after, in one statement, in `conn`'s transaction (the one that
    /// read them and inserted the rows); nothing when no row was linked.
    pub async fn finish<C: ConnectionTrait>(self, conn: &C) -> AppResult<()> {
        let Some(heads) = self.heads else {
            return Ok(());
        };
        move_held_heads(conn, &heads).await
    }
}

/// The names of part `part`'s heads (every chain that has that part), in the order they are locked.
fn head_names(part: u16) -> Vec<String> {
    let mut names: Vec<String> = Chain::ALL
        .into_iter()
        .filter(|chain| part < chain.parts())
        .map(|chain| chain.head_name(part))
        .collect();
    names.sort();
    names
}

/// `(p1, p2, …)` with one placeholder per value of `count`, from placeholder `first` (1-based).
fn placeholders(backend: DbBackend, first: usize, count: usize) -> String {
    let list = (first..first + count)
        .map(|i| {
            if backend == DbBackend::Postgres {
                format!("${i}")
            } else {
                "?".to_string()
            }
        })
        .collect::<Vec<_>>();
    format!("({})", list.join(", "))
}

/// Every head of part `part`, in the order of their names: on PostgreSQL taken `FOR UPDATE` for the
/// rest of `conn`'s transaction; on SQLite by an `UPDATE … RETURNING` that changes nothing, so the
/// transaction holds the write lock before it reads them. Two transactions taking the heads of one part
/// take them in one order; a transaction takes the heads of one part only (the module docs).
async fn read_heads<C: ConnectionTrait>(conn: &C, part: u16) -> AppResult<Vec<(Head, Head)>> {
    // A move of the heads the command kept for later must be sent before they are read again.
    deferred_writes::flush(conn).await?;
    let backend = conn.get_database_backend();
    let names = head_names(part);
    let list = placeholders(backend, 1, names.len());
    let sql = if backend == DbBackend::Postgres {
        format!("SELECT chain, seq, hash FROM chain_heads WHERE chain IN {list} ORDER BY chain FOR UPDATE")
    } else {
        heads_sql_sqlite(&list, None)
    };
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            names.iter().map(|n| Value::from(n.as_str())),
        ))
        .await?;
    heads_of(&rows, part, &names)
}

/// SQLite's read of the heads named by the placeholders `list`: the no-op `UPDATE … RETURNING` of
/// [`read_heads`], its rows tagged with a `part` column of `tag` when given.
fn heads_sql_sqlite(list: &str, tag: Option<i32>) -> String {
    let tag = tag
        .map(|tag| format!("{tag} AS part, "))
        .unwrap_or_default();
    format!(
        "UPDATE chain_heads SET seq = seq WHERE chain IN {list} RETURNING {tag}chain, seq, hash"
    )
}

/// The heads of part `part` (named `names`) from the rows of their read, each as read and (not yet)
/// moved, in the order of their names; an error when a head is missing or unknown.
fn heads_of(rows: &[QueryResult], part: u16, names: &[String]) -> AppResult<Vec<(Head, Head)>> {
    let mut heads = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get("", "chain")?;
        let (chain, part) = Chain::from_head_name(&name).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("chain_heads holds an unknown chain {name}"))
        })?;
        let head = Head {
            chain,
            part,
            seq: row.try_get("", "seq")?,
            hash: row.try_get("", "hash")?,
        };
        heads.push((head.clone(), head));
    }
    if heads.len() != names.len() {
        return Err(AppError::internal(anyhow::anyhow!(
            "chain_heads holds {} of the heads {} of part {part}",
            heads.len(),
            names.join(", ")
        )));
    }
    heads.sort_by_key(|(head, _)| head.name());
    Ok(heads)
}

/// The heads of loan `loan_id`'s part read on SQLite within a text of several statements (the money
/// commands read them with the loan's lock, one round trip for both: `crate::app::loans`): the
/// statement, its rows tagged with a `part` column of `tag`, and its values, to send after the values of
/// the statements before it.
pub(crate) fn loan_heads_read_sqlite(loan_id: i64, tag: i32) -> (String, Vec<Value>) {
    let names = head_names(part_of_loan(loan_id));
    let list = placeholders(DbBackend::Sqlite, 1, names.len());
    let values = names.into_iter().map(Value::from).collect();
    (heads_sql_sqlite(&list, Some(tag)), values)
}

/// Links `models` (rows of `chain`'s table, in the order they will be inserted) into `chain`: sets their
/// `chain_seq`, `chain_prev` and `chain_hash`, and moves the head. Call in the transaction that inserts
/// them, right before. Not for journal entries (their lines are hashed with them: [`link_entries`]). A
/// unit of work that appends to several chains uses one [`ChainHeads`] instead (two statements in all).
pub async fn link<C, A>(conn: &C, chain: Chain, models: &mut [A]) -> AppResult<()>
where
    C: ConnectionTrait,
    A: ActiveModelTrait,
{
    let mut heads = ChainHeads::new();
    heads.link(conn, chain, models).await?;
    heads.finish(conn).await
}

/// The hashed fields of each journal entry of `headers`, its `lines` included.
fn entry_fields(
    headers: &[journal_entry::ActiveModel],
    lines: &[&[journal_line::ActiveModel]],
) -> AppResult<Vec<Vec<Field>>> {
    let mut rows = Vec::with_capacity(headers.len());
    for (header, own_lines) in headers.iter().zip(lines) {
        let mut fields = fields_of(header, Chain::Journal.columns())?;
        let line_fields = own_lines
            .iter()
            .map(|l| fields_of(l, JOURNAL_LINE_COLUMNS))
            .collect::<AppResult<Vec<_>>>()?;
        fields.extend(chain_rows::journal_lines_fields(&line_fields));
        rows.push(fields);
    }
    Ok(rows)
}

/// Links journal entry `headers` with their `lines` (in insertion order; the lines' `entry_id` need not
/// be known yet) into the journal chain, and moves its head ([`link`] for entries).
pub async fn link_entries<C: ConnectionTrait>(
    conn: &C,
    headers: &mut [journal_entry::ActiveModel],
    lines: &[&[journal_line::ActiveModel]],
) -> AppResult<()> {
    let mut heads = ChainHeads::new();
    heads.link_entries(conn, headers, lines).await?;
    heads.finish(conn).await
}

/// The head of part `part` of `chain` as stored now, read without a lock. For a writer that links its
/// rows in memory before its transaction ([`link_after`], [`link_entries_after`]) and then moves the
/// head in it ([`move_heads`], which checks that the head is still this one).
pub async fn head<C: ConnectionTrait>(conn: &C, chain: Chain, part: u16) -> AppResult<Head> {
    let backend = conn.get_database_backend();
    let name = chain.head_name(part);
    let sql = if backend == DbBackend::Postgres {
        "SELECT seq, hash FROM chain_heads WHERE chain = $1"
    } else {
        "SELECT seq, hash FROM chain_heads WHERE chain = ?"
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [name.as_str().into()],
        ))
        .await?
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "the head of chain {name} is missing (chain_heads)"
            ))
        })?;
    Ok(Head {
        chain,
        part,
        seq: row.try_get("", "seq")?,
        hash: row.try_get("", "hash")?,
    })
}

/// Links `models` (rows of `head`'s chain, in insertion order) after `head`, in memory: sets their
/// `chain_seq`, `chain_prev` and `chain_hash` as [`link`] would, and returns the head after them. The
/// writer must then [`move_heads`] from `head` to the returned head in the transaction that inserts them.
pub fn link_after<A: ActiveModelTrait>(head: &Head, models: &mut [A]) -> AppResult<Head> {
    let fields = models
        .iter()
        .map(|m| fields_of(m, head.chain.columns()))
        .collect::<AppResult<Vec<_>>>()?;
    let links = links_after_in(head.chain, head.part, head.seq, &head.hash, &fields);
    for (model, link) in models.iter_mut().zip(&links) {
        set_link(model, head.part, link)?;
    }
    Ok(after(head, &links))
}

/// [`link_after`] for journal entries with their lines ([`link_entries`] in memory); `head` is the
/// journal's.
pub fn link_entries_after(
    head: &Head,
    headers: &mut [journal_entry::ActiveModel],
    lines: &[&[journal_line::ActiveModel]],
) -> AppResult<Head> {
    if head.chain != Chain::Journal {
        return Err(AppError::internal(anyhow::anyhow!(
            "journal entries linked after the head of chain {}",
            head.chain.name()
        )));
    }
    let rows = entry_fields(headers, lines)?;
    let links = links_after_in(Chain::Journal, head.part, head.seq, &head.hash, &rows);
    for (header, link) in headers.iter_mut().zip(&links) {
        set_link(header, head.part, link)?;
    }
    Ok(after(head, &links))
}

/// The head after `links` were appended at `head`.
fn after(head: &Head, links: &[Link]) -> Head {
    links.last().map_or_else(
        || head.clone(),
        |last| Head {
            chain: head.chain,
            part: head.part,
            seq: last.seq,
            hash: last.hash.clone(),
        },
    )
}

/// Moves each chain head of `moves` from its first head to its second, in `conn`'s transaction (which
/// goes on to insert the rows linked in between). On PostgreSQL the heads of every part moved are taken
/// `FOR UPDATE` first, in the order of their names (as [`ChainHeads`] takes a part's), and held to the
/// commit. A head that is no longer where the rows were linked (another writer appended since) is an
/// error and nothing is moved: the caller's transaction must roll back.
pub async fn move_heads<C: ConnectionTrait>(conn: &C, moves: &[(Head, Head)]) -> AppResult<()> {
    let backend = conn.get_database_backend();
    if backend == DbBackend::Postgres && !moves.is_empty() {
        let mut parts: Vec<u16> = moves.iter().map(|(from, _)| from.part).collect();
        parts.sort_unstable();
        parts.dedup();
        let names: Vec<String> = parts.into_iter().flat_map(head_names).collect();
        let sql = format!(
            "SELECT chain FROM chain_heads WHERE chain IN {} ORDER BY chain FOR UPDATE",
            placeholders(backend, 1, names.len())
        );
        conn.query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            names.iter().map(|n| Value::from(n.as_str())),
        ))
        .await?;
    }
    move_held_heads(conn, moves).await
}

/// [`move_heads`] without taking the heads first (the caller holds them): one `UPDATE` for every head
/// that moves, each row matched by the chain and the head it moves from.
async fn move_held_heads<C: ConnectionTrait>(conn: &C, moves: &[(Head, Head)]) -> AppResult<()> {
    let mut moving = Vec::with_capacity(moves.len());
    for (from, to) in moves {
        if from.chain != to.chain || from.part != to.part || to.seq < from.seq {
            return Err(AppError::internal(anyhow::anyhow!(
                "chain {}: a head cannot move from {} to {} of chain {}",
                from.name(),
                from.seq,
                to.seq,
                to.name()
            )));
        }
        if from != to {
            moving.push((from, to));
        }
    }
    if moving.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(moving.len() * 7);
    let mut param = |value: Value| {
        values.push(value);
        if backend == DbBackend::Postgres {
            format!("${}", values.len())
        } else {
            "?".to_string()
        }
    };
    let mut seq = String::from("CASE chain");
    for (from, to) in &moving {
        seq += &format!(
            " WHEN {} THEN {}",
            param(from.name().into()),
            param(to.seq.into())
        );
    }
    let mut hash = String::from("CASE chain");
    for (from, to) in &moving {
        hash += &format!(
            " WHEN {} THEN {}",
            param(from.name().into()),
            param(to.hash.clone().into())
        );
    }
    let mut matched = Vec::with_capacity(moving.len());
    for (from, _) in &moving {
        matched.push(format!(
            "(chain = {} AND seq = {} AND hash = {})",
            param(from.name().into()),
            param(from.seq.into()),
            param(from.hash.clone().into())
        ));
    }
    let sql = format!(
        "UPDATE chain_heads SET seq = {seq} END, hash = {hash} END, updated_at = CURRENT_TIMESTAMP WHERE {}",
        matched.join(" OR ")
    );
    let chains = moving
        .iter()
        .map(|(from, _)| format!("{} at seq {}", from.name(), from.seq))
        .collect::<Vec<_>>();
    let what = format!(
        "a chain head moved while rows were linked after it (one of {})",
        chains.join(", ")
    );
    // In a group commit this goes with the command's other writes (`deferred_writes`), its count of moved
    // heads checked there.
    deferred_writes::execute(
        conn,
        Statement::from_sql_and_values(backend, sql, values),
        Changes::Exactly(moving.len() as u64, what.into()),
    )
    .await
}

/// One finding as reported.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport {
    /// What was found, with the rows it names (`kind`: edited, deleted, inserted, reordered,
    /// checkpoint_mismatch, head_mismatch, line_without_entry).
    #[serde(flatten)]
    pub finding: Finding,
    /// The part of the chain it was found in (its sequence numbers are the part's); `None` for a row in
    /// no part (no sequence number, or a part the chain does not have) and a journal line without entry.
    pub part: Option<u16>,
    /// The finding in English.
    pub message: String,
    /// The finding in Vietnamese.
    pub message_vi: String,
}

/// One chain's verdict, every part of it walked.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub chain: Chain,
    /// Chained rows walked (in every part).
    pub rows: u64,
    /// The head of part 0 as `chain_heads` holds it (the whole chain's before it was split).
    pub head_seq: i64,
    pub head_hash: String,
    /// The head of every part as `chain_heads` holds it, part 0 first.
    pub heads: Vec<Head>,
    /// True when nothing was found.
    pub intact: bool,
    /// The first row tampered with, in chain order.
    pub first: Option<FindingReport>,
    /// Every finding (the first `FINDINGS_KEPT_MAX`).
    pub findings: Vec<FindingReport>,
    /// How many findings there were.
    pub findings_total: usize,
    /// Whether a checkpoint head was compared.
    pub checked_against_checkpoint: bool,
}

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct ChainsReport {
    pub checked_at: DateTime<Utc>,
    /// True when every chain is intact.
    pub passed: bool,
    pub chains: Vec<ChainReport>,
    /// Wall time of the walk, milliseconds.
    pub millis: u64,
}

impl ChainsReport {
    /// A readable report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for chain in &self.chains {
            let against = if chain.checked_against_checkpoint {
                ", checked against the checkpoint"
            } else {
                ""
            };
            if chain.intact {
                // A split chain names part 0's head (the others are in the JSON and the checkpoint).
                let parts = if chain.heads.len() > 1 {
                    format!(" in {} parts, part 0's", chain.heads.len())
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "{}: OK, {} rows{parts}, head {}:{}{against}\n",
                    chain.chain.name(),
                    chain.rows,
                    chain.head_seq,
                    chain.head_hash
                ));
            } else {
                out.push_str(&format!(
                    "{}: TAMPERED, {} finding(s) in {} rows{against}\n",
                    chain.chain.name(),
                    chain.findings_total,
                    chain.rows
                ));
                for finding in &chain.findings {
                    out.push_str(&format!("  - {}\n", finding.message));
                }
            }
        }
        out.push_str(if self.passed {
            "audit verify: OK, every chain is intact\n"
        } else {
            "audit verify: FAILED\n"
        });
        out
    }
}

/// Verifies every chain, compared with `checkpoint`'s heads when given. Admins and auditors.
#[tracing::instrument(name = "audit.verify", skip_all)]
pub async fn verify(
    ctx: &AppCtx,
    caller: &Caller,
    checkpoint: Option<Vec<Head>>,
) -> AppResult<ChainsReport> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    verify_books(&ctx.db, ctx.now(), checkpoint.as_deref()).await
}

/// [`verify`] without a caller (the CLI).
pub async fn verify_books(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    checkpoint: Option<&[Head]>,
) -> AppResult<ChainsReport> {
    let started = std::time::Instant::now();
    let txn = read_snapshot(db).await?;
    let mut chains = Vec::new();
    for chain in Chain::ALL {
        chains.push(verify_chain(&txn, chain, checkpoint).await?);
    }
    txn.commit().await?;
    Ok(ChainsReport {
        checked_at: now,
        passed: chains.iter().all(|c| c.intact),
        chains,
        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// A read-only transaction that sees one moment of the books (repeatable read on PostgreSQL; on SQLite
/// a read transaction is a snapshot).
async fn read_snapshot(db: &DatabaseConnection) -> AppResult<sea_orm::DatabaseTransaction> {
    Ok(if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    })
}

/// Walks every part of `chain` (compared with `checkpoint`'s heads of it, when given) and looks for its
/// rows in no part and, for the journal, lines without an entry.
async fn verify_chain<C: ConnectionTrait>(
    conn: &C,
    chain: Chain,
    checkpoint: Option<&[Head]>,
) -> AppResult<ChainReport> {
    let checked_against_checkpoint =
        checkpoint.is_some_and(|heads| heads.iter().any(|h| h.chain == chain));
    let mut rows = 0_u64;
    let mut heads = Vec::with_capacity(usize::from(chain.parts()));
    let mut findings: Vec<(Option<u16>, Finding)> = Vec::new();
    for part in 0..chain.parts() {
        let (head_seq, head_hash) = chain_rows::head(conn, chain, part).await?;
        let signed = checkpoint.and_then(|heads| {
            heads
                .iter()
                .find(|h| h.chain == chain && h.part == part)
                .cloned()
        });
        let mut walk = ChainWalk::new(chain, part, signed);
        let mut after = 0_i64;
        loop {
            let batch =
                chain_rows::read_batch(conn, chain, Order::Seq(part), after, VERIFY_BATCH_ROWS)
                    .await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for row in &batch {
                walk.push(row);
            }
        }
        let result = walk.finish(head_seq, &head_hash);
        rows += result.rows;
        findings.extend(result.findings.into_iter().map(|f| (Some(part), f)));
        heads.push(Head {
            chain,
            part,
            seq: head_seq,
            hash: head_hash,
        });
    }
    for id in chain_rows::unchained_ids(conn, chain, FINDINGS_KEPT_MAX as u64).await? {
        findings.push((None, Finding::Inserted { id, seq: None }));
    }
    if chain == Chain::Journal {
        for (line_id, entry_id) in chain_rows::orphan_lines(conn, FINDINGS_KEPT_MAX as u64).await? {
            findings.push((None, Finding::LineWithoutEntry { line_id, entry_id }));
        }
    }
    let reports: Vec<FindingReport> = findings
        .into_iter()
        .map(|(part, finding)| FindingReport {
            message: finding.describe(chain, part.unwrap_or(0)),
            message_vi: finding.describe_vi(chain, part.unwrap_or(0)),
            part,
            finding,
        })
        .collect();
    let (head_seq, head_hash) = heads
        .first()
        .map(|h| (h.seq, h.hash.clone()))
        .unwrap_or_else(|| (0, chain::GENESIS.to_string()));
    Ok(ChainReport {
        chain,
        rows,
        head_seq,
        head_hash,
        heads,
        intact: reports.is_empty(),
        first: reports.first().cloned(),
        findings_total: reports.len(),
        findings: reports.into_iter().take(FINDINGS_KEPT_MAX).collect(),
        checked_against_checkpoint,
    })
}

/// The chain heads now, with the date, to print and sign off: every chain's part 0 and every other part
/// that holds a row (an empty part's head signs nothing: a later walk compares it with nothing). Admins
/// and auditors.
pub async fn checkpoint(ctx: &AppCtx, caller: &Caller) -> AppResult<Checkpoint> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    checkpoint_of(&ctx.db, ctx.now()).await
}

/// [`checkpoint`] without a caller (the CLI).
pub async fn checkpoint_of(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Checkpoint> {
    let txn = read_snapshot(db).await?;
    let mut heads = Vec::new();
    for chain in Chain::ALL {
        for part in 0..chain.parts() {
            let (seq, hash) = chain_rows::head(&txn, chain, part).await?;
            if part == 0 || seq > 0 {
                heads.push(Head {
                    chain,
                    part,
                    seq,
                    hash,
                });
            }
        }
    }
    let business_date = super::fund::business_date(&txn).await?;
    txn.commit().await?;
    Ok(Checkpoint {
        encoding: ENCODING.to_string(),
        taken_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        business_date,
        heads,
    })
}

/// Reads a checkpoint given as the JSON `coopfund audit checkpoint` prints or as its compact line.
pub fn parse_checkpoint(text: &str) -> AppResult<Vec<Head>> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let checkpoint: Checkpoint = serde_json::from_str(trimmed).map_err(|_| {
            AppError::invalid(
                "checkpoint",
                crate::error::Reason::InvalidFormat {
                    expected: "the JSON printed by `coopfund audit checkpoint`",
                },
            )
        })?;
        return Ok(checkpoint.heads);
    }
    chain::parse_compact(trimmed).map_err(|_| {
        AppError::invalid(
            "checkpoint",
            crate::error::Reason::InvalidFormat {
                expected:
                    "chain:seq:hash;… (e.g. audit:12:<64 hex digits>;journal/3:4:<64 hex digits>)",
            },
        )
    })
}
