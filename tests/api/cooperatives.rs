use reqwest::StatusCode;
use serde_json::{json, Value};

use coopfund::http::dto::{audit::AuditQuery, cooperatives::CooperativePatchBody};

use crate::{
    client,
    helpers::{cooperative_body, error_of, spawn_app, unique},
};

#[tokio::test]
async fn an_officer_registers_a_cooperative_and_reads_it_back() {
    let app = spawn_app().await;
    let officer = app.client(&app.user_token("officer", None).await);
    let created = officer
        .cooperatives()
        .create(&client::cooperative("4600123456"))
        .await
        .expect("registered");
    let read = officer.cooperatives().get(created.id).await.expect("read");
    assert_eq!(read.name, "HTX Chè Tân Cương");
    assert_eq!(read.charter_capital_vnd, 2_500_000_000);
    assert_eq!(read.founded_on.to_string(), "2015-06-01");
    assert_eq!(read.version, 1);
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
    let admin = app.admin();
    let id = app.cooperative().await.into();
    let change = |version, phone: &str| CooperativePatchBody {
        version,
        phone: Some(phone.into()),
        ..serde_json::from_value(json!({"version": version})).expect("a patch")
    };
    let updated = admin
        .cooperatives()
        .update(id, &change(1, "0987 654 321"))
        .await
        .expect("updated");
    assert_eq!(updated.phone, "0987 654 321");
    assert_eq!(updated.version, 2);
    let refused = admin
        .cooperatives()
        .update(id, &change(1, "0911 111 111"))
        .await
        .expect_err("a stale version");
    assert_eq!(
        (refused.status, refused.code.as_str()),
        (StatusCode::CONFLICT, "stale_version")
    );
    let audit = admin
        .audit(&AuditQuery {
            action: Some("cooperative.update".into()),
            ..Default::default()
        })
        .await
        .expect("the audit trail");
    let record = &audit.items[0];
    assert_eq!(record.before.as_ref().unwrap()["phone"], "0912 345 678");
    assert_eq!(record.after.as_ref().unwrap()["phone"], "0987 654 321");
}
