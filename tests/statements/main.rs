//! Statements per repayment (issue 14): a test binary of its own, because it installs the process's global
//! tracing subscriber. On SQLite the driver runs each statement on its connection's own thread and logs it
//! there, outside the test's thread and the request's span, so only a global subscriber sees it, and only a
//! binary with this one test can tell that every statement it counts is the request's.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "../api/loan_fixtures.rs"]
#[allow(dead_code)]
mod loan_fixtures;

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, unique};

/// The most SQL statements one repayment over HTTP may take, authentication included, as the driver logs them
/// (it does not log SQLite's BEGIN and COMMIT, nor PostgreSQL's BEGIN): 25 on SQLite and 26 on PostgreSQL for
/// this loan once the re-reads were removed (the before and after counts of the load script are in
/// benches/README.md, "Statements per repayment"). A change that adds a statement to the hottest money command
/// fails here and lists the statements that ran. 27 since the posting folds from the loan's latest snapshot:
/// one indexed read of the snapshot, after which the loan's transactions are read only past it, so the
/// statement's cost no longer grows with the loan's history (benches/README.md, "Posting and reads flat"). 26
/// since the business date and the calendar are read in one statement (benches/README.md, "The CPU of a
/// repayment"). 19 since the three chains' heads are read once and moved in one statement, and the receipt's
/// cooperative, notification settings and officers are read in one join: 18 on SQLite and 19 on PostgreSQL
/// (its COMMIT logged), from 24 and 25 (benches/README.md, "Statements per repayment, again").
const REPAYMENT_STATEMENTS_MAX: usize = 19;

/// The most round trips to the connection's thread one repayment over HTTP may take on SQLite, as the driver
/// logs them (one log line per text sent, however many statements it holds): 14 since the posting's four reads
/// go as one text and the loan's lock with the business date and calendar as another (benches/README.md,
/// "Fewer round trips on SQLite"). 9 since the writes that need nothing back (the journal lines, the loan's cached
/// balances, the audit record, the heads' move, the receipt, the idempotency key) go with the receipt's read and
/// at the command's end (`coopfund::app::deferred_writes`; benches/README.md, "Kept writes"). 6 since the chain
/// heads and the ids of the transaction and its entry are read with the loan's lock, so that the transaction's
/// insert goes with the posting's reads and the entry's with the other writes (`coopfund::app::loans`'
/// `NextIds`; benches/README.md, "Savepoints, chain heads and row ids without round trips of their own"). The
/// command's savepoint, unlogged, no longer costs a round trip of its own either (`coopfund::app::writer`).
const REPAYMENT_ROUND_TRIPS_MAX_SQLITE: usize = 6;

/// Collects everything written by the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The statements of one repayment, counted from the driver's own statement log (target `sqlx::query`, at
/// debug level), from the moment the request is sent to its response: nothing else runs meanwhile (no worker
/// is started in tests, and this binary holds no other test).
#[tokio::test]
async fn a_repayment_over_http_takes_a_bounded_number_of_sql_statements() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn,sqlx::query=debug"))
        .json()
        .flatten_event(true)
        .with_writer(captured.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let app = spawn_app().await;
    let staff = loan_fixtures::Staff::new(&app).await;
    let cooperative_id = app.cooperative().await;
    let loan_id = loan_fixtures::active_loan(
        &app,
        &staff,
        cooperative_id,
        &loan_fixtures::example_3(),
        "2026-01-05",
    )
    .await;
    loan_fixtures::set_date(&app, "2026-02-05").await;

    captured.0.lock().unwrap().clear();
    let response = loan_fixtures::post_keyed(
        &app,
        &format!("/api/v1/loans/{loan_id}/repayments"),
        &staff.accountant,
        Some(&unique("key")),
        &json!({"amount_vnd": 11_000_000, "value_date": "2026-02-05", "reference": "GD 1"}),
    )
    .await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let body = loan_fixtures::json_of(response, StatusCode::CREATED).await;
    assert_eq!(body["kind"], "repayment");

    let statements = logs
        .lines()
        .filter(|line| line.contains("\"target\":\"sqlx::query\""))
        .collect::<Vec<_>>();
    // The log is really read: a repayment cannot run in fewer than four round trips (the token, the key,
    // the loan's lock, the posting's reads).
    assert!(
        statements.len() >= 4,
        "{} statements were captured for the request",
        statements.len()
    );
    let max = match app.db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => REPAYMENT_ROUND_TRIPS_MAX_SQLITE,
        _ => REPAYMENT_STATEMENTS_MAX,
    };
    assert!(
        statements.len() <= max,
        "{} statements (at most {max}):\n{}",
        statements.len(),
        statements.join("\n")
    );
}
