use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{cooperative_body, error_of, spawn_app, unique};

#[tokio::test]
async fn an_officer_registers_a_cooperative_and_reads_it_back() {
    let app = spawn_app().await;
    let officer = app.user_token("officer", None).await;
    let r = app
        .post(
            "/api/v1/cooperatives",
            &officer,
            &cooperative_body("4600123456"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let read: Value = app
        .get(&format!("/api/v1/cooperatives/{id}"), &officer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["name"], "HTX Chè Tân Cương");
    assert_eq!(read["charter_capital_vnd"], 2_500_000_000i64);
    assert_eq!(read["founded_on"], "2015-06-01");
    assert_eq!(read["version"], 1);
}

#[tokio::test]
async fn money_round_trips_exactly_up_to_a_quadrillion_dong() {
    let app = spawn_app().await;
    let mut body = cooperative_body("BIG-1");
    body["charter_capital_vnd"] = json!(999_999_999_999_999i64);
    let created: Value = app
        .post("/api/v1/cooperatives", &app.admin_token, &body)
        .await
        .json()
        .await
        .unwrap();
    let read: Value = app
        .get(
            &format!("/api/v1/cooperatives/{}", created["id"]),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["charter_capital_vnd"].as_i64(),
        Some(999_999_999_999_999)
    );
}

#[tokio::test]
async fn a_cooperative_user_sees_only_its_own_cooperative() {
    let app = spawn_app().await;
    let own = app.cooperative().await;
    let other = app.cooperative().await;
    let token = app.user_token("cooperative", Some(own)).await;
    assert_eq!(
        app.get(&format!("/api/v1/cooperatives/{own}"), &token)
            .await
            .status(),
        StatusCode::OK
    );
    let error = error_of(
        app.get(&format!("/api/v1/cooperatives/{other}"), &token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(error["code"], "not_found");
    let page: Value = app
        .get("/api/v1/cooperatives", &token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![own]);
}

#[tokio::test]
async fn a_duplicate_registration_code_is_a_conflict() {
    let app = spawn_app().await;
    let code = unique("R-");
    assert_eq!(
        app.post(
            "/api/v1/cooperatives",
            &app.admin_token,
            &cooperative_body(&code)
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let error = error_of(
        app.post(
            "/api/v1/cooperatives",
            &app.admin_token,
            &cooperative_body(&code),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "duplicate");
    assert_eq!(error["field"], "registration_code");
}

#[tokio::test]
async fn an_enterprise_or_a_borrower_outside_the_province_is_refused() {
    let app = spawn_app().await;
    let mut body = cooperative_body("E-1");
    body["kind"] = json!("enterprise");
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "borrower_not_eligible");
    let mut body = cooperative_body("E-2");
    body["district"] = json!("Quận 1");
    let error = error_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "outside_province");
}

#[tokio::test]
async fn search_filters_by_name_and_code_and_pages_newest_first() {
    let app = spawn_app().await;
    for (i, name) in ["HTX Rau An Toàn", "HTX Chè Đại Từ", "HTX Gạo Phú Bình"]
        .iter()
        .enumerate()
    {
        let mut body = cooperative_body(&format!("S-{i}"));
        body["name"] = json!(name);
        app.post("/api/v1/cooperatives", &app.admin_token, &body)
            .await;
    }
    let found: Value = app
        .get("/api/v1/cooperatives?q=gạo", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["HTX Gạo Phú Bình"]);
    let by_code: Value = app
        .get("/api/v1/cooperatives?q=S-1", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_code["items"][0]["name"], "HTX Chè Đại Từ");
    let first: Value = app
        .get("/api/v1/cooperatives?limit=2", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        first["items"][0]["name"], "HTX Gạo Phú Bình",
        "newest first"
    );
    let cursor = first["next_cursor"].as_str().expect("more pages");
    let second: Value = app
        .get(
            &format!("/api/v1/cooperatives?limit=2&cursor={cursor}"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn an_update_needs_the_current_version() {
    let app = spawn_app().await;
    let id = app.cooperative().await;
    let path = format!("/api/v1/cooperatives/{id}");
    let r = app
        .patch(
            &path,
            &app.admin_token,
            &json!({"version": 1, "phone": "0987 654 321"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["phone"], "0987 654 321");
    assert_eq!(updated["version"], 2);
    let error = error_of(
        app.patch(
            &path,
            &app.admin_token,
            &json!({"version": 1, "phone": "0911 111 111"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "stale_version");
    use coopfund::store::entities::audit_record;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let audit = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("cooperative.update"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("update audited");
    assert!(audit.before.unwrap().contains("0912 345 678"));
    assert!(audit.after.unwrap().contains("0987 654 321"));
}
