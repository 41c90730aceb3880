//! API tests: reports as of a past date (unchanged by later back-dated activity), their exports read
//! back by a real reader (calamine), the lending report (Decree 45 Art 44, Circular 52/2022
//! Appendix 1a) reconciled with the trial balance, cooperative profiles and the targets report.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{error_of, spawn_app_with, TestApp},
    loan_fixtures::{active_loan, example_3, json_of, repay, run_cob, Staff},
};

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    json_of(app.get(path, token).await, StatusCode::OK).await
}

/// Closes every day through `through` ([`run_cob`]) and asserts that a close ran.
async fn cob_through(app: &TestApp, through: &str) {
    let outcome = run_cob(app, through).await;
    assert_eq!(outcome["ran"], true, "{outcome}");
}

/// The report without what is allowed to change when later corrections arrive.
fn without_later_corrections(report: &Value) -> Value {
    let mut report = report.clone();
    report
        .as_object_mut()
        .expect("object")
        .remove("later_corrections");
    report
}

/// A fund with two loans of one cooperative from 10/01/2026, closed through `through`; one loan
/// pays nothing, so it is past due.
async fn fund_with_a_late_loan(through: &str) -> (TestApp, Staff, i64, i64) {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-10".into()).await;
    let staff = Staff::new(&app).await;
    let cooperative = app.cooperative().await;
    let late = active_loan(&app, &staff, cooperative, &example_3(), "2026-01-10").await;
    let other = app.cooperative().await;
    let paying = active_loan(&app, &staff, other, &example_3(), "2026-01-10").await;
    cob_through(&app, through).await;
    (app, staff, late, paying)
}

#[tokio::test]
async fn a_report_for_a_past_date_is_identical_before_and_after_later_back_dated_activity() {
    let (app, staff, late, _) = fund_with_a_late_loan("2026-03-20").await;
    let path = "/api/v1/reports/as-of?date=2026-03-01&trend_months=2";
    let before = get_json(&app, path, &staff.auditor).await;
    assert_eq!(before["date"], "2026-03-01");
    assert_eq!(before["closed"], true, "{before}");
    // The first installments fell due on 10/02 and are unpaid on 01/03: 19 days past due.
    let band = |report: &Value, name: &str| {
        report["aging"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["band"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(band(&before, "10-29")["loans"], 2, "{before}");
    assert_eq!(before["total_outstanding_principal_vnd"], 200_000_000);
    assert_eq!(
        before["ledger_principal_vnd"], before["total_outstanding_principal_vnd"],
        "the loans and the books agree on the day"
    );
    assert_eq!(before["later_corrections"]["transactions"], 0);

    // Entered on 21/03, back-dated to 10/02: the first installment paid on time, after all.
    let payoff = get_json(
        &app,
        &format!("/api/v1/loans/{late}/payoff?date=2026-02-10"),
        &staff.accountant,
    )
    .await;
    let installment = payoff["overdue_principal_vnd"].as_i64().unwrap()
        + payoff["unpaid_interest_vnd"].as_i64().unwrap()
        + payoff["current_interest_vnd"].as_i64().unwrap()
        + 10_000_000;
    let response = repay(
        &app,
        &staff,
        late,
        installment.max(11_000_000),
        "2026-02-10",
        "ordinary",
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{:?}",
        response.text().await
    );

    let after = get_json(&app, path, &staff.auditor).await;
    assert_eq!(
        without_later_corrections(&before),
        without_later_corrections(&after),
        "the report for 01/03 did not change"
    );
    assert_eq!(after["later_corrections"]["transactions"], 1, "{after}");
    assert_eq!(
        after["later_corrections"]["earliest_value_date"],
        "2026-02-10"
    );

    // Today's view of the same loan does know the payment (the test can fail): its first
    // installment is no longer late.
    let loan = get_json(&app, &format!("/api/v1/loans/{late}"), &staff.auditor).await;
    assert!(
        loan["dpd"].as_i64().unwrap() < 38,
        "the back-dated payment counts now: {loan}"
    );
}

#[tokio::test]
async fn an_xlsx_export_read_back_has_the_totals_of_the_json_report_and_the_csv_has_vietnamese_headers(
) {
    let (app, staff, _, _) = fund_with_a_late_loan("2026-03-05").await;
    let json = get_json(
        &app,
        "/api/v1/reports/as-of?date=2026-03-01&trend_months=2",
        &staff.auditor,
    )
    .await;
    let response = app
        .get(
            "/api/v1/reports/as-of?date=2026-03-01&trend_months=2&format=xlsx",
            &staff.auditor,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("bao-cao-2026-03-01.xlsx"));
    let bytes = response.bytes().await.unwrap();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx workbook");
    let names = workbook.sheet_names();
    for sheet in [
        "Nhóm nợ",
        "Tuổi nợ",
        "Xu hướng PAR",
        "Giải ngân và thu nợ",
        "Dư nợ lớn nhất",
        "Xóa nợ và thu hồi",
    ] {
        assert!(names.iter().any(|n| n == sheet), "{sheet} in {names:?}");
    }
    let groups = workbook
        .worksheet_range("Nhóm nợ")
        .expect("the groups sheet");
    let header: Vec<String> = groups
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[2], "Dư nợ gốc (₫)");
    let total_row = groups
        .rows()
        .find(|row| row[0] == Data::String("Tổng cộng".into()))
        .expect("a total row");
    let number = |cell: &Data| match cell {
        Data::Float(f) => *f as i64,
        Data::Int(i) => *i,
        other => panic!("not a number: {other:?}"),
    };
    assert_eq!(
        number(&total_row[2]),
        json["total_outstanding_principal_vnd"].as_i64().unwrap()
    );
    assert_eq!(
        number(&total_row[3]),
        json["specific_provision_vnd"].as_i64().unwrap()
    );
    // Each group's row equals the JSON's.
    for (i, group) in json["groups"].as_array().unwrap().iter().enumerate() {
        let row = groups.rows().nth(i + 1).unwrap();
        assert_eq!(number(&row[0]), group["debt_group"].as_i64().unwrap());
        assert_eq!(
            number(&row[2]),
            group["outstanding_principal_vnd"].as_i64().unwrap()
        );
    }
    let aging = workbook
        .worksheet_range("Tuổi nợ")
        .expect("the aging sheet");
    let aging_total = aging
        .rows()
        .find(|row| row[0] == Data::String("Tổng cộng".into()))
        .expect("a total row");
    assert_eq!(
        number(&aging_total[2]),
        json["total_outstanding_principal_vnd"].as_i64().unwrap()
    );

    let csv = app
        .get(
            "/api/v1/reports/as-of?date=2026-03-01&format=csv",
            &staff.auditor,
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(
        text.contains("Nhóm nợ,Số khoản vay,Dư nợ gốc (₫),Dự phòng cụ thể (₫)"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "Tổng cộng,2,{}",
        json["total_outstanding_principal_vnd"]
    )));
}

#[tokio::test]
async fn the_lending_report_of_a_half_year_reconciles_with_the_trial_balance_at_the_cut_off() {
    let (app, staff, _, paying) = fund_with_a_late_loan("2026-05-15").await;
    // Some money in the period: the paying loan pays one installment.
    let response = repay(&app, &staff, paying, 12_000_000, "2026-05-16", "ordinary").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    cob_through(&app, "2026-07-02").await;

    let report = get_json(
        &app,
        "/api/v1/reports/lending?year=2026&period=h1",
        &staff.auditor,
    )
    .await;
    assert_eq!(report["from"], "2026-01-01");
    assert_eq!(report["to"], "2026-06-30");
    assert_eq!(report["closed"], true);
    assert_eq!(report["loans_made"], 2);
    assert_eq!(report["disbursed_vnd"], 200_000_000);
    assert!(report["principal_collected_vnd"].as_i64().unwrap() > 0);
    assert!(report["loans_overdue"].as_i64().unwrap() >= 1, "{report}");

    let trial = get_json(
        &app,
        "/api/v1/ledger/trial-balance?date=2026-06-30",
        &staff.auditor,
    )
    .await;
    let balance = |code: &str| {
        trial["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .map(|a| a["balance_vnd"].as_i64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!(
        report["outstanding_principal_vnd"].as_i64().unwrap(),
        balance("12831") + balance("12832"),
        "outstanding principal = 12831 + 12832 on 30/06"
    );
    assert_eq!(
        report["overdue_principal_vnd"].as_i64().unwrap(),
        balance("12832"),
        "overdue principal = 12832 on 30/06"
    );
    assert_eq!(
        report["specific_provision_vnd"].as_i64().unwrap(),
        balance("22931")
    );
    assert_eq!(
        report["general_provision_vnd"].as_i64().unwrap(),
        balance("22932")
    );
    assert_eq!(report["reconciliation"]["reconciles"], true, "{report}");
    let groups: i64 = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["outstanding_principal_vnd"].as_i64().unwrap())
        .sum();
    assert_eq!(
        groups,
        report["outstanding_principal_vnd"].as_i64().unwrap()
    );

    // The appendix as XLSX: its figures are the JSON's.
    let response = app
        .get(
            "/api/v1/reports/lending?year=2026&period=h1&format=xlsx",
            &staff.auditor,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("xlsx");
    let appendix = workbook
        .worksheet_range("Phụ lục 1a")
        .expect("the appendix");
    let disbursed = appendix
        .rows()
        .find(|row| row[1] == Data::String("Doanh số cho vay (giải ngân)".into()))
        .expect("the disbursed row");
    assert_eq!(disbursed[3], Data::Float(200_000_000.0));

    // A period that is not one is refused, naming the field.
    let error = error_of(
        app.get(
            "/api/v1/reports/lending?year=2026&period=q3",
            &staff.auditor,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "period");
}

#[tokio::test]
async fn a_cooperative_profile_is_validated_kept_as_history_and_counted_in_the_targets_report() {
    let (app, staff, late, _) = fund_with_a_late_loan("2026-01-12").await;
    let loan = get_json(&app, &format!("/api/v1/loans/{late}"), &staff.auditor).await;
    let cooperative = loan["cooperative_id"].as_i64().unwrap();
    let path = format!("/api/v1/cooperatives/{cooperative}/profiles");
    let body = json!({"effective_on": "2026-01-01", "sector": "agriculture", "member_count": 25,
        "ocop_products": [{"name": "Chè Tân Cương", "stars": 4}], "rating": "good", "rated_year": 2025});
    let created = json_of(
        app.post(&path, &staff.officer, &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["sector"], "agriculture");
    // An auditor reads, never writes.
    let refused = app.post(&path, &staff.auditor, &body).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // A wrong field is named.
    let mut wrong = body.clone();
    wrong["ocop_products"][0]["stars"] = json!(6);
    let error = error_of(
        app.post(&path, &staff.officer, &wrong).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(error["field"], "ocop_products[0].stars");
    let mut later = body.clone();
    later["effective_on"] = json!("2026-01-11");
    later["member_count"] = json!(30);
    json_of(
        app.post(&path, &staff.officer, &later).await,
        StatusCode::CREATED,
    )
    .await;
    let history = get_json(&app, &path, &staff.auditor).await;
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["member_count"], 30, "newest first");
    assert_eq!(history[1]["member_count"], 25);

    let targets = get_json(
        &app,
        "/api/v1/reports/targets?from_year=2026&to_year=2026",
        &staff.auditor,
    )
    .await;
    let province = targets["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["district"].is_null())
        .cloned()
        .unwrap();
    assert_eq!(province["cooperatives_financed"], 2, "{province}");
    assert_eq!(province["cooperatives_new"], 2);
    assert_eq!(province["agricultural"], 1);
    assert_eq!(province["with_profile"], 1);
    assert_eq!(province["ocop_loans"], 1);
    assert_eq!(province["ocop_disbursed_vnd"], 100_000_000);
    assert_eq!(province["disbursed_vnd"], 200_000_000);
    assert_eq!(province["rated_good_percent"], "100.00");
}

#[tokio::test]
async fn the_demo_funds_reports_reconcile_with_its_trial_balance() {
    use coopfund::{config::Settings, demo, state::AppState};
    let app = crate::helpers::spawn_app().await;
    let mut settings = Settings::load(None).expect("default settings");
    settings.database.url = crate::helpers::unique("sqlite://reports-demo-");
    demo::load_explorable(&AppState::new(app.db.clone(), settings))
        .await
        .expect("the demo loads");
    let auditor = app.login("auditor.kiemsoat", "demo-auditor-2026").await;
    // The last closed day (the default date of the report).
    let report = get_json(&app, "/api/v1/reports/as-of?trend_months=3", &auditor).await;
    assert_eq!(report["closed"], true, "{report}");
    let date = report["date"].as_str().unwrap().to_string();
    let trial = get_json(
        &app,
        &format!("/api/v1/ledger/trial-balance?date={date}"),
        &auditor,
    )
    .await;
    let balance = |code: &str| {
        trial["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .map(|a| a["balance_vnd"].as_i64().unwrap())
            .unwrap_or(0)
    };
    assert!(report["total_outstanding_principal_vnd"].as_i64().unwrap() > 0);
    assert_eq!(
        report["total_outstanding_principal_vnd"].as_i64().unwrap(),
        balance("12831") + balance("12832"),
        "outstanding principal = 12831 + 12832 on {date}"
    );
    assert_eq!(
        report["specific_provision_vnd"].as_i64().unwrap(),
        balance("22931")
    );
    assert_eq!(
        report["general_provision_vnd"].as_i64().unwrap(),
        balance("22932")
    );
    assert_eq!(
        report["charter_capital_vnd"].as_i64().unwrap(),
        balance("4111")
    );
    // The demo has late loans: some principal is at risk, in the bands past 10 days.
    assert!(report["par10_percent"].as_str().is_some(), "{report}");

    // The lending report of the whole year to the last closed day's year reconciles too when its
    // cut-off is closed; the half year that holds the story's end is reported provisional.
    let lending = get_json(&app, "/api/v1/reports/lending", &auditor).await;
    assert!(lending["loans_made"].as_i64().unwrap() > 0, "{lending}");
    assert_eq!(
        lending["reconciliation"]["reconciles"], true,
        "the demo's lending report reconciles: {lending}"
    );
}
