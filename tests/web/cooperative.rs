//! The cooperative's own pages in headless Chromium at phone size (issue 10), over the shared demo
//! fund: htx.tancuong sees its next payment with a VietQR code and the transfer details, opens its
//! overdue loan (schedule, payment history) and "Cách tính?" on each overdue amount (the lines add up
//! to the amount the loan page shows), prints a statement (the PDF Chromium renders, its text read
//! back with poppler's `pdftotext`, has the totals of the page and the API), drafts an application
//! with a live schedule preview, edits the draft (a refusal next to its field, the typing kept),
//! attaches a PDF, submits it, withdraws another draft, and meets a 404 page for another
//! cooperative's loan; the officer then finds the application in the queue. Screenshots under
//! `target/screenshots/coop-*.png`.

use serde_json::{json, Value};

use crate::{
    driver::Driver,
    pages::{fund, login, scrolls_sideways, BROWSER, COOPERATIVE, OFFICER},
};

/// Whole đồng read back from a page amount (`1.234.567 ₫`).
fn amount_of(text: &str) -> i64 {
    let digits: String = text
        .split('₫')
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no amount in {text:?}"))
}

/// Every amount (`1.234.567 ₫`) in `text`, in order, as whole đồng.
fn amounts_in(text: &str) -> Vec<i64> {
    let parts: Vec<&str> = text.split('₫').collect();
    parts[..parts.len().saturating_sub(1)]
        .iter()
        .filter_map(|part| {
            let digits: String = part
                .trim_end()
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .filter(char::is_ascii_digit)
                .collect::<Vec<char>>()
                .into_iter()
                .rev()
                .collect();
            digits.parse().ok()
        })
        .collect()
}

/// The text of a PDF, as poppler's `pdftotext` reads it (`.ci/run` installs poppler-utils).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("statement.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let output = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("cannot run pdftotext ({e}): apt-get install -y poppler-utils"));
    assert!(output.status.success(), "pdftotext: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 text")
}

/// The first amount after `label` in `text`.
fn amount_after(text: &str, label: &str) -> i64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} is not in the PDF: {text}"));
    *amounts_in(&text[at..])
        .first()
        .unwrap_or_else(|| panic!("no amount after {label:?}: {text}"))
}

/// Σ of the lines of the explanation's section `#field`, and the amount it shows, in cents.
async fn explained(browser: &crate::driver::Browser, field: &str) -> (i64, i64) {
    let found = browser
        .script(
            "const s = document.getElementById(arguments[0]);\n\
             return [s.querySelector('.explained-amount').dataset.amount,\n\
                     Array.from(s.querySelectorAll('td.line-amount')).map(td => td.dataset.amount)];",
            json!([field]),
        )
        .await;
    let cents = |text: &str| -> i64 {
        let negative = text.starts_with('-');
        let digits = text.trim_start_matches('-');
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let fraction = format!("{fraction:0<2}");
        let value = whole.parse::<i64>().expect("whole") * 100
            + fraction[..2].parse::<i64>().expect("cents");
        if negative {
            -value
        } else {
            value
        }
    };
    let shown = cents(found[0].as_str().expect("amount"));
    let lines = found[1]
        .as_array()
        .expect("lines")
        .iter()
        .map(|a| cents(a.as_str().expect("line amount")))
        .sum();
    (lines, shown)
}

/// A token of htx.tancuong for the API.
async fn coop_token(fund: &crate::pages::Fund) -> String {
    let body: Value = reqwest::Client::new()
        .post(fund.url("/api/v1/auth/token"))
        .json(&json!({"username": COOPERATIVE.0, "password": COOPERATIVE.1}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    body["token"].as_str().expect("token").to_string()
}

/// A valid one-page PDF of about 1 MB (a scanned page's size): nearly four times the server's
/// `server.body_limit_bytes`, which the upload form's own limit lets through.
fn a_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n%"
        .to_vec();
    pdf.resize(1_000_000, b'x');
    pdf.extend_from_slice(b"\ntrailer<</Root 1 0 R>>\n%%EOF\n");
    pdf
}

async fn assert_no_sideways_scroll(browser: &crate::driver::Browser, what: &str) {
    let (scroll_width, window_width) = scrolls_sideways(browser).await;
    assert_eq!(window_width, 360, "the phone's width");
    assert!(
        scroll_width <= window_width,
        "{what}: {scroll_width} px wide in a {window_width} px window"
    );
}

#[tokio::test]
async fn a_cooperative_on_a_phone_pays_by_qr_prints_a_statement_and_applies_online() {
    let fund = fund();
    let own = fund.api("/api/v1/loans?limit=200").await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let users = fund.api("/api/v1/cooperatives?limit=200").await;
    let tancuong = users["items"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["name"] == "HTX Chè Tân Cương"))
        .and_then(|c| c["id"].as_i64())
        .expect("the demo's HTX Chè Tân Cương");
    let mine: Vec<&Value> = own
        .iter()
        .filter(|l| l["cooperative_id"] == tancuong && l["status"] == "active")
        .collect();
    assert!(!mine.is_empty(), "htx.tancuong has an active loan");
    // The demo keeps one of tancuong's loans behind by weeks (src/demo/explorable.rs, Story::Behind).
    let loan = *mine
        .iter()
        .find(|l| l["dpd"].as_i64().unwrap_or(0) > 0)
        .expect("htx.tancuong has an overdue loan");
    let theirs = own
        .iter()
        .find(|l| l["cooperative_id"] != tancuong)
        .and_then(|l| l["id"].as_i64())
        .expect("another cooperative's loan");

    let _turn = BROWSER.lock().await;
    let driver = Driver::start().await;
    let browser = driver.session(true).await;
    login(&browser, fund, COOPERATIVE).await;

    // Home: each loan with what is due next and the VietQR code with the transfer details.
    assert!(browser.current_url().await.ends_with("/home"));
    let panel = browser.find(".pay-panel").await;
    let _ = panel;
    assert!(
        browser.try_find(".pay-panel .qr svg").await.is_some(),
        "a QR code is drawn"
    );
    let message = browser.text(".pay-panel .qr-message").await;
    assert!(
        mine.iter().any(|l| l["number"] == message.trim()),
        "the transfer message is a loan number: {message}"
    );
    // The demo fund's own account (not the placeholder of the embedded defaults), in the details
    // and in the code's payload.
    let details = browser.text(".pay-panel .transfer-details").await;
    assert!(
        details.contains(coopfund::demo::DEMO_BANK_ACCOUNT_NUMBER),
        "{details}"
    );
    let qr = fund
        .api(&format!("/api/v1/loans/{}/payment-qr", loan["id"]))
        .await;
    let payload = qr["payload"].as_str().expect("payload");
    assert!(payload.contains(coopfund::demo::DEMO_BANK_BIN), "{payload}");
    assert!(
        payload.contains(coopfund::demo::DEMO_BANK_ACCOUNT_NUMBER),
        "{payload}"
    );
    let qr_amount = amount_of(&browser.text(".pay-panel .qr-amount").await);
    let shown = amount_of(&browser.text(".pay-panel .pay-amount").await);
    assert_eq!(qr_amount, shown, "the code asks for the amount shown");
    // The overdue loan asks for money first, in plain words.
    let message = message.trim();
    assert_eq!(message, loan["number"].as_str().unwrap());
    let status = browser.text(".plain-status").await;
    assert_eq!(status, format!("Quá hạn {} ngày", loan["dpd"]));
    assert_no_sideways_scroll(&browser, "/home").await;
    browser.screenshot("coop-home").await;

    // The overdue loan: schedule, payment history with allocations, "how is this computed?" links.
    let id = loan["id"].as_i64().unwrap();
    browser.goto(&fund.url(&format!("/my/loans/{id}"))).await;
    assert_eq!(
        browser.text("#loan-number").await,
        loan["number"].as_str().unwrap()
    );
    let schedule = browser.text("#schedule").await;
    assert!(schedule.contains("Đã trả"), "{schedule}");
    let history = browser.text("#history").await;
    assert!(
        history.contains("Đã trừ vào") || history.contains("Tiền gốc"),
        "{history}"
    );
    let why = browser
        .script(
            "return Array.from(document.querySelectorAll('a.why')).map(a => a.getAttribute('href'));",
            json!([]),
        )
        .await;
    let links: Vec<&str> = why
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for field in [
        "overdue_principal_vnd",
        "overdue_interest_vnd",
        "late_interest_vnd",
        "current_interest_vnd",
    ] {
        assert!(
            links.contains(&format!("/loans/{id}/explain#{field}").as_str()),
            "{field}: {links:?}"
        );
    }
    assert_no_sideways_scroll(&browser, "/my/loans").await;
    browser.screenshot("coop-loan").await;
    browser
        .script(
            "document.querySelector('.pay-panel h2').scrollIntoView();",
            json!([]),
        )
        .await;
    browser.screenshot("coop-loan-qr").await;

    // "Cách tính?" on each overdue amount the loan page shows: the explanation's lines add up to it.
    for field in [
        "overdue_principal_vnd",
        "overdue_interest_vnd",
        "late_interest_vnd",
    ] {
        browser.goto(&fund.url(&format!("/my/loans/{id}"))).await;
        let link = format!("#payoff a.why[href$='#{field}']");
        let parent = browser
            .script(
                "return document.querySelector(arguments[0]).parentElement.innerText;",
                json!([link]),
            )
            .await;
        let shown_on_loan = amount_of(parent.as_str().unwrap_or_default());
        assert!(shown_on_loan > 0, "{field} is owed");
        browser.click(&link).await;
        browser.find(&format!("section#{field}")).await;
        assert!(browser
            .current_url()
            .await
            .ends_with(&format!("/loans/{id}/explain#{field}")));
        let (lines, shown) = explained(&browser, field).await;
        assert_eq!(lines, shown, "{field}: the lines add up to the amount");
        assert_eq!(
            shown,
            shown_on_loan * 100,
            "{field}: the amount of the loan page"
        );
        let text = browser.text(&format!("section#{field}")).await;
        if field != "overdue_principal_vnd" {
            assert!(text.contains("/ 365"), "{field}: the formula: {text}");
            assert!(text.contains("Làm tròn"), "{field}: the rounding: {text}");
        }
        assert_no_sideways_scroll(&browser, "/loans/{id}/explain").await;
    }
    browser.screenshot("coop-explain-late-interest").await;
    browser.goto(&fund.url(&format!("/my/loans/{id}"))).await;

    // The statement for the whole life of the loan: opening + disbursed − principal paid = closing,
    // and the closing balance is the principal the API says is outstanding.
    browser.click("#show-statement").await;
    browser.find("#statement").await;
    let opening = amount_of(&browser.text("#opening-balance").await);
    let disbursed = amount_of(&browser.text("#total-disbursed").await);
    let paid = amount_of(&browser.text("#total-principal-paid").await);
    let closing = amount_of(&browser.text("#closing-balance").await);
    assert_eq!(opening, 0, "the loan's first period opens at zero");
    assert_eq!(opening + disbursed - paid, closing);
    let api_loan = fund.api(&format!("/api/v1/loans/{id}")).await;
    assert_eq!(
        closing,
        api_loan["in_term_principal_vnd"].as_i64().unwrap()
            + api_loan["overdue_principal_vnd"].as_i64().unwrap(),
        "{api_loan}"
    );
    assert_eq!(
        disbursed,
        api_loan["disbursed_vnd"].as_i64().unwrap(),
        "{api_loan}"
    );
    assert!(browser.text("#fund-name").await.len() > 3);
    let received = amount_of(&browser.text("#total-received").await);
    let interest = amount_of(&browser.text("#total-interest-paid").await);
    let pdf = browser.print_pdf().await;
    assert!(pdf.starts_with(b"%PDF-"), "Chromium printed a PDF");
    // What is printed is what the page and the API say: the loan, and each total of the period.
    let printed = pdf_text(&pdf);
    assert!(
        printed.contains(loan["number"].as_str().unwrap()),
        "{printed}"
    );
    assert!(printed.contains("HTX Chè Tân Cương"), "{printed}");
    assert!(
        !printed.contains("Xem sao kê"),
        "the period form is not printed: {printed}"
    );
    assert_eq!(amount_after(&printed, "Dư nợ gốc đầu kỳ"), opening);
    let totals_at = printed
        .rfind("Cộng phát sinh trong kỳ")
        .expect("the totals are printed");
    let totals = amounts_in(&printed[totals_at..]);
    assert_eq!(
        totals,
        [disbursed, received, paid, interest, closing],
        "the printed totals: {printed}"
    );
    assert_eq!(
        amount_after(&printed[totals_at..], "Dư nợ gốc cuối kỳ"),
        closing
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join("coop-statement.pdf"), &pdf).expect("write the PDF");
    browser.screenshot("coop-statement").await;

    // Another cooperative's loan is a 404 page, as for a loan that does not exist.
    browser
        .goto(&fund.url(&format!("/my/loans/{theirs}")))
        .await;
    assert_eq!(browser.text("h1").await, "Không tìm thấy trang");
    browser
        .goto(&fund.url(&format!("/my/loans/{theirs}/statement")))
        .await;
    assert_eq!(browser.text("h1").await, "Không tìm thấy trang");

    // Apply online: the schedule preview follows the typing (htmx), then a draft is saved.
    browser.goto(&fund.url("/my/applications/new")).await;
    // Other tests add products to the shared fund, and the form opens on the newest: choose the
    // demo's monthly product (it offers equal principal), as a user would, and wait for the swap.
    browser
        .script(
            "const s = document.getElementById('product_id');\n\
             const o = [...s.options].find(o => o.text.startsWith('Cho vay ngắn hạn lãi suất tháng'));\n\
             s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true})); return o.value;",
            json!([]),
        )
        .await;
    let mut offered = false;
    for _ in 0..50 {
        offered = browser
            .script(
                "return [...document.getElementById('method').options].some(o => o.value === 'equal_principal');",
                json!([]),
            )
            .await
            == json!(true);
        if offered {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(offered, "the monthly product offers equal principal");
    browser
        .script(
            "document.getElementById('method').value = 'equal_principal'; return true;",
            json!([]),
        )
        .await;
    browser.fill("#amount_vnd", "120.000.000").await;
    browser.fill("#installments", "6").await;
    let preview = browser.wait_text("#preview", "Tổng tiền lãi").await;
    assert!(preview.contains("20.000.000 ₫"), "{preview}");
    browser
        .fill("#purpose", "Mua phân bón hữu cơ cho vụ chè xuân")
        .await;
    browser.fill("#project_total_vnd", "100.000.000").await;
    browser.fill("#own_capital_vnd", "150.000.000").await;
    browser.click("#no_bad_debt").await;
    browser.click("#save-application").await;
    // More own capital than the whole project: refused next to its field, the typing kept.
    browser.find("#own_capital_vnd-error").await;
    assert!(browser.text("#form-errors").await.contains("Chưa lưu"));
    let kept = browser
        .script(
            "return document.getElementById('purpose').value;",
            json!([]),
        )
        .await;
    assert_eq!(kept, "Mua phân bón hữu cơ cho vụ chè xuân");
    browser.screenshot("coop-application-error").await;
    browser.fill("#project_total_vnd", "200.000.000").await;
    browser.fill("#own_capital_vnd", "80.000.000").await;
    browser
        .fill("#coll_desc_0", "Giấy chứng nhận QSDĐ số BĐ 123456")
        .await;
    browser.fill("#coll_value_0", "250.000.000").await;
    assert_no_sideways_scroll(&browser, "/my/applications/new").await;
    browser.screenshot("coop-application-form").await;
    browser.click("#save-application").await;
    browser.find("#notice").await;
    let url = browser.current_url().await;
    assert!(
        url.contains("/my/applications/") && url.contains("saved=1"),
        "{url}"
    );
    let number = browser.text("#application-number").await;
    assert!(number.starts_with("DN-"), "{number}");
    browser.screenshot("coop-application-draft").await;
    browser
        .script(
            "document.getElementById('edit-application').scrollIntoView(); \
             document.querySelector('#withdraw').open = true; return true;",
            json!([]),
        )
        .await;
    browser.screenshot("coop-application-draft-actions").await;
    browser
        .script(
            "document.querySelector('#withdraw').open = false; return true;",
            json!([]),
        )
        .await;

    // Before it is submitted the draft is edited in the same form: a refusal comes back next to
    // its field with everything typed kept, then the change is saved (the API's use case).
    browser.click("#edit-application").await;
    browser.find("#application-form").await;
    assert!(browser.text("h1").await.contains(&number));
    let value_of = |css: &'static str| {
        let browser = &browser;
        async move {
            browser
                .script(
                    "return document.querySelector(arguments[0]).value;",
                    json!([css]),
                )
                .await
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(value_of("#amount_vnd").await, "120.000.000");
    assert_eq!(value_of("#coll_value_0").await, "250.000.000");
    browser.fill("#amount_vnd", "150.000.000").await;
    browser
        .fill("#purpose", "Mua phân bón hữu cơ và chè giống cho vụ xuân")
        .await;
    browser.fill("#own_capital_vnd", "250.000.000").await;
    browser.click("#save-application").await;
    browser.find("#own_capital_vnd-error").await;
    assert!(browser.text("#form-errors").await.contains("Chưa lưu"));
    assert_eq!(value_of("#amount_vnd").await, "150.000.000");
    assert_eq!(
        value_of("#purpose").await,
        "Mua phân bón hữu cơ và chè giống cho vụ xuân"
    );
    assert_no_sideways_scroll(&browser, "/my/applications/{id}/edit").await;
    browser.screenshot("coop-application-edit-error").await;
    browser.fill("#own_capital_vnd", "80.000.000").await;
    browser.click("#save-application").await;
    let notice = browser.wait_text("#notice", "Đã lưu thay đổi").await;
    assert!(notice.contains("hồ sơ nháp"), "{notice}");
    let terms = browser.text("#application-terms").await;
    assert!(terms.contains("150.000.000 ₫"), "{terms}");
    assert!(terms.contains("chè giống"), "{terms}");

    // A PDF attached, checked by its content, listed; then submitted.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Phương án kinh doanh.pdf");
    std::fs::write(&path, a_pdf()).expect("write a PDF");
    browser.upload_file("#file", &path).await;
    browser.click("#upload-document").await;
    let documents = browser
        .wait_text("#documents", "Phương án kinh doanh.pdf")
        .await;
    assert!(documents.contains("977 kB"), "{documents}");
    browser.click("#submit-application").await;
    let status = browser.wait_text("#application-status", "Đã nộp").await;
    assert_eq!(status, "Đã nộp");
    assert_no_sideways_scroll(&browser, "/my/applications/{id}").await;
    browser.screenshot("coop-application-submitted").await;
    browser.goto(&fund.url("/my/applications")).await;
    assert!(browser.text("#application-list").await.contains(&number));

    // Another draft, made through the API, is withdrawn on its page (the reason goes to the trail).
    let token = coop_token(fund).await;
    let products = reqwest::Client::new()
        .get(fund.url("/api/v1/products?limit=200"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("products")
        .json::<Value>()
        .await
        .expect("json");
    let monthly = products["items"]
        .as_array()
        .and_then(|p| {
            p.iter()
                .find(|p| p["name"] == "Cho vay ngắn hạn lãi suất tháng")
        })
        .expect("the demo's monthly product")["id"]
        .clone();
    let other: Value = reqwest::Client::new()
        .post(fund.url("/api/v1/applications"))
        .bearer_auth(&token)
        .json(&json!({
            "product_id": monthly, "amount_vnd": 60_000_000, "installments": 6,
            "period_months": 1, "method": "annuity", "purpose": "Mua bao bì chè",
            "project_total_vnd": 80_000_000, "own_capital_vnd": 20_000_000,
            "no_bad_debt_declared": true,
        }))
        .send()
        .await
        .expect("a second draft")
        .json()
        .await
        .expect("json");
    let other_id = other["id"].as_i64().unwrap_or_else(|| panic!("{other}"));
    browser
        .goto(&fund.url(&format!("/my/applications/{other_id}")))
        .await;
    browser.click("#withdraw summary").await;
    browser
        .fill("#withdraw_reason", "HTX đã vay được của ngân hàng")
        .await;
    browser.click("#withdraw-application").await;
    browser.wait_text("#notice", "Đã rút hồ sơ").await;
    assert_eq!(browser.text("#application-status").await, "Đã rút");
    assert!(
        browser.try_find("#edit-application").await.is_none(),
        "a withdrawn application is not edited"
    );
    let withdrawn: Value = reqwest::Client::new()
        .get(fund.url(&format!("/api/v1/applications/{other_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the application")
        .json()
        .await
        .expect("json");
    assert_eq!(withdrawn["status"], "withdrawn", "{withdrawn}");

    // Notifications: a bad address is refused by its field; then the chair and the accountant are
    // the recipients, and the mails sent so far are listed with their state.
    browser.goto(&fund.url("/my/notifications")).await;
    browser.fill("#chair_email", "chu tich@htx").await;
    browser.click("#save-notifications").await;
    browser.find("#chair_email-error").await;
    browser
        .fill("#chair_email", "chutich.tancuong@example.vn")
        .await;
    browser
        .fill("#accountant_email", "ketoan.tancuong@example.vn")
        .await;
    browser.click("#save-notifications").await;
    browser.find("#saved").await;
    let recipients = browser.text("#recipients").await;
    assert_eq!(
        recipients,
        "chutich.tancuong@example.vn, ketoan.tancuong@example.vn"
    );
    // The fund's receipt of the application just submitted is among the mails, with its state.
    let mails = browser.text("#mails").await;
    assert!(
        mails.contains(&format!("Quỹ đã nhận hồ sơ vay số {number}")),
        "{mails}"
    );
    assert!(
        ["Đang chờ gửi", "Đang gửi", "Đã gửi", "Gửi không được"]
            .iter()
            .any(|state| mails.contains(state)),
        "{mails}"
    );
    assert_no_sideways_scroll(&browser, "/my/notifications").await;
    browser.screenshot("coop-notifications").await;
    browser.quit().await;

    // The officer finds it in the queue of submitted applications, with its document.
    let submitted = fund
        .api("/api/v1/applications?status=submitted&limit=200")
        .await;
    let application = submitted["items"]
        .as_array()
        .and_then(|items| items.iter().find(|a| a["number"] == number.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("{number} is submitted: {submitted}"));
    let application_id = application["id"].as_i64().unwrap();
    let documents = fund
        .api(&format!("/api/v1/applications/{application_id}/documents"))
        .await;
    assert_eq!(
        documents[0]["content_type"], "application/pdf",
        "{documents}"
    );
    assert_eq!(documents[0]["file_name"], "Phương án kinh doanh.pdf");
    assert_eq!(documents[0]["size_bytes"], a_pdf().len(), "{documents}");
    assert_eq!(application["amount_vnd"], 150_000_000, "the edit was kept");
    let browser = driver.session(true).await;
    login(&browser, fund, OFFICER).await;
    // The officer's queue of applications to appraise lists it.
    browser.goto(&fund.url("/applications?view=appraise")).await;
    browser.find("h1").await;
    let queue = browser.text("main").await;
    assert!(
        queue.contains(&number),
        "{number} in the officer's queue: {queue}"
    );
    browser.screenshot("coop-officer-queue").await;
    browser.quit().await;
}
