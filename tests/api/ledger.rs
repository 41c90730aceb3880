//! The books through HTTP: the chart with balances, the journal, the trial balance, and `ledger verify`
//! after a long random history.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::loan_fixtures::{
    active_loan, assert_ledger_verifies, example_3, json_of, repay, run_cob, set_date, Staff,
    Terms, FIXTURE_CHARTER_CAPITAL_VND,
};

fn balance_of(accounts: &Value, code: &str) -> i64 {
    accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .and_then(|a| a["balance_vnd"].as_i64())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_disbursement_and_a_late_payment_are_booked_and_the_trial_balance_balances() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let accounts = json_of(
        app.get("/api/v1/ledger/accounts", &staff.accountant).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(balance_of(&accounts, "12831"), 100_000_000);
    // The fixture's charter capital is cash at bank; the disbursement paid 100,000,000 out of it.
    assert_eq!(
        balance_of(&accounts, "1121"),
        FIXTURE_CHARTER_CAPITAL_VND - 100_000_000
    );
    set_date(&app, "2026-02-20").await;
    json_of(
        repay(&app, &staff, loan, 11_100_000, "2026-02-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    let accounts = json_of(
        app.get("/api/v1/ledger/accounts", &staff.auditor).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(balance_of(&accounts, "12831"), 90_000_000);
    assert_eq!(balance_of(&accounts, "12832"), 0);
    assert_eq!(
        balance_of(&accounts, "3388"),
        28_715,
        "the excess is held as an advance"
    );
    assert_eq!(
        balance_of(&accounts, "51512"),
        49_315 + 2_792,
        "overdue and late interest recognised when collected"
    );
    let trial = json_of(
        app.get(
            "/api/v1/ledger/trial-balance?date=2026-02-20",
            &staff.approver,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trial["balanced"], true);
    assert_eq!(trial["total_debit_vnd"], trial["total_credit_vnd"]);
    let before = json_of(
        app.get(
            "/api/v1/ledger/trial-balance?date=2026-01-09",
            &staff.officer,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        before["total_debit_vnd"], 0,
        "nothing was posted before the disbursement"
    );
    let entries = json_of(
        app.get(
            &format!("/api/v1/ledger/entries?loan_id={loan}&account=3388"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let items = entries["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "repayment");
    let lines = items[0]["lines"].as_array().unwrap();
    let debits: i64 = lines.iter().map(|l| l["debit_vnd"].as_i64().unwrap()).sum();
    let credits: i64 = lines
        .iter()
        .map(|l| l["credit_vnd"].as_i64().unwrap())
        .sum();
    assert_eq!(debits, credits);
    assert!(
        lines.iter().all(|l| l["loan_id"] == loan),
        "every line is in the loan's subledger"
    );
    let page = json_of(
        app.get("/api/v1/ledger/entries?limit=1", &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(page["next_cursor"].is_string());
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn ledger_verify_reports_a_cached_balance_that_differs_from_the_engine() {
    use coopfund::store::entities::loan;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    assert_ledger_verifies(&app).await;
    let row = loan::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active = row.into_active_model();
    active.in_term_principal_vnd = Set(99_999_999);
    active.update(&app.db).await.unwrap();
    let report =
        coopfund::app::ledger::verify(&app.db, &app.settings.classification.classification())
            .await
            .unwrap();
    assert!(!report.passed());
    assert!(
        report.render().contains("in_term_principal_vnd"),
        "{}",
        report.render()
    );
}

/// Issue 14: a loan's running book (`loan_books`, which posting by difference reads instead of summing the loan's
/// journal lines) is kept by the database as lines are inserted — a disbursement, a repayment, a reversal and
/// the close of business each leave it equal to the sums of the lines — and `ledger verify` names the loan and
/// account of a running book that differs from them.
#[tokio::test]
async fn the_running_book_follows_every_posting_and_verify_names_one_that_differs() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let backend = app.db.get_database_backend();
    let rows = |sql: String| {
        let db = app.db.clone();
        async move {
            let mut rows: Vec<(String, i64, i64)> = db
                .query_all_raw(Statement::from_string(backend, sql))
                .await
                .expect("query")
                .iter()
                .map(|row| {
                    (
                        row.try_get::<String>("", "account_code").unwrap(),
                        row.try_get::<i64>("", "debits").unwrap(),
                        row.try_get::<i64>("", "credits").unwrap(),
                    )
                })
                .collect();
            rows.sort();
            rows
        }
    };
    let running = |loan: i64| {
        rows(format!(
            "SELECT account_code, debit_vnd AS debits, credit_vnd AS credits FROM loan_books WHERE loan_id = {loan}"
        ))
    };
    let from_lines = |loan: i64| {
        rows(format!(
            "SELECT account_code, CAST(SUM(debit_vnd) AS BIGINT) AS debits, CAST(SUM(credit_vnd) AS BIGINT) AS credits \
             FROM journal_lines WHERE loan_id = {loan} GROUP BY account_code"
        ))
    };
    let after_disbursement = running(id).await;
    assert!(
        after_disbursement.iter().any(|(_, debits, _)| *debits > 0),
        "the disbursement is in the running book: {after_disbursement:?}"
    );
    assert_eq!(after_disbursement, from_lines(id).await);

    // The close of business posts the accruals through its set-based inserts.
    run_cob(&app, "2026-01-20").await;
    let after_close = running(id).await;
    assert_ne!(after_close, after_disbursement);
    assert_eq!(after_close, from_lines(id).await);

    let paid = json_of(
        repay(&app, &staff, id, 5_000_000, "2026-01-20", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    let after_repayment = running(id).await;
    assert_ne!(after_repayment, after_close);
    assert_eq!(after_repayment, from_lines(id).await);

    json_of(
        app.post(
            &format!("/api/v1/loans/{id}/transactions/{}/reverse", paid["id"]),
            &staff.accountant,
            &json!({"reason": "ghi nhầm"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let after_reversal = running(id).await;
    assert_ne!(after_reversal, after_repayment);
    assert_eq!(after_reversal, from_lines(id).await);
    assert_ledger_verifies(&app).await;

    // One more đồng on one account of the running book: verify names the loan and the account.
    let (code, _, _) = after_reversal[0].clone();
    app.db
        .execute_unprepared(&format!(
            "UPDATE loan_books SET debit_vnd = debit_vnd + 1 WHERE loan_id = {id} AND account_code = '{code}'"
        ))
        .await
        .expect("tamper");
    let report =
        coopfund::app::ledger::verify(&app.db, &app.settings.classification.classification())
            .await
            .expect("verify runs");
    assert!(!report.passed());
    let expected = format!("loan {id}'s running book on {code} holds");
    assert!(
        report.differences.iter().any(|d| d.starts_with(&expected)),
        "{}",
        report.render()
    );
}

/// A small deterministic PRNG (xorshift64*), so the random history is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test]
async fn ledger_verify_passes_after_a_seeded_random_sequence_of_a_thousand_operations() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let terms = [
        example_3(),
        Terms {
            principal_vnd: 240_000_000,
            rate_percent: "7.2",
            installments: 8,
            period_months: 3,
            method: "annuity",
            prepayment_rule: "reamortize",
        },
        Terms {
            principal_vnd: 50_000_000,
            rate_percent: "9",
            installments: 6,
            period_months: 1,
            method: "bullet",
            prepayment_rule: "shorten_term",
        },
    ];
    let mut loans = Vec::new();
    for (index, t) in terms.iter().cycle().take(8).enumerate() {
        let half = Terms {
            principal_vnd: t.principal_vnd,
            ..t.clone()
        };
        let id = active_loan(&app, &staff, coop, &half, "2026-01-05").await;
        let _ = index;
        loans.push((id, t.principal_vnd));
    }
    let mut rng = Rng(0x5EED_C00F_F00D_0001);
    let mut today = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let mut repayments: Vec<(i64, i64)> = Vec::new();
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..1_000 {
        let (loan, principal) = loans[rng.below(loans.len() as u64) as usize];
        let choice = rng.below(100);
        let response = if choice < 8 {
            today += chrono::Duration::days(1 + rng.below(5) as i64);
            coopfund::app::fund::set_business_date(&app.db, today, chrono::Utc::now())
                .await
                .unwrap();
            continue;
        } else if choice < 72 {
            let back = rng.below(20) as i64;
            let on = (today - chrono::Duration::days(back))
                .max(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
            let amount_vnd = 1 + (rng.below(principal as u64 / 40)) as i64;
            let kind = if rng.below(4) == 0 {
                "prepayment"
            } else {
                "ordinary"
            };
            repay(&app, &staff, loan, amount_vnd, &on.to_string(), kind).await
        } else if choice < 84 && !repayments.is_empty() {
            let (loan, tx) = repayments.swap_remove(rng.below(repayments.len() as u64) as usize);
            app.post(
                &format!("/api/v1/loans/{loan}/transactions/{tx}/reverse"),
                &staff.accountant,
                &json!({"reason": "random"}),
            )
            .await
        } else if choice < 87 {
            let payoff = json_of(
                app.get(&format!("/api/v1/loans/{loan}/payoff"), &staff.accountant)
                    .await,
                StatusCode::OK,
            )
            .await;
            let total = payoff["total_vnd"].as_i64().unwrap_or(0);
            if total == 0 {
                continue;
            }
            repay(&app, &staff, loan, total, &today.to_string(), "ordinary").await
        } else {
            let amount_vnd = 1 + rng.below(1_000_000) as i64;
            let body = json!({"amount_vnd": amount_vnd, "value_date": today.to_string(), "reference": "tranche"});
            app.post(
                &format!("/api/v1/loans/{loan}/disbursements"),
                &staff.accountant,
                &body,
            )
            .await
        };
        let status = response.status();
        assert!(
            !status.is_server_error(),
            "a server error in the random history"
        );
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == StatusCode::CREATED && body["kind"] == "repayment" {
            repayments.push((loan, body["id"].as_i64().unwrap()));
        }
        let label = if status.is_success() {
            format!("{status}")
        } else {
            format!("{status} {}", body["error"]["code"])
        };
        *outcomes.entry(label).or_default() += 1;
    }
    assert!(
        outcomes.get("201 Created").copied().unwrap_or(0) > 400,
        "most operations were posted: {outcomes:?}"
    );
    assert_ledger_verifies(&app).await;
    let trial = json_of(
        app.get("/api/v1/ledger/trial-balance", &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trial["balanced"], true);
}
