//! Streamed exports for people (the auditor's desk and the reports): CSV or XLSX with Vietnamese
//! headers, one sheet per section, amounts as numbers with the đồng format, a frozen header row.
//!
//! **Constant memory.** A producer writes rows into a [`Sheets`] as it reads them, batch by batch,
//! from a keyset-paged query. For CSV each batch is sent to the client as it is written (a bounded
//! channel, so a slow client slows the reader instead of filling memory). For XLSX the workbook is
//! written in rust_xlsxwriter's constant-memory mode (each row goes to a temporary file as it is
//! written), saved to a temporary file, and that file is streamed: the memory held is one batch and
//! one row, whatever the journal's length.
//!
//! An error after the download started cannot become a status code any more: the body is cut with an
//! error, so the client sees a failed download, never a short file that looks complete. Handlers
//! therefore read the first batch (which checks the role and the filters) before they call [`stream`].
//!
//! CSV: UTF-8 with a byte-order mark; a text that would start a formula gets a leading apostrophe
//! (see [`super::export`]); sections are separated by an empty line and start with their title.

use std::future::Future;

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use tokio::sync::mpsc;

use super::export::ExportFormat;
use crate::error::{AppError, AppResult};

/// One cell of an exported row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// A text (a name, a code, a description).
    Text(String),
    /// Whole đồng: a number with the đồng format in XLSX.
    Vnd(i64),
    /// A count or an id: a plain number.
    Int(i64),
    /// A percentage or a rate, exact: a number with two decimals in XLSX.
    Decimal(Decimal),
    /// A business date: a date cell `dd/mm/yyyy` in XLSX, `YYYY-MM-DD` in CSV.
    Date(NaiveDate),
}

impl Cell {
    /// An amount: a đồng number (a text if it is not whole đồng, which a posted amount always is).
    pub fn vnd(amount: coopfund_domain::Vnd) -> Cell {
        amount
            .to_i64()
            .map_or_else(|| Cell::Text(amount.as_decimal().to_string()), Cell::Vnd)
    }
}

/// A summary row of `N` cells: `label` first, `value` in column `column` (from 0), nothing elsewhere.
pub fn labelled<const N: usize>(label: &str, column: usize, value: Cell) -> [Cell; N] {
    let mut cells = std::array::from_fn(|_| Cell::Empty);
    cells[0] = Cell::from(label);
    cells[column] = value;
    cells
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<Option<i64>> for Cell {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Cell::Empty, Cell::Int)
    }
}

/// Rows in a CSV file are sent to the client once this many bytes are buffered.
const CSV_CHUNK_BYTES: usize = 64 * 1024;
/// Chunks in flight between the producer and the client.
const CHANNEL_CHUNKS: usize = 4;

/// The years a spreadsheet date cell can hold (Excel's 1900 date system).
const EXCEL_YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// The largest integer a spreadsheet number holds exactly (2^53).
const SPREADSHEET_EXACT_INTEGER: i64 = 1 << 53;

type Chunk = Result<Bytes, std::io::Error>;

/// Where the producer writes: one sheet per section.
pub struct Sheets {
    inner: Inner,
    sender: mpsc::Sender<Chunk>,
    /// Rows written in the current sheet (the header is row 0).
    row: u32,
    sheets: u16,
}

enum Inner {
    Csv(Vec<u8>),
    Xlsx(Box<XlsxState>),
}

struct XlsxState {
    workbook: rust_xlsxwriter::Workbook,
    bold: rust_xlsxwriter::Format,
    vnd: rust_xlsxwriter::Format,
    decimal: rust_xlsxwriter::Format,
    date: rust_xlsxwriter::Format,
}

fn xlsx_error(err: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("xlsx: {err}"))
}

impl Sheets {
    fn new(format: ExportFormat, sender: mpsc::Sender<Chunk>) -> Sheets {
        let inner = match format {
            ExportFormat::Xlsx => {
                use rust_xlsxwriter::{Format, Workbook};
                Inner::Xlsx(Box::new(XlsxState {
                    workbook: Workbook::new(),
                    bold: Format::new().set_bold(),
                    // The đồng sign after the number, thousands grouped (shown per the reader's locale).
                    vnd: Format::new().set_num_format("#,##0 \"₫\""),
                    decimal: Format::new().set_num_format("0.00"),
                    date: Format::new().set_num_format("dd/mm/yyyy"),
                }))
            }
            // A byte-order mark, so spreadsheet programs read the Vietnamese as UTF-8.
            _ => Inner::Csv(vec![0xEF, 0xBB, 0xBF]),
        };
        Sheets {
            inner,
            sender,
            row: 0,
            sheets: 0,
        }
    }

    /// Starts a section `title` (a sheet in XLSX, a titled block in CSV) with its header row.
    pub async fn section(&mut self, title: &str, headers: &[&str]) -> AppResult<()> {
        self.row = 1;
        self.sheets += 1;
        match &mut self.inner {
            Inner::Csv(buffer) => {
                // A section's title and its header differ in length: a flexible writer.
                let mut writer = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(Vec::new());
                if self.sheets > 1 {
                    buffer.extend_from_slice(b"\n");
                    writer.write_record([title]).map_err(AppError::internal)?;
                }
                writer.write_record(headers).map_err(AppError::internal)?;
                buffer.extend(
                    writer
                        .into_inner()
                        .map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))?,
                );
            }
            Inner::Xlsx(state) => {
                let bold = state.bold.clone();
                let sheet = state
                    .workbook
                    .add_worksheet_with_constant_memory()
                    .map_err(xlsx_error)?
                    .set_name(sheet_name(title))
                    .map_err(xlsx_error)?;
                for (col, header) in headers.iter().enumerate() {
                    let col = u16::try_from(col).map_err(AppError::internal)?;
                    sheet.set_column_width(col, 16).map_err(xlsx_error)?;
                    sheet
                        .write_string_with_format(0, col, *header, &bold)
                        .map_err(xlsx_error)?;
                }
                sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
            }
        }
        Ok(())
    }

    /// A whole section: [`Sheets::section`] `title` with its `headers`, then `rows` in order (each as
    /// [`Sheets::row`]).
    pub fn table<'s, const N: usize>(
        &'s mut self,
        title: &'s str,
        headers: &'s [&'s str],
        rows: impl IntoIterator<Item = [Cell; N]>,
    ) -> impl Future<Output = AppResult<()>> + Send + 's {
        // Collected before the first await: a future holding the caller's iterator (borrowing closures) is not
        // `Send` for every lifetime, which a handler's future must be. A report's rows are few.
        let rows: Vec<[Cell; N]> = rows.into_iter().collect();
        async move {
            self.section(title, headers).await?;
            for cells in &rows {
                self.row(cells).await?;
            }
            Ok(())
        }
    }

    /// Appends one row to the current section; CSV is sent on when enough is buffered.
    pub async fn row(&mut self, cells: &[Cell]) -> AppResult<()> {
        let row = self.row;
        self.row += 1;
        match &mut self.inner {
            Inner::Csv(buffer) => {
                let mut writer = csv::Writer::from_writer(std::mem::take(buffer));
                let record: Vec<String> = cells.iter().map(csv_cell).collect();
                writer.write_record(&record).map_err(AppError::internal)?;
                *buffer = writer
                    .into_inner()
                    .map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))?;
                if buffer.len() >= CSV_CHUNK_BYTES {
                    let chunk = Bytes::from(std::mem::take(buffer));
                    self.sender
                        .send(Ok(chunk))
                        .await
                        .map_err(|_| AppError::internal(anyhow::anyhow!("the client left")))?;
                }
            }
            Inner::Xlsx(state) => {
                let XlsxState {
                    workbook,
                    vnd,
                    decimal,
                    date,
                    ..
                } = state.as_mut();
                let index = usize::from(self.sheets.saturating_sub(1));
                let sheet = workbook.worksheet_from_index(index).map_err(xlsx_error)?;
                for (col, cell) in cells.iter().enumerate() {
                    let col = u16::try_from(col).map_err(AppError::internal)?;
                    match cell {
                        Cell::Empty => {}
                        Cell::Text(text) => {
                            sheet.write_string(row, col, text).map_err(xlsx_error)?;
                        }
                        Cell::Vnd(amount) | Cell::Int(amount)
                            if amount.abs() >= SPREADSHEET_EXACT_INTEGER =>
                        {
                            sheet
                                .write_string(row, col, amount.to_string())
                                .map_err(xlsx_error)?;
                        }
                        Cell::Vnd(amount) => {
                            // Exact: |amount| < 2^53.
                            sheet
                                .write_number_with_format(row, col, *amount as f64, vnd)
                                .map_err(xlsx_error)?;
                        }
                        Cell::Int(value) => {
                            sheet
                                .write_number(row, col, *value as f64)
                                .map_err(xlsx_error)?;
                        }
                        Cell::Decimal(value) => {
                            // A percentage to 2 decimals, for reading; the exact text is in the JSON.
                            // A value a spreadsheet number cannot hold is written as its exact text,
                            // never as a silent 0.
                            match rust_decimal::prelude::ToPrimitive::to_f64(value) {
                                Some(number) => sheet
                                    .write_number_with_format(row, col, number, decimal)
                                    .map_err(xlsx_error)?,
                                None => sheet
                                    .write_string(row, col, value.to_string())
                                    .map_err(xlsx_error)?,
                            };
                        }
                        Cell::Date(day) if !EXCEL_YEARS.contains(&day.year()) => {
                            // A spreadsheet date cell holds 1900-9999 only; a date outside (an
                            // as-of date typed far back) is written as its text, as a number too
                            // large is, never failing the export halfway.
                            sheet
                                .write_string(row, col, day.format("%d/%m/%Y").to_string())
                                .map_err(xlsx_error)?;
                        }
                        Cell::Date(day) => {
                            let excel = rust_xlsxwriter::ExcelDateTime::from_ymd(
                                u16::try_from(day.year()).map_err(AppError::internal)?,
                                u8::try_from(day.month()).map_err(AppError::internal)?,
                                u8::try_from(day.day()).map_err(AppError::internal)?,
                            )
                            .map_err(xlsx_error)?;
                            sheet
                                .write_datetime_with_format(row, col, &excel, date)
                                .map_err(xlsx_error)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes what is left: the CSV's last chunk, or the workbook (to a temporary file, then sent).
    async fn finish(self) -> AppResult<()> {
        match self.inner {
            Inner::Csv(buffer) => {
                if !buffer.is_empty() {
                    let _ = self.sender.send(Ok(Bytes::from(buffer))).await;
                }
            }
            Inner::Xlsx(mut state) => {
                if self.sheets == 0 {
                    state.workbook.add_worksheet();
                }
                let file = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
                let path = file.path().to_path_buf();
                let mut workbook = state.workbook;
                tokio::task::spawn_blocking(move || workbook.save(&path).map_err(xlsx_error))
                    .await
                    .map_err(AppError::internal)??;
                let mut reader = tokio::fs::File::open(file.path())
                    .await
                    .map_err(AppError::internal)?;
                use tokio::io::AsyncReadExt;
                loop {
                    let mut chunk = vec![0u8; CSV_CHUNK_BYTES];
                    let read = reader.read(&mut chunk).await.map_err(AppError::internal)?;
                    if read == 0 {
                        break;
                    }
                    chunk.truncate(read);
                    if self.sender.send(Ok(Bytes::from(chunk))).await.is_err() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .take(31)
        .collect()
}

fn csv_cell(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(text) => {
            if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{text}")
            } else {
                text.clone()
            }
        }
        Cell::Vnd(v) | Cell::Int(v) => v.to_string(),
        Cell::Decimal(d) => d.to_string(),
        Cell::Date(d) => d.to_string(),
    }
}

/// A report people read as JSON or download as sheets: its download's name and how it writes itself, so that
/// every such report answers through [`json_or_sheets`].
pub trait Workbook: serde::Serialize + Send + Sync + 'static {
    /// The download's name, without extension (e.g. `bao-cao-2026-06-30`).
    fn file_name(&self) -> String;

    /// Writes the report into `sheets`, one sheet per section.
    fn write(&self, sheets: &mut Sheets) -> impl Future<Output = AppResult<()>> + Send;
}

/// `report` as JSON, or as a CSV or XLSX download named [`Workbook::file_name`] ([`stream`]): the answer of a
/// report's route and of its page's download.
pub fn json_or_sheets<W: Workbook>(format: ExportFormat, report: W) -> Response {
    match format {
        ExportFormat::Json => axum::Json(report).into_response(),
        _ => stream(format, &report.file_name(), move |mut sheets| async move {
            report.write(&mut sheets).await?;
            Ok(sheets)
        }),
    }
}

/// The download `name` (without extension) in `format` (CSV or XLSX), its rows written by `produce`
/// as it reads them (see the module docs). Runs `produce` on a task of its own.
pub fn stream<F, Fut>(format: ExportFormat, name: &str, produce: F) -> Response
where
    F: FnOnce(Sheets) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<Sheets>> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let errors = sender.clone();
    let sheets = Sheets::new(format, sender);
    tokio::spawn(async move {
        let outcome = match produce(sheets).await {
            Ok(sheets) => sheets.finish().await,
            Err(err) => Err(err),
        };
        if let Err(err) = outcome {
            tracing::error!(error = %err, "an export failed after it started");
            let _ = errors
                .send(Err(std::io::Error::other("the export failed")))
                .await;
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
    ));
    let (content_type, extension) = match format {
        ExportFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => ("text/csv; charset=utf-8", "csv"),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{name}.{extension}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_xlsx_with_two_sections_is_written_and_read_back() {
        use calamine::Reader;
        let (sender, mut receiver) = mpsc::channel::<Chunk>(64);
        let mut sheets = Sheets::new(ExportFormat::Xlsx, sender);
        let (csv_sender, mut csv_receiver) = mpsc::channel::<Chunk>(64);
        let mut csv = Sheets::new(ExportFormat::Csv, csv_sender);
        csv.section("Một", &["Tên", "Số tiền (₫)"]).await.unwrap();
        csv.row(&[Cell::from("a"), Cell::Vnd(1_500_000)])
            .await
            .unwrap();
        csv.section("Hai", &["Ngày"]).await.unwrap();
        csv.finish().await.unwrap();
        let text = String::from_utf8(csv_receiver.recv().await.unwrap().unwrap().to_vec()).unwrap();
        assert_eq!(text, "\u{feff}Tên,Số tiền (₫)\na,1500000\n\nHai\nNgày\n");
        sheets
            .section("Một", &["Tên", "Số tiền (₫)"])
            .await
            .unwrap();
        sheets
            .row(&[Cell::from("a"), Cell::Vnd(1_500_000)])
            .await
            .unwrap();
        sheets.section("Hai", &["Ngày"]).await.unwrap();
        sheets
            .row(&[Cell::Date(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())])
            .await
            .unwrap();
        // A date before Excel's 1900 is written as text, not an error halfway through the export.
        sheets
            .row(&[Cell::Date(NaiveDate::from_ymd_opt(221, 3, 24).unwrap())])
            .await
            .unwrap();
        let writer = tokio::spawn(sheets.finish());
        let mut bytes = Vec::new();
        while let Some(chunk) = receiver.recv().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        writer.await.unwrap().unwrap();
        let mut book: calamine::Xlsx<_> =
            calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
        assert_eq!(
            book.sheet_names(),
            vec!["Một".to_string(), "Hai".to_string()]
        );
        let one = book.worksheet_range("Một").unwrap();
        assert_eq!(one.get((1, 1)), Some(&calamine::Data::Float(1_500_000.0)));
        let two = book.worksheet_range("Hai").unwrap();
        assert_eq!(
            two.get((2, 0)),
            Some(&calamine::Data::String("24/03/0221".into()))
        );
    }

    #[test]
    fn sheet_names_are_ones_excel_accepts() {
        assert_eq!(sheet_name("Nợ theo nhóm: 1/2"), "Nợ theo nhóm- 1-2");
        assert_eq!(sheet_name(&"x".repeat(40)).chars().count(), 31);
    }

    #[test]
    fn csv_texts_that_would_run_as_formulas_are_neutralised() {
        assert_eq!(csv_cell(&Cell::Text("=1+1".into())), "'=1+1");
        assert_eq!(csv_cell(&Cell::Vnd(-1_500_000)), "-1500000");
        assert_eq!(
            csv_cell(&Cell::Date(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())),
            "2026-06-30"
        );
    }
}
