//! Specific provisions of loans that leave the portfolio (DOMAIN.md §8, §9; issue 8 item 9): worked example 3
//! left unpaid into group 2 holds 2,000,000 on 22931; paid off or written off, it holds none after the next
//! month end, and the portfolio report shows no provision without loans.

use coopfund::store::entities::{journal_entry, journal_line};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::{
    cob_e2e::{balance, close_twice, fund, loan, trial_balance},
    helpers::TestApp,
    loan_fixtures::{
        active_loan, assert_ledger_verifies, example_3, json_of, repay, run_cob, Staff,
    },
};

async fn portfolio(app: &TestApp) -> Value {
    json_of(
        app.get("/api/v1/reports/portfolio", &app.admin_token).await,
        StatusCode::OK,
    )
    .await
}

/// Asserts the report holds no provision and no loan in any group.
fn assert_empty_portfolio(report: &Value) {
    for group in report["groups"].as_array().expect("groups") {
        assert_eq!(
            (
                group["loans"].as_i64(),
                group["outstanding_principal_vnd"].as_i64(),
                group["specific_provision_vnd"].as_i64()
            ),
            (Some(0), Some(0), Some(0)),
            "{report}"
        );
    }
    assert_eq!(report["specific_provision_vnd"], 0, "{report}");
    assert_eq!(report["general_provision_vnd"], 0, "{report}");
}

/// Worked example 3 with nothing paid through 2026-02-28: 18 DPD, group 2, 2% × 100,000,000 on 22931.
async fn example_3_in_group_2(app: &TestApp, staff: &Staff) -> i64 {
    let coop = app.cooperative().await;
    let loan_id = active_loan(app, staff, coop, &example_3(), "2026-01-10").await;
    run_cob(app, "2026-02-28").await;
    let view = loan(app, loan_id).await;
    assert_eq!(view["debt_group"], 2, "{view}");
    let tb = trial_balance(app).await;
    assert_eq!(balance(&tb, "22931"), 2_000_000);
    assert_eq!(balance(&tb, "22932"), 500_000);
    loan_id
}

/// The lines (account, debit, credit) of the entry with `business_key`.
async fn lines_of(app: &TestApp, business_key: &str) -> Vec<(String, i64, i64)> {
    let entries = journal_entry::Entity::find()
        .filter(journal_entry::Column::BusinessKey.eq(business_key))
        .all(&app.db)
        .await
        .expect("entries");
    assert_eq!(entries.len(), 1, "one entry {business_key}");
    let mut lines: Vec<(String, i64, i64)> = journal_line::Entity::find()
        .filter(journal_line::Column::EntryId.eq(entries[0].id))
        .all(&app.db)
        .await
        .expect("lines")
        .into_iter()
        .map(|l| (l.account_code, l.debit_vnd, l.credit_vnd))
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn a_paid_off_loan_releases_its_specific_provision_at_the_next_month_end_and_holds_none_after(
) {
    let app = fund(None).await;
    let staff = Staff::new(&app).await;
    let loan_id = example_3_in_group_2(&app, &staff).await;

    let quote = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}/payoff"), &app.admin_token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(quote["date"], "2026-03-01");
    assert_eq!(quote["total_vnd"], 101_680_374, "{quote}");
    let paid = json_of(
        repay(&app, &staff, loan_id, 101_680_374, "2026-03-01", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(paid["allocation"]["settled_loan"], true, "{paid}");
    assert_eq!(loan(&app, loan_id).await["status"], "closed");

    // Provisions move at month ends (§8): until then the closed loan still holds its 2,000,000.
    run_cob(&app, "2026-03-30").await;
    assert_eq!(balance(&trial_balance(&app).await, "22931"), 2_000_000);

    run_cob(&app, "2026-03-31").await;
    let tb = trial_balance(&app).await;
    assert_eq!(balance(&tb, "22931"), 0, "released at the month end");
    assert_eq!(
        balance(&tb, "22932"),
        0,
        "no open loan, no general provision"
    );
    assert_eq!(balance(&tb, "6426"), 0, "every provision expense reversed");
    assert_eq!(
        lines_of(&app, &format!("cob:{loan_id}:2026-03-31")).await,
        vec![
            ("22931".to_string(), 2_000_000, 0),
            ("6426".to_string(), 0, 2_000_000)
        ],
        "Dr 22931 / Cr 6426 in the loan's own close-of-business entry"
    );
    assert_empty_portfolio(&portfolio(&app).await);
    // Closing the month end again (as after a crash) releases nothing twice.
    close_twice(&app, "2026-03-31").await;

    run_cob(&app, "2026-04-30").await;
    let tb = trial_balance(&app).await;
    assert_eq!(
        (balance(&tb, "22931"), balance(&tb, "6426")),
        (0, 0),
        "after the April month end"
    );
    assert_empty_portfolio(&portfolio(&app).await);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn a_written_off_loan_uses_its_provision_and_holds_none_after_the_next_month_end() {
    let app = fund(None).await;
    let staff = Staff::new(&app).await;
    let loan_id = example_3_in_group_2(&app, &staff).await;
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan_id}/write-off"),
            &staff.approver,
            &json!({"reason": "Hội đồng xử lý rủi ro, quyết định số 12"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let tb = trial_balance(&app).await;
    assert_eq!(
        balance(&tb, "22931"),
        0,
        "the 2,000,000 is used against the loss"
    );
    assert_eq!(balance(&tb, "0042"), 100_000_000, "followed up off balance");

    run_cob(&app, "2026-03-31").await;
    let tb = trial_balance(&app).await;
    assert_eq!(balance(&tb, "22931"), 0);
    assert_eq!(balance(&tb, "22932"), 0);
    assert_eq!(
        balance(&tb, "6426"),
        100_000_000,
        "the loss: the provision used plus the shortfall"
    );
    assert_empty_portfolio(&portfolio(&app).await);
    assert_ledger_verifies(&app).await;
}
