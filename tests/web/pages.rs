//! The pages in headless Chromium over the demo fund: each staff role's dashboard, the loan page,
//! the repayment form end to end, a double click, a form without its CSRF token, the language
//! switch, and a phone-width dashboard.

use std::sync::OnceLock;

use coopfund::{config::Settings, demo, state::AppState};
use serde_json::{json, Value};

use crate::{
    driver::{Browser, Driver},
    helpers::{spawn_app_with, unique},
};

/// The demo fund's server, shared by the browser tests of this process.
pub(crate) struct Fund {
    pub(crate) address: String,
    pub(crate) accountant_token: String,
}

static FUND: OnceLock<Fund> = OnceLock::new();
/// One browser at a time (an async mutex: each test runs on a runtime of its own).
pub(crate) static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) const OFFICER: (&str, &str) = ("officer.lan", "demo-officer-2026");
pub(crate) const ACCOUNTANT: (&str, &str) = ("accountant.hoa", "demo-accountant-2026");
pub(crate) const APPROVER: (&str, &str) = ("approver.giamdoc", "demo-approver-2026");
pub(crate) const AUDITOR: (&str, &str) = ("auditor.kiemsoat", "demo-auditor-2026");
pub(crate) const ADMIN: (&str, &str) = ("admin", crate::helpers::ADMIN_PASSWORD);
pub(crate) const COOPERATIVE: (&str, &str) = ("htx.tancuong", "demo-cooperative-2026");

/// Starts (once) a server with the demo fund loaded, on a runtime that lives as long as the process.
pub(crate) fn fund() -> &'static Fund {
    FUND.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let app = spawn_app_with(demo::use_demo_bank_account).await;
                let mut settings = Settings::load(None).expect("default settings");
                demo::use_demo_bank_account(&mut settings);
                // Only names the in-process close-of-business lock (see tests/api/demo.rs).
                settings.database.url = unique("sqlite://web-demo-");
                demo::load_explorable(&AppState::new(app.db.clone(), settings))
                    .await
                    .expect("the demo loads");
                let accountant_token = app.login(ACCOUNTANT.0, ACCOUNTANT.1).await;
                sender
                    .send((app.address.clone(), accountant_token))
                    .expect("send");
                // Serve until the test process ends.
                std::future::pending::<()>().await;
            });
        });
        let (address, accountant_token) = receiver.recv().expect("the demo fund starts");
        Fund {
            address,
            accountant_token,
        }
    })
}

impl Fund {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub(crate) async fn api(&self, path: &str) -> Value {
        // A client per call: a pooled connection belongs to the runtime of the test that opened it,
        // and each test has its own runtime.
        reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(&self.accountant_token)
            .send()
            .await
            .expect("api")
            .json()
            .await
            .expect("json")
    }

    /// Active loans, largest outstanding first (so a small repayment is never above the payoff).
    pub(crate) async fn active_loans(&self) -> Vec<Value> {
        let mut loans = self.api("/api/v1/loans?status=active&limit=200").await["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        loans.sort_by_key(|l| {
            -(l["in_term_principal_vnd"].as_i64().unwrap_or(0)
                + l["overdue_principal_vnd"].as_i64().unwrap_or(0))
        });
        assert!(loans.len() >= 4, "the demo has active loans");
        loans
    }

    /// The repayments of loan `id` with `reference`, as the API lists them.
    async fn repayments(&self, id: i64, reference: &str) -> Vec<Value> {
        self.api(&format!("/api/v1/loans/{id}/transactions"))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t["kind"] == "repayment" && t["reference"] == reference)
            .collect()
    }
}

pub(crate) async fn login(browser: &Browser, fund: &Fund, (username, password): (&str, &str)) {
    browser.goto(&fund.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser.click("#login-submit").await;
    browser.find("#who").await;
    assert!(
        browser.text("#who").await.contains(username),
        "{username} is shown as logged in"
    );
}

/// Whether the page is wider than the window (a horizontal scroll).
pub(crate) async fn scrolls_sideways(browser: &Browser) -> (i64, i64) {
    let widths = browser
        .script(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    (
        widths[0].as_i64().unwrap_or(0),
        widths[1].as_i64().unwrap_or(0),
    )
}

#[tokio::test]
async fn each_staff_role_logs_in_and_sees_its_own_dashboard_with_the_business_date() {
    let fund = fund();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    for (who, heading, section) in [
        (OFFICER, "Việc của cán bộ tín dụng", "#my-applications"),
        (ACCOUNTANT, "Việc của kế toán", "#to-disburse"),
        (APPROVER, "Việc của người phê duyệt", "#approval-queue"),
        (AUDITOR, "Tổng quan danh mục", "#portfolio"),
        (ADMIN, "Tổng quan danh mục", "#cob-runs"),
        (COOPERATIVE, "Khoản vay của HTX", "#own-loans"),
    ] {
        let browser = driver.session(false).await;
        login(&browser, fund, who).await;
        assert!(browser.current_url().await.ends_with("/home"));
        assert_eq!(browser.text("h1").await, heading, "{}", who.0);
        browser.find(section).await;
        let date = browser.text("#business-date").await;
        assert!(
            date.starts_with("Ngày làm việc: ") && date.len() >= "Ngày làm việc: dd/mm/yyyy".len(),
            "{date}"
        );
        browser.screenshot(&format!("dashboard-{}", who.0)).await;
        browser.quit().await;
    }

    // The officer's desk has the numbers of the demo: applications by state and overdue bands.
    let browser = driver.session(false).await;
    login(&browser, fund, OFFICER).await;
    let apps = browser.text("#my-applications").await;
    assert!(apps.contains("Nháp") || apps.contains("Đã nộp"), "{apps}");
    let bands = browser.text("#overdue-bands").await;
    assert!(bands.contains('₫'), "{bands}");

    // The cooperative list searches (with JavaScript on, htmx swaps the results in place).
    browser.click("nav a[href='/cooperatives']").await;
    browser.find("#cooperative-list").await;
    browser.fill("#q", "Tân Cương").await;
    browser.click("form[role=search] button[type=submit]").await;
    let results = browser.wait_text_without("#results", "Hóa Thượng").await;
    assert!(results.contains("HTX Chè Tân Cương"), "{results}");
    browser.screenshot("cooperatives-search").await;
    browser.quit().await;
}

#[tokio::test]
async fn a_repayment_posted_through_the_form_is_on_the_loan_page_and_a_mistake_is_shown_by_its_field(
) {
    let fund = fund();
    let loan = fund.active_loans().await[0].clone();
    let id = loan["id"].as_i64().unwrap();
    let reference = unique("UNC-WEB-");
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, fund, ACCOUNTANT).await;

    browser.goto(&fund.url(&format!("/loans/{id}"))).await;
    assert_eq!(
        browser.text("#loan-number").await,
        loan["number"].as_str().unwrap()
    );
    browser.find("#schedule").await;
    browser.screenshot("loan-page").await;
    browser.click("#repay-link").await;
    let payoff = browser.wait_text("#payoff-total", "₫").await;
    assert!(
        payoff.ends_with(" ₫"),
        "the payoff is shown before posting: {payoff}"
    );

    // A comma in a Vietnamese amount is refused next to the field; what was typed stays.
    browser.fill("#amount_vnd", "1.500.000,5").await;
    browser.fill("#reference", &reference).await;
    browser.click("#submit-repayment").await;
    let error = browser
        .wait_text("#amount_vnd-error", "sai định dạng")
        .await;
    assert!(
        error.contains("Số tiền (đồng)") && error.contains("sai định dạng"),
        "{error}"
    );
    let kept = browser
        .script("return [document.getElementById('amount_vnd').value, document.getElementById('reference').value];", json!([]))
        .await;
    assert_eq!(kept, json!(["1.500.000,5", reference]));
    browser.screenshot("repayment-form-error").await;
    assert!(
        fund.repayments(id, &reference).await.is_empty(),
        "nothing was posted"
    );

    browser.fill("#amount_vnd", "1.500.000").await;
    browser.click("#submit-repayment").await;
    browser.find("#posted").await;
    assert!(browser
        .current_url()
        .await
        .contains(&format!("/loans/{id}?posted=")));
    let transactions = browser.text("#transactions").await;
    assert!(transactions.contains(&reference), "{transactions}");
    assert!(transactions.contains("1.500.000 ₫"), "{transactions}");
    browser.screenshot("loan-page-after-repayment").await;

    let posted = fund.repayments(id, &reference).await;
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0]["amount_vnd"], 1_500_000);
    assert_eq!(posted[0]["repayment_kind"], "ordinary");
    browser.quit().await;
}

#[tokio::test]
async fn a_double_clicked_or_resent_repayment_form_posts_once() {
    let fund = fund();
    let loan = fund.active_loans().await[1].clone();
    let id = loan["id"].as_i64().unwrap();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, fund, ACCOUNTANT).await;

    // A real double click on the submit button.
    let clicked = unique("UNC-DBL-");
    browser
        .goto(&fund.url(&format!("/loans/{id}/repayments")))
        .await;
    browser.fill("#amount_vnd", "700.000").await;
    browser.fill("#reference", &clicked).await;
    browser.double_click("#submit-repayment").await;
    browser.find("#posted").await;
    assert_eq!(fund.repayments(id, &clicked).await.len(), 1);

    // The same rendered form sent twice at once (what a double click on a slow line sends).
    let resent = unique("UNC-TWICE-");
    browser
        .goto(&fund.url(&format!("/loans/{id}/repayments")))
        .await;
    browser.fill("#amount_vnd", "300.000").await;
    browser.fill("#reference", &resent).await;
    let statuses = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             const form = document.getElementById('repayment-form');
             const body = new URLSearchParams(new FormData(form)).toString();
             const send = () => fetch(form.action, {method: 'POST', body, credentials: 'same-origin',
                 headers: {'content-type': 'application/x-www-form-urlencoded'}}).then(r => r.status);
             Promise.all([send(), send()]).then(done, e => done(String(e)));",
        )
        .await;
    assert_eq!(statuses, json!([200, 200]), "both end on the loan page");
    let posted = fund.repayments(id, &resent).await;
    assert_eq!(posted.len(), 1, "one posting for one rendered form");
    assert_eq!(posted[0]["amount_vnd"], 300_000);
    browser.quit().await;
}

#[tokio::test]
async fn a_repayment_form_without_its_csrf_token_is_refused_and_posts_nothing() {
    let fund = fund();
    let loan = fund.active_loans().await[2].clone();
    let id = loan["id"].as_i64().unwrap();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, fund, ACCOUNTANT).await;
    for (case, script) in [
        (
            "missing",
            "document.querySelector('#repayment-form input[name=csrf]').remove();",
        ),
        (
            "forged",
            "document.querySelector('#repayment-form input[name=csrf]').value = 'f'.repeat(64);",
        ),
    ] {
        let reference = unique("UNC-CSRF-");
        browser
            .goto(&fund.url(&format!("/loans/{id}/repayments")))
            .await;
        browser.fill("#amount_vnd", "200.000").await;
        browser.fill("#reference", &reference).await;
        browser.script(script, json!([])).await;
        browser.click("#submit-repayment").await;
        let detail = browser
            .wait_text("#error-detail", "Biểu mẫu đã hết hạn")
            .await;
        assert!(detail.contains("Hãy tải lại trang"), "{case}: {detail}");
        assert_eq!(browser.text(".status-code").await, "403");
        assert!(
            fund.repayments(id, &reference).await.is_empty(),
            "{case}: nothing posted"
        );
    }
    browser.screenshot("csrf-refused").await;
    browser.quit().await;
}

#[tokio::test]
async fn the_language_switch_sticks_across_pages_and_logins() {
    let fund = fund();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    browser.goto(&fund.url("/login")).await;
    browser.wait_text("h1", "Đăng nhập hệ thống").await;
    browser.click("#lang-switch").await;
    browser.wait_text("h1", "Sign in").await;
    let lang = browser
        .script("return document.documentElement.lang;", json!([]))
        .await;
    assert_eq!(lang, "en");

    login(&browser, fund, OFFICER).await;
    browser.wait_text("h1", "Loan officer's desk").await;
    browser.click("nav a[href='/loans']").await;
    browser.wait_text("h1", "Loans").await;
    let amounts = browser.text("#loan-list").await;
    assert!(
        amounts.contains(",000 ₫") || amounts.contains(" 0 ₫"),
        "English grouping: {amounts}"
    );
    browser.screenshot("loans-en").await;

    // Logged out and in again: still English. Then back to Vietnamese, which sticks too.
    browser.click("#logout").await;
    browser.wait_text("h1", "Sign in").await;
    login(&browser, fund, OFFICER).await;
    browser.wait_text("h1", "Loan officer's desk").await;
    browser.click("#lang-switch").await;
    browser.wait_text("h1", "Việc của cán bộ tín dụng").await;
    browser.goto(&fund.url("/cooperatives")).await;
    browser.wait_text("h1", "Hợp tác xã").await;
    browser.quit().await;
}

#[tokio::test]
async fn at_phone_width_the_pages_have_no_horizontal_scroll() {
    let fund = fund();
    let id = fund.active_loans().await[3]["id"].as_i64().unwrap();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    for (who, pages) in [
        (
            OFFICER,
            vec![
                ("/home", "phone-dashboard-officer"),
                ("/cooperatives", "phone-cooperatives"),
            ],
        ),
        (
            ACCOUNTANT,
            vec![
                ("/home", "phone-dashboard-accountant"),
                (
                    &*Box::leak(format!("/loans/{id}").into_boxed_str()),
                    "phone-loan-page",
                ),
                (
                    &*Box::leak(format!("/loans/{id}/repayments").into_boxed_str()),
                    "phone-repayment-form",
                ),
            ],
        ),
        (COOPERATIVE, vec![("/home", "phone-dashboard-cooperative")]),
    ] {
        let browser = driver.session(true).await;
        login(&browser, fund, who).await;
        for (path, name) in pages {
            browser.goto(&fund.url(path)).await;
            browser.find("h1").await;
            let (scroll_width, window_width) = scrolls_sideways(&browser).await;
            assert_eq!(window_width, 360, "the phone's width");
            assert!(
                scroll_width <= window_width,
                "{path}: {scroll_width} px wide in a {window_width} px window"
            );
            browser.screenshot(name).await;
        }
        browser.quit().await;
    }
}
