//! Loan products: the fund's lending rules per product, within the legal caps.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, unique};

/// A valid product body with `code`.
pub fn product_body(code: &str) -> Value {
    json!({
        "code": code,
        "name": "Vốn lưu động vụ chè",
        "description": "Cho vay vốn lưu động theo mùa vụ",
        "rate_percent": "7.2",
        "methods": ["equal_principal", "annuity", "bullet"],
        "period_months": [1, 3],
        "min_amount_vnd": 10_000_000i64,
        "max_amount_vnd": 5_000_000_000i64,
        "min_installments": 1,
        "max_installments": 60,
        "max_principal_grace": 6
    })
}

#[tokio::test]
async fn an_admin_creates_a_product_with_the_defaults_of_the_rules() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/products",
            &app.admin_token,
            &product_body("VLD-01"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["rate_percent"], "7.2");
    assert_eq!(
        created["methods"],
        json!(["equal_principal", "annuity", "bullet"])
    );
    assert_eq!(created["period_months"], json!([1, 3]));
    assert_eq!(created["day_count"], "actual_365");
    assert_eq!(created["overdue_multiplier"], "1.5");
    assert_eq!(created["late_rate_percent"], "10");
    assert_eq!(created["installment_unit_vnd"], 1);
    assert_eq!(created["prepayment_rule"], "shorten_term");
    assert_eq!(
        created["allocation_order"],
        json!([
            "overdue_principal",
            "unpaid_interest",
            "overdue_interest",
            "late_interest",
            "interest",
            "principal"
        ])
    );
    assert_eq!(created["active"], true);
    assert_eq!(created["version"], 1);
}

#[tokio::test]
async fn rates_round_trip_exactly() {
    let app = spawn_app().await;
    let mut body = product_body("EXACT-1");
    body["rate_percent"] = json!("7.25");
    body["overdue_multiplier"] = json!("1.35");
    body["late_rate_percent"] = json!("9.125");
    let created: Value = app
        .post("/api/v1/products", &app.admin_token, &body)
        .await
        .json()
        .await
        .unwrap();
    let read: Value = app
        .get(
            &format!("/api/v1/products/{}", created["id"]),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["rate_percent"], "7.25");
    assert_eq!(read["overdue_multiplier"], "1.35");
    assert_eq!(read["late_rate_percent"], "9.125");
}

#[tokio::test]
async fn rates_above_the_legal_caps_are_refused_naming_the_rule() {
    let app = spawn_app().await;
    for (field, value, code) in [
        ("rate_percent", "20.01", "rate_above_legal_cap"),
        (
            "overdue_multiplier",
            "1.51",
            "overdue_multiplier_above_legal_cap",
        ),
        ("late_rate_percent", "10.5", "late_rate_above_legal_cap"),
    ] {
        let mut body = product_body(&unique("CAP-"));
        body[field] = json!(value);
        let error = error_of(
            app.post("/api/v1/products", &app.admin_token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error["code"], code, "{field}");
        assert_eq!(error["field"], field);
    }
    let mut at_caps = product_body("CAP-OK");
    at_caps["rate_percent"] = json!("20");
    at_caps["overdue_multiplier"] = json!("1.5");
    at_caps["late_rate_percent"] = json!("10");
    assert_eq!(
        app.post("/api/v1/products", &app.admin_token, &at_caps)
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn bad_shapes_are_400s_naming_the_field() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value)> = vec![
        ("methods", json!(["balloon"])),
        ("methods", json!([])),
        ("period_months", json!([2])),
        ("period_months", json!([1, 1])),
        ("max_amount_vnd", json!(1)),
        ("max_installments", json!(0)),
        ("max_principal_grace", json!(60)),
        ("day_count", json!("30_360")),
        ("prepayment_rule", json!("anything")),
        ("allocation_order", json!(["principal", "interest"])),
        (
            "allocation_order",
            json!([
                "principal",
                "principal",
                "interest",
                "late_interest",
                "overdue_interest",
                "unpaid_interest"
            ]),
        ),
        ("rate_percent", json!(7.2)),
        ("rate_percent", json!("seven")),
        ("rate_percent", json!("-1")),
        ("installment_unit_vnd", json!(0)),
    ];
    for (field, value) in cases {
        let mut body = product_body(&unique("BAD-"));
        body[field] = value.clone();
        let error = error_of(
            app.post("/api/v1/products", &app.admin_token, &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(error["field"], field, "{field} = {value}: {error}");
    }
}

#[tokio::test]
async fn a_custom_allocation_order_that_is_a_permutation_is_kept() {
    let app = spawn_app().await;
    let mut body = product_body("ORDER-1");
    let order = json!([
        "overdue_principal",
        "overdue_interest",
        "unpaid_interest",
        "late_interest",
        "principal",
        "interest"
    ]);
    body["allocation_order"] = order.clone();
    let created: Value = app
        .post("/api/v1/products", &app.admin_token, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["allocation_order"], order);
}

#[tokio::test]
async fn a_product_is_updated_with_its_version_and_a_stale_version_is_a_conflict() {
    let app = spawn_app().await;
    let created: Value = app
        .post("/api/v1/products", &app.admin_token, &product_body("UPD-1"))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/products/{}", created["id"]);
    let r = app
        .patch(
            &path,
            &app.admin_token,
            &json!({"version": 1, "rate_percent": "6.8", "active": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["rate_percent"], "6.8");
    assert_eq!(updated["active"], false);
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["methods"], created["methods"]);
    let error = error_of(
        app.patch(&path, &app.admin_token, &json!({"version": 1, "name": "x"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "stale_version");
    let error = error_of(
        app.patch(
            &path,
            &app.admin_token,
            &json!({"version": 2, "rate_percent": "25"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "rate_above_legal_cap");
}

#[tokio::test]
async fn a_duplicate_code_is_a_conflict_and_every_user_can_read_products() {
    let app = spawn_app().await;
    app.post("/api/v1/products", &app.admin_token, &product_body("DUP-1"))
        .await;
    let error = error_of(
        app.post("/api/v1/products", &app.admin_token, &product_body("DUP-1"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "duplicate");
    let coop = app.cooperative().await;
    let token = app.user_token("cooperative", Some(coop)).await;
    let page: Value = app
        .get("/api/v1/products", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let error = error_of(
        app.post("/api/v1/products", &token, &product_body("DUP-2"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(error["code"], "forbidden");
}
