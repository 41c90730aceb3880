//! `?format=csv|xlsx` on the tables auditors take away.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn an_auditor_exports_the_trial_balance_and_the_audit_trail_as_csv_and_xlsx() {
    let app = spawn_app().await;
    let auditor = app.user_token("auditor", None).await;
    let accountant = app.user_token("accountant", None).await;
    let r = app
        .post("/api/v1/fund/charter-capital", &accountant, &json!({"amount_vnd": 50_000_000_000i64, "contributed_on": "2020-01-01", "reference": "Góp vốn, đợt 1"}))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap_or_default()
    );

    let csv = app
        .get("/api/v1/ledger/trial-balance?format=csv", &auditor)
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("trial-balance-"));
    let text = csv.text().await.unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header = lines.next().unwrap();
    assert!(
        header.contains("code") && header.contains("debit_vnd") && header.contains("credit_vnd"),
        "{header}"
    );
    assert!(text.contains("1121,Tiền gửi ngân hàng"), "{text}");
    assert!(
        text.contains("50000000000"),
        "amounts are whole đồng: {text}"
    );

    let xlsx = app
        .get("/api/v1/ledger/trial-balance?format=xlsx", &auditor)
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX workbook is a zip file");

    let audit = app
        .get(
            "/api/v1/audit?format=csv&entity_type=charter_capital",
            &auditor,
        )
        .await;
    assert_eq!(audit.status(), StatusCode::OK);
    let journal = app
        .get("/api/v1/ledger/entries?format=csv", &auditor)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        journal.contains("\"Góp vốn, đợt 1\"") || journal.contains("charter_capital"),
        "{journal}"
    );
}

#[tokio::test]
async fn an_unknown_export_format_is_a_400_naming_format() {
    let app = spawn_app().await;
    let error = error_of(
        app.get("/api/v1/ledger/trial-balance?format=pdf", &app.admin_token)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "format");
}

#[tokio::test]
async fn an_account_statement_shows_opening_running_and_closing_balances() {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-03-31".into()).await;
    let accountant = app.user_token("accountant", None).await;
    for (amount, on) in [
        (10_000_000_000i64, "2026-01-15"),
        (5_000_000_000, "2026-02-10"),
        (2_000_000_000, "2026-03-05"),
    ] {
        let body = json!({"amount_vnd": amount, "contributed_on": on, "reference": format!("Góp vốn {on}")});
        assert_eq!(
            app.post("/api/v1/fund/charter-capital", &accountant, &body)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let statement: serde_json::Value = app
        .get(
            "/api/v1/ledger/accounts/4111/statement?from=2026-02-01&to=2026-03-31",
            &accountant,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["normal_side"], "credit");
    assert_eq!(statement["opening_balance_vnd"], 10_000_000_000i64);
    let balances: Vec<i64> = statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["balance_vnd"].as_i64().unwrap())
        .collect();
    assert_eq!(balances, [15_000_000_000, 17_000_000_000]);
    assert_eq!(statement["total_credit_vnd"], 7_000_000_000i64);
    assert_eq!(statement["closing_balance_vnd"], 17_000_000_000i64);
    let csv = app
        .get(
            "/api/v1/ledger/accounts/1121/statement?from=2026-01-01&format=csv",
            &accountant,
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 4, "a header and three lines: {csv}");
    let error = error_of(
        app.get("/api/v1/ledger/accounts/9999/statement", &accountant)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(error["code"], "not_found");
    let error = error_of(
        app.get(
            "/api/v1/ledger/accounts/1121/statement?from=2026-03-01&to=2026-02-01",
            &accountant,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "from");
}
