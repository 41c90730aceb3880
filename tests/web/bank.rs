//! The accountant's bank statement pages in headless Chromium (issue 12): import a camt.053 through the
//! form, review the proposals, confirm all in one click, mark a line "not a repayment", and read the
//! reconciliation with account 1121. Screenshots under `target/screenshots/bank-*.png`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    driver::Driver,
    helpers::{spawn_app, unique, TestApp, PASSWORD},
    loan_fixtures::{active_loan, example_3, json_of, set_date, Staff},
};

const FUND_ACCOUNT: &str = "1234567890";
const INSTALLMENT_1_VND: i64 = 11_019_178;

fn entry(date: &str, id: &str, message: &str, amount_vnd: i64) -> String {
    format!(
        "<Ntry><Amt Ccy=\"VND\">{amount_vnd}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
         <BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt><AcctSvcrRef>{id}</AcctSvcrRef>\
         <NtryDtls><TxDtls><RmtInf><Ustrd>{message}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
}

fn camt(opening_vnd: i64, entries: &[(String, i64)]) -> String {
    let closing = opening_vnd + entries.iter().map(|e| e.1).sum::<i64>();
    let body: String = entries.iter().map(|e| e.0.clone()).collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>WEB</MsgId></GrpHdr>
<Stmt><Id>WEB-1</Id><FrToDt><FrDtTm>2026-02-09T00:00:00</FrDtTm><ToDtTm>2026-02-13T23:59:59</ToDtTm></FrToDt>
<Acct><Id><Othr><Id>{FUND_ACCOUNT}</Id></Othr></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="VND">{opening_vnd}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-09</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="VND">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-13</Dt></Dt></Bal>
{body}
</Stmt></BkToCstmrStmt></Document>"#
    )
}

async fn api(app: &TestApp, token: &str, path: &str) -> Value {
    json_of(app.get(path, token).await, StatusCode::OK).await
}

#[tokio::test]
async fn an_accountant_imports_a_statement_confirms_it_in_two_clicks_and_sees_it_reconcile() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let username = unique("ketoan.");
    json_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": username, "password": PASSWORD, "role": "accountant"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    set_date(&app, "2026-01-05").await;
    json_of(
        app.post(
            "/api/v1/fund/charter-capital",
            &staff.accountant,
            &json!({"amount_vnd": 1_000_000_000i64, "contributed_on": "2026-01-05", "reference": "Góp vốn"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let mut loans = Vec::new();
    for _ in 0..2 {
        let cooperative_id = app.cooperative().await;
        loans.push(active_loan(&app, &staff, cooperative_id, &example_3(), "2026-01-10").await);
    }
    set_date(&app, "2026-02-20").await;
    let number = |v: Value| v["number"].as_str().unwrap().to_string();
    let na = number(api(&app, &staff.auditor, &format!("/api/v1/loans/{}", loans[0])).await);
    let nb = number(api(&app, &staff.auditor, &format!("/api/v1/loans/{}", loans[1])).await);
    let file = camt(
        800_000_000,
        &[
            (
                entry(
                    "2026-02-10",
                    "FT-A",
                    &format!("{na} tra no ky 1"),
                    INSTALLMENT_1_VND,
                ),
                INSTALLMENT_1_VND,
            ),
            (
                entry(
                    "2026-02-10",
                    "FT-B",
                    &format!("Hợp tác xã trả nợ {}", nb.to_lowercase().replace('-', " ")),
                    INSTALLMENT_1_VND,
                ),
                INSTALLMENT_1_VND,
            ),
            (
                entry("2026-02-12", "FT-C", "UNG HO QUY HTX", 5_000_000),
                5_000_000,
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sao-ke-thang-2.xml");
    std::fs::write(&path, file).unwrap();

    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", &username).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#login-submit").await;
    browser.find("#who").await;
    browser.click("nav a[href='/bank-statements']").await;
    browser.find("#import-form").await;
    browser
        .script(
            "document.getElementById('format').value = 'camt053';",
            json!([]),
        )
        .await;
    browser.fill("#file", path.to_str().unwrap()).await;
    browser.click("#import-submit").await;
    let notice = browser.wait_text("#notice", "3").await;
    assert!(notice.contains("Đã nhập sao kê: 3 dòng mới"), "{notice}");
    let lines = browser.text("#lines").await;
    assert!(
        lines.contains(&na) && lines.contains(&nb),
        "both loans proposed: {lines}"
    );
    assert!(
        lines.contains("số khoản vay trong nội dung") && lines.contains("Chưa khớp"),
        "{lines}"
    );
    assert!(lines.contains("11.019.178 ₫"), "{lines}");
    browser.screenshot("bank-statement-review").await;

    // One click confirms both matched lines.
    browser.click("#confirm-all").await;
    let notice = browser.wait_text("#notice", "Đã xử lý 2 dòng").await;
    assert!(notice.contains("không xử lý được 0"), "{notice}");
    for loan in &loans {
        let tx = api(
            &app,
            &staff.auditor,
            &format!("/api/v1/loans/{loan}/transactions"),
        )
        .await;
        let repayments: Vec<&Value> = tx
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == "repayment")
            .collect();
        assert_eq!(repayments.len(), 1, "{tx}");
        assert_eq!(repayments[0]["value_date"], "2026-02-10");
    }

    // The donation is not a repayment.
    let statements = api(&app, &staff.auditor, "/api/v1/bank-statements").await;
    let id = statements[0]["id"].as_i64().unwrap();
    let detail = api(
        &app,
        &staff.auditor,
        &format!("/api/v1/bank-statements/{id}"),
    )
    .await;
    let donation = detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["bank_transaction_id"] == "FT-C")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    browser.click(&format!("#line-{donation} summary")).await;
    browser
        .fill(
            &format!("#reason-{donation}"),
            "Tiền ủng hộ của HTX, không phải trả nợ",
        )
        .await;
    browser
        .click(&format!("#line-{donation} .reject-line"))
        .await;
    browser
        .wait_text(&format!("#line-{donation} .status"), "Không phải trả nợ")
        .await;
    let reconciliation = browser.text("#reconciliation").await;
    assert!(
        reconciliation.contains("UNG HO QUY HTX"),
        "the rejected line explains the difference: {reconciliation}"
    );
    assert_eq!(browser.text("#closing-difference").await, "5.000.000 ₫");
    assert_eq!(browser.text("#unexplained").await, "0 ₫");
    browser.screenshot("bank-statement-after-confirm").await;

    // On a phone the review page does not scroll sideways.
    let phone = driver.session(true).await;
    phone.goto(&app.url("/login")).await;
    phone.fill("#username", &username).await;
    phone.fill("#password", PASSWORD).await;
    phone.click("#login-submit").await;
    phone.find("#who").await;
    phone
        .goto(&app.url(&format!("/bank-statements/{id}")))
        .await;
    phone.find("#lines").await;
    let widths = phone
        .script(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    assert!(widths[0].as_i64() <= widths[1].as_i64(), "{widths}");
    phone.screenshot("bank-statement-phone").await;
    phone.quit().await;
    browser.quit().await;
}

/// A multipart body of `parts` (name, optional file name, content).
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> (String, Vec<u8>) {
    let boundary = "----coopfund-test-boundary";
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_import_form_without_its_csrf_token_is_refused_and_imports_nothing() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let username = unique("ketoan.");
    json_of(
        app.post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": username, "password": PASSWORD, "role": "accountant"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let cookie = crate::shell::session_of(&app, &username, PASSWORD).await;
    let page = app
        .client
        .get(app.url("/bank-statements"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let csrf = page[at..at + page[at..].find('"').unwrap()].to_string();
    let file = camt(0, &[(entry("2026-02-10", "X1", "x", 5), 5)]);
    for token in [None, Some("0000"), Some(csrf.as_str())] {
        let mut parts = Vec::new();
        if let Some(token) = token {
            parts.push(("csrf", None, token));
        }
        parts.push(("format", None, "camt053"));
        parts.push(("file", Some("s.xml"), file.as_str()));
        let (content_type, body) = multipart(&parts);
        let response = app
            .client
            .post(app.url("/bank-statements/import"))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let imported = api(&app, &staff.auditor, "/api/v1/bank-statements")
            .await
            .as_array()
            .unwrap()
            .len();
        if token == Some(csrf.as_str()) {
            assert!(
                response.status().is_success() || response.status().is_redirection(),
                "{}",
                response.status()
            );
            assert_eq!(imported, 1);
        } else {
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
            assert_eq!(imported, 0, "nothing imported with token {token:?}");
        }
    }
}
