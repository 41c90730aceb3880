//! Loans through HTTP from the approved loan to a closed one: signing, disbursement, repayments with
//! DOMAIN.md's worked example 3, payoff, reversal, back-dated payments, restructuring, write-off, and who
//! may do what.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app};
use crate::loan_fixtures::{
    active_loan, approved_loan, assert_ledger_verifies, disburse, example_3, json_of, post_keyed,
    repay, set_date, sign, Staff,
};

fn amount(value: &Value, field: &str) -> i64 {
    value[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} missing in {value}"))
}

/// Everything a money command writes, as stored: the loan row (its cached balances and version) and how many
/// loan transactions, journal entries and lines, audit records and outbox messages there are.
async fn written(app: &crate::helpers::TestApp, loan: i64) -> (String, [u64; 6]) {
    use coopfund::store::entities::{
        audit_record, idempotency_key, journal_entry, journal_line, loan as loan_row,
        loan_transaction, outbox_message,
    };
    use sea_orm::{EntityTrait, PaginatorTrait};
    let row = loan_row::Entity::find_by_id(loan)
        .one(&app.db)
        .await
        .unwrap()
        .expect("the loan");
    let counts = [
        loan_transaction::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        journal_entry::Entity::find().count(&app.db).await.unwrap(),
        journal_line::Entity::find().count(&app.db).await.unwrap(),
        audit_record::Entity::find().count(&app.db).await.unwrap(),
        outbox_message::Entity::find().count(&app.db).await.unwrap(),
        idempotency_key::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
    ];
    (format!("{row:?}"), counts)
}

#[tokio::test]
async fn worked_example_3_allocates_a_late_payment_to_the_dong_and_holds_the_excess_as_an_advance()
{
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-02-20").await;
    let paid = json_of(
        repay(&app, &staff, loan, 11_100_000, "2026-02-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(paid["kind"], "repayment");
    let allocation = &paid["allocation"];
    assert_eq!(amount(allocation, "overdue_principal_vnd"), 10_000_000);
    assert_eq!(amount(allocation, "unpaid_interest_vnd"), 1_019_178);
    assert_eq!(amount(allocation, "overdue_interest_vnd"), 49_315);
    assert_eq!(amount(allocation, "late_interest_vnd"), 2_792);
    assert_eq!(amount(allocation, "advance_vnd"), 28_715);
    assert_eq!(amount(allocation, "prepaid_principal_vnd"), 0);

    set_date(&app, "2026-03-10").await;
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "active");
    assert_eq!(amount(&view, "in_term_principal_vnd"), 90_000_000);
    assert_eq!(amount(&view, "overdue_principal_vnd"), 0);
    assert_eq!(
        amount(&view, "advance_vnd"),
        0,
        "the advance is applied on the next due date"
    );
    assert_eq!(amount(&view, "dpd"), 0);
    assert_eq!(amount(&view, "debt_group"), 1);
    let next = &view["next_due"];
    assert_eq!(next["seq"], 2);
    assert_eq!(next["due_on"], "2026-03-10");
    assert_eq!(
        amount(next, "total_vnd"),
        10_799_778,
        "10,828,493 − 28,715 left to pay: {view}"
    );
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn a_prepayment_cuts_principal_at_once_and_shortens_the_last_installment() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-02-20").await;
    let paid = json_of(
        repay(&app, &staff, loan, 11_100_000, "2026-02-20", "prepayment").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(amount(&paid["allocation"], "prepaid_principal_vnd"), 28_715);
    assert_eq!(amount(&paid["allocation"], "advance_vnd"), 0);
    set_date(&app, "2026-03-10").await;
    let schedule = json_of(
        app.get(&format!("/api/v1/loans/{loan}/schedule"), &staff.officer)
            .await,
        StatusCode::OK,
    )
    .await;
    let installments = schedule["installments"].as_array().expect("installments");
    assert_eq!(installments[0]["status"], "paid");
    assert_eq!(amount(&installments[0], "paid_principal_vnd"), 10_000_000);
    assert_eq!(amount(&installments[0], "paid_interest_vnd"), 1_019_178);
    assert_eq!(amount(&installments[1], "interest_vnd"), 828_323);
    assert_eq!(installments[1]["status"], "due");
    assert_eq!(
        amount(&installments[9], "principal_vnd") - amount(&installments[9], "paid_principal_vnd"),
        9_971_285
    );
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn a_payment_above_the_payoff_is_refused_naming_the_payoff_and_the_payoff_closes_the_loan() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-02-20").await;
    let quote = json_of(
        app.get(
            &format!("/api/v1/loans/{loan}/payoff?date=2026-02-20"),
            &staff.accountant,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let total = amount(&quote, "total_vnd");
    let parts = amount(&quote, "overdue_principal_vnd")
        + amount(&quote, "unpaid_interest_vnd")
        + amount(&quote, "overdue_interest_vnd")
        + amount(&quote, "late_interest_vnd")
        + amount(&quote, "current_interest_vnd")
        + amount(&quote, "principal_vnd")
        - amount(&quote, "advance_vnd");
    assert_eq!(total, parts);
    assert_eq!(
        amount(&quote, "principal_vnd") + amount(&quote, "overdue_principal_vnd"),
        100_000_000
    );

    // 10,000,000 + 1,019,178 + 49,315 + 2,792 overdue, 295,890 interest of 10 days on 90,000,000, 90,000,000.
    assert_eq!(total, 101_367_175, "{quote}");

    // Refused in the reader's language, every amount written for people, the payoff named; and nothing is
    // written: not the loan, its transactions, the journal, the audit trail or the outbox.
    let before = written(&app, loan).await;
    let too_much = json!({"amount_vnd": total + 1, "value_date": "2026-02-20", "reference": "GD 456", "kind": "ordinary"});
    for (language, expected) in [
        (
            "vi",
            "Số tiền trả 101.367.176 đồng vượt quá số tiền tất toán khoản vay 101.367.175 đồng; hãy trả tối đa 101.367.175 đồng.",
        ),
        (
            "en",
            "The payment of 101,367,176 VND is above the loan's payoff of 101,367,175 VND; pay at most 101,367,175 VND.",
        ),
    ] {
        let response = app
            .client
            .post(app.url(&format!("/api/v1/loans/{loan}/repayments")))
            .bearer_auth(&staff.accountant)
            .header("Accept-Language", language)
            .json(&too_much)
            .send()
            .await
            .expect("request");
        let refused = error_of(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refused["code"], "payment_above_payoff");
        assert_eq!(refused["field"], "amount_vnd");
        assert_eq!(refused["message"], expected, "{language}: {refused}");
    }
    assert_eq!(written(&app, loan).await, before);

    let settled = json_of(
        repay(&app, &staff, loan, total, "2026-02-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(settled["allocation"]["settled_loan"], true);
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "closed");
    assert_eq!(view["closed_on"], "2026-02-20");
    assert_eq!(
        amount(&view, "in_term_principal_vnd") + amount(&view, "overdue_principal_vnd"),
        0
    );
    let again = error_of(
        repay(&app, &staff, loan, 1_000, "2026-02-20", "ordinary").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "invalid_loan_state");
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn disbursements_are_never_above_the_approved_principal_nor_after_the_business_date() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    set_date(&app, "2026-01-10").await;
    let loan = approved_loan(&app, coop, &example_3()).await;
    let early = json!({"amount_vnd": 1_000_000, "value_date": "2026-01-10", "reference": "UNC 1"});
    let unsigned = error_of(
        app.post(
            &format!("/api/v1/loans/{loan}/disbursements"),
            &staff.accountant,
            &early,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(unsigned["code"], "invalid_loan_state");
    sign(&app, &staff, loan, "2026-01-08").await;
    let tranche = disburse(&app, &staff, loan, 60_000_000, "2026-01-10").await;
    assert_eq!(tranche["kind"], "disbursement");
    let too_much =
        json!({"amount_vnd": 40_000_001, "value_date": "2026-01-10", "reference": "UNC 2"});
    let refused = error_of(
        app.post(
            &format!("/api/v1/loans/{loan}/disbursements"),
            &staff.accountant,
            &too_much,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["code"], "disbursement_above_approved");
    let future = json!({"amount_vnd": 1_000_000, "value_date": "2026-01-11", "reference": "UNC 3"});
    let refused = error_of(
        app.post(
            &format!("/api/v1/loans/{loan}/disbursements"),
            &staff.accountant,
            &future,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["code"], "value_date_after_business_date");
    disburse(&app, &staff, loan, 40_000_000, "2026-01-10").await;
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.officer)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "active");
    assert_eq!(amount(&view, "disbursed_vnd"), 100_000_000);
    assert_ledger_verifies(&app).await;
}

/// Balances, payoff and statement totals of a loan, for comparing two histories.
async fn picture(app: &crate::helpers::TestApp, token: &str, loan: i64) -> Value {
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), token).await,
        StatusCode::OK,
    )
    .await;
    let payoff = json_of(
        app.get(&format!("/api/v1/loans/{loan}/payoff"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    let statement = json_of(
        app.get(&format!("/api/v1/loans/{loan}/statement"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    let schedule = json_of(
        app.get(&format!("/api/v1/loans/{loan}/schedule"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    json!({
        "balances": [view["disbursed_vnd"], view["in_term_principal_vnd"], view["overdue_principal_vnd"],
                     view["unpaid_interest_vnd"], view["advance_vnd"], view["dpd"], view["debt_group"], view["next_due"]],
        "payoff": payoff,
        "received": statement["total_received_vnd"],
        "principal_paid": statement["total_principal_paid_vnd"],
        "interest_paid": statement["total_interest_paid_vnd"],
        "schedule": schedule["installments"],
    })
}

#[tokio::test]
async fn a_back_dated_repayment_and_a_reversal_give_the_same_state_as_recording_in_order() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let in_order = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let replayed = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-04-01").await;
    for (amount_vnd, on) in [(11_100_000, "2026-02-20"), (10_900_000, "2026-03-10")] {
        json_of(
            repay(&app, &staff, in_order, amount_vnd, on, "ordinary").await,
            StatusCode::CREATED,
        )
        .await;
    }
    // The other loan learns of the February payment late, and gets a mistaken payment that is reversed.
    json_of(
        repay(&app, &staff, replayed, 10_900_000, "2026-03-10", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    let mistake = json_of(
        repay(
            &app,
            &staff,
            replayed,
            5_000_000,
            "2026-03-01",
            "prepayment",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        repay(&app, &staff, replayed, 11_100_000, "2026-02-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    let reverse_path = format!(
        "/api/v1/loans/{replayed}/transactions/{}/reverse",
        mistake["id"]
    );
    let missing_reason = error_of(
        app.post(&reverse_path, &staff.accountant, &json!({"reason": "  "}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(missing_reason["field"], "reason");
    let reversal = json_of(
        app.post(
            &reverse_path,
            &staff.accountant,
            &json!({"reason": "ghi nhầm khoản vay"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(reversal["kind"], "reversal");
    assert_eq!(reversal["reverses_id"], mistake["id"]);
    let twice = error_of(
        app.post(
            &reverse_path,
            &staff.accountant,
            &json!({"reason": "lần hai"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(twice["code"], "already_reversed");

    assert_eq!(
        picture(&app, &staff.auditor, in_order).await,
        picture(&app, &staff.auditor, replayed).await
    );
    let transactions = json_of(
        app.get(
            &format!("/api/v1/loans/{replayed}/transactions"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let reversed = transactions
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == mistake["id"])
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        reversed["reversed_by"], reversal["id"],
        "the original stays, marked as reversed"
    );
    let entries = json_of(
        app.get(
            &format!("/api/v1/ledger/entries?loan_id={replayed}"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let reversal_entry = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["transaction_id"] == reversal["id"])
        .cloned();
    let reversal_entry = reversal_entry.expect("the reversal posts a correcting entry");
    assert!(
        reversal_entry["reverses_entry_id"].is_i64(),
        "linked to the original's entry: {reversal_entry}"
    );
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn the_statement_matches_the_schedule_and_the_payments_to_the_dong() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-05-15").await;
    for (amount_vnd, on) in [
        (11_019_178, "2026-02-10"),
        (10_828_493, "2026-03-10"),
        (3_000_000, "2026-04-20"),
    ] {
        json_of(
            repay(&app, &staff, loan, amount_vnd, on, "ordinary").await,
            StatusCode::CREATED,
        )
        .await;
    }
    let cooperative = app.user_token("cooperative", Some(coop)).await;
    let statement = json_of(
        app.get(&format!("/api/v1/loans/{loan}/statement"), &cooperative)
            .await,
        StatusCode::OK,
    )
    .await;
    let schedule = json_of(
        app.get(&format!("/api/v1/loans/{loan}/schedule"), &cooperative)
            .await,
        StatusCode::OK,
    )
    .await;
    let installments = schedule["installments"].as_array().unwrap();
    let paid_principal: i64 = installments
        .iter()
        .map(|i| amount(i, "paid_principal_vnd"))
        .sum();
    let paid_interest: i64 = installments
        .iter()
        .map(|i| amount(i, "paid_interest_vnd"))
        .sum();
    assert_eq!(
        amount(&statement, "total_principal_paid_vnd"),
        paid_principal
    );
    assert_eq!(amount(&statement, "total_interest_paid_vnd"), paid_interest);
    assert_eq!(
        amount(&statement, "total_received_vnd"),
        11_019_178 + 10_828_493 + 3_000_000
    );
    assert_eq!(
        amount(&statement, "total_disbursed_vnd") - paid_principal,
        amount(&statement, "principal_outstanding_vnd")
    );
    let lines = statement["lines"].as_array().unwrap();
    let last = lines.last().expect("lines");
    assert_eq!(
        amount(last, "principal_balance_vnd"),
        amount(&statement, "principal_outstanding_vnd")
    );
    assert_eq!(
        amount(last, "advance_balance_vnd"),
        amount(&statement, "advance_vnd")
    );
    assert_eq!(installments[0]["status"], "paid");
    assert_eq!(installments[1]["status"], "paid");
    assert_eq!(
        installments[2]["status"], "overdue",
        "April's installment was only partly paid: {schedule}"
    );
    assert_eq!(
        amount(&statement, "total_received_vnd"),
        amount(&statement, "total_principal_paid_vnd")
            + amount(&statement, "total_interest_paid_vnd")
            + amount(&statement, "total_overdue_interest_paid_vnd")
            + amount(&statement, "total_late_interest_paid_vnd")
            + amount(&statement, "advance_vnd")
    );
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_response_and_another_body_is_a_conflict() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    set_date(&app, "2026-01-10").await;
    let loan = approved_loan(&app, coop, &example_3()).await;
    sign(&app, &staff, loan, "2026-01-10").await;
    let path = format!("/api/v1/loans/{loan}/disbursements");
    let body = json!({"amount_vnd": 50_000_000, "value_date": "2026-01-10", "reference": "UNC 9"});
    let first = post_keyed(&app, &path, &staff.accountant, Some("disb-1"), &body).await;
    assert!(first.headers().get("Idempotency-Replayed").is_none());
    let first = json_of(first, StatusCode::CREATED).await;
    let second = post_keyed(&app, &path, &staff.accountant, Some("disb-1"), &body).await;
    assert_eq!(
        second
            .headers()
            .get("Idempotency-Replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let second = json_of(second, StatusCode::CREATED).await;
    assert_eq!(first, second);
    let other = json!({"amount_vnd": 50_000_001, "value_date": "2026-01-10", "reference": "UNC 9"});
    let reused = error_of(
        post_keyed(&app, &path, &staff.accountant, Some("disb-1"), &other).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(reused["code"], "idempotency_key_reused");
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        amount(&view, "disbursed_vnd"),
        50_000_000,
        "one disbursement only"
    );
    let bad_key = error_of(
        post_keyed(
            &app,
            &path,
            &staff.accountant,
            Some(&"k".repeat(201)),
            &body,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad_key["field"], "Idempotency-Key");
}

#[tokio::test]
async fn each_role_does_only_its_part_and_a_cooperative_sees_only_its_own_loans() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let other_coop = app.cooperative().await;
    let cooperative = app.user_token("cooperative", Some(coop)).await;
    let stranger = app.user_token("cooperative", Some(other_coop)).await;
    set_date(&app, "2026-01-10").await;
    let loan = approved_loan(&app, coop, &example_3()).await;
    let sign_body = json!({"contract_number": "HĐ-01/2026", "signed_on": "2026-01-10"});
    for token in [&staff.accountant, &staff.auditor, &cooperative] {
        error_of(
            app.post(&format!("/api/v1/loans/{loan}/sign"), token, &sign_body)
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let late = json!({"contract_number": "HĐ-01/2026", "signed_on": "2026-01-11"});
    error_of(
        app.post(&format!("/api/v1/loans/{loan}/sign"), &staff.officer, &late)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let signed = json_of(
        app.post(
            &format!("/api/v1/loans/{loan}/sign"),
            &staff.officer,
            &sign_body,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(signed["status"], "contract_signed");
    let disbursement =
        json!({"amount_vnd": 100_000_000, "value_date": "2026-01-10", "reference": "UNC 1"});
    for token in [
        &staff.officer,
        &staff.approver,
        &staff.auditor,
        &cooperative,
    ] {
        error_of(
            app.post(
                &format!("/api/v1/loans/{loan}/disbursements"),
                token,
                &disbursement,
            )
            .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan}/disbursements"),
            &staff.accountant,
            &disbursement,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let mine = json_of(app.get("/api/v1/loans", &cooperative).await, StatusCode::OK).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs = json_of(app.get("/api/v1/loans", &stranger).await, StatusCode::OK).await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    for suffix in ["", "/schedule", "/transactions", "/payoff", "/statement"] {
        json_of(
            app.get(&format!("/api/v1/loans/{loan}{suffix}"), &cooperative)
                .await,
            StatusCode::OK,
        )
        .await;
        error_of(
            app.get(&format!("/api/v1/loans/{loan}{suffix}"), &stranger)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    error_of(
        app.get("/api/v1/ledger/trial-balance", &cooperative).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    set_date(&app, "2026-06-01").await;
    let restructure = json!({"kind": "extension", "first_due_on": "2026-07-10", "installments": 12, "reason": "mất mùa do hạn hán"});
    error_of(
        app.post(
            &format!("/api/v1/loans/{loan}/restructure"),
            &staff.accountant,
            &restructure,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let restructured = json_of(
        app.post(
            &format!("/api/v1/loans/{loan}/restructure"),
            &staff.approver,
            &restructure,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(restructured["kind"], "restructure");
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.officer)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(amount(&view, "restructure_count"), 1);
    assert!(
        amount(&view, "debt_group") >= 2,
        "a restructured loan is at least group 2: {view}"
    );
    let no_extension = json!({"kind": "extension", "first_due_on": "2026-07-10", "installments": 1, "reason": "x"});
    error_of(
        app.post(
            &format!("/api/v1/loans/{loan}/restructure"),
            &staff.approver,
            &no_extension,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // The restructured loan is in term: writing it off needs the approver's confirmation of an early write-off.
    let write_off = json!({"reason": "Hội đồng xử lý rủi ro, quyết định số 12", "early": true,
        "early_reason": "HTX giải thể theo quyết định của UBND huyện"});
    error_of(
        app.post(
            &format!("/api/v1/loans/{loan}/write-off"),
            &staff.accountant,
            &write_off,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan}/write-off"),
            &staff.approver,
            &write_off,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "written_off");
    assert_eq!(
        amount(&view, "in_term_principal_vnd") + amount(&view, "overdue_principal_vnd"),
        0
    );
    use coopfund::store::entities::audit_record;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let actions: Vec<String> = audit_record::Entity::find()
        .filter(audit_record::Column::EntityType.eq("loan"))
        .filter(audit_record::Column::EntityId.eq(loan.to_string()))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    for action in [
        "loan.sign",
        "loan.disbursement",
        "loan.restructure",
        "loan.write_off",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} audited: {actions:?}"
        );
    }
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn an_officer_takes_a_cooperative_from_application_to_a_closed_loan_through_the_api_alone() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.lending.council_approval_above_vnd = 1_000_000_000_000
    })
    .await;
    let staff = Staff::new(&app).await;
    set_date(&app, "2026-01-31").await;
    let product = json_of(
        app.post(
            "/api/v1/products",
            &app.admin_token,
            &crate::products::product_body("VLD-E2E"),
        )
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
    let coop = app.cooperative().await;
    let cooperative = app.user_token("cooperative", Some(coop)).await;
    let appraiser = app.user_token("officer", None).await;
    let application = json!({
        "product_id": product["id"], "cooperative_id": coop, "amount_vnd": 120_000_000, "installments": 12,
        "period_months": 1, "method": "equal_principal", "principal_grace": 0, "purpose": "Mua phân bón vụ chè xuân",
        "project_total_vnd": 240_000_000, "own_capital_vnd": 120_000_000, "collateral": [], "no_bad_debt_declared": true,
        "documents": ["Phương án sản xuất 2026"]
    });
    let created = json_of(
        app.post("/api/v1/applications", &staff.officer, &application)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    json_of(
        app.post(
            &format!("/api/v1/applications/{id}/submit"),
            &staff.officer,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let appraisal = json!({"note": "Phương án khả thi", "recommendation": "approve"});
    json_of(
        app.post(
            &format!("/api/v1/applications/{id}/appraise"),
            &appraiser,
            &appraisal,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let decided = json_of(
        app.post(
            &format!("/api/v1/applications/{id}/approve"),
            &staff.approver,
            &json!({"reason": "Đồng ý"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let loan = decided["loan_id"]
        .as_i64()
        .expect("approval creates the loan");

    sign(&app, &staff, loan, "2026-01-31").await;
    disburse(&app, &staff, loan, 120_000_000, "2026-01-31").await;
    let schedule = json_of(
        app.get(&format!("/api/v1/loans/{loan}/schedule"), &cooperative)
            .await,
        StatusCode::OK,
    )
    .await;
    let plan: Vec<(String, i64)> = schedule["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["due_on"].as_str().unwrap().to_string(),
                amount(i, "total_vnd"),
            )
        })
        .collect();
    assert_eq!(plan.len(), 12);
    assert_eq!(
        plan[0],
        ("2026-02-28".to_string(), 10_662_795),
        "worked example 1"
    );
    for (due_on, total_vnd) in &plan {
        set_date(&app, due_on).await;
        let installment = json_of(
            app.get(&format!("/api/v1/loans/{loan}"), &staff.officer)
                .await,
            StatusCode::OK,
        )
        .await;
        let owed = amount(&installment["next_due"], "total_vnd");
        assert!(owed > 0 && owed <= *total_vnd + 1_000, "{installment}");
        json_of(
            repay(&app, &staff, loan, owed, due_on, "ordinary").await,
            StatusCode::CREATED,
        )
        .await;
    }
    let closed = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &cooperative)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "closed", "{closed}");
    assert_eq!(closed["closed_on"], "2027-01-31");
    let statement = json_of(
        app.get(&format!("/api/v1/loans/{loan}/statement"), &cooperative)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(amount(&statement, "total_principal_paid_vnd"), 120_000_000);
    assert_eq!(amount(&statement, "principal_outstanding_vnd"), 0);
    let paid_schedule = json_of(
        app.get(&format!("/api/v1/loans/{loan}/schedule"), &cooperative)
            .await,
        StatusCode::OK,
    )
    .await;
    let interest_paid: i64 = paid_schedule["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| amount(i, "paid_interest_vnd"))
        .sum();
    assert_eq!(amount(&statement, "total_interest_paid_vnd"), interest_paid);
    assert!(paid_schedule["installments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == "paid"));
    let trial = json_of(
        app.get("/api/v1/ledger/trial-balance", &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trial["balanced"], true);
    assert_ledger_verifies(&app).await;
}
