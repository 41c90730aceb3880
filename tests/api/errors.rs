//! Bad input of every kind gets a 4xx with `{"error":{code,message,field}}`, never a 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{cooperative_body, error_of, spawn_app};

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let error = error_of(
        app.post_raw("/api/v1/cooperatives", &app.admin_token, "{\"name\": ")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "malformed_json");
}

#[tokio::test]
async fn an_unknown_field_is_named() {
    let app = spawn_app().await;
    let mut body = cooperative_body("U-1");
    body["colour"] = json!("red");
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "unknown_field");
    assert_eq!(error["field"], "colour");
}

#[tokio::test]
async fn a_missing_field_is_named() {
    let app = spawn_app().await;
    let mut body = cooperative_body("M-1");
    body.as_object_mut().unwrap().remove("name");
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "missing_field");
    assert_eq!(error["field"], "name");
}

#[tokio::test]
async fn a_wrong_type_is_named() {
    let app = spawn_app().await;
    let mut body = cooperative_body("T-1");
    body["member_count"] = json!("forty");
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "wrong_type");
    assert_eq!(error["field"], "member_count");
    let mut body = cooperative_body("T-2");
    body["charter_capital_vnd"] = json!(1.5);
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "charter_capital_vnd", "no floats for money");
}

#[tokio::test]
async fn a_too_long_string_is_named() {
    let app = spawn_app().await;
    let mut body = cooperative_body("L-1");
    body["name"] = json!("H".repeat(201));
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "too_long");
    assert_eq!(error["field"], "name");
}

#[tokio::test]
async fn a_negative_number_is_named() {
    let app = spawn_app().await;
    let mut body = cooperative_body("N-1");
    body["charter_capital_vnd"] = json!(-1);
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "must_not_be_negative");
    assert_eq!(error["field"], "charter_capital_vnd");
}

#[tokio::test]
async fn an_invalid_date_is_named() {
    let app = spawn_app().await;
    let mut body = cooperative_body("D-1");
    body["founded_on"] = json!("2015-02-30");
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "founded_on");
}

#[tokio::test]
async fn messages_follow_accept_language() {
    let app = spawn_app().await;
    let send = |lang: &'static str| {
        app.client
            .get(app.url("/api/v1/cooperatives/999"))
            .bearer_auth(&app.admin_token)
            .header("accept-language", lang)
            .send()
    };
    let vi = error_of(send("vi").await.unwrap(), StatusCode::NOT_FOUND).await;
    let en = error_of(send("en-US,en;q=0.9").await.unwrap(), StatusCode::NOT_FOUND).await;
    assert_eq!(vi["code"], en["code"]);
    assert!(vi["message"].as_str().unwrap().contains("Không tìm thấy"));
    assert!(en["message"].as_str().unwrap().contains("not found"));
}

#[tokio::test]
async fn a_body_that_is_not_json_or_too_large_is_refused_cleanly() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/cooperatives"))
        .bearer_auth(&app.admin_token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await["code"],
        "unsupported_media_type"
    );
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(300_000));
    let r = app
        .post_raw("/api/v1/cooperatives", &app.admin_token, &huge)
        .await;
    assert_eq!(
        error_of(r, StatusCode::PAYLOAD_TOO_LARGE).await["code"],
        "payload_too_large"
    );
}

#[tokio::test]
async fn unknown_routes_bad_ids_and_wrong_methods_get_json_errors() {
    let app = spawn_app().await;
    assert_eq!(
        error_of(
            app.get("/api/v1/nothing-here", &app.admin_token).await,
            StatusCode::NOT_FOUND
        )
        .await["code"],
        "not_found"
    );
    assert_eq!(
        error_of(
            app.get("/api/v1/cooperatives/abc", &app.admin_token).await,
            StatusCode::NOT_FOUND
        )
        .await["code"],
        "not_found"
    );
    let r = app
        .client
        .put(app.url("/api/v1/cooperatives"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(r, StatusCode::METHOD_NOT_ALLOWED).await["code"],
        "method_not_allowed"
    );
    let r = app
        .get("/api/v1/cooperatives?limit=0", &app.admin_token)
        .await;
    assert_eq!(error_of(r, StatusCode::BAD_REQUEST).await["field"], "limit");
    let r = app
        .get("/api/v1/cooperatives?limit=abc", &app.admin_token)
        .await;
    assert_eq!(
        error_of(r, StatusCode::BAD_REQUEST).await["code"],
        "invalid_query"
    );
}
