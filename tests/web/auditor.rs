//! Browser tests of the auditor pages: the auditor of the demo fund walks the desk (journal, trial
//! balance, statements, audit trail, reports as of a date, the lending report, the targets report),
//! downloads an export, and is never offered a control that changes anything — on any page the
//! auditor's navigation leads to. Screenshots at desk and phone widths.

use std::sync::OnceLock;

use coopfund::{config::Settings, demo, state::AppState};
use serde_json::{json, Value};

use crate::{
    driver::{Browser, Driver},
    helpers::{spawn_app, unique},
};

/// The demo fund's server for these tests (its own: each test module starts one).
struct Fund {
    address: String,
    auditor_token: String,
}

static FUND: OnceLock<Fund> = OnceLock::new();
/// One browser at a time within this module.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const AUDITOR: (&str, &str) = ("auditor.kiemsoat", "demo-auditor-2026");

fn fund() -> &'static Fund {
    FUND.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let app = spawn_app().await;
                let mut settings = Settings::load(None).expect("default settings");
                settings.database.url = unique("sqlite://web-auditor-");
                demo::load_explorable(&AppState::new(app.db.clone(), settings))
                    .await
                    .expect("the demo loads");
                let auditor_token = app.login(AUDITOR.0, AUDITOR.1).await;
                sender
                    .send((app.address.clone(), auditor_token))
                    .expect("send");
                std::future::pending::<()>().await;
            });
        });
        let (address, auditor_token) = receiver.recv().expect("the demo fund starts");
        Fund {
            address,
            auditor_token,
        }
    })
}

impl Fund {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    async fn api(&self, path: &str) -> Value {
        reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(&self.auditor_token)
            .send()
            .await
            .expect("api")
            .json()
            .await
            .expect("json")
    }
}

async fn login(browser: &Browser, fund: &Fund) {
    browser.goto(&fund.url("/login")).await;
    browser.fill("#username", AUDITOR.0).await;
    browser.fill("#password", AUDITOR.1).await;
    browser.click("#login-submit").await;
    browser.find("#who").await;
}

/// What on the page could change something: a form that posts anywhere but the language switch and
/// logout, or a non-GET form method, or a link to an action path.
async fn write_controls(browser: &Browser) -> Vec<String> {
    let found = browser
        .script(
            "const out = [];
             for (const f of document.querySelectorAll('form')) {
               const method = (f.getAttribute('method') || 'get').toLowerCase();
               const action = new URL(f.action, location.href).pathname;
               if (method !== 'get' && action !== '/lang' && action !== '/logout') {
                 out.push(method + ' ' + action);
               }
             }
             for (const a of document.querySelectorAll('a[href]')) {
               const path = new URL(a.href, location.href).pathname;
               if (/\\/(new|edit|repayments|disburse|reverse|sign|approve|reject|appraise|write-off|restructure|confirm)(\\/|$)/.test(path)) {
                 out.push('link ' + path);
               }
             }
             for (const b of document.querySelectorAll('button, input[type=submit]')) {
               const f = b.form;
               if (!f) { out.push('button outside a form: ' + b.textContent.trim()); }
             }
             return out;",
            json!([]),
        )
        .await;
    found
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

async fn scrolls_sideways(browser: &Browser) -> bool {
    let widths = browser
        .script(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    widths[0].as_i64().unwrap_or(0) > widths[1].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn the_auditor_reads_every_book_and_report_and_is_offered_no_write_control_on_any_page() {
    let fund = fund();
    let loans = fund.api("/api/v1/loans?status=active&limit=5").await;
    let loan_id = loans["items"][0]["id"]
        .as_i64()
        .expect("an active demo loan");
    let business_date = fund.api("/api/v1/business-date").await;
    let business_date = business_date["business_date"]
        .as_str()
        .expect("the business date")
        .to_string();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, fund).await;

    // The navigation leads to the desk.
    browser.click("nav a[href='/audit']").await;
    browser.find("#audit-desk").await;
    assert_eq!(browser.text("h1").await, "Bàn làm việc của kiểm soát viên");
    browser.screenshot("auditor-desk").await;

    // Every page of the desk and every page of the auditor's navigation: no write control.
    let mut pages = vec![
        "/home".to_string(),
        "/audit".to_string(),
        "/audit/journal".to_string(),
        format!("/audit/journal?loan_id={loan_id}"),
        "/audit/trial-balance".to_string(),
        "/audit/accounts/12831".to_string(),
        format!("/audit/loans/{loan_id}"),
        "/audit/trail".to_string(),
        "/audit/reports".to_string(),
        "/audit/lending".to_string(),
        "/audit/targets".to_string(),
        "/loans".to_string(),
        format!("/loans/{loan_id}"),
        "/cooperatives".to_string(),
        "/bank-statements".to_string(),
    ];
    pages.dedup();
    let mut failures = Vec::new();
    for page in &pages {
        browser.goto(&fund.url(page)).await;
        browser.find("main h1").await;
        let found = write_controls(&browser).await;
        if !found.is_empty() {
            failures.push(format!("{page}: {found:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "write controls shown to the auditor:\n{}",
        failures.join("\n")
    );

    // The journal filters by loan and pages; each line links to its account statement.
    browser
        .goto(&fund.url(&format!("/audit/journal?loan_id={loan_id}")))
        .await;
    let journal = browser.text("#journal").await;
    assert!(journal.contains('₫'), "{journal}");
    browser.screenshot("auditor-journal").await;

    // The trial balance through the business date balances.
    browser
        .goto(&fund.url(&format!("/audit/trial-balance?date={business_date}")))
        .await;
    assert_eq!(
        browser.text("#total-debit").await,
        browser.text("#total-credit").await,
        "debits equal credits"
    );
    browser.screenshot("auditor-trial-balance").await;

    // The trail shows who changed what, before and after.
    browser.goto(&fund.url("/audit/trail")).await;
    let trail = browser.text("#trail").await;
    assert!(trail.contains("→"), "{trail}");
    // The auditor verifies the books from the trail: every hash chain of the demo is intact.
    browser.click("#verify-link").await;
    let verdict = browser.text("#verify-passed").await;
    assert!(verdict.contains("nguyên vẹn"), "{verdict}");
    browser.screenshot("auditor-trail").await;

    // The report as of the last closed day, with its charts, agrees with the books.
    browser.goto(&fund.url("/audit/reports")).await;
    browser.find("#groups svg.chart").await;
    browser.find("#aging svg.chart").await;
    assert_eq!(
        browser.text("#total-principal").await,
        browser.text("#ledger-principal").await,
        "the report's principal equals the books'"
    );
    browser.screenshot("auditor-reports").await;

    browser.goto(&fund.url("/audit/lending")).await;
    browser.find("#appendix").await;
    browser.screenshot("auditor-lending").await;
    browser.goto(&fund.url("/audit/targets")).await;
    browser.find("#targets").await;
    browser.screenshot("auditor-targets").await;
    browser.quit().await;

    // At phone width the reports read without a sideways scroll.
    let phone = driver.session(true).await;
    login(&phone, fund).await;
    for page in [
        "/audit",
        "/audit/journal",
        "/audit/reports",
        "/audit/trail",
        "/audit/lending",
    ] {
        phone.goto(&fund.url(page)).await;
        phone.find("main h1").await;
        assert!(
            !scrolls_sideways(&phone).await,
            "{page} scrolls sideways at 360 px"
        );
    }
    phone.goto(&fund.url("/audit/reports")).await;
    phone.screenshot("auditor-reports-phone").await;
    phone.goto(&fund.url("/audit/journal")).await;
    phone.screenshot("auditor-journal-phone").await;
    phone.quit().await;
}

#[tokio::test]
async fn the_journal_and_the_reports_download_as_csv_and_xlsx_from_the_pages() {
    let fund = fund();
    // The pages' download links are plain GETs with the session cookie: log in over HTTP.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let cookies_of = |response: &reqwest::Response| -> Vec<String> {
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(str::to_string)
            .collect()
    };
    let page = client
        .get(fund.url("/login"))
        .send()
        .await
        .expect("login page");
    let pre_session = cookies_of(&page).join("; ");
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let response = client
        .post(fund.url("/login"))
        .header("cookie", &pre_session)
        .form(&[
            ("username", AUDITOR.0),
            ("password", AUDITOR.1),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("log in");
    let session = cookies_of(&response)
        .into_iter()
        .filter(|c| !c.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ");
    assert!(
        !session.is_empty(),
        "a session cookie: {:?}",
        response.status()
    );
    let client = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::COOKIE,
                reqwest::header::HeaderValue::from_str(&session).unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .expect("client");

    let journal = client
        .get(fund.url("/audit/journal?format=csv"))
        .send()
        .await
        .expect("journal csv");
    assert_eq!(journal.status(), 200);
    let text = journal.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "Số dòng,Số bút toán,Ngày ghi sổ,Loại,Diễn giải,Mã khoản vay,Mã giao dịch,Tài khoản,Nợ (₫),Có (₫),Thời điểm ghi (UTC)"
    );
    // Every line of the journal, debits equal to credits.
    let (mut debit, mut credit, mut rows) = (0i64, 0i64, 0usize);
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for record in reader.records() {
        let record = record.expect("a csv record");
        debit += record[8].parse::<i64>().unwrap();
        credit += record[9].parse::<i64>().unwrap();
        rows += 1;
    }
    assert!(rows > 100, "the whole demo journal: {rows} lines");
    assert_eq!(debit, credit);

    let xlsx = client
        .get(fund.url("/audit/journal?format=xlsx"))
        .send()
        .await
        .expect("journal xlsx");
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip workbook");
}
