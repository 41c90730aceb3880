use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app, spawn_app_with, unique, PASSWORD};

#[tokio::test]
async fn login_returns_an_expiring_token_and_the_user() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": crate::helpers::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["token"].as_str().unwrap().starts_with("cf_"));
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["user"]["role"], "admin");
    let me: Value = app
        .get("/api/v1/auth/me", body["token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let login = |u: &'static str, p: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/token"))
            .json(&json!({"username": u, "password": p}))
            .send()
    };
    let unknown = error_of(
        login("nobody", "whatever-123").await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let wrong = error_of(
        login("admin", "wrong-password").await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(unknown, wrong);
    assert_eq!(unknown["code"], "invalid_credentials");
}

#[tokio::test]
async fn five_failed_logins_lock_the_account_for_a_while() {
    let app = spawn_app().await;
    let username = unique("officer");
    app.post(
        "/api/v1/users",
        &app.admin_token,
        &json!({"username": username, "password": PASSWORD, "role": "officer"}),
    )
    .await;
    for _ in 0..5 {
        let r = app
            .client
            .post(app.url("/api/v1/auth/token"))
            .json(&json!({"username": username, "password": "wrong-one-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let error = error_of(locked, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(error["code"], "account_locked");
}

#[tokio::test]
async fn a_revoked_token_no_longer_works() {
    let app = spawn_app().await;
    let token = app.user_token("auditor", None).await;
    assert_eq!(
        app.get("/api/v1/auth/me", &token).await.status(),
        StatusCode::OK
    );
    let logout = app
        .client
        .delete(app.url("/api/v1/auth/token"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let error = error_of(
        app.get("/api/v1/auth/me", &token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(error["code"], "invalid_token");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app_with(|s| s.auth.token_ttl_minutes = 1).await;
    // Age the token by moving its expiry into the past, as time would.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00+00:00'")
        .await
        .unwrap();
    let error = error_of(
        app.get("/api/v1/auth/me", &app.admin_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(error["code"], "invalid_token");
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_or_use_its_token() {
    let app = spawn_app().await;
    let username = unique("clerk");
    let created: Value = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": username, "password": PASSWORD, "role": "accountant"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = app.login(&username, PASSWORD).await;
    let id = created["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &app.admin_token,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/auth/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn requests_without_a_token_get_401() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/v1/cooperatives"))
        .send()
        .await
        .unwrap();
    let error = error_of(r, StatusCode::UNAUTHORIZED).await;
    assert_eq!(error["code"], "missing_credentials");
}
