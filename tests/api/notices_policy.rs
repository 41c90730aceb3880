//! The reminders-and-notices policy (DOMAIN.md §10) end to end, through the API, close of business
//! and a real SMTP server: every overdue notice copies the officer recorded on the loan; a notice the
//! day after each missed due date, also while an earlier one is unpaid, plus 10 and 30 DPD; no
//! reminder for an installment the advance covers in full; the receipt of the payment that settles
//! a loan says so with the loan's totals.

use coopfund::{mail::worker::Worker, store::entities::outbox_message};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::{
    helpers::{cooperative_body, spawn_app_with, unique, TestApp, PASSWORD},
    loan_fixtures::{active_loan, example_3, json_of, repay, run_cob, set_date, Staff, Terms},
    products::product_body,
    smtp::{ReceivedMail, SmtpServer},
};

/// A fund that may close simulated days from `start`, mailing through `smtp_port`.
async fn fund(start: &str, smtp_port: u16) -> TestApp {
    let start = start.to_string();
    spawn_app_with(move |s| {
        s.fund.start_business_date = start;
        s.cob.allow_future_dates = true;
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = smtp_port;
        s.smtp.timeout_seconds = 5;
        s.mail.bank_account_number = "3900201001234".into();
    })
    .await
}

/// An officer with an email address: (id, email, token).
async fn officer(app: &TestApp, full_name: &str) -> (i64, String, String) {
    let username = unique("officer");
    let email = format!("{username}@quyhtx.example.vn");
    let created = json_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": username, "password": PASSWORD, "role": "officer", "full_name": full_name, "email": email}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let token = app.login(&username, PASSWORD).await;
    (created["id"].as_i64().expect("id"), email, token)
}

/// A cooperative mailing in `lang`, followed by `officer_id` (or by nobody): (id, email).
async fn cooperative(app: &TestApp, lang: &str, officer_id: Option<i64>) -> (i64, String) {
    let email = format!("{}@htx.example.vn", unique("htx"));
    let mut body = cooperative_body(&unique("NP-"));
    body["language"] = json!(lang);
    body["email"] = json!(email);
    if let Some(id) = officer_id {
        body["officer_id"] = json!(id);
    }
    let coop = json_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    (coop["id"].as_i64().expect("id"), email)
}

/// Delivers everything due.
async fn deliver(app: &TestApp) {
    let worker = Worker::new(app.db.clone(), &app.settings).expect("worker");
    while worker.run_once().await.expect("deliver").claimed > 0 {}
}

/// The messages received whose subject contains `part`, in the order they were queued.
fn received(server: &SmtpServer, part: &str) -> Vec<ReceivedMail> {
    server
        .messages()
        .into_iter()
        .filter(|m| m.subject.contains(part))
        .collect()
}

/// The dedupe keys of loan `loan_id`'s outbox rows of `kind`, oldest first.
async fn keys(app: &TestApp, loan_id: i64, kind: &str) -> Vec<String> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq(kind))
        .filter(outbox_message::Column::RelatedId.eq(loan_id.to_string()))
        .order_by_asc(outbox_message::Column::Id)
        .all(&app.db)
        .await
        .expect("outbox")
        .into_iter()
        .map(|m| m.dedupe_key)
        .collect()
}

async fn loan_number(app: &TestApp, loan_id: i64) -> String {
    let loan = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    loan["number"].as_str().expect("number").to_string()
}

fn six_monthly(principal_vnd: i64) -> Terms {
    Terms {
        principal_vnd,
        rate_percent: "12",
        installments: 6,
        period_months: 1,
        method: "equal_principal",
        prepayment_rule: "shorten_term",
    }
}

fn assert_body_has(mail: &ReceivedMail, expected: &[&str]) {
    for text in expected {
        assert!(
            mail.body.contains(text),
            "missing {text:?} in {:?}:\n{}",
            mail.subject,
            mail.body
        );
    }
}

#[tokio::test]
async fn every_overdue_notice_copies_the_officer_recorded_on_the_loan_not_the_cooperatives() {
    let server = SmtpServer::start();
    let app = fund("2026-01-05", server.port).await;
    // A 12% product and the capital the lending limits are measured against.
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
    // The cooperative has no assigned officer, so the loan's officer is its appraiser.
    let (coop, coop_email) = cooperative(&app, "vi", None).await;
    let (_, _, clerk) = officer(&app, "Lê Văn Cường").await;
    let (appraiser_id, appraiser_email, appraiser) = officer(&app, "Trần Thị Bình").await;
    let approver = app.user_token("approver", None).await;
    let staff = Staff::new(&app).await;
    let application = json_of(
        app.post(
            "/api/v1/applications",
            &clerk,
            &json!({
                "product_id": product["id"], "cooperative_id": coop, "amount_vnd": 240_000_000i64,
                "installments": 6, "period_months": 1, "method": "equal_principal", "principal_grace": 0,
                "purpose": "Mua phân bón vụ chè xuân", "project_total_vnd": 480_000_000i64,
                "own_capital_vnd": 240_000_000i64, "collateral": [], "no_bad_debt_declared": true,
                "documents": []
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = application["id"].as_i64().expect("id");
    for (action, token, body) in [
        ("submit", &clerk, json!({})),
        (
            "appraise",
            &appraiser,
            json!({"note": "Khả thi", "recommendation": "approve"}),
        ),
    ] {
        json_of(
            app.post(&format!("/api/v1/applications/{id}/{action}"), token, &body)
                .await,
            StatusCode::OK,
        )
        .await;
    }
    let approved = json_of(
        app.post(
            &format!("/api/v1/applications/{id}/approve"),
            &approver,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let loan_id = approved["loan_id"].as_i64().expect("loan id");
    let loan = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(loan["officer_id"], appraiser_id, "{loan}");
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan_id}/sign"),
            &appraiser,
            &json!({"contract_number": unique("HĐ-"), "signed_on": "2026-01-05"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan_id}/disbursements"),
            &staff.accountant,
            &json!({"amount_vnd": 240_000_000i64, "value_date": "2026-01-05", "reference": "UNC 1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // Installment 1 (due 2026-02-05) is not paid: the notice of 2026-02-06 (1 day past due).
    run_cob(&app, "2026-02-05").await;
    // Then the cooperative gets an officer of its own; the loan keeps the one recorded on it.
    let (other_id, other_email, _) = officer(&app, "Phạm Văn Dũng").await;
    let current = json_of(
        app.get(&format!("/api/v1/cooperatives/{coop}"), &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    json_of(
        app.patch(
            &format!("/api/v1/cooperatives/{coop}"),
            &app.admin_token,
            &json!({"officer_id": other_id, "version": current["version"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // The notice of 2026-02-15 (10 days past due).
    run_cob(&app, "2026-02-14").await;
    deliver(&app).await;

    let number = loan_number(&app, loan_id).await;
    let mut notices = received(&server, "Thông báo nợ quá hạn");
    // The mailbox is a folder: its files come in no particular order.
    notices.sort_by(|a, b| a.subject.cmp(&b.subject));
    let subjects: Vec<&str> = notices.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            format!("Thông báo nợ quá hạn khoản vay {number} (1 ngày)"),
            format!("Thông báo nợ quá hạn khoản vay {number} (10 ngày)"),
        ],
        "{notices:#?}"
    );
    for notice in &notices {
        assert!(notice.to.contains(&coop_email), "{notice:?}");
        assert_eq!(
            notice.cc, appraiser_email,
            "the copy goes to the loan's officer: {notice:?}"
        );
        assert!(
            !notice.rcpt_to.contains(&other_email),
            "not to the cooperative's new officer: {notice:?}"
        );
        // 240,000,000 / 6 = 40,000,000 principal; 240,000,000 × 12% × 31/365 = 2,446,027.4 interest.
        assert_body_has(
            notice,
            &[
                "40.000.000 đồng",
                "2.446.027 đồng",
                "Trần Thị Bình",
                &appraiser_email,
            ],
        );
    }
}

#[tokio::test]
async fn a_notice_goes_out_the_day_after_each_missed_due_date_and_at_10_and_30_days_past_due() {
    let server = SmtpServer::start();
    let app = fund("2026-01-05", server.port).await;
    let staff = Staff::new(&app).await;
    let (officer_id, officer_email, _) = officer(&app, "Trần Thị Bình").await;
    let (coop, _) = cooperative(&app, "vi", Some(officer_id)).await;
    // 180,000,000 at 12%, 6 monthly (30,000,000 principal each), due on the 5th; nothing paid.
    let loan_id = active_loan(&app, &staff, coop, &six_monthly(180_000_000), "2026-01-05").await;
    run_cob(&app, "2026-03-05").await;
    // Closing 2026-03-05 again (a crash before the business date moved) queues nothing more.
    let queued = outbox_message::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    set_date(&app, "2026-03-05").await;
    run_cob(&app, "2026-03-05").await;
    let again = outbox_message::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(again, queued, "nothing is queued twice");
    run_cob(&app, "2026-03-11").await;
    deliver(&app).await;
    assert_eq!(
        server.messages().len() as u64,
        outbox_message::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        "each message reached the server once"
    );

    assert_eq!(
        keys(&app, loan_id, "overdue_notice").await,
        [
            format!("overdue_notice:{loan_id}:2026-02-05:DPD-1"), // queued on 02-06
            format!("overdue_notice:{loan_id}:2026-02-05:DPD-10"), // 02-15
            format!("overdue_notice:{loan_id}:2026-03-05:DPD-1"), // 03-06, 02-05 still unpaid
            format!("overdue_notice:{loan_id}:2026-02-05:DPD-30"), // 03-07
        ]
    );
    let number = loan_number(&app, loan_id).await;
    let notices = received(&server, "Thông báo nợ quá hạn");
    assert_eq!(notices.len(), 4, "{notices:#?}");
    assert!(
        notices.iter().all(|m| m.cc == officer_email),
        "{notices:#?}"
    );
    // The SMTP server's mailbox is not in sending order: find each notice by what it is about.
    let about = |due: &str, days: u32| -> &ReceivedMail {
        let found: Vec<&ReceivedMail> = notices
            .iter()
            .filter(|m| {
                m.subject == format!("Thông báo nợ quá hạn khoản vay {number} ({days} ngày)")
            })
            .filter(|m| {
                m.body
                    .contains(&format!("có kỳ trả nợ đến hạn ngày {due} chưa"))
            })
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one notice for {due} at {days} days: {notices:#?}"
        );
        found[0]
    };
    for (due, days) in [("05/02/2026", 1), ("05/02/2026", 10), ("05/02/2026", 30)] {
        assert!(
            !about(due, days).body.contains("cũng chưa được thanh toán"),
            "nothing earlier is unpaid"
        );
    }
    let second_miss = about("05/03/2026", 1);
    // Both installments: 2 × 30,000,000 principal; interest 180,000,000 × 12% × 31/365 = 1,834,521
    // and, on the 150,000,000 not yet due in February, × 28/365 = 1,380,822.
    assert_body_has(
        second_miss,
        &[
            "kỳ trả nợ đến hạn ngày 05/03/2026",
            "quá hạn 1 ngày",
            "Kỳ trả nợ đến hạn ngày 05/02/2026 cũng chưa được thanh toán đầy đủ (quá hạn 29 ngày)",
            "60.000.000 đồng",
            "3.215.343 đồng",
            "tính đến ngày 06/03/2026",
        ],
    );
}

#[tokio::test]
async fn no_reminder_for_an_installment_the_advance_covers_in_full_and_the_rest_for_one_it_covers_in_part(
) {
    let server = SmtpServer::start();
    let app = fund("2026-01-10", server.port).await;
    let staff = Staff::new(&app).await;
    let (officer_id, _, _) = officer(&app, "Trần Thị Bình").await;
    let (coop, coop_email) = cooperative(&app, "en", Some(officer_id)).await;
    // Worked example 3: 100,000,000 at 12%, 10 monthly equal principal; installment 1 (2026-02-10)
    // is 10,000,000 + 1,019,178, installment 2 (2026-03-10) 10,000,000 + 828,493.
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    run_cob(&app, "2026-01-19").await;
    // Paid early: installment 1 in full and 5,000,000 more, all held as an advance.
    let paid = json_of(
        repay(&app, &staff, loan_id, 16_019_178, "2026-01-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(paid["allocation"]["advance_vnd"], 16_019_178, "{paid}");
    run_cob(&app, "2026-03-08").await; // the mornings of T-7 and T-1 of both due dates
    deliver(&app).await;

    assert_eq!(
        keys(&app, loan_id, "due_reminder").await,
        [
            format!("due_reminder:{loan_id}:2026-03-10:T-7"),
            format!("due_reminder:{loan_id}:2026-03-10:T-1"),
        ],
        "none for 2026-02-10, which the advance covers in full"
    );
    let number = loan_number(&app, loan_id).await;
    let reminders = received(&server, "Payment reminder");
    assert_eq!(reminders.len(), 2, "{reminders:#?}");
    for reminder in &reminders {
        assert_eq!(
            reminder.subject,
            format!("Payment reminder for loan {number}: due on 10 March 2026")
        );
        assert!(reminder.to.contains(&coop_email), "{reminder:?}");
        // 5,000,000 of the advance is left for it after 2026-02-10 took 11,019,178.
        assert_body_has(
            reminder,
            &[
                "10,000,000 VND",
                "828,493 VND",
                "10,828,493 VND",
                "5,000,000 VND",
                "Please pay 5,828,493 VND on or before 10 March 2026",
            ],
        );
    }
    assert!(reminders
        .iter()
        .all(|m| !m.body.contains("Please pay 0 VND")));
}

#[tokio::test]
async fn the_receipt_of_the_payment_that_settles_a_loan_says_it_is_paid_off_with_the_loans_totals()
{
    let server = SmtpServer::start();
    let app = fund("2026-01-10", server.port).await;
    let staff = Staff::new(&app).await;
    let (officer_id, _, _) = officer(&app, "Trần Thị Bình").await;
    let (vi_coop, _) = cooperative(&app, "vi", Some(officer_id)).await;
    let (en_coop, _) = cooperative(&app, "en", Some(officer_id)).await;
    let mut loans = Vec::new();
    for coop in [vi_coop, en_coop] {
        loans.push(active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await);
    }
    // Installment 1 on time (10,000,000 + 1,019,178), then the payoff on 2026-02-20: 90,000,000 and
    // ten days of interest, 90,000,000 × 12% × 10/365 = 295,890.
    set_date(&app, "2026-02-10").await;
    for &loan_id in &loans {
        json_of(
            repay(&app, &staff, loan_id, 11_019_178, "2026-02-10", "ordinary").await,
            StatusCode::CREATED,
        )
        .await;
    }
    set_date(&app, "2026-02-20").await;
    for &loan_id in &loans {
        let payoff = json_of(
            app.get(&format!("/api/v1/loans/{loan_id}/payoff"), &app.admin_token)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(payoff["total_vnd"], 90_295_890, "{payoff}");
        json_of(
            repay(&app, &staff, loan_id, 90_295_890, "2026-02-20", "ordinary").await,
            StatusCode::CREATED,
        )
        .await;
    }
    deliver(&app).await;

    for (loan_id, lang) in loans.iter().copied().zip(["vi", "en"]) {
        let number = loan_number(&app, loan_id).await;
        let statement = json_of(
            app.get(
                &format!("/api/v1/loans/{loan_id}/statement"),
                &app.admin_token,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (
                statement["total_disbursed_vnd"].as_i64(),
                statement["total_principal_paid_vnd"].as_i64(),
                statement["total_interest_paid_vnd"].as_i64(),
                statement["total_received_vnd"].as_i64(),
            ),
            (
                Some(100_000_000),
                Some(100_000_000),
                Some(1_019_178 + 295_890),
                Some(101_315_068)
            ),
            "{statement}"
        );
        let receipts: Vec<ReceivedMail> = server
            .messages()
            .into_iter()
            .filter(|m| m.subject.contains(&number))
            .filter(|m| m.subject.contains("90.295.890") || m.subject.contains("90,295,890"))
            .collect();
        assert_eq!(receipts.len(), 1, "{receipts:#?}");
        let receipt = &receipts[0];
        if lang == "vi" {
            assert_eq!(
                receipt.subject,
                format!(
                    "Biên nhận thanh toán khoản vay {number}: 90.295.890 đồng - khoản vay đã tất toán"
                )
            );
            assert_body_has(
                receipt,
                &[
                    "khoản vay đã tất toán ngày 20/02/2026",
                    "Tổng giải ngân:",
                    "100.000.000 đồng",
                    "1.315.068 đồng",
                    "Tổng số tiền đã trả:",
                    "101.315.068 đồng",
                ],
            );
        } else {
            assert_eq!(
                receipt.subject,
                format!(
                    "Payment receipt for loan {number}: 90,295,890 VND - your loan is paid off"
                )
            );
            assert_body_has(
                receipt,
                &[
                    "your loan is paid off (closed on 20 February 2026)",
                    "Total disbursed:",
                    "100,000,000 VND",
                    "Interest paid:",
                    "1,315,068 VND",
                    "Total paid:",
                    "101,315,068 VND",
                ],
            );
            assert!(
                !receipt.body.contains("How to pay"),
                "nothing is left to pay: {}",
                receipt.body
            );
        }
    }
    // The receipt of the first payment, which left the loan open, says nothing of the kind.
    let first: Vec<ReceivedMail> = received(&server, "11,019,178 VND");
    assert_eq!(first.len(), 1, "{first:#?}");
    assert!(!first[0].subject.contains("paid off") && !first[0].body.contains("paid off"));
}
