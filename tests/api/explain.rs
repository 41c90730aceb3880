//! `GET /api/v1/loans/{id}/explain` (issue 10 §3): every `_vnd` amount of the payoff quote opened into the lines
//! that make it. Checked against the payoff quote served by `/payoff` (the same dates, the same loan), line
//! figures against DOMAIN.md's worked example 3, and the lines added up here with decimals parsed from the JSON.

use std::str::FromStr;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::{
    helpers::{error_of, spawn_app, TestApp},
    loan_fixtures::{active_loan, example_3, json_of, repay, set_date, Staff},
};

/// The payoff quote's amounts (DOMAIN.md §5, API.md), the fields the explanation must carry.
const QUOTE_FIELDS: [&str; 9] = [
    "overdue_principal_vnd",
    "unpaid_interest_vnd",
    "overdue_interest_vnd",
    "late_interest_vnd",
    "current_interest_vnd",
    "restructured_interest_vnd",
    "principal_vnd",
    "advance_vnd",
    "total_vnd",
];

async fn explanation(app: &TestApp, loan_id: i64, query: &str, token: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/loans/{loan_id}/explain{query}"), token)
        .await
}

async fn payoff(app: &TestApp, loan_id: i64, query: &str, token: &str) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{loan_id}/payoff{query}"), token)
            .await,
        StatusCode::OK,
    )
    .await
}

fn decimal(value: &Value) -> Decimal {
    Decimal::from_str(value.as_str().expect("a decimal string")).expect("a decimal")
}

/// Every field of the quote is explained with the quote's amount, and its lines add up to it exactly.
fn assert_explains(explained: &Value, quote: &Value) {
    assert_eq!(explained["date"], quote["date"]);
    for field in QUOTE_FIELDS {
        let entry = &explained[field];
        assert_eq!(
            entry["amount_vnd"], quote[field],
            "{field}: {entry} vs the quote {quote}"
        );
        let lines = entry["lines"].as_array().expect("lines");
        let sum: Decimal = lines.iter().map(|l| decimal(&l["amount"])).sum();
        assert_eq!(
            sum,
            Decimal::from(quote[field].as_i64().expect("whole đồng")),
            "{field}: {entry}"
        );
    }
}

#[tokio::test]
async fn explain_equals_the_payoff_quote_for_every_field_and_opens_overdue_interest_into_its_segment(
) {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let member = app.user_token("cooperative", Some(coop)).await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;

    // Ten days late, nothing paid (DOMAIN.md worked example 3).
    set_date(&app, "2026-02-20").await;
    let explained = json_of(
        explanation(&app, loan_id, "", &member).await,
        StatusCode::OK,
    )
    .await;
    assert_explains(&explained, &payoff(&app, loan_id, "", &member).await);
    assert_eq!(explained["loan_id"], loan_id);
    assert_eq!(explained["overdue_interest_vnd"]["amount_vnd"], 49_315);
    let lines = explained["overdue_interest_vnd"]["lines"]
        .as_array()
        .unwrap();
    let segment = &lines[0];
    assert_eq!(
        (
            segment["kind"].as_str(),
            segment["from"].as_str(),
            segment["to"].as_str(),
            segment["days"].as_i64(),
            segment["balance_vnd"].as_i64(),
            segment["rate_percent"].as_str(),
            segment["formula"].as_str(),
            segment["amount"].as_str(),
        ),
        (
            Some("accrual"),
            Some("2026-02-10"),
            Some("2026-02-20"),
            Some(10),
            Some(10_000_000),
            Some("18"),
            Some("balance × rate × days / 365"),
            Some("49315.07"),
        ),
        "{segment}"
    );
    assert_eq!(
        segment["calculation"],
        "10000000 × 18% × 10 / 365 = 49315.068493"
    );
    assert_eq!(lines[1]["kind"], "rounding_on_total");
    assert_eq!(lines[1]["amount"], "-0.07");
    assert!(lines[1]["rounding"].as_str().unwrap().contains("total"));
    // The total lists its components by name.
    let components: Vec<&str> = explained["total_vnd"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["component"].as_str())
        .collect();
    assert_eq!(
        components,
        [
            "overdue_principal_vnd",
            "unpaid_interest_vnd",
            "overdue_interest_vnd",
            "late_interest_vnd",
            "current_interest_vnd",
            "principal_vnd"
        ]
    );

    // A partial payment, then a back-dated one, a later date asked for: still the quote, field by field.
    json_of(
        repay(&app, &staff, loan_id, 5_000_000, "2026-02-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    set_date(&app, "2026-03-05").await;
    json_of(
        repay(&app, &staff, loan_id, 3_000_000, "2026-02-25", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    for (query, token) in [
        ("", &member),
        ("?date=2026-03-05", &staff.officer),
        ("?date=2026-02-24", &staff.auditor),
        ("?date=2026-04-15", &staff.accountant),
        ("?date=2026-01-10", &staff.approver),
    ] {
        let explained = json_of(
            explanation(&app, loan_id, query, token).await,
            StatusCode::OK,
        )
        .await;
        assert_explains(&explained, &payoff(&app, loan_id, query, token).await);
    }
}

#[tokio::test]
async fn explain_is_a_404_for_another_cooperative_and_a_bad_date_is_refused() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let other = app.cooperative().await;
    let stranger = app.user_token("cooperative", Some(other)).await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;

    let error = error_of(
        explanation(&app, loan_id, "", &stranger).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(error["code"], "not_found");
    error_of(
        explanation(&app, 999_999_999, "", &staff.officer).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for bad in [
        "?date=2026-13-01",
        "?date=20-02-2026",
        "?date=",
        "?day=2026-02-20",
    ] {
        let response = explanation(&app, loan_id, bad, &staff.officer).await;
        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {status}"
        );
        let body: Value = response.json().await.expect("json");
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
    }
    // Without a token: 401.
    let response = app
        .client
        .get(app.url(&format!("/api/v1/loans/{loan_id}/explain")))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
