use reqwest::StatusCode;
use serde_json::{json, Value};

use coopfund::{
    auth::Role,
    http::dto::users::{NewUserBody, UserView},
};

use crate::helpers::{error_of, spawn_app, PASSWORD};

#[tokio::test]
async fn an_admin_creates_accounts_with_roles() {
    let app = spawn_app().await;
    let body: NewUserBody = serde_json::from_value(json!({"username": "Lan.Officer", "password": PASSWORD, "role": "officer", "full_name": "Trần Thị Lan"})).expect("a body");
    let r = app
        .post("/api/v1/users", &app.admin_token, &json!(body))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let user: Value = r.json().await.unwrap();
    assert!(
        user.get("password_hash").is_none(),
        "the hash never leaves the service"
    );
    let user: UserView = serde_json::from_value(user).expect("a user");
    assert_eq!(user.username, "lan.officer");
    assert_eq!(user.role, Role::Officer);
    let list = app.admin().users().list().await.expect("the accounts");
    assert!(list.iter().any(|u| u.username == "lan.officer"));
    let me = app
        .client(&app.login("lan.officer", PASSWORD).await)
        .me()
        .await
        .expect("the account itself");
    assert_eq!(me.id, user.id);
}

#[tokio::test]
async fn a_duplicate_username_is_a_conflict() {
    let app = spawn_app().await;
    let body = json!({"username": "dup", "password": PASSWORD, "role": "auditor"});
    assert_eq!(
        app.post("/api/v1/users", &app.admin_token, &body)
            .await
            .status(),
        StatusCode::CREATED
    );
    let error = error_of(
        app.post("/api/v1/users", &app.admin_token, &body).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "duplicate");
    assert_eq!(error["field"], "username");
}

#[tokio::test]
async fn a_cooperative_account_must_name_its_cooperative() {
    let app = spawn_app().await;
    let error = error_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": "htx1", "password": PASSWORD, "role": "cooperative"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "cooperative_id");
    let error = error_of(
        app.post("/api/v1/users", &app.admin_token, &json!({"username": "htx1", "password": PASSWORD, "role": "cooperative", "cooperative_id": 999})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(error["field"], "cooperative_id");
}

#[tokio::test]
async fn weak_passwords_and_unknown_roles_are_refused() {
    let app = spawn_app().await;
    let error = error_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": "x1", "password": "short", "role": "officer"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "password");
    let error = error_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": "x2", "password": PASSWORD, "role": "root"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["code"], "unknown_value");
    assert_eq!(error["field"], "role");
}

#[tokio::test]
async fn every_account_change_is_in_the_audit_trail() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/users",
        &app.admin_token,
        &json!({"username": "audited", "password": PASSWORD, "role": "auditor"}),
    )
    .await;
    use coopfund::store::entities::audit_record;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let records = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("user.create"))
        .all(&app.db)
        .await
        .unwrap();
    let record = records
        .iter()
        .find(|r| r.after.as_deref().unwrap_or("").contains("audited"))
        .expect("audit record");
    assert_eq!(record.actor, "admin");
    assert!(record.request_id.is_some());
}

#[tokio::test]
async fn an_auditor_reads_the_audit_trail_with_filters_and_paging() {
    let app = spawn_app().await;
    let auditor = app.user_token("auditor", None).await;
    let id = app.cooperative().await;
    app.patch(
        &format!("/api/v1/cooperatives/{id}"),
        &app.admin_token,
        &json!({"version": 1, "commune": "Xã Phúc Xuân"}),
    )
    .await;
    let page: Value = app
        .get(
            &format!("/api/v1/audit?entity_type=cooperative&entity_id={id}"),
            &auditor,
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["cooperative.update", "cooperative.create"],
        "newest first"
    );
    assert_eq!(page["items"][0]["before"]["commune"], "Xã Tân Cương");
    assert_eq!(page["items"][0]["after"]["commune"], "Xã Phúc Xuân");
    assert_eq!(page["items"][0]["actor"], "admin");
    let first: Value = app
        .get("/api/v1/audit?limit=1", &auditor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert!(first["next_cursor"].is_string());
}
