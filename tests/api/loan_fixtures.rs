//! Loans for the loan and ledger tests. Until the approval path is used here, an approved loan (and
//! the product and application it comes from) is inserted directly, exactly as approval would leave it:
//! status `approved`, the terms snapshot, balances 0. Everything after approval goes through HTTP.

use chrono::{NaiveDate, Utc};
use coopfund::store::entities::{application, loan, product};
use reqwest::{Response, StatusCode};
use sea_orm::{ActiveModelTrait, Set};
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
    coopfund::app::fund::set_business_date(&app.db, date(text))
        .await
        .expect("set business date");
}

/// Inserts a product, an approved application and its `approved` loan for `cooperative_id`; the loan id.
pub async fn approved_loan(app: &TestApp, cooperative_id: i64, terms: &Terms) -> i64 {
    let now = Utc::now();
    let product = product::ActiveModel {
        code: Set(unique("SP")),
        name: Set("Cho vay vốn lưu động".into()),
        description: Set(String::new()),
        rate_percent: Set(terms.rate_percent.into()),
        methods: Set("annuity,equal_principal,bullet".into()),
        period_months: Set("1,3,6,12".into()),
        min_amount_vnd: Set(1_000_000),
        max_amount_vnd: Set(10_000_000_000),
        min_installments: Set(1),
        max_installments: Set(120),
        max_principal_grace: Set(12),
        day_count: Set("actual_365".into()),
        installment_unit_vnd: Set(1),
        overdue_multiplier: Set("1.5".into()),
        late_rate_percent: Set("10".into()),
        allocation_order: Set(
            "overdue_principal,unpaid_interest,overdue_interest,late_interest,interest,principal"
                .into(),
        ),
        prepayment_rule: Set(terms.prepayment_rule.into()),
        collateral_free_limit_vnd: Set(0),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("product");
    let application = application::ActiveModel {
        number: Set(unique("HS-")),
        cooperative_id: Set(cooperative_id),
        product_id: Set(product.id),
        amount_vnd: Set(terms.principal_vnd),
        installments: Set(terms.installments),
        period_months: Set(terms.period_months),
        method: Set(terms.method.into()),
        principal_grace: Set(0),
        purpose: Set("Mua vật tư".into()),
        project_total_vnd: Set(terms.principal_vnd * 2),
        own_capital_vnd: Set(terms.principal_vnd),
        no_bad_debt_declared: Set(true),
        documents: Set("[]".into()),
        status: Set("approved".into()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("application");
    let loan = loan::ActiveModel {
        number: Set(unique("HTX-2026-")),
        application_id: Set(application.id),
        cooperative_id: Set(cooperative_id),
        product_id: Set(product.id),
        officer_id: Set(None),
        principal_vnd: Set(terms.principal_vnd),
        rate_percent: Set(terms.rate_percent.into()),
        method: Set(terms.method.into()),
        installments: Set(terms.installments),
        period_months: Set(terms.period_months),
        principal_grace: Set(0),
        day_count: Set("actual_365".into()),
        installment_unit_vnd: Set(1),
        first_due_on: Set(None),
        overdue_multiplier: Set("1.5".into()),
        late_rate_percent: Set("10".into()),
        allocation_order: Set(product.allocation_order.clone()),
        prepayment_rule: Set(terms.prepayment_rule.into()),
        collateral_value_vnd: Set(0),
        status: Set("approved".into()),
        contract_number: Set(None),
        signed_on: Set(None),
        first_disbursed_on: Set(None),
        closed_on: Set(None),
        disbursed_vnd: Set(0),
        in_term_principal_vnd: Set(0),
        overdue_principal_vnd: Set(0),
        advance_vnd: Set(0),
        dpd: Set(0),
        debt_group: Set(1),
        restructure_count: Set(0),
        balances_as_of: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("loan");
    loan.id
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

/// `coopfund ledger verify`'s logic on the test database; panics with the report when it fails.
pub async fn assert_ledger_verifies(app: &TestApp) {
    let report = coopfund::app::ledger::verify(&app.db)
        .await
        .expect("verify runs");
    assert!(report.passed(), "{}", report.render());
}
