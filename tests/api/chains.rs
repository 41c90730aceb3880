//! Issue 11 item 1, tamper-evident books: the hash chains over the audit trail, the journal, the loan
//! transactions and the charter capital contributions, `GET /api/v1/audit/verify` and `ledger verify`'s
//! new checks. Every tamper the issue lists is made behind the service's back (plain SQL on its database;
//! on PostgreSQL past the triggers the way a superuser would) and must be found and named, on both
//! backends.

use coopfund::{
    http::dto::audit::{ChainView, ChainsVerifyView},
    store::entities::{charter_capital_contribution, journal_entry, loan_transaction},
};
use coopfund_domain::chain::{links_after_in, part_of_loan, Chain, GENESIS};
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use serde_json::json;

use crate::{
    helpers::{spawn_app, EmptyDatabase, TestApp},
    loan_fixtures::{active_loan, active_loans, example_3, repay, Staff},
};

fn postgres(app: &TestApp) -> bool {
    app.db.get_database_backend() == DbBackend::Postgres
}

/// Runs `sql` as someone with the database's password would: on PostgreSQL with the triggers switched
/// off for the session (`session_replication_role = replica`, as a superuser can).
async fn tamper(app: &TestApp, sql: &str) {
    let txn = app.db.begin().await.expect("begin");
    if postgres(app) {
        txn.execute_unprepared("SET LOCAL session_replication_role = replica")
            .await
            .expect("replica role");
    }
    txn.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    txn.commit().await.expect("commit");
}

async fn verify(app: &TestApp, staff: &Staff, checkpoint: Option<&str>) -> ChainsVerifyView {
    app.client(&staff.auditor)
        .verify_chains(checkpoint)
        .await
        .expect("verify")
}

fn chain<'a>(report: &'a ChainsVerifyView, name: &str) -> &'a ChainView {
    report
        .chains
        .iter()
        .find(|c| c.chain == name)
        .unwrap_or_else(|| panic!("chain {name} in {report:?}"))
}

/// Asserts that only chain `name` is broken and that its first finding is `kind` naming row `row_id`.
fn assert_first(report: &ChainsVerifyView, name: &str, kind: &str, row_id: Option<i64>) {
    assert!(!report.passed, "{report:#?}");
    let broken = chain(report, name);
    let first = broken
        .first
        .as_ref()
        .unwrap_or_else(|| panic!("a finding in {name}: {report:#?}"));
    assert_eq!(
        (first.kind.as_str(), first.row_id),
        (kind, row_id),
        "{report:#?}"
    );
    for other in report.chains.iter().filter(|c| c.chain != name) {
        assert!(other.intact, "only {name} was touched: {report:#?}");
    }
}

async fn ledger_differences(app: &TestApp) -> Vec<String> {
    coopfund::app::ledger::verify(&app.db, &app.settings.classification.classification())
        .await
        .expect("ledger verify runs")
        .differences
}

fn assert_mentions(differences: &[String], needle: &str) {
    assert!(
        differences.iter().any(|d| d.contains(needle)),
        "ledger verify should mention `{needle}`: {differences:#?}"
    );
}

/// A fund with a charter contribution, an active loan and a repayment: rows in every chain.
async fn fund_with_activity() -> (TestApp, Staff, i64) {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let response = repay(&app, &staff, loan_id, 5_000_000, "2026-01-10", "ordinary").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    (app, staff, loan_id)
}

async fn charter_entry_id(app: &TestApp) -> (i64, i64) {
    let contribution = charter_capital_contribution::Entity::find()
        .order_by_asc(charter_capital_contribution::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("a contribution");
    let entry = journal_entry::Entity::find()
        .filter(
            journal_entry::Column::BusinessKey.eq(format!("charter_capital:{}", contribution.id)),
        )
        .one(&app.db)
        .await
        .unwrap()
        .expect("its entry");
    (contribution.id, entry.id)
}

#[tokio::test]
async fn the_books_of_a_working_fund_verify_and_every_chain_holds_its_rows() {
    let (app, staff, loan_id) = fund_with_activity().await;
    let report = verify(&app, &staff, None).await;
    assert!(report.passed, "{report:#?}");
    for name in ["audit", "journal", "loan_transactions", "charter_capital"] {
        let c = chain(&report, name);
        // Every part's head stands at its last row: the parts' sequence numbers add up to the rows.
        let seqs: i64 = c.heads.iter().map(|h| h.seq).sum();
        assert!(c.rows > 0 && seqs == c.rows as i64, "{c:?}");
        assert_eq!(c.heads[0].chain, name);
        assert_eq!(c.heads[0].seq, c.head_seq);
    }
    // The loan's rows went into its part of each chain.
    let part = part_of_loan(loan_id);
    let transactions_chain = chain(&report, "loan_transactions");
    assert_eq!(
        transactions_chain.heads[usize::from(part)].chain,
        Chain::LoanTransactions.head_name(part)
    );
    // Every loan transaction is chained, in id order, seq 1, 2, …
    let transactions = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.eq(loan_id))
        .order_by_asc(loan_transaction::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let seqs: Vec<Option<i64>> = transactions.iter().map(|t| t.chain_seq).collect();
    assert_eq!(seqs, vec![Some(1), Some(2)]);
    assert!(transactions
        .iter()
        .all(|t| t.chain_part == i16::try_from(part).unwrap()));
    assert_eq!(transactions[0].chain_prev.as_deref(), Some(GENESIS));
    assert_eq!(transactions[1].chain_prev, transactions[0].chain_hash);
    assert!(ledger_differences(&app).await.is_empty());
    // Admins and auditors only; a bad checkpoint is the caller's mistake.
    let officer = app.client(&staff.officer).verify_chains(None).await;
    assert_eq!(
        officer.map(|_| ()).unwrap_err().status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .client(&staff.auditor)
        .verify_chains(Some("audit:1:not-a-hash"))
        .await;
    let bad = bad.map(|_| ()).unwrap_err();
    assert_eq!(
        (bad.status, bad.field.as_deref()),
        (StatusCode::BAD_REQUEST, Some("checkpoint"))
    );
}

#[tokio::test]
async fn an_update_of_an_audit_record_is_named() {
    let (app, staff, _) = fund_with_activity().await;
    let target: i64 = 3;
    if postgres(&app) {
        // The database refuses it outright …
        let refused = app
            .db
            .execute_unprepared(&format!(
                "UPDATE audit_records SET actor = 'someone' WHERE id = {target}"
            ))
            .await;
        assert!(
            refused.is_err(),
            "the audit trail is append-only on PostgreSQL"
        );
    }
    // … and what gets past it is found.
    tamper(
        &app,
        &format!("UPDATE audit_records SET actor = 'someone' WHERE id = {target}"),
    )
    .await;
    assert_first(
        &verify(&app, &staff, None).await,
        "audit",
        "edited",
        Some(target),
    );
}

#[tokio::test]
async fn a_deleted_audit_record_is_named_by_the_gap_it_leaves() {
    let (app, staff, _) = fund_with_activity().await;
    tamper(&app, "DELETE FROM audit_records WHERE id = 2").await;
    let report = verify(&app, &staff, None).await;
    assert_first(&report, "audit", "deleted", Some(3));
    assert_eq!(chain(&report, "audit").first.as_ref().unwrap().seq, Some(2));
    // The last one too: the chain head remembers it (part 0's: the repayment's record is in its loan's part).
    let last: i64 = chain(&report, "audit").head_seq;
    tamper(
        &app,
        "DELETE FROM audit_records WHERE id = (SELECT MAX(id) FROM audit_records WHERE chain_part = 0)",
    )
    .await;
    let report = verify(&app, &staff, None).await;
    let findings = &chain(&report, "audit").findings;
    assert!(
        findings
            .iter()
            .any(|f| f.kind == "deleted" && f.seq == Some(last) && f.row_id.is_none()),
        "{findings:#?}"
    );
}

#[tokio::test]
async fn a_balanced_edit_of_the_charter_capital_entry_is_found_by_the_chain_and_by_ledger_verify() {
    let (app, staff, _) = fund_with_activity().await;
    let (_, entry_id) = charter_entry_id(&app).await;
    // Both sides grow by the same amount: the entry still balances and belongs to no loan.
    tamper(
        &app,
        &format!(
            "UPDATE journal_lines SET debit_vnd = debit_vnd + 1000000000 WHERE entry_id = {entry_id} AND account_code = '1121';
             UPDATE journal_lines SET credit_vnd = credit_vnd + 1000000000 WHERE entry_id = {entry_id} AND account_code = '4111'"
        ),
    )
    .await;
    assert_first(
        &verify(&app, &staff, None).await,
        "journal",
        "edited",
        Some(entry_id),
    );
    let differences = ledger_differences(&app).await;
    assert_mentions(&differences, "account 4111 holds");
    assert_mentions(
        &differences,
        &format!("entry {entry_id} of charter capital"),
    );
}

#[tokio::test]
async fn a_deleted_charter_capital_entry_is_named() {
    let (app, staff, _) = fund_with_activity().await;
    let (contribution_id, entry_id) = charter_entry_id(&app).await;
    let seq: i64 = journal_entry::Entity::find_by_id(entry_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .chain_seq
        .unwrap();
    tamper(
        &app,
        &format!(
            "DELETE FROM journal_lines WHERE entry_id = {entry_id}; DELETE FROM journal_entries WHERE id = {entry_id}"
        ),
    )
    .await;
    let report = verify(&app, &staff, None).await;
    assert!(!report.passed);
    let first = chain(&report, "journal").first.clone().expect("a finding");
    assert_eq!(
        (first.kind.as_str(), first.seq),
        ("deleted", Some(seq)),
        "{report:#?}"
    );
    let differences = ledger_differences(&app).await;
    assert_mentions(
        &differences,
        &format!("charter capital contribution {contribution_id}"),
    );
    assert_mentions(&differences, "account 4111 holds");
}

#[tokio::test]
async fn an_edited_transaction_reference_is_named() {
    let (app, staff, loan_id) = fund_with_activity().await;
    let transaction = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.eq(loan_id))
        .order_by_desc(loan_transaction::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    tamper(
        &app,
        &format!(
            "UPDATE loan_transactions SET reference = 'GD 999' WHERE id = {}",
            transaction.id
        ),
    )
    .await;
    assert_first(
        &verify(&app, &staff, None).await,
        "loan_transactions",
        "edited",
        Some(transaction.id),
    );
    assert_mentions(
        &ledger_differences(&app).await,
        &format!("loan transaction {}", transaction.id),
    );
}

#[tokio::test]
async fn a_doubled_charter_capital_contribution_is_named() {
    let (app, staff, _) = fund_with_activity().await;
    let (contribution_id, _) = charter_entry_id(&app).await;
    tamper(
        &app,
        &format!(
            "INSERT INTO charter_capital_contributions (amount_vnd, contributed_on, reference, created_by, created_at)
             SELECT amount_vnd, contributed_on, reference, created_by, created_at FROM charter_capital_contributions WHERE id = {contribution_id}"
        ),
    )
    .await;
    let doubled = charter_capital_contribution::Entity::find()
        .order_by_desc(charter_capital_contribution::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_first(
        &verify(&app, &staff, None).await,
        "charter_capital",
        "inserted",
        Some(doubled.id),
    );
    let differences = ledger_differences(&app).await;
    assert_mentions(
        &differences,
        &format!(
            "contribution {} repeats contribution {contribution_id}",
            doubled.id
        ),
    );
    assert_mentions(&differences, "account 4111 holds");
}

#[tokio::test]
async fn a_whole_chain_rewritten_after_a_checkpoint_passes_alone_but_not_against_it() {
    let (app, staff, _) = fund_with_activity().await;
    let checkpoint = app
        .client(&staff.auditor)
        .chain_checkpoint()
        .await
        .expect("checkpoint");
    assert!(verify(&app, &staff, Some(&checkpoint.compact)).await.passed);
    // Someone who knows the encoding edits the first audit record and re-hashes the whole chain, head too.
    tamper(
        &app,
        "UPDATE audit_records SET actor = 'someone' WHERE id = 1",
    )
    .await;
    rehash(&app, Chain::Audit).await;
    let alone = verify(&app, &staff, None).await;
    assert!(
        alone.passed,
        "a consistent rewrite passes without a checkpoint: {alone:#?}"
    );
    let against = verify(&app, &staff, Some(&checkpoint.compact)).await;
    let head = checkpoint
        .heads
        .iter()
        .find(|h| h.chain == "audit")
        .unwrap();
    assert!(!against.passed);
    let first = chain(&against, "audit").first.clone().expect("a finding");
    assert_eq!(
        (first.kind.as_str(), first.seq),
        ("checkpoint_mismatch", Some(head.seq)),
        "{against:#?}"
    );
    // Appending after the checkpoint is fine: a later verify against it holds for an untouched fund.
    let fresh = app.client(&staff.auditor).chain_checkpoint().await.unwrap();
    app.user_token("officer", None).await;
    assert!(verify(&app, &staff, Some(&fresh.compact)).await.passed);
}

/// Recomputes every link of every part of `chain` from its rows as they are now, and its heads (a forger's
/// rewrite).
async fn rehash(app: &TestApp, chain: Chain) {
    let mut sql = String::new();
    for part in 0..chain.parts() {
        let rows = migration::chain_rows::read_batch(
            &app.db,
            chain,
            migration::chain_rows::Order::Seq(part),
            0,
            1_000_000,
        )
        .await
        .unwrap();
        if rows.is_empty() {
            continue;
        }
        let fields: Vec<_> = rows.iter().map(|r| r.fields.clone()).collect();
        let links = links_after_in(chain, part, 0, GENESIS, &fields);
        for (row, link) in rows.iter().zip(&links) {
            sql.push_str(&format!(
                "UPDATE {} SET chain_seq = {}, chain_prev = '{}', chain_hash = '{}' WHERE id = {};\n",
                chain.table(),
                -link.seq,
                link.prev,
                link.hash,
                row.id
            ));
        }
        let last = links.last().unwrap();
        sql.push_str(&format!(
            "UPDATE chain_heads SET seq = {}, hash = '{}' WHERE chain = '{}';\n",
            last.seq,
            last.hash,
            chain.head_name(part)
        ));
    }
    // Negative first, so the unique index on (chain_part, chain_seq) never sees two rows with one number.
    sql.push_str(&format!(
        "UPDATE {} SET chain_seq = -chain_seq WHERE chain_seq < 0;\n",
        chain.table()
    ));
    tamper(app, &sql).await;
}

#[tokio::test]
async fn on_postgresql_truncate_replica_role_and_disabled_triggers_are_found() {
    let (app, staff, _) = fund_with_activity().await;
    if !postgres(&app) {
        return;
    }
    // TRUNCATE is refused by the database itself.
    let refused = app.db.execute_unprepared("TRUNCATE journal_lines").await;
    assert!(refused.is_err(), "TRUNCATE is refused");
    // ALTER TABLE … DISABLE TRIGGER lets an UPDATE of an entry through: the chain finds it.
    let first_entry = journal_entry::Entity::find()
        .order_by_asc(journal_entry::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    app.db
        .execute_unprepared(&format!(
            "ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only;
             UPDATE journal_entries SET description = 'sửa' WHERE id = {};
             ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only",
            first_entry.id
        ))
        .await
        .expect("a superuser can disable the trigger");
    assert_first(
        &verify(&app, &staff, None).await,
        "journal",
        "edited",
        Some(first_entry.id),
    );
    // session_replication_role = replica lets TRUNCATE through: every entry lost its lines.
    tamper(&app, "TRUNCATE journal_lines").await;
    let report = verify(&app, &staff, None).await;
    assert!(chain(&report, "journal").findings_total >= 2, "{report:#?}");
    // And a TRUNCATE of a whole chained table.
    tamper(&app, "TRUNCATE audit_records").await;
    let report = verify(&app, &staff, None).await;
    let first = chain(&report, "audit").first.clone().expect("a finding");
    assert_eq!((first.kind.as_str(), first.seq), ("deleted", Some(1)));
}

#[tokio::test]
async fn concurrent_writers_never_fork_a_chain() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    // Twelve contributions at once, from separate tasks (separate connections on PostgreSQL).
    let fund: serde_json::Value = app
        .get("/api/v1/fund", &app.admin_token)
        .await
        .json()
        .await
        .expect("fund");
    let today = fund["business_date"]
        .as_str()
        .expect("business date")
        .to_string();
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..12 {
        let today = today.clone();
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/fund/charter-capital"),
            app.admin_token.clone(),
        );
        writes.spawn(async move {
            let body = json!({"amount_vnd": 1_000_000 + i, "contributed_on": today, "reference": format!("QĐ {i}")});
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
        });
    }
    let statuses = writes.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let report = verify(&app, &staff, None).await;
    assert!(report.passed, "{report:#?}");
    assert_eq!(chain(&report, "charter_capital").head_seq, 12);
    assert_eq!(chain(&report, "journal").head_seq, 12);
    assert!(ledger_differences(&app).await.is_empty());
}

#[tokio::test]
async fn concurrent_repayments_on_several_loans_keep_one_transaction_chain() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loans = active_loans(&app, &staff, coop, 3, "2026-01-10").await;
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..9_usize {
        let (client, url, token) = (
            app.client.clone(),
            app.url(&format!("/api/v1/loans/{}/repayments", loans[i % 3])),
            staff.accountant.clone(),
        );
        writes.spawn(async move {
            let body = json!({"amount_vnd": 1_000_000, "value_date": "2026-01-10", "reference": format!("GD {i}"), "kind": "ordinary"});
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
        });
    }
    let statuses = writes.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let report = verify(&app, &staff, None).await;
    assert!(report.passed, "{report:#?}");
    // Three disbursements and nine repayments, each loan's in its part of the chain with no gap.
    let transactions = chain(&report, "loan_transactions");
    assert_eq!(transactions.rows, 12);
    for loan_id in &loans {
        let part = usize::from(part_of_loan(*loan_id));
        let same_part = loans
            .iter()
            .filter(|other| usize::from(part_of_loan(**other)) == part)
            .count();
        assert_eq!(
            transactions.heads[part].seq,
            4 * same_part as i64,
            "{transactions:#?}"
        );
    }
    assert!(ledger_differences(&app).await.is_empty());
}

#[tokio::test]
async fn migrating_an_existing_database_chains_its_rows_once() {
    use migration::{Migrator, MigratorTrait};
    let database = EmptyDatabase::create().await;
    let db = Database::connect(database.url()).await.expect("connect");
    // Up to the migration before the chains, then rows as an older version wrote them.
    Migrator::up(&db, Some(12)).await.expect("migrate to 12");
    db.execute_unprepared(
        "INSERT INTO charter_capital_contributions (id, amount_vnd, contributed_on, reference, created_at)
           VALUES (1, 5000000000, '2026-01-02', 'QĐ 7/QĐ-UBND', '2026-01-02T08:00:00Z');
         INSERT INTO journal_entries (id, entry_date, kind, description, business_key, posted_at)
           VALUES (1, '2026-01-02', 'charter_capital', 'Góp vốn điều lệ', 'charter_capital:1', '2026-01-02T08:00:00Z');
         INSERT INTO journal_lines (entry_id, account_code, debit_vnd, credit_vnd) VALUES (1, '1121', 5000000000, 0);
         INSERT INTO journal_lines (entry_id, account_code, debit_vnd, credit_vnd) VALUES (1, '4111', 0, 5000000000);
         INSERT INTO audit_records (at, actor, action, entity_type, entity_id, after)
           VALUES ('2026-01-02T08:00:00.123456Z', 'admin', 'charter_capital.contribute', 'charter_capital_contribution', '1', '{}');
         INSERT INTO audit_records (at, actor, action, entity_type, entity_id)
           VALUES ('2026-01-02T09:00:00Z', 'admin', 'user.create', 'user', '2');",
    )
    .await
    .expect("rows of an older version");
    // Up to the migration before the chains were split (000016): the four heads as a checkpoint of then
    // names them (`chain:seq:hash`, no part), in its compact and its JSON form.
    Migrator::up(&db, Some(4)).await.expect("migrate to 16");
    let heads = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT chain, seq, hash FROM chain_heads ORDER BY chain",
        ))
        .await
        .expect("heads before the split");
    let old_heads: Vec<(String, i64, String)> = heads
        .iter()
        .map(|row| {
            (
                row.try_get("", "chain").unwrap(),
                row.try_get("", "seq").unwrap(),
                row.try_get("", "hash").unwrap(),
            )
        })
        .collect();
    assert_eq!(old_heads.len(), 4, "{old_heads:?}");
    let old_compact = old_heads
        .iter()
        .map(|(chain, seq, hash)| format!("{chain}:{seq}:{hash}"))
        .collect::<Vec<_>>()
        .join(";");
    let old_json = json!({
        "encoding": "coopfund-chain/v1",
        "taken_at": "2026-01-02T10:00:00Z",
        "business_date": "2026-01-02",
        "heads": old_heads
            .iter()
            .map(|(chain, seq, hash)| json!({"chain": chain, "seq": seq, "hash": hash}))
            .collect::<Vec<_>>(),
    })
    .to_string();
    Migrator::up(&db, None).await.expect("migrate the rest");
    let report = coopfund::app::chains::verify_books(&db, chrono::Utc::now(), None)
        .await
        .expect("verify");
    assert!(report.passed, "{}", report.render());
    // A checkpoint signed before the split still verifies: its heads are the parts 0.
    for old in [&old_compact, &old_json] {
        let checkpoint = coopfund::app::chains::parse_checkpoint(old).expect("an old checkpoint");
        assert!(checkpoint.iter().all(|h| h.part == 0));
        let report =
            coopfund::app::chains::verify_books(&db, chrono::Utc::now(), Some(&checkpoint))
                .await
                .expect("verify");
        assert!(report.passed, "{}", report.render());
        assert!(report.chains.iter().all(|c| c.checked_against_checkpoint));
    }
    let rows: Vec<(Chain, u64)> = report.chains.iter().map(|c| (c.chain, c.rows)).collect();
    assert_eq!(
        rows,
        vec![
            (Chain::Audit, 2),
            (Chain::CharterCapital, 1),
            (Chain::Journal, 1),
            (Chain::LoanTransactions, 0)
        ]
    );
    // The chains then go on from there, and an edit of a migrated row is found.
    db.execute_unprepared(if db.get_database_backend() == DbBackend::Postgres {
        "SET session_replication_role = replica; UPDATE audit_records SET entity_id = '3' WHERE id = 2; SET session_replication_role = origin"
    } else {
        "UPDATE audit_records SET entity_id = '3' WHERE id = 2"
    })
    .await
    .expect("tamper");
    let report = coopfund::app::chains::verify_books(&db, chrono::Utc::now(), None)
        .await
        .expect("verify");
    assert!(!report.passed);
    db.close().await.ok();
}

/// The heads of one unit of work (issue 14, repaystmts): read at its first row, moved in one statement at its
/// end. Records linked in turn take consecutive places after the head as read and the books stay intact; a head
/// moved by someone else in between (here by plain SQL in the same transaction) makes the move refuse, and
/// nothing of it is written.
#[tokio::test]
async fn a_unit_of_works_chain_heads_move_once_and_never_over_another_append() {
    use coopfund::app::{
        audit::{self, Change},
        chains::ChainHeads,
        Caller,
    };
    let (app, _staff, _) = fund_with_activity().await;
    let head_seq = |chain: Chain| {
        let db = app.db.clone();
        async move {
            let sql = format!(
                "SELECT seq FROM chain_heads WHERE chain = '{}'",
                chain.name()
            );
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "seq").unwrap()
        }
    };
    let audit_before = head_seq(Chain::Audit).await;
    let caller = Caller::system_named("chain test");
    let change = |n: usize| Change::<(), ()> {
        action: "test.chain_heads",
        entity_type: "test",
        entity_id: n.to_string(),
        before: None,
        after: None,
    };

    // Two records through one set of heads: consecutive, the head moved once to the second.
    let txn = app.db.begin().await.unwrap();
    let mut heads = ChainHeads::new();
    for n in 0..2 {
        audit::record_linked(&txn, &mut heads, &caller, chrono::Utc::now(), change(n))
            .await
            .expect("linked");
    }
    heads.finish(&txn).await.expect("moved");
    txn.commit().await.unwrap();
    assert_eq!(head_seq(Chain::Audit).await, audit_before + 2);
    let report = coopfund::app::chains::verify_books(&app.db, chrono::Utc::now(), None)
        .await
        .expect("verify");
    assert!(report.passed, "{}", report.render());

    // Another append between the read and the move: refused.
    let txn = app.db.begin().await.unwrap();
    let mut heads = ChainHeads::new();
    audit::record_linked(&txn, &mut heads, &caller, chrono::Utc::now(), change(3))
        .await
        .expect("linked");
    txn.execute_unprepared("UPDATE chain_heads SET seq = seq + 1 WHERE chain = 'audit'")
        .await
        .unwrap();
    let refused = heads.finish(&txn).await;
    assert!(refused.is_err(), "a head moved under the unit of work");
    txn.rollback().await.unwrap();
    assert_eq!(head_seq(Chain::Audit).await, audit_before + 2);
    let report = coopfund::app::chains::verify_books(&app.db, chrono::Utc::now(), None)
        .await
        .expect("verify");
    assert!(report.passed, "{}", report.render());
}

/// Issue 14 (chainparts): a loan's rows are linked into its part of each chain, whose sequence numbers
/// are its own; an edit there is found and named with its part, a row moved to another part breaks both,
/// and a row put in a part the chain does not have is found as written outside the chain.
#[tokio::test]
async fn a_tamper_in_a_part_other_than_zero_is_found_and_names_its_part() {
    let (app, staff, loan_id) = fund_with_activity().await;
    let part = part_of_loan(loan_id);
    assert_ne!(part, 0, "the fixture's loan is in a part other than 0");
    let transactions = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.eq(loan_id))
        .order_by_asc(loan_transaction::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let repayment = transactions.last().expect("the repayment").id;

    tamper(
        &app,
        &format!("UPDATE loan_transactions SET amount_vnd = amount_vnd + 1 WHERE id = {repayment}"),
    )
    .await;
    let report = verify(&app, &staff, None).await;
    assert_first(&report, "loan_transactions", "edited", Some(repayment));
    let first = chain(&report, "loan_transactions").first.clone().unwrap();
    assert_eq!(
        (first.part, first.seq),
        (Some(part), Some(2)),
        "{report:#?}"
    );
    let name = Chain::LoanTransactions.head_name(part);
    assert!(first.message.contains(&format!("({name})")), "{first:?}");
    tamper(
        &app,
        &format!("UPDATE loan_transactions SET amount_vnd = amount_vnd - 1 WHERE id = {repayment}"),
    )
    .await;
    assert!(verify(&app, &staff, None).await.passed);

    // Moved to the next part: its own part misses it, the other holds a row hashed under another name.
    let other = (part + 1) % Chain::LoanTransactions.parts();
    tamper(
        &app,
        &format!("UPDATE loan_transactions SET chain_part = {other} WHERE id = {repayment}"),
    )
    .await;
    let report = verify(&app, &staff, None).await;
    assert!(!report.passed, "{report:#?}");
    let findings = &chain(&report, "loan_transactions").findings;
    assert!(
        findings
            .iter()
            .any(|f| f.part == Some(part) && f.kind == "deleted" && f.seq == Some(2)),
        "{findings:#?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.part == Some(other) && f.row_id == Some(repayment)),
        "{findings:#?}"
    );

    // In a part the chain does not have: walked by no part, so found as inserted outside the chain.
    tamper(
        &app,
        &format!("UPDATE loan_transactions SET chain_part = 99 WHERE id = {repayment}"),
    )
    .await;
    let report = verify(&app, &staff, None).await;
    let findings = &chain(&report, "loan_transactions").findings;
    assert!(
        findings
            .iter()
            .any(|f| f.kind == "inserted" && f.row_id == Some(repayment) && f.part.is_none()),
        "{findings:#?}"
    );
}

/// Issue 14 (chainparts), PostgreSQL: a unit of work holds only its loan's part of the chain heads, so a
/// repayment on a loan of another part commits while it is open, and one of the same part waits for it.
#[tokio::test]
async fn repayments_on_loans_of_different_parts_do_not_wait_for_each_other() {
    use coopfund::app::{
        audit::{self, Change},
        chains::ChainHeads,
        Caller,
    };
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loans = active_loans(&app, &staff, coop, 2, "2026-01-10").await;
    let (held, other) = (loans[0], loans[1]);
    assert_ne!(part_of_loan(held), part_of_loan(other));
    let caller = Caller::system_named("chain test");
    let change = |id: i64| Change::<(), ()> {
        action: "test.chain_parts",
        entity_type: "loan",
        entity_id: id.to_string(),
        before: None,
        after: None,
    };

    // A unit of work on `held` that has linked a row (so holds its part's heads) and not committed yet.
    let txn = app.db.begin().await.unwrap();
    let mut heads = ChainHeads::for_loan(held);
    audit::record_linked(&txn, &mut heads, &caller, chrono::Utc::now(), change(held))
        .await
        .expect("linked");

    if postgres(&app) {
        // Another part: the repayment commits meanwhile.
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            repay(&app, &staff, other, 1_000_000, "2026-01-10", "ordinary"),
        )
        .await
        .expect("a repayment on a loan of another part does not wait for the open unit of work");
        assert_eq!(response.status(), StatusCode::CREATED);

        // The same part: waits for the heads (here it gives up after a moment).
        let same_part = held + i64::from(coopfund_domain::chain::LOAN_PARTS);
        let waiting = app.db.begin().await.unwrap();
        waiting
            .execute_unprepared("SET LOCAL lock_timeout = '300ms'")
            .await
            .unwrap();
        let mut same = ChainHeads::for_loan(same_part);
        let refused = audit::record_linked(
            &waiting,
            &mut same,
            &caller,
            chrono::Utc::now(),
            change(same_part),
        )
        .await;
        assert!(refused.is_err(), "the same part's heads are held");
        waiting.rollback().await.unwrap();
    }

    heads.finish(&txn).await.expect("moved");
    txn.commit().await.unwrap();
    // Both committed (on SQLite one after the other: one writer), and every chain verifies.
    let response = repay(&app, &staff, other, 1_000_000, "2026-01-10", "ordinary").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let report = verify(&app, &staff, None).await;
    assert!(report.passed, "{report:#?}");
    let audit_chain = chain(&report, "audit");
    assert!(audit_chain.heads[usize::from(part_of_loan(held))].seq > 0);
    assert!(audit_chain.heads[usize::from(part_of_loan(other))].seq > 0);
}
