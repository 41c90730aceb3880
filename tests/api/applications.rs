//! Applications from draft to the loan approval creates: life cycle, scoping, four-eyes and the
//! council, and each Decree 45 limit refused with its 422 and its numbers.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::{cooperative_body, error_of, spawn_app, spawn_app_with, unique, TestApp};
use crate::products::product_body;

/// A fund with a product, charter capital, an officer and two approvers.
struct Fund {
    app: TestApp,
    officer: String,
    appraiser: String,
    approver: String,
    council: String,
    product_id: i64,
    cooperative_id: i64,
}

async fn fund_on(app: TestApp, charter_capital_vnd: i64) -> Fund {
    let product: Value = app
        .post(
            "/api/v1/products",
            &app.admin_token,
            &product_body("VLD-01"),
        )
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .post(
            "/api/v1/fund/charter-capital",
            &app.admin_token,
            &json!({"amount_vnd": charter_capital_vnd, "contributed_on": "2020-01-01", "reference": "QĐ 1/QĐ-UBND"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cooperative_id = app.cooperative().await;
    Fund {
        officer: app.user_token("officer", None).await,
        appraiser: app.user_token("officer", None).await,
        approver: app.user_token("approver", None).await,
        council: app.user_token("approver", None).await,
        product_id: product["id"].as_i64().unwrap(),
        cooperative_id,
        app,
    }
}

/// Charter capital 20 billion: room of 3 billion per customer, 5 billion per group.
async fn fund() -> Fund {
    fund_on(spawn_app().await, 20_000_000_000).await
}

/// A fund whose council threshold is out of the way, for the limit tests.
async fn fund_without_council(charter_capital_vnd: i64) -> Fund {
    let app = spawn_app_with(|s| s.lending.council_approval_above_vnd = 1_000_000_000_000).await;
    fund_on(app, charter_capital_vnd).await
}

fn body(f: &Fund, cooperative_id: i64, amount_vnd: i64) -> Value {
    json!({
        "product_id": f.product_id,
        "cooperative_id": cooperative_id,
        "amount_vnd": amount_vnd,
        "installments": 12,
        "period_months": 1,
        "method": "equal_principal",
        "principal_grace": 0,
        "purpose": "Mua phân bón và vật tư vụ chè xuân",
        "project_total_vnd": amount_vnd * 2,
        "own_capital_vnd": amount_vnd,
        "collateral": [
            {"kind": "land_use_right", "description": "QSDĐ thửa 123", "appraised_value_vnd": 300_000_000i64, "discount_rate_percent": "30"},
            {"kind": "machinery", "description": "Máy sao chè", "appraised_value_vnd": 100_001i64, "discount_rate_percent": "50"}
        ],
        "no_bad_debt_declared": true,
        "documents": ["Phương án sản xuất 2026", "Báo cáo tài chính 2025"]
    })
}

async fn created(f: &Fund, body: &Value) -> Value {
    let r = f.app.post("/api/v1/applications", &f.officer, body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

/// Creates, submits and appraises; returns the application id.
async fn appraised(f: &Fund, body: &Value) -> i64 {
    let id = created(f, body).await["id"].as_i64().unwrap();
    let r = f
        .app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            &f.officer,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = f
        .app
        .post(
            &format!("/api/v1/applications/{id}/appraise"),
            &f.appraiser,
            &json!({"note": "Phương án khả thi", "recommendation": "approve"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );
    id
}

async fn approve(f: &Fund, id: i64, token: &str) -> reqwest::Response {
    f.app
        .post(
            &format!("/api/v1/applications/{id}/approve"),
            token,
            &json!({"reason": "Đồng ý"}),
        )
        .await
}

async fn approved_loan(f: &Fund, cooperative_id: i64, amount_vnd: i64) -> Value {
    let id = appraised(f, &body(f, cooperative_id, amount_vnd)).await;
    let r = approve(f, id, &f.approver).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );
    r.json().await.unwrap()
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    let me: Value = app
        .get("/api/v1/auth/me", token)
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_i64().unwrap()
}

/// What a refused approval must leave as it was.
#[derive(Debug, PartialEq)]
struct Trace {
    status: Value,
    version: Value,
    loans: i64,
    audit_records: i64,
    outbox_messages: i64,
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {sql}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn trace(f: &Fund, id: i64) -> Trace {
    let read: Value = f
        .app
        .get(&format!("/api/v1/applications/{id}"), &f.approver)
        .await
        .json()
        .await
        .unwrap();
    Trace {
        status: read["status"].clone(),
        version: read["version"].clone(),
        loans: count(&f.app, &format!("loans WHERE application_id = {id}")).await,
        audit_records: count(&f.app, "audit_records").await,
        outbox_messages: count(&f.app, "outbox_messages").await,
    }
}

/// Approving `id` (in `status`) as `token` is refused with `code` and exactly `vi` / `en`, and
/// writes nothing: same status and version, no loan, no audit record, no mail.
async fn assert_refused(
    f: &Fund,
    id: i64,
    token: &str,
    status: &str,
    code: &str,
    vi: &str,
    en: &str,
) {
    let before = trace(f, id).await;
    assert_eq!((&before.status, before.loans), (&json!(status), 0));
    for (language, message) in [("vi", vi), ("en", en)] {
        let r = f
            .app
            .client
            .post(f.app.url(&format!("/api/v1/applications/{id}/approve")))
            .bearer_auth(token)
            .header("accept-language", language)
            .json(&json!({"reason": "Đồng ý"}))
            .send()
            .await
            .unwrap();
        let error = error_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["code"], code, "{error}");
        assert_eq!(error["message"], message, "{language}");
    }
    assert_eq!(
        trace(f, id).await,
        before,
        "a refused approval writes nothing"
    );
}

/// Promotes a user to approver (a role change an admin could make in the database).
async fn make_approver(app: &TestApp, token: &str) {
    let id = user_id(app, token).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE users SET role = 'approver' WHERE id = {id}"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn draft_submit_appraise_approve_creates_the_loan_with_the_terms_snapshot() {
    let f = fund().await;
    let draft = created(&f, &body(&f, f.cooperative_id, 500_000_000)).await;
    assert_eq!(draft["status"], "draft");
    let number = draft["number"].as_str().unwrap();
    assert!(
        number.starts_with("DN-") && number.len() == "DN-2026-000001".len(),
        "{number}"
    );
    // 300,000,000 × 70% + 100,001 × 50% = 210,050,000.5 → 210,050,001 (half-up).
    assert_eq!(draft["collateral_value_vnd"], 210_050_001i64);
    assert_eq!(
        draft["documents"],
        json!(["Phương án sản xuất 2026", "Báo cáo tài chính 2025"])
    );
    let id = appraised(&f, &body(&f, f.cooperative_id, 500_000_000)).await;
    let read: Value = f
        .app
        .get(&format!("/api/v1/applications/{id}"), &f.officer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "appraised");
    assert_eq!(read["appraisal_recommendation"], "approve");
    assert_eq!(read["appraised_by"], user_id(&f.app, &f.appraiser).await);
    let r = approve(&f, id, &f.approver).await;
    assert_eq!(r.status(), StatusCode::OK);
    let decided: Value = r.json().await.unwrap();
    assert_eq!(decided["status"], "approved");
    assert!(decided["loan_number"].as_str().unwrap().starts_with("HTX-"));
    let loan_id = decided["loan_id"].as_i64().unwrap();
    let row = f
        .app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            f.app.db.get_database_backend(),
            format!(
                "SELECT CAST(principal_vnd AS BIGINT) AS p, status, rate_percent, method, installments, allocation_order, \
                 CAST(collateral_value_vnd AS BIGINT) AS c, debt_group, CAST(disbursed_vnd AS BIGINT) AS d, version FROM loans WHERE id = {loan_id}"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "p").unwrap(), 500_000_000);
    assert_eq!(row.try_get::<String>("", "status").unwrap(), "approved");
    assert_eq!(row.try_get::<String>("", "rate_percent").unwrap(), "7.2");
    assert_eq!(
        row.try_get::<String>("", "method").unwrap(),
        "equal_principal"
    );
    assert_eq!(row.try_get::<i32>("", "installments").unwrap(), 12);
    assert_eq!(
        row.try_get::<String>("", "allocation_order").unwrap(),
        "overdue_principal,unpaid_interest,overdue_interest,late_interest,interest,principal"
    );
    assert_eq!(row.try_get::<i64>("", "c").unwrap(), 210_050_001);
    assert_eq!(row.try_get::<i32>("", "debt_group").unwrap(), 1);
    assert_eq!(row.try_get::<i64>("", "d").unwrap(), 0);
    assert_eq!(row.try_get::<i32>("", "version").unwrap(), 1);
}

#[tokio::test]
async fn a_cooperative_user_applies_for_itself_only_and_never_sees_another() {
    let f = fund().await;
    let other = f.app.cooperative().await;
    let token = f
        .app
        .user_token("cooperative", Some(f.cooperative_id))
        .await;
    // cooperative_id in the body is ignored: the application is for its own cooperative.
    let r = f
        .app
        .post(
            "/api/v1/applications",
            &token,
            &body(&f, other, 100_000_000),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let own: Value = r.json().await.unwrap();
    assert_eq!(own["cooperative_id"], f.cooperative_id);
    let others = created(&f, &body(&f, other, 100_000_000)).await;
    let path = format!("/api/v1/applications/{}", others["id"]);
    assert_eq!(
        error_of(f.app.get(&path, &token).await, StatusCode::NOT_FOUND).await["code"],
        "not_found"
    );
    let r = f
        .app
        .post(&format!("{path}/withdraw"), &token, &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let page: Value = f
        .app
        .get("/api/v1/applications", &token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![own["id"].as_i64().unwrap()]);
    let r = f
        .app
        .post(
            &format!("/api/v1/applications/{}/submit", own["id"]),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_list_filters_by_status_and_cooperative_and_pages() {
    let f = fund().await;
    let other = f.app.cooperative().await;
    created(&f, &body(&f, f.cooperative_id, 100_000_000)).await;
    created(&f, &body(&f, other, 100_000_000)).await;
    let id = appraised(&f, &body(&f, other, 100_000_000)).await;
    let page: Value = f
        .app
        .get(
            &format!("/api/v1/applications?cooperative_id={other}&status=appraised"),
            &f.officer,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], id);
    let first: Value = f
        .app
        .get("/api/v1/applications?limit=2", &f.officer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"][0]["id"], id);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = f
        .app
        .get(
            &format!("/api/v1/applications?limit=2&cursor={cursor}"),
            &f.officer,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn wrong_state_transitions_are_conflicts_naming_the_state() {
    let f = fund().await;
    let draft = created(&f, &body(&f, f.cooperative_id, 100_000_000)).await;
    let path = format!("/api/v1/applications/{}", draft["id"]);
    let error = error_of(
        f.app
            .post(&format!("{path}/approve"), &f.approver, &json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "invalid_state");
    assert!(
        error["message"].as_str().unwrap().contains("draft"),
        "{error}"
    );
    let error = error_of(
        f.app
            .post(
                &format!("{path}/appraise"),
                &f.appraiser,
                &json!({"note": "x", "recommendation": "approve"}),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "invalid_state");
    f.app
        .post(&format!("{path}/submit"), &f.officer, &json!({}))
        .await;
    let error = error_of(
        f.app
            .post(&format!("{path}/submit"), &f.officer, &json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(error["message"].as_str().unwrap().contains("submitted"));
    let error = error_of(
        f.app
            .patch(&path, &f.officer, &json!({"version": 2, "amount_vnd": 1}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "invalid_state");
    let r = f
        .app
        .post(
            &format!("{path}/withdraw"),
            &f.officer,
            &json!({"reason": "HTX đổi phương án"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let error = error_of(
        f.app
            .post(&format!("{path}/withdraw"), &f.officer, &json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(error["message"].as_str().unwrap().contains("withdrawn"));
}

#[tokio::test]
async fn a_rejection_needs_a_reason_and_is_final() {
    let f = fund().await;
    let id = appraised(&f, &body(&f, f.cooperative_id, 100_000_000)).await;
    let path = format!("/api/v1/applications/{id}");
    let error = error_of(
        f.app
            .post(&format!("{path}/reject"), &f.approver, &json!({}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "reason");
    let r = f
        .app
        .post(
            &format!("{path}/reject"),
            &f.approver,
            &json!({"reason": "Phương án chưa khả thi"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let rejected: Value = r.json().await.unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_reason"], "Phương án chưa khả thi");
    assert_eq!(
        error_of(approve(&f, id, &f.approver).await, StatusCode::CONFLICT).await["code"],
        "invalid_state"
    );
}

#[tokio::test]
async fn a_draft_is_edited_with_its_version_and_checked_against_the_product() {
    let f = fund().await;
    let draft = created(&f, &body(&f, f.cooperative_id, 100_000_000)).await;
    let path = format!("/api/v1/applications/{}", draft["id"]);
    let r = f
        .app
        .patch(
            &path,
            &f.officer,
            &json!({"version": 1, "amount_vnd": 150_000_000i64, "collateral": []}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["amount_vnd"], 150_000_000i64);
    assert_eq!(edited["collateral"], json!([]));
    assert_eq!(edited["version"], 2);
    let error = error_of(
        f.app
            .patch(
                &path,
                &f.officer,
                &json!({"version": 2, "period_months": 6}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "period_months");
    let error = error_of(
        f.app
            .patch(&path, &f.officer, &json!({"version": 1, "purpose": "x"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "stale_version");
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field() {
    let f = fund().await;
    let base = body(&f, f.cooperative_id, 100_000_000);
    let cases: Vec<(&str, Value)> = vec![
        ("method", json!("balloon")),
        ("period_months", json!(12)),
        ("amount_vnd", json!(1_000)),
        ("amount_vnd", json!(6_000_000_000i64)),
        ("installments", json!(61)),
        ("principal_grace", json!(7)),
        ("principal_grace", json!(12)),
        ("purpose", json!("  ")),
        ("own_capital_vnd", json!(300_000_000i64)),
        ("product_id", json!(999_999)),
        ("cooperative_id", json!(999_999)),
        ("amount_vnd", json!("100000000")),
    ];
    for (field, value) in cases {
        let mut request = base.clone();
        request[field] = value.clone();
        let error = error_of(
            f.app
                .post("/api/v1/applications", &f.officer, &request)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(error["field"], field, "{field} = {value}: {error}");
    }
    let mut request = base.clone();
    request["collateral"][0]["discount_rate_percent"] = json!("101");
    let error = error_of(
        f.app
            .post("/api/v1/applications", &f.officer, &request)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "collateral[0].discount_rate_percent");
    let mut request = base.clone();
    request.as_object_mut().unwrap().remove("cooperative_id");
    let error = error_of(
        f.app
            .post("/api/v1/applications", &f.officer, &request)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "cooperative_id");
    let id = created(&f, &base).await["id"].as_i64().unwrap();
    f.app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            &f.officer,
            &json!({}),
        )
        .await;
    let error = error_of(
        f.app
            .post(
                &format!("/api/v1/applications/{id}/appraise"),
                &f.appraiser,
                &json!({"note": "ok", "recommendation": "maybe"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "recommendation");
}

#[tokio::test]
async fn the_creator_may_not_approve_their_own_application() {
    let f = fund().await;
    let id = appraised(&f, &body(&f, f.cooperative_id, 100_000_000)).await;
    make_approver(&f.app, &f.officer).await;
    assert_refused(
        &f,
        id,
        &f.officer,
        "appraised",
        "four_eyes_violation",
        "Nguyên tắc bốn mắt: người lập hồ sơ không được phê duyệt hồ sơ của mình (DOMAIN §6).",
        "Four-eyes rule: the creator of an application may not approve it (DOMAIN §6).",
    )
    .await;
}

#[tokio::test]
async fn the_appraiser_may_not_approve_what_they_appraised() {
    let f = fund().await;
    let id = appraised(&f, &body(&f, f.cooperative_id, 100_000_000)).await;
    make_approver(&f.app, &f.appraiser).await;
    assert_refused(
        &f,
        id,
        &f.appraiser,
        "appraised",
        "four_eyes_violation",
        "Nguyên tắc bốn mắt: người thẩm định không được phê duyệt hồ sơ mình đã thẩm định (DOMAIN §6).",
        "Four-eyes rule: the appraiser of an application may not approve it (DOMAIN §6).",
    )
    .await;
    assert_eq!(approve(&f, id, &f.approver).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn above_the_threshold_a_second_different_approver_completes_the_approval() {
    let f = fund().await;
    let id = appraised(&f, &body(&f, f.cooperative_id, 1_200_000_000)).await;
    let r = approve(&f, id, &f.approver).await;
    assert_eq!(r.status(), StatusCode::OK);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["status"], "awaiting_council");
    assert_eq!(first["council_approval_required"], true);
    assert!(first["loan_id"].is_null());
    assert_refused(
        &f,
        id,
        &f.approver,
        "awaiting_council",
        "four_eyes_violation",
        "Nguyên tắc bốn mắt: phê duyệt của Hội đồng quản lý phải do người khác với người phê duyệt lần đầu (DOMAIN §6).",
        "Four-eyes rule: the management council's approval must come from an approver other than the first (DOMAIN §6).",
    )
    .await;
    let r = approve(&f, id, &f.council).await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["status"], "approved");
    assert_eq!(done["approved_by"], user_id(&f.app, &f.approver).await);
    assert_eq!(
        done["council_approved_by"],
        user_id(&f.app, &f.council).await
    );
    assert!(done["loan_id"].as_i64().is_some());
}

#[tokio::test]
async fn at_the_threshold_one_approval_is_enough() {
    let f = fund().await;
    let done = approved_loan(&f, f.cooperative_id, 1_000_000_000).await;
    assert_eq!(done["status"], "approved");
    assert_eq!(done["council_approval_required"], false);
}

#[tokio::test]
async fn a_loan_above_80_percent_of_the_project_or_own_capital_below_20_percent_is_refused() {
    let f = fund().await;
    let mut request = body(&f, f.cooperative_id, 900_000_000);
    request["project_total_vnd"] = json!(1_000_000_000i64);
    request["own_capital_vnd"] = json!(200_000_000i64);
    let id = appraised(&f, &request).await;
    assert_refused(
        &f,
        id,
        &f.approver,
        "appraised",
        "project_share_exceeded",
        "Số tiền vay 900.000.000 đồng vượt 80% tổng vốn dự án (Nghị định 45/2021 Điều 22): tối đa được vay 800.000.000 đồng.",
        "The loan of 900,000,000 VND exceeds 80% of the project's total capital (Decree 45/2021 Art 22): at most 800,000,000 VND may be lent.",
    )
    .await;
    let mut request = body(&f, f.cooperative_id, 500_000_000);
    request["project_total_vnd"] = json!(1_000_000_000i64);
    request["own_capital_vnd"] = json!(100_000_000i64);
    let id = appraised(&f, &request).await;
    assert_refused(
        &f,
        id,
        &f.approver,
        "appraised",
        "own_capital_insufficient",
        "Vốn tự có 100.000.000 đồng thấp hơn 20% tổng vốn dự án (Nghị định 45/2021 Điều 22): tối thiểu 200.000.000 đồng, còn thiếu 100.000.000 đồng.",
        "Own capital of 100,000,000 VND is below 20% of the project's total capital (Decree 45/2021 Art 22): minimum 200,000,000 VND, short by 100,000,000 VND.",
    )
    .await;
}

#[tokio::test]
async fn without_the_no_bad_debt_declaration_approval_is_refused() {
    let f = fund().await;
    let mut request = body(&f, f.cooperative_id, 100_000_000);
    request["no_bad_debt_declared"] = json!(false);
    let id = appraised(&f, &request).await;
    assert_refused(
        &f,
        id,
        &f.approver,
        "appraised",
        "bad_debt_not_declared",
        "Khách hàng chưa cam kết không có nợ xấu tại tổ chức tín dụng (Nghị định 45/2021 Điều 22).",
        "The borrower has not declared that it has no bad debt at any credit institution (Decree 45/2021 Art 22).",
    )
    .await;
}

#[tokio::test]
async fn one_customer_above_15_percent_of_charter_capital_is_refused_with_the_numbers() {
    // 10 billion paid in: 1.5 billion per customer.
    let f = fund_without_council(10_000_000_000).await;
    approved_loan(&f, f.cooperative_id, 1_200_000_000).await;
    let id = appraised(&f, &body(&f, f.cooperative_id, 500_000_000)).await;
    assert_refused(
        &f,
        id,
        &f.approver,
        "appraised",
        "single_customer_limit_exceeded",
        "Dư nợ của khách hàng sau khoản vay 500.000.000 đồng vượt giới hạn 15% vốn điều lệ thực có (Nghị định 45/2021 Điều 23): giới hạn 1.500.000.000 đồng, dư nợ hiện tại 1.200.000.000 đồng, còn được vay 300.000.000 đồng.",
        "The customer's exposure after this loan of 500,000,000 VND exceeds the limit of 15% of paid-in charter capital (Decree 45/2021 Art 23): limit 1,500,000,000 VND, current exposure 1,200,000,000 VND, room left 300,000,000 VND.",
    )
    .await;
    // Exactly the room left passes.
    let id = appraised(&f, &body(&f, f.cooperative_id, 300_000_000)).await;
    assert_eq!(approve(&f, id, &f.approver).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn related_cooperatives_above_25_percent_together_are_refused_with_the_numbers() {
    // 10 billion paid in: 1.5 billion per customer, 2.5 billion per group.
    let f = fund_without_council(10_000_000_000).await;
    let mut related = Vec::new();
    for _ in 0..2 {
        let mut coop = cooperative_body(&unique("G-"));
        coop["related_group"] = json!("Nhóm Tân Cương");
        let created: Value = f
            .app
            .post("/api/v1/cooperatives", &f.app.admin_token, &coop)
            .await
            .json()
            .await
            .unwrap();
        related.push(created["id"].as_i64().unwrap());
    }
    approved_loan(&f, related[0], 1_400_000_000).await;
    approved_loan(&f, related[1], 1_000_000_000).await;
    let id = appraised(&f, &body(&f, related[1], 200_000_000)).await;
    assert_refused(
        &f,
        id,
        &f.approver,
        "appraised",
        "related_group_limit_exceeded",
        "Dư nợ của khách hàng và người có liên quan sau khoản vay 200.000.000 đồng vượt giới hạn 25% vốn điều lệ thực có (Nghị định 45/2021 Điều 23): giới hạn 2.500.000.000 đồng, dư nợ hiện tại 2.400.000.000 đồng, còn được vay 100.000.000 đồng.",
        "The exposure of the customer and its related persons after this loan of 200,000,000 VND exceeds the limit of 25% of paid-in charter capital (Decree 45/2021 Art 23): limit 2,500,000,000 VND, current exposure 2,400,000,000 VND, room left 100,000,000 VND.",
    )
    .await;
    // An unrelated cooperative is not affected by the group.
    let id = appraised(&f, &body(&f, f.cooperative_id, 1_000_000_000)).await;
    assert_eq!(approve(&f, id, &f.approver).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn charter_capital_contributions_add_up_and_are_posted_to_the_books() {
    let app = spawn_app().await;
    let accountant = app.user_token("accountant", None).await;
    for (amount, reference) in [(10_000_000_000i64, "QĐ 1"), (2_500_000_000, "QĐ 2")] {
        let r = app
            .post("/api/v1/fund/charter-capital", &accountant, &json!({"amount_vnd": amount, "contributed_on": "2024-01-02", "reference": reference}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let fund: Value = app
        .get("/api/v1/fund", &accountant)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fund["paid_in_charter_capital_vnd"], 12_500_000_000i64);
    assert_eq!(fund["contributions"].as_array().unwrap().len(), 2);
    assert_eq!(fund["province"], "Thái Nguyên");
    let sums = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT CAST(SUM(CASE WHEN account_code = '1121' THEN debit_vnd ELSE 0 END) AS BIGINT) AS cash, \
                    CAST(SUM(CASE WHEN account_code = '4111' THEN credit_vnd ELSE 0 END) AS BIGINT) AS capital, \
                    CAST(SUM(debit_vnd) - SUM(credit_vnd) AS BIGINT) AS imbalance FROM journal_lines",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sums.try_get::<i64>("", "cash").unwrap(), 12_500_000_000);
    assert_eq!(sums.try_get::<i64>("", "capital").unwrap(), 12_500_000_000);
    assert_eq!(sums.try_get::<i64>("", "imbalance").unwrap(), 0);
}

#[tokio::test]
async fn a_contribution_must_be_positive_and_not_after_the_business_date() {
    let app = spawn_app().await;
    let error = error_of(
        app.post(
            "/api/v1/fund/charter-capital",
            &app.admin_token,
            &json!({"amount_vnd": 0, "contributed_on": "2024-01-02", "reference": "x"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "amount_vnd");
    let error = error_of(
        app.post(
            "/api/v1/fund/charter-capital",
            &app.admin_token,
            &json!({"amount_vnd": 1, "contributed_on": "2999-01-01", "reference": "x"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "contributed_on");
    let coop = app.cooperative().await;
    let token = app.user_token("cooperative", Some(coop)).await;
    assert_eq!(
        app.get("/api/v1/fund", &token).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_retried_contribution_with_the_same_key_is_recorded_once_and_replays_the_first_response()
{
    let app = spawn_app().await;
    let accountant = app.user_token("accountant", None).await;
    let body = serde_json::json!({"amount_vnd": 7_000_000_000i64, "contributed_on": "2020-01-01", "reference": "UNC 77"});
    let send = |body: serde_json::Value| {
        app.client
            .post(app.url("/api/v1/fund/charter-capital"))
            .bearer_auth(&accountant)
            .header("Idempotency-Key", "gop-von-77")
            .json(&body)
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), reqwest::StatusCode::CREATED);
    let first: serde_json::Value = first.json().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::CREATED);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["id"],
        first["id"]
    );
    let mut other = body;
    other["amount_vnd"] = serde_json::json!(1);
    assert_eq!(
        send(other).await.unwrap().status(),
        reqwest::StatusCode::CONFLICT
    );
    let fund: serde_json::Value = app
        .get("/api/v1/fund", &accountant)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        fund["paid_in_charter_capital_vnd"], 7_000_000_000i64,
        "recorded once"
    );
}

#[tokio::test]
async fn a_retried_approval_with_the_same_key_replays_the_first_response_and_creates_one_loan() {
    let f = fund().await;
    let id = appraised(&f, &body(&f, f.cooperative_id, 500_000_000)).await;
    let send = || {
        f.app
            .client
            .post(f.app.url(&format!("/api/v1/applications/{id}/approve")))
            .bearer_auth(&f.approver)
            .header("Idempotency-Key", "duyet-500tr")
            .json(&json!({"reason": "Đồng ý"}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["loan_id"], first["loan_id"]);
    let loans: Value = f
        .app
        .get("/api/v1/loans", &f.approver)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        loans["items"].as_array().unwrap().len(),
        1,
        "one loan, not two"
    );
    let without_key = approve(&f, id, &f.approver).await;
    assert_eq!(
        without_key.status(),
        StatusCode::CONFLICT,
        "without a key a second approval is a state conflict"
    );
}
