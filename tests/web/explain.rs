//! Browser test of "how is this computed?" (issue 10 §3): the cooperative opens the explanation of an
//! overdue demo loan on a phone, every amount's lines add up to the amount shown and to the API's payoff
//! quote, the table reads as stacked cards without a sideways scroll; another cooperative's loan is a
//! 404 page.

use serde_json::{json, Value};

use crate::{
    driver::Driver,
    pages::{fund, login, scrolls_sideways, ACCOUNTANT, BROWSER, COOPERATIVE},
};

/// A token for `who` through the API.
async fn token(address: &str, (username, password): (&str, &str)) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("{address}/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    body["token"].as_str().expect("token").to_string()
}

async fn get(address: &str, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{address}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json")
}

/// Σ of the `data-amount` of the lines of section `#anchor`, and the amount the section shows.
const SUMS: &str =
    "return Array.from(document.querySelectorAll('section.explained')).map(s => [s.id, \
    s.querySelector('.explained-amount').dataset.amount, \
    Array.from(s.querySelectorAll('td.line-amount')).map(td => td.dataset.amount)]);";

fn cents(text: &str) -> i64 {
    // Decimal strings to the cent ("-0.07", "49315.07", "10000000"), summed in integer cents.
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches('-');
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = format!("{fraction:0<2}");
    let value =
        whole.parse::<i64>().expect("whole") * 100 + fraction[..2].parse::<i64>().expect("cents");
    if negative {
        -value
    } else {
        value
    }
}

/// Every section's lines add up to the amount it shows, which is the payoff quote's.
async fn assert_sections_add_up(browser: &crate::driver::Browser, quote: &Value) {
    let sections = browser.script(SUMS, json!([])).await;
    let sections = sections.as_array().expect("sections");
    assert_eq!(sections.len(), 9, "every amount of the payoff quote");
    for section in sections {
        let field = section[0].as_str().expect("id");
        let shown = cents(section[1].as_str().expect("amount"));
        let lines: i64 = section[2]
            .as_array()
            .expect("lines")
            .iter()
            .map(|a| cents(a.as_str().expect("line amount")))
            .sum();
        assert_eq!(
            lines, shown,
            "{field}: the lines add up to the amount shown"
        );
        assert_eq!(
            shown,
            quote[field].as_i64().expect("quote amount") * 100,
            "{field}: the amount is the payoff quote's"
        );
    }
}

#[tokio::test]
async fn explain_an_overdue_loan_on_a_phone_its_lines_add_up_to_each_amount() {
    let fund = fund();
    let _turn = BROWSER.lock().await;
    // The demo's most overdue active loan (late and defaulted stories) with overdue interest owed.
    let all = fund.api("/api/v1/loans?status=active&limit=200").await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let overdue = all
        .iter()
        .filter(|l| l["dpd"].as_i64().unwrap_or(0) > 0)
        .max_by_key(|l| l["dpd"].as_i64().unwrap_or(0))
        .expect("the demo has an overdue loan")
        .clone();
    let overdue_id = overdue["id"].as_i64().expect("id");
    let quote = fund
        .api(&format!("/api/v1/loans/{overdue_id}/payoff"))
        .await;
    assert!(
        quote["overdue_interest_vnd"].as_i64().unwrap_or(0) > 0,
        "an overdue loan owes overdue interest: {quote}"
    );

    let driver = Driver::start().await;
    let phone = driver.session(true).await;
    login(&phone, fund, ACCOUNTANT).await;
    phone
        .goto(&fund.url(&format!("/loans/{overdue_id}/explain")))
        .await;
    phone.find("#total_vnd").await;
    assert!(phone.text("h1").await.starts_with("Cách tính số tiền"));
    assert_sections_add_up(&phone, &quote).await;
    let text = phone.text("#overdue_interest_vnd").await;
    assert!(text.contains("/ 365"), "the formula is written out: {text}");
    assert!(text.contains("%/năm"), "the rate is shown: {text}");
    assert!(
        text.contains("Làm tròn"),
        "the rounding is its own line: {text}"
    );
    let (page_width, window_width) = scrolls_sideways(&phone).await;
    assert!(
        page_width <= window_width,
        "no sideways scroll at phone width: {page_width} > {window_width}"
    );
    phone.screenshot("explain-phone").await;
    phone
        .goto(&fund.url(&format!("/loans/{overdue_id}/explain#overdue_interest_vnd")))
        .await;
    phone.find("#overdue_interest_vnd").await;
    phone.screenshot("explain-phone-overdue-interest").await;

    // A date typed wrong is shown next to the field; the explanation stays (the business date's).
    phone
        .goto(&fund.url(&format!("/loans/{overdue_id}/explain?date=31/02/2026")))
        .await;
    phone.find("#date-error").await;
    phone.find("#total_vnd").await;
    phone.quit().await;

    // The cooperative, on a phone: its own overdue loan explained (the demo keeps one of
    // tancuong's loans behind by weeks), another cooperative's loan a 404 page.
    let coop_token = token(&fund.address, COOPERATIVE).await;
    let own = get(
        &fund.address,
        &coop_token,
        "/api/v1/loans?status=active&limit=200",
    )
    .await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let own_loan = own
        .iter()
        .find(|l| l["dpd"].as_i64().unwrap_or(0) > 0)
        .expect("htx.tancuong has an overdue loan")["id"]
        .as_i64()
        .expect("id");
    let own_quote = get(
        &fund.address,
        &coop_token,
        &format!("/api/v1/loans/{own_loan}/payoff"),
    )
    .await;
    for field in [
        "overdue_principal_vnd",
        "overdue_interest_vnd",
        "late_interest_vnd",
    ] {
        assert!(
            own_quote[field].as_i64().unwrap_or(0) > 0,
            "{field} is owed on tancuong's overdue loan: {own_quote}"
        );
    }
    let stranger = all
        .iter()
        .find(|l| l["cooperative_id"] != own[0]["cooperative_id"])
        .expect("another cooperative's loan")["id"]
        .as_i64()
        .expect("id");
    let coop = driver.session(true).await;
    login(&coop, fund, COOPERATIVE).await;
    coop.goto(&fund.url(&format!("/loans/{own_loan}/explain")))
        .await;
    coop.find("#total_vnd").await;
    assert_sections_add_up(&coop, &own_quote).await;
    let late = coop.text("#late_interest_vnd").await;
    assert!(late.contains("/ 365"), "the formula is written out: {late}");
    coop.goto(&fund.url(&format!("/loans/{own_loan}/explain#late_interest_vnd")))
        .await;
    coop.find("#late_interest_vnd").await;
    coop.screenshot("explain-phone-cooperative-late-interest")
        .await;
    coop.goto(&fund.url(&format!("/loans/{stranger}/explain")))
        .await;
    coop.wait_text("h1", "Không tìm thấy").await;
    coop.quit().await;

    // At a desk the lines are a table.
    let desk = driver.session(false).await;
    login(&desk, fund, ACCOUNTANT).await;
    desk.goto(&fund.url(&format!("/loans/{overdue_id}/explain#overdue_interest_vnd")))
        .await;
    desk.find("#overdue_interest_vnd").await;
    desk.screenshot("explain-desk").await;
    desk.quit().await;
}
