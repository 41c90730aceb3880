//! Issue 15: an upgrade keeps the data. `tests/fixtures/upgrade/f768130-demo.db` is the demo fund made once by
//! `coopfund demo` at commit f768130 (the last release before this one) and committed. The current binary
//! migrates it; every journal line, loan balance and audit record it held is still there unchanged (the journal
//! and the audit trail only grow), the books still balance, and `ledger verify` passes. The only new entries are
//! the start-up repair's `correction` entries for restructured loans (issue 16), which balance.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use super::{coopfund, text};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/upgrade/f768130-demo.db"
);

/// Every row of a query as text, keyed by its first column.
async fn rows(db: &DatabaseConnection, sql: &str) -> BTreeMap<i64, String> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect(sql)
        .into_iter()
        .map(|row| {
            let id: i64 = row.try_get_by_index(0).expect("id");
            let rest: String = row.try_get_by_index(1).expect("row text");
            (id, rest)
        })
        .collect()
}

const JOURNAL_LINES: &str =
    "SELECT l.id, e.entry_date || '|' || e.kind || '|' || l.account_code || '|' || \
     l.debit_vnd || '|' || l.credit_vnd || '|' || COALESCE(l.loan_id, 0) \
     FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id";
const LOANS: &str = "SELECT id, number || '|' || status || '|' || disbursed_vnd || '|' || \
     in_term_principal_vnd || '|' || overdue_principal_vnd || '|' || dpd || '|' || debt_group FROM loans";
const AUDIT: &str =
    "SELECT id, at || '|' || actor || '|' || action || '|' || entity_type || '|' || entity_id \
     || '|' || COALESCE(\"after\", '') FROM audit_records";
const TRANSACTIONS: &str =
    "SELECT id, loan_id || '|' || kind || '|' || value_date || '|' || amount_vnd || '|' \
     || reference FROM loan_transactions";

async fn snapshot(url: &str) -> [BTreeMap<i64, String>; 4] {
    let db = Database::connect(url).await.expect("open");
    let snapshot = [
        rows(&db, JOURNAL_LINES).await,
        rows(&db, LOANS).await,
        rows(&db, AUDIT).await,
        rows(&db, TRANSACTIONS).await,
    ];
    db.close().await.expect("close");
    snapshot
}

#[test]
fn the_current_version_migrates_the_last_releases_demo_fund_and_keeps_every_figure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fund.db");
    std::fs::copy(FIXTURE, &path).expect("copy the fixture");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let before = runtime.block_on(snapshot(&url));
    assert!(before[0].len() > 100, "the fixture holds a real fund");
    assert!(before[1].len() >= 20 && before[2].len() > 100);

    let out = coopfund(&url, &["migrate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The start-up repair runs when the service starts; run it as `serve` would.
    let corrected = runtime.block_on(async {
        let db = Database::connect(&url).await.expect("open");
        coopfund::app::repairs::restore_restructured_interest(
            &db,
            &Default::default(),
            &coopfund::app::context::SystemClock,
        )
        .await
        .expect("repair")
    });
    let out = coopfund(&url, &["ledger", "verify"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // Issue 11: migration 000014 chained the fund's rows once; every chain holds, the repair's rows appended.
    let out = coopfund(&url, &["audit", "verify"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));

    let after = runtime.block_on(snapshot(&url));
    let names = ["journal line", "loan", "audit record", "loan transaction"];
    for ((name, old), new) in names.iter().zip(&before).zip(&after) {
        for (id, row) in old {
            assert_eq!(new.get(id), Some(row), "{name} {id} changed in the upgrade");
        }
    }
    // Loans and their transactions are exactly as they were; the journal and the audit trail only grew, and
    // only by the repair's corrections.
    assert_eq!(before[3], after[3]);
    let new_lines: Vec<&String> = after[0]
        .iter()
        .filter(|(id, _)| !before[0].contains_key(id))
        .map(|(_, row)| row)
        .collect();
    assert!(
        new_lines.iter().all(|row| row.contains("|correction|")),
        "{new_lines:?}"
    );
    assert_eq!(new_lines.is_empty(), corrected == 0);
    let balance = |lines: &Vec<&String>| {
        lines.iter().fold(0i64, |sum, row| {
            let parts: Vec<&str> = row.split('|').collect();
            sum + parts[3].parse::<i64>().expect("debit") - parts[4].parse::<i64>().expect("credit")
        })
    };
    assert_eq!(balance(&new_lines), 0, "the corrections balance");
}
