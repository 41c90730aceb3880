//! Close of business through HTTP: the business date, runs, catch-up, refusals, one runner.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, spawn_app_with};

async fn business_date(app: &crate::helpers::TestApp) -> chrono::NaiveDate {
    let body: Value = app
        .get("/api/v1/business-date", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    body["business_date"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_new_fund_starts_on_the_configured_business_date() {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-05".into()).await;
    let body: Value = app
        .get("/api/v1/business-date", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["business_date"], "2026-01-05");
    assert_eq!(body["last_closed_date"], "2026-01-04");
}

#[tokio::test]
async fn cob_closes_each_missed_day_in_order_and_moves_the_business_date() {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-05".into()).await;
    let r = app
        .post(
            "/api/v1/cob/run",
            &app.admin_token,
            &json!({"through": "2026-01-09"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let outcome: Value = r.json().await.unwrap();
    assert_eq!(outcome["ran"], true);
    let dates: Vec<&str> = outcome["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["business_date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-01-05",
            "2026-01-06",
            "2026-01-07",
            "2026-01-08",
            "2026-01-09"
        ]
    );
    assert!(outcome["runs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "finished"));
    assert_eq!(business_date(&app).await.to_string(), "2026-01-10");
    let runs: Value = app
        .get("/api/v1/cob/runs?limit=2", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        runs["items"][0]["business_date"], "2026-01-09",
        "newest first"
    );
    assert!(runs["next_cursor"].is_string());
}

#[tokio::test]
async fn running_cob_again_for_closed_days_does_nothing() {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-05".into()).await;
    app.post(
        "/api/v1/cob/run",
        &app.admin_token,
        &json!({"through": "2026-01-06"}),
    )
    .await;
    let again: Value = app
        .post(
            "/api/v1/cob/run",
            &app.admin_token,
            &json!({"through": "2026-01-06"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["runs"].as_array().unwrap().len(), 0);
    assert_eq!(business_date(&app).await.to_string(), "2026-01-07");
}

#[tokio::test]
async fn a_day_that_has_not_ended_cannot_be_closed() {
    let app = spawn_app().await;
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Duration::days(2);
    let r = app
        .post(
            "/api/v1/cob/run",
            &app.admin_token,
            &json!({"through": tomorrow.to_string()}),
        )
        .await;
    let error = error_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["code"], "day_not_ended");
    assert_eq!(error["field"], "through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_at_once_close_each_day_exactly_once() {
    let app = spawn_app_with(|s| {
        s.fund.start_business_date = "2026-01-01".into();
        s.cob.allow_future_dates = true;
    })
    .await;
    let body = json!({"through": "2026-02-15"});
    let (a, b) = tokio::join!(
        app.post("/api/v1/cob/run", &app.admin_token, &body),
        app.post("/api/v1/cob/run", &app.admin_token, &body)
    );
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(b.status(), StatusCode::OK);
    use coopfund::store::entities::cob_run;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let runs = cob_run::Entity::find().all(&app.db).await.unwrap();
    let mut dates: Vec<_> = runs.iter().map(|r| r.business_date).collect();
    dates.sort();
    dates.dedup();
    assert_eq!(dates.len(), runs.len(), "no day was closed twice");
    assert_eq!(cob_run::Entity::find().count(&app.db).await.unwrap(), 46);
    assert_eq!(business_date(&app).await.to_string(), "2026-02-16");
}

/// Repayments posted while the close of business runs are each counted once and the books verify (issue 14):
/// the close reads and folds the chunks after the one it writes ahead of their writes, so a repayment often
/// changes a loan of a chunk already read. The write then finds the loan's version moved and reads the chunk
/// again under its locks; posting from the stale read would leave a difference the full refold of
/// `ledger verify` disagrees with.
#[tokio::test]
async fn repayments_posted_while_the_close_runs_are_counted_once_and_the_books_verify() {
    use coopfund::store::entities::{loan, loan_transaction};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
    use std::sync::atomic::{AtomicBool, Ordering};

    let app = spawn_app_with(|s| s.cob.allow_future_dates = true).await;
    // 500 cooperatives: the close takes them in chunks, two read ahead of the one being written.
    coopfund::demo::load_bulk(&crate::demo::state_of(&app), 2_000)
        .await
        .expect("bulk load");
    let start = business_date(&app).await;
    let accountant = app.user_token("accountant", None).await;
    // Loans that owe at least 10 million đồng (a 1,000-đồng repayment pays none off), the last first: the close
    // reaches their chunks last, so they stay read ahead the longest.
    let loans: Vec<i64> = loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .filter(loan::Column::Status.eq("active"))
        .filter(loan::Column::InTermPrincipalVnd.gte(10_000_000))
        .order_by_desc(loan::Column::Id)
        .limit(300)
        .into_tuple()
        .all(&app.db)
        .await
        .unwrap();
    assert!(loans.len() > 100, "{} loans to repay", loans.len());
    let closed = AtomicBool::new(false);
    let through = (start + chrono::Duration::days(2)).to_string();
    let close = async {
        let response = app
            .post(
                "/api/v1/cob/run",
                &app.admin_token,
                &json!({"through": through}),
            )
            .await;
        closed.store(true, Ordering::SeqCst);
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, body)
    };
    let repay = async {
        let mut posted = 0usize;
        for (i, loan_id) in loans.iter().cycle().enumerate() {
            if closed.load(Ordering::SeqCst) {
                break;
            }
            let body = json!({"amount_vnd": 1_000, "value_date": start.to_string(), "reference": format!("during the close {i}")});
            let response = crate::loan_fixtures::post_keyed(
                &app,
                &format!("/api/v1/loans/{loan_id}/repayments"),
                &accountant,
                Some(&format!("during-the-close-{i}")),
                &body,
            )
            .await;
            assert_eq!(response.status(), StatusCode::CREATED, "repayment {i}");
            posted += 1;
        }
        posted
    };
    let ((status, outcome), posted) = tokio::join!(close, repay);
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let runs = outcome["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "{outcome}");
    assert!(
        runs.iter()
            .all(|run| run["status"] == "finished" && run["errors"] == 0),
        "{outcome}"
    );
    assert!(posted > 0, "no repayment was posted while the close ran");
    let recorded = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::Reference.starts_with("during the close "))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(recorded, posted as u64, "each repayment recorded once");
    crate::loan_fixtures::assert_ledger_verifies(&app).await;
}
