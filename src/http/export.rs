//! Tables auditors take away: `?format=csv` or `?format=xlsx` on the list routes that say so
//! (API.md: "`?format=csv|xlsx` where a table is exported"); `json` (the default) is the API shape.
//!
//! The rows are the same serializable views the JSON responses use, flattened: each field is a
//! column (nested objects and arrays become their JSON text), so an export can never disagree with
//! the API. CSV is UTF-8 with a byte-order mark, so spreadsheet programs show Vietnamese correctly.
//! In XLSX, whole-đồng integers are written as numbers: every amount is below 10^15 đồng, well
//! inside the 2^53 integers a spreadsheet number holds exactly; anything larger is written as text.
//!
//! **Formula injection (CSV).** A spreadsheet opening a CSV runs a cell that begins with `=`, `+`,
//! `-` or `@` (or a tab or carriage return before one) as a formula, and a cooperative's name or a
//! payment reference is typed by someone outside the fund. As OWASP recommends, such a text cell is
//! written with a leading apostrophe (`'=HYPERLINK(…)`), which the spreadsheet shows as text, and
//! the csv writer quotes it as needed. Numbers are not texts: a negative amount (a reversal,
//! `-1500000`) is a JSON number and is written as the plain number, and so is a text that is
//! exactly a decimal number (`-0.5`, a rate serialized as a string) — nothing after a sign and
//! digits can be a formula, and an accountant's sum over the column must keep working. XLSX cells
//! are typed (a string cell is never evaluated), so XLSX needs no such prefix.

use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;

use crate::error::{AppError, AppResult, Reason};

/// `?format=` of the routes that export, for their OpenAPI parameters (the value is read by
/// [`crate::http::extract::Export`]).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// json (default), csv or xlsx
    pub format: Option<String>,
}

/// The representation a list is returned in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    #[default]
    Json,
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// Parses `?format=`; absent is JSON.
    pub fn parse(value: Option<&str>) -> AppResult<Self> {
        match value.map(str::trim) {
            None | Some("") | Some("json") => Ok(ExportFormat::Json),
            Some("csv") => Ok(ExportFormat::Csv),
            Some("xlsx") => Ok(ExportFormat::Xlsx),
            Some(_) => Err(AppError::invalid(
                "format",
                Reason::UnknownValue {
                    allowed: "json, csv, xlsx".into(),
                },
            )),
        }
    }
}

/// The largest integer a spreadsheet number holds exactly (2^53).
const SPREADSHEET_EXACT_INTEGER: i64 = 1 << 53;

/// `body` as JSON, or `rows` (its table) as a CSV or XLSX download named `name`: the answer of every
/// route that exports.
pub fn json_or_table<B: Serialize, T: Serialize>(
    format: ExportFormat,
    body: &B,
    name: &str,
    rows: &[T],
) -> AppResult<Response> {
    match format {
        ExportFormat::Json => Ok(axum::Json(body).into_response()),
        _ => table(format, name, rows),
    }
}

/// A table of `rows` as a CSV or XLSX download named `name` (without extension).
pub fn table<T: Serialize>(format: ExportFormat, name: &str, rows: &[T]) -> AppResult<Response> {
    let values: Vec<serde_json::Map<String, Value>> = rows
        .iter()
        .map(|row| match serde_json::to_value(row) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Ok(serde_json::Map::from_iter([("value".to_string(), other)])),
            Err(err) => Err(AppError::internal(err)),
        })
        .collect::<AppResult<_>>()?;
    let headers: Vec<String> = values
        .first()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    match format {
        ExportFormat::Json => Err(AppError::internal(anyhow::anyhow!(
            "export::table called for JSON"
        ))),
        ExportFormat::Csv => csv_response(name, &headers, &values),
        ExportFormat::Xlsx => xlsx_response(name, &headers, &values),
    }
}

fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A CSV cell: [`cell_text`], with a leading `'` when a text would start a formula (module docs).
fn csv_cell(value: &Value) -> String {
    let text = cell_text(value);
    match value {
        Value::String(_) if starts_formula(&text) && !is_plain_decimal(&text) => format!("'{text}"),
        _ => text,
    }
}

fn starts_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `-12`, `3.50`: an optional minus, digits, and optionally a point and digits.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

fn csv_response(
    name: &str,
    headers: &[String],
    rows: &[serde_json::Map<String, Value>],
) -> AppResult<Response> {
    let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    writer.write_record(headers).map_err(AppError::internal)?;
    for row in rows {
        let record: Vec<String> = headers
            .iter()
            .map(|h| row.get(h).map(csv_cell).unwrap_or_default())
            .collect();
        writer.write_record(&record).map_err(AppError::internal)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))?;
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        &format!("{name}.csv"),
    ))
}

fn xlsx_response(
    name: &str,
    headers: &[String],
    rows: &[serde_json::Map<String, Value>],
) -> AppResult<Response> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = Format::new().set_bold();
    let amount = Format::new().set_num_format("#,##0");
    let xlsx = |e: rust_xlsxwriter::XlsxError| AppError::internal(anyhow::anyhow!("xlsx: {e}"));
    for (col, header) in headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, header, &bold)
            .map_err(xlsx)?;
    }
    for (index, row) in rows.iter().enumerate() {
        let excel_row = u32::try_from(index + 1).map_err(AppError::internal)?;
        for (col, header) in headers.iter().enumerate() {
            let col = col as u16;
            let value = row.get(header);
            // An integer written as a number only when exact: |whole| < 2^53 (see the module docs).
            let exact_whole = value
                .and_then(Value::as_i64)
                .filter(|whole| whole.abs() < SPREADSHEET_EXACT_INTEGER);
            match (value, exact_whole) {
                (Some(_), Some(whole)) => {
                    sheet
                        .write_number_with_format(excel_row, col, whole as f64, &amount)
                        .map_err(xlsx)?;
                }
                (Some(value), None) => {
                    sheet
                        .write_string(excel_row, col, cell_text(value))
                        .map_err(xlsx)?;
                }
                (None, _) => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx)?;
    let bytes = workbook.save_to_buffer().map_err(xlsx)?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("{name}.xlsx"),
    ))
}

fn download(bytes: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        code: &'static str,
        name: &'static str,
        amount_vnd: i64,
    }

    #[test]
    fn a_csv_export_has_a_bom_a_header_and_quoted_cells() {
        let rows = [Row {
            code: "1121",
            name: "Tiền gửi, ngân hàng",
            amount_vnd: 999_999_999_999_999,
        }];
        let response = table(ExportFormat::Csv, "t", &rows).unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
        let body = futures_body(response);
        assert!(body.starts_with('\u{feff}'));
        assert!(body.contains("code,name,amount_vnd"));
        assert!(body.contains("1121,\"Tiền gửi, ngân hàng\",999999999999999"));
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_neutralised_but_numbers_are_not() {
        use serde_json::json;
        assert_eq!(csv_cell(&json!("=1+1")), "'=1+1");
        assert_eq!(csv_cell(&json!("+84 912")), "'+84 912");
        assert_eq!(
            csv_cell(&json!("-2+3+cmd|' /C calc'!A0")),
            "'-2+3+cmd|' /C calc'!A0"
        );
        assert_eq!(csv_cell(&json!("@SUM(A1)")), "'@SUM(A1)");
        assert_eq!(csv_cell(&json!("\t=1")), "'\t=1");
        assert_eq!(csv_cell(&json!("\r=1")), "'\r=1");
        assert_eq!(csv_cell(&json!(-1_500_000)), "-1500000");
        assert_eq!(csv_cell(&json!("-1500000")), "-1500000");
        assert_eq!(csv_cell(&json!("-0.5")), "-0.5");
        assert_eq!(csv_cell(&json!("-.5")), "'-.5");
        assert_eq!(csv_cell(&json!("-")), "'-");
        assert_eq!(csv_cell(&json!("HTX = tốt")), "HTX = tốt");
    }

    #[test]
    fn an_xlsx_export_is_a_zip_workbook() {
        let rows = [Row {
            code: "1121",
            name: "x",
            amount_vnd: 5,
        }];
        let response = table(ExportFormat::Xlsx, "t", &rows).unwrap();
        assert!(response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("t.xlsx"));
    }

    #[test]
    fn an_unknown_format_names_the_field() {
        let err = ExportFormat::parse(Some("pdf")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("format"));
        assert_eq!(ExportFormat::parse(None).unwrap(), ExportFormat::Json);
    }

    fn futures_body(response: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
