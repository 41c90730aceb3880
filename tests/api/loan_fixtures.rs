//! Loans for the loan and ledger tests, made through the API the way the fund makes them: a
//! product, an application, its submission, appraisal and approval (which creates the loan), then
//! signing, disbursement and repayments. No row is inserted by hand, so a fixture loan is always
//! one the approval could have produced.

use chrono::NaiveDate;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{unique, TestApp};

/// The terms of a test loan.
#[derive(Debug, Clone)]
pub struct Terms {
    pub principal_vnd: i64,
    pub rate_percent: &'static str,
    pub installments: i32,
    pub period_months: i32,
    pub method: &'static str,
    pub prepayment_rule: &'static str,
}

/// DOMAIN.md worked example 3: 100,000,000 at 12%, 10 monthly, equal principal.
pub fn example_3() -> Terms {
    Terms {
        principal_vnd: 100_000_000,
        rate_percent: "12",
        installments: 10,
        period_months: 1,
        method: "equal_principal",
        prepayment_rule: "shorten_term",
    }
}

/// A date from text.
pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// Sets the business date (there is no close of business in these tests).
pub async fn set_date(app: &TestApp, text: &str) {
    coopfund::app::fund::set_business_date(&app.db, date(text), chrono::Utc::now())
        .await
        .expect("set business date");
}

/// Closes every day through `through` (`POST /cob/run` as the admin), asserts each run finished, and returns the
/// outcome: the one close of business every test that moves the date by closes goes through.
pub async fn run_cob(app: &TestApp, through: &str) -> Value {
    let outcome = json_of(
        app.post(
            "/api/v1/cob/run",
            &app.admin_token,
            &json!({"through": through}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        outcome["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .all(|r| r["status"] == "finished"),
        "{outcome}"
    );
    outcome
}

/// Paid-in charter capital the fixtures give a fund that has none: 10,000 billion đồng, so the
/// Decree 45 limits (15% per customer) never refuse a test loan. It is cash at bank (1121).
pub const FIXTURE_CHARTER_CAPITAL_VND: i64 = 10_000_000_000_000;

/// Gives the fund charter capital when it has none (the approval checks the Decree 45 limits),
/// contributed on the business date: the books hold nothing before the first loan's day.
async fn ensure_charter_capital(app: &TestApp) {
    let fund = json_of(
        app.get("/api/v1/fund", &app.admin_token).await,
        StatusCode::OK,
    )
    .await;
    if fund["paid_in_charter_capital_vnd"].as_i64() != Some(0) {
        return;
    }
    let body = json!({"amount_vnd": FIXTURE_CHARTER_CAPITAL_VND, "contributed_on": fund["business_date"], "reference": "QĐ 1/QĐ-UBND"});
    json_of(
        app.post("/api/v1/fund/charter-capital", &app.admin_token, &body)
            .await,
        StatusCode::CREATED,
    )
    .await;
}

/// A product offering `terms`: every method and period, the DOMAIN.md defaults otherwise.
fn product_for(terms: &Terms) -> Value {
    json!({
        "code": unique("SP"),
        "name": "Cho vay vốn lưu động",
        "rate_percent": terms.rate_percent,
        "methods": ["annuity", "equal_principal", "bullet"],
        "period_months": [1, 3, 6, 12],
        "min_amount_vnd": 1_000_000,
        "max_amount_vnd": 10_000_000_000i64,
        "min_installments": 1,
        "max_installments": 120,
        "max_principal_grace": 12,
        "prepayment_rule": terms.prepayment_rule,
    })
}

/// An `approved` loan for `cooperative_id` with `terms`, made the way the fund makes one: a
/// product, an application created and submitted by an officer, appraised by a second officer and
/// approved by an approver (and the council above its threshold). The loan id.
pub async fn approved_loan(app: &TestApp, cooperative_id: i64, terms: &Terms) -> i64 {
    ensure_charter_capital(app).await;
    let product = json_of(
        app.post("/api/v1/products", &app.admin_token, &product_for(terms))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let officer = app.user_token("officer", None).await;
    let appraiser = app.user_token("officer", None).await;
    let approver = app.user_token("approver", None).await;
    let application = json!({
        "product_id": product["id"],
        "cooperative_id": cooperative_id,
        "amount_vnd": terms.principal_vnd,
        "installments": terms.installments,
        "period_months": terms.period_months,
        "method": terms.method,
        "purpose": "Mua vật tư",
        "project_total_vnd": terms.principal_vnd * 2,
        "own_capital_vnd": terms.principal_vnd,
        "no_bad_debt_declared": true,
    });
    let created = json_of(
        app.post("/api/v1/applications", &officer, &application)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let path = |step: &str| format!("/api/v1/applications/{}/{step}", created["id"]);
    let appraisal = json!({"note": "Phương án khả thi", "recommendation": "approve"});
    for (step, token, body) in [
        ("submit", &officer, json!({})),
        ("appraise", &appraiser, appraisal),
    ] {
        json_of(app.post(&path(step), token, &body).await, StatusCode::OK).await;
    }
    let mut decided = json_of(
        app.post(&path("approve"), &approver, &json!({})).await,
        StatusCode::OK,
    )
    .await;
    if decided["status"] == "awaiting_council" {
        let council = app.user_token("approver", None).await;
        decided = json_of(
            app.post(&path("approve"), &council, &json!({})).await,
            StatusCode::OK,
        )
        .await;
    }
    assert_eq!(decided["status"], "approved", "{decided}");
    decided["loan_id"].as_i64().expect("the approval's loan")
}

/// Tokens for the roles that act on loans.
pub struct Staff {
    pub officer: String,
    pub accountant: String,
    pub approver: String,
    pub auditor: String,
}

impl Staff {
    pub async fn new(app: &TestApp) -> Staff {
        Staff {
            officer: app.user_token("officer", None).await,
            accountant: app.user_token("accountant", None).await,
            approver: app.user_token("approver", None).await,
            auditor: app.user_token("auditor", None).await,
        }
    }
}

/// POST with an optional `Idempotency-Key`.
pub async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> Response {
    let mut request = app.client.post(app.url(path)).bearer_auth(token).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("request")
}

/// Reads a JSON body after asserting the status (the body is shown when it differs).
pub async fn json_of(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "unexpected status; body: {body}");
    body
}

/// Signs the contract on `signed_on` (officer).
pub async fn sign(app: &TestApp, staff: &Staff, loan_id: i64, signed_on: &str) {
    let body = json!({"contract_number": unique("HĐ-"), "signed_on": signed_on});
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan_id}/sign"),
            &staff.officer,
            &body,
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// Disburses (accountant) and returns the transaction.
pub async fn disburse(
    app: &TestApp,
    staff: &Staff,
    loan_id: i64,
    amount_vnd: i64,
    value_date: &str,
) -> Value {
    let body = json!({"amount_vnd": amount_vnd, "value_date": value_date, "reference": "UNC 123"});
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan_id}/disbursements"),
            &staff.accountant,
            &body,
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

/// Posts a repayment (accountant) and returns the response.
pub async fn repay(
    app: &TestApp,
    staff: &Staff,
    loan_id: i64,
    amount_vnd: i64,
    value_date: &str,
    kind: &str,
) -> Response {
    let body = json!({"amount_vnd": amount_vnd, "value_date": value_date, "reference": "GD 456", "kind": kind});
    app.post(
        &format!("/api/v1/loans/{loan_id}/repayments"),
        &staff.accountant,
        &body,
    )
    .await
}

/// An active loan: example-3 terms (or `terms`), signed and disbursed in full on `on` (also the business date).
pub async fn active_loan(
    app: &TestApp,
    staff: &Staff,
    cooperative_id: i64,
    terms: &Terms,
    on: &str,
) -> i64 {
    set_date(app, on).await;
    let loan_id = approved_loan(app, cooperative_id, terms).await;
    sign(app, staff, loan_id, on).await;
    disburse(app, staff, loan_id, terms.principal_vnd, on).await;
    loan_id
}

/// `count` active loans of `cooperative_id` on example-3 terms, each as [`active_loan`] makes it.
pub async fn active_loans(
    app: &TestApp,
    staff: &Staff,
    cooperative_id: i64,
    count: usize,
    on: &str,
) -> Vec<i64> {
    let mut loans = Vec::with_capacity(count);
    for _ in 0..count {
        loans.push(active_loan(app, staff, cooperative_id, &example_3(), on).await);
    }
    loans
}

/// The amounts of the repayments recorded on `loan_id`, in the order the auditor's list gives them.
pub async fn repayment_amounts(app: &TestApp, staff: &Staff, loan_id: i64) -> Vec<i64> {
    let transactions = json_of(
        app.get(
            &format!("/api/v1/loans/{loan_id}/transactions"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    transactions
        .as_array()
        .expect("transactions")
        .iter()
        .filter(|t| t["kind"] == "repayment")
        .map(|t| t["amount_vnd"].as_i64().expect("amount"))
        .collect()
}

/// `coopfund ledger verify`'s logic on the test database; panics with the report when it fails.
pub async fn assert_ledger_verifies(app: &TestApp) {
    let report =
        coopfund::app::ledger::verify(&app.db, &app.settings.classification.classification())
            .await
            .expect("verify runs");
    assert!(report.passed(), "{}", report.render());
}
