//! `POST /api/v1/schedule/preview` against DOMAIN.md's worked examples, and its refusals.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app};

fn example_1() -> Value {
    json!({"principal_vnd": 120000000, "rate_percent": "7.2", "installments": 12, "period_months": 1,
           "method": "equal_principal", "disbursed_on": "2026-01-31"})
}

fn row(body: &Value, seq: usize) -> (&str, i64, i64, i64, i64) {
    let r = &body["installments"][seq - 1];
    (
        r["due_on"].as_str().unwrap(),
        r["days"].as_i64().unwrap(),
        r["principal_vnd"].as_i64().unwrap(),
        r["interest_vnd"].as_i64().unwrap(),
        r["total_vnd"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn worked_example_1_equal_principal_month_end_dates() {
    let app = spawn_app().await;
    let token = app
        .user_token("cooperative", Some(app.cooperative().await))
        .await;
    let r = app
        .post("/api/v1/schedule/preview", &token, &example_1())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        row(&body, 1),
        ("2026-02-28", 28, 10_000_000, 662_795, 10_662_795)
    );
    assert_eq!(
        row(&body, 2),
        ("2026-03-31", 31, 10_000_000, 672_658, 10_672_658)
    );
    assert_eq!(
        row(&body, 3),
        ("2026-04-30", 30, 10_000_000, 591_781, 10_591_781)
    );
    assert_eq!(
        row(&body, 12),
        ("2027-01-31", 31, 10_000_000, 61_151, 10_061_151)
    );
    assert_eq!(body["total_principal_vnd"], 120_000_000);
    let interest: i64 = body["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["interest_vnd"].as_i64().unwrap())
        .sum();
    assert_eq!(body["total_interest_vnd"].as_i64(), Some(interest));
    assert_eq!(body["installments"][11]["closing_balance_vnd"], 0);
}

#[tokio::test]
async fn worked_example_2_quarterly_annuity_with_grace() {
    let app = spawn_app().await;
    let request = json!({"principal_vnd": 500000000, "rate_percent": "6.5", "installments": 8, "period_months": 3,
        "method": "annuity", "disbursed_on": "2026-03-15", "principal_grace": 2, "first_due_on": null,
        "day_count": "actual_365", "installment_unit_vnd": 1});
    let body: Value = app
        .post("/api/v1/schedule/preview", &app.admin_token, &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(row(&body, 1), ("2026-06-15", 92, 0, 8_191_781, 8_191_781));
    assert_eq!(
        row(&body, 3),
        ("2026-12-15", 91, 80_033_832, 8_102_740, 88_136_572)
    );
    assert_eq!(
        row(&body, 4),
        ("2027-03-15", 90, 81_405_607, 6_730_965, 88_136_572)
    );
    assert_eq!(
        row(&body, 8),
        ("2028-03-15", 91, 86_679_183, 1_404_678, 88_083_861)
    );
}

#[tokio::test]
async fn impossible_terms_are_400s_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        ("installments", json!(0), "installments_zero"),
        (
            "principal_grace",
            json!(12),
            "principal_grace_not_below_installments",
        ),
        ("principal_vnd", json!(0), "principal_not_positive"),
        ("principal_vnd", json!(-5), "principal_not_positive"),
        ("rate_percent", json!("-1"), "rate_out_of_range"),
        ("rate_percent", json!("20.01"), "rate_out_of_range"),
        ("rate_percent", json!("abc"), "invalid_format"),
        ("method", json!("balloon"), "unknown_method"),
        ("period_months", json!(2), "period_months_not_allowed"),
        ("disbursed_on", json!("9999-12-01"), "date_out_of_range"),
    ];
    for (field, value, code) in cases {
        let mut request = example_1();
        request[field] = value;
        let error = error_of(
            app.post("/api/v1/schedule/preview", &app.admin_token, &request)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(error["code"], code, "{field}");
        assert_eq!(error["field"], field, "{field}");
    }
    let mut request = example_1();
    request["rate_percent"] = json!(7.2);
    let error = error_of(
        app.post("/api/v1/schedule/preview", &app.admin_token, &request)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        error["field"], "rate_percent",
        "a rate sent as a float is refused"
    );
}
