//! The demo fund (issue 4 item 9): the explorable demo loads into a fresh database with every
//! application state and every loan history, through the API; its users log in with the printed
//! passwords; the books verify; bulk mode loads and verifies; a non-empty database is refused.

use std::collections::BTreeSet;

use coopfund::{
    app::{chains, ledger},
    config::Settings,
    demo,
    state::AppState,
    store::entities::{
        application, journal_entry, journal_line, loan, loan_snapshot, loan_transaction,
    },
};
use coopfund_domain::chain::Chain;
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Statement,
};
use serde_json::Value;

use crate::helpers::{spawn_app, unique, TestApp};

/// The state the demo runs with: the test server's database; a lock name of its own for the
/// in-process close-of-business lock on SQLite, so parallel tests do not share it.
pub(crate) fn state_of(app: &TestApp) -> AppState {
    let mut settings = Settings::load(None).expect("default settings");
    settings.database.url = unique("sqlite://demo-test-");
    AppState::new(app.db.clone(), settings)
}

async fn items(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    let body: Value = response.json().await.expect("json");
    body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_explorable_demo_has_every_application_state_and_loan_history_its_users_log_in_and_the_books_verify(
) {
    let app = spawn_app().await;
    let summary = demo::load_explorable(&state_of(&app))
        .await
        .expect("the demo loads");
    assert!(summary.verify.passed(), "{}", summary.verify.render());
    assert_eq!(
        summary.cob_days,
        usize::try_from(demo::COB_WINDOW_DAYS).unwrap()
    );

    // Every demo user logs in with the printed password.
    let mut tokens = std::collections::BTreeMap::new();
    for user in summary.users.iter().filter(|u| u.password.is_some()) {
        tokens.insert(
            user.username.clone(),
            app.login(&user.username, user.password.as_deref().unwrap())
                .await,
        );
    }
    let roles: BTreeSet<&str> = summary.users.iter().map(|u| u.role.as_str()).collect();
    assert_eq!(
        roles,
        BTreeSet::from([
            "admin",
            "officer",
            "approver",
            "accountant",
            "auditor",
            "cooperative"
        ])
    );
    let auditor = &tokens["auditor.kiemsoat"];

    for status in [
        "draft",
        "submitted",
        "appraised",
        "awaiting_council",
        "approved",
        "rejected",
        "withdrawn",
    ] {
        let found = items(
            &app,
            &format!("/api/v1/applications?status={status}&limit=200"),
            auditor,
        )
        .await;
        assert!(!found.is_empty(), "no application is {status}");
        assert!(found.iter().all(|a| a["status"] == status));
    }
    // The cooperative's own user sees its own applications only, including the draft it made.
    let own = items(
        &app,
        "/api/v1/applications?limit=200",
        &tokens["htx.tancuong"],
    )
    .await;
    assert!(own.iter().any(|a| a["status"] == "draft"));
    assert!(own
        .iter()
        .all(|a| a["cooperative_id"] == own[0]["cooperative_id"]));

    // htx.tancuong, the demo's cooperative user, is behind on one of its loans by weeks: every
    // overdue amount is owed today, so each can be opened into its lines ("how is this computed?").
    let tancuong = &tokens["htx.tancuong"];
    let own_loans = items(&app, "/api/v1/loans?status=active&limit=200", tancuong).await;
    assert_eq!(own_loans.len(), 3, "{own_loans:?}");
    let behind: Vec<&Value> = own_loans
        .iter()
        .filter(|l| l["dpd"].as_i64().unwrap_or(0) > 0)
        .collect();
    assert_eq!(behind.len(), 1, "one loan is behind: {own_loans:?}");
    let dpd = behind[0]["dpd"].as_i64().unwrap();
    assert!((10..=50).contains(&dpd), "behind by weeks: {dpd} days");
    let quote = app
        .get(
            &format!("/api/v1/loans/{}/payoff", behind[0]["id"]),
            tancuong,
        )
        .await;
    assert_eq!(quote.status(), StatusCode::OK);
    let quote: Value = quote.json().await.expect("json");
    for field in [
        "overdue_principal_vnd",
        "unpaid_interest_vnd",
        "overdue_interest_vnd",
        "late_interest_vnd",
    ] {
        assert!(quote[field].as_i64().unwrap_or(0) > 0, "{field}: {quote}");
    }

    let loans = items(&app, "/api/v1/loans?limit=200", auditor).await;
    assert_eq!(loans.len(), 26);
    let statuses: BTreeSet<&str> = loans.iter().filter_map(|l| l["status"].as_str()).collect();
    for status in [
        "approved",
        "contract_signed",
        "active",
        "closed",
        "written_off",
    ] {
        assert!(
            statuses.contains(status),
            "no loan is {status}: {statuses:?}"
        );
    }
    assert!(
        loans.iter().any(|l| l["dpd"].as_i64().unwrap_or(0) > 30),
        "no loan is well overdue"
    );
    assert!(
        loans
            .iter()
            .any(|l| l["debt_group"].as_i64().unwrap_or(1) >= 3),
        "no loan is below standard"
    );

    let mut kinds = BTreeSet::new();
    for loan in &loans {
        let path = format!("/api/v1/loans/{}/transactions", loan["id"]);
        let response = app.get(&path, auditor).await;
        assert_eq!(response.status(), StatusCode::OK);
        let transactions: Vec<Value> = response.json().await.expect("json");
        for tx in transactions {
            kinds.insert(tx["kind"].as_str().unwrap_or_default().to_string());
            if tx["repayment_kind"] == "prepayment" {
                kinds.insert("prepayment".into());
            }
            if tx["reversed_by"].is_i64() {
                kinds.insert("reversed".into());
            }
        }
    }
    for kind in [
        "disbursement",
        "repayment",
        "prepayment",
        "reversal",
        "reversed",
        "restructure",
        "write_off",
        "recovery",
    ] {
        assert!(kinds.contains(kind), "no {kind} among {kinds:?}");
    }

    // A back-dated repayment: posted (its entry's date) after its value date.
    let mut back_dated = 0;
    for tx in loan_transaction::Entity::find()
        .filter(loan_transaction::Column::Kind.eq("repayment"))
        .all(&app.db)
        .await
        .unwrap()
    {
        let entry = journal_entry::Entity::find()
            .filter(journal_entry::Column::TransactionId.eq(tx.id))
            .one(&app.db)
            .await
            .unwrap();
        if entry.is_some_and(|e| e.entry_date > tx.value_date) {
            back_dated += 1;
        }
    }
    assert!(back_dated > 0, "no back-dated repayment");

    let cob_runs = items(&app, "/api/v1/cob/runs?limit=200", auditor).await;
    assert_eq!(cob_runs.len(), summary.cob_days);
    assert!(
        ledger::verify(&app.db, &app.settings.classification.classification())
            .await
            .unwrap()
            .passed()
    );
}

#[tokio::test]
async fn the_bulk_demo_of_200_loans_loads_and_the_books_verify() {
    let app = spawn_app().await;
    let summary = demo::load_bulk(&state_of(&app), 200)
        .await
        .expect("bulk load");
    assert_eq!(summary.loans, 200);
    assert_eq!(summary.cooperatives, 50);
    assert_eq!(loan::Entity::find().count(&app.db).await.unwrap(), 200);
    assert!(
        summary.active > 0 && summary.closed > 0 && summary.overdue > 0,
        "{summary:?}"
    );
    let report = ledger::verify(&app.db, &app.settings.classification.classification())
        .await
        .unwrap();
    assert!(report.passed(), "{}", report.render());
    assert_eq!(report.loans_checked, 200);
    // Every chained row was linked as the normal path links it: each hash recomputed from the stored
    // values (on PostgreSQL the rows went by COPY, so this also proves they read back exactly).
    let walked = chains::verify_books(&app.db, chrono::Utc::now(), None)
        .await
        .unwrap();
    assert!(walked.passed, "{}", walked.render());
    let rows = |chain: Chain| {
        walked
            .chains
            .iter()
            .find(|c| c.chain == chain)
            .map(|c| c.rows)
    };
    assert_eq!(
        rows(Chain::LoanTransactions),
        Some(summary.transactions as u64)
    );
    // The charter capital's entry, then one opening entry per loan with a balance.
    assert_eq!(
        rows(Chain::Journal),
        Some(summary.journal_entries as u64 + 1)
    );
    // Every open loan holds the snapshot a fund closing every day would hold: one, taken on the loan's day of
    // the week within the last seven days (`ledger verify` above checked each against the full refold); a
    // finished loan none.
    let today = summary.business_date;
    let loans = loan::Entity::find().all(&app.db).await.unwrap();
    let snapshots = loan_snapshot::Entity::find().all(&app.db).await.unwrap();
    let open: BTreeSet<i64> = loans
        .iter()
        .filter(|l| !["closed", "written_off", "recovered"].contains(&l.status.as_str()))
        .map(|l| l.id)
        .collect();
    assert_eq!(
        snapshots.iter().map(|s| s.loan_id).collect::<BTreeSet<_>>(),
        open,
        "the loans with a snapshot are the open loans"
    );
    assert_eq!(snapshots.len(), open.len(), "one snapshot a loan");
    let mut dates = BTreeSet::new();
    for snapshot in &snapshots {
        let age_days = (today - snapshot.as_of).num_days();
        assert!(
            (0..7).contains(&age_days),
            "loan {} snapshot of {} is {age_days} days old on {today}",
            snapshot.loan_id,
            snapshot.as_of
        );
        let day = i64::from(chrono::Datelike::num_days_from_ce(&snapshot.as_of));
        assert_eq!(
            (snapshot.loan_id + day).rem_euclid(7),
            0,
            "loan {} snapshot of {} is not on the loan's day of the week",
            snapshot.loan_id,
            snapshot.as_of
        );
        dates.insert(snapshot.as_of);
    }
    assert_eq!(dates.len(), 7, "the snapshots are spread over the week");
    // The loans read through the API like any other, and new rows get fresh ids after the explicit ones.
    let first = items(&app, "/api/v1/loans?limit=1", &app.admin_token).await;
    let id = first[0]["id"].as_i64().unwrap();
    let one = app
        .get(&format!("/api/v1/loans/{id}"), &app.admin_token)
        .await;
    assert_eq!(one.status(), StatusCode::OK);
    let created = app.cooperative().await;
    assert!(
        created > 50,
        "a new cooperative reuses a demo id: {created}"
    );
    // On PostgreSQL the load leaves the planner statistics of what it wrote (a table never analysed has
    // `reltuples` -1), so prepared statements are not planned for empty tables.
    if app.db.get_database_backend() == DbBackend::Postgres {
        for table in ["loans", "loan_transactions", "journal_lines"] {
            let row = app
                .db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT reltuples::float8 AS rows FROM pg_class WHERE relname = $1",
                    [table.into()],
                ))
                .await
                .unwrap()
                .expect("the table");
            let estimated_rows: f64 = row.try_get("", "rows").unwrap();
            assert!(
                estimated_rows >= 200.0,
                "{table} was not analysed after the bulk load: reltuples {estimated_rows}"
            );
        }
        // The snapshots (kilobytes of JSON each) are compressed with LZ4 where the server has it (this
        // machine's and CI's do; migration 000020): pglz took four times as long to write them.
        let compression = app
            .db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT attcompression::text AS method,
                        EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'
                                AND 'lz4' = ANY(enumvals)) AS lz4_available
                 FROM pg_attribute
                 WHERE attrelid = 'loan_snapshots'::regclass AND attname = 'state'",
            ))
            .await
            .unwrap()
            .expect("the column");
        let method: String = compression.try_get("", "method").unwrap();
        let lz4_available: bool = compression.try_get("", "lz4_available").unwrap();
        if lz4_available {
            assert_eq!(
                method, "l",
                "loan_snapshots.state is not compressed with LZ4"
            );
        } else {
            // A server built without LZ4 keeps the default: the migration must not have failed on it.
            assert_ne!(method, "l");
        }
    }
}

/// On PostgreSQL several chunks are written at once (each chunk's applications and loans while the one
/// before appends to the chains): loaded in chunks of 30 loans, the fund is row for row the one a single
/// chunk gives, its chains verify and its books too.
#[tokio::test]
async fn the_bulk_demo_in_many_chunks_is_the_fund_one_chunk_gives() {
    let (one, many) = (spawn_app().await, spawn_app().await);
    let whole = demo::load_bulk(&state_of(&one), 200)
        .await
        .expect("bulk load in one chunk");
    let chunked = demo::bulk::load_bulk_in_chunks(&state_of(&many), 200, 30)
        .await
        .expect("bulk load in chunks of 30");
    assert_eq!(chunked.transactions, whole.transactions);
    assert_eq!(chunked.journal_lines, whole.journal_lines);
    let report = ledger::verify(&many.db, &many.settings.classification.classification())
        .await
        .unwrap();
    assert!(report.passed(), "{}", report.render());
    assert_eq!(report.loans_checked, 200);
    let walked = chains::verify_books(&many.db, chrono::Utc::now(), None)
        .await
        .unwrap();
    assert!(walked.passed, "{}", walked.render());
    macro_rules! rows {
        ($entity:ident, $db:expr) => {
            $entity::Entity::find()
                .order_by_asc($entity::Column::Id)
                .all($db)
                .await
                .unwrap()
        };
    }
    assert_eq!(rows!(application, &many.db), rows!(application, &one.db));
    assert_eq!(rows!(loan, &many.db), rows!(loan, &one.db));
    // With their links: the chain of loan transactions holds no wall-clock time, so it is the same.
    assert_eq!(
        rows!(loan_transaction, &many.db),
        rows!(loan_transaction, &one.db)
    );
    assert_eq!(rows!(journal_line, &many.db), rows!(journal_line, &one.db));
    let snapshots = |db| async move {
        loan_snapshot::Entity::find()
            .order_by_asc(loan_snapshot::Column::LoanId)
            .order_by_asc(loan_snapshot::Column::AsOf)
            .all(db)
            .await
            .unwrap()
    };
    assert_eq!(snapshots(&many.db).await, snapshots(&one.db).await);
    // The journal's links differ from the first (the charter capital's entry is posted at `now()`).
    let openings = |entries: Vec<journal_entry::Model>| {
        entries
            .into_iter()
            .filter(|e| e.loan_id.is_some())
            .map(|e| journal_entry::Model {
                chain_prev: None,
                chain_hash: None,
                ..e
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        openings(rows!(journal_entry, &many.db)),
        openings(rows!(journal_entry, &one.db))
    );
}

#[tokio::test]
async fn a_demo_is_refused_when_the_database_already_has_a_cooperative() {
    let app = spawn_app().await;
    app.cooperative().await;
    let state = state_of(&app);
    let explorable = demo::load_explorable(&state).await.expect_err("refused");
    assert_eq!(explorable.code, "demo_database_not_empty");
    let bulk = demo::load_bulk(&state, 10).await.expect_err("refused");
    assert_eq!(bulk.code, "demo_database_not_empty");
    assert_eq!(loan::Entity::find().count(&app.db).await.unwrap(), 0);
}

/// Issue 5: a 60-day catch-up of the close of business on the demo fund completes, and its numbers
/// match the engine (`ledger verify` refolds every loan and compares the books and cached balances).
#[tokio::test]
async fn a_sixty_day_catch_up_on_the_demo_fund_completes_and_the_books_match_the_engine() {
    let app = spawn_app().await;
    let mut state = state_of(&app);
    demo::load_explorable(&state).await.expect("the demo loads");
    let mut settings = (*state.settings).clone();
    settings.cob.allow_future_dates = true;
    state.settings = std::sync::Arc::new(settings);
    state.ctx.settings = state.settings.clone();
    let start = coopfund::app::fund::business_date(&app.db).await.unwrap();
    let through = start + chrono::Duration::days(59);
    let caller = coopfund::app::Caller::cli();
    let outcome = coopfund::app::cob::run_through(
        &state.ctx,
        &caller,
        through,
        coopfund::app::cob::Trigger::Cli,
    )
    .await
    .expect("the catch-up runs");
    assert_eq!(outcome.runs.len(), 60);
    assert!(
        outcome
            .runs
            .iter()
            .all(|r| r.status == coopfund::app::cob::RunStatus::Finished && r.counts.errors == 0),
        "{:?}",
        outcome.runs.last()
    );
    assert_eq!(
        coopfund::app::fund::business_date(&app.db).await.unwrap(),
        through + chrono::Duration::days(1)
    );
    let report = ledger::verify(&app.db, &app.settings.classification.classification())
        .await
        .unwrap();
    assert!(report.passed(), "{}", report.render());
    let open = loan::Entity::find()
        .filter(loan::Column::Status.eq("active"))
        .count(&app.db)
        .await
        .unwrap();
    assert!(open > 0, "the catch-up ran over live loans");
}
