//! Issue 16 through the API: a restructuring forgives nothing unless it says so with an amount (DOMAIN.md §7),
//! and its new schedule starts after the business date.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, TestApp};
use crate::loan_fixtures::{
    active_loan, assert_ledger_verifies, json_of, repay, set_date, Staff, Terms,
};

fn terms(principal_vnd: i64, installments: i32) -> Terms {
    Terms {
        principal_vnd,
        rate_percent: "12",
        installments,
        period_months: 1,
        method: "equal_principal",
        prepayment_rule: "shorten_term",
    }
}

async fn payoff(app: &TestApp, staff: &Staff, loan_id: i64) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{loan_id}/payoff"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn loan(app: &TestApp, staff: &Staff, loan_id: i64) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn statement(app: &TestApp, staff: &Staff, loan_id: i64) -> Value {
    json_of(
        app.get(
            &format!("/api/v1/loans/{loan_id}/statement"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

async fn restructure(
    app: &TestApp,
    staff: &Staff,
    loan_id: i64,
    body: &Value,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/loans/{loan_id}/restructure"),
        &staff.approver,
        body,
    )
    .await
}

/// [`restructure`] asked in English (`Accept-Language: en`).
async fn restructure_in_english(
    app: &TestApp,
    staff: &Staff,
    loan_id: i64,
    body: &Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/loans/{loan_id}/restructure")))
        .bearer_auth(&staff.approver)
        .header("accept-language", "en")
        .json(body)
        .send()
        .await
        .expect("request")
}

fn vnd(value: &Value, field: &str) -> i64 {
    value[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {value}"))
}

async fn trial_balance_of(app: &TestApp, code: &str) -> i64 {
    let tb = json_of(
        app.get("/api/v1/ledger/trial-balance", &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tb["balanced"], true, "{tb}");
    tb["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["code"] == code)
        .map_or(0, |a| vnd(a, "balance_vnd"))
}

const EXTENSION: &str = r#"{"kind": "extension", "first_due_on": "2026-04-05", "installments": 6,
    "value_date": "2026-02-25", "reason": "mất mùa do hạn hán"}"#;

/// The issue's reproduction: 150,000,000 at 12%, equal principal, 6 monthly from 2026-01-05; installment 1 unpaid;
/// extended on 2026-02-25. The payoff keeps the 1,528,767 of unpaid interest, paying the old short quote does not
/// close the loan, and the full quote collects it.
#[tokio::test]
async fn a_restructuring_without_a_reduction_leaves_the_payoff_unchanged_and_the_loan_open_until_all_is_paid(
) {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &terms(150_000_000, 6), "2026-01-05").await;
    set_date(&app, "2026-02-25").await;
    let before = payoff(&app, &staff, loan_id).await;
    assert_eq!(vnd(&before, "total_vnd"), 152_605_637);
    let body: Value = serde_json::from_str(EXTENSION).expect("json");
    json_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::CREATED,
    )
    .await;
    let after = payoff(&app, &staff, loan_id).await;
    assert_eq!(
        vnd(&after, "total_vnd"),
        152_605_637,
        "nothing was forgiven: {after}"
    );
    assert_eq!(vnd(&after, "restructured_interest_vnd"), 1_528_767);

    set_date(&app, "2026-02-26").await;
    let quote = payoff(&app, &staff, loan_id).await;
    assert_eq!(vnd(&quote, "total_vnd"), 151_126_185 + 1_528_767);
    // The quote the old version gave: the loan stays open, the rest is still owed.
    json_of(
        repay(&app, &staff, loan_id, 151_126_185, "2026-02-26", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    let view = loan(&app, &staff, loan_id).await;
    assert_eq!(view["status"], "active", "{view}");
    let rest = payoff(&app, &staff, loan_id).await;
    assert_eq!(vnd(&rest, "total_vnd"), 1_528_767, "{rest}");
    json_of(
        repay(&app, &staff, loan_id, 1_528_767, "2026-02-26", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(loan(&app, &staff, loan_id).await["status"], "closed");
    let statement = statement(&app, &staff, loan_id).await;
    assert_eq!(vnd(&statement, "total_received_vnd"), 152_654_952);
    assert_eq!(vnd(&statement, "total_principal_paid_vnd"), 150_000_000);
    assert_eq!(
        vnd(&statement, "total_interest_paid_vnd")
            + vnd(&statement, "total_overdue_interest_paid_vnd")
            + vnd(&statement, "total_late_interest_paid_vnd"),
        2_654_952
    );
    assert_eq!(vnd(&statement, "total_interest_reduced_vnd"), 0);
    // Nothing is left receivable, on or off balance, and nothing was booked as forgiven.
    assert_eq!(trial_balance_of(&app, "13881").await, 0);
    assert_eq!(trial_balance_of(&app, "0041").await, 0);
    assert_eq!(trial_balance_of(&app, "0043").await, 0);
    assert_ledger_verifies(&app).await;
}

/// Only an explicit amount lowers what is owed: the payoff falls by exactly it, the statement shows it, and the
/// books carry it on 0043 (memo) while the receivable falls.
#[tokio::test]
async fn an_interest_reduction_lowers_the_payoff_by_exactly_its_amount_and_is_booked_on_its_own_account(
) {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &terms(150_000_000, 6), "2026-01-05").await;
    set_date(&app, "2026-02-25").await;
    let before = payoff(&app, &staff, loan_id).await;
    let mut body: Value = serde_json::from_str(EXTENSION).expect("json");

    // A reduction without an amount is refused, in both languages, and nothing is written.
    body["interest_reduced"] = json!(true);
    let error = error_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "interest_reduction_amount_required");
    assert_eq!(error["field"], "interest_reduction_vnd");
    assert_eq!(
        error["message"],
        "Miễn, giảm lãi phải ghi rõ số tiền lãi được miễn, giảm (interest_reduction_vnd)."
    );
    assert_eq!(loan(&app, &staff, loan_id).await["restructure_count"], 0);

    // More than the interest owed is refused naming the field.
    body["interest_reduction_vnd"] = json!(900_000_000);
    let error = error_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "interest_reduction_above_interest_owed");
    assert_eq!(error["field"], "interest_reduction_vnd");
    assert_eq!(loan(&app, &staff, loan_id).await["restructure_count"], 0);

    body["interest_reduction_vnd"] = json!(1_000_000);
    json_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::CREATED,
    )
    .await;
    let after = payoff(&app, &staff, loan_id).await;
    assert_eq!(
        vnd(&after, "total_vnd") + 1_000_000,
        vnd(&before, "total_vnd"),
        "{before} {after}"
    );
    let view = loan(&app, &staff, loan_id).await;
    assert!(
        vnd(&view, "debt_group") >= 3,
        "a reduction puts the loan in group 3 at least: {view}"
    );
    let statement = statement(&app, &staff, loan_id).await;
    assert_eq!(vnd(&statement, "total_interest_reduced_vnd"), 1_000_000);
    let line = statement["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["kind"] == "restructure")
        .expect("restructure line")
        .clone();
    assert_eq!(vnd(&line, "interest_reduced_vnd"), 1_000_000);
    assert_eq!(trial_balance_of(&app, "0043").await, 1_000_000);
    assert_ledger_verifies(&app).await;

    // Paying the new payoff closes the loan; the forgiven interest stays on 0043, nothing stays receivable.
    set_date(&app, "2026-02-26").await;
    let quote = payoff(&app, &staff, loan_id).await;
    json_of(
        repay(
            &app,
            &staff,
            loan_id,
            vnd(&quote, "total_vnd"),
            "2026-02-26",
            "ordinary",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(loan(&app, &staff, loan_id).await["status"], "closed");
    assert_eq!(trial_balance_of(&app, "13881").await, 0);
    assert_eq!(trial_balance_of(&app, "0041").await, 0);
    assert_eq!(trial_balance_of(&app, "0043").await, 1_000_000);
    assert_ledger_verifies(&app).await;
}

/// The issue's second reproduction: 40,000,000, 2 monthly from 2026-01-05, never paid; on business date
/// 2026-04-10 an extension dated 2026-04-01 with its first due date 2026-04-08 would be past due at once.
#[tokio::test]
async fn a_restructuring_whose_new_schedule_starts_by_the_business_date_is_refused_naming_the_field(
) {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &terms(40_000_000, 2), "2026-01-05").await;
    set_date(&app, "2026-04-10").await;
    let before = loan(&app, &staff, loan_id).await;
    let body = json!({"kind": "extension", "first_due_on": "2026-04-08", "installments": 1,
                      "value_date": "2026-04-01", "reason": "gia hạn"});
    let error = error_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        error["code"],
        "restructure_first_due_not_after_business_date"
    );
    assert_eq!(error["field"], "first_due_on");
    assert_eq!(
        error["message"],
        "Kỳ trả nợ đầu tiên của lịch mới (08/04/2026) phải sau ngày làm việc hiện tại (10/04/2026)."
    );
    let english = restructure_in_english(&app, &staff, loan_id, &body).await;
    let error = error_of(english, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        error["message"],
        "The new schedule's first due date (2026-04-08) must be after the business date (2026-04-10)."
    );
    // Nothing was written: the loan is as it was, with no restructuring.
    let after = loan(&app, &staff, loan_id).await;
    assert_eq!(before, after);
    let transactions = json_of(
        app.get(
            &format!("/api/v1/loans/{loan_id}/transactions"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        transactions
            .as_array()
            .expect("transactions")
            .iter()
            .all(|t| t["kind"] != "restructure"),
        "{transactions}"
    );
    // The same request with the first due date after the business date is accepted.
    let body = json!({"kind": "extension", "first_due_on": "2026-04-11", "installments": 1,
                      "value_date": "2026-04-01", "reason": "gia hạn"});
    json_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(loan(&app, &staff, loan_id).await["dpd"], 0);
}

/// A loan the old engine closed on the short quote (its row says `closed`, its events say otherwise) is reopened
/// at start-up by the repair, with an audit record; a second run changes nothing.
#[tokio::test]
async fn the_start_up_repair_reopens_a_restructured_loan_the_old_payoff_had_closed() {
    use coopfund::store::entities::loan;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &terms(150_000_000, 6), "2026-01-05").await;
    set_date(&app, "2026-02-25").await;
    let body: Value = serde_json::from_str(EXTENSION).expect("json");
    json_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::CREATED,
    )
    .await;
    set_date(&app, "2026-02-26").await;
    json_of(
        repay(&app, &staff, loan_id, 151_126_185, "2026-02-26", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    // What the old version left: the loan row marked closed.
    let row = loan::Entity::find_by_id(loan_id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("loan");
    let mut closed = row.into_active_model();
    closed.status = Set("closed".into());
    closed.update(&app.db).await.expect("tamper");

    let corrected = coopfund::app::repairs::restore_restructured_interest(
        &app.db,
        &app.settings.classification.classification(),
        &coopfund::app::context::SystemClock,
    )
    .await
    .expect("repair runs");
    assert_eq!(corrected, 1);
    let view = loan(&app, &staff, loan_id).await;
    assert_eq!(view["status"], "active", "{view}");
    assert_eq!(
        vnd(&payoff(&app, &staff, loan_id).await, "total_vnd"),
        1_528_767
    );
    let audit = json_of(
        app.get(
            "/api/v1/audit?action=loan.restructured_interest_restored",
            &app.admin_token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let items = audit["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(items[0]["entity_id"], loan_id.to_string());
    assert_eq!(
        coopfund::app::repairs::restore_restructured_interest(
            &app.db,
            &app.settings.classification.classification(),
            &coopfund::app::context::SystemClock,
        )
        .await
        .expect("repair runs"),
        0,
        "a second run finds nothing to correct"
    );
    assert_ledger_verifies(&app).await;
}

/// `1528767` written for people: `1.528.767` (vi) or `1,528,767` (en).
fn grouped(amount: i64, separator: char) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

/// A reduction cannot forgive interest the borrower's advance is already there to pay: after the extension of
/// 2026-02-25, all but 1,000,000 of the payoff is paid on 2026-02-26 (nothing is due, so it waits as an advance);
/// a second restructuring forgiving the 1,528,767 carried into the new schedule would leave the fund owing the
/// borrower. It is refused (`interest_reduction_above_payoff`), naming the most that can be forgiven, in both
/// languages, and nothing is written; forgiving exactly that is accepted and leaves a payoff of zero.
#[tokio::test]
async fn a_reduction_above_the_payoff_net_of_the_advance_is_refused_naming_the_most_that_can_be_forgiven(
) {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &terms(150_000_000, 6), "2026-01-05").await;
    set_date(&app, "2026-02-25").await;
    let body: Value = serde_json::from_str(EXTENSION).expect("json");
    json_of(
        restructure(&app, &staff, loan_id, &body).await,
        StatusCode::CREATED,
    )
    .await;
    set_date(&app, "2026-02-26").await;
    let quote = payoff(&app, &staff, loan_id).await;
    json_of(
        repay(
            &app,
            &staff,
            loan_id,
            vnd(&quote, "total_vnd") - 1_000_000,
            "2026-02-26",
            "ordinary",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let owed = payoff(&app, &staff, loan_id).await;
    let owed_vnd = vnd(&owed, "total_vnd");
    assert_eq!(owed_vnd, 1_000_000, "{owed}");
    assert_eq!(vnd(&owed, "restructured_interest_vnd"), 1_528_767);

    let before = loan(&app, &staff, loan_id).await;
    let second = json!({"kind": "extension", "first_due_on": "2026-04-05", "installments": 7,
                        "value_date": "2026-02-26", "reason": "mất mùa do hạn hán",
                        "interest_reduced": true, "interest_reduction_vnd": 1_528_767});
    let error = error_of(
        restructure(&app, &staff, loan_id, &second).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "interest_reduction_above_payoff");
    assert_eq!(error["field"], "interest_reduction_vnd");
    let most_vi = grouped(owed_vnd, '.');
    assert_eq!(
        error["message"],
        format!(
            "Số lãi miễn, giảm 1.528.767 đồng vượt quá số tiền khách hàng còn phải trả sau khi trừ khoản đã trả \
             trước {most_vi} đồng; hãy miễn, giảm tối đa {most_vi} đồng."
        )
    );
    let english = restructure_in_english(&app, &staff, loan_id, &second).await;
    let error = error_of(english, StatusCode::UNPROCESSABLE_ENTITY).await;
    let most_en = grouped(owed_vnd, ',');
    assert_eq!(
        error["message"],
        format!(
            "The interest reduction of 1,528,767 VND is above what the borrower still owes net of the advance \
             already paid, {most_en} VND; reduce by at most {most_en} VND."
        )
    );
    // Nothing was written.
    assert_eq!(loan(&app, &staff, loan_id).await, before);
    assert_eq!(trial_balance_of(&app, "0043").await, 0);

    // Forgiving exactly what is owed net of the advance is accepted: nothing is left to pay.
    let mut most = second.clone();
    most["interest_reduction_vnd"] = json!(owed_vnd);
    json_of(
        restructure(&app, &staff, loan_id, &most).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(vnd(&payoff(&app, &staff, loan_id).await, "total_vnd"), 0);
    assert_eq!(trial_balance_of(&app, "0043").await, owed_vnd);
    assert_ledger_verifies(&app).await;
}
