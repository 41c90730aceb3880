//! Issue 15 item 2 (PostgreSQL): a `pg_dump -Fc` of a fund's database restores with `pg_restore` into a fresh
//! database that holds the same books — the same contents (journal, loans, audit chain), the same trial balance,
//! the same loans — and on which a service starts and `ledger verify` passes. These are the commands the README
//! gives under "Backups".
//!
//! Runs only on PostgreSQL (`COOPFUND_TEST_DATABASE_URL` set, `pg_dump`/`pg_restore` on the PATH); on SQLite it
//! prints that it was skipped and returns (the SQLite copies are tested in `backups.rs`).

use std::process::Command;

use coopfund::server::Application;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, ADMIN_PASSWORD};
use crate::loan_fixtures::{
    active_loan, assert_ledger_verifies, example_3, json_of, repay, set_date, Staff,
};

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/new?x` (as the harness names its databases).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..path_start]),
        None => format!("{}/{name}", &base[..path_start]),
    }
}

/// The restored database, dropped when the test ends (also when it fails).
struct RestoredDatabase {
    admin_url: String,
    name: String,
}

impl Drop for RestoredDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop is synchronous: drop the database from a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Database::connect(&admin_url).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// Runs a PostgreSQL client tool and panics with its output when it fails.
fn run(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not be started: {e}"));
    assert!(
        output.status.success(),
        "{program} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Everything the comparison reads through HTTP: the trial balance and each loan.
async fn books(client: &reqwest::Client, address: &str, token: &str, loan_ids: &[i64]) -> Value {
    let trial_balance = json_of(
        client
            .get(format!("{address}/api/v1/ledger/trial-balance"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request"),
        StatusCode::OK,
    )
    .await;
    let mut loans = Vec::new();
    for id in loan_ids {
        let loan = json_of(
            client
                .get(format!("{address}/api/v1/loans/{id}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("request"),
            StatusCode::OK,
        )
        .await;
        loans.push(loan);
    }
    json!({"trial_balance": trial_balance, "loans": loans})
}

#[tokio::test]
async fn a_pg_dump_restores_into_a_fresh_database_with_the_same_books() {
    let Some(admin_url) = std::env::var("COOPFUND_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!(
            "SKIPPED a_pg_dump_restores_into_a_fresh_database_with_the_same_books: \
             COOPFUND_TEST_DATABASE_URL is not set (PostgreSQL only)"
        );
        return;
    };

    // Books: two loans, one repaid in part, one paid on time and then early.
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let first = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let second = active_loan(&app, &staff, coop, &example_3(), "2026-01-12").await;
    set_date(&app, "2026-02-10").await;
    for (loan_id, amount_vnd) in [(first, 11_000_000), (second, 4_000_000)] {
        json_of(
            repay(&app, &staff, loan_id, amount_vnd, "2026-02-10", "ordinary").await,
            StatusCode::CREATED,
        )
        .await;
    }
    set_date(&app, "2026-03-02").await;
    json_of(
        repay(&app, &staff, first, 20_000_000, "2026-03-02", "prepayment").await,
        StatusCode::CREATED,
    )
    .await;
    assert_ledger_verifies(&app).await;
    let source_contents = coopfund::app::backups::contents_of(&app.db)
        .await
        .expect("source contents");
    assert_eq!(source_contents.loans, 2);
    assert_eq!(
        source_contents.total_debit_vnd,
        source_contents.total_credit_vnd
    );
    assert!(source_contents.total_debit_vnd >= 235_000_000);
    let source_books = books(
        &app.client,
        &app.address,
        &app.admin_token,
        &[first, second],
    )
    .await;
    assert_eq!(source_books["trial_balance"]["balanced"], true);

    // pg_dump -Fc of the live database, pg_restore into a fresh one.
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("coopfund.dump");
    let dump_path = dump.to_str().expect("utf-8 path");
    run(
        "pg_dump",
        &[
            "--format=custom",
            "--file",
            dump_path,
            "--dbname",
            &app.settings.database.url,
        ],
    );
    let name = format!("coopfund_restore_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create the restore database");
    admin.close().await.ok();
    let _restored_guard = RestoredDatabase {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };
    let restored_url = with_database(&admin_url, &name);
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            &restored_url,
            dump_path,
        ],
    );

    // The restored database holds the same rows …
    let restored_db = Database::connect(&restored_url)
        .await
        .expect("connect to the restored database");
    let restored_contents = coopfund::app::backups::contents_of(&restored_db)
        .await
        .expect("restored contents");
    assert_eq!(restored_contents, source_contents);
    let report = coopfund::app::ledger::verify(&restored_db, &Default::default())
        .await
        .expect("verify runs");
    assert!(report.passed(), "{}", report.render());

    // … and a service started on it (as after a restore on another machine) shows the same books.
    let mut settings = app.settings.clone();
    settings.database.url = restored_url.clone();
    let db = coopfund::server::prepare_database(&settings)
        .await
        .expect("migrations and start-up on the restored database");
    let application = Application::build_with_db(settings, db)
        .await
        .expect("build on the restored database");
    let address = format!("http://{}", application.local_addr());
    let server = tokio::spawn(application.run_until_stopped());
    let restored_app_url = |path: &str| format!("{address}{path}");
    let login: Value = json_of(
        app.client
            .post(restored_app_url("/api/v1/auth/token"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("request"),
        StatusCode::OK,
    )
    .await;
    let token = login["token"].as_str().expect("token").to_string();
    let restored_books = books(&app.client, &address, &token, &[first, second]).await;
    assert_eq!(restored_books, source_books);
    server.abort();
    restored_db.close().await.ok();
}
