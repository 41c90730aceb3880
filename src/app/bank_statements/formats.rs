//! Reading a bank statement file into lines, with no I/O and no database: CSV and XLSX through a
//! per-bank [`BankProfile`] (which column holds what, how dates and amounts are written), ISO 20022
//! camt.053 (quick-xml) and SWIFT MT940 (a small parser of our own: the one crate we know of,
//! `mt940`, pulls in a PEG parser for what is a dozen line tags).
//!
//! Every refusal is a [`FormatError`] naming the line (the file's line, the sheet's row, or the XML
//! line) and the column or element, so an accountant can open the file and see what is wrong. Amounts
//! are whole đồng: a fraction other than zero, a foreign currency, or a number that does not read is
//! refused, never rounded.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, NaiveDate};
use quick_xml::events::Event;

use super::matching::fold_ascii;
use crate::{
    config::BankProfile,
    error::{AppError, ErrorKind, Localized},
};

/// The formats a statement may come in.
pub const FORMATS: [&str; 4] = ["csv", "xlsx", "camt053", "mt940"];

/// The format of a stored statement (`bank_statements.format`), one of [`FORMATS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementFormat {
    /// A bank's CSV export, read with its profile.
    Csv,
    /// A bank's Excel export, read with its profile.
    Xlsx,
    /// ISO 20022 camt.053.
    Camt053,
    /// SWIFT MT940.
    Mt940,
}

impl StatementFormat {
    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StatementFormat::Csv => "csv",
            StatementFormat::Xlsx => "xlsx",
            StatementFormat::Camt053 => "camt053",
            StatementFormat::Mt940 => "mt940",
        }
    }

    /// The format spelled `text`, if it is one of [`FORMATS`].
    pub fn parse(text: &str) -> Option<StatementFormat> {
        [
            StatementFormat::Csv,
            StatementFormat::Xlsx,
            StatementFormat::Camt053,
            StatementFormat::Mt940,
        ]
        .into_iter()
        .find(|format| format.as_str() == text)
    }
}

impl std::fmt::Display for StatementFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialized as its name, like the column.
impl serde::Serialize for StatementFormat {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One statement as read from its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedStatement {
    /// The account the statement is of, when the file says (camt.053, MT940).
    pub account: Option<String>,
    /// The bank's id of the statement.
    pub statement_ref: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    /// End of the day before `period_from`.
    pub opening_balance_vnd: Option<i64>,
    /// End of `period_to`.
    pub closing_balance_vnd: Option<i64>,
    pub lines: Vec<ParsedLine>,
}

/// One movement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// Where it is in the file (line, row or entry's XML line), for messages.
    pub line_no: u32,
    pub booking_date: NaiveDate,
    pub value_date: NaiveDate,
    /// True for money in.
    pub credit: bool,
    /// Always positive.
    pub amount_vnd: i64,
    pub description: String,
    pub bank_transaction_id: Option<String>,
    pub counterparty_name: String,
    pub counterparty_account: String,
}

impl ParsedLine {
    /// The amount with its sign: + in, − out.
    pub fn signed_vnd(&self) -> i64 {
        if self.credit {
            self.amount_vnd
        } else {
            -self.amount_vnd
        }
    }
}

/// A file that cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based line (CSV, XML), row (XLSX) or 0 for the file as a whole.
    pub line: u32,
    /// The column or element at fault ("" for the file as a whole).
    pub column: String,
    pub message: Localized,
}

impl FormatError {
    fn at(line: u32, column: &str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        FormatError {
            line,
            column: column.to_string(),
            message: Localized::new(vi, en),
        }
    }
}

impl From<FormatError> for AppError {
    fn from(err: FormatError) -> Self {
        let (vi, en) = if err.line == 0 {
            (err.message.vi, err.message.en)
        } else if err.column.is_empty() {
            (
                format!("Dòng {}: {}", err.line, err.message.vi),
                format!("Line {}: {}", err.line, err.message.en),
            )
        } else {
            (
                format!(
                    "Dòng {}, cột «{}»: {}",
                    err.line, err.column, err.message.vi
                ),
                format!(
                    "Line {}, column «{}»: {}",
                    err.line, err.column, err.message.en
                ),
            )
        };
        AppError::new(
            ErrorKind::BadRequest,
            "statement_invalid",
            Localized::new(vi, en),
        )
        .with_field("file")
    }
}

// ----- amounts and dates -----

/// Whole đồng from text such as `1.234.567`, `1,234,567`, `1.234.567,00`, `1234567 VND`, `-500.000`.
/// `thousands` and `decimal` are the profile's separators. A nonzero fraction is refused.
pub fn parse_amount_vnd(text: &str, thousands: &str, decimal: &str) -> Result<i64, Localized> {
    let bad = || {
        Localized::new(
            format!("số tiền «{text}» không đọc được (cần đồng chẵn, ví dụ 1.234.567)"),
            format!("the amount «{text}» does not read (whole đồng expected, e.g. 1,234,567)"),
        )
    };
    let mut cleaned: String = text
        .trim()
        .trim_end_matches("VND")
        .trim_end_matches("VNĐ")
        .trim_end_matches('₫')
        .trim_end_matches('đ')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .collect();
    let negative = cleaned.starts_with('-') || (cleaned.starts_with('(') && cleaned.ends_with(')'));
    cleaned = cleaned
        .trim_start_matches('-')
        .trim_start_matches('+')
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_string();
    if !thousands.is_empty() && thousands != " " {
        cleaned = cleaned.replace(thousands, "");
    }
    let (whole, fraction) = match decimal.chars().next() {
        Some(sep) => cleaned.split_once(sep).unwrap_or((&cleaned, "")),
        None => (cleaned.as_str(), ""),
    };
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    if fraction.chars().any(|c| c != '0') {
        return Err(Localized::new(
            format!("số tiền «{text}» có phần lẻ của đồng"),
            format!("the amount «{text}» has a fraction of a đồng"),
        ));
    }
    let value: i64 = whole.parse().map_err(|_| bad())?;
    Ok(if negative { -value } else { value })
}

/// A date in a text cell: the profile's format, else ISO `YYYY-MM-DD`; a time after the date is ignored.
fn parse_date_text(text: &str, format: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let date_part = text.split_whitespace().next().unwrap_or(text);
    NaiveDate::parse_from_str(date_part, format)
        .or_else(|_| NaiveDate::parse_from_str(text, format))
        .or_else(|_| NaiveDate::parse_from_str(date_part, "%Y-%m-%d"))
        .ok()
}

/// An Excel serial day number (1900 date system) as a date. Whole days only: the time of day is dropped.
fn excel_serial_date(days: i64) -> Option<NaiveDate> {
    // Day 0 is 1899-12-30 once Excel's fictitious 29/02/1900 is accounted for (serials ≥ 61).
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_signed(Duration::days(days))
}

// ----- CSV and XLSX: a table read through a profile -----

/// One cell of a table, typed at the file's boundary.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Empty,
    Text(String),
    /// A whole number (XLSX numeric cell with no fraction).
    Whole(i64),
    /// An XLSX numeric cell with a fraction: never money (a đồng has no fraction), kept as text for
    /// the message.
    Fraction(String),
    Date(NaiveDate),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Whole(n) => n.to_string(),
            Cell::Fraction(t) => t.clone(),
            Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

/// A column name for matching against the profile: diacritics, case and spaces dropped.
fn header_key(text: &str) -> String {
    fold_ascii(text)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Where each configured column is.
struct Columns {
    booking_date: usize,
    value_date: Option<usize>,
    credit: usize,
    debit: usize,
    description: usize,
    transaction_id: Option<usize>,
    counterparty_name: Option<usize>,
    counterparty_account: Option<usize>,
    balance: Option<usize>,
}

/// How many rows from the top the header row may be (banks put the account holder, the period and
/// a title above it).
const HEADER_SEARCH_ROWS: usize = 40;

fn find_columns(
    rows: &[Vec<Cell>],
    profile: &BankProfile,
) -> Result<(usize, Columns), FormatError> {
    let want = header_key(&profile.booking_date);
    let Some(header_index) = rows
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .position(|row| row.iter().any(|c| header_key(&c.text()) == want))
    else {
        return Err(FormatError::at(
            0,
            &profile.booking_date,
            format!(
                "Không tìm thấy dòng tiêu đề có cột «{}» (hồ sơ ngân hàng «{}») trong {HEADER_SEARCH_ROWS} dòng đầu.",
                profile.booking_date, profile.name
            ),
            format!(
                "No header row with the column «{}» (bank profile «{}») in the first {HEADER_SEARCH_ROWS} lines.",
                profile.booking_date, profile.name
            ),
        ));
    };
    let header = &rows[header_index];
    let line = header_index as u32 + 1;
    let find = |name: &str| -> Option<usize> {
        let key = header_key(name);
        header.iter().position(|c| header_key(&c.text()) == key)
    };
    let required = |name: &str| -> Result<usize, FormatError> {
        find(name).ok_or_else(|| {
            FormatError::at(
                line,
                name,
                "thiếu cột này trong dòng tiêu đề",
                "this column is missing from the header row",
            )
        })
    };
    let optional = |name: &str| -> Result<Option<usize>, FormatError> {
        if name.trim().is_empty() {
            Ok(None)
        } else {
            required(name).map(Some)
        }
    };
    Ok((
        header_index,
        Columns {
            booking_date: required(&profile.booking_date)?,
            value_date: optional(&profile.value_date)?,
            credit: required(&profile.credit)?,
            debit: required(&profile.debit)?,
            description: required(&profile.description)?,
            transaction_id: optional(&profile.transaction_id)?,
            counterparty_name: optional(&profile.counterparty_name)?,
            counterparty_account: optional(&profile.counterparty_account)?,
            balance: optional(&profile.balance)?,
        },
    ))
}

fn cell_date(
    cell: &Cell,
    profile: &BankProfile,
    line: u32,
    column: &str,
) -> Result<NaiveDate, FormatError> {
    let bad = || {
        FormatError::at(
            line,
            column,
            format!(
                "ngày «{}» không đọc được (cần {})",
                cell.text(),
                profile.date_format
            ),
            format!(
                "the date «{}» does not read (expected {})",
                cell.text(),
                profile.date_format
            ),
        )
    };
    match cell {
        Cell::Date(d) => Ok(*d),
        Cell::Whole(serial) => excel_serial_date(*serial).ok_or_else(bad),
        Cell::Text(t) => parse_date_text(t, &profile.date_format).ok_or_else(bad),
        _ => Err(bad()),
    }
}

fn cell_amount(
    cell: &Cell,
    profile: &BankProfile,
    line: u32,
    column: &str,
) -> Result<i64, FormatError> {
    match cell {
        Cell::Empty => Ok(0),
        Cell::Whole(n) => Ok(*n),
        Cell::Text(t) if t.trim().is_empty() || t.trim() == "-" => Ok(0),
        Cell::Text(t) => {
            parse_amount_vnd(t, &profile.thousands_separator, &profile.decimal_separator).map_err(
                |message| FormatError {
                    line,
                    column: column.to_string(),
                    message,
                },
            )
        }
        Cell::Fraction(t) => Err(FormatError::at(
            line,
            column,
            format!("số tiền {t} có phần lẻ của đồng"),
            format!("the amount {t} has a fraction of a đồng"),
        )),
        Cell::Date(_) => Err(FormatError::at(
            line,
            column,
            "ô này là ngày, không phải số tiền",
            "this cell is a date, not an amount",
        )),
    }
}

/// Reads the rows of a table (CSV lines or sheet rows, `rows[i]` is line `i + 1`) through `profile`.
fn parse_table(
    rows: Vec<Vec<Cell>>,
    profile: &BankProfile,
) -> Result<ParsedStatement, FormatError> {
    let (header_index, cols) = find_columns(&rows, profile)?;
    let empty = Cell::Empty;
    let mut lines = Vec::new();
    let mut balances = Vec::new();
    for (index, row) in rows.iter().enumerate().skip(header_index + 1) {
        let line = index as u32 + 1;
        let get = |i: usize| row.get(i).unwrap_or(&empty);
        if row.iter().all(Cell::is_empty) {
            continue;
        }
        // A row without a booking date is a subtotal or footer ("Tổng cộng", "Số dư cuối kỳ").
        if get(cols.booking_date).is_empty() {
            continue;
        }
        let booking_date = cell_date(get(cols.booking_date), profile, line, &profile.booking_date)?;
        let value_date = match cols.value_date {
            Some(i) if !get(i).is_empty() => cell_date(get(i), profile, line, &profile.value_date)?,
            _ => booking_date,
        };
        let credit_vnd = cell_amount(get(cols.credit), profile, line, &profile.credit)?;
        let debit_vnd = cell_amount(get(cols.debit), profile, line, &profile.debit)?;
        let (credit, amount_vnd) = match (credit_vnd, debit_vnd) {
            (c, 0) if c > 0 => (true, c),
            (0, d) if d > 0 => (false, d),
            // Some banks write debits as negative numbers in the debit column.
            (0, d) if d < 0 => (false, -d),
            (0, 0) => {
                return Err(FormatError::at(
                    line,
                    &profile.credit,
                    "dòng không có số tiền ghi có hay ghi nợ",
                    "the line has neither a credit nor a debit amount",
                ))
            }
            _ => {
                return Err(FormatError::at(
                    line,
                    &profile.credit,
                    "dòng có cả số tiền ghi có và ghi nợ, hoặc số âm",
                    "the line has both a credit and a debit amount, or a negative one",
                ))
            }
        };
        let text_of = |i: Option<usize>| i.map(|i| get(i).text()).unwrap_or_default();
        let bank_transaction_id = Some(text_of(cols.transaction_id)).filter(|t| !t.is_empty());
        lines.push(ParsedLine {
            line_no: line,
            booking_date,
            value_date,
            credit,
            amount_vnd,
            description: get(cols.description).text(),
            bank_transaction_id,
            counterparty_name: text_of(cols.counterparty_name),
            counterparty_account: text_of(cols.counterparty_account),
        });
        if let Some(i) = cols.balance {
            balances.push(cell_amount(get(i), profile, line, &profile.balance)?);
        }
    }
    if lines.is_empty() {
        return Err(FormatError::at(
            0,
            "",
            "Sao kê không có giao dịch nào.",
            "The statement has no transactions.",
        ));
    }
    // Banks export newest first or oldest first; balances are checked oldest first.
    let newest_first = lines.first().map(|l| l.booking_date) > lines.last().map(|l| l.booking_date);
    if newest_first {
        lines.reverse();
        balances.reverse();
    }
    let mut statement = ParsedStatement {
        period_from: lines.iter().map(|l| l.booking_date).min(),
        period_to: lines.iter().map(|l| l.booking_date).max(),
        ..Default::default()
    };
    if cols.balance.is_some() {
        // Each running balance must follow from the previous one: a file cut or edited by hand is
        // refused here rather than reconciled wrongly later.
        let first = &lines[0];
        let opening = balances[0] - first.signed_vnd();
        let mut running = opening;
        for (line, balance) in lines.iter().zip(&balances) {
            running += line.signed_vnd();
            if running != *balance {
                return Err(FormatError::at(
                    line.line_no,
                    &profile.balance,
                    format!("số dư {balance} không khớp với số dư trước cộng giao dịch ({running})"),
                    format!("the balance {balance} does not follow from the previous balance and the amount ({running})"),
                ));
            }
        }
        statement.opening_balance_vnd = Some(opening);
        statement.closing_balance_vnd = Some(running);
    }
    statement.lines = lines;
    Ok(statement)
}

/// A CSV export read through `profile` (UTF-8, with or without a byte-order mark).
pub fn parse_csv(bytes: &[u8], profile: &BankProfile) -> Result<ParsedStatement, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(err) = std::str::from_utf8(bytes) {
        let line = bytes[..err.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32
            + 1;
        return Err(FormatError::at(
            line,
            "",
            "tệp không phải văn bản UTF-8 (hãy xuất lại sao kê dạng UTF-8)",
            "the file is not UTF-8 text (export the statement as UTF-8)",
        ));
    }
    let delimiter = profile.delimiter.bytes().next().unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| {
            let line = err.position().map_or(0, |p| p.line() as u32);
            FormatError::at(
                line,
                "",
                format!("dòng CSV hỏng ({err})"),
                format!("a broken CSV line ({err})"),
            )
        })?;
        let line = record
            .position()
            .map_or(rows.len() as u32 + 1, |p| p.line() as u32);
        // Keep `rows[i]` as line i + 1 even when a quoted field spans lines.
        while rows.len() + 1 < line as usize {
            rows.push(Vec::new());
        }
        rows.push(record.iter().map(|f| Cell::Text(f.to_string())).collect());
    }
    parse_table(rows, profile)
}

/// An XLSX export read through `profile`: the first sheet.
pub fn parse_xlsx(bytes: &[u8], profile: &BankProfile) -> Result<ParsedStatement, FormatError> {
    let unreadable = |detail: String| {
        FormatError::at(
            0,
            "",
            format!("Không đọc được tệp XLSX ({detail})."),
            format!("The XLSX file cannot be read ({detail})."),
        )
    };
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e: calamine::XlsxError| unreadable(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable("no sheet".into()))?
        .map_err(|e| unreadable(e.to_string()))?;
    // `rows[i]` is sheet row i + 1 whatever the first used row is.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<Cell>> = (0..first_row).map(|_| Vec::new()).collect();
    for row in range.rows() {
        let mut cells: Vec<Cell> = (0..first_col).map(|_| Cell::Empty).collect();
        cells.extend(row.iter().map(|data| match data.clone() {
            Data::Empty => Cell::Empty,
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s),
            Data::Int(n) => Cell::Whole(n),
            // A numeric cell is an IEEE double in the file itself; a whole number of đồng below 2^53
            // is exact in it, so it is taken only when it has no fraction (and kept as text otherwise,
            // to be refused with its value). No arithmetic is ever done on the float.
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                Cell::Whole(f as i64)
            }
            Data::Float(f) => Cell::Fraction(f.to_string()),
            Data::Bool(b) => Cell::Text(b.to_string()),
            Data::DateTime(dt) => {
                let serial = dt.as_f64().floor();
                match excel_serial_date(serial as i64) {
                    Some(d) => Cell::Date(d),
                    None => Cell::Text(serial.to_string()),
                }
            }
            Data::Error(e) => Cell::Text(format!("#{e:?}")),
        }));
        rows.push(cells);
    }
    parse_table(rows, profile)
}

// ----- camt.053 -----

/// 1-based line of byte `position` in `text`.
fn line_at(text: &[u8], position: u64) -> u32 {
    let end = (position as usize).min(text.len());
    text[..end].iter().filter(|b| **b == b'\n').count() as u32 + 1
}

/// A camt.053 amount: decimal text in VND, whole đồng.
fn camt_amount(text: &str, currency: &str, line: u32, element: &str) -> Result<i64, FormatError> {
    if !currency.is_empty() && currency != "VND" {
        return Err(FormatError::at(
            line,
            element,
            format!("tiền tệ {currency}, quỹ chỉ nhận VND"),
            format!("currency {currency}; only VND is accepted"),
        ));
    }
    parse_amount_vnd(text, "", ".").map_err(|message| FormatError {
        line,
        column: element.into(),
        message,
    })
}

fn camt_date(text: &str, line: u32, element: &str) -> Result<NaiveDate, FormatError> {
    let date = text.trim().get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        FormatError::at(
            line,
            element,
            format!("ngày «{text}» không đọc được (cần YYYY-MM-DD)"),
            format!("the date «{text}» does not read (expected YYYY-MM-DD)"),
        )
    })
}

#[derive(Default)]
struct CamtEntry {
    line: u32,
    amount: Option<(String, String, u32)>,
    credit: Option<bool>,
    status: String,
    booking: Option<(String, u32)>,
    value: Option<(String, u32)>,
    servicer_ref: Option<String>,
    tx_ref: Option<String>,
    end_to_end: Option<String>,
    remittance: Vec<String>,
    debtor_name: String,
    debtor_account: String,
    creditor_name: String,
    creditor_account: String,
}

#[derive(Default)]
struct CamtBalance {
    kind: String,
    amount: Option<(String, String, u32)>,
    credit: bool,
    date: Option<(String, u32)>,
}

/// An ISO 20022 bank-to-customer statement (camt.053, any version): the first `Stmt`.
pub fn parse_camt053(bytes: &[u8]) -> Result<ParsedStatement, FormatError> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut statement = ParsedStatement::default();
    let mut entry: Option<CamtEntry> = None;
    let mut balance: Option<CamtBalance> = None;
    let mut balances: Vec<CamtBalance> = Vec::new();
    let mut currency = String::new();
    let mut statements_seen = 0;
    let mut buf = Vec::new();
    // An element's text arrives in pieces (text, then each entity reference `&amp;` as its own
    // event): it is gathered here and handled when the element ends.
    let mut pending = String::new();
    let mut pending_line = 0u32;
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|err| {
            FormatError::at(
                line_at(bytes, position),
                path.last().map(String::as_str).unwrap_or(""),
                format!("XML hỏng ({err})"),
                format!("broken XML ({err})"),
            )
        })?;
        let line = line_at(bytes, position);
        match event {
            Event::Start(start) => {
                pending.clear();
                let name = start.local_name().as_ref().to_string();
                let ccy = start
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == "Ccy")
                    .map(|a| a.value.to_string());
                if let Some(ccy) = ccy {
                    currency = ccy;
                } else if name == "Amt" {
                    currency.clear();
                }
                path.push(name.clone());
                let in_stmt = path.iter().any(|p| p == "Stmt");
                if name == "Stmt" {
                    statements_seen += 1;
                }
                if in_stmt && statements_seen == 1 {
                    if name == "Ntry" {
                        entry = Some(CamtEntry {
                            line,
                            ..Default::default()
                        });
                    } else if name == "Bal" && entry.is_none() {
                        balance = Some(CamtBalance::default());
                    }
                }
            }
            Event::Text(text) => {
                if pending.is_empty() {
                    pending_line = line;
                }
                pending.push_str(&text.xml_content(quick_xml::XmlVersion::Implicit1_0));
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match reference
                        .xml_content(quick_xml::XmlVersion::Implicit1_0)
                        .as_ref()
                    {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = resolved {
                    pending.push(c);
                }
            }
            Event::End(_) => {
                let value = pending.trim().to_string();
                pending.clear();
                if statements_seen == 1 && !value.is_empty() {
                    camt_text(
                        &path,
                        value,
                        pending_line,
                        &currency,
                        &mut entry,
                        &mut balance,
                        &mut statement,
                    )?;
                }
                let name = path.pop().unwrap_or_default();
                if name == "Ntry" {
                    if let Some(done) = entry.take() {
                        if let Some(line) = camt_line(done)? {
                            statement.lines.push(line);
                        }
                    }
                } else if name == "Bal" {
                    if let Some(done) = balance.take() {
                        balances.push(done);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if statements_seen == 0 {
        return Err(FormatError::at(
            0,
            "Stmt",
            "Tệp không có sao kê camt.053 (phần tử Stmt).",
            "The file has no camt.053 statement (no Stmt element).",
        ));
    }
    for b in balances {
        let Some((text, ccy, line)) = b.amount else {
            continue;
        };
        let amount = camt_amount(&text, &ccy, line, "Bal/Amt")?;
        let signed = if b.credit { amount } else { -amount };
        match b.kind.as_str() {
            "OPBD" | "PRCD" | "OPAV" if statement.opening_balance_vnd.is_none() => {
                statement.opening_balance_vnd = Some(signed);
                if statement.period_from.is_none() {
                    if let Some((d, line)) = &b.date {
                        // The opening balance is dated the day before the period (PRCD) or its first day.
                        let date = camt_date(d, *line, "Bal/Dt/Dt")?;
                        statement.period_from = Some(if b.kind == "PRCD" {
                            date + Duration::days(1)
                        } else {
                            date
                        });
                    }
                }
            }
            "CLBD" if statement.closing_balance_vnd.is_none() => {
                statement.closing_balance_vnd = Some(signed);
                if statement.period_to.is_none() {
                    if let Some((d, line)) = &b.date {
                        statement.period_to = Some(camt_date(d, *line, "Bal/Dt/Dt")?);
                    }
                }
            }
            _ => {}
        }
    }
    if statement.period_from.is_none() {
        statement.period_from = statement.lines.iter().map(|l| l.booking_date).min();
    }
    if statement.period_to.is_none() {
        statement.period_to = statement.lines.iter().map(|l| l.booking_date).max();
    }
    Ok(statement)
}

/// The text `value` of the element at `path` (innermost last), into the entry, balance or statement.
fn camt_text(
    path: &[String],
    value: String,
    line: u32,
    currency: &str,
    entry: &mut Option<CamtEntry>,
    balance: &mut Option<CamtBalance>,
    statement: &mut ParsedStatement,
) -> Result<(), FormatError> {
    let tail: Vec<&str> = path.iter().rev().take(4).map(String::as_str).collect();
    let at = |names: &[&str]| tail.len() >= names.len() && tail[..names.len()] == *names;
    let within = |name: &str| path.iter().any(|p| p == name);
    if let Some(e) = entry.as_mut() {
        if at(&["Amt", "Ntry"]) {
            e.amount = Some((value, currency.to_string(), line));
        } else if at(&["CdtDbtInd", "Ntry"]) {
            e.credit = Some(value == "CRDT");
        } else if at(&["Cd", "Sts"]) || at(&["Sts", "Ntry"]) {
            e.status = value;
        } else if at(&["Dt", "BookgDt"]) || at(&["DtTm", "BookgDt"]) {
            e.booking = Some((value, line));
        } else if at(&["Dt", "ValDt"]) || at(&["DtTm", "ValDt"]) {
            e.value = Some((value, line));
        } else if at(&["AcctSvcrRef", "Ntry"]) {
            e.servicer_ref = Some(value);
        } else if within("NtryDtls") && at(&["AcctSvcrRef", "Refs"]) {
            e.tx_ref = Some(value);
        } else if within("NtryDtls") && at(&["EndToEndId", "Refs"]) {
            if value != "NOTPROVIDED" {
                e.end_to_end = Some(value);
            }
        } else if at(&["Ustrd", "RmtInf"]) || (within("Strd") && at(&["Ref"])) {
            e.remittance.push(value);
        } else if at(&["AddtlNtryInf", "Ntry"]) {
            if e.remittance.is_empty() {
                e.remittance.push(value);
            }
        } else if within("RltdPties") {
            let debtor = within("Dbtr") || within("DbtrAcct");
            let creditor = within("Cdtr") || within("CdtrAcct");
            let is_account = within("DbtrAcct") || within("CdtrAcct");
            let is_name = tail.first() == Some(&"Nm");
            let is_id = tail.first() == Some(&"IBAN")
                || (tail.first() == Some(&"Id") && tail.get(1) == Some(&"Othr"));
            match (debtor, creditor, is_account, is_name, is_id) {
                (true, _, false, true, _) => e.debtor_name = value,
                (_, true, false, true, _) => e.creditor_name = value,
                (true, _, true, _, true) => e.debtor_account = value,
                (_, true, true, _, true) => e.creditor_account = value,
                _ => {}
            }
        }
    } else if let Some(b) = balance.as_mut() {
        if at(&["Cd", "CdOrPrtry"]) {
            b.kind = value;
        } else if at(&["Amt", "Bal"]) {
            b.amount = Some((value, currency.to_string(), line));
        } else if at(&["CdtDbtInd", "Bal"]) {
            b.credit = value == "CRDT";
        } else if at(&["Dt", "Dt"]) || at(&["DtTm", "Dt"]) {
            b.date = Some((value, line));
        }
    } else if at(&["Id", "Stmt"]) {
        statement.statement_ref = Some(value);
    } else if within("Acct")
        && !within("Ownr")
        && !within("Svcr")
        && (at(&["IBAN", "Id", "Acct"]) || at(&["Id", "Othr", "Id", "Acct"]))
    {
        statement.account = Some(value);
    } else if at(&["FrDtTm", "FrToDt"]) || at(&["FrDt", "FrToDt"]) {
        statement.period_from = Some(camt_date(&value, line, "FrDtTm")?);
    } else if at(&["ToDtTm", "FrToDt"]) || at(&["ToDt", "FrToDt"]) {
        statement.period_to = Some(camt_date(&value, line, "ToDtTm")?);
    }
    Ok(())
}

/// One `Ntry` as a line; `None` for an entry not booked yet (pending, information only).
fn camt_line(e: CamtEntry) -> Result<Option<ParsedLine>, FormatError> {
    if !e.status.is_empty() && e.status != "BOOK" {
        return Ok(None);
    }
    let missing = |element: &str| {
        FormatError::at(
            e.line,
            element,
            "thiếu phần tử này trong bút toán (Ntry)",
            "this element is missing from the entry (Ntry)",
        )
    };
    let (text, ccy, line) = e.amount.clone().ok_or_else(|| missing("Amt"))?;
    let amount_vnd = camt_amount(&text, &ccy, line, "Amt")?;
    if amount_vnd <= 0 {
        return Err(FormatError::at(
            line,
            "Amt",
            "số tiền phải lớn hơn 0",
            "the amount must be positive",
        ));
    }
    let credit = e.credit.ok_or_else(|| missing("CdtDbtInd"))?;
    let (booking_text, booking_line) = e.booking.clone().ok_or_else(|| missing("BookgDt"))?;
    let booking_date = camt_date(&booking_text, booking_line, "BookgDt")?;
    let value_date = match &e.value {
        Some((text, line)) => camt_date(text, *line, "ValDt")?,
        None => booking_date,
    };
    let (name, account) = if credit {
        (e.debtor_name, e.debtor_account)
    } else {
        (e.creditor_name, e.creditor_account)
    };
    Ok(Some(ParsedLine {
        line_no: e.line,
        booking_date,
        value_date,
        credit,
        amount_vnd,
        description: e.remittance.join(" "),
        bank_transaction_id: e.servicer_ref.or(e.tx_ref).or(e.end_to_end),
        counterparty_name: name,
        counterparty_account: account,
    }))
}

// ----- MT940 -----

/// `YYMMDD` as a date (years 2000–2099).
fn mt940_date(text: &str, line: u32, tag: &str) -> Result<NaiveDate, FormatError> {
    let bad = || {
        FormatError::at(
            line,
            tag,
            format!("ngày «{text}» không đọc được (cần YYMMDD)"),
            format!("the date «{text}» does not read (expected YYMMDD)"),
        )
    };
    if text.len() != 6 || !text.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let year = 2000 + text[0..2].parse::<i32>().map_err(|_| bad())?;
    let month = text[2..4].parse::<u32>().map_err(|_| bad())?;
    let day = text[4..6].parse::<u32>().map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

/// `:60F:`/`:62F:` balance: `C260131VND1234567,` → (date, signed đồng).
fn mt940_balance(body: &str, line: u32, tag: &str) -> Result<(NaiveDate, i64), FormatError> {
    let bad = || {
        FormatError::at(
            line,
            tag,
            format!("số dư «{body}» không đọc được (cần C/D, YYMMDD, VND, số tiền)"),
            format!("the balance «{body}» does not read (expected C/D, YYMMDD, VND, amount)"),
        )
    };
    let mark = body.get(0..1).ok_or_else(bad)?;
    let date = mt940_date(body.get(1..7).ok_or_else(bad)?, line, tag)?;
    let currency = body.get(7..10).ok_or_else(bad)?;
    if currency != "VND" {
        return Err(FormatError::at(
            line,
            tag,
            format!("tiền tệ {currency}, quỹ chỉ nhận VND"),
            format!("currency {currency}; only VND is accepted"),
        ));
    }
    let amount = parse_amount_vnd(body.get(10..).ok_or_else(bad)?, "", ",").map_err(|message| {
        FormatError {
            line,
            column: tag.into(),
            message,
        }
    })?;
    match mark {
        "C" => Ok((date, amount)),
        "D" => Ok((date, -amount)),
        _ => Err(bad()),
    }
}

/// A `:61:` statement line: value date, optional entry date, mark, amount, type, references.
fn mt940_line(body: &str, supplementary: &str, line: u32) -> Result<ParsedLine, FormatError> {
    let tag = ":61:";
    let bad = |what: &str| {
        FormatError::at(
            line,
            tag,
            format!("dòng giao dịch không đọc được ({what})"),
            format!("the statement line does not read ({what})"),
        )
    };
    let value_date = mt940_date(body.get(0..6).ok_or_else(|| bad("value date"))?, line, tag)?;
    let mut rest = &body[6..];
    let mut booking_date = value_date;
    if rest.len() >= 4 && rest[..4].chars().all(|c| c.is_ascii_digit()) {
        let month: u32 = rest[0..2].parse().map_err(|_| bad("entry date"))?;
        let day: u32 = rest[2..4].parse().map_err(|_| bad("entry date"))?;
        use chrono::Datelike;
        // The entry date has no year: the value date's, or the next/previous one across New Year.
        let candidates = [
            value_date.year(),
            value_date.year() + 1,
            value_date.year() - 1,
        ];
        booking_date = candidates
            .iter()
            .filter_map(|y| NaiveDate::from_ymd_opt(*y, month, day))
            .min_by_key(|d| (*d - value_date).num_days().abs())
            .ok_or_else(|| bad("entry date"))?;
        rest = &rest[4..];
    }
    let (credit, after_mark) = if let Some(r) = rest.strip_prefix("RC") {
        (false, r)
    } else if let Some(r) = rest.strip_prefix("RD") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('C') {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('D') {
        (false, r)
    } else {
        return Err(bad("debit/credit mark"));
    };
    // An optional third letter of the currency code (funds code) before the amount.
    let after_mark = match after_mark.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => &after_mark[1..],
        _ => after_mark,
    };
    let amount_end = after_mark
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(after_mark.len());
    let amount_vnd =
        parse_amount_vnd(&after_mark[..amount_end], "", ",").map_err(|message| FormatError {
            line,
            column: tag.into(),
            message,
        })?;
    if amount_vnd <= 0 {
        return Err(bad("amount"));
    }
    // SWIFT amounts always carry the decimal comma, then the transaction type: N, F or S and three
    // characters. Anything else means the amount was mangled.
    let type_ok = after_mark.get(amount_end..amount_end + 4).is_some_and(|t| {
        t.starts_with(['N', 'F', 'S']) && t.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if !after_mark[..amount_end].contains(',') || !type_ok {
        return Err(bad("amount or transaction type"));
    }
    let references = after_mark.get(amount_end + 4..).unwrap_or("");
    let (owner_ref, bank_ref) = match references.split_once("//") {
        Some((owner, bank)) => (owner.trim(), bank.trim()),
        None => (references.trim(), ""),
    };
    let bank_transaction_id = if !bank_ref.is_empty() {
        Some(bank_ref.to_string())
    } else if !owner_ref.is_empty() && owner_ref != "NONREF" {
        Some(owner_ref.to_string())
    } else {
        None
    };
    let _ = supplementary;
    Ok(ParsedLine {
        line_no: line,
        booking_date,
        value_date,
        credit,
        amount_vnd,
        description: String::new(),
        bank_transaction_id,
        counterparty_name: String::new(),
        counterparty_account: String::new(),
    })
}

/// `:86:` information to the account owner: structured (`?20…?29` text, `?31` account, `?32`/`?33`
/// name) or free text.
fn mt940_details(text: &str, line: &mut ParsedLine) {
    if text.contains('?')
        && text
            .trim_start()
            .chars()
            .take(3)
            .all(|c| c.is_ascii_digit() || c == '?')
    {
        let mut description = Vec::new();
        let mut name = Vec::new();
        for part in text.split('?').skip(1) {
            let (code, value) = part.split_at(part.len().min(2));
            match code {
                "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" | "60"
                | "61" | "62" | "63" => description.push(value.trim().to_string()),
                "31" => line.counterparty_account = value.trim().to_string(),
                "32" | "33" => name.push(value.trim().to_string()),
                _ => {}
            }
        }
        line.description = description.join("");
        line.counterparty_name = name.join("");
    } else {
        line.description = text.trim().to_string();
    }
}

/// A SWIFT MT940 customer statement: the first message (up to `-`).
pub fn parse_mt940(bytes: &[u8]) -> Result<ParsedStatement, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let line = bytes[..err.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32
            + 1;
        FormatError::at(
            line,
            "",
            "tệp không phải văn bản UTF-8/ASCII",
            "the file is not UTF-8/ASCII text",
        )
    })?;
    // Fields: a tag at the start of a line, its body continuing on following lines until the next tag.
    let mut fields: Vec<(u32, String, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index as u32 + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim() == "-" || raw.trim() == "-}" {
            if fields
                .iter()
                .any(|(_, tag, _)| tag == "61" || tag == "60F" || tag == "60M")
            {
                break;
            }
            continue;
        }
        if let Some(rest) = raw.strip_prefix(':') {
            if let Some((tag, body)) = rest.split_once(':') {
                if tag.len() <= 3 && tag.chars().all(|c| c.is_ascii_alphanumeric()) {
                    fields.push((line_no, tag.to_string(), body.to_string()));
                    continue;
                }
            }
        }
        match fields.last_mut() {
            Some((_, tag, body)) => {
                body.push(if tag == "86" { ' ' } else { '\n' });
                body.push_str(raw.trim());
            }
            None if raw.trim().is_empty() || raw.starts_with('{') => {}
            None => {
                return Err(FormatError::at(
                    line_no,
                    "",
                    "dòng này không thuộc trường MT940 nào (cần :20:, :25:, …)",
                    "this line belongs to no MT940 field (expected :20:, :25:, …)",
                ))
            }
        }
    }
    let mut statement = ParsedStatement::default();
    let mut closing_date = None;
    let mut closing_line = 0;
    for (line_no, tag, body) in fields {
        match tag.as_str() {
            "20" => statement.statement_ref = Some(body.trim().to_string()),
            "25" => {
                statement.account =
                    Some(body.trim().split('/').next_back().unwrap_or("").to_string())
            }
            "60F" | "60M" if statement.opening_balance_vnd.is_none() => {
                let (date, amount) = mt940_balance(body.trim(), line_no, &format!(":{tag}:"))?;
                statement.opening_balance_vnd = Some(amount);
                statement.period_from = Some(date + Duration::days(1));
            }
            "62F" | "62M" => {
                let (date, amount) = mt940_balance(body.trim(), line_no, &format!(":{tag}:"))?;
                statement.closing_balance_vnd = Some(amount);
                closing_date = Some(date);
                closing_line = line_no;
            }
            "61" => {
                let (first, supplementary) = body.split_once('\n').unwrap_or((&body, ""));
                statement
                    .lines
                    .push(mt940_line(first.trim(), supplementary, line_no)?);
            }
            "86" => {
                if let Some(last) = statement.lines.last_mut() {
                    mt940_details(&body, last);
                }
            }
            _ => {}
        }
    }
    if statement.lines.is_empty() && statement.opening_balance_vnd.is_none() {
        return Err(FormatError::at(
            0,
            "",
            "Tệp không phải sao kê MT940 (không có :60F: hay :61:).",
            "The file is not an MT940 statement (no :60F: or :61:).",
        ));
    }
    if let (Some(opening), Some(closing)) =
        (statement.opening_balance_vnd, statement.closing_balance_vnd)
    {
        let moved: i64 = statement.lines.iter().map(ParsedLine::signed_vnd).sum();
        if opening + moved != closing {
            return Err(FormatError::at(
                closing_line,
                ":62F:",
                format!("số dư cuối {closing} khác số dư đầu {opening} cộng các giao dịch ({})", opening + moved),
                format!("the closing balance {closing} is not the opening balance {opening} plus the lines ({})", opening + moved),
            ));
        }
    }
    statement.period_to =
        closing_date.or_else(|| statement.lines.iter().map(|l| l.booking_date).max());
    // The opening balance is dated the last day of the previous statement: a period starting after
    // its first line would hide lines; start at the first line instead.
    if let (Some(from), Some(first)) = (
        statement.period_from,
        statement.lines.iter().map(|l| l.booking_date).min(),
    ) {
        if first < from {
            statement.period_from = Some(first);
        }
    }
    Ok(statement)
}

/// Reads `bytes` in `format` (`csv`/`xlsx` through `profile`).
pub fn parse(
    format: &str,
    bytes: &[u8],
    profile: Option<&BankProfile>,
) -> Result<ParsedStatement, FormatError> {
    let need_profile = || {
        FormatError::at(
            0,
            "",
            "Cần chọn hồ sơ ngân hàng (profile) cho tệp CSV/XLSX.",
            "A bank profile is needed for a CSV/XLSX file.",
        )
    };
    match format {
        "csv" => parse_csv(bytes, profile.ok_or_else(need_profile)?),
        "xlsx" => parse_xlsx(bytes, profile.ok_or_else(need_profile)?),
        "camt053" => parse_camt053(bytes),
        _ => parse_mt940(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile_csv() -> BankProfile {
        BankProfile {
            name: "test".into(),
            format: "csv".into(),
            bank_name: "Test".into(),
            delimiter: ",".into(),
            booking_date: "Ngày giao dịch".into(),
            value_date: "Ngày hiệu lực".into(),
            credit: "Ghi có".into(),
            debit: "Ghi nợ".into(),
            description: "Nội dung".into(),
            transaction_id: "Số bút toán".into(),
            counterparty_name: String::new(),
            counterparty_account: String::new(),
            balance: "Số dư".into(),
            date_format: "%d/%m/%Y".into(),
            thousands_separator: ".".into(),
            decimal_separator: ",".into(),
        }
    }

    #[test]
    fn amounts_read_in_both_vietnamese_and_english_grouping_and_fractions_are_refused() {
        assert_eq!(parse_amount_vnd("1.234.567", ".", ","), Ok(1_234_567));
        assert_eq!(parse_amount_vnd("1,234,567", ",", "."), Ok(1_234_567));
        assert_eq!(parse_amount_vnd("1.234.567,00", ".", ","), Ok(1_234_567));
        assert_eq!(parse_amount_vnd(" 500.000 VND", ".", ","), Ok(500_000));
        assert_eq!(parse_amount_vnd("-500.000", ".", ","), Ok(-500_000));
        assert!(parse_amount_vnd("1.234.567,50", ".", ",").is_err());
        assert!(parse_amount_vnd("12a", ".", ",").is_err());
        assert!(parse_amount_vnd("", ".", ",").is_err());
    }

    #[test]
    fn a_csv_with_vietnamese_headers_reads_with_balances_and_footer() {
        let csv = "Sao kê tài khoản 123\n\
                   NGÀY GIAO DỊCH,Ngày hiệu lực,Số bút toán,Nội dung,Ghi nợ,Ghi có,Số dư\n\
                   02/03/2026,02/03/2026,FT1,HTX-2026-000001 tra no,,\"1.000.000\",11.000.000\n\
                   03/03/2026,,FT2,Phi,5.000,,10.995.000\n\
                   Tổng cộng,,,,5.000,1.000.000,\n";
        let mut p = profile_csv();
        p.booking_date = "Ngày giao dịch".into();
        // The footer has text in the date column: refused as a date, so it is named.
        let err = parse_csv(csv.as_bytes(), &p).unwrap_err();
        assert_eq!((err.line, err.column.as_str()), (5, "Ngày giao dịch"));
        let csv = csv.replace("Tổng cộng,", ",");
        let s = parse_csv(csv.as_bytes(), &p).unwrap();
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.opening_balance_vnd, Some(10_000_000));
        assert_eq!(s.closing_balance_vnd, Some(10_995_000));
        assert!(s.lines[0].credit && !s.lines[1].credit);
        assert_eq!(
            s.lines[1].value_date,
            NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()
        );
        assert_eq!(s.lines[0].bank_transaction_id.as_deref(), Some("FT1"));
    }

    /// The error reading a CSV statement of `rows` under the header [`profile_csv`] names.
    fn refusal_of(rows: &str) -> FormatError {
        let csv = format!(
            "Ngày giao dịch,Ngày hiệu lực,Số bút toán,Nội dung,Ghi nợ,Ghi có,Số dư\n{rows}"
        );
        parse_csv(csv.as_bytes(), &profile_csv()).unwrap_err()
    }

    #[test]
    fn a_bad_amount_is_named_by_line_and_column() {
        let err = refusal_of(
            "02/03/2026,,FT1,x,,1.000.000,1.000.000\n\
             02/03/2026,,FT2,x,,12x,1.000.000\n",
        );
        assert_eq!((err.line, err.column.as_str()), (3, "Ghi có"));
        let app: AppError = err.into();
        assert!(
            app.message.vi.contains("Dòng 3") && app.message.en.contains("column «Ghi có»"),
            "{:?}",
            app.message
        );
    }

    #[test]
    fn a_balance_that_does_not_follow_is_refused() {
        let err = refusal_of(
            "02/03/2026,,FT1,x,,1.000.000,2.000.000\n\
             03/03/2026,,FT2,x,,1.000.000,3.500.000\n",
        );
        assert_eq!((err.line, err.column.as_str()), (3, "Số dư"));
    }

    #[test]
    fn an_mt940_statement_reads() {
        let text = ":20:STMT0301\r\n:25:VBAAVNVX/1234567890\r\n:28C:1/1\r\n:60F:C260301VND10000000,\r\n\
                    :61:2603020302C1500000,NTRFNONREF//FT26061ABC\r\n:86:HTX-2026-000123 TRA NO KY 1\r\n\
                    :61:2603030303D200000,00NCHGNONREF\r\n:86:PHI DICH VU\r\n:62F:C260303VND11300000,\r\n-\r\n";
        let s = parse_mt940(text.as_bytes()).unwrap();
        assert_eq!(s.account.as_deref(), Some("1234567890"));
        assert_eq!(s.opening_balance_vnd, Some(10_000_000));
        assert_eq!(s.closing_balance_vnd, Some(11_300_000));
        assert_eq!(s.lines.len(), 2);
        assert_eq!(
            s.lines[0].bank_transaction_id.as_deref(),
            Some("FT26061ABC")
        );
        assert_eq!(s.lines[0].description, "HTX-2026-000123 TRA NO KY 1");
        assert!(!s.lines[1].credit);
        assert_eq!(s.lines[1].bank_transaction_id, None);
        let broken = text.replace("C1500000,", "C15x0000,");
        let err = parse_mt940(broken.as_bytes()).unwrap_err();
        assert_eq!((err.line, err.column.as_str()), (5, ":61:"));
    }

    #[test]
    fn a_camt053_statement_reads_booked_entries_only() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>
<Stmt><Id>S1</Id><FrToDt><FrDtTm>2026-03-01T00:00:00</FrDtTm><ToDtTm>2026-03-31T23:59:59</ToDtTm></FrToDt>
<Acct><Id><Othr><Id>1234567890</Id></Othr></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="VND">1000000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="VND">2500000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-31</Dt></Dt></Bal>
<Ntry><Amt Ccy="VND">1500000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-05</Dt></BookgDt><ValDt><Dt>2026-03-04</Dt></ValDt><AcctSvcrRef>FT1</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>HTX Che</Nm></Dbtr><DbtrAcct><Id><Othr><Id>999</Id></Othr></Id></DbtrAcct></RltdPties><RmtInf><Ustrd>HTX 2026 000123</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="VND">7</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts><BookgDt><Dt>2026-03-06</Dt></BookgDt></Ntry>
</Stmt></BkToCstmrStmt></Document>"#;
        let s = parse_camt053(xml.as_bytes()).unwrap();
        assert_eq!(s.account.as_deref(), Some("1234567890"));
        assert_eq!(s.statement_ref.as_deref(), Some("S1"));
        assert_eq!(
            (s.opening_balance_vnd, s.closing_balance_vnd),
            (Some(1_000_000), Some(2_500_000))
        );
        assert_eq!(s.lines.len(), 1);
        let line = &s.lines[0];
        assert_eq!((line.amount_vnd, line.credit), (1_500_000, true));
        assert_eq!(
            line.value_date,
            NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()
        );
        assert_eq!(line.counterparty_account, "999");
        assert_eq!(line.counterparty_name, "HTX Che");
        assert_eq!(line.description, "HTX 2026 000123");
        let usd = xml.replace(r#"<Amt Ccy="VND">1500000"#, r#"<Amt Ccy="USD">1500000"#);
        let err = parse_camt053(usd.as_bytes()).unwrap_err();
        assert_eq!((err.line, err.column.as_str()), (7, "Amt"));
    }
}
