//! Event mails queued by the use cases in their own transactions (DOMAIN.md §10): application
//! received on submit, the final decision (approval, after the council when needed, or rejection),
//! each disbursement and each repayment. After each event the outbox (GET /api/v1/outbox as admin)
//! has exactly one new row of the right kind, to the cooperative, in its language.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::{
    helpers::{cooperative_body, spawn_app_with, unique, TestApp, PASSWORD},
    loan_fixtures::{json_of, set_date},
    products::product_body,
};

/// A fund on 2026-01-10 with a 12% product, charter capital, staff and an English-speaking
/// cooperative followed by an officer with an email address.
struct Fund {
    app: TestApp,
    officer: String,
    appraiser: String,
    approver: String,
    council: String,
    accountant: String,
    product_id: i64,
    cooperative_id: i64,
    cooperative_email: String,
    officer_email: String,
}

async fn fund() -> Fund {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-10".into()).await;
    let mut product = product_body(&unique("SP-"));
    product["rate_percent"] = json!("12");
    let product: Value = json_of(
        app.post("/api/v1/products", &app.admin_token, &product)
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
    let officer_email = format!("{}@quyhtx.example.vn", unique("officer"));
    let officer_name = unique("officer");
    let created: Value = json_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": officer_name, "password": PASSWORD, "role": "officer", "full_name": "Trần Thị Bình", "email": officer_email}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let cooperative_email = format!("{}@htx.example.vn", unique("htx"));
    let mut coop = cooperative_body(&unique("EM-"));
    coop["language"] = json!("en");
    coop["officer_id"] = created["id"].clone();
    coop["email"] = json!(cooperative_email);
    let coop: Value = json_of(
        app.post("/api/v1/cooperatives", &app.admin_token, &coop)
            .await,
        StatusCode::CREATED,
    )
    .await;
    Fund {
        officer: app.login(&officer_name, PASSWORD).await,
        appraiser: app.user_token("officer", None).await,
        approver: app.user_token("approver", None).await,
        council: app.user_token("approver", None).await,
        accountant: app.user_token("accountant", None).await,
        product_id: product["id"].as_i64().expect("product id"),
        cooperative_id: coop["id"].as_i64().expect("cooperative id"),
        cooperative_email,
        officer_email,
        app,
    }
}

/// Worked example 3's terms (100,000,000 at 12%, 10 monthly, equal principal) for `amount_vnd`.
fn application(f: &Fund, amount_vnd: i64) -> Value {
    json!({
        "product_id": f.product_id,
        "cooperative_id": f.cooperative_id,
        "amount_vnd": amount_vnd,
        "installments": 10,
        "period_months": 1,
        "method": "equal_principal",
        "principal_grace": 0,
        "purpose": "Mua phân bón vụ chè xuân",
        "project_total_vnd": amount_vnd * 2,
        "own_capital_vnd": amount_vnd,
        "collateral": [],
        "no_bad_debt_declared": true,
        "documents": []
    })
}

/// The outbox rows of the fund's cooperative, oldest first.
async fn outbox(f: &Fund) -> Vec<Value> {
    let page: Value = json_of(
        f.app
            .get(
                &format!(
                    "/api/v1/outbox?cooperative_id={}&limit=200",
                    f.cooperative_id
                ),
                &f.app.admin_token,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mut items = page["items"].as_array().expect("items").clone();
    items.reverse();
    items
}

/// Asserts exactly one row was added since `before` rows and returns it.
async fn one_new_row(f: &Fund, before: usize, kind: &str) -> Value {
    let rows = outbox(f).await;
    assert_eq!(
        rows.len(),
        before + 1,
        "exactly one new message after the event: {rows:#?}"
    );
    let row = rows.last().expect("row").clone();
    assert_eq!(row["kind"], kind, "{row}");
    assert_eq!(row["recipient"], f.cooperative_email.as_str(), "{row}");
    assert_eq!(row["language"], "en", "{row}");
    row
}

async fn post_ok(f: &Fund, path: &str, token: &str, body: Value) -> Value {
    json_of(f.app.post(path, token, &body).await, StatusCode::OK).await
}

/// Creates, submits and appraises; returns the application id.
async fn appraised(f: &Fund, amount_vnd: i64) -> i64 {
    let created = json_of(
        f.app
            .post(
                "/api/v1/applications",
                &f.officer,
                &application(f, amount_vnd),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    post_ok(
        f,
        &format!("/api/v1/applications/{id}/submit"),
        &f.officer,
        json!({}),
    )
    .await;
    post_ok(
        f,
        &format!("/api/v1/applications/{id}/appraise"),
        &f.appraiser,
        json!({"note": "Khả thi", "recommendation": "approve"}),
    )
    .await;
    id
}

#[tokio::test]
async fn a_submitted_application_mails_the_cooperative_that_it_was_received_and_a_draft_does_not() {
    let f = fund().await;
    let created = json_of(
        f.app
            .post(
                "/api/v1/applications",
                &f.officer,
                &application(&f, 100_000_000),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(
        outbox(&f).await.is_empty(),
        "a draft is not registered with the fund yet"
    );
    let id = created["id"].as_i64().expect("id");
    post_ok(
        &f,
        &format!("/api/v1/applications/{id}/submit"),
        &f.officer,
        json!({}),
    )
    .await;
    let row = one_new_row(&f, 0, "application_received").await;
    let number = created["number"].as_str().expect("number");
    assert_eq!(
        row["subject"],
        format!("Loan application {number} received")
    );
    assert_eq!(row["dedupe_key"], format!("application_received:{id}"));
}

#[tokio::test]
async fn an_approval_mails_the_decision_with_the_loan_number_and_a_copy_to_the_officer() {
    let f = fund().await;
    let id = appraised(&f, 100_000_000).await;
    let before = outbox(&f).await.len();
    let approved = post_ok(
        &f,
        &format!("/api/v1/applications/{id}/approve"),
        &f.approver,
        json!({}),
    )
    .await;
    let row = one_new_row(&f, before, "application_decision").await;
    assert!(
        row["subject"]
            .as_str()
            .is_some_and(|s| s.ends_with("approved")),
        "{row}"
    );
    assert_eq!(row["cc"], f.officer_email.as_str());
    let body = body_of(&f, row["id"].as_i64().expect("id")).await;
    let loan_number = approved["loan_number"].as_str().expect("loan number");
    for expected in ["100,000,000 VND", "10 months", loan_number] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
}

#[tokio::test]
async fn above_the_council_threshold_only_the_final_approval_mails_the_decision() {
    let f = fund().await;
    let id = appraised(&f, 1_200_000_000).await;
    let before = outbox(&f).await.len();
    let first = post_ok(
        &f,
        &format!("/api/v1/applications/{id}/approve"),
        &f.approver,
        json!({}),
    )
    .await;
    assert_eq!(first["status"], "awaiting_council");
    assert_eq!(
        outbox(&f).await.len(),
        before,
        "no mail while the council has not decided"
    );
    post_ok(
        &f,
        &format!("/api/v1/applications/{id}/approve"),
        &f.council,
        json!({}),
    )
    .await;
    one_new_row(&f, before, "application_decision").await;
}

#[tokio::test]
async fn a_rejection_mails_the_decision_with_the_reason() {
    let f = fund().await;
    let id = appraised(&f, 100_000_000).await;
    let before = outbox(&f).await.len();
    let reason = "Phương án chưa khả thi";
    post_ok(
        &f,
        &format!("/api/v1/applications/{id}/reject"),
        &f.approver,
        json!({"reason": reason}),
    )
    .await;
    let row = one_new_row(&f, before, "application_decision").await;
    assert!(
        row["subject"]
            .as_str()
            .is_some_and(|s| s.ends_with("not approved")),
        "{row}"
    );
    assert!(body_of(&f, row["id"].as_i64().expect("id"))
        .await
        .contains(reason));
}

#[tokio::test]
async fn a_disbursement_and_a_repayment_each_mail_the_cooperative_with_the_amounts() {
    let f = fund().await;
    let id = appraised(&f, 100_000_000).await;
    let approved = post_ok(
        &f,
        &format!("/api/v1/applications/{id}/approve"),
        &f.approver,
        json!({}),
    )
    .await;
    let loan_id = approved["loan_id"].as_i64().expect("loan id");
    let loan_number = approved["loan_number"]
        .as_str()
        .expect("loan number")
        .to_string();
    post_ok(
        &f,
        &format!("/api/v1/loans/{loan_id}/sign"),
        &f.officer,
        json!({"contract_number": unique("HĐ-"), "signed_on": "2026-01-10"}),
    )
    .await;

    let before = outbox(&f).await.len();
    let body =
        json!({"amount_vnd": 100_000_000i64, "value_date": "2026-01-10", "reference": "UNC 1"});
    json_of(
        f.app
            .post(
                &format!("/api/v1/loans/{loan_id}/disbursements"),
                &f.accountant,
                &body,
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let row = one_new_row(&f, before, "disbursement_notice").await;
    assert_eq!(
        row["subject"],
        format!("Disbursement on loan {loan_number}: 100,000,000 VND")
    );
    let text = body_of(&f, row["id"].as_i64().expect("id")).await;
    for expected in ["10 February 2026", "10,000,000 VND", "1,019,178 VND"] {
        assert!(
            text.contains(expected),
            "the first installment is announced: missing {expected:?} in:\n{text}"
        );
    }

    // Worked example 3: 11,100,000 on 2026-02-20, ten days late.
    set_date(&f.app, "2026-02-20").await;
    let before = outbox(&f).await.len();
    let body =
        json!({"amount_vnd": 11_100_000i64, "value_date": "2026-02-20", "reference": "GD 2"});
    json_of(
        f.app
            .post(
                &format!("/api/v1/loans/{loan_id}/repayments"),
                &f.accountant,
                &body,
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let row = one_new_row(&f, before, "payment_receipt").await;
    assert_eq!(
        row["subject"],
        format!("Payment receipt for loan {loan_number}: 11,100,000 VND")
    );
    let text = body_of(&f, row["id"].as_i64().expect("id")).await;
    for expected in [
        "10,000,000 VND",
        "1,019,178 VND",
        "49,315 VND",
        "2,792 VND",
        "11,071,285 VND",
        "28,715 VND",
        "90,000,000 VND",
        "10 March 2026",
        "828,493 VND",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

/// The stored text body of outbox row `id`.
async fn body_of(f: &Fund, id: i64) -> String {
    use coopfund::store::entities::outbox_message;
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Id.eq(id))
        .one(&f.app.db)
        .await
        .expect("query")
        .expect("row")
        .body_text
}
