//! A close of business killed with SIGKILL mid-run, then run again, ends with exactly the books of an
//! uninterrupted run (issue 5): the real `coopfund cob run --through D` binary over a database with
//! several loans, killed once two days are finished, rerun to completion, and compared with a second,
//! identically prepared database closed without interruption: the trial balance per account, every
//! journal entry (date, kind, loan, business key, lines), the loans' cached balances, the business
//! date and the outbox's dedupe keys; then `coopfund ledger verify` exits 0. Both backends.

use std::{
    collections::BTreeSet,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use coopfund::store::entities::{cob_run, journal_entry, journal_line, loan, outbox_message};
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use crate::{
    helpers::{cooperative_body, spawn_app_with, unique, TestApp, PASSWORD},
    loan_fixtures::{active_loan, example_3, json_of, repay, set_date, Staff, Terms},
};

const THROUGH: &str = "2026-03-15";

/// A fund on 2026-01-10 with five loans of different shapes and a few payments; the same every time.
async fn prepared_fund() -> TestApp {
    let app = spawn_app_with(|s| {
        s.fund.start_business_date = "2026-01-10".into();
        s.cob.allow_future_dates = true;
    })
    .await;
    let staff = Staff::new(&app).await;
    let officer = json_of(
        app.post("/api/v1/users", &app.admin_token, &json!({"username": unique("officer"), "password": PASSWORD, "role": "officer", "email": "canbo@quyhtx.example.vn"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut coop = cooperative_body(&unique("KL-"));
    coop["officer_id"] = officer["id"].clone();
    let coop = json_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &coop)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let coop = coop["id"].as_i64().expect("id");
    let annuity = Terms {
        method: "annuity",
        principal_vnd: 240_000_000,
        installments: 12,
        ..example_3()
    };
    let bullet = Terms {
        method: "bullet",
        principal_vnd: 50_000_000,
        installments: 1,
        period_months: 3,
        ..example_3()
    };
    let mut loans = Vec::new();
    for terms in [example_3(), annuity, bullet, example_3(), example_3()] {
        loans.push(active_loan(&app, &staff, coop, &terms, "2026-01-10").await);
    }
    // A payment ahead of time on one loan (held as an advance) and a prepayment on another.
    json_of(
        repay(&app, &staff, loans[0], 5_000_000, "2026-01-10", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        repay(
            &app,
            &staff,
            loans[3],
            20_000_000,
            "2026-01-10",
            "prepayment",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    set_date(&app, "2026-01-10").await;
    app
}

fn coopfund_cob(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coopfund"));
    command
        .args(["cob", "run", "--through", THROUGH])
        .env("COOPFUND__DATABASE__URL", url)
        .env("COOPFUND__COB__ALLOW_FUTURE_DATES", "true")
        .env("COOPFUND__LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

async fn finished_runs(db: &DatabaseConnection) -> u64 {
    cob_run::Entity::find()
        .filter(cob_run::Column::Status.eq("finished"))
        .count(db)
        .await
        .expect("runs")
}

/// A journal line: account, debit, credit, loan.
type Line = (String, i64, i64, Option<i64>);
/// A journal entry: date, kind, loan, business key, its lines sorted.
type Entry = (
    chrono::NaiveDate,
    String,
    Option<i64>,
    Option<String>,
    Vec<Line>,
);
/// A loan's cached state: id, status, in-term, overdue, advance, dpd, group, as of.
type CachedLoan = (
    i64,
    String,
    i64,
    i64,
    i64,
    i32,
    i32,
    Option<chrono::NaiveDate>,
);

/// Everything that must be equal between the two databases.
#[derive(Debug, PartialEq, Eq)]
struct Books {
    business_date: chrono::NaiveDate,
    accounts: Vec<(String, i64, i64)>,
    entries: Vec<Entry>,
    loans: Vec<CachedLoan>,
    outbox: BTreeSet<String>,
}

async fn books(db: &DatabaseConnection) -> Books {
    let lines = journal_line::Entity::find()
        .order_by_asc(journal_line::Column::Id)
        .all(db)
        .await
        .expect("lines");
    let mut accounts = std::collections::BTreeMap::<String, (i64, i64)>::new();
    for line in &lines {
        let totals = accounts.entry(line.account_code.clone()).or_default();
        totals.0 += line.debit_vnd;
        totals.1 += line.credit_vnd;
    }
    let entries = journal_entry::Entity::find()
        .order_by_asc(journal_entry::Column::Id)
        .all(db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| {
            let mut own: Vec<_> = lines
                .iter()
                .filter(|l| l.entry_id == e.id)
                .map(|l| (l.account_code.clone(), l.debit_vnd, l.credit_vnd, l.loan_id))
                .collect();
            own.sort();
            (e.entry_date, e.kind, e.loan_id, e.business_key, own)
        })
        .collect();
    let loans = loan::Entity::find()
        .order_by_asc(loan::Column::Id)
        .all(db)
        .await
        .expect("loans")
        .into_iter()
        .map(|l| {
            (
                l.id,
                l.status,
                l.in_term_principal_vnd,
                l.overdue_principal_vnd,
                l.advance_vnd,
                l.dpd,
                l.debt_group,
                l.balances_as_of,
            )
        })
        .collect();
    let outbox = outbox_message::Entity::find()
        .all(db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|m| m.dedupe_key)
        .collect();
    Books {
        business_date: coopfund::app::fund::business_date(db)
            .await
            .expect("business date"),
        accounts: accounts
            .into_iter()
            .map(|(code, (d, c))| (code, d, c))
            .collect(),
        entries,
        loans,
        outbox,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cob_killed_mid_run_and_run_again_ends_with_the_books_of_an_uninterrupted_run() {
    let (killed, whole) = tokio::join!(prepared_fund(), prepared_fund());
    let killed_url = killed.settings.database.url.clone();

    let mut child = coopfund_cob(&killed_url)
        .spawn()
        .expect("start coopfund cob run");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if finished_runs(&killed.db).await >= 2 {
            break;
        }
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the run ended before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "no two days closed within two minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    let status = child.wait().expect("reap");
    assert!(!status.success(), "killed, not finished: {status:?}");
    let date_after_kill = coopfund::app::fund::business_date(&killed.db)
        .await
        .expect("date");
    assert!(
        date_after_kill.to_string().as_str() <= THROUGH,
        "the kill came mid-run (business date {date_after_kill})"
    );

    let rerun = coopfund_cob(&killed_url).output().expect("rerun");
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let whole_run = coopfund_cob(&whole.settings.database.url)
        .output()
        .expect("uninterrupted run");
    assert!(
        whole_run.status.success(),
        "{}",
        String::from_utf8_lossy(&whole_run.stderr)
    );

    let (after_kill, uninterrupted) = (books(&killed.db).await, books(&whole.db).await);
    assert_eq!(after_kill.business_date.to_string(), "2026-03-16");
    assert!(
        after_kill.entries.len() > 50 && after_kill.outbox.len() > 5,
        "the run did something: {after_kill:?}"
    );
    assert_eq!(
        after_kill.accounts, uninterrupted.accounts,
        "trial balance per account"
    );
    assert_eq!(after_kill.loans, uninterrupted.loans, "loan balances");
    assert_eq!(
        after_kill.outbox, uninterrupted.outbox,
        "outbox dedupe keys"
    );
    assert_eq!(
        after_kill.entries, uninterrupted.entries,
        "every journal entry"
    );
    assert_eq!(after_kill, uninterrupted);

    let verify = Command::new(env!("CARGO_BIN_EXE_coopfund"))
        .args(["ledger", "verify"])
        .env("COOPFUND__DATABASE__URL", &killed_url)
        .env("COOPFUND__LOG__LEVEL", "warn")
        .output()
        .expect("ledger verify");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
