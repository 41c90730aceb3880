//! The close of business leaves the rows of open loans whose balances did not change unwritten (issue 14,
//! cobpg): their cached balances read as of the business date all the same, in `ledger verify`, in a money
//! command's audited "before", and on the rows once the business date is set outside a close.

use coopfund::{
    app::{fund, ledger::effective_balances_as_of},
    store::entities::loan,
};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::{
    helpers::{spawn_app_with, TestApp},
    loan_fixtures::{
        active_loan, assert_ledger_verifies, date, example_3, json_of, repay, run_cob, set_date,
        Staff,
    },
};

/// The loan's row as stored, and its as-of date as every reader takes it.
async fn as_of(app: &TestApp, id: i64) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
    let row = loan::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let marks = fund::cached_through(&app.db).await.unwrap();
    (
        row.balances_as_of,
        effective_balances_as_of(&row, &marks).unwrap(),
    )
}

#[tokio::test]
async fn the_close_leaves_unchanged_loans_unwritten_and_they_read_as_of_the_business_date() {
    let app = spawn_app_with(|s| {
        s.fund.start_business_date = "2026-01-10".into();
        s.cob.allow_future_dates = true;
    })
    .await;
    let staff = Staff::new(&app).await;
    let (one, two) = (app.cooperative().await, app.cooperative().await);
    let paid = active_loan(&app, &staff, one, &example_3(), "2026-01-10").await;
    let untouched = active_loan(&app, &staff, two, &example_3(), "2026-01-10").await;
    run_cob(&app, "2026-01-20").await;

    // The disbursement wrote the rows as of the 10th; the close of the 10th wrote them as of the 11th (a command
    // had written them that day), and the nine closes after it left them alone: nothing they cache changed
    // before the first due date.
    for id in [paid, untouched] {
        assert_eq!(
            as_of(&app, id).await,
            (Some(date("2026-01-11")), Some(date("2026-01-21"))),
            "loan {id}: stored, and as read"
        );
    }
    assert_ledger_verifies(&app).await;

    // A command's audited "before" is the row as of the business date, as when every row was written daily.
    let response = repay(&app, &staff, paid, 1_000_000, "2026-01-21", "ordinary").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let audit: Value = json_of(
        app.get(
            &format!("/api/v1/audit?entity_type=loan&entity_id={paid}"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(audit["items"][0]["before"]["as_of"], "2026-01-21");
    assert_eq!(
        as_of(&app, paid).await,
        (Some(date("2026-01-21")), Some(date("2026-01-21")))
    );

    // The close of the 21st writes the loan a command wrote that day, and not the other.
    run_cob(&app, "2026-01-21").await;
    assert_eq!(
        as_of(&app, paid).await,
        (Some(date("2026-01-22")), Some(date("2026-01-22")))
    );
    assert_eq!(
        as_of(&app, untouched).await,
        (Some(date("2026-01-11")), Some(date("2026-01-22")))
    );
    assert_ledger_verifies(&app).await;

    // The business date set outside a close: the marks are written onto the rows they cover, then cleared.
    set_date(&app, "2026-01-25").await;
    assert_eq!(
        as_of(&app, untouched).await,
        (Some(date("2026-01-22")), Some(date("2026-01-22")))
    );
    assert_eq!(
        fund::cached_through(&app.db).await.unwrap(),
        fund::CachedThrough::default()
    );
}
