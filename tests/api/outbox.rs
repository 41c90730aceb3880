//! Email through the outbox, delivered to a real SMTP server the test starts: the right
//! recipient, subject, language, amounts and Message-ID; one mail per dedupe key; nothing lost
//! while the server is down and nothing sent twice when it returns; failed after the last
//! attempt, listed, and delivered after an admin's retry; racing workers; a dead worker's lease.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate, Utc};
use coopfund::{
    config::Settings,
    mail::{
        notices,
        templates::{AmountsByComponent, DueReminder, OverdueNotice, PaymentReceipt},
        worker::Worker,
    },
    store::{
        self,
        entities::{audit_record, outbox_message},
    },
};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{json, Value};

use crate::{
    helpers::{cooperative_body, error_of, spawn_app_with, unique, TestApp, PASSWORD},
    smtp::{free_port, SmtpServer},
};

/// A service whose settings point the mail worker at `smtp_port`, and those settings.
async fn app_mailing_to(smtp_port: u16, adjust: impl FnOnce(&mut Settings)) -> (TestApp, Settings) {
    let mut captured = None;
    let app = spawn_app_with(|s| {
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = smtp_port;
        s.smtp.timeout_seconds = 5;
        s.mail.bank_account_number = "3900201001234".into();
        s.mail.reply_to = "tindung@quyhtx.example.vn".into();
        adjust(s);
        captured = Some(s.clone());
    })
    .await;
    let settings = captured.expect("settings");
    settings.validate().expect("test settings are valid");
    (app, settings)
}

/// An officer with an email address, and a cooperative in `lang` followed by that officer.
async fn cooperative_with_officer(app: &TestApp, lang: &str) -> (i64, String) {
    let officer_email = format!("{}@quyhtx.example.vn", unique("officer"));
    let officer: Value = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": unique("officer"), "password": PASSWORD, "role": "officer",
                    "full_name": "Trần Thị Bình", "email": officer_email}),
        )
        .await
        .json()
        .await
        .expect("officer");
    let mut body = cooperative_body(&unique("OB-"));
    body["language"] = json!(lang);
    body["officer_id"] = officer["id"].clone();
    body["email"] = json!(format!("{}@htx.example.vn", unique("htx")));
    let response = app
        .post("/api/v1/cooperatives", &app.admin_token, &body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let coop: Value = response.json().await.expect("cooperative");
    (coop["id"].as_i64().expect("id"), officer_email)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// DOMAIN.md §4 worked example 3: 11,100,000 paid on 2026-02-20, ten days late.
fn example_receipt() -> PaymentReceipt {
    PaymentReceipt {
        loan_number: "HTX-2026-000123".into(),
        value_date: date(2026, 2, 20),
        received_vnd: 11_100_000,
        allocated: AmountsByComponent {
            principal_vnd: 10_000_000,
            interest_vnd: 1_019_178,
            overdue_interest_vnd: 49_315,
            late_interest_vnd: 2_792,
        },
        advance_vnd: 28_715,
        outstanding_principal_vnd: 90_000_000,
        next_due: None,
        closing: None,
    }
}

fn reminder(loan_number: &str, due_date: NaiveDate, days_before: u32) -> DueReminder {
    DueReminder {
        loan_number: loan_number.into(),
        due_date,
        pay_by: due_date,
        days_before,
        amounts: AmountsByComponent {
            principal_vnd: 10_000_000,
            interest_vnd: 828_493,
            ..Default::default()
        },
        advance_vnd: 0,
    }
}

/// Queues `count` distinct T-7 reminders for the cooperative, one transaction each.
async fn queue_reminders(
    db: &DatabaseConnection,
    settings: &Settings,
    cooperative_id: i64,
    count: u32,
) {
    for i in 0..count {
        let txn = db.begin().await.expect("begin");
        let to = notices::audience_for_cooperative(&txn, cooperative_id)
            .await
            .expect("audience");
        let due = date(2026, 3, 10) + Duration::days(i64::from(i));
        let queued = notices::due_reminder(
            &txn,
            settings,
            &to,
            100 + i64::from(i),
            &reminder(&format!("HTX-2026-{i:06}"), due, 7),
        )
        .await
        .expect("queue");
        assert!(queued);
        txn.commit().await.expect("commit");
    }
}

async fn rows(db: &DatabaseConnection) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find()
        .order_by_asc(outbox_message::Column::Id)
        .all(db)
        .await
        .expect("rows")
}

#[tokio::test]
async fn an_enqueued_message_arrives_with_its_recipient_subject_language_amounts_and_message_id() {
    let server = SmtpServer::start();
    let (app, settings) = app_mailing_to(server.port, |_| {}).await;
    let (vi_coop, vi_officer) = cooperative_with_officer(&app, "vi").await;
    let (en_coop, en_officer) = cooperative_with_officer(&app, "en").await;

    let txn = app.db.begin().await.expect("begin");
    let to_vi = notices::audience_for_cooperative(&txn, vi_coop)
        .await
        .expect("audience");
    notices::payment_receipt(&txn, &settings, &to_vi, 1, 7, &example_receipt())
        .await
        .expect("receipt");
    let to_en = notices::audience_for_cooperative(&txn, en_coop)
        .await
        .expect("audience");
    let overdue = OverdueNotice {
        loan_number: "HTX-2026-000124".into(),
        due_date: date(2026, 2, 10),
        days_past_due: 10,
        earlier_unpaid_due_date: None,
        as_of: date(2026, 2, 20),
        overdue: AmountsByComponent {
            principal_vnd: 10_000_000,
            interest_vnd: 1_019_178,
            overdue_interest_vnd: 49_315,
            late_interest_vnd: 2_792,
        },
    };
    assert!(
        notices::overdue_notice(&txn, &settings, &to_en, 2, 10, &overdue)
            .await
            .expect("overdue")
    );
    txn.commit().await.expect("commit");

    let report = Worker::new(app.db.clone(), &settings)
        .expect("worker")
        .run_once()
        .await
        .expect("step");
    assert_eq!(
        (report.claimed, report.sent, report.retried, report.failed),
        (2, 2, 0, 0),
        "{report:?}"
    );

    let stored = rows(&app.db).await;
    let received = server.messages();
    assert_eq!(received.len(), 2, "{received:#?}");
    let receipt = received
        .iter()
        .find(|m| m.to.contains(&to_vi.email))
        .expect("the receipt arrived");
    assert_eq!(
        receipt.subject,
        "Biên nhận thanh toán khoản vay HTX-2026-000123: 11.100.000 đồng"
    );
    assert_eq!(receipt.content_language, "vi");
    assert_eq!(receipt.message_id, stored[0].message_id);
    assert!(
        receipt.from.contains(&settings.smtp.from_address),
        "{}",
        receipt.from
    );
    for expected in [
        "Kính gửi HTX Chè Tân Cương",
        "10.000.000 đồng",
        "1.019.178 đồng",
        "49.315 đồng",
        "2.792 đồng",
        "11.071.285 đồng",
        "28.715 đồng",
        "90.000.000 đồng",
        "20/02/2026",
        "Trần Thị Bình",
        vi_officer.as_str(),
    ] {
        assert!(
            receipt.body.contains(expected),
            "missing {expected:?} in:\n{}",
            receipt.body
        );
    }
    assert!(
        receipt.cc.is_empty(),
        "a receipt goes to the cooperative only"
    );

    let notice = received
        .iter()
        .find(|m| m.to.contains(&to_en.email))
        .expect("the overdue notice arrived");
    assert_eq!(
        notice.subject,
        "Overdue notice for loan HTX-2026-000124 (10 days past due)"
    );
    assert_eq!(notice.content_language, "en");
    assert_eq!(notice.message_id, stored[1].message_id);
    assert!(
        notice.cc.contains(&en_officer),
        "the officer gets a copy: {notice:?}"
    );
    assert!(
        notice.rcpt_to.contains(&en_officer),
        "the copy is in the envelope: {}",
        notice.rcpt_to
    );
    for expected in [
        "Dear HTX",
        "10 February 2026",
        "10,000,000 VND",
        "11,071,285 VND",
        "Account number: 3900201001234",
        "Reference:      HTX-2026-000124",
    ] {
        assert!(
            notice.body.contains(expected),
            "missing {expected:?} in:\n{}",
            notice.body
        );
    }
    assert!(
        stored
            .iter()
            .all(|r| r.status == "sent" && r.sent_at.is_some() && r.attempts == 1),
        "{stored:#?}"
    );
    assert!(
        stored[0].message_id.starts_with("<outbox-")
            && stored[0].message_id.ends_with("@coopfund>")
    );
}

#[tokio::test]
async fn the_same_dedupe_key_twice_is_one_row_and_one_mail() {
    let server = SmtpServer::start();
    let (app, settings) = app_mailing_to(server.port, |_| {}).await;
    let (coop, _) = cooperative_with_officer(&app, "vi").await;
    let due = date(2026, 3, 10);

    let txn = app.db.begin().await.expect("begin");
    let to = notices::audience_for_cooperative(&txn, coop)
        .await
        .expect("audience");
    assert!(notices::due_reminder(
        &txn,
        &settings,
        &to,
        42,
        &reminder("HTX-2026-000042", due, 7)
    )
    .await
    .expect("first"));
    assert!(!notices::due_reminder(
        &txn,
        &settings,
        &to,
        42,
        &reminder("HTX-2026-000042", due, 7)
    )
    .await
    .expect("duplicate"));
    // The duplicate did not abort the transaction (it would on PostgreSQL after a failed INSERT).
    assert!(notices::due_reminder(
        &txn,
        &settings,
        &to,
        42,
        &reminder("HTX-2026-000042", due, 1)
    )
    .await
    .expect("T-1"));
    txn.commit().await.expect("commit");
    // A rerun of the same day, in a later transaction.
    let txn = app.db.begin().await.expect("begin");
    assert!(!notices::due_reminder(
        &txn,
        &settings,
        &to,
        42,
        &reminder("HTX-2026-000042", due, 7)
    )
    .await
    .expect("rerun"));
    txn.commit().await.expect("commit");

    let stored = rows(&app.db).await;
    let keys: Vec<&str> = stored.iter().map(|r| r.dedupe_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "due_reminder:42:2026-03-10:T-7",
            "due_reminder:42:2026-03-10:T-1"
        ]
    );

    let worker = Worker::new(app.db.clone(), &settings).expect("worker");
    assert_eq!(worker.run_once().await.expect("step").sent, 2);
    assert_eq!(worker.run_once().await.expect("step").claimed, 0);
    let received = server.messages();
    assert_eq!(received.len(), 2, "{received:#?}");
    assert_eq!(
        received
            .iter()
            .filter(|m| m.body.contains("(còn 7 ngày)"))
            .count(),
        1
    );
    assert_eq!(
        received
            .iter()
            .filter(|m| m.body.contains("(còn 1 ngày)"))
            .count(),
        1
    );
}

#[tokio::test]
async fn while_smtp_is_down_nothing_is_lost_and_each_message_is_delivered_once_when_it_returns() {
    let port = free_port();
    let (app, settings) = app_mailing_to(port, |_| {}).await;
    let (coop, _) = cooperative_with_officer(&app, "vi").await;
    queue_reminders(&app.db, &settings, coop, 3).await;
    let worker = Worker::new(app.db.clone(), &settings).expect("worker");
    let t0 = Utc::now();

    let report = worker.run_once_at(t0).await.expect("step");
    assert_eq!(
        (report.claimed, report.retried, report.sent),
        (3, 3, 0),
        "{report:?}"
    );
    let after_first = rows(&app.db).await;
    assert!(
        after_first
            .iter()
            .all(|r| r.status == "pending" && r.attempts == 1 && r.last_error.is_some()),
        "{after_first:#?}"
    );
    // Back-off: not tried again before its time.
    assert_eq!(
        worker
            .run_once_at(t0 + Duration::seconds(10))
            .await
            .expect("step")
            .claimed,
        0
    );
    let report = worker
        .run_once_at(t0 + Duration::minutes(2))
        .await
        .expect("step");
    assert_eq!((report.claimed, report.retried), (3, 3), "{report:?}");
    assert!(rows(&app.db)
        .await
        .iter()
        .all(|r| r.status == "pending" && r.attempts == 2));

    let server = SmtpServer::start_on(port);
    let report = worker
        .run_once_at(t0 + Duration::hours(1))
        .await
        .expect("step");
    assert_eq!((report.claimed, report.sent), (3, 3), "{report:?}");
    assert_eq!(
        worker
            .run_once_at(t0 + Duration::hours(2))
            .await
            .expect("step")
            .claimed,
        0
    );

    let stored = rows(&app.db).await;
    assert!(
        stored.iter().all(|r| r.status == "sent" && r.attempts == 3),
        "{stored:#?}"
    );
    let received = server.messages();
    assert_eq!(received.len(), 3, "{received:#?}");
    let received_ids: HashSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    let stored_ids: HashSet<&str> = stored.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(
        received_ids, stored_ids,
        "each message once, with the Message-ID of its row"
    );
}

#[tokio::test]
async fn after_the_last_attempt_a_message_fails_is_listed_and_an_admin_retry_delivers_it() {
    let port = free_port();
    let (app, settings) = app_mailing_to(port, |s| s.outbox.max_attempts = 2).await;
    let (coop, _) = cooperative_with_officer(&app, "en").await;
    queue_reminders(&app.db, &settings, coop, 1).await;
    let worker = Worker::new(app.db.clone(), &settings).expect("worker");
    let t0 = Utc::now();
    assert_eq!(worker.run_once_at(t0).await.expect("step").retried, 1);
    assert_eq!(
        worker
            .run_once_at(t0 + Duration::hours(1))
            .await
            .expect("step")
            .failed,
        1
    );
    assert_eq!(
        worker
            .run_once_at(t0 + Duration::hours(2))
            .await
            .expect("step")
            .claimed,
        0,
        "a failed message rests"
    );

    let auditor = app.user_token("auditor", None).await;
    let page: Value = app
        .get("/api/v1/outbox?status=failed", &auditor)
        .await
        .json()
        .await
        .expect("page");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    let failed = &items[0];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["attempts"], 2);
    assert!(
        failed["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{failed}"
    );
    let id = failed["id"].as_i64().expect("id");
    let message_id = failed["message_id"]
        .as_str()
        .expect("message id")
        .to_string();
    let pending: Value = app
        .get("/api/v1/outbox?status=pending", &app.admin_token)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(pending["items"].as_array().map(Vec::len), Some(0));
    error_of(
        app.get("/api/v1/outbox?status=lost", &app.admin_token)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let retry = format!("/api/v1/outbox/{id}/retry");
    error_of(
        app.post(&retry, &auditor, &json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let response = app.post(&retry, &app.admin_token, &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let retried: Value = response.json().await.expect("view");
    assert_eq!(
        (retried["status"].as_str(), retried["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    let again = error_of(
        app.post(&retry, &app.admin_token, &json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "outbox_not_failed");
    error_of(
        app.post("/api/v1/outbox/999999/retry", &app.admin_token, &json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let audits = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("outbox.retry"))
        .filter(audit_record::Column::EntityId.eq(id.to_string()))
        .count(&app.db)
        .await
        .expect("audit");
    assert_eq!(audits, 1);

    let server = SmtpServer::start_on(port);
    assert_eq!(
        worker
            .run_once_at(t0 + Duration::hours(3))
            .await
            .expect("step")
            .sent,
        1
    );
    let received = server.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].message_id, message_id,
        "a retried message keeps its Message-ID"
    );
    assert_eq!(received[0].content_language, "en");
    let sent: Value = app
        .get("/api/v1/outbox?status=sent", &app.admin_token)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(sent["items"][0]["id"], id);
}

#[tokio::test]
async fn two_workers_racing_deliver_each_mail_exactly_once() {
    let server = SmtpServer::start();
    let (app, settings) = app_mailing_to(server.port, |s| s.outbox.batch_size = 4).await;
    let (coop, _) = cooperative_with_officer(&app, "vi").await;
    queue_reminders(&app.db, &settings, coop, 24).await;
    // Two instances: separate connection pools on one database.
    let other_pool = store::connect(&settings.database)
        .await
        .expect("second pool");
    let first = Worker::new(app.db.clone(), &settings).expect("worker");
    let second = Worker::new(other_pool, &settings).expect("worker");

    let (mut sent_by_first, mut sent_by_second) = (0, 0);
    for _ in 0..30 {
        let (a, b) = tokio::join!(first.run_once(), second.run_once());
        let (a, b) = (a.expect("first step"), b.expect("second step"));
        sent_by_first += a.sent;
        sent_by_second += b.sent;
        if a.claimed + b.claimed == 0 {
            break;
        }
    }
    assert_eq!(sent_by_first + sent_by_second, 24);
    assert!(
        sent_by_first > 0 && sent_by_second > 0,
        "both workers took part: {sent_by_first} + {sent_by_second}"
    );
    let received = server.messages();
    assert_eq!(received.len(), 24, "one mail per message");
    let ids: HashSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 24, "no message sent twice");
    assert!(rows(&app.db)
        .await
        .iter()
        .all(|r| r.status == "sent" && r.attempts == 1));
}

#[tokio::test]
async fn a_dead_workers_lease_is_taken_over_after_it_expires() {
    let server = SmtpServer::start();
    let (app, settings) = app_mailing_to(server.port, |s| s.outbox.max_attempts = 2).await;
    let (coop, _) = cooperative_with_officer(&app, "vi").await;
    queue_reminders(&app.db, &settings, coop, 2).await;
    let t0 = Utc::now();
    let lease_end = t0 + Duration::seconds(settings.outbox.lease_seconds as i64);
    // Worker "dead" claimed both and died: one on its first attempt, one on its last.
    for (row, attempts) in rows(&app.db).await.into_iter().zip([1, 2]) {
        let mut active = row.into_active_model();
        active.status = Set("sending".into());
        active.claim_token = Set(Some("dead".into()));
        active.attempts = Set(attempts);
        active.next_attempt_at = Set(lease_end);
        active.update(&app.db).await.expect("simulate a claim");
    }
    let worker = Worker::new(app.db.clone(), &settings).expect("worker");
    let report = worker
        .run_once_at(t0 + Duration::seconds(10))
        .await
        .expect("step");
    assert_eq!(
        (report.claimed, report.expired),
        (0, 0),
        "a live lease is respected: {report:?}"
    );
    assert!(server.messages().is_empty());

    let report = worker
        .run_once_at(lease_end + Duration::seconds(1))
        .await
        .expect("step");
    assert_eq!(
        (report.expired, report.claimed, report.sent),
        (1, 1, 1),
        "{report:?}"
    );
    let stored = rows(&app.db).await;
    assert_eq!((stored[0].status.as_str(), stored[0].attempts), ("sent", 2));
    assert_eq!(
        stored[1].status, "failed",
        "the last attempt's lease ran out: an admin decides"
    );
    assert_eq!(server.messages().len(), 1);
}
