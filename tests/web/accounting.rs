//! The accountant's pages and the staff loan page: in headless Chromium on a fresh fund of its own
//! per test (a loan made through the API the way the fund makes one, then signed, disbursed, repaid,
//! reversed and closed through the pages), and over plain HTTP for the role checks (a wrong role
//! gets the 403 page on every route of the area).

use reqwest::{header, redirect::Policy, StatusCode};
use serde_json::{json, Value};

use crate::{
    driver::{Browser, Driver},
    helpers::{spawn_app, unique, TestApp, PASSWORD},
    loan_fixtures::{approved_loan, example_3, set_date, Staff},
    pages::BROWSER,
};

/// A fresh fund with an approved loan (example 3: 100,000,000 đồng at 12%, 10 monthly) on business
/// date 2026-01-10, and the people who act on it (their usernames; the password is [`PASSWORD`]).
struct Desk {
    app: TestApp,
    loan_id: i64,
    officer: String,
    accountant: String,
    accountant_token: String,
}

async fn user(app: &TestApp, role: &str) -> String {
    let username = unique(&format!("{role}."));
    let response = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": username, "password": PASSWORD, "role": role}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "create {role}");
    username
}

async fn desk() -> Desk {
    let app = spawn_app().await;
    set_date(&app, "2026-01-10").await;
    let cooperative = app.cooperative().await;
    let loan_id = approved_loan(&app, cooperative, &example_3()).await;
    let officer = user(&app, "officer").await;
    let accountant = user(&app, "accountant").await;
    let accountant_token = app.login(&accountant, PASSWORD).await;
    Desk {
        app,
        loan_id,
        officer,
        accountant,
        accountant_token,
    }
}

impl Desk {
    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    async fn api(&self, path: &str) -> Value {
        self.app
            .get(path, &self.accountant_token)
            .await
            .json()
            .await
            .expect("json")
    }

    /// The loan's transactions as the API lists them.
    async fn transactions(&self) -> Vec<Value> {
        self.api(&format!("/api/v1/loans/{}/transactions", self.loan_id))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn count(&self, kind: &str) -> usize {
        self.transactions()
            .await
            .iter()
            .filter(|t| t["kind"] == kind)
            .count()
    }

    /// Signs and disburses the loan in full through the API (for the tests that start later).
    async fn activate(&self) {
        let staff = Staff::new(&self.app).await;
        crate::loan_fixtures::sign(&self.app, &staff, self.loan_id, "2026-01-10").await;
        crate::loan_fixtures::disburse(&self.app, &staff, self.loan_id, 100_000_000, "2026-01-10")
            .await;
    }
}

async fn login(browser: &Browser, desk: &Desk, username: &str) {
    browser.goto(&desk.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#login-submit").await;
    browser.wait_text("#who", username).await;
}

/// Sets a date input (typing into one depends on the browser's locale).
async fn set_date_input(browser: &Browser, css: &str, date: &str) {
    browser
        .script(
            "document.querySelector(arguments[0]).value = arguments[1];",
            json!([css, date]),
        )
        .await;
}

/// Page width against window width (a horizontal scroll when the first is larger).
async fn widths(browser: &Browser) -> (i64, i64) {
    let w = browser
        .script(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    (w[0].as_i64().unwrap_or(0), w[1].as_i64().unwrap_or(0))
}

#[tokio::test]
async fn a_loan_is_signed_disbursed_and_repaid_through_the_pages_and_the_loan_page_shows_it_all() {
    let desk = desk().await;
    let id = desk.loan_id;
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;

    // The signing form at phone width.
    let phone = driver.session(true).await;
    login(&phone, &desk, &desk.officer).await;
    phone.goto(&desk.url(&format!("/loans/{id}/sign"))).await;
    phone.find("#sign-form").await;
    let (page, window) = widths(&phone).await;
    assert!(page <= window, "sign: {page} px in a {window} px window");
    phone.screenshot("phone-accounting-sign").await;
    phone.quit().await;

    // The officer signs the contract from the loan page.
    login(&browser, &desk, &desk.officer).await;
    browser.goto(&desk.url(&format!("/loans/{id}"))).await;
    browser.click("#sign-link").await;
    browser.find("#sign-form").await;
    browser.screenshot("accounting-sign").await;
    let contract = unique("HĐTD-");
    browser.fill("#contract_number", &contract).await;
    browser.click("#submit-sign").await;
    browser
        .wait_text("#notice", "Đã ghi nhận ký hợp đồng")
        .await;
    assert!(browser
        .text("#loan-status")
        .await
        .contains("Đã ký hợp đồng"));
    assert!(browser.text("#terms").await.contains(&contract));
    browser.click("#logout").await;
    // Wait for the sign-in page: going to /login while the logout is still in flight finds the
    // officer's session alive and is sent on to /home.
    browser.find("#login-submit").await;

    // The accountant disburses: the form offers what is left to disburse.
    login(&browser, &desk, &desk.accountant).await;
    browser.goto(&desk.url(&format!("/loans/{id}"))).await;
    browser.click("#disburse-link").await;
    assert_eq!(browser.text("#left-to-disburse").await, "100.000.000 ₫");
    let prefilled = browser
        .script(
            "return document.getElementById('amount_vnd').value;",
            json!([]),
        )
        .await;
    assert_eq!(prefilled, "100.000.000");
    browser.screenshot("accounting-disburse").await;
    // Without a reference: refused next to the field, the amount kept, nothing posted.
    browser.click("#submit-disbursement").await;
    browser.find("#reference-error").await;
    assert_eq!(desk.count("disbursement").await, 0);
    let unc = unique("UNC-");
    browser.fill("#reference", &unc).await;
    browser.click("#submit-disbursement").await;
    browser.wait_text("#notice", "Đã ghi nhận giải ngân").await;
    assert!(browser.text("#loan-status").await.contains("Đang vay"));
    assert!(browser.text("#transactions").await.contains(&unc));
    assert_eq!(desk.count("disbursement").await, 1);

    // The repayment form shows the payoff and, before posting, how the payment will be allocated.
    browser.click("#repay-link").await;
    assert_eq!(browser.text("#payoff-total").await, "100.000.000 ₫");
    let reference = unique("GD-");
    browser.fill("#amount_vnd", "5.000.000").await;
    browser.fill("#reference", &reference).await;
    browser.click("#preview-allocation").await;
    browser.wait_text("#preview", "Phân bổ dự kiến").await;
    assert_eq!(browser.text("#preview-advance").await, "5.000.000 ₫");
    assert_eq!(browser.text("#preview-payoff-after").await, "95.000.000 ₫");
    browser.screenshot("accounting-repayment-preview").await;
    assert_eq!(desk.count("repayment").await, 0, "a preview posts nothing");
    // A prepayment puts the excess on principal instead (the preview follows the choice).
    browser.click("input[name=kind][value=prepayment]").await;
    browser.wait_text("#preview", "Trả trước hạn").await;
    assert_eq!(browser.text("#preview-prepaid").await, "5.000.000 ₫");
    browser.click("input[name=kind][value=ordinary]").await;
    browser.wait_text_without("#preview", "Trả trước hạn").await;
    browser.click("#submit-repayment").await;
    browser.find("#posted").await;

    // The loan page: the repayment with its allocation, the payoff with its "how" links, the
    // journal entries of the loan and the mails about it.
    let transactions = browser.text("#transactions").await;
    assert!(transactions.contains(&reference), "{transactions}");
    assert!(transactions.contains("5.000.000 ₫"), "{transactions}");
    assert!(transactions.contains("Tiền trả trước"), "{transactions}");
    assert_eq!(browser.text("#loan-payoff-total").await, "95.000.000 ₫");
    let how = browser
        .script(
            "return [...document.querySelectorAll('#payoff a.how')].map(a => a.getAttribute('href'));",
            json!([]),
        )
        .await;
    assert!(
        how.as_array()
            .unwrap()
            .contains(&json!(format!("/loans/{id}/explain#total_vnd"))),
        "{how}"
    );
    let journal = browser.text("#journal").await;
    assert!(
        journal.contains("12831") && journal.contains("1121") && journal.contains("3388"),
        "disbursement and advance entries: {journal}"
    );
    assert!(journal.contains("100.000.000 ₫"), "{journal}");
    let mails = browser.text("#mails").await;
    assert!(!mails.contains("Chưa có thư nào"), "the receipts: {mails}");
    browser.screenshot("accounting-loan-page").await;
    let repayments = desk.count("repayment").await;
    assert_eq!(repayments, 1);

    // The payoff quote for another date, projected.
    set_date_input(&browser, "#payoff-date", "2026-02-20").await;
    browser.click("#payoff-quote").await;
    browser.wait_text("h2", "20/02/2026").await;
    let api = desk
        .api(&format!("/api/v1/loans/{id}/payoff?date=2026-02-20"))
        .await;
    let total = browser.text("#payoff-total").await;
    let expected = api["total_vnd"].as_i64().unwrap();
    assert_eq!(
        total.replace(['.', ' ', '₫'], ""),
        expected.to_string(),
        "the page shows the API's quote"
    );
    browser.screenshot("accounting-payoff").await;

    // At phone width: no horizontal scroll on the loan page and the forms.
    let phone = driver.session(true).await;
    login(&phone, &desk, &desk.accountant).await;
    for (path, name) in [
        (format!("/loans/{id}"), "phone-accounting-loan-page"),
        (
            format!(
                "/loans/{id}/repayments?amount_vnd=1.000.000&value_date=2026-01-10&kind=ordinary"
            ),
            "phone-accounting-repayment-preview",
        ),
        (
            format!("/loans/{id}/disbursements"),
            "phone-accounting-disburse",
        ),
        (
            format!("/loans/{id}/payoff?date=2026-03-10"),
            "phone-accounting-payoff",
        ),
    ] {
        phone.goto(&desk.url(&path)).await;
        phone.find("h1").await;
        let (page, window) = widths(&phone).await;
        assert!(page <= window, "{path}: {page} px in a {window} px window");
        phone.screenshot(name).await;
    }
    phone.quit().await;
    browser.quit().await;
}

#[tokio::test]
async fn a_double_clicked_disbursement_or_repayment_posts_once() {
    let desk = desk().await;
    let id = desk.loan_id;
    let staff = Staff::new(&desk.app).await;
    crate::loan_fixtures::sign(&desk.app, &staff, id, "2026-01-10").await;
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, &desk, &desk.accountant).await;

    browser
        .goto(&desk.url(&format!("/loans/{id}/disbursements")))
        .await;
    browser.fill("#reference", &unique("UNC-DBL-")).await;
    browser.double_click("#submit-disbursement").await;
    browser.find("#notice").await;
    assert_eq!(desk.count("disbursement").await, 1, "one disbursement");

    browser
        .goto(&desk.url(&format!("/loans/{id}/repayments")))
        .await;
    browser.fill("#amount_vnd", "2.000.000").await;
    browser.fill("#reference", &unique("GD-DBL-")).await;
    browser.double_click("#submit-repayment").await;
    browser.find("#posted").await;
    assert_eq!(
        desk.count("repayment").await,
        1,
        "one repayment for a double click"
    );

    // One rendered form sent again after its first submission went through (a resubmission):
    // the second replays the first and ends on the loan page too.
    browser
        .goto(&desk.url(&format!("/loans/{id}/repayments")))
        .await;
    browser.fill("#amount_vnd", "1.000.000").await;
    browser.fill("#reference", &unique("GD-AGAIN-")).await;
    let statuses = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             const form = document.getElementById('repayment-form');
             const body = new URLSearchParams(new FormData(form)).toString();
             const send = () => fetch(form.action, {method: 'POST', body, credentials: 'same-origin',
                 headers: {'content-type': 'application/x-www-form-urlencoded'}}).then(r => r.status);
             send().then(first => send().then(second => done([first, second])), e => done(String(e)));",
        )
        .await;
    assert_eq!(statuses, json!([200, 200]), "both end on the loan page");
    let transactions = desk.transactions().await;
    assert_eq!(
        transactions
            .iter()
            .filter(|t| t["kind"] == "repayment")
            .count(),
        2,
        "one repayment per rendered form: {transactions:?}"
    );
    browser.quit().await;
}

#[tokio::test]
async fn a_transaction_is_reversed_with_its_reason_and_stays_on_the_loan_page_struck_through() {
    let desk = desk().await;
    let id = desk.loan_id;
    desk.activate().await;
    let staff = Staff::new(&desk.app).await;
    let paid =
        crate::loan_fixtures::repay(&desk.app, &staff, id, 3_000_000, "2026-01-10", "ordinary")
            .await
            .json::<Value>()
            .await
            .unwrap();
    let tx = paid["id"].as_i64().unwrap();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, &desk, &desk.accountant).await;
    browser.goto(&desk.url(&format!("/loans/{id}"))).await;
    browser.click(&format!("#reverse-{tx}")).await;
    browser.find("#reversal-form").await;
    assert!(browser
        .text("#reversed-transaction")
        .await
        .contains("3.000.000 ₫"));
    // No reason: refused next to the field; nothing reversed.
    browser.click("#submit-reversal").await;
    browser.find("#reason-error").await;
    assert_eq!(desk.count("reversal").await, 0);
    browser.screenshot("accounting-reverse-error").await;
    browser
        .fill("#reason", "Nhập nhầm số tiền, xem GD 457")
        .await;
    browser.click("#submit-reversal").await;
    browser.wait_text("#notice", "Đã hủy giao dịch").await;
    let row = browser
        .script(
            "return document.getElementById(arguments[0]).className;",
            json!([format!("tx-{tx}")]),
        )
        .await;
    assert_eq!(row, "reversed");
    let transactions = browser.text("#transactions").await;
    assert!(transactions.contains("Nhập nhầm số tiền"), "{transactions}");
    assert!(
        browser.try_find(&format!("#reverse-{tx}")).await.is_none(),
        "a reversed transaction offers no second reversal"
    );
    assert_eq!(desk.count("reversal").await, 1);
    assert_eq!(browser.text("#loan-payoff-total").await, "100.000.000 ₫");
    browser.screenshot("accounting-reversed").await;
    browser.quit().await;

    // The reversal form at phone width (on the disbursement, still reversible).
    let disbursement = desk
        .transactions()
        .await
        .into_iter()
        .find(|t| t["kind"] == "disbursement")
        .unwrap();
    let phone = driver.session(true).await;
    login(&phone, &desk, &desk.accountant).await;
    phone
        .goto(&desk.url(&format!(
            "/loans/{id}/transactions/{}/reverse",
            disbursement["id"]
        )))
        .await;
    phone.find("#reversal-form").await;
    let (page, window) = widths(&phone).await;
    assert!(page <= window, "reverse: {page} px in a {window} px window");
    phone.screenshot("phone-accounting-reverse").await;
    phone.quit().await;
}

#[tokio::test]
async fn the_close_of_business_runs_from_its_page_and_lists_each_closed_day() {
    let desk = desk().await;
    desk.activate().await;
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, &desk, &desk.accountant).await;
    browser.click("nav a[href='/cob']").await;
    assert_eq!(browser.text("#cob-business-date").await, "10/01/2026");
    // A day that has not ended yet is refused next to the field.
    set_date_input(&browser, "#through", "2099-01-01").await;
    browser.click("#run-cob").await;
    browser.find("#through-error").await;
    set_date_input(&browser, "#through", "2026-01-12").await;
    browser.click("#run-cob").await;
    browser.wait_text("#cob-done", "13/01/2026").await;
    assert_eq!(browser.text("#cob-business-date").await, "13/01/2026");
    let runs = browser.text("#run-list").await;
    for day in ["10/01/2026", "11/01/2026", "12/01/2026"] {
        assert!(runs.contains(day), "{day}: {runs}");
    }
    assert!(runs.contains("Hoàn tất"), "{runs}");
    let api = desk.api("/api/v1/business-date").await;
    assert_eq!(api["business_date"], "2026-01-13");
    browser.screenshot("accounting-cob").await;

    let phone = driver.session(true).await;
    login(&phone, &desk, &desk.accountant).await;
    for (path, name) in [
        ("/cob", "phone-accounting-cob"),
        ("/charter-capital", "phone-accounting-charter"),
    ] {
        phone.goto(&desk.url(path)).await;
        phone.find("h1").await;
        let (page, window) = widths(&phone).await;
        assert!(page <= window, "{path}: {page} px in a {window} px window");
        phone.screenshot(name).await;
    }
    phone.quit().await;
    browser.quit().await;
}

#[tokio::test]
async fn a_charter_capital_contribution_is_recorded_once_and_listed() {
    let desk = desk().await;
    let before = desk.api("/api/v1/fund").await["paid_in_charter_capital_vnd"]
        .as_i64()
        .unwrap();
    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(false).await;
    login(&browser, &desk, &desk.accountant).await;
    browser.click("nav a[href='/charter-capital']").await;
    let reference = unique("QĐ ");
    browser.fill("#amount_vnd", "2.500.000.000").await;
    browser.fill("#reference", &reference).await;
    browser.double_click("#submit-contribution").await;
    browser.find("#contributed").await;
    assert!(browser
        .text("#contribution-list")
        .await
        .contains(&reference));
    let after = desk.api("/api/v1/fund").await["paid_in_charter_capital_vnd"]
        .as_i64()
        .unwrap();
    assert_eq!(after - before, 2_500_000_000, "recorded once");
    browser.screenshot("accounting-charter").await;
    browser.quit().await;
}

// ----- plain HTTP: roles -----

/// A logged-in page session: its cookie and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap_or_default().to_string()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn web_login(app: &TestApp, username: &str, password: &str) -> Session {
    let client = no_redirects();
    let page = client.get(app.url("/login")).send().await.unwrap();
    let cookie = page
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect::<Vec<_>>()
        .join("; ");
    let csrf = csrf_in(&page.text().await.unwrap());
    let ok = client
        .post(app.url("/login"))
        .header(header::COOKIE, &cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER, "login of {username}");
    let session = ok.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let home = client
        .get(app.url("/home"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    let csrf = csrf_in(&home.text().await.unwrap());
    Session {
        cookie: session,
        csrf,
    }
}

#[tokio::test]
async fn each_page_of_the_area_refuses_a_wrong_role_with_the_403_page_and_changes_nothing() {
    let desk = desk().await;
    let id = desk.loan_id;
    desk.activate().await;
    let staff = Staff::new(&desk.app).await;
    let paid =
        crate::loan_fixtures::repay(&desk.app, &staff, id, 1_000_000, "2026-01-10", "ordinary")
            .await
            .json::<Value>()
            .await
            .unwrap();
    let tx = paid["id"].as_i64().unwrap();
    let officer = web_login(&desk.app, &desk.officer, PASSWORD).await;
    let accountant = web_login(&desk.app, &desk.accountant, PASSWORD).await;
    let cooperative_user = {
        let loan = desk.api(&format!("/api/v1/loans/{id}")).await;
        let username = unique("htx.");
        let created = desk
            .app
            .post(
                "/api/v1/users",
                &desk.app.admin_token,
                &json!({"username": username, "password": PASSWORD, "role": "cooperative",
                        "cooperative_id": loan["cooperative_id"]}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        web_login(&desk.app, &username, PASSWORD).await
    };
    let client = no_redirects();
    let get = |session: &Session, path: String| {
        client
            .get(desk.url(&path))
            .header(header::COOKIE, &session.cookie)
            .send()
    };
    for (who, path) in [
        (&officer, format!("/loans/{id}/disbursements")),
        (&officer, format!("/loans/{id}/repayments")),
        (&officer, format!("/loans/{id}/transactions/{tx}/reverse")),
        (&officer, "/cob".to_string()),
        (&accountant, format!("/loans/{id}/sign")),
        (&cooperative_user, "/charter-capital".to_string()),
        (&cooperative_user, "/cob".to_string()),
    ] {
        let response = get(who, path.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "GET {path}");
        assert!(response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains("Không được phép"), "{path}: a page");
    }
    let key = unique("k-");
    for (who, path, form) in [
        (
            &officer,
            format!("/loans/{id}/disbursements"),
            vec![
                ("amount_vnd", "1.000"),
                ("value_date", "2026-01-10"),
                ("reference", "x"),
            ],
        ),
        (
            &officer,
            format!("/loans/{id}/transactions/{tx}/reverse"),
            vec![("reason", "x")],
        ),
        (
            &officer,
            "/cob".to_string(),
            vec![("through", "2026-01-10")],
        ),
        (
            &officer,
            "/charter-capital".to_string(),
            vec![
                ("amount_vnd", "1.000"),
                ("contributed_on", "2026-01-10"),
                ("reference", "x"),
            ],
        ),
        (
            &accountant,
            format!("/loans/{id}/sign"),
            vec![("contract_number", "x"), ("signed_on", "2026-01-10")],
        ),
    ] {
        let mut form = form;
        form.push(("csrf", who.csrf.as_str()));
        form.push(("key", key.as_str()));
        let response = client
            .post(desk.url(&path))
            .header(header::COOKIE, &who.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
        assert!(response.text().await.unwrap().contains("Không được phép"));
    }
    // Nothing moved: one disbursement, one repayment, no reversal, the same business date.
    assert_eq!(desk.count("disbursement").await, 1);
    assert_eq!(desk.count("repayment").await, 1);
    assert_eq!(desk.count("reversal").await, 0);
    assert_eq!(
        desk.api("/api/v1/business-date").await["business_date"],
        "2026-01-10"
    );

    // Another cooperative's user: the loan's pages are 404 pages.
    let other = desk.app.cooperative().await;
    let username = unique("htx.");
    desk.app
        .post(
            "/api/v1/users",
            &desk.app.admin_token,
            &json!({"username": username, "password": PASSWORD, "role": "cooperative", "cooperative_id": other}),
        )
        .await;
    let stranger = web_login(&desk.app, &username, PASSWORD).await;
    for path in [format!("/loans/{id}"), format!("/loans/{id}/payoff")] {
        let response = get(&stranger, path.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "GET {path}");
    }
    // The loan's own cooperative reads its loan page and payoff, without the fund's books.
    let own = get(&cooperative_user, format!("/loans/{id}"))
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let html = own.text().await.unwrap();
    assert!(!html.contains("id=\"journal\"") && !html.contains("id=\"mails\""));
    assert!(!html.contains("id=\"reverse-"), "no staff actions");
}

/// The amounts of `#preview` in a repayment page, by their label (`dt`), as integers of đồng.
fn preview_amounts(html: &str) -> Vec<(String, i64)> {
    let start = html.find("id=\"preview\"").expect("a preview");
    let section = &html[start..html[start..].find("</section>").unwrap() + start];
    section
        .split("<dt")
        .skip(1)
        .map(|part| {
            let label = part[part.find('>').unwrap() + 1..part.find("</dt>").unwrap()].to_string();
            let dd = &part[part.find("<dd").unwrap()..];
            let value = &dd[dd.find('>').unwrap() + 1..dd.find("</dd>").unwrap()];
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            (label, digits.parse().unwrap_or(0))
        })
        .collect()
}

#[tokio::test]
async fn the_repayment_preview_is_the_allocation_the_posting_makes_on_worked_example_3() {
    // DOMAIN.md worked example 3: nothing paid on the 2026-02-10 installment until 11,100,000
    // arrives on 2026-02-20 (10 days late).
    let desk = desk().await;
    let id = desk.loan_id;
    desk.activate().await;
    set_date(&desk.app, "2026-02-20").await;
    let accountant = web_login(&desk.app, &desk.accountant, PASSWORD).await;
    let page = no_redirects()
        .get(desk.url(&format!(
            "/loans/{id}/repayments?amount_vnd=11.100.000&value_date=2026-02-20&kind=ordinary&reference=GD+456"
        )))
        .header(header::COOKIE, &accountant.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let shown = preview_amounts(&html);
    let expected = [
        ("Gốc quá hạn", 10_000_000),
        ("Lãi chưa trả", 1_019_178),
        ("Lãi quá hạn", 49_315),
        ("Lãi chậm trả", 2_792),
        ("Tiền trả trước", 28_715),
    ];
    for (label, amount_vnd) in expected {
        assert!(
            shown.contains(&(label.to_string(), amount_vnd)),
            "{label} {amount_vnd} in {shown:?}"
        );
    }
    assert_eq!(desk.count("repayment").await, 0, "a preview posts nothing");

    // Posted: the API's allocation is the one previewed.
    let staff = Staff::new(&desk.app).await;
    let posted =
        crate::loan_fixtures::repay(&desk.app, &staff, id, 11_100_000, "2026-02-20", "ordinary")
            .await
            .json::<Value>()
            .await
            .unwrap();
    let allocation = &posted["allocation"];
    assert_eq!(allocation["overdue_principal_vnd"], 10_000_000);
    assert_eq!(allocation["unpaid_interest_vnd"], 1_019_178);
    assert_eq!(allocation["overdue_interest_vnd"], 49_315);
    assert_eq!(allocation["late_interest_vnd"], 2_792);
    assert_eq!(allocation["advance_vnd"], 28_715);

    // Above the payoff: the preview says so (the engine's message) and the page still renders.
    let above = no_redirects()
        .get(desk.url(&format!(
            "/loans/{id}/repayments?amount_vnd=999.000.000&value_date=2026-02-20&kind=ordinary"
        )))
        .header(header::COOKIE, &accountant.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(above.status(), StatusCode::OK);
    let html = above.text().await.unwrap();
    assert!(
        html.contains("id=\"preview-error\""),
        "refused in the preview"
    );
    assert!(
        html.contains("vượt quá số tiền tất toán"),
        "the engine's message"
    );
}

#[tokio::test]
async fn the_pages_of_the_area_speak_english_when_switched() {
    let desk = desk().await;
    let id = desk.loan_id;
    desk.activate().await;
    let accountant = web_login(&desk.app, &desk.accountant, PASSWORD).await;
    let cookie = format!("{}; cf_lang=en", accountant.cookie);
    for (path, heading, amount) in [
        ("/cob".to_string(), "Close of business", None),
        (
            "/charter-capital".to_string(),
            "Charter capital",
            Some("10,000,000,000,000 ₫"),
        ),
        (
            format!("/loans/{id}/payoff?date=2026-01-10"),
            "Payoff quote",
            Some("100,000,000 ₫"),
        ),
        (
            format!("/loans/{id}/disbursements"),
            "Disbursement of loan",
            None,
        ),
        (
            format!("/loans/{id}"),
            "How is this computed?",
            Some("100,000,000 ₫"),
        ),
    ] {
        let response = no_redirects()
            .get(desk.url(&path))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<html lang=\"en\">"), "{path}");
        assert!(html.contains(heading), "{path}: {heading}");
        if let Some(amount) = amount {
            assert!(html.contains(amount), "{path}: {amount}");
        }
    }
}
