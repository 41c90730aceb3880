//! DOMAIN.md §8: all loans of one cooperative take the group of its worst loan, recomputed at
//! every close of business; the books follow (interest of a group 2-5 loan is off balance).

use coopfund::store::entities::journal_line;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::{
    helpers::{spawn_app_with, TestApp},
    loan_fixtures::{active_loan, assert_ledger_verifies, example_3, json_of, run_cob, Staff},
};

async fn loan(app: &TestApp, token: &str, id: i64) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{id}"), token).await,
        StatusCode::OK,
    )
    .await
}

async fn account_total(app: &TestApp, loan_id: i64, account: &str) -> i64 {
    journal_line::Entity::find()
        .filter(journal_line::Column::LoanId.eq(loan_id))
        .filter(journal_line::Column::AccountCode.eq(account))
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|l| l.debit_vnd - l.credit_vnd)
        .sum()
}

#[tokio::test]
async fn a_current_loan_takes_the_group_of_its_cooperatives_overdue_loan_and_its_interest_leaves_income(
) {
    let app = spawn_app_with(|s| {
        s.fund.start_business_date = "2026-01-10".into();
        s.cob.allow_future_dates = true;
    })
    .await;
    let staff = Staff::new(&app).await;
    let cooperative = app.cooperative().await;
    let unpaid = active_loan(&app, &staff, cooperative, &example_3(), "2026-01-10").await;
    run_cob(&app, "2026-02-28").await;
    let current = active_loan(&app, &staff, cooperative, &example_3(), "2026-03-01").await;
    run_cob(&app, "2026-03-14").await;

    let worst = loan(&app, &staff.auditor, unpaid).await;
    assert_eq!(worst["dpd"], 33, "due 2026-02-10, unpaid on 2026-03-15");
    assert_eq!(worst["debt_group"], 3);
    let sibling = loan(&app, &staff.auditor, current).await;
    assert_eq!(sibling["dpd"], 0);
    assert_eq!(
        sibling["debt_group"], 3,
        "the cooperative's worst loan sets the group of all its loans"
    );
    assert_eq!(
        account_total(&app, current, "13881").await,
        0,
        "no interest receivable on balance outside group 1"
    );
    assert!(
        account_total(&app, current, "0041").await > 0,
        "the accrued interest is tracked off balance"
    );
    assert_ledger_verifies(&app).await;
}
