//! The checks of `ledger verify` that tie the journal to what caused it (issue 11 item 1): every entry's
//! business key agrees with the entry (its loan, its transaction, its date) and names something that
//! exists; a loan transaction's entry still shows the transaction's value date and reference as they were
//! posted (an edited reference is found); the charter capital contributions each have their entry
//! Dr 1121 / Cr 4111 of their amount, none is recorded twice, and their sum equals account 4111 (a doubled
//! contribution would raise the Decree 45/2021 Art 23 limits; a deleted entry would lower the books).
//!
//! The stored snapshots of the fold (issue 14) are checked here too: each equals the full refold of the
//! events it covers, and none is left stale by a back-dated event or a reversal.
//!
//! These catch, by meaning, what the hash chains catch by bytes ([`crate::app::chains`]): an edit the
//! journal's balance checks cannot see (a balanced edit of an entry with no loan, a deleted charter
//! capital entry where no trigger guards the table).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    app::loan_engine,
    error::AppResult,
    store::entities::{
        charter_capital_contribution, journal_entry, journal_line, loan, loan_snapshot,
        loan_transaction,
    },
};

/// Entries read per batch.
const BATCH_ENTRIES: u64 = 5_000;
/// Differences of one kind reported before the rest are only counted.
const REPORTED_MAX: usize = 50;

/// Kinds of entry that may carry no business key: the start-up repairs of issue 16 posted `correction`
/// entries without one before this version.
const KEYLESS_KINDS: [&str; 1] = ["correction"];

/// What an entry's business key says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    /// `loan:{loan}:tx:{transaction}`: a loan transaction's posting.
    LoanTransaction { loan_id: i64, transaction_id: i64 },
    /// `cob:{loan}:{date}`: a loan's close of business.
    CloseOfBusiness { loan_id: i64, date: NaiveDate },
    /// `cob:general_provision:{date}`.
    GeneralProvision { date: NaiveDate },
    /// `charter_capital:{contribution}`.
    CharterCapital { contribution_id: i64 },
    /// `demo:opening:{loan}`: the bulk demo's opening entry.
    DemoOpening { loan_id: i64 },
    /// `correction:{loan}:{date}`: a start-up repair.
    Correction { loan_id: i64, date: NaiveDate },
}

fn parse_key(key: &str) -> Option<Key> {
    let parts: Vec<&str> = key.split(':').collect();
    let id = |s: &str| s.parse::<i64>().ok();
    let date = |s: &str| s.parse::<NaiveDate>().ok();
    match parts.as_slice() {
        ["loan", loan, "tx", tx] => Some(Key::LoanTransaction {
            loan_id: id(loan)?,
            transaction_id: id(tx)?,
        }),
        ["cob", "general_provision", day] => Some(Key::GeneralProvision { date: date(day)? }),
        ["cob", loan, day] => Some(Key::CloseOfBusiness {
            loan_id: id(loan)?,
            date: date(day)?,
        }),
        ["charter_capital", contribution] => Some(Key::CharterCapital {
            contribution_id: id(contribution)?,
        }),
        ["demo", "opening", loan] => Some(Key::DemoOpening { loan_id: id(loan)? }),
        ["correction", loan, day] => Some(Key::Correction {
            loan_id: id(loan)?,
            date: date(day)?,
        }),
        _ => None,
    }
}

/// Collects differences, reporting at most [`REPORTED_MAX`] of each kind.
struct Differences<'a> {
    out: &'a mut Vec<String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Differences<'_> {
    fn push(&mut self, kind: &'static str, text: String) {
        let count = self.counts.entry(kind).or_default();
        *count += 1;
        if *count <= REPORTED_MAX {
            self.out.push(text);
        }
    }

    fn finish(self) {
        for (kind, count) in self.counts {
            if count > REPORTED_MAX {
                self.out.push(format!(
                    "… and {} more difference(s) of the kind `{kind}`",
                    count - REPORTED_MAX
                ));
            }
        }
    }
}

/// Checks every entry's business key and the transactions it names, and the charter capital (module docs).
pub async fn check<C: ConnectionTrait>(conn: &C, differences: &mut Vec<String>) -> AppResult<()> {
    let mut found = Differences {
        out: differences,
        counts: BTreeMap::new(),
    };
    let mut charter_entries: HashMap<i64, i64> = HashMap::new();
    let mut after = 0_i64;
    loop {
        let entries = journal_entry::Entity::find()
            .filter(journal_entry::Column::Id.gt(after))
            .order_by_asc(journal_entry::Column::Id)
            .limit(BATCH_ENTRIES)
            .all(conn)
            .await?;
        let Some(last) = entries.last() else { break };
        after = last.id;
        let transaction_ids: Vec<i64> = entries.iter().filter_map(|e| e.transaction_id).collect();
        let transactions: HashMap<i64, (i64, NaiveDate, String)> = if transaction_ids.is_empty() {
            HashMap::new()
        } else {
            loan_transaction::Entity::find()
                .select_only()
                .columns([
                    loan_transaction::Column::Id,
                    loan_transaction::Column::LoanId,
                    loan_transaction::Column::ValueDate,
                    loan_transaction::Column::Reference,
                ])
                .filter(loan_transaction::Column::Id.is_in(transaction_ids))
                .into_tuple::<(i64, i64, NaiveDate, String)>()
                .all(conn)
                .await?
                .into_iter()
                .map(|(id, loan, date, reference)| (id, (loan, date, reference)))
                .collect()
        };
        for entry in &entries {
            check_entry(entry, &transactions, &mut charter_entries, &mut found);
        }
    }
    check_charter_capital(conn, &charter_entries, &mut found).await?;
    check_snapshots(conn, &mut found).await?;
    found.finish();
    Ok(())
}

/// Snapshots read per batch.
const BATCH_SNAPSHOTS: u64 = 500;

/// The snapshots of the fold (issue 14) against the full refold: each stored snapshot reads back, equals the
/// refold of the events it says it covers to its date, and no event recorded since contradicts it (a
/// back-dated event or a reversal whose posting should have deleted it; the close of business trusts that).
/// A snapshot of another contract (the calendar changed since) or format is not used by anyone, so it is not
/// a difference.
async fn check_snapshots<C: ConnectionTrait>(
    conn: &C,
    found: &mut Differences<'_>,
) -> AppResult<()> {
    use coopfund_domain::snapshot::{contract_fingerprint, FoldSnapshot, SNAPSHOT_FORMAT_VERSION};
    let calendar = crate::app::calendar::in_force(conn).await?;
    // The last (loan, date) read; `None` before the first batch (no sentinel date: PostgreSQL's dates start
    // in 4713 BC).
    let mut after: Option<(i64, NaiveDate)> = None;
    // The loan whose events are loaded: snapshots come ordered by loan.
    let mut loaded: Option<(loan::Model, Vec<coopfund_domain::LoanEvent>)> = None;
    loop {
        let mut select = loan_snapshot::Entity::find();
        if let Some((loan_id, as_of)) = after {
            select = select.filter(
                Condition::any()
                    .add(loan_snapshot::Column::LoanId.gt(loan_id))
                    .add(
                        Condition::all()
                            .add(loan_snapshot::Column::LoanId.eq(loan_id))
                            .add(loan_snapshot::Column::AsOf.gt(as_of)),
                    ),
            );
        }
        let rows = select
            .order_by_asc(loan_snapshot::Column::LoanId)
            .order_by_asc(loan_snapshot::Column::AsOf)
            .limit(BATCH_SNAPSHOTS)
            .all(conn)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some((last.loan_id, last.as_of));
        for row in rows {
            let name = format!("loan {} snapshot of {}", row.loan_id, row.as_of);
            let Ok(snapshot) = serde_json::from_str::<FoldSnapshot>(&row.state) else {
                found.push(
                    "snapshot",
                    format!("{name}: unreadable (ignored by reads, which refold)"),
                );
                continue;
            };
            if snapshot.as_of != row.as_of
                || i64::try_from(snapshot.covered_sequence).ok() != Some(row.covered_sequence)
            {
                found.push(
                    "snapshot",
                    format!("{name}: its content is of another date or sequence"),
                );
                continue;
            }
            if loaded
                .as_ref()
                .is_none_or(|(loan, _)| loan.id != row.loan_id)
            {
                let Some(loan) = loan::Entity::find_by_id(row.loan_id).one(conn).await? else {
                    found.push("snapshot", format!("{name}: the loan does not exist"));
                    continue;
                };
                let events =
                    loan_engine::events_of(&loan_engine::transactions_of(conn, loan.id).await?)?;
                loaded = Some((loan, events));
            }
            let Some((loan, events)) = loaded.as_ref() else {
                continue;
            };
            let contract = loan_engine::contract_of(loan, &calendar)?;
            if snapshot.format_version != SNAPSHOT_FORMAT_VERSION
                || snapshot.contract_fingerprint != contract_fingerprint(&contract)
            {
                continue;
            }
            let covered: Vec<coopfund_domain::LoanEvent> = events
                .iter()
                .filter(|e| e.sequence <= snapshot.covered_sequence)
                .cloned()
                .collect();
            let held = snapshot.state(&contract);
            // A snapshot keeps the position, not the allocations of the payments before it (format 2).
            let refolded = coopfund_domain::fold(&contract, &covered, snapshot.as_of)
                .map(coopfund_domain::snapshot::position_of);
            if held != refolded {
                found.push(
                    "snapshot",
                    format!("{name}: differs from the full refold of the events it covers"),
                );
                continue;
            }
            let pending: Vec<coopfund_domain::LoanEvent> = events
                .iter()
                .filter(|e| snapshot.is_pending(e))
                .cloned()
                .collect();
            if let Err(stale) = snapshot.check(&contract, &pending, snapshot.as_of) {
                found.push(
                    "snapshot",
                    format!("{name}: stale and not deleted ({stale})"),
                );
            }
        }
    }
    Ok(())
}

fn check_entry(
    entry: &journal_entry::Model,
    transactions: &HashMap<i64, (i64, NaiveDate, String)>,
    charter_entries: &mut HashMap<i64, i64>,
    found: &mut Differences<'_>,
) {
    let journal_entry::Model {
        id,
        entry_date,
        kind,
        description,
        loan_id,
        transaction_id,
        business_key,
        ..
    } = entry;
    let Some(key_text) = business_key else {
        if !KEYLESS_KINDS.contains(&kind.as_str()) {
            found.push(
                "no_business_key",
                format!(
                    "entry {id} ({kind}) has no business key: it was not posted by the service"
                ),
            );
        }
        return;
    };
    let Some(key) = parse_key(key_text) else {
        found.push(
            "unknown_business_key",
            format!("entry {id} ({kind}) has the business key `{key_text}`, which the service never writes"),
        );
        return;
    };
    let disagrees =
        |what: &str| format!("entry {id}: its business key `{key_text}` disagrees with its {what}");
    let expected_loan = match &key {
        Key::LoanTransaction { loan_id, .. }
        | Key::CloseOfBusiness { loan_id, .. }
        | Key::DemoOpening { loan_id }
        | Key::Correction { loan_id, .. } => Some(*loan_id),
        Key::GeneralProvision { .. } | Key::CharterCapital { .. } => None,
    };
    if *loan_id != expected_loan {
        found.push("business_key_mismatch", disagrees("loan"));
    }
    let expected_transaction = match &key {
        Key::LoanTransaction { transaction_id, .. } => Some(*transaction_id),
        _ => None,
    };
    if *transaction_id != expected_transaction {
        found.push("business_key_mismatch", disagrees("transaction"));
    }
    match &key {
        Key::CloseOfBusiness { date, .. } | Key::GeneralProvision { date }
            if date != entry_date =>
        {
            found.push("business_key_mismatch", disagrees("date"));
        }
        Key::CharterCapital { contribution_id } => {
            if kind != crate::app::charter_capital::ENTRY_KIND {
                found.push("business_key_mismatch", disagrees("kind"));
            }
            charter_entries.insert(*contribution_id, *id);
        }
        Key::LoanTransaction {
            loan_id: key_loan,
            transaction_id: key_tx,
        } => match transactions.get(key_tx) {
            None if *transaction_id == Some(*key_tx) => found.push(
                "missing_transaction",
                format!("entry {id} posts loan transaction {key_tx}, which does not exist"),
            ),
            None => {}
            Some((tx_loan, value_date, reference)) => {
                if tx_loan != key_loan {
                    found.push(
                        "business_key_mismatch",
                        format!("entry {id}: loan transaction {key_tx} belongs to loan {tx_loan}, not to loan {key_loan}"),
                    );
                }
                // The entry's description was written from the transaction as it was posted.
                let posted = format!("#{key_tx} ({value_date}, {reference})");
                if !description.ends_with(&posted) {
                    found.push(
                        "transaction_edited",
                        format!(
                            "loan transaction {key_tx}: its value date or reference ({value_date}, {reference}) is not what entry {id} posted (\"{description}\")"
                        ),
                    );
                }
            }
        },
        _ => {}
    }
}

async fn check_charter_capital<C: ConnectionTrait>(
    conn: &C,
    charter_entries: &HashMap<i64, i64>,
    found: &mut Differences<'_>,
) -> AppResult<()> {
    let contributions = charter_capital_contribution::Entity::find()
        .order_by_asc(charter_capital_contribution::Column::Id)
        .all(conn)
        .await?;
    let mut seen: HashMap<(i64, NaiveDate, String), i64> = HashMap::new();
    let mut total_vnd: i64 = 0;
    let entry_ids: Vec<i64> = charter_entries.values().copied().collect();
    let mut lines_of: HashMap<i64, Vec<(String, i64, i64)>> = HashMap::new();
    if !entry_ids.is_empty() {
        let lines: Vec<(i64, String, i64, i64)> = journal_line::Entity::find()
            .select_only()
            .columns([
                journal_line::Column::EntryId,
                journal_line::Column::AccountCode,
                journal_line::Column::DebitVnd,
                journal_line::Column::CreditVnd,
            ])
            .filter(journal_line::Column::EntryId.is_in(entry_ids))
            .order_by_asc(journal_line::Column::Id)
            .into_tuple()
            .all(conn)
            .await?;
        for (entry_id, account, debit, credit) in lines {
            lines_of
                .entry(entry_id)
                .or_default()
                .push((account, debit, credit));
        }
    }
    for contribution in &contributions {
        total_vnd = total_vnd.saturating_add(contribution.amount_vnd);
        let same = (
            contribution.amount_vnd,
            contribution.contributed_on,
            contribution.reference.clone(),
        );
        if let Some(first) = seen.get(&same) {
            found.push(
                "charter_capital_doubled",
                format!(
                    "charter capital contribution {} repeats contribution {first} ({} đồng on {}, {}): recorded twice",
                    contribution.id, contribution.amount_vnd, contribution.contributed_on, contribution.reference
                ),
            );
        } else {
            seen.insert(same, contribution.id);
        }
        let Some(entry_id) = charter_entries.get(&contribution.id) else {
            found.push(
                "charter_capital_unposted",
                format!(
                    "charter capital contribution {} ({} đồng) has no journal entry charter_capital:{}: the entry was deleted or the row added behind the service",
                    contribution.id, contribution.amount_vnd, contribution.id
                ),
            );
            continue;
        };
        let expected = vec![
            ("1121".to_string(), contribution.amount_vnd, 0),
            ("4111".to_string(), 0, contribution.amount_vnd),
        ];
        if lines_of.get(entry_id) != Some(&expected) {
            found.push(
                "charter_capital_entry",
                format!(
                    "entry {entry_id} of charter capital contribution {} is not Dr 1121 / Cr 4111 of its {} đồng",
                    contribution.id, contribution.amount_vnd
                ),
            );
        }
    }
    for (contribution_id, entry_id) in charter_entries {
        if !contributions.iter().any(|c| c.id == *contribution_id) {
            found.push(
                "charter_capital_unposted",
                format!("entry {entry_id} posts charter capital contribution {contribution_id}, which does not exist"),
            );
        }
    }
    let on_4111: Vec<(i64, i64)> = journal_line::Entity::find()
        .select_only()
        .columns([
            journal_line::Column::DebitVnd,
            journal_line::Column::CreditVnd,
        ])
        .filter(journal_line::Column::AccountCode.eq("4111"))
        .into_tuple()
        .all(conn)
        .await?;
    let held_vnd = on_4111.iter().fold(0_i64, |sum, (debit, credit)| {
        sum.saturating_add(credit - debit)
    });
    if held_vnd != total_vnd {
        found.push(
            "charter_capital_total",
            format!(
                "charter capital: the contributions sum to {total_vnd} đồng but account 4111 holds {held_vnd} đồng"
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_service_writes_is_read() {
        let day = NaiveDate::from_ymd_opt(2026, 2, 28).expect("date");
        assert_eq!(
            parse_key("loan:7:tx:42"),
            Some(Key::LoanTransaction {
                loan_id: 7,
                transaction_id: 42
            })
        );
        assert_eq!(
            parse_key("cob:7:2026-02-28"),
            Some(Key::CloseOfBusiness {
                loan_id: 7,
                date: day
            })
        );
        assert_eq!(
            parse_key("cob:general_provision:2026-02-28"),
            Some(Key::GeneralProvision { date: day })
        );
        assert_eq!(
            parse_key("charter_capital:3"),
            Some(Key::CharterCapital { contribution_id: 3 })
        );
        assert_eq!(
            parse_key("demo:opening:9"),
            Some(Key::DemoOpening { loan_id: 9 })
        );
        assert_eq!(parse_key("manual:1"), None);
        assert_eq!(parse_key("loan:x:tx:1"), None);
    }
}
