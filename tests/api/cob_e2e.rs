//! Close of business end to end (DOMAIN.md §4, §8-§10): worked example 3 driven by COB, month-end
//! provisions and the portfolio report, a day closed twice posting and mailing nothing more, the
//! reminders delivered through a real SMTP server, and two instances running COB at once.

use std::collections::HashSet;

use coopfund::{
    mail::worker::Worker,
    store::entities::{cob_run, journal_entry, outbox_message},
};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{json, Value};

use crate::{
    helpers::{cooperative_body, spawn_app_with, unique, TestApp, PASSWORD},
    loan_fixtures::{
        active_loan, assert_ledger_verifies, example_3, json_of, repay, run_cob, set_date, Staff,
    },
    smtp::SmtpServer,
};

/// A fund that may close simulated days, starting on 2026-01-10; `smtp_port` for the mail worker.
pub(crate) async fn fund(smtp_port: Option<u16>) -> TestApp {
    spawn_app_with(|s| {
        s.fund.start_business_date = "2026-01-10".into();
        s.cob.allow_future_dates = true;
        if let Some(port) = smtp_port {
            s.smtp.host = "127.0.0.1".into();
            s.smtp.port = port;
            s.smtp.timeout_seconds = 5;
            s.mail.bank_account_number = "3900201001234".into();
        }
    })
    .await
}

/// A cooperative mailing in `lang`, followed by an officer with an email address; (id, officer email).
async fn cooperative_with_officer(app: &TestApp, lang: &str) -> (i64, String, String) {
    let officer_email = format!("{}@quyhtx.example.vn", unique("officer"));
    let officer: Value = json_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": unique("officer"), "password": PASSWORD, "role": "officer", "full_name": "Trần Thị Bình", "email": officer_email}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let email = format!("{}@htx.example.vn", unique("htx"));
    let mut body = cooperative_body(&unique("CB-"));
    body["language"] = json!(lang);
    body["officer_id"] = officer["id"].clone();
    body["email"] = json!(email);
    let coop = json_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::CREATED,
    )
    .await;
    (coop["id"].as_i64().expect("id"), email, officer_email)
}

pub(crate) async fn loan(app: &TestApp, loan_id: i64) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await
}

/// The balance of `code` on the trial balance, and whether it balances.
pub(crate) async fn trial_balance(app: &TestApp) -> Value {
    let tb = json_of(
        app.get("/api/v1/ledger/trial-balance", &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tb["balanced"], true, "{tb}");
    tb
}

pub(crate) fn balance(tb: &Value, code: &str) -> i64 {
    tb["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["code"] == code)
        .expect("account")["balance_vnd"]
        .as_i64()
        .expect("balance")
}

async fn counts(app: &TestApp) -> (u64, u64) {
    (
        journal_entry::Entity::find()
            .count(&app.db)
            .await
            .expect("entries"),
        outbox_message::Entity::find()
            .count(&app.db)
            .await
            .expect("outbox"),
    )
}

#[tokio::test]
async fn worked_example_3_driven_by_cob_allocates_exactly_then_applies_the_advance_on_the_next_due_date(
) {
    let app = fund(None).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;

    run_cob(&app, "2026-02-19").await;
    let before = loan(&app, loan_id).await;
    assert_eq!(
        (before["dpd"].as_i64(), before["debt_group"].as_i64()),
        (Some(10), Some(2)),
        "{before}"
    );
    assert_eq!(before["overdue_principal_vnd"], 10_000_000);

    let paid = json_of(
        repay(&app, &staff, loan_id, 11_100_000, "2026-02-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    let allocation = &paid["allocation"];
    assert_eq!(
        allocation["overdue_principal_vnd"], 10_000_000,
        "{allocation}"
    );
    assert_eq!(allocation["unpaid_interest_vnd"], 1_019_178, "{allocation}");
    assert_eq!(allocation["overdue_interest_vnd"], 49_315, "{allocation}");
    assert_eq!(allocation["late_interest_vnd"], 2_792, "{allocation}");
    assert_eq!(allocation["advance_vnd"], 28_715, "{allocation}");

    run_cob(&app, "2026-03-10").await;
    let after = loan(&app, loan_id).await;
    assert_eq!(
        after["advance_vnd"], 0,
        "the advance was applied on 2026-03-10: {after}"
    );
    assert_eq!(after["in_term_principal_vnd"], 80_000_000, "{after}");
    assert_eq!(
        after["overdue_principal_vnd"], 10_000_000,
        "installment 2's principal is unpaid: {after}"
    );
    assert_eq!(
        (after["dpd"].as_i64(), after["debt_group"].as_i64()),
        (Some(1), Some(1)),
        "{after}"
    );
    let schedule = json_of(
        app.get(
            &format!("/api/v1/loans/{loan_id}/schedule"),
            &app.admin_token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let second = &schedule["installments"][1];
    assert_eq!(
        (
            second["interest_vnd"].as_i64(),
            second["paid_interest_vnd"].as_i64()
        ),
        (Some(828_493), Some(28_715)),
        "{second}"
    );

    let tb = trial_balance(&app).await;
    assert_eq!(balance(&tb, "12831"), 80_000_000);
    assert_eq!(balance(&tb, "12832"), 10_000_000);
    assert_eq!(balance(&tb, "3388"), 0);
    assert_eq!(balance(&tb, "51512"), 49_315 + 2_792);
    // Month ends 2026-01-31 and 2026-02-28: general provision 0.5% of groups 1-4, i.e. of 90,000,000 at the
    // end of February; the specific provision of a group-1 loan is 0.
    assert_eq!(balance(&tb, "22932"), 450_000);
    assert_eq!(balance(&tb, "22931"), 0);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn month_end_posts_specific_and_general_provisions_and_the_portfolio_report_shows_them() {
    let app = fund(None).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    // Nothing paid: on 2026-02-28 the loan is 18 days past due, group 2 (2% specific provision).
    run_cob(&app, "2026-02-28").await;
    let tb = trial_balance(&app).await;
    assert_eq!(
        balance(&tb, "22931"),
        2_000_000,
        "2% × 100,000,000 without collateral"
    );
    assert_eq!(
        balance(&tb, "22932"),
        500_000,
        "0.5% × 100,000,000 (group 2 counts)"
    );
    assert_eq!(balance(&tb, "6426"), 2_500_000);
    let report = json_of(
        app.get("/api/v1/reports/portfolio", &staff.auditor).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        report["total_outstanding_principal_vnd"], 100_000_000,
        "{report}"
    );
    assert_eq!(report["groups"][1]["debt_group"], 2);
    assert_eq!(
        report["groups"][1]["outstanding_principal_vnd"],
        100_000_000
    );
    assert_eq!(report["groups"][1]["specific_provision_vnd"], 2_000_000);
    assert_eq!(report["specific_provision_vnd"], 2_000_000);
    assert_eq!(report["general_provision_vnd"], 500_000);
    assert_eq!(report["bad_debt_principal_vnd"], 0);
    assert_eq!(report["bad_debt_ratio_percent"], "0.00", "{report}");
    // Before the first month end nothing was provisioned.
    let january = json_of(
        app.get("/api/v1/reports/portfolio?date=2026-01-30", &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            january["specific_provision_vnd"].as_i64(),
            january["general_provision_vnd"].as_i64()
        ),
        (Some(0), Some(0))
    );
    // Paid back to current on 2026-03-01; the next month end releases the specific provision.
    let payoff = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}/payoff"), &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    let owed = payoff["overdue_principal_vnd"].as_i64().unwrap()
        + payoff["unpaid_interest_vnd"].as_i64().unwrap()
        + payoff["overdue_interest_vnd"].as_i64().unwrap()
        + payoff["late_interest_vnd"].as_i64().unwrap();
    // … plus installment 2 (10,000,000 + 828,493) and a little more, held as an advance until 2026-03-10.
    json_of(
        repay(
            &app,
            &staff,
            loan_id,
            owed + 10_928_493,
            "2026-03-01",
            "ordinary",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    run_cob(&app, "2026-03-31").await;
    let tb = trial_balance(&app).await;
    assert_eq!(
        balance(&tb, "22931"),
        0,
        "group 1 again: the specific provision is released (Dr 22931 / Cr 6426)"
    );
    assert_eq!(balance(&tb, "22932"), 400_000, "0.5% × 80,000,000");
    let denied = app
        .get(
            "/api/v1/reports/portfolio",
            &app.user_token("cooperative", Some(coop)).await,
        )
        .await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_ledger_verifies(&app).await;
}

/// Closes `date` (and any day before it), then closes `date` again as after a crash before the business
/// date moved; asserts the second close posted and queued nothing.
pub(crate) async fn close_twice(app: &TestApp, date: &str) {
    run_cob(app, date).await;
    let (entries, mails) = counts(app).await;
    set_date(app, date).await;
    let again = run_cob(app, date).await;
    assert_eq!(again["runs"].as_array().map(Vec::len), Some(1), "{again}");
    assert_eq!(
        (
            again["runs"][0]["entries_posted"].as_i64(),
            again["runs"][0]["notices_queued"].as_i64()
        ),
        (Some(0), Some(0)),
        "{again}"
    );
    assert_eq!(
        counts(app).await,
        (entries, mails),
        "closing {date} again posted or queued something"
    );
}

#[tokio::test]
async fn closing_a_day_again_after_a_crash_before_the_date_moved_posts_and_mails_nothing_more() {
    let app = fund(None).await;
    let staff = Staff::new(&app).await;
    let (coop, _, _) = cooperative_with_officer(&app, "vi").await;
    active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    close_twice(&app, "2026-01-31").await; // a month end: specific and general provisions
    let (_, mails) = counts(&app).await;
    // T-7 before 2026-02-10: a reminder, and the daily digest of the loan's officer (approval
    // gave the loan the cooperative's officer).
    close_twice(&app, "2026-02-02").await;
    assert_eq!(
        counts(&app).await.1,
        mails + 2,
        "the T-7 reminder and the officer's digest were queued once"
    );
    let runs = cob_run::Entity::find().count(&app.db).await.expect("runs");
    assert_eq!(
        runs,
        22 + 1 + 2 + 1,
        "2026-01-10 … 2026-02-02 and the two repeated closes"
    );
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn cob_reminders_reach_the_cooperative_through_smtp_t7_t1_and_the_overdue_notice_copies_the_officer(
) {
    let server = SmtpServer::start();
    let app = fund(Some(server.port)).await;
    let staff = Staff::new(&app).await;
    let (coop, coop_email, officer_email) = cooperative_with_officer(&app, "vi").await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let number = loan(&app, loan_id).await["number"]
        .as_str()
        .expect("number")
        .to_string();
    let worker = Worker::new(app.db.clone(), &app.settings).expect("worker");
    let reminders = |subject_part: &str| {
        server
            .messages()
            .into_iter()
            .filter(|m| m.subject.contains(subject_part))
            .collect::<Vec<_>>()
    };

    run_cob(&app, "2026-02-02").await; // the business date is 2026-02-03: T-7
    worker.run_once().await.expect("deliver");
    let t7 = reminders("Nhắc lịch trả nợ");
    assert_eq!(t7.len(), 1, "{t7:#?}");
    assert_eq!(
        t7[0].subject,
        format!("Nhắc lịch trả nợ khoản vay {number}: đến hạn ngày 10/02/2026")
    );
    assert!(
        t7[0].to.contains(&coop_email) && t7[0].content_language == "vi",
        "{:?}",
        t7[0]
    );
    for expected in [
        "(còn 7 ngày)",
        "10.000.000 đồng",
        "1.019.178 đồng",
        "11.019.178 đồng",
        "3900201001234",
    ] {
        assert!(
            t7[0].body.contains(expected),
            "missing {expected:?} in:\n{}",
            t7[0].body
        );
    }

    // The VietQR code rides inline (issue 10 §4): the HTML shows it by its Content-ID, and the PNG
    // decodes (rqrr) to a payload asking the amount left to pay, to the fund's account, naming the loan.
    assert_eq!(
        qr_payload_amount(&t7[0], &number, &app),
        11_019_178,
        "the T-7 code asks for the installment"
    );
    assert!(t7[0].body.contains("VietQR"), "{}", t7[0].body);

    run_cob(&app, "2026-02-08").await; // 2026-02-09: T-1
    worker.run_once().await.expect("deliver");
    let reminders_now = reminders("Nhắc lịch trả nợ");
    assert_eq!(reminders_now.len(), 2);
    assert!(reminders_now
        .iter()
        .any(|m| m.body.contains("(còn 1 ngày)")));

    run_cob(&app, "2026-02-10").await; // 2026-02-11: 1 day past due
    worker.run_once().await.expect("deliver");
    let overdue = reminders("Thông báo nợ quá hạn");
    assert_eq!(overdue.len(), 1, "{overdue:#?}");
    assert_eq!(
        overdue[0].subject,
        format!("Thông báo nợ quá hạn khoản vay {number} (1 ngày)")
    );
    assert!(
        overdue[0].cc.contains(&officer_email),
        "the officer gets a copy: {:?}",
        overdue[0]
    );
    assert!(
        overdue[0].body.contains("10.000.000 đồng") && overdue[0].body.contains("1.019.178 đồng"),
        "{}",
        overdue[0].body
    );
    assert_eq!(
        qr_payload_amount(&overdue[0], &number, &app),
        outbox_overdue_total(&overdue[0].body),
        "the overdue notice's code asks for the overdue total it shows"
    );
    let ids: HashSet<String> = server
        .messages()
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(ids.len(), server.messages().len(), "no message twice");
}

/// The amount the VietQR code of `mail` asks for, after checking the code is an inline PNG the HTML
/// shows and that its payload pays the fund's configured account with the loan number as the message.
fn qr_payload_amount(mail: &crate::smtp::ReceivedMail, number: &str, app: &TestApp) -> i64 {
    assert_eq!(mail.images.len(), 1, "one image: {:?}", mail.subject);
    let image = &mail.images[0];
    assert_eq!(image.content_type, "image/png");
    assert_eq!(image.disposition, "inline");
    assert!(
        mail.html.contains(&format!("cid:{}", image.content_id)),
        "the HTML shows the code: {}",
        mail.html
    );
    let payload = crate::payment_qr::decode_png(&image.bytes());
    crate::payment_qr::assert_vietqr_to(
        &payload,
        &app.settings.mail.bank_bin,
        &app.settings.mail.bank_account_number,
        number,
    )
}

/// The total of the overdue amounts a notice's text shows (`Tổng cộng: 11.071.285 đồng`).
fn outbox_overdue_total(body: &str) -> i64 {
    let line = body
        .lines()
        .find(|l| l.trim_start().starts_with("Tổng"))
        .unwrap_or_else(|| panic!("no total in {body}"));
    line.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a total")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_running_cob_at_once_close_each_day_once_and_deliver_each_mail_once() {
    let server = SmtpServer::start();
    let first = fund(Some(server.port)).await;
    let second = first.second_instance().await;
    let staff = Staff::new(&first).await;
    let (coop, _, _) = cooperative_with_officer(&first, "en").await;
    for _ in 0..2 {
        active_loan(&first, &staff, coop, &example_3(), "2026-01-10").await;
    }
    let body = json!({"through": "2026-02-12"});
    let (a, b) = tokio::join!(
        first.post("/api/v1/cob/run", &first.admin_token, &body),
        second.post("/api/v1/cob/run", &second.admin_token, &body)
    );
    let (a, b): (Value, Value) = (
        json_of(a, StatusCode::OK).await,
        json_of(b, StatusCode::OK).await,
    );
    let closed =
        a["runs"].as_array().map_or(0, Vec::len) + b["runs"].as_array().map_or(0, Vec::len);
    assert_eq!(
        closed, 34,
        "2026-01-10 … 2026-02-12 closed once between them: {a} {b}"
    );
    let runs = cob_run::Entity::find()
        .order_by_asc(cob_run::Column::Id)
        .all(&first.db)
        .await
        .expect("runs");
    let dates: HashSet<_> = runs.iter().map(|r| r.business_date).collect();
    assert_eq!((dates.len(), runs.len()), (34, 34), "each date closed once");

    let workers = [
        Worker::new(first.db.clone(), &first.settings).expect("worker"),
        Worker::new(second.db.clone(), &second.settings).expect("worker"),
    ];
    for _ in 0..10 {
        let (x, y) = tokio::join!(workers[0].run_once(), workers[1].run_once());
        if x.expect("first worker").claimed + y.expect("second worker").claimed == 0 {
            break;
        }
    }
    let stored = outbox_message::Entity::find()
        .all(&first.db)
        .await
        .expect("outbox");
    // Per loan: disbursement notice, T-7, T-1, DPD 1 overdue notice; besides them each
    // application's receipt and decision and the officer's daily digests.
    let keys: Vec<&str> = stored.iter().map(|m| m.dedupe_key.as_str()).collect();
    let loan_mails = keys
        .iter()
        .filter(|k| !k.starts_with("application_") && !k.starts_with("officer_digest:"))
        .count();
    assert_eq!(loan_mails, 8, "{keys:#?}");
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        keys.len(),
        "{keys:#?}"
    );
    assert!(stored.iter().all(|m| m.status == "sent"));
    let received = server.messages();
    assert_eq!(received.len(), stored.len(), "each mail once");
    let ids: HashSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), stored.len());
    assert_ledger_verifies(&first).await;
}
