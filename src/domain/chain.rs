//! Tamper-evident books: the hash chains over the audit trail, the journal, the loan transactions and
//! the charter capital contributions (issue 11 item 1).
//!
//! ## The encoding (version 1)
//! Each chained row carries its sequence number in its chain (`chain_seq`, 1, 2, 3 … with no gap), the
//! hash of the row before it (`chain_prev`; [`GENESIS`] for the first) and its own hash (`chain_hash`):
//!
//! ```text
//! chain_hash = hex(SHA-256( "coopfund-chain/v1" 0x00 chain-name 0x00
//!                           seq as 8 bytes big-endian
//!                           chain_prev as 64 ASCII hex digits
//!                           each field of the row, in the order of [`Chain::columns`] ))
//! ```
//! A field is a tag byte and its value: `N` (NULL); `I` and 8 bytes big-endian (an integer); `T`, the
//! length as 8 bytes big-endian and the UTF-8 bytes (text); `D` and `YYYY-MM-DD` (a date); `M` and the
//! microseconds since 1970 as 8 bytes big-endian (a timestamp: PostgreSQL keeps microseconds, so finer
//! digits are not part of the record). A journal entry's fields are followed by its line count (`I`) and
//! each line's fields ([`JOURNAL_LINE_COLUMNS`]) in the order of the lines' ids, so an entry's hash covers
//! its lines. The row's database id is not hashed (the ids of the bulk loader and of a fresh insert are
//! not known alike); instead the chain order must agree with the id order ([`Finding::Reordered`]).
//!
//! The version string is part of every hash: a later encoding gets a new version string and starts
//! where the chain head says the old one stopped.
//!
//! ## Parts (issue 14, chainparts)
//! The audit trail, the journal and the loan transactions are each split into [`PARTS`] parts, each a
//! chain of its own (its own `chain_seq` from 1, its own head in `chain_heads`), so that money commands on
//! loans of different parts do not wait for one another's commit on one head. A row's part is stored with
//! it (`chain_part`). The chain name hashed is the part's ([`Chain::head_name`]): part 0 is hashed under the
//! chain's own name (`journal`), exactly as every row was before the chains were split, so the rows already
//! chained are part 0 and keep their hashes; part 3 is hashed as `journal/3`, so a row moved to another part
//! breaks both chains. A unit of work links all its rows in one part ([`part_of_loan`] of its loan; part 0
//! for work with no loan), so it locks one part's heads and two units never wait for each other in
//! opposite orders. The charter capital contributions have one part (they name no loan).
//!
//! The first [`LOAN_PARTS`] parts are the loans' ([`part_of_loan`]); the [`BULK_PARTS`] after them
//! ([`bulk_part`]) hold no loan's own work: they are for units that span many loans and run side by side,
//! the close of business's chunks (issue 14, cobwriters). Such a unit may wait for another one (the close
//! writes its chunks' marks in order) while holding its heads; were those a loan's part's heads, a money
//! command on a loan of the unit it waits for could wait for them in turn, a cycle no database sees.
//!
//! ## What a chain proves, and what it does not
//! A row edited, deleted, inserted or moved without rewriting the hashes after it breaks the chain at
//! that row ([`ChainWalk`] names it). The hash is not keyed: whoever can write the database and knows
//! this encoding can recompute a whole chain. Against that the chain heads are printed and signed off
//! on paper or kept outside the database (a [`Checkpoint`]): a later walk recomputes every hash from the
//! rows' contents and compares the hash at the checkpoint's sequence number, so no row at or before it can
//! change without the comparison failing.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Language;

/// The version string hashed into every row (see the module docs).
pub const ENCODING: &str = "coopfund-chain/v1";

/// How many parts the audit trail, the journal and the loan transactions are each split into (see the
/// module docs): the loans' parts and the bulk parts after them. Migration 000017 made the heads of parts
/// 1..16 and migration 000021 those of 16..18: a larger number needs a migration that adds the heads of the
/// new parts.
pub const PARTS: u16 = LOAN_PARTS + BULK_PARTS;

/// The parts `0..LOAN_PARTS`, among which [`part_of_loan`] spreads the loans.
pub const LOAN_PARTS: u16 = 16;

/// The parts `LOAN_PARTS..PARTS`, which no loan's own work uses ([`bulk_part`], the module docs).
pub const BULK_PARTS: u16 = 2;

/// The part a unit of work on loan `loan_id` links its rows into: the id modulo [`LOAN_PARTS`] (`rem_euclid`,
/// so in `0..LOAN_PARTS` for any id).
pub const fn part_of_loan(loan_id: i64) -> u16 {
    // `as u16` keeps the id's low 16 bits (two's complement), and LOAN_PARTS is a power of two (asserted
    // below), so a divisor of 2^16: those bits modulo LOAN_PARTS are the id's own remainder,
    // `loan_id.rem_euclid(LOAN_PARTS)`, with no conversion that could fail.
    (loan_id as u16) % LOAN_PARTS
}

const _: () = assert!(
    LOAN_PARTS.is_power_of_two(),
    "part_of_loan needs LOAN_PARTS to divide 2^16"
);

/// The `index`-th bulk part (taken modulo [`BULK_PARTS`]): for a unit of work that spans many loans and may run
/// beside another such unit (the module docs); never a loan's part.
pub const fn bulk_part(index: usize) -> u16 {
    // `index % BULK_PARTS` is below BULK_PARTS, a u16, so the conversion keeps it whole.
    LOAN_PARTS + (index % BULK_PARTS as usize) as u16
}

/// The `chain_prev` of a chain's first row: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chained tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    /// `audit_records`.
    Audit,
    /// `journal_entries` with their `journal_lines`.
    Journal,
    /// `loan_transactions`.
    LoanTransactions,
    /// `charter_capital_contributions`.
    CharterCapital,
}

/// How a column is read into a [`Field`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `BIGINT` (nullable or not).
    Int,
    /// Text (nullable or not).
    Text,
    /// `DATE`.
    Date,
    /// `TIMESTAMP WITH TIME ZONE`, hashed in microseconds.
    Timestamp,
}

/// A column of a chained row, in hashing order.
pub type ColumnSpec = (&'static str, FieldKind);

/// A chain's columns in hashing order, `name: Kind` each (one short line per few columns: the list
/// is data, read across).
macro_rules! columns {
    ($($column:ident: $kind:ident),* $(,)?) => {
        &[$((stringify!($column), FieldKind::$kind)),*]
    };
}

const AUDIT_COLUMNS: &[ColumnSpec] = columns![
    at: Timestamp, actor_id: Int, actor: Text, action: Text, entity_type: Text, entity_id: Text,
    before: Text, after: Text, request_id: Text,
];

const JOURNAL_COLUMNS: &[ColumnSpec] = columns![
    entry_date: Date, kind: Text, description: Text, loan_id: Int, transaction_id: Int,
    reverses_entry_id: Int, business_key: Text, created_by: Int, posted_at: Timestamp,
];

/// The columns of each journal line hashed into its entry.
pub const JOURNAL_LINE_COLUMNS: &[ColumnSpec] = columns![
    account_code: Text, debit_vnd: Int, credit_vnd: Int, loan_id: Int,
];

const LOAN_TRANSACTION_COLUMNS: &[ColumnSpec] = columns![
    loan_id: Int, kind: Text, value_date: Date, amount_vnd: Int, reference: Text,
    repayment_kind: Text, reverses_id: Int, reason: Text, details: Text, approved_by: Int,
    created_by: Int, created_at: Timestamp,
];

const CHARTER_CAPITAL_COLUMNS: &[ColumnSpec] = columns![
    amount_vnd: Int, contributed_on: Date, reference: Text, created_by: Int, created_at: Timestamp,
];

impl Chain {
    /// Every chain, in the order heads are locked and reported.
    pub const ALL: [Chain; 4] = [
        Chain::Audit,
        Chain::CharterCapital,
        Chain::Journal,
        Chain::LoanTransactions,
    ];

    /// Its name in `chain_heads.chain`, checkpoints and reports.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Audit => "audit",
            Chain::Journal => "journal",
            Chain::LoanTransactions => "loan_transactions",
            Chain::CharterCapital => "charter_capital",
        }
    }

    /// The chain named `name`.
    pub fn from_name(name: &str) -> Option<Chain> {
        Chain::ALL.into_iter().find(|c| c.name() == name)
    }

    /// How many parts it is split into: [`PARTS`], or 1 for the charter capital (no loan to split by).
    pub fn parts(self) -> u16 {
        match self {
            Chain::CharterCapital => 1,
            Chain::Audit | Chain::Journal | Chain::LoanTransactions => PARTS,
        }
    }

    /// The name of its part `part`: in `chain_heads.chain`, in checkpoints and in every hash of the part.
    /// Part 0 is the chain's own name (`journal`), part 3 is `journal/3`.
    pub fn head_name(self, part: u16) -> String {
        if part == 0 {
            self.name().to_string()
        } else {
            format!("{}/{part}", self.name())
        }
    }

    /// The chain and part named `name` ([`Chain::head_name`]); `None` for an unknown chain or a part it
    /// does not have.
    pub fn from_head_name(name: &str) -> Option<(Chain, u16)> {
        let (chain, part) = match name.split_once('/') {
            None => (Chain::from_name(name)?, 0),
            Some((chain, written)) => {
                let part: u16 = written.parse().ok().filter(|p| *p > 0)?;
                // One spelling per part: `journal/03` is not `journal/3`.
                if part.to_string() != written {
                    return None;
                }
                (Chain::from_name(chain)?, part)
            }
        };
        (part < chain.parts()).then_some((chain, part))
    }

    /// The table whose rows it chains.
    pub fn table(self) -> &'static str {
        match self {
            Chain::Audit => "audit_records",
            Chain::Journal => "journal_entries",
            Chain::LoanTransactions => "loan_transactions",
            Chain::CharterCapital => "charter_capital_contributions",
        }
    }

    /// The hashed columns of a row, in order (a journal entry's lines follow, see the module docs).
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Chain::Audit => AUDIT_COLUMNS,
            Chain::Journal => JOURNAL_COLUMNS,
            Chain::LoanTransactions => LOAN_TRANSACTION_COLUMNS,
            Chain::CharterCapital => CHARTER_CAPITAL_COLUMNS,
        }
    }
}

/// One hashed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// SQL NULL.
    Null,
    /// An integer column.
    Int(i64),
    /// A text column.
    Text(String),
    /// A date column.
    Date(NaiveDate),
    /// Microseconds since 1970-01-01T00:00:00Z.
    Micros(i64),
}

impl Field {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Field::Null => out.push(b'N'),
            Field::Int(value) => {
                out.push(b'I');
                out.extend_from_slice(&value.to_be_bytes());
            }
            Field::Text(text) => {
                out.push(b'T');
                out.extend_from_slice(&(text.len() as u64).to_be_bytes());
                out.extend_from_slice(text.as_bytes());
            }
            Field::Date(date) => {
                out.push(b'D');
                out.extend_from_slice(date.format("%Y-%m-%d").to_string().as_bytes());
            }
            Field::Micros(micros) => {
                out.push(b'M');
                out.extend_from_slice(&micros.to_be_bytes());
            }
        }
    }
}

/// A row's place in its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// 1 for the first row.
    pub seq: i64,
    /// The previous row's hash ([`GENESIS`] for the first).
    pub prev: String,
    /// This row's hash.
    pub hash: String,
}

/// The hash of the row at `seq` after `prev` with `fields` in part `part` of `chain`.
pub fn row_hash(chain: Chain, part: u16, seq: i64, prev: &str, fields: &[Field]) -> String {
    let mut bytes = Vec::with_capacity(256);
    bytes.extend_from_slice(ENCODING.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(chain.head_name(part).as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(&seq.to_be_bytes());
    bytes.extend_from_slice(prev.as_bytes());
    for field in fields {
        field.encode(&mut bytes);
    }
    let digest = Sha256::digest(&bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// The links of `rows` appended after part 0 of a chain whose last row is `head_seq` with hash
/// `head_hash`: [`links_after_in`] part 0, the whole chain before the chains were split (migration 000014
/// chains an existing database with it).
pub fn links_after(chain: Chain, head_seq: i64, head_hash: &str, rows: &[Vec<Field>]) -> Vec<Link> {
    links_after_in(chain, 0, head_seq, head_hash, rows)
}

/// The links of `rows` appended after part `part` of a chain whose last row is `head_seq` with hash
/// `head_hash`.
pub fn links_after_in(
    chain: Chain,
    part: u16,
    head_seq: i64,
    head_hash: &str,
    rows: &[Vec<Field>],
) -> Vec<Link> {
    let mut prev = head_hash.to_string();
    let mut links = Vec::with_capacity(rows.len());
    for (seq, fields) in (head_seq + 1..).zip(rows) {
        let hash = row_hash(chain, part, seq, &prev, fields);
        links.push(Link {
            seq,
            prev: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    links
}

/// A chain's head as signed off: the last row's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Which chain.
    pub chain: Chain,
    /// Which part of it (absent in a checkpoint taken before the chains were split: part 0).
    #[serde(default, skip_serializing_if = "is_part_zero")]
    pub part: u16,
    /// 0 for an empty chain.
    pub seq: i64,
    /// The last row's hash ([`GENESIS`] for an empty chain).
    pub hash: String,
}

fn is_part_zero(part: &u16) -> bool {
    *part == 0
}

impl Head {
    /// The name of its part ([`Chain::head_name`]).
    pub fn name(&self) -> String {
        self.chain.head_name(self.part)
    }
}

/// The heads of every chain at one moment, to print, sign and keep outside the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`ENCODING`].
    pub encoding: String,
    /// When it was taken (RFC 3339, UTC).
    pub taken_at: String,
    /// The fund's business date then.
    pub business_date: NaiveDate,
    /// Each chain's head.
    pub heads: Vec<Head>,
}

impl Checkpoint {
    /// The heads in one line (`audit:12:ab…;journal:40:cd…`), for a query string or a signed note.
    pub fn compact(&self) -> String {
        compact(&self.heads)
    }
}

/// `heads` in the compact form of [`Checkpoint::compact`].
pub fn compact(heads: &[Head]) -> String {
    heads
        .iter()
        .map(|h| format!("{}:{}:{}", h.name(), h.seq, h.hash))
        .collect::<Vec<_>>()
        .join(";")
}

/// Why a compact checkpoint cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a checkpoint is `chain:seq:hash` separated by `;` (chains audit, journal, loan_transactions, charter_capital, a part as `journal/3`; a 64-digit hex hash): {0}")]
pub struct CheckpointError(pub String);

/// Reads the compact form (see [`Checkpoint::compact`]).
pub fn parse_compact(text: &str) -> Result<Vec<Head>, CheckpointError> {
    let mut heads: Vec<Head> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || CheckpointError(format!("`{part}` is not chain:seq:hash"));
        let mut pieces = part.split(':');
        let (Some(name), Some(seq), Some(hash), None) =
            (pieces.next(), pieces.next(), pieces.next(), pieces.next())
        else {
            return Err(bad());
        };
        let (chain, part) = Chain::from_head_name(name)
            .ok_or_else(|| CheckpointError(format!("`{name}` is not a chain")))?;
        let seq: i64 = seq.parse().ok().filter(|s| *s >= 0).ok_or_else(bad)?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        if heads.iter().any(|h| h.chain == chain && h.part == part) {
            return Err(CheckpointError(format!("`{name}` is given twice")));
        }
        heads.push(Head {
            chain,
            part,
            seq,
            hash,
        });
    }
    if heads.is_empty() {
        return Err(CheckpointError("no head given".into()));
    }
    Ok(heads)
}

/// What a walk found wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The row's contents no longer hash to its `chain_hash`, or the next row's `chain_prev` no longer
    /// names its hash (it was re-hashed after an edit).
    Edited {
        /// The row's id.
        id: i64,
        /// Its sequence number.
        seq: i64,
    },
    /// Rows `from_seq..=to_seq` are missing; `next_id` is the row after the gap (`None`: they were the last).
    Deleted {
        /// The first missing sequence number.
        from_seq: i64,
        /// The last missing sequence number.
        to_seq: i64,
        /// The row after the gap.
        next_id: Option<i64>,
    },
    /// A row not written through the chain: no sequence number, a sequence number already taken, or
    /// (journal) a line whose entry does not exist.
    Inserted {
        /// The row's id.
        id: i64,
        /// Its sequence number, if it has one.
        seq: Option<i64>,
    },
    /// The row's id is lower than the previous row's: rows were renumbered or moved.
    Reordered {
        /// The row's id.
        id: i64,
        /// Its sequence number.
        seq: i64,
        /// The id of the row before it in the chain.
        previous_id: i64,
    },
    /// A full recomputation from the rows' contents does not give the checkpoint's hash at its sequence
    /// number: something at or before it changed, even if the chain was re-hashed throughout.
    CheckpointMismatch {
        /// The checkpoint's sequence number.
        seq: i64,
        /// The row holding it now, if any.
        id: Option<i64>,
    },
    /// The chain head (`chain_heads`) disagrees with the last row.
    HeadMismatch {
        /// What `chain_heads` says.
        head_seq: i64,
        /// The last chained row's sequence number.
        last_seq: i64,
    },
    /// A journal line whose entry does not exist (its entry was deleted, or the line was added).
    LineWithoutEntry {
        /// The line's id.
        line_id: i64,
        /// The entry it names.
        entry_id: i64,
    },
}

impl Finding {
    /// Its kind as named on the wire (`edited`, `deleted`, `inserted`, `reordered`, `checkpoint_mismatch`,
    /// `head_mismatch`, `line_without_entry`).
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Edited { .. } => "edited",
            Finding::Deleted { .. } => "deleted",
            Finding::Inserted { .. } => "inserted",
            Finding::Reordered { .. } => "reordered",
            Finding::CheckpointMismatch { .. } => "checkpoint_mismatch",
            Finding::HeadMismatch { .. } => "head_mismatch",
            Finding::LineWithoutEntry { .. } => "line_without_entry",
        }
    }

    /// The row it names (the id in the chained table; a journal line's id for `line_without_entry`; the row
    /// after the gap for `deleted`) and that row's (or the gap's first) sequence number.
    pub fn row(&self) -> (Option<i64>, Option<i64>) {
        match self {
            Finding::Edited { id, seq } | Finding::Reordered { id, seq, .. } => {
                (Some(*id), Some(*seq))
            }
            Finding::Deleted {
                from_seq, next_id, ..
            } => (*next_id, Some(*from_seq)),
            Finding::Inserted { id, seq } => (Some(*id), *seq),
            Finding::CheckpointMismatch { seq, id } => (*id, Some(*seq)),
            Finding::HeadMismatch { head_seq, .. } => (None, Some(*head_seq)),
            Finding::LineWithoutEntry { line_id, .. } => (Some(*line_id), None),
        }
    }

    /// The finding in part `part` of `chain` in one Vietnamese sentence.
    pub fn describe_vi(&self, chain: Chain, part: u16) -> String {
        self.describe_in(chain, part, Language::Vietnamese)
    }

    /// The finding in part `part` of `chain` in one English sentence.
    pub fn describe(&self, chain: Chain, part: u16) -> String {
        self.describe_in(chain, part, Language::English)
    }

    /// The finding in part `part` of `chain` in one sentence of `language`. Both sentences of a finding
    /// stand side by side so that a change to one is seen next to the other. A part other than 0 is named
    /// after the table (`journal_entries (journal/3)`): its sequence numbers are its own.
    pub fn describe_in(&self, chain: Chain, part: u16, language: Language) -> String {
        let table = if part == 0 {
            chain.table().to_string()
        } else {
            format!("{} ({})", chain.table(), chain.head_name(part))
        };
        let (vi, en) = match self {
            Finding::Edited { id, seq } => (
                format!("{table}: dòng {id} (số thứ tự {seq}) đã bị sửa: nội dung không còn khớp mã băm"),
                format!("{table} row {id} (seq {seq}) was edited: its contents no longer match its hash"),
            ),
            Finding::Deleted { from_seq, to_seq, next_id } => {
                let (span_vi, span_en) = if from_seq == to_seq {
                    (format!("dòng số thứ tự {from_seq}"), format!("row seq {from_seq} was"))
                } else {
                    (
                        format!("các dòng số thứ tự {from_seq}..{to_seq}"),
                        format!("rows seq {from_seq}..{to_seq} were"),
                    )
                };
                match next_id {
                    Some(id) => (
                        format!("{table}: {span_vi} đã bị xóa (trước dòng {id})"),
                        format!("{table}: {span_en} deleted (before row {id})"),
                    ),
                    None => (
                        format!("{table}: {span_vi} đã bị xóa (cuối chuỗi)"),
                        format!("{table}: {span_en} deleted (the last of the chain)"),
                    ),
                }
            }
            Finding::Inserted { id, seq: None } => (
                format!("{table}: dòng {id} được chèn ngoài chuỗi"),
                format!("{table} row {id} was inserted outside the chain"),
            ),
            Finding::Inserted { id, seq: Some(seq) } => (
                format!("{table}: dòng {id} được chèn với số thứ tự đã có ({seq})"),
                format!("{table} row {id} was inserted with a sequence number already taken ({seq})"),
            ),
            Finding::Reordered { id, seq, previous_id } => (
                format!(
                    "{table}: dòng {id} (số thứ tự {seq}) đứng sau dòng {previous_id} trong chuỗi nhưng có mã nhỏ hơn: thứ tự đã bị đổi"
                ),
                format!(
                    "{table} row {id} (seq {seq}) comes after row {previous_id} in the chain but has a lower id: rows were reordered"
                ),
            ),
            Finding::CheckpointMismatch { seq, id: Some(id) } => (
                format!(
                    "{table}: các dòng đến số thứ tự {seq} (dòng {id}) không còn khớp điểm kiểm tra: đã có dòng bị sửa và chuỗi bị băm lại"
                ),
                format!(
                    "{table}: the rows up to seq {seq} (row {id}) no longer hash to the checkpoint: something at or before it was changed and the chain re-hashed"
                ),
            ),
            Finding::CheckpointMismatch { seq, id: None } => (
                format!("{table}: điểm kiểm tra đã ký số thứ tự {seq}, chuỗi không còn dòng này"),
                format!("{table}: the checkpoint signed seq {seq}, which the chain no longer holds"),
            ),
            Finding::HeadMismatch { head_seq, last_seq } => (
                format!("{table}: đầu chuỗi ghi số thứ tự {head_seq} nhưng dòng cuối của chuỗi là {last_seq}"),
                format!("{table}: the chain head says seq {head_seq} but the last chained row is seq {last_seq}"),
            ),
            Finding::LineWithoutEntry { line_id, entry_id } => (
                format!("dòng bút toán {line_id} thuộc bút toán {entry_id}, bút toán này không tồn tại"),
                format!("journal line {line_id} belongs to entry {entry_id}, which does not exist"),
            ),
        };
        match language {
            Language::Vietnamese => vi,
            Language::English => en,
        }
    }
}

/// A row as stored: its id, its link columns and its hashed fields.
#[derive(Debug, Clone)]
pub struct StoredRow {
    /// The row's id.
    pub id: i64,
    /// `chain_seq` (0 when NULL).
    pub seq: i64,
    /// `chain_prev`.
    pub prev: Option<String>,
    /// `chain_hash`.
    pub hash: Option<String>,
    /// The hashed fields (see the module docs).
    pub fields: Vec<Field>,
}

/// Walks one part of a chain, its rows in sequence order, and names what is wrong.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    chain: Chain,
    part: u16,
    /// The next sequence number expected.
    expected_seq: i64,
    /// The previous row's stored hash and id.
    previous: Option<(String, i64)>,
    /// The hash recomputed from contents alone, from the genesis.
    recomputed: String,
    checkpoint: Option<Head>,
    checkpoint_seen: bool,
    /// Rows walked.
    pub rows: u64,
    /// Findings in chain order.
    pub findings: Vec<Finding>,
}

impl ChainWalk {
    /// A walk of part `part` of `chain`, compared at the end with `checkpoint` when given (and of this
    /// part).
    pub fn new(chain: Chain, part: u16, checkpoint: Option<Head>) -> ChainWalk {
        ChainWalk {
            chain,
            part,
            expected_seq: 1,
            previous: None,
            recomputed: GENESIS.to_string(),
            checkpoint: checkpoint.filter(|h| h.chain == chain && h.part == part),
            checkpoint_seen: false,
            rows: 0,
            findings: Vec::new(),
        }
    }

    /// The next row (in `chain_seq` order).
    pub fn push(&mut self, row: &StoredRow) {
        self.rows += 1;
        if row.seq < self.expected_seq {
            self.findings.push(Finding::Inserted {
                id: row.id,
                seq: Some(row.seq),
            });
            return;
        }
        let gap = row.seq > self.expected_seq;
        if gap {
            self.findings.push(Finding::Deleted {
                from_seq: self.expected_seq,
                to_seq: row.seq - 1,
                next_id: Some(row.id),
            });
        }
        let stored_prev = row.prev.as_deref().unwrap_or("");
        let own = row_hash(self.chain, self.part, row.seq, stored_prev, &row.fields);
        if row.hash.as_deref() != Some(own.as_str()) {
            self.findings.push(Finding::Edited {
                id: row.id,
                seq: row.seq,
            });
        } else if !gap {
            let previous_hash = self.previous.as_ref().map_or(GENESIS, |p| p.0.as_str());
            if stored_prev != previous_hash {
                // This row is intact, so the one before it was changed and given a new hash.
                let (id, seq) = match &self.previous {
                    Some((_, id)) => (*id, row.seq - 1),
                    None => (row.id, row.seq),
                };
                self.findings.push(Finding::Edited { id, seq });
            }
        }
        if let Some((_, previous_id)) = &self.previous {
            if row.id < *previous_id {
                self.findings.push(Finding::Reordered {
                    id: row.id,
                    seq: row.seq,
                    previous_id: *previous_id,
                });
            }
        }
        self.recomputed = row_hash(
            self.chain,
            self.part,
            row.seq,
            &self.recomputed,
            &row.fields,
        );
        if let Some(checkpoint) = &self.checkpoint {
            if checkpoint.seq == row.seq {
                self.checkpoint_seen = true;
                if checkpoint.hash != self.recomputed {
                    self.findings.push(Finding::CheckpointMismatch {
                        seq: row.seq,
                        id: Some(row.id),
                    });
                }
            }
        }
        self.previous = Some((row.hash.clone().unwrap_or_default(), row.id));
        self.expected_seq = row.seq + 1;
    }

    /// A row with no sequence number (written outside the chain).
    pub fn push_unchained(&mut self, id: i64) {
        self.findings.push(Finding::Inserted { id, seq: None });
    }

    /// A journal line whose entry does not exist.
    pub fn push_orphan_line(&mut self, line_id: i64, entry_id: i64) {
        self.findings
            .push(Finding::LineWithoutEntry { line_id, entry_id });
    }

    /// Ends the walk against the chain head `head_seq`/`head_hash` (from `chain_heads`); returns the findings.
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> ChainWalkResult {
        let last_seq = self.expected_seq - 1;
        if head_seq > last_seq {
            self.findings.push(Finding::Deleted {
                from_seq: last_seq + 1,
                to_seq: head_seq,
                next_id: None,
            });
        } else {
            let last_hash = self.previous.as_ref().map_or(GENESIS, |p| p.0.as_str());
            if head_seq != last_seq || head_hash != last_hash {
                self.findings
                    .push(Finding::HeadMismatch { head_seq, last_seq });
            }
        }
        if let Some(checkpoint) = &self.checkpoint {
            if checkpoint.seq == 0 && checkpoint.hash != GENESIS {
                self.findings
                    .push(Finding::CheckpointMismatch { seq: 0, id: None });
            } else if checkpoint.seq > 0 && !self.checkpoint_seen {
                self.findings.push(Finding::CheckpointMismatch {
                    seq: checkpoint.seq,
                    id: None,
                });
            }
        }
        ChainWalkResult {
            chain: self.chain,
            part: self.part,
            rows: self.rows,
            last_seq,
            last_hash: self.previous.map_or_else(|| GENESIS.to_string(), |p| p.0),
            findings: self.findings,
        }
    }
}

/// One chain's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainWalkResult {
    /// Which chain.
    pub chain: Chain,
    /// Which part of it.
    pub part: u16,
    /// Rows walked (chained rows).
    pub rows: u64,
    /// The last chained row's sequence number (0: none).
    pub last_seq: i64,
    /// Its stored hash.
    pub last_hash: String,
    /// Everything wrong, in chain order; the first is the first row tampered with.
    pub findings: Vec<Finding>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: i64) -> Vec<StoredRow> {
        chained(
            (0..n)
                .map(|i| vec![Field::Int(i), Field::Text(format!("row {i}")), Field::Null])
                .collect(),
        )
    }

    /// Rows holding `fields`, chained from the genesis (row `seq` has id `seq × 10`).
    fn chained(fields: Vec<Vec<Field>>) -> Vec<StoredRow> {
        links_after(Chain::Audit, 0, GENESIS, &fields)
            .into_iter()
            .zip(fields)
            .map(|(link, fields)| StoredRow {
                id: link.seq * 10,
                seq: link.seq,
                prev: Some(link.prev),
                hash: Some(link.hash),
                fields,
            })
            .collect()
    }

    fn walk(rows: &[StoredRow], head: (i64, &str), checkpoint: Option<Head>) -> Vec<Finding> {
        let mut walk = ChainWalk::new(Chain::Audit, 0, checkpoint);
        for row in rows {
            walk.push(row);
        }
        walk.finish(head.0, head.1).findings
    }

    fn head_of(rows: &[StoredRow]) -> (i64, String) {
        let last = rows.last().expect("rows");
        (last.seq, last.hash.clone().expect("hash"))
    }

    #[test]
    fn an_intact_chain_has_no_findings() {
        let rows = rows(5);
        let (seq, hash) = head_of(&rows);
        assert_eq!(walk(&rows, (seq, &hash), None), vec![]);
        assert_eq!(walk(&[], (0, GENESIS), None), vec![]);
    }

    /// Edits row 3 of 5, recomputing its own hash or not, and checks the walk names it as edited either way.
    fn assert_edit_named(recompute_own_hash: bool) {
        let mut rows = rows(5);
        let (seq, hash) = head_of(&rows);
        rows[2].fields[1] = Field::Text("changed".into());
        if recompute_own_hash {
            rows[2].hash = Some(row_hash(
                Chain::Audit,
                0,
                3,
                rows[2].prev.as_deref().unwrap_or_default(),
                &rows[2].fields,
            ));
        }
        assert_eq!(
            walk(&rows, (seq, &hash), None),
            vec![Finding::Edited { id: 30, seq: 3 }]
        );
    }

    #[test]
    fn an_edit_is_named() {
        assert_edit_named(false);
    }

    #[test]
    fn an_edit_with_its_own_hash_recomputed_is_named() {
        assert_edit_named(true);
    }

    #[test]
    fn a_deletion_in_the_middle_and_at_the_end_is_named() {
        let mut rows = rows(5);
        let (seq, hash) = head_of(&rows);
        rows.remove(1);
        assert_eq!(
            walk(&rows, (seq, &hash), None)[0],
            Finding::Deleted {
                from_seq: 2,
                to_seq: 2,
                next_id: Some(30)
            }
        );
        rows.pop();
        assert_eq!(
            walk(&rows, (seq, &hash), None),
            vec![
                Finding::Deleted {
                    from_seq: 2,
                    to_seq: 2,
                    next_id: Some(30)
                },
                Finding::Deleted {
                    from_seq: 5,
                    to_seq: 5,
                    next_id: None
                }
            ]
        );
    }

    #[test]
    fn a_reordering_is_named() {
        let mut rows = rows(4);
        let (seq, hash) = head_of(&rows);
        rows[1].id = 35;
        assert_eq!(
            walk(&rows, (seq, &hash), None),
            vec![Finding::Reordered {
                id: 30,
                seq: 3,
                previous_id: 35
            }]
        );
    }

    #[test]
    fn a_rewritten_chain_passes_alone_but_not_against_a_checkpoint() {
        let original = rows(5);
        let (seq, hash) = head_of(&original);
        let checkpoint = Head {
            chain: Chain::Audit,
            part: 0,
            seq: 3,
            hash: original[2].hash.clone().expect("hash"),
        };
        assert_eq!(
            walk(&original, (seq, &hash), Some(checkpoint.clone())),
            vec![]
        );
        // Rewrite every row with a new first row and recompute the whole chain.
        let mut fields: Vec<Vec<Field>> = original.iter().map(|r| r.fields.clone()).collect();
        fields[0][1] = Field::Text("forged".into());
        let forged = chained(fields);
        let (seq, hash) = head_of(&forged);
        assert_eq!(walk(&forged, (seq, &hash), None), vec![]);
        assert_eq!(
            walk(&forged, (seq, &hash), Some(checkpoint)),
            vec![Finding::CheckpointMismatch {
                seq: 3,
                id: Some(30)
            }]
        );
    }

    #[test]
    fn a_compact_checkpoint_reads_back() {
        let heads = vec![
            Head {
                chain: Chain::Audit,
                part: 0,
                seq: 12,
                hash: "a".repeat(64),
            },
            Head {
                chain: Chain::Journal,
                part: 0,
                seq: 0,
                hash: GENESIS.into(),
            },
        ];
        assert_eq!(parse_compact(&compact(&heads)), Ok(heads));
        assert!(parse_compact("audit:1:xyz").is_err());
        assert!(parse_compact("ledger:1:".to_string().as_str()).is_err());
        assert!(parse_compact("").is_err());
    }

    #[test]
    fn a_part_is_named_once_and_only_within_its_chain() {
        assert_eq!(Chain::Journal.head_name(0), "journal");
        assert_eq!(Chain::Journal.head_name(3), "journal/3");
        assert_eq!(Chain::from_head_name("journal"), Some((Chain::Journal, 0)));
        assert_eq!(
            Chain::from_head_name("journal/3"),
            Some((Chain::Journal, 3))
        );
        assert_eq!(
            Chain::from_head_name("audit/15"),
            Some((Chain::Audit, LOAN_PARTS - 1))
        );
        for bad in [
            "journal/0",
            "journal/03",
            "journal/18",
            "journal/",
            "journal/x",
            "charter_capital/1",
            "ledger/1",
        ] {
            assert_eq!(Chain::from_head_name(bad), None, "{bad}");
        }
        assert_eq!(
            Chain::from_head_name("journal/17"),
            Some((Chain::Journal, PARTS - 1))
        );
        assert_eq!(part_of_loan(35), 3);
        assert_eq!(part_of_loan(16), 0);
        assert!(part_of_loan(-1) < LOAN_PARTS);
        for loan_id in (-70_000..70_000).chain([i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX]) {
            assert_eq!(
                i64::from(part_of_loan(loan_id)),
                loan_id.rem_euclid(i64::from(LOAN_PARTS)),
                "loan {loan_id}"
            );
        }
    }

    #[test]
    fn the_bulk_parts_follow_the_loans_parts_and_no_loan_is_in_one() {
        let bulk: Vec<u16> = (0..5).map(bulk_part).collect();
        assert_eq!(bulk, [16, 17, 16, 17, 16]);
        assert!(bulk.iter().all(|p| *p < PARTS && *p >= LOAN_PARTS));
        assert!((-1_000..1_000).all(|loan_id| part_of_loan(loan_id) < LOAN_PARTS));
        assert_eq!(
            Chain::from_head_name(&Chain::Audit.head_name(bulk_part(1))),
            Some((Chain::Audit, 17))
        );
    }

    #[test]
    fn part_zero_hashes_as_the_unsplit_chain_did_and_other_parts_differ() {
        let fields = vec![Field::Int(7), Field::Text("x".into())];
        // The encoding of part 0 is the one every row was chained with before the split: the chain's name.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(ENCODING.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(b"journal");
        bytes.push(0);
        bytes.extend_from_slice(&1_i64.to_be_bytes());
        bytes.extend_from_slice(GENESIS.as_bytes());
        for field in &fields {
            field.encode(&mut bytes);
        }
        let unsplit: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(row_hash(Chain::Journal, 0, 1, GENESIS, &fields), unsplit);
        assert_ne!(row_hash(Chain::Journal, 3, 1, GENESIS, &fields), unsplit);
        assert_ne!(
            row_hash(Chain::Journal, 3, 1, GENESIS, &fields),
            row_hash(Chain::Journal, 4, 1, GENESIS, &fields)
        );
    }

    #[test]
    fn a_row_moved_to_another_part_breaks_its_link() {
        let fields: Vec<Vec<Field>> = (0..3).map(|i| vec![Field::Int(i)]).collect();
        let links = links_after_in(Chain::Audit, 2, 0, GENESIS, &fields);
        let stored: Vec<StoredRow> = links
            .into_iter()
            .zip(fields)
            .map(|(link, fields)| StoredRow {
                id: link.seq,
                seq: link.seq,
                prev: Some(link.prev),
                hash: Some(link.hash),
                fields,
            })
            .collect();
        let head = stored.last().and_then(|r| r.hash.clone()).expect("hash");
        let walk_in = |part: u16| {
            let mut walk = ChainWalk::new(Chain::Audit, part, None);
            for row in &stored {
                walk.push(row);
            }
            walk.finish(3, &head).findings
        };
        assert_eq!(walk_in(2), vec![]);
        assert_eq!(walk_in(5)[0], Finding::Edited { id: 1, seq: 1 });
    }

    #[test]
    fn checkpoints_name_parts_and_an_old_one_is_part_zero() {
        let heads = vec![
            Head {
                chain: Chain::Journal,
                part: 0,
                seq: 4,
                hash: "b".repeat(64),
            },
            Head {
                chain: Chain::Journal,
                part: 3,
                seq: 2,
                hash: "c".repeat(64),
            },
        ];
        let text = compact(&heads);
        assert!(text.contains("journal/3:2:"), "{text}");
        assert_eq!(parse_compact(&text), Ok(heads.clone()));
        assert!(parse_compact(&format!("{text};journal/3:2:{}", "c".repeat(64))).is_err());
        // A checkpoint taken before the split has no part: its heads are part 0.
        let old = format!(
            r#"{{"chain":"journal","seq":4,"hash":"{}"}}"#,
            "b".repeat(64)
        );
        assert_eq!(
            serde_json::from_str::<Head>(&old).expect("old head"),
            heads[0]
        );
        assert_eq!(
            serde_json::to_string(&heads[0]).expect("json"),
            old,
            "part 0 is written as before"
        );
    }
}
