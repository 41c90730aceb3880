//! After a write-off (Decree 45/2021 Art 29, DOMAIN.md §9): write-offs with a full and a short provision,
//! recoveries (idempotent, reversible) until the loan is recovered, each journal entry line by line, the
//! follow-up file, the early write-off rule, and the portfolio report's written-off block.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_of, spawn_app_with, TestApp};
use crate::loan_fixtures::{
    active_loan, assert_ledger_verifies, example_3, json_of, post_keyed, run_cob, set_date, Staff,
};

/// A journal entry's lines as (account, debit, credit), sorted by account.
fn lines(entry: &Value) -> Vec<(String, i64, i64)> {
    let mut lines: Vec<(String, i64, i64)> = entry["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["account_code"].as_str().expect("code").to_string(),
                l["debit_vnd"].as_i64().expect("debit"),
                l["credit_vnd"].as_i64().expect("credit"),
            )
        })
        .collect();
    lines.sort();
    lines
}

fn line(code: &str, debit: i64, credit: i64) -> (String, i64, i64) {
    (code.to_string(), debit, credit)
}

/// The journal entries of a loan, newest first.
async fn entries(app: &TestApp, staff: &Staff, loan: i64) -> Vec<Value> {
    let page = json_of(
        app.get(
            &format!("/api/v1/ledger/entries?loan_id={loan}&limit=200"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    page["items"].as_array().expect("items").clone()
}

/// The entry posted with transaction `tx`.
async fn entry_of(app: &TestApp, staff: &Staff, loan: i64, tx: i64) -> Value {
    let all = entries(app, staff, loan).await;
    let found: Vec<&Value> = all
        .iter()
        .filter(|e| e["transaction_id"].as_i64() == Some(tx))
        .collect();
    assert_eq!(found.len(), 1, "one entry for transaction {tx}: {all:?}");
    found[0].clone()
}

/// A loan's balance on one account (net debit), from its journal lines.
async fn balance(app: &TestApp, _staff: &Staff, loan: i64, code: &str) -> i64 {
    use coopfund::store::entities::journal_line;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    journal_line::Entity::find()
        .filter(journal_line::Column::LoanId.eq(loan))
        .filter(journal_line::Column::AccountCode.eq(code))
        .all(&app.db)
        .await
        .expect("journal lines")
        .iter()
        .map(|l| l.debit_vnd - l.credit_vnd)
        .sum()
}

async fn write_off(app: &TestApp, staff: &Staff, loan: i64) -> Value {
    json_of(
        app.post(
            &format!("/api/v1/loans/{loan}/write-off"),
            &staff.approver,
            &json!({"reason": "Hội đồng xử lý rủi ro, quyết định số 7/QĐ-HĐXLRR"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn recover(
    app: &TestApp,
    staff: &Staff,
    loan: i64,
    key: &str,
    amount_vnd: i64,
    value_date: &str,
) -> reqwest::Response {
    post_keyed(
        app,
        &format!("/api/v1/loans/{loan}/recoveries"),
        &staff.accountant,
        Some(key),
        &json!({"amount_vnd": amount_vnd, "value_date": value_date, "reference": format!("UNC {key}")}),
    )
    .await
}

async fn loan_view(app: &TestApp, staff: &Staff, loan: i64) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await
}

fn amount(value: &Value, path: &[&str]) -> i64 {
    let mut at = value;
    for key in path {
        at = &at[*key];
    }
    at.as_i64().unwrap_or_else(|| panic!("{path:?} in {value}"))
}

#[tokio::test]
async fn written_off_loans_are_recovered_with_every_entry_as_domain_9_says() {
    let app = spawn_app_with(|s| {
        s.fund.start_business_date = "2026-01-10".into();
        s.cob.allow_future_dates = true;
    })
    .await;
    let staff = Staff::new(&app).await;
    // Two cooperatives, so that neither loan takes the other's group. Nothing is ever paid.
    let short = active_loan(
        &app,
        &staff,
        app.cooperative().await,
        &example_3(),
        "2026-01-10",
    )
    .await;
    let full = active_loan(
        &app,
        &staff,
        app.cooperative().await,
        &example_3(),
        "2026-01-10",
    )
    .await;

    // 2026-07-31 close: DPD 171, group 4, 50% provision. Written off on 2026-08-01: 60,000,000 overdue
    // (installments due 2026-02-10 to 2026-07-10), 40,000,000 in term; the provision is 50,000,000 short.
    run_cob(&app, "2026-07-31").await;
    assert_eq!(balance(&app, &staff, short, "22931").await, -50_000_000);
    let short_write_off = write_off(&app, &staff, short).await;
    let entry = entry_of(&app, &staff, short, amount(&short_write_off, &["id"])).await;
    assert_eq!(
        lines(&entry),
        vec![
            line("0042", 100_000_000, 0),
            line("0090", 0, 100_000_000),
            line("12831", 0, 40_000_000),
            line("12832", 0, 60_000_000),
            line("22931", 50_000_000, 0),
            line("6426", 50_000_000, 0),
        ],
        "write-off with a short provision: the shortfall is expensed in the same entry"
    );
    for code in ["12831", "12832", "22931", "13881"] {
        assert_eq!(balance(&app, &staff, short, code).await, 0, "{code}");
    }

    // 2026-08-31 close: DPD 202, group 5, 100% provision. Written off on 2026-09-01 against it in full.
    run_cob(&app, "2026-08-31").await;
    assert_eq!(balance(&app, &staff, full, "22931").await, -100_000_000);
    let full_write_off = write_off(&app, &staff, full).await;
    let entry = entry_of(&app, &staff, full, amount(&full_write_off, &["id"])).await;
    assert_eq!(
        lines(&entry),
        vec![
            line("0042", 100_000_000, 0),
            line("0090", 0, 100_000_000),
            line("12831", 0, 30_000_000),
            line("12832", 0, 70_000_000),
            line("22931", 100_000_000, 0),
        ],
        "write-off against a full provision"
    );
    assert_ledger_verifies(&app).await;

    // What remains under follow-up: the principal and the interest not recognised (memo 0041).
    let view = loan_view(&app, &staff, short).await;
    assert_eq!(view["status"], "written_off");
    assert!(view["next_due"].is_null(), "{view}");
    let interest = amount(&view, &["follow_up", "written_off_interest_vnd"]);
    assert_eq!(interest, balance(&app, &staff, short, "0041").await);
    assert!(interest > 0);
    assert_eq!(amount(&view, &["follow_up", "principal_vnd"]), 100_000_000);
    assert_eq!(
        amount(&view, &["follow_up", "total_vnd"]),
        100_000_000 + interest
    );

    // First recovery, retried with the same key: posted once.
    set_date(&app, "2026-10-05").await;
    let first = json_of(
        recover(&app, &staff, short, "rec-1", 30_000_000, "2026-10-05").await,
        StatusCode::CREATED,
    )
    .await;
    let retried = json_of(
        recover(&app, &staff, short, "rec-1", 30_000_000, "2026-10-05").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first, retried);
    assert_eq!(first["kind"], "recovery");
    assert_eq!(amount(&first, &["allocation", "principal_vnd"]), 30_000_000);
    assert_eq!(amount(&first, &["allocation", "interest_vnd"]), 0);
    let transactions = json_of(
        app.get(
            &format!("/api/v1/loans/{short}/transactions"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let recoveries = transactions
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "recovery")
        .count();
    assert_eq!(recoveries, 1, "the retry posted nothing");
    assert_eq!(
        lines(&entry_of(&app, &staff, short, amount(&first, &["id"])).await),
        vec![
            line("0042", 0, 30_000_000),
            line("0090", 30_000_000, 0),
            line("1121", 30_000_000, 0),
            line("711", 0, 30_000_000),
        ]
    );

    // Second recovery: the last 70,000,000 of principal, then 1,000,000 of interest not recognised.
    set_date(&app, "2026-11-05").await;
    let second = json_of(
        recover(&app, &staff, short, "rec-2", 71_000_000, "2026-11-05").await,
        StatusCode::CREATED,
    )
    .await;
    let second_entry = entry_of(&app, &staff, short, amount(&second, &["id"])).await;
    assert_eq!(
        lines(&second_entry),
        vec![
            line("0041", 0, 1_000_000),
            line("0042", 0, 70_000_000),
            line("0090", 71_000_000, 0),
            line("1121", 71_000_000, 0),
            line("51511", 0, 1_000_000),
            line("711", 0, 70_000_000),
        ]
    );
    assert_ledger_verifies(&app).await;

    // Its reversal: the mirror entry, linked to it; the engine replays without it.
    let reversal = json_of(
        app.post(
            &format!(
                "/api/v1/loans/{short}/transactions/{}/reverse",
                amount(&second, &["id"])
            ),
            &staff.accountant,
            &json!({"reason": "sai số tài khoản"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let reversal_entry = entry_of(&app, &staff, short, amount(&reversal, &["id"])).await;
    assert_eq!(reversal_entry["reverses_entry_id"], second_entry["id"]);
    assert_eq!(
        lines(&reversal_entry),
        vec![
            line("0041", 1_000_000, 0),
            line("0042", 70_000_000, 0),
            line("0090", 0, 71_000_000),
            line("1121", 0, 71_000_000),
            line("51511", 1_000_000, 0),
            line("711", 70_000_000, 0),
        ]
    );
    let view = loan_view(&app, &staff, short).await;
    assert_eq!(amount(&view, &["follow_up", "principal_vnd"]), 70_000_000);
    assert_eq!(amount(&view, &["follow_up", "interest_vnd"]), interest);

    // Above what remains: 422 naming it.
    let remaining = 70_000_000 + interest;
    let error = error_of(
        recover(&app, &staff, short, "rec-3", remaining + 1, "2026-11-05").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "recovery_above_remaining");
    assert_eq!(error["field"], "amount_vnd");
    let dotted = |n: i64| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        out
    };
    assert_eq!(
        error["message"],
        format!(
            "Số tiền thu hồi {} đồng vượt quá số nợ đã xử lý rủi ro còn theo dõi {} đồng; hãy thu tối đa {} đồng.",
            dotted(remaining + 1),
            dotted(remaining),
            dotted(remaining)
        )
    );

    // Everything recovered: the loan is `recovered`, nothing is left on the memo accounts.
    let last = json_of(
        recover(&app, &staff, short, "rec-4", remaining, "2026-11-05").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        lines(&entry_of(&app, &staff, short, amount(&last, &["id"])).await),
        vec![
            line("0041", 0, interest),
            line("0042", 0, 70_000_000),
            line("0090", remaining, 0),
            line("1121", remaining, 0),
            line("51511", 0, interest),
            line("711", 0, 70_000_000),
        ]
    );
    let view = loan_view(&app, &staff, short).await;
    assert_eq!(view["status"], "recovered");
    assert_eq!(amount(&view, &["follow_up", "total_vnd"]), 0);
    assert_eq!(view["follow_up"]["recovered_on"], "2026-11-05");
    for (code, expected) in [
        ("0042", 0),
        ("0041", 0),
        ("711", -100_000_000),
        ("6426", 100_000_000),
    ] {
        assert_eq!(balance(&app, &staff, short, code).await, expected, "{code}");
    }
    let error = error_of(
        recover(&app, &staff, short, "rec-5", 1, "2026-11-05").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "recovery_above_remaining");

    // The memo 0042 equals what remains under follow-up: the other loan's 100,000,000.
    let accounts = json_of(
        app.get("/api/v1/ledger/accounts", &staff.auditor).await,
        StatusCode::OK,
    )
    .await;
    let memo = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "0042")
        .expect("0042");
    assert_eq!(memo["balance_vnd"], 100_000_000);
    assert_eq!(
        amount(
            &loan_view(&app, &staff, full).await,
            &["follow_up", "principal_vnd"]
        ),
        100_000_000
    );
    assert_ledger_verifies(&app).await;

    // One receipt per recovery (the retry and the refused ones queued nothing; the reversed one keeps its own).
    use coopfund::store::entities::outbox_message;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let receipts = outbox_message::Entity::find()
        .filter(outbox_message::Column::DedupeKey.starts_with(format!("payment_receipt:{short}:")))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(receipts.len(), 3, "rec-1, rec-2 and rec-4");

    // The follow-up file lists the recoveries that stand, with their split; each recovery was audited.
    let file = json_of(
        app.get(&format!("/api/v1/loans/{short}/follow-ups"), &staff.officer)
            .await,
        StatusCode::OK,
    )
    .await;
    let splits: Vec<(i64, i64, i64)> = file["recoveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                amount(r, &["amount_vnd"]),
                amount(r, &["principal_vnd"]),
                amount(r, &["interest_vnd"]),
            )
        })
        .collect();
    assert_eq!(
        splits,
        vec![
            (30_000_000, 30_000_000, 0),
            (remaining, 70_000_000, interest)
        ]
    );
    assert_eq!(file["status"], "recovered");
    use coopfund::store::entities::audit_record;
    let audited = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("loan.recovery"))
        .filter(audit_record::Column::EntityId.eq(short.to_string()))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 3, "rec-1, rec-2 and rec-4");

    // The statement shows the recoveries that stand.
    let statement = json_of(
        app.get(&format!("/api/v1/loans/{short}/statement"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    let recovered: Vec<i64> = statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "recovery")
        .map(|l| l["received_vnd"].as_i64().unwrap())
        .collect();
    assert_eq!(recovered, vec![30_000_000, remaining]);

    // The portfolio report: one loan under follow-up, recoveries this year, half the written-off principal back.
    let report = json_of(
        app.get("/api/v1/reports/portfolio", &staff.auditor).await,
        StatusCode::OK,
    )
    .await;
    let block = &report["written_off"];
    assert_eq!(block["loans_under_follow_up"], 1, "{report}");
    assert_eq!(block["principal_under_follow_up_vnd"], 100_000_000);
    assert_eq!(block["recoveries_from"], "2026-01-01");
    assert_eq!(block["recoveries_in_period_vnd"], 30_000_000 + remaining);
    assert_eq!(block["recovered_principal_in_period_vnd"], 100_000_000);
    assert_eq!(block["recovery_rate_percent"], "50.00");
    let october = json_of(
        app.get("/api/v1/reports/portfolio?from=2026-11-01", &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        october["written_off"]["recoveries_in_period_vnd"],
        remaining
    );
    assert_eq!(
        october["written_off"]["recovered_principal_in_period_vnd"],
        70_000_000
    );
}

#[tokio::test]
async fn officers_note_follow_up_actions_that_staff_read_and_cooperatives_never_see() {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-10".into()).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let cooperative = app.user_token("cooperative", Some(coop)).await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let path = format!("/api/v1/loans/{loan}/follow-ups");
    let visit = json!({"kind": "visit", "acted_on": "2026-06-02", "note": "Đến trụ sở HTX: đã ngừng hoạt động."});

    set_date(&app, "2026-06-02").await;
    let error = error_of(
        app.post(&path, &staff.officer, &visit).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        error["code"], "invalid_loan_state",
        "only a written-off loan"
    );
    write_off(&app, &staff, loan).await;

    let noted = json_of(
        app.post(&path, &staff.officer, &visit).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(noted["kind"], "visit");
    let letter = json!({"kind": "letter", "acted_on": "2026-06-01", "note": "Thư đòi nợ số 12"});
    json_of(
        app.post(&path, &staff.officer, &letter).await,
        StatusCode::CREATED,
    )
    .await;
    for (token, status) in [
        (&staff.accountant, StatusCode::FORBIDDEN),
        (&staff.approver, StatusCode::FORBIDDEN),
        (&cooperative, StatusCode::NOT_FOUND),
    ] {
        error_of(app.post(&path, token, &visit).await, status).await;
    }
    let future = json!({"kind": "legal_case", "acted_on": "2026-06-03", "note": "Khởi kiện"});
    let error = error_of(
        app.post(&path, &staff.officer, &future).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "acted_on");
    let unknown = json!({"kind": "phone", "acted_on": "2026-06-01", "note": "x"});
    error_of(
        app.post(&path, &staff.officer, &unknown).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let file = json_of(app.get(&path, &staff.auditor).await, StatusCode::OK).await;
    let kinds: Vec<&str> = file["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["letter", "visit"], "oldest first: {file}");
    assert_eq!(file["status"], "written_off");
    assert_eq!(
        amount(&file, &["under_follow_up", "principal_vnd"]),
        100_000_000
    );
    error_of(app.get(&path, &cooperative).await, StatusCode::NOT_FOUND).await;
    // The cooperative still sees its loan, and what it still owes.
    let own = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &cooperative)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(amount(&own, &["follow_up", "principal_vnd"]), 100_000_000);

    use coopfund::store::entities::audit_record;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let audited = audit_record::Entity::find()
        .filter(audit_record::Column::Action.eq("loan.follow_up"))
        .filter(audit_record::Column::EntityId.eq(loan.to_string()))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
}

#[tokio::test]
async fn a_loan_in_term_is_written_off_only_when_the_approver_confirms_it_early() {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-10".into()).await;
    let staff = Staff::new(&app).await;
    let loan = active_loan(
        &app,
        &staff,
        app.cooperative().await,
        &example_3(),
        "2026-01-10",
    )
    .await;
    set_date(&app, "2026-02-01").await;
    let path = format!("/api/v1/loans/{loan}/write-off");
    let error = error_of(
        app.post(&path, &staff.approver, &json!({"reason": "HTX giải thể"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "write_off_in_term");
    assert_eq!(error["field"], "early");
    let error = error_of(
        app.post(
            &path,
            &staff.approver,
            &json!({"reason": "HTX giải thể", "early": true}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "early_reason");
    // Recoveries and repayments are refused in the wrong state.
    let error = error_of(
        recover(&app, &staff, loan, "too-soon", 1_000, "2026-02-01").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "invalid_loan_state");
    let early = json!({"reason": "HTX giải thể", "early": true, "early_reason": "Quyết định giải thể của UBND huyện, không còn tài sản"});
    // Money paid before anything is due is held as an advance: it must not stay behind a written-off loan.
    let paid = json_of(
        crate::loan_fixtures::repay(&app, &staff, loan, 1_000_000, "2026-02-01", "ordinary").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(amount(&paid, &["allocation", "advance_vnd"]), 1_000_000);
    let error = error_of(
        app.post(&path, &staff.approver, &early).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "write_off_advance_held");
    json_of(
        app.post(
            &format!(
                "/api/v1/loans/{loan}/transactions/{}/reverse",
                amount(&paid, &["id"])
            ),
            &staff.accountant,
            &json!({"reason": "ghi lại như trả nợ trước hạn"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let written = json_of(
        app.post(&path, &staff.approver, &early).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(written["kind"], "write_off");
    // No provision was ever posted: the whole principal is expensed in the write-off entry.
    let entry = entry_of(&app, &staff, loan, amount(&written, &["id"])).await;
    assert!(
        lines(&entry).contains(&line("6426", 100_000_000, 0)),
        "{entry}"
    );
    assert!(lines(&entry).contains(&line("12831", 0, 100_000_000)));
    // A recovery dated before the write-off, after the business date, or by someone else is refused.
    let error = error_of(
        recover(&app, &staff, loan, "before", 1_000, "2026-01-31").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "loan_not_written_off");
    error_of(
        recover(&app, &staff, loan, "future", 1_000, "2026-02-02").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    error_of(
        post_keyed(
            &app,
            &format!("/api/v1/loans/{loan}/recoveries"),
            &staff.officer,
            None,
            &json!({"amount_vnd": 1_000, "value_date": "2026-02-01", "reference": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // The write-off cannot be reversed while a recovery stands on it.
    let recovered = json_of(
        recover(&app, &staff, loan, "some", 1_000_000, "2026-02-01").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        amount(&recovered, &["allocation", "principal_vnd"]),
        1_000_000
    );
    let error = error_of(
        app.post(
            &format!(
                "/api/v1/loans/{loan}/transactions/{}/reverse",
                amount(&written, &["id"])
            ),
            &staff.accountant,
            &json!({"reason": "nhầm"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "loan_not_written_off");
    assert_ledger_verifies(&app).await;
}
