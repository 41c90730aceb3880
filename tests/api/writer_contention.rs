//! The embedded database never answers 500 for its own concurrency: the outbox worker delivering
//! every 100 ms beside requests that write (create, submit, appraise) and close of business run day
//! by day through the API. Every writer goes through the one writer path (`app::writer`); before it
//! did, SQLite's "database is locked" (codes 5 and 517) surfaced as 500s.

use std::time::Duration;

use chrono::{Duration as Days, NaiveDate};
use coopfund::{
    mail::worker::{self, Worker},
    store::entities::outbox_message,
};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::{
    helpers::{cooperative_body, spawn_app_with, unique, TestApp, PASSWORD},
    loan_fixtures::{active_loan, example_3, json_of, Staff},
    products::product_body,
    smtp::SmtpServer,
};

/// Creates, submits and appraises `count` applications; every (step, status) in order.
async fn applications(
    app: &TestApp,
    clerk: &str,
    appraiser: &str,
    body: &Value,
    count: usize,
) -> Vec<(String, StatusCode)> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        let created = app.post("/api/v1/applications", clerk, body).await;
        statuses.push(("create".to_string(), created.status()));
        let Some(id) = created
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| v["id"].as_i64())
        else {
            continue;
        };
        let submitted = app
            .post(
                &format!("/api/v1/applications/{id}/submit"),
                clerk,
                &json!({}),
            )
            .await;
        statuses.push((format!("submit {id}"), submitted.status()));
        let appraised = app
            .post(
                &format!("/api/v1/applications/{id}/appraise"),
                appraiser,
                &json!({"note": "Khả thi", "recommendation": "approve"}),
            )
            .await;
        statuses.push((format!("appraise {id}"), appraised.status()));
    }
    statuses
}

/// Closes the days from `from` through `through` one request each.
async fn close_days(
    app: &TestApp,
    from: NaiveDate,
    through: NaiveDate,
) -> Vec<(String, StatusCode)> {
    let mut statuses = Vec::new();
    let mut day = from;
    while day <= through {
        let response = app
            .post(
                "/api/v1/cob/run",
                &app.admin_token,
                &json!({"through": day.to_string()}),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let finished = body["runs"]
            .as_array()
            .is_some_and(|runs| runs.iter().all(|r| r["status"] == "finished"));
        assert!(
            !status.is_success() || finished,
            "close of {day} did not finish: {body}"
        );
        statuses.push((format!("cob {day}"), status));
        day += Days::days(1);
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_mail_worker_polling_every_100_ms_beside_writing_requests_and_close_of_business_causes_no_5xx(
) {
    let server = SmtpServer::start();
    let app = spawn_app_with(|s| {
        s.fund.start_business_date = "2026-01-05".into();
        s.cob.allow_future_dates = true;
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = server.port;
        s.smtp.timeout_seconds = 5;
    })
    .await;
    let mut product = product_body(&unique("SP-"));
    product["rate_percent"] = json!("12");
    let product = json_of(
        app.post("/api/v1/products", &app.admin_token, &product)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let capital = json!({"amount_vnd": 20_000_000_000i64, "contributed_on": "2020-01-01", "reference": "QĐ 1/QĐ-UBND"});
    json_of(
        app.post("/api/v1/fund/charter-capital", &app.admin_token, &capital)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let officer_name = unique("officer");
    let officer = json_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": officer_name, "password": PASSWORD, "role": "officer",
                    "full_name": "Trần Thị Bình", "email": format!("{officer_name}@quyhtx.example.vn")}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let clerk = app.login(&officer_name, PASSWORD).await;
    let appraiser = app.user_token("officer", None).await;
    let mut coop = cooperative_body(&unique("WC-"));
    coop["officer_id"] = officer["id"].clone();
    coop["email"] = json!(format!("{}@htx.example.vn", unique("htx")));
    let coop = json_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &coop)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let coop_id = coop["id"].as_i64().expect("id");
    // Loans for the close of business to accrue, remind of and mail about.
    let staff = Staff::new(&app).await;
    for _ in 0..3 {
        active_loan(&app, &staff, coop_id, &example_3(), "2026-01-05").await;
    }
    let application = json!({
        "product_id": product["id"], "cooperative_id": coop_id, "amount_vnd": 100_000_000i64,
        "installments": 10, "period_months": 1, "method": "equal_principal", "principal_grace": 0,
        "purpose": "Mua phân bón vụ chè xuân", "project_total_vnd": 200_000_000i64,
        "own_capital_vnd": 100_000_000i64, "collateral": [], "no_bad_debt_declared": true,
        "documents": []
    });

    let (stop, stopped) = watch::channel(false);
    let delivering = worker::spawn_polling(
        Worker::new(app.db.clone(), &app.settings).expect("worker"),
        stopped,
        Duration::from_millis(100),
    );
    let start = NaiveDate::from_ymd_opt(2026, 1, 5).expect("date");
    let (first, second, cob) = tokio::join!(
        applications(&app, &clerk, &appraiser, &application, 12),
        applications(&app, &clerk, &appraiser, &application, 12),
        close_days(&app, start, start + Days::days(40)),
    );
    stop.send(true).expect("stop the worker");
    delivering.await.expect("the worker stopped");

    let all: Vec<(String, StatusCode)> = first.into_iter().chain(second).chain(cob).collect();
    let server_errors: Vec<&(String, StatusCode)> =
        all.iter().filter(|(_, s)| s.is_server_error()).collect();
    assert!(
        server_errors.is_empty(),
        "{} of {} requests failed with 5xx: {server_errors:?}",
        server_errors.len(),
        all.len()
    );
    assert!(
        all.iter().all(|(_, s)| s.is_success()),
        "every request succeeds: {all:?}"
    );
    assert_eq!(all.len(), 2 * 12 * 3 + 41);
    // Whatever the worker had not sent yet goes now; every message reached the server once.
    let drain = Worker::new(app.db.clone(), &app.settings).expect("worker");
    while drain.run_once().await.expect("deliver").claimed > 0 {}
    let queued = outbox_message::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    let sent = outbox_message::Entity::find()
        .filter(outbox_message::Column::Status.eq("sent"))
        .count(&app.db)
        .await
        .expect("count");
    assert!(queued >= 24, "24 applications received, at least: {queued}");
    assert_eq!((sent, server.messages().len() as u64), (queued, queued));
}
