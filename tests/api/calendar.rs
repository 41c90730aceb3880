//! The fund's calendar (issue 17, DOMAIN.md §4) through HTTP: an installment due on a day off may be
//! paid on the next business day without penalty; reminders name that day; no overdue notice inside
//! the on-time window; Tết; a change never rewrites a closed day. The default configuration is used:
//! Saturdays and Sundays off and Vietnam's public holidays of 2026 and 2027.
//!
//! Worked numbers (example 3's terms: 100,000,000 at 12%, equal principal, overdue × 1.5, late 10%):
//! - a 31-day first period bills interest round(100,000,000 × 12% × 31/365) = 1,019,178; 28 days 920,548;
//! - one day overdue: round(10,000,000 × 18% / 365) = 4,932 of overdue interest and
//!   round(1,019,178 × 10% / 365) = 279 of late interest.

use coopfund::store::entities::outbox_message;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

use crate::{
    helpers::{error_of, spawn_app_with, TestApp},
    loan_fixtures::{
        active_loan, assert_ledger_verifies, example_3, json_of, repay, run_cob, Staff,
    },
};

/// A fund that may close simulated days, starting on `start`.
async fn fund(start: &str) -> TestApp {
    let start = start.to_string();
    spawn_app_with(move |s| {
        s.fund.start_business_date = start;
        s.cob.allow_future_dates = true;
    })
    .await
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    json_of(app.get(path, &app.admin_token).await, StatusCode::OK).await
}

async fn loan(app: &TestApp, loan_id: i64) -> Value {
    get_json(app, &format!("/api/v1/loans/{loan_id}")).await
}

async fn payoff(app: &TestApp, loan_id: i64, date: &str) -> Value {
    get_json(app, &format!("/api/v1/loans/{loan_id}/payoff?date={date}")).await
}

/// The loan's queued messages of `kind` (`due_reminder`, `overdue_notice`).
async fn messages(app: &TestApp, loan_id: i64, kind: &str) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::DedupeKey.starts_with(format!("{kind}:{loan_id}:")))
        .all(&app.db)
        .await
        .expect("outbox")
}

async fn pay(app: &TestApp, staff: &Staff, loan_id: i64, amount_vnd: i64, on: &str) -> Value {
    let tx = json_of(
        repay(app, staff, loan_id, amount_vnd, on, "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    tx["allocation"].clone()
}

/// The first installment of the loan's schedule.
async fn first_installment(app: &TestApp, loan_id: i64) -> Value {
    get_json(app, &format!("/api/v1/loans/{loan_id}/schedule")).await["installments"][0].clone()
}

#[tokio::test]
async fn a_sunday_due_date_paid_on_monday_costs_nothing_and_sends_no_overdue_notice() {
    let app = fund("2026-05-28").await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    // Disbursed Thursday 2026-05-28: the first installment falls due on Sunday 2026-06-28.
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-05-28").await;
    let first = first_installment(&app, loan_id).await;
    assert_eq!(first["due_on"], "2026-06-28");
    assert_eq!(first["due_on_day_off"], true);
    assert_eq!(first["pay_by"], "2026-06-29");
    assert_eq!(first["interest_vnd"], 1_019_178);
    let second = get_json(&app, &format!("/api/v1/loans/{loan_id}/schedule")).await["installments"]
        [1]
    .clone();
    assert_eq!(second["due_on"], "2026-07-28");
    assert_eq!(second["due_on_day_off"], false);
    assert_eq!(second["pay_by"], "2026-07-28");
    // The disbursement notice names the next due date and the last day to pay it.
    let disbursed = messages(&app, loan_id, "disbursement").await;
    assert_eq!(disbursed.len(), 1);
    assert!(
        disbursed[0].body_text.contains("ngày 28/06/2026")
            && disbursed[0]
                .body_text
                .contains("chậm nhất trong ngày 29/06/2026"),
        "{}",
        disbursed[0].body_text
    );

    // The T-1 reminder (queued for Saturday 2026-06-27) names Monday as the last day to pay.
    run_cob(&app, "2026-06-28").await; // the business date is Monday 2026-06-29
    let reminders = messages(&app, loan_id, "due_reminder").await;
    assert_eq!(reminders.len(), 2, "T-7 and T-1");
    for reminder in &reminders {
        assert!(
            reminder
                .body_text
                .contains("chậm nhất trong ngày 29/06/2026"),
            "{}",
            reminder.body_text
        );
    }
    // Inside the on-time window: nothing overdue, no notice.
    let on_monday = loan(&app, loan_id).await;
    assert_eq!(on_monday["dpd"], 0);
    assert_eq!(on_monday["overdue_principal_vnd"], 0);
    assert!(messages(&app, loan_id, "overdue_notice").await.is_empty());

    let allocation = pay(&app, &staff, loan_id, 11_019_178, "2026-06-29").await;
    assert_eq!(allocation["overdue_principal_vnd"], 0);
    assert_eq!(allocation["overdue_interest_vnd"], 0);
    assert_eq!(allocation["late_interest_vnd"], 0);
    assert_eq!(allocation["interest_vnd"], 1_019_178);
    assert_eq!(allocation["principal_vnd"], 10_000_000);
    assert_eq!(allocation["advance_vnd"], 0);

    run_cob(&app, "2026-06-30").await;
    let after = loan(&app, loan_id).await;
    assert_eq!(after["dpd"], 0);
    assert_eq!(after["overdue_principal_vnd"], 0);
    assert_eq!(after["in_term_principal_vnd"], 90_000_000);
    assert!(messages(&app, loan_id, "overdue_notice").await.is_empty());
    let quote = payoff(&app, loan_id, "2026-07-01").await;
    assert_eq!(quote["overdue_interest_vnd"], 0);
    assert_eq!(quote["late_interest_vnd"], 0);
    assert_eq!(first_installment(&app, loan_id).await["status"], "paid");
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn a_sunday_due_date_paid_on_tuesday_costs_one_day_of_overdue_and_late_interest() {
    let app = fund("2026-05-28").await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-05-28").await;

    run_cob(&app, "2026-06-29").await; // the window ended with Monday; the business date is Tuesday
    let on_tuesday = loan(&app, loan_id).await;
    // DPD counts from the contractual due date (Sunday) once the window has passed.
    assert_eq!(on_tuesday["dpd"], 2);
    assert_eq!(on_tuesday["overdue_principal_vnd"], 10_000_000);
    // The day-after notice of that due date goes out the morning after the window (its key is the
    // day-after milestone, DPD-1, of that due date; the notice itself says 2 days past due).
    let notices = messages(&app, loan_id, "overdue_notice").await;
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert_eq!(
        notices[0].dedupe_key,
        format!("overdue_notice:{loan_id}:2026-06-28:DPD-1")
    );
    assert!(
        notices[0].body_text.contains("2 ngày") || notices[0].body_text.contains("2 days"),
        "{}",
        notices[0].body_text
    );

    // One day (Monday) of overdue and late interest.
    let quote = payoff(&app, loan_id, "2026-06-30").await;
    assert_eq!(quote["overdue_principal_vnd"], 10_000_000);
    assert_eq!(quote["unpaid_interest_vnd"], 1_019_178);
    assert_eq!(quote["overdue_interest_vnd"], 4_932);
    assert_eq!(quote["late_interest_vnd"], 279);
    let allocation = pay(&app, &staff, loan_id, 11_024_389, "2026-06-30").await;
    assert_eq!(allocation["overdue_principal_vnd"], 10_000_000);
    assert_eq!(allocation["unpaid_interest_vnd"], 1_019_178);
    assert_eq!(allocation["overdue_interest_vnd"], 4_932);
    assert_eq!(allocation["late_interest_vnd"], 279);
    assert_eq!(allocation["advance_vnd"], 0);

    run_cob(&app, "2026-07-01").await;
    let after = loan(&app, loan_id).await;
    assert_eq!(after["dpd"], 0);
    assert_eq!(after["overdue_principal_vnd"], 0);
    assert_eq!(messages(&app, loan_id, "overdue_notice").await.len(), 1);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn two_installments_due_during_tet_may_be_paid_after_it_without_penalty() {
    let app = fund("2026-01-16").await;
    let staff = Staff::new(&app).await;
    let coop_a = app.cooperative().await;
    let coop_b = app.cooperative().await;
    // Due Monday 2026-02-16 and Thursday 2026-02-19, inside Tết (14–22 February 2026).
    let loan_a = active_loan(&app, &staff, coop_a, &example_3(), "2026-01-16").await;
    let loan_b = active_loan(&app, &staff, coop_b, &example_3(), "2026-01-19").await;
    for (loan_id, due_on) in [(loan_a, "2026-02-16"), (loan_b, "2026-02-19")] {
        let first = first_installment(&app, loan_id).await;
        assert_eq!(first["due_on"], due_on);
        assert_eq!(first["due_on_day_off"], true);
        assert_eq!(first["pay_by"], "2026-02-23", "the Monday after Tết");
        assert_eq!(first["interest_vnd"], 1_019_178);
    }

    run_cob(&app, "2026-02-22").await; // the business date is Monday 2026-02-23
    for loan_id in [loan_a, loan_b] {
        let reminders = messages(&app, loan_id, "due_reminder").await;
        assert_eq!(reminders.len(), 2, "T-7 and T-1");
        assert!(reminders
            .iter()
            .all(|r| r.body_text.contains("chậm nhất trong ngày 23/02/2026")));
        let state = loan(&app, loan_id).await;
        assert_eq!(state["dpd"], 0);
        assert_eq!(state["overdue_principal_vnd"], 0);
        assert!(messages(&app, loan_id, "overdue_notice").await.is_empty());
    }

    // Loan A pays on the first business day after Tết: on time.
    let allocation = pay(&app, &staff, loan_a, 11_019_178, "2026-02-23").await;
    assert_eq!(allocation["overdue_interest_vnd"], 0);
    assert_eq!(allocation["late_interest_vnd"], 0);
    assert_eq!(allocation["interest_vnd"], 1_019_178);
    assert_eq!(allocation["principal_vnd"], 10_000_000);

    // Loan B does not: it is overdue from the contractual date, with one day (2026-02-23) of charges.
    run_cob(&app, "2026-02-23").await;
    assert_eq!(loan(&app, loan_a).await["dpd"], 0);
    assert!(messages(&app, loan_a, "overdue_notice").await.is_empty());
    let b = loan(&app, loan_b).await;
    assert_eq!(b["dpd"], 5);
    assert_eq!(b["overdue_principal_vnd"], 10_000_000);
    let notices = messages(&app, loan_b, "overdue_notice").await;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].dedupe_key,
        format!("overdue_notice:{loan_b}:2026-02-19:DPD-1")
    );
    let quote = payoff(&app, loan_b, "2026-02-24").await;
    assert_eq!(quote["overdue_interest_vnd"], 4_932);
    assert_eq!(quote["late_interest_vnd"], 279);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn a_holiday_entered_after_a_due_date_has_passed_changes_nothing_already_closed() {
    let app = fund("2026-02-10").await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    // Due Tuesday 2026-03-10 (28 days: interest 920,548), not paid.
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-02-10").await;
    run_cob(&app, "2026-03-11").await; // the business date is 2026-03-12
    let before = loan(&app, loan_id).await;
    assert_eq!(before["dpd"], 2);
    let quote_before = payoff(&app, loan_id, "2026-03-12").await;
    // Two days: round(10,000,000 × 18% × 2/365) = 9,863; round(920,548 × 10% × 2/365) = 504.
    assert_eq!(quote_before["overdue_interest_vnd"], 9_863);
    assert_eq!(quote_before["late_interest_vnd"], 504);
    let entries_before = coopfund::store::entities::journal_entry::Entity::find()
        .count(&app.db)
        .await
        .expect("count");

    for date in ["2026-03-10", "2026-03-11", "2026-03-12"] {
        let refused = app
            .post(
                "/api/v1/calendar/holidays",
                &app.admin_token,
                &json!({"date": date, "name": "Nghỉ đột xuất"}),
            )
            .await;
        let error = error_of(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["code"], "holiday_not_after_business_date", "{date}");
        assert_eq!(error["field"], "date");
    }
    let past_tet = app
        .client
        .delete(app.url("/api/v1/calendar/holidays/2026-02-17"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_of(past_tet, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "holiday_not_after_business_date"
    );
    let after = loan(&app, loan_id).await;
    assert_eq!(after["dpd"], 2);
    assert_eq!(after["overdue_principal_vnd"], 10_000_000);
    assert_eq!(payoff(&app, loan_id, "2026-03-12").await, quote_before);

    // A day after the business date may be entered, once; closing it changes no closed day.
    let added = json_of(
        app.post(
            "/api/v1/calendar/holidays",
            &app.admin_token,
            &json!({"date": "2026-03-13", "name": "Nghỉ đột xuất"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(added["source"], "admin");
    assert_eq!(added["entered_on_business_date"], "2026-03-12");
    let again = app
        .post(
            "/api/v1/calendar/holidays",
            &app.admin_token,
            &json!({"date": "2026-03-13", "name": "Nghỉ đột xuất"}),
        )
        .await;
    assert_eq!(
        error_of(again, StatusCode::CONFLICT).await["code"],
        "holiday_exists"
    );
    assert_eq!(payoff(&app, loan_id, "2026-03-12").await, quote_before);
    let entries_after = coopfund::store::entities::journal_entry::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(
        entries_after, entries_before,
        "nothing posted by the change"
    );
    run_cob(&app, "2026-03-13").await;
    assert_eq!(loan(&app, loan_id).await["dpd"], 4);
    assert_ledger_verifies(&app).await;

    let audit = get_json(
        &app,
        "/api/v1/audit?action=calendar.holiday_add&entity_id=2026-03-13",
    )
    .await;
    let items = audit["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(items[0]["actor"], "admin");
    assert_eq!(items[0]["after"]["name"], "Nghỉ đột xuất");
}

#[tokio::test]
async fn an_admin_removes_a_future_holiday_and_everyone_reads_the_calendar() {
    let app = fund("2026-03-12").await;
    let removed = json_of(
        app.client
            .delete(app.url("/api/v1/calendar/holidays/2026-04-30"))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .expect("request"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(removed["in_force"], false);
    let missing = app
        .client
        .delete(app.url("/api/v1/calendar/holidays/2026-04-30"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    error_of(missing, StatusCode::NOT_FOUND).await;
    let malformed = app
        .client
        .delete(app.url("/api/v1/calendar/holidays/30-04-2026"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_of(malformed, StatusCode::BAD_REQUEST).await["field"],
        "date"
    );

    let coop = app.cooperative().await;
    let member = app.user_token("cooperative", Some(coop)).await;
    let calendar = json_of(
        app.get("/api/v1/calendar?from=2026-04-24&to=2026-05-03", &member)
            .await,
        StatusCode::OK,
    )
    .await;
    let days: Vec<(String, Option<String>, String)> = calendar["days_off"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["date"].as_str().expect("date").to_string(),
                d["holiday"].as_str().map(str::to_string),
                d["pay_by"].as_str().expect("pay_by").to_string(),
            )
        })
        .collect();
    let hung_kings = Some("Giỗ Tổ Hùng Vương / Hung Kings' Commemoration".to_string());
    assert_eq!(
        days,
        vec![
            ("2026-04-25".into(), None, "2026-04-28".into()),
            ("2026-04-26".into(), hung_kings, "2026-04-28".into()),
            (
                "2026-04-27".into(),
                Some("Nghỉ bù Giỗ Tổ Hùng Vương / Hung Kings' Commemoration (compensatory)".into()),
                "2026-04-28".into()
            ),
            // 30/4 was removed: a Thursday the fund now works.
            (
                "2026-05-01".into(),
                Some("Quốc tế Lao động / International Labour Day".into()),
                "2026-05-04".into()
            ),
            ("2026-05-02".into(), None, "2026-05-04".into()),
            ("2026-05-03".into(), None, "2026-05-04".into()),
        ]
    );
    assert_eq!(
        calendar["weekly_rules"][0]["days_off"],
        json!(["saturday", "sunday"])
    );
    let removed_listed = calendar["holidays"]
        .as_array()
        .expect("holidays")
        .iter()
        .find(|h| h["date"] == "2026-04-30")
        .expect("kept")
        .clone();
    assert_eq!(removed_listed["in_force"], false);

    let reversed = app
        .get("/api/v1/calendar?from=2026-05-03&to=2026-04-24", &member)
        .await;
    assert_eq!(
        error_of(reversed, StatusCode::BAD_REQUEST).await["field"],
        "to"
    );
    let too_long = app
        .get("/api/v1/calendar?from=2026-01-01&to=2029-01-01", &member)
        .await;
    error_of(too_long, StatusCode::BAD_REQUEST).await;
    let by_member = app
        .post(
            "/api/v1/calendar/holidays",
            &member,
            &json!({"date": "2026-12-31", "name": "x"}),
        )
        .await;
    error_of(by_member, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn new_weekly_days_off_in_the_configuration_apply_only_after_the_business_date() {
    let app = fund("2026-02-10").await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    active_loan(&app, &staff, coop, &example_3(), "2026-02-10").await;
    crate::loan_fixtures::set_date(&app, "2026-03-12").await;
    let mut settings = app.settings.clone();
    settings.calendar.weekly_days_off = vec!["sunday".into()];
    coopfund::app::calendar::seed(&app.db, &settings)
        .await
        .expect("seed");
    // Starting again with the same configuration changes nothing more.
    coopfund::app::calendar::seed(&app.db, &settings)
        .await
        .expect("seed again");
    let calendar = get_json(&app, "/api/v1/calendar?from=2026-03-07&to=2026-03-15").await;
    assert_eq!(
        calendar["weekly_rules"],
        json!([
            {"effective_from": "1900-01-01", "days_off": ["saturday", "sunday"]},
            {"effective_from": "2026-03-13", "days_off": ["sunday"]},
        ])
    );
    let days: Vec<&str> = calendar["days_off"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["date"].as_str().expect("date"))
        .collect();
    // Saturday 2026-03-07 (closed) stays a day off; Saturday 2026-03-14 is now worked.
    assert_eq!(days, ["2026-03-07", "2026-03-08", "2026-03-15"]);
    let audit = get_json(&app, "/api/v1/audit?action=calendar.weekly_days_off").await;
    assert_eq!(
        audit["items"].as_array().expect("items").len(),
        2,
        "{audit}"
    );
}
