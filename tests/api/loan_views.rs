//! What a client reads about a loan (issue 8 item 9): the list and the detail agree on every field, for every
//! loan of the demo fund; `next_due` is what is still to pay net of the advance held; `owed_now_vnd` is
//! everything due and overdue today; both are in the OpenAPI document.

use coopfund::{config::Settings, demo, state::AppState};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app, unique, TestApp},
    loan_fixtures::{active_loan, example_3, json_of, repay, set_date, Staff},
};

fn amount(value: &Value, field: &str) -> i64 {
    value[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} missing in {value}"))
}

async fn detail(app: &TestApp, loan_id: i64, token: &str) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), token).await,
        StatusCode::OK,
    )
    .await
}

/// Every loan of the list (all pages of 200).
async fn list_all(app: &TestApp, token: &str) -> Vec<Value> {
    let mut loans = Vec::new();
    let mut path = "/api/v1/loans?limit=200".to_string();
    loop {
        let page = json_of(app.get(&path, token).await, StatusCode::OK).await;
        loans.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/loans?limit=200&cursor={cursor}"),
            None => return loans,
        }
    }
}

/// Asserts that the detail of the loan has every field of its list item, with the same value.
async fn assert_list_agrees_with_detail(app: &TestApp, item: &Value, token: &str) {
    let id = item["id"].as_i64().expect("id");
    let one = detail(app, id, token).await;
    for (field, listed) in item.as_object().expect("a loan is an object") {
        assert_eq!(
            &one[field], listed,
            "loan {id}: the list shows {field} = {listed}, the detail {}",
            one[field]
        );
    }
}

#[tokio::test]
async fn next_due_is_net_of_the_advance_and_owed_now_is_everything_due_and_overdue_today() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    // Installment 1 (10,000,000 + 1,019,178) paid on its due date with 10,000,000 more, held as an advance.
    set_date(&app, "2026-02-10").await;
    json_of(
        repay(&app, &staff, loan_id, 21_019_178, "2026-02-10", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;

    set_date(&app, "2026-02-11").await;
    let view = detail(&app, loan_id, &staff.auditor).await;
    // The wire spellings of the loan's kinds are the API's (`actual_365`, not serde's `actual365`).
    assert_eq!(view["day_count"], "actual_365", "{view}");
    assert_eq!(view["status"], "active", "{view}");
    assert_eq!(amount(&view, "advance_vnd"), 10_000_000);
    assert_eq!(
        view["next_due"],
        json!({"seq": 2, "due_on": "2026-03-10", "principal_vnd": 828_493, "interest_vnd": 0,
               "total_vnd": 828_493, "advance_applied_vnd": 10_000_000}),
        "installment 2 is 10,828,493; the advance pays its interest, then 9,171,507 of its principal: {view}"
    );
    assert_eq!(amount(&view, "owed_now_vnd"), 0, "{view}");

    // On the due date the advance has been applied: the same 828,493 is left, due today.
    set_date(&app, "2026-03-10").await;
    let view = detail(&app, loan_id, &staff.auditor).await;
    assert_eq!(amount(&view, "advance_vnd"), 0);
    assert_eq!(
        view["next_due"],
        json!({"seq": 2, "due_on": "2026-03-10", "principal_vnd": 828_493, "interest_vnd": 0,
               "total_vnd": 828_493, "advance_applied_vnd": 0}),
        "{view}"
    );
    assert_eq!(amount(&view, "owed_now_vnd"), 828_493, "{view}");

    // A day later it is overdue, with round(828,493 × 12% × 1.5 / 365) = 409 of overdue interest; the next
    // installment to pay is the third.
    set_date(&app, "2026-03-11").await;
    let view = detail(&app, loan_id, &staff.auditor).await;
    assert_eq!(amount(&view, "owed_now_vnd"), 828_493 + 409, "{view}");
    let quote = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}/payoff"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        amount(&view, "owed_now_vnd"),
        amount(&quote, "overdue_principal_vnd")
            + amount(&quote, "unpaid_interest_vnd")
            + amount(&quote, "overdue_interest_vnd")
            + amount(&quote, "late_interest_vnd"),
        "the overdue part of the payoff quote: {quote}"
    );
    let schedule = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}/schedule"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    let third = &schedule["installments"][2];
    assert_eq!(view["next_due"]["seq"], 3, "{view}");
    assert_eq!(view["next_due"]["due_on"], third["due_on"]);
    assert_eq!(
        amount(&view["next_due"], "total_vnd"),
        amount(third, "total_vnd"),
        "no advance left: the whole third installment"
    );

    // The list shows the loan exactly as the detail does.
    let listed = list_all(&app, &staff.auditor).await;
    let item = listed.iter().find(|l| l["id"] == loan_id).expect("listed");
    assert_eq!(amount(item, "owed_now_vnd"), 828_902);
    assert_list_agrees_with_detail(&app, item, &staff.auditor).await;
}

#[tokio::test]
async fn the_openapi_view_of_a_loan_documents_owed_now_and_the_advance_applied_to_the_next_due() {
    let app = spawn_app().await;
    let doc: Value = json_of(
        app.get("/api/v1/openapi.json", &app.admin_token).await,
        StatusCode::OK,
    )
    .await;
    let schemas = &doc["components"]["schemas"];
    let owed_now = &schemas["LoanView"]["properties"]["owed_now_vnd"];
    assert_eq!(owed_now["type"], "integer", "{owed_now}");
    assert!(
        owed_now["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Everything due and overdue today")),
        "{owed_now}"
    );
    assert!(schemas["LoanView"]["required"]
        .as_array()
        .expect("required")
        .contains(&json!("owed_now_vnd")));
    let applied = &schemas["NextDue"]["properties"]["advance_applied_vnd"];
    assert_eq!(applied["type"], "integer", "{applied}");
}

#[tokio::test]
async fn the_list_and_the_detail_of_every_demo_loan_agree_on_every_field() {
    let app = spawn_app().await;
    // The demo loads into the test server's database; its own lock name for the in-process COB lock.
    let mut settings = Settings::load(None).expect("default settings");
    settings.database.url = unique("sqlite://demo-views-");
    demo::load_explorable(&AppState::new(app.db.clone(), settings))
        .await
        .expect("the demo loads");

    let loans = list_all(&app, &app.admin_token).await;
    // 26 since htx.tancuong got its overdue loan (issue 10); the same count as tests/api/demo.rs.
    assert_eq!(loans.len(), 26);
    // The demo has loans with each of the fields the list used to get wrong.
    assert!(loans.iter().any(|l| amount(l, "unpaid_interest_vnd") > 0));
    assert!(loans.iter().any(|l| amount(l, "written_off_vnd") > 0));
    assert!(loans.iter().any(|l| !l["next_due"].is_null()));
    assert!(loans.iter().any(|l| amount(l, "owed_now_vnd") > 0));
    for item in &loans {
        assert_list_agrees_with_detail(&app, item, &app.admin_token).await;
    }
}

/// Nothing defaults silently (issue 8 item 4): a loan whose stored rate cannot be read is an error, never
/// shown or folded at 0%.
#[tokio::test]
async fn a_loan_whose_stored_rate_is_unreadable_is_an_error_not_zero_percent() {
    use coopfund::store::entities::loan;
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};

    let app = crate::helpers::spawn_app().await;
    let staff = crate::loan_fixtures::Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = crate::loan_fixtures::active_loan(
        &app,
        &staff,
        coop,
        &crate::loan_fixtures::example_3(),
        "2026-01-10",
    )
    .await;
    // Written as raw text: the entity itself only writes decimals.
    let damaged = loan::Entity::update_many()
        .col_expr(loan::Column::RatePercent, Expr::value("twelve"))
        .filter(loan::Column::Id.eq(loan_id))
        .exec(&app.db)
        .await
        .expect("damage the row");
    assert_eq!(damaged.rows_affected, 1);
    let response = app
        .get(&format!("/api/v1/loans/{loan_id}"), &staff.auditor)
        .await;
    assert_eq!(
        response.status(),
        reqwest::StatusCode::INTERNAL_SERVER_ERROR
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "internal_error", "{body}");
    assert!(!body.to_string().contains("\"rate_percent\":\"0\""));
}
