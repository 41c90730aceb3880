//! `GET /api/v1/reports/as-of` on the wire, and its export (one sheet per section, Vietnamese headers).

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{aging::AgingBand, Vnd};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    app::reports_as_of::{AsOfRequest, ReportAsOf},
    error::AppResult,
    http::sheets::{labelled, Cell, Sheets, Workbook},
};

view! {
    /// `?date=&from=&trend_months=`.
    #[derive(Debug, Clone, Default, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct AsOfQuery into AsOfRequest {
        /// YYYY-MM-DD (default: the last closed day): the report shows the books as they stood when it
        /// was closed; transactions recorded later (even back-dated ones) do not change it.
        #[param(value_type = Option<String>, format = Date)]
        pub date: Option<NaiveDate>,
        /// YYYY-MM-DD: the first day of the period of flows, write-offs and recoveries (default: 1 January of `date`'s year).
        #[param(value_type = Option<String>, format = Date)]
        pub from: Option<NaiveDate>,
        /// Month ends in the PAR trend, 0 to 12 (default 6).
        #[param(minimum = 0, maximum = 12)]
        pub trend_months: Option<u32>,
    }
}

/// One debt group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AsOfGroup {
    /// 1 (standard) to 5 (loss).
    pub debt_group: u8,
    pub loans: i64,
    #[schema(value_type = i64)]
    pub outstanding_principal_vnd: Vnd,
    /// 22931 held through the date for the loans in the group.
    #[schema(value_type = i64)]
    pub specific_provision_vnd: Vnd,
}

/// One aging band.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgingLine {
    /// `current`, `1-9`, `10-29`, `30-89`, `90-179` or `180+` days past due.
    pub band: String,
    pub loans: i64,
    #[schema(value_type = i64)]
    pub outstanding_principal_vnd: Vnd,
}

/// PAR at a month end.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrendLine {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    #[schema(value_type = i64)]
    pub outstanding_principal_vnd: Vnd,
    #[schema(value_type = Option<String>)]
    pub par10_percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub par30_percent: Option<Decimal>,
}

/// Disbursements and collections of one district, cooperative kind or product over the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlowView {
    /// `district`, `cooperative_kind` or `product`.
    pub dimension: String,
    pub key: String,
    pub label: String,
    pub loans_disbursed: i64,
    #[schema(value_type = i64)]
    pub disbursed_vnd: Vnd,
    #[schema(value_type = i64)]
    pub principal_collected_vnd: Vnd,
    #[schema(value_type = i64)]
    pub interest_collected_vnd: Vnd,
}

/// One of the largest exposures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExposureView {
    /// `cooperative` (limit 15% of charter capital) or `related_group` (25%), Decree 45/2021 Art 23.
    pub scope: String,
    pub key: String,
    pub name: String,
    #[schema(value_type = i64)]
    pub outstanding_principal_vnd: Vnd,
    #[schema(value_type = Option<String>)]
    pub percent_of_charter_capital: Option<Decimal>,
    pub limit_percent: i64,
    pub above_limit: bool,
}

/// Write-offs and recoveries over the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WriteOffView {
    pub loans_written_off: i64,
    #[schema(value_type = i64)]
    pub principal_written_off_vnd: Vnd,
    #[schema(value_type = i64)]
    pub recovered_vnd: Vnd,
    /// Memo 0042 through the date.
    #[schema(value_type = i64)]
    pub principal_under_follow_up_vnd: Vnd,
}

/// Transactions recorded after the date's close with a value date on or before it: they do not
/// change this report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LaterCorrectionsView {
    pub transactions: i64,
    pub loans: i64,
    #[schema(value_type = Option<String>, format = Date)]
    pub earliest_value_date: Option<NaiveDate>,
}

/// `GET /api/v1/reports/as-of`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AsOfReport {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// False while the date is not closed: the report may still change.
    pub closed: bool,
    /// The close of business after which recorded transactions are left out.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub recorded_through: Option<DateTime<Utc>>,
    /// Groups 1 to 5, each present.
    pub groups: Vec<AsOfGroup>,
    #[schema(value_type = i64)]
    pub total_outstanding_principal_vnd: Vnd,
    /// Groups 3 + 4 + 5.
    #[schema(value_type = i64)]
    pub bad_debt_principal_vnd: Vnd,
    /// Bad debt / total × 100 to 2 decimals (Decree 45/2021 Art 45); null on an empty portfolio.
    #[schema(value_type = Option<String>)]
    pub bad_debt_ratio_percent: Option<Decimal>,
    #[schema(value_type = i64)]
    pub specific_provision_vnd: Vnd,
    #[schema(value_type = i64)]
    pub general_provision_vnd: Vnd,
    /// Six bands, each present.
    pub aging: Vec<AgingLine>,
    #[schema(value_type = Option<String>)]
    pub par10_percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub par30_percent: Option<Decimal>,
    /// Month ends before the date, oldest first.
    pub trend: Vec<TrendLine>,
    pub flows: Vec<FlowView>,
    /// 4111 through the date.
    #[schema(value_type = i64)]
    pub charter_capital_vnd: Vnd,
    pub exposures: Vec<ExposureView>,
    pub write_offs: WriteOffView,
    /// 12831 + 12832 through the date (equals the total when the books and the loans agree).
    #[schema(value_type = i64)]
    pub ledger_principal_vnd: Vnd,
    pub later_corrections: LaterCorrectionsView,
}

impl From<&ReportAsOf> for AsOfReport {
    fn from(r: &ReportAsOf) -> Self {
        AsOfReport {
            date: r.date,
            from: r.from,
            closed: r.closed,
            recorded_through: r.recorded_through,
            groups: r
                .groups
                .iter()
                .enumerate()
                .map(|(i, g)| AsOfGroup {
                    debt_group: u8::try_from(i + 1).unwrap_or(5),
                    loans: g.loans,
                    outstanding_principal_vnd: g.principal,
                    specific_provision_vnd: g.specific_provision,
                })
                .collect(),
            total_outstanding_principal_vnd: r.total_principal(),
            bad_debt_principal_vnd: r.bad_debt(),
            bad_debt_ratio_percent: r.bad_debt_ratio_percent(),
            specific_provision_vnd: r.specific_provision(),
            general_provision_vnd: r.general_provision,
            aging: AgingBand::ALL
                .iter()
                .map(|band| AgingLine {
                    band: band.code().to_string(),
                    loans: r.aging.loans[band.index()],
                    outstanding_principal_vnd: r.aging.principal[band.index()],
                })
                .collect(),
            par10_percent: r.aging.par_percent(10),
            par30_percent: r.aging.par_percent(30),
            trend: r
                .trend
                .iter()
                .map(|t| TrendLine {
                    date: t.date,
                    outstanding_principal_vnd: t.outstanding,
                    par10_percent: t.par10_percent,
                    par30_percent: t.par30_percent,
                })
                .collect(),
            flows: r
                .flows
                .iter()
                .map(|f| FlowView {
                    dimension: f.dimension.to_string(),
                    key: f.key.clone(),
                    label: f.label.clone(),
                    loans_disbursed: f.loans_disbursed,
                    disbursed_vnd: f.disbursed,
                    principal_collected_vnd: f.principal_collected,
                    interest_collected_vnd: f.interest_collected,
                })
                .collect(),
            charter_capital_vnd: r.charter_capital,
            exposures: r
                .exposures
                .iter()
                .map(|e| ExposureView {
                    scope: e.scope.to_string(),
                    key: e.key.clone(),
                    name: e.name.clone(),
                    outstanding_principal_vnd: e.outstanding,
                    percent_of_charter_capital: e.percent_of_charter_capital,
                    limit_percent: e.limit_percent,
                    above_limit: e.above_limit,
                })
                .collect(),
            write_offs: WriteOffView {
                loans_written_off: r.write_offs.loans_written_off,
                principal_written_off_vnd: r.write_offs.principal_written_off,
                recovered_vnd: r.write_offs.recovered,
                principal_under_follow_up_vnd: r.write_offs.principal_under_follow_up,
            },
            ledger_principal_vnd: r.ledger_principal,
            later_corrections: LaterCorrectionsView {
                transactions: r.later_corrections.transactions,
                loans: r.later_corrections.loans,
                earliest_value_date: r.later_corrections.earliest_value_date,
            },
        }
    }
}

fn percent(value: Option<Decimal>) -> Cell {
    value.map_or(Cell::Empty, Cell::Decimal)
}

/// The sheet names of the export, in order (the tests read them back).
pub const SHEET_GROUPS: &str = "Nhóm nợ";
/// Aging.
pub const SHEET_AGING: &str = "Tuổi nợ";
/// PAR trend.
pub const SHEET_TREND: &str = "Xu hướng PAR";
/// Flows.
pub const SHEET_FLOWS: &str = "Giải ngân và thu nợ";
/// Exposures.
pub const SHEET_EXPOSURES: &str = "Dư nợ lớn nhất";
/// Write-offs.
pub const SHEET_WRITE_OFFS: &str = "Xóa nợ và thu hồi";

impl Workbook for AsOfReport {
    fn file_name(&self) -> String {
        format!("bao-cao-{}", self.date)
    }

    /// Writes the report, one sheet per section; each sheet of amounts ends with its total row
    /// ("Tổng cộng"), equal to the JSON's totals.
    async fn write(&self, sheets: &mut Sheets) -> AppResult<()> {
        let groups = self.groups.iter().map(|g| {
            [
                Cell::Int(i64::from(g.debt_group)),
                Cell::Int(g.loans),
                Cell::vnd(g.outstanding_principal_vnd),
                Cell::vnd(g.specific_provision_vnd),
            ]
        });
        let groups_total = [
            Cell::from("Tổng cộng"),
            Cell::Int(self.groups.iter().map(|g| g.loans).sum()),
            Cell::vnd(self.total_outstanding_principal_vnd),
            Cell::vnd(self.specific_provision_vnd),
        ];
        let bad_debt = Cell::vnd(self.bad_debt_principal_vnd);
        let bad_debt_ratio = percent(self.bad_debt_ratio_percent);
        let general_provision = Cell::vnd(self.general_provision_vnd);
        let groups = groups.chain([
            groups_total,
            labelled("Nợ xấu (nhóm 3-5)", 2, bad_debt),
            labelled("Tỷ lệ nợ xấu (%)", 2, bad_debt_ratio),
            labelled("Dự phòng chung (₫)", 3, general_provision),
        ]);
        let headers = [
            "Nhóm nợ",
            "Số khoản vay",
            "Dư nợ gốc (₫)",
            "Dự phòng cụ thể (₫)",
        ];
        sheets.table(SHEET_GROUPS, &headers, groups).await?;

        let bands = self.aging.iter().map(|line| {
            [
                Cell::from(line.band.as_str()),
                Cell::Int(line.loans),
                Cell::vnd(line.outstanding_principal_vnd),
            ]
        });
        let aging_total = [
            Cell::from("Tổng cộng"),
            Cell::Int(self.aging.iter().map(|a| a.loans).sum()),
            Cell::vnd(self.total_outstanding_principal_vnd),
        ];
        let bands = bands.chain([
            aging_total,
            labelled("PAR10 (%)", 2, percent(self.par10_percent)),
            labelled("PAR30 (%)", 2, percent(self.par30_percent)),
        ]);
        let headers = ["Số ngày quá hạn", "Số khoản vay", "Dư nợ gốc (₫)"];
        sheets.table(SHEET_AGING, &headers, bands).await?;

        let trend = self.trend.iter().map(|t| {
            [
                Cell::Date(t.date),
                Cell::vnd(t.outstanding_principal_vnd),
                percent(t.par10_percent),
                percent(t.par30_percent),
            ]
        });
        let headers = ["Cuối tháng", "Dư nợ gốc (₫)", "PAR10 (%)", "PAR30 (%)"];
        sheets.table(SHEET_TREND, &headers, trend).await?;

        let flows = self.flows.iter().map(|f| {
            let by = match f.dimension.as_str() {
                "district" => "Huyện",
                "cooperative_kind" => "Loại hình",
                _ => "Sản phẩm",
            };
            [
                Cell::from(by),
                Cell::from(f.key.as_str()),
                Cell::from(f.label.as_str()),
                Cell::Int(f.loans_disbursed),
                Cell::vnd(f.disbursed_vnd),
                Cell::vnd(f.principal_collected_vnd),
                Cell::vnd(f.interest_collected_vnd),
            ]
        });
        let headers = [
            "Theo",
            "Mã",
            "Tên",
            "Số khoản giải ngân",
            "Giải ngân (₫)",
            "Thu gốc (₫)",
            "Thu lãi (₫)",
        ];
        sheets.table(SHEET_FLOWS, &headers, flows).await?;

        let exposures = self.exposures.iter().map(|e| {
            let scope = if e.scope == "cooperative" {
                "Một khách hàng"
            } else {
                "Nhóm khách hàng liên quan"
            };
            [
                Cell::from(scope),
                Cell::from(e.key.as_str()),
                Cell::from(e.name.as_str()),
                Cell::vnd(e.outstanding_principal_vnd),
                percent(e.percent_of_charter_capital),
                Cell::Int(e.limit_percent),
                Cell::from(if e.above_limit { "Có" } else { "Không" }),
            ]
        });
        let headers = [
            "Phạm vi",
            "Mã",
            "Tên",
            "Dư nợ gốc (₫)",
            "% vốn điều lệ",
            "Giới hạn (%)",
            "Vượt giới hạn",
        ];
        sheets.table(SHEET_EXPOSURES, &headers, exposures).await?;

        let w = &self.write_offs;
        let write_offs = [
            ("Số khoản xóa nợ trong kỳ", Cell::Int(w.loans_written_off)),
            (
                "Gốc đã xóa trong kỳ (₫)",
                Cell::vnd(w.principal_written_off_vnd),
            ),
            ("Đã thu hồi trong kỳ (₫)", Cell::vnd(w.recovered_vnd)),
            (
                "Gốc đang theo dõi ngoại bảng (₫)",
                Cell::vnd(w.principal_under_follow_up_vnd),
            ),
        ]
        .map(|(label, cell)| [Cell::from(label), cell]);
        sheets
            .table(SHEET_WRITE_OFFS, &["Chỉ tiêu", "Giá trị"], write_offs)
            .await?;
        Ok(())
    }
}

/// `?year=&period=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LendingQuery {
    /// The year, 2000 to 9999 (default: the year of the last half year closed).
    #[param(minimum = 2000, maximum = 9999)]
    pub year: Option<i32>,
    /// `h1` (1/1-30/6), `h2` (1/7-31/12) or `year` (default: the last half year before the business date).
    pub period: Option<String>,
}

/// The books at the cut-off against the report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reconciliation {
    /// 12831 + 12832 through the cut-off.
    #[schema(value_type = i64)]
    pub ledger_principal_vnd: Vnd,
    /// 22931 through the cut-off.
    #[schema(value_type = i64)]
    pub ledger_specific_provision_vnd: Vnd,
    /// Both equal the report's figures.
    pub reconciles: bool,
}

/// `GET /api/v1/reports/lending`: the semi-annual or annual lending report to the central fund and
/// the province (Decree 45/2021 Art 34/44; Circular 52/2022 Appendix 1a).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LendingReportView {
    pub year: i32,
    /// `h1`, `h2` or `year`.
    pub period: String,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// The cut-off (30/6 or 31/12).
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// False while the cut-off is not closed.
    pub closed: bool,
    pub loans_made: i64,
    #[schema(value_type = i64)]
    pub disbursed_vnd: Vnd,
    #[schema(value_type = i64)]
    pub principal_collected_vnd: Vnd,
    #[schema(value_type = i64)]
    pub interest_collected_vnd: Vnd,
    pub loans_outstanding: i64,
    #[schema(value_type = i64)]
    pub outstanding_principal_vnd: Vnd,
    pub loans_overdue: i64,
    #[schema(value_type = i64)]
    pub overdue_principal_vnd: Vnd,
    /// Groups 1 to 5.
    pub groups: Vec<AsOfGroup>,
    #[schema(value_type = i64)]
    pub bad_debt_principal_vnd: Vnd,
    #[schema(value_type = Option<String>)]
    pub bad_debt_ratio_percent: Option<Decimal>,
    #[schema(value_type = i64)]
    pub specific_provision_vnd: Vnd,
    #[schema(value_type = i64)]
    pub general_provision_vnd: Vnd,
    pub write_offs: WriteOffView,
    pub reconciliation: Reconciliation,
    pub later_corrections: LaterCorrectionsView,
}

impl From<&crate::app::reports_as_of::LendingReport> for LendingReportView {
    fn from(l: &crate::app::reports_as_of::LendingReport) -> Self {
        let r = AsOfReport::from(&l.report);
        LendingReportView {
            year: l.year,
            period: l.period.as_str().to_string(),
            from: r.from,
            to: r.date,
            closed: r.closed,
            loans_made: l.loans_made,
            disbursed_vnd: l.disbursed,
            principal_collected_vnd: l.principal_collected,
            interest_collected_vnd: l.interest_collected,
            loans_outstanding: l.loans_outstanding,
            outstanding_principal_vnd: r.total_outstanding_principal_vnd,
            loans_overdue: l.loans_overdue,
            overdue_principal_vnd: l.overdue_principal,
            groups: r.groups,
            bad_debt_principal_vnd: r.bad_debt_principal_vnd,
            bad_debt_ratio_percent: r.bad_debt_ratio_percent,
            specific_provision_vnd: r.specific_provision_vnd,
            general_provision_vnd: r.general_provision_vnd,
            write_offs: r.write_offs,
            reconciliation: Reconciliation {
                ledger_principal_vnd: r.ledger_principal_vnd,
                ledger_specific_provision_vnd: l.ledger_specific_provision,
                reconciles: l.reconciles(),
            },
            later_corrections: r.later_corrections,
        }
    }
}

/// One row of the appendix: number, indicator, unit, value.
pub struct AppendixRow {
    /// I, 1, 1.1 …
    pub number: &'static str,
    /// The indicator in Vietnamese.
    pub label_vi: String,
    /// The indicator in English.
    pub label_en: String,
    /// `đồng`, `khoản vay`, `%`.
    pub unit: &'static str,
    /// The figure.
    pub value: Cell,
}

impl LendingReportView {
    /// The rows of Appendix 1a in order (the page and the XLSX show the same rows).
    pub fn appendix(&self) -> Vec<AppendixRow> {
        let row = |number, vi: &str, en: &str, unit, value| AppendixRow {
            number,
            label_vi: vi.to_string(),
            label_en: en.to_string(),
            unit,
            value,
        };
        let mut rows = vec![
            row(
                "I",
                "Cho vay trong kỳ",
                "Lending in the period",
                "",
                Cell::Empty,
            ),
            row(
                "1",
                "Số khoản vay được giải ngân",
                "Loans disbursed",
                "khoản vay",
                Cell::Int(self.loans_made),
            ),
            row(
                "2",
                "Doanh số cho vay (giải ngân)",
                "Amount disbursed",
                "đồng",
                Cell::vnd(self.disbursed_vnd),
            ),
            row(
                "II",
                "Thu nợ trong kỳ",
                "Collected in the period",
                "",
                Cell::Empty,
            ),
            row(
                "1",
                "Thu nợ gốc",
                "Principal collected",
                "đồng",
                Cell::vnd(self.principal_collected_vnd),
            ),
            row(
                "2",
                "Thu lãi",
                "Interest collected",
                "đồng",
                Cell::vnd(self.interest_collected_vnd),
            ),
            row(
                "III",
                "Dư nợ cho vay cuối kỳ",
                "Outstanding at the cut-off",
                "",
                Cell::Empty,
            ),
            row(
                "1",
                "Số khoản vay còn dư nợ",
                "Loans outstanding",
                "khoản vay",
                Cell::Int(self.loans_outstanding),
            ),
            row(
                "2",
                "Tổng dư nợ gốc",
                "Outstanding principal",
                "đồng",
                Cell::vnd(self.outstanding_principal_vnd),
            ),
        ];
        for g in &self.groups {
            let (vi, en) = match g.debt_group {
                1 => ("Nhóm 1 (nợ đủ tiêu chuẩn)", "Group 1 (standard)"),
                2 => ("Nhóm 2 (nợ cần chú ý)", "Group 2 (special mention)"),
                3 => ("Nhóm 3 (nợ dưới tiêu chuẩn)", "Group 3 (substandard)"),
                4 => ("Nhóm 4 (nợ nghi ngờ)", "Group 4 (doubtful)"),
                _ => ("Nhóm 5 (nợ có khả năng mất vốn)", "Group 5 (loss)"),
            };
            let number =
                ["2.1", "2.2", "2.3", "2.4", "2.5"][usize::from(g.debt_group.clamp(1, 5)) - 1];
            rows.push(row(
                number,
                vi,
                en,
                "đồng",
                Cell::vnd(g.outstanding_principal_vnd),
            ));
        }
        rows.extend([
            row(
                "3",
                "Số khoản vay quá hạn",
                "Loans past due",
                "khoản vay",
                Cell::Int(self.loans_overdue),
            ),
            row(
                "4",
                "Dư nợ gốc quá hạn",
                "Overdue principal",
                "đồng",
                Cell::vnd(self.overdue_principal_vnd),
            ),
            row(
                "5",
                "Nợ xấu (nhóm 3-5)",
                "Bad debt (groups 3-5)",
                "đồng",
                Cell::vnd(self.bad_debt_principal_vnd),
            ),
            row(
                "6",
                "Tỷ lệ nợ xấu",
                "Bad-debt ratio",
                "%",
                self.bad_debt_ratio_percent
                    .map_or(Cell::Empty, Cell::Decimal),
            ),
            row("IV", "Dự phòng rủi ro", "Provisions", "", Cell::Empty),
            row(
                "1",
                "Dự phòng cụ thể",
                "Specific provision",
                "đồng",
                Cell::vnd(self.specific_provision_vnd),
            ),
            row(
                "2",
                "Dự phòng chung",
                "General provision",
                "đồng",
                Cell::vnd(self.general_provision_vnd),
            ),
            row("V", "Xử lý rủi ro", "Write-offs", "", Cell::Empty),
            row(
                "1",
                "Số khoản vay xóa nợ trong kỳ",
                "Loans written off",
                "khoản vay",
                Cell::Int(self.write_offs.loans_written_off),
            ),
            row(
                "2",
                "Gốc đã xóa nợ trong kỳ",
                "Principal written off",
                "đồng",
                Cell::vnd(self.write_offs.principal_written_off_vnd),
            ),
            row(
                "3",
                "Thu hồi nợ đã xóa trong kỳ",
                "Recovered after write-off",
                "đồng",
                Cell::vnd(self.write_offs.recovered_vnd),
            ),
            row(
                "4",
                "Nợ đã xóa đang theo dõi ngoại bảng",
                "Written off, under follow-up",
                "đồng",
                Cell::vnd(self.write_offs.principal_under_follow_up_vnd),
            ),
        ]);
        rows
    }
}

impl Workbook for LendingReportView {
    fn file_name(&self) -> String {
        format!("bao-cao-cho-vay-{}-{}", self.year, self.period)
    }

    /// Writes the appendix (one sheet) and the reconciliation (a second sheet).
    async fn write(&self, sheets: &mut Sheets) -> AppResult<()> {
        let appendix = self.appendix().into_iter().map(|r| {
            [
                Cell::from(r.number),
                Cell::Text(r.label_vi),
                Cell::from(r.unit),
                r.value,
            ]
        });
        let headers = ["STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu"];
        sheets.table("Phụ lục 1a", &headers, appendix).await?;
        let reconciliation = [
            [
                Cell::from("Dư nợ gốc (12831 + 12832)"),
                Cell::vnd(self.outstanding_principal_vnd),
                Cell::vnd(self.reconciliation.ledger_principal_vnd),
            ],
            [
                Cell::from("Dự phòng cụ thể (22931)"),
                Cell::vnd(self.specific_provision_vnd),
                Cell::vnd(self.reconciliation.ledger_specific_provision_vnd),
            ],
        ];
        let headers = ["Chỉ tiêu", "Báo cáo (₫)", "Sổ cái (₫)"];
        sheets
            .table("Đối chiếu sổ sách", &headers, reconciliation)
            .await?;
        Ok(())
    }
}

/// One OCOP product on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OcopProductBody {
    pub name: String,
    /// 3 to 5 stars.
    #[schema(minimum = 3, maximum = 5)]
    pub stars: u8,
}

/// `POST /api/v1/cooperatives/{id}/profiles`: a new profile in force from `effective_on`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// YYYY-MM-DD, from the cooperative's founding to today.
    #[schema(value_type = String, format = Date)]
    pub effective_on: NaiveDate,
    /// agriculture, industry_handicraft, trade_services, transport, construction, environment, other.
    pub sector: String,
    #[schema(minimum = 0, maximum = 1000000)]
    pub member_count: i64,
    /// OCOP products (at most 50), none when absent.
    #[serde(default)]
    pub ocop_products: Vec<OcopProductBody>,
    /// good, fairly_good, average or weak (Circular 09/2022/TT-BKHĐT); with `rated_year`.
    pub rating: Option<String>,
    pub rated_year: Option<i32>,
}

impl From<ProfileBody> for crate::app::cooperative_profiles::ProfileInput {
    fn from(body: ProfileBody) -> Self {
        crate::app::cooperative_profiles::ProfileInput {
            effective_on: body.effective_on,
            sector: body.sector,
            member_count: body.member_count,
            ocop_products: body
                .ocop_products
                .into_iter()
                .map(|p| crate::app::cooperative_profiles::OcopProduct {
                    name: p.name,
                    stars: p.stars,
                })
                .collect(),
            rating: body.rating,
            rated_year: body.rated_year,
        }
    }
}

/// A recorded profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    pub id: i64,
    pub cooperative_id: i64,
    #[schema(value_type = String, format = Date)]
    pub effective_on: NaiveDate,
    pub sector: String,
    pub member_count: i32,
    pub ocop_products: Vec<OcopProductBody>,
    pub rating: Option<String>,
    pub rated_year: Option<i32>,
    pub recorded_by: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: DateTime<Utc>,
}

impl From<crate::app::cooperative_profiles::Profile> for ProfileView {
    fn from(p: crate::app::cooperative_profiles::Profile) -> Self {
        ProfileView {
            id: p.id,
            cooperative_id: p.cooperative_id.get(),
            effective_on: p.effective_on,
            sector: p.sector,
            member_count: p.member_count,
            ocop_products: p
                .ocop_products
                .into_iter()
                .map(|o| OcopProductBody {
                    name: o.name,
                    stars: o.stars,
                })
                .collect(),
            rating: p.rating,
            rated_year: p.rated_year,
            recorded_by: p.recorded_by,
            recorded_at: p.recorded_at,
        }
    }
}

/// `?from_year=&to_year=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TargetsQuery {
    /// The first year (default: 2021, the resolution's first year, or 9 years before `to_year`).
    #[param(minimum = 2000, maximum = 9999)]
    pub from_year: Option<i32>,
    /// The last year (default: the business date's year); at most 10 years in all.
    #[param(minimum = 2000, maximum = 9999)]
    pub to_year: Option<i32>,
}

/// The fund's contribution in one year and district (`district` null: the province).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetLineView {
    pub year: i32,
    pub district: Option<String>,
    pub cooperatives_financed: i64,
    pub cooperatives_new: i64,
    pub cooperatives_repeat: i64,
    pub unions_financed: i64,
    pub agricultural: i64,
    /// Borrowers financed with a recorded profile (the base of `agricultural_percent`).
    pub with_profile: i64,
    #[schema(value_type = Option<String>)]
    pub agricultural_percent: Option<Decimal>,
    pub members_reached: i64,
    #[schema(value_type = Option<String>)]
    pub members_per_borrower: Option<Decimal>,
    pub ocop_loans: i64,
    #[schema(value_type = i64)]
    pub ocop_disbursed_vnd: Vnd,
    #[schema(value_type = i64)]
    pub disbursed_vnd: Vnd,
    #[schema(value_type = Option<i64>)]
    pub disbursed_per_member_vnd: Option<Vnd>,
    pub rated: i64,
    pub rated_good: i64,
    #[schema(value_type = Option<String>)]
    pub rated_good_percent: Option<Decimal>,
}

impl From<&crate::app::cooperative_profiles::TargetLine> for TargetLineView {
    fn from(l: &crate::app::cooperative_profiles::TargetLine) -> Self {
        TargetLineView {
            year: l.year,
            district: l.district.clone(),
            cooperatives_financed: l.cooperatives_financed,
            cooperatives_new: l.cooperatives_new,
            cooperatives_repeat: l.cooperatives_repeat,
            unions_financed: l.unions_financed,
            agricultural: l.agricultural,
            with_profile: l.with_profile,
            agricultural_percent: l.agricultural_percent(),
            members_reached: l.members_reached,
            members_per_borrower: l.members_per_borrower(),
            ocop_loans: l.ocop_loans,
            ocop_disbursed_vnd: l.ocop_disbursed,
            disbursed_vnd: l.disbursed,
            disbursed_per_member_vnd: l.disbursed_per_member(),
            rated: l.rated,
            rated_good: l.rated_good,
            rated_good_percent: l.rated_good_percent(),
        }
    }
}

/// `GET /api/v1/reports/targets`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetsReport {
    pub from_year: i32,
    pub to_year: i32,
    /// Per year: the province first, then each district.
    pub lines: Vec<TargetLineView>,
}

impl Workbook for TargetsReport {
    fn file_name(&self) -> String {
        format!("muc-tieu-nghi-quyet-{}-{}", self.from_year, self.to_year)
    }

    /// One sheet: every line.
    async fn write(&self, sheets: &mut Sheets) -> AppResult<()> {
        let lines = self.lines.iter().map(|l| {
            [
                Cell::Int(i64::from(l.year)),
                Cell::Text(l.district.clone().unwrap_or_else(|| "Toàn tỉnh".into())),
                Cell::Int(l.cooperatives_financed),
                Cell::Int(l.cooperatives_new),
                Cell::Int(l.cooperatives_repeat),
                Cell::Int(l.unions_financed),
                Cell::Int(l.agricultural),
                percent(l.agricultural_percent),
                Cell::Int(l.members_reached),
                percent(l.members_per_borrower),
                Cell::Int(l.ocop_loans),
                Cell::vnd(l.ocop_disbursed_vnd),
                Cell::vnd(l.disbursed_vnd),
                l.disbursed_per_member_vnd.map_or(Cell::Empty, Cell::vnd),
                percent(l.rated_good_percent),
            ]
        });
        let headers = [
            "Năm",
            "Huyện",
            "HTX được vay",
            "HTX vay lần đầu",
            "HTX vay lại",
            "Liên hiệp HTX được vay",
            "Nông nghiệp",
            "Tỷ lệ nông nghiệp (%)",
            "Thành viên",
            "Thành viên bình quân",
            "Khoản vay HTX có sản phẩm OCOP",
            "Giải ngân cho HTX OCOP (₫)",
            "Giải ngân (₫)",
            "Vốn vay bình quân/thành viên (₫)",
            "Tỷ lệ xếp loại tốt, khá (%)",
        ];
        sheets.table("Mục tiêu Nghị quyết", &headers, lines).await?;
        Ok(())
    }
}
