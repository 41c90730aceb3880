//! The auditor's desk: journal, trial balance, statements, the audit trail and its verification,
//! reports as of any date, exports.
//!
//! Every page here reads: GET forms only (filters), no control that changes anything, so an
//! auditor (who may read everything and change nothing) is never offered a write. Each page calls
//! the same use case as its API route (`app::ledger`, `app::audit`, `app::loans::statement`), so
//! the role checks are the use cases' (an officer may read the books; the audit trail is for
//! admins and auditors). Every listing exports to CSV and XLSX through [`crate::http::sheets`]:
//! Vietnamese headers, amounts as numbers with the đồng format, one sheet per section, streamed
//! batch by batch (the journal in keyset batches of [`JOURNAL_BATCH`] lines).
//!
//! The audit trail's "verify the books" link (`/audit/trail?verify=1`) runs the hash-chain check
//! (`app::chains::verify`, the use case of `GET /api/v1/audit/verify`) on demand — it walks every
//! chain, so it is not run on each page view — and shows each chain's verdict and its first finding.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
    routing::get,
    Router,
};
use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, Vnd};
use serde::Deserialize;

use super::{
    form::{link, PageQuery},
    format, render, PathId, Shell, WebUser,
};
use crate::{
    app::{
        audit::{self, AuditFilter, AuditRecord},
        ledger::{self, lines::JournalLineRow, EntryFilter},
        loans,
        page::PageRequest,
    },
    error::{AppError, AppResult, Lang},
    http::{
        export::ExportFormat,
        sheets::{self, Cell},
    },
    state::AppState,
};

/// Lines per batch of a journal export.
pub const JOURNAL_BATCH: u64 = 2_000;

crate::texts! {
    AuditText, AUDIT_VI, AUDIT_EN;
    desk_title: "Bàn làm việc của kiểm soát viên", "The auditor's desk";
    desk_intro: "Xem mọi sổ sách, không sửa được gì. Mọi bảng đều tải được dưới dạng CSV và XLSX.", "Read every book, change nothing. Every table downloads as CSV and XLSX.";
    journal: "Nhật ký chung", "Journal";
    journal_intro: "Các bút toán, mới nhất trước, với bộ lọc.", "Entries, newest first, with filters.";
    trial_balance: "Bảng cân đối tài khoản", "Trial balance";
    trial_balance_intro: "Số phát sinh và số dư từng tài khoản đến một ngày bất kỳ.", "Totals and balances per account through any date.";
    account_statement: "Sổ chi tiết tài khoản", "Account statement";
    loan_statement: "Sao kê khoản vay", "Loan statement";
    audit_trail: "Nhật ký thay đổi", "Audit trail";
    audit_trail_intro: "Ai đã thay đổi gì, khi nào, trước và sau.", "Who changed what, when, before and after.";
    reports: "Báo cáo tại một ngày", "Reports as of a date";
    reports_intro: "Danh mục cho vay, tuổi nợ, giải ngân và thu nợ, dư nợ lớn nhất, xóa nợ — đúng như sổ sách tại ngày đó.", "Portfolio, aging, disbursements and collections, largest exposures, write-offs — as the books stood on that day.";
    lending_report: "Báo cáo tình hình cho vay 6 tháng, năm", "Half-year and annual lending report";
    lending_intro: "Phụ lục 1a Thông tư 52/2022, đối chiếu với sổ cái.", "Circular 52/2022 Appendix 1a, reconciled with the books.";
    targets: "Đóng góp cho mục tiêu Nghị quyết", "Contribution to the resolution's targets";
    targets_intro: "HTX và liên hiệp HTX được cấp vốn, tỷ lệ nông nghiệp, thành viên, sản phẩm OCOP — theo năm và huyện.", "Cooperatives and unions financed, share in agriculture, members, OCOP products — per year and district.";
    from: "Từ ngày", "From";
    to: "Đến ngày", "To";
    date: "Ngày", "Date";
    account: "Tài khoản", "Account";
    account_name: "Tên tài khoản", "Account name";
    loan_id: "Mã khoản vay", "Loan id";
    filter: "Lọc", "Filter";
    show: "Xem", "Show";
    download_csv: "Tải CSV", "Download CSV";
    download_xlsx: "Tải XLSX", "Download XLSX";
    next_page: "Trang sau", "Next page";
    entry: "Bút toán", "Entry";
    kind: "Loại", "Kind";
    description: "Diễn giải", "Description";
    lines: "Định khoản", "Lines";
    debit: "Nợ", "Debit";
    credit: "Có", "Credit";
    balance: "Số dư", "Balance";
    opening_balance: "Số dư đầu kỳ", "Opening balance";
    closing_balance: "Số dư cuối kỳ", "Closing balance";
    totals: "Cộng", "Totals";
    no_entries: "Không có bút toán nào khớp bộ lọc.", "No entry matches the filters.";
    no_records: "Không có thay đổi nào khớp bộ lọc.", "No change matches the filters.";
    at: "Thời điểm", "At";
    actor: "Người thực hiện", "Who";
    action: "Hành động", "Action";
    entity: "Đối tượng", "Entity";
    entity_type: "Loại đối tượng", "Entity type";
    entity_id: "Mã đối tượng", "Entity id";
    field: "Trường", "Field";
    before: "Trước", "Before";
    after: "Sau", "After";
    loan: "Khoản vay", "Loan";
    disbursed: "Giải ngân", "Disbursed";
    received: "Thu", "Received";
    principal_paid: "Gốc đã trả", "Principal paid";
    interest_paid: "Lãi đã trả", "Interest paid";
    principal_balance: "Dư nợ gốc", "Principal outstanding";
    reference: "Chứng từ", "Reference";
    go: "Mở", "Open";
    verify_link: "Kiểm tra tính toàn vẹn của sổ sách (chuỗi băm)", "Verify the books (hash chains)";
    verify_passed: "Mọi chuỗi còn nguyên vẹn: không có dòng nào bị sửa, xóa, chèn hay đảo thứ tự ngoài hệ thống.", "Every chain is intact: no row was edited, deleted, inserted or reordered behind the service's back.";
    verify_failed: "PHÁT HIỆN SỬA ĐỔI NGOÀI HỆ THỐNG:", "TAMPERING FOUND:";
    chain: "Chuỗi", "Chain";
    rows_word: "dòng", "rows";
    intact: "nguyên vẹn", "intact";
}

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/audit", get(desk))
        .route("/audit/journal", get(journal))
        .route("/audit/trial-balance", get(trial_balance))
        .route("/audit/accounts", get(account_lookup))
        .route("/audit/accounts/{code}", get(account_statement))
        .route("/audit/loans", get(loan_statement_lookup))
        .route("/audit/loans/{id}", get(loan_statement))
        .route("/audit/trail", get(trail))
        .route("/audit/reports", get(reports))
        .route("/audit/lending", get(lending))
        .route("/audit/targets", get(targets))
}

/// An optional date field: empty is none; anything else must be a date (400 naming the field).
fn opt_date(field: &str, text: &str) -> AppResult<Option<NaiveDate>> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        format::parse_date(field, text).map(Some)
    }
}

/// `?format=`: empty or absent is the page (`None`); `csv` or `xlsx` asks for a download.
fn download_of(text: &str) -> AppResult<Option<ExportFormat>> {
    Ok(Some(ExportFormat::parse(Some(text))?).filter(|format| *format != ExportFormat::Json))
}

/// An optional year field: empty is none; anything else must be a year (400 naming the field).
fn opt_year(field: &str, text: &str) -> AppResult<Option<i32>> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse::<i32>().map(Some).map_err(|_| {
            AppError::invalid(
                field,
                crate::error::Reason::InvalidFormat { expected: "YYYY" },
            )
        }),
    }
}

/// `path?query` with the empty pairs left out.
fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        link(path, &kept)
    }
}

/// A paged listing's filters as they travel in its links: the next page, the downloads.
trait Filters {
    /// The listing's path.
    const PATH: &'static str;

    /// The filters as typed, `(name, value)`.
    fn pairs(&self) -> Vec<(&str, &str)>;

    /// The listing's link with its filters and `extra`.
    fn href_with(&self, extra: (&str, &str)) -> String {
        let mut pairs = self.pairs();
        pairs.push(extra);
        href(Self::PATH, &pairs)
    }

    /// The listing's download links.
    fn exports(&self, lang: Lang) -> Exports {
        Exports::of(Self::PATH, &self.pairs(), lang)
    }
}

/// The download links every listing and report carries (`audit_exports.html`): what the page
/// shows, as CSV and as XLSX.
pub struct Exports {
    pub csv_href: String,
    pub xlsx_href: String,
    pub csv_label: &'static str,
    pub xlsx_label: &'static str,
    /// A word after the links (the lending report says how to print it).
    pub note: Option<&'static str>,
}

impl Exports {
    /// The links of the page at `path` showing `pairs` (the empty ones left out), in `lang`.
    fn of(path: &str, pairs: &[(&str, &str)], lang: Lang) -> Exports {
        let a = AuditText::of(lang);
        let link = |format: &str| {
            let mut with_format = pairs.to_vec();
            with_format.push(("format", format));
            href(path, &with_format)
        };
        Exports {
            csv_href: link("csv"),
            xlsx_href: link("xlsx"),
            csv_label: a.download_csv,
            xlsx_label: a.download_xlsx,
            note: None,
        }
    }
}

/// One table as a download: a sheet titled `title` with `headers`, then `rows`.
fn one_sheet<const N: usize>(
    format: ExportFormat,
    file_name: &str,
    title: String,
    headers: &'static [&'static str],
    rows: Vec<[Cell; N]>,
) -> Response {
    sheets::stream(format, file_name, move |mut sheets| async move {
        sheets.section(&title, headers).await?;
        for row in &rows {
            sheets.row(row).await?;
        }
        Ok(sheets)
    })
}

/// The name of a ledger account in the page language.
fn account_name(account: &crate::store::entities::ledger_account::Model, lang: Lang) -> String {
    match lang {
        Lang::Vi => account.name_vi.clone(),
        Lang::En => account.name_en.clone(),
    }
}

// ----- the desk -----

/// `/audit`.
#[derive(Template)]
#[template(path = "audit_desk.html")]
pub struct DeskPage {
    pub shell: Shell,
    pub a: &'static AuditText,
}

/// `GET /audit`: where the auditor's work is.
pub async fn desk(State(state): State<AppState>, user: WebUser) -> Response {
    user.answer(&state, async {
        // The desk itself shows nothing; the role is checked by the use case of each page it
        // leads to. A cooperative has no business here: the trial balance's use case refuses it.
        ledger::trial_balance(&state.ctx, &user.caller, None).await?;
        let a = AuditText::of(user.lang);
        Ok(render(&DeskPage {
            shell: user.shell(&state, a.desk_title).await,
            a,
        }))
    })
    .await
}

// ----- the journal -----

/// The journal's filters as typed, the page's cursor and the download asked for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JournalQuery {
    from: String,
    to: String,
    account: String,
    loan_id: String,
    cursor: String,
    format: String,
}

impl JournalQuery {
    fn filter(&self) -> AppResult<EntryFilter> {
        let loan_id = match self.loan_id.trim() {
            "" => None,
            text => Some(LoanId::new(text.parse::<i64>().map_err(|_| {
                AppError::invalid(
                    "loan_id",
                    crate::error::Reason::InvalidFormat {
                        expected: "a loan id",
                    },
                )
            })?)),
        };
        Ok(EntryFilter {
            from: opt_date("from", &self.from)?,
            to: opt_date("to", &self.to)?,
            loan_id,
            account: Some(self.account.trim().to_string()).filter(|a| !a.is_empty()),
        })
    }
}

impl Filters for JournalQuery {
    const PATH: &'static str = "/audit/journal";

    fn pairs(&self) -> Vec<(&str, &str)> {
        vec![
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("account", self.account.as_str()),
            ("loan_id", self.loan_id.as_str()),
        ]
    }
}

/// One entry on the journal page.
pub struct EntryRow {
    pub id: i64,
    pub date: NaiveDate,
    pub kind: String,
    pub description: String,
    pub loan_id: Option<i64>,
    /// (account, debit, credit) per line.
    pub lines: Vec<(String, Vnd, Vnd)>,
}

/// `/audit/journal`.
#[derive(Template)]
#[template(path = "audit_journal.html")]
pub struct JournalPage {
    pub shell: Shell,
    pub a: &'static AuditText,
    pub from: String,
    pub to: String,
    pub account: String,
    pub loan_id: String,
    pub rows: Vec<EntryRow>,
    pub next_href: Option<String>,
    pub exports: Exports,
}

/// The Vietnamese headers of a journal export.
const JOURNAL_HEADERS: [&str; 11] = [
    "Số dòng",
    "Số bút toán",
    "Ngày ghi sổ",
    "Loại",
    "Diễn giải",
    "Mã khoản vay",
    "Mã giao dịch",
    "Tài khoản",
    "Nợ (₫)",
    "Có (₫)",
    "Thời điểm ghi (UTC)",
];

fn journal_cells(line: &JournalLineRow) -> [Cell; 11] {
    [
        Cell::Int(line.line_id),
        Cell::Int(line.entry_id),
        Cell::Date(line.entry_date),
        Cell::from(line.kind.as_str()),
        Cell::from(line.description.as_str()),
        Cell::from(line.loan_id),
        Cell::from(line.transaction_id),
        Cell::from(line.account_code.as_str()),
        Cell::vnd(line.debit),
        Cell::vnd(line.credit),
        Cell::Text(line.posted_at.to_rfc3339()),
    ]
}

/// `GET /audit/journal?from=&to=&account=&loan_id=&cursor=&format=`: the journal, newest first,
/// 50 entries a page; `format=csv|xlsx` downloads every line of the filtered journal, oldest first.
pub async fn journal(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<JournalQuery>,
) -> Response {
    user.answer(&state, async {
        let filter = query.filter()?;
        if let Some(format) = download_of(&query.format)? {
            return export_journal(&state, &user, filter, format).await;
        }
        let page = PageRequest::parse(Some(50), Some(query.cursor.as_str()))?;
        let entries = ledger::entries(&state.ctx, &user.caller, filter, page).await?;
        let a = AuditText::of(user.lang);
        let next_href = entries
            .next_cursor
            .as_deref()
            .map(|cursor| query.href_with(("cursor", cursor)));
        let rows = entries
            .items
            .into_iter()
            .map(|posted| EntryRow {
                id: posted.entry.id,
                date: posted.entry.entry_date,
                kind: posted.entry.kind,
                description: posted.entry.description,
                loan_id: posted.entry.loan_id,
                lines: posted
                    .lines
                    .into_iter()
                    .map(|l| {
                        (
                            l.account_code,
                            Vnd::from_i64(l.debit_vnd),
                            Vnd::from_i64(l.credit_vnd),
                        )
                    })
                    .collect(),
            })
            .collect();
        Ok(render(&JournalPage {
            shell: user.shell(&state, a.journal).await,
            a,
            exports: query.exports(user.lang),
            from: query.from.clone(),
            to: query.to.clone(),
            account: query.account.clone(),
            loan_id: query.loan_id.clone(),
            rows,
            next_href,
        }))
    })
    .await
}

/// The whole filtered journal as a download, line by line in keyset batches (constant memory).
async fn export_journal(
    state: &AppState,
    user: &WebUser,
    filter: EntryFilter,
    format: ExportFormat,
) -> AppResult<Response> {
    // The first batch checks the role and the filters while a status code can still say so.
    let first =
        ledger::lines::journal_lines_after(&state.ctx, &user.caller, &filter, 0, JOURNAL_BATCH)
            .await?;
    let (ctx, caller) = (state.ctx.clone(), user.caller.clone());
    Ok(sheets::stream(
        format,
        "nhat-ky-chung",
        move |mut sheets| async move {
            sheets.section("Nhật ký chung", &JOURNAL_HEADERS).await?;
            let mut batch = first;
            while let Some(last) = batch.last() {
                let after = last.line_id;
                for line in &batch {
                    sheets.row(&journal_cells(line)).await?;
                }
                if (batch.len() as u64) < JOURNAL_BATCH {
                    break;
                }
                batch = ledger::lines::journal_lines_after(
                    &ctx,
                    &caller,
                    &filter,
                    after,
                    JOURNAL_BATCH,
                )
                .await?;
            }
            Ok(sheets)
        },
    ))
}

// ----- the trial balance -----

/// A statement's or a balance's dates as typed (`date`, or `from`/`to`) and the download asked for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DateQuery {
    date: String,
    from: String,
    to: String,
    format: String,
}

/// One account of the trial balance as shown.
pub struct TrialRow {
    pub code: String,
    pub name: String,
    pub debit: Vnd,
    pub credit: Vnd,
    pub balance: Vnd,
}

/// `/audit/trial-balance`.
#[derive(Template)]
#[template(path = "audit_trial_balance.html")]
pub struct TrialBalancePage {
    pub shell: Shell,
    pub a: &'static AuditText,
    pub date: NaiveDate,
    pub date_value: String,
    pub rows: Vec<TrialRow>,
    pub total_debit: Vnd,
    pub total_credit: Vnd,
    pub exports: Exports,
}

/// `GET /audit/trial-balance?date=&format=`: per account totals and balances through `date`
/// (default: the business date).
pub async fn trial_balance(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<DateQuery>,
) -> Response {
    user.answer(&state, async {
        let date = opt_date("date", &query.date)?;
        let download = download_of(&query.format)?;
        let balance = ledger::trial_balance(&state.ctx, &user.caller, date).await?;
        let (total_debit, total_credit) = balance.totals();
        let date_text = balance.date.to_string();
        if let Some(format) = download {
            let mut rows: Vec<[Cell; 5]> = balance
                .accounts
                .iter()
                .map(|a| {
                    [
                        Cell::from(a.account.code.as_str()),
                        Cell::from(a.account.name_vi.as_str()),
                        Cell::vnd(a.debit),
                        Cell::vnd(a.credit),
                        Cell::vnd(a.balance()),
                    ]
                })
                .collect();
            rows.push([
                Cell::from("Cộng"),
                Cell::Empty,
                Cell::vnd(total_debit),
                Cell::vnd(total_credit),
                Cell::Empty,
            ]);
            return Ok(one_sheet(
                format,
                &format!("bang-can-doi-tai-khoan-{date_text}"),
                "Bảng cân đối tài khoản".to_string(),
                &[
                    "Tài khoản",
                    "Tên tài khoản",
                    "Nợ (₫)",
                    "Có (₫)",
                    "Số dư (₫)",
                ],
                rows,
            ));
        }
        let a = AuditText::of(user.lang);
        let rows = balance
            .accounts
            .iter()
            .map(|a| TrialRow {
                code: a.account.code.clone(),
                name: account_name(&a.account, user.lang),
                debit: a.debit,
                credit: a.credit,
                balance: a.balance(),
            })
            .collect();
        Ok(render(&TrialBalancePage {
            shell: user.shell(&state, a.trial_balance).await,
            a,
            date: balance.date,
            exports: Exports::of(
                "/audit/trial-balance",
                &[("date", date_text.as_str())],
                user.lang,
            ),
            date_value: date_text,
            rows,
            total_debit,
            total_credit,
        }))
    })
    .await
}

// ----- an account statement -----

/// One movement on the account statement page.
pub struct MovementRow {
    pub entry_id: i64,
    pub date: NaiveDate,
    pub description: String,
    pub debit: Vnd,
    pub credit: Vnd,
    pub balance: Vnd,
}

/// `/audit/accounts/{code}`.
#[derive(Template)]
#[template(path = "audit_account.html")]
pub struct AccountPage {
    pub shell: Shell,
    pub a: &'static AuditText,
    pub code: String,
    pub name: String,
    pub from_value: String,
    pub to_value: String,
    pub opening: Vnd,
    pub closing: Vnd,
    pub rows: Vec<MovementRow>,
    pub total_debit: Vnd,
    pub total_credit: Vnd,
    pub exports: Exports,
}

/// `GET /audit/accounts/{code}?from=&to=&format=`: the account's movements with running balances.
pub async fn account_statement(
    State(state): State<AppState>,
    user: WebUser,
    Path(code): Path<String>,
    PageQuery(query): PageQuery<DateQuery>,
) -> Response {
    user.answer(&state, async {
        let from = opt_date("from", &query.from)?;
        let to = opt_date("to", &query.to)?;
        let download = download_of(&query.format)?;
        let statement =
            ledger::account_statement(&state.ctx, &user.caller, &code, from, to).await?;
        let (total_debit, total_credit) = statement.totals();
        let closing = statement.closing_balance();
        let (from_text, to_text) = (statement.from.to_string(), statement.to.to_string());
        let code = statement.account.code.clone();
        if let Some(format) = download {
            let mut rows: Vec<[Cell; 6]> = Vec::with_capacity(statement.lines.len() + 2);
            rows.push([
                Cell::Empty,
                Cell::Date(statement.from),
                Cell::from("Số dư đầu kỳ"),
                Cell::Empty,
                Cell::Empty,
                Cell::vnd(statement.opening_balance),
            ]);
            for line in &statement.lines {
                rows.push([
                    Cell::Int(line.entry.id),
                    Cell::Date(line.entry.entry_date),
                    Cell::from(line.entry.description.as_str()),
                    Cell::vnd(line.debit),
                    Cell::vnd(line.credit),
                    Cell::vnd(line.balance),
                ]);
            }
            rows.push([
                Cell::Empty,
                Cell::Date(statement.to),
                Cell::from("Cộng phát sinh / số dư cuối kỳ"),
                Cell::vnd(total_debit),
                Cell::vnd(total_credit),
                Cell::vnd(closing),
            ]);
            return Ok(one_sheet(
                format,
                &format!("so-chi-tiet-{code}-{from_text}-{to_text}"),
                format!("Sổ chi tiết TK {code}"),
                &[
                    "Số bút toán",
                    "Ngày ghi sổ",
                    "Diễn giải",
                    "Nợ (₫)",
                    "Có (₫)",
                    "Số dư (₫)",
                ],
                rows,
            ));
        }
        let a = AuditText::of(user.lang);
        Ok(render(&AccountPage {
            shell: user
                .shell(&state, &format!("{} {code}", a.account_statement))
                .await,
            a,
            exports: Exports::of(
                &format!("/audit/accounts/{code}"),
                &[("from", from_text.as_str()), ("to", to_text.as_str())],
                user.lang,
            ),
            name: account_name(&statement.account, user.lang),
            code,
            from_value: from_text,
            to_value: to_text,
            opening: statement.opening_balance,
            closing,
            rows: statement
                .lines
                .into_iter()
                .map(|l| MovementRow {
                    entry_id: l.entry.id,
                    date: l.entry.entry_date,
                    description: l.entry.description,
                    debit: l.debit,
                    credit: l.credit,
                    balance: l.balance,
                })
                .collect(),
            total_debit,
            total_credit,
        }))
    })
    .await
}

// ----- a loan statement -----

/// The lookup forms' query as typed: a loan id or an account code.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoanLookup {
    id: String,
    code: String,
}

/// `GET /audit/accounts?code=`: the account-statement form's target.
pub async fn account_lookup(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<LoanLookup>,
) -> Response {
    let code = query.code.trim();
    if code.is_empty() || code.len() > 10 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return user
            .fail(&state, AppError::not_found("tài khoản", "Account"))
            .await;
    }
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(&format!(
        "/audit/accounts/{code}"
    )))
}

/// `GET /audit/loans?id=`: the loan-statement form's target (a GET form cannot fill a path).
pub async fn loan_statement_lookup(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<LoanLookup>,
) -> Response {
    match query.id.trim().parse::<i64>() {
        Ok(id) if id > 0 => axum::response::IntoResponse::into_response(
            axum::response::Redirect::to(&format!("/audit/loans/{id}")),
        ),
        _ => {
            user.fail(&state, AppError::not_found("khoản vay", "Loan"))
                .await
        }
    }
}

/// `/audit/loans/{id}`.
#[derive(Template)]
#[template(path = "audit_loan.html")]
pub struct LoanStatementPage {
    pub shell: Shell,
    pub a: &'static AuditText,
    pub statement: loans::LoanStatement,
    pub exports: Exports,
}

/// `GET /audit/loans/{id}?format=`: every movement of the loan with running balances and totals
/// (the API's `GET /api/v1/loans/{id}/statement`).
pub async fn loan_statement(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    PageQuery(query): PageQuery<DateQuery>,
) -> Response {
    user.answer(&state, async {
        let download = download_of(&query.format)?;
        let statement = loans::statement(&state.ctx, &user.caller, id).await?;
        if let Some(format) = download {
            let rows: Vec<[Cell; 10]> = statement
                .lines
                .iter()
                .map(|l| {
                    [
                        Cell::Date(l.date),
                        Cell::from(l.kind),
                        Cell::from(l.reference.as_str()),
                        Cell::vnd(l.disbursed_vnd),
                        Cell::vnd(l.principal_due_vnd),
                        Cell::vnd(l.interest_due_vnd),
                        Cell::vnd(l.received_vnd),
                        Cell::vnd(l.paid_principal_vnd),
                        Cell::vnd(l.paid_interest_vnd),
                        Cell::vnd(l.principal_balance_vnd),
                    ]
                })
                .collect();
            return Ok(one_sheet(
                format,
                &format!("sao-ke-{}", statement.number),
                format!("Sao kê {}", statement.number),
                &[
                    "Ngày",
                    "Loại",
                    "Chứng từ",
                    "Giải ngân (₫)",
                    "Gốc đến hạn (₫)",
                    "Lãi đến hạn (₫)",
                    "Đã thu (₫)",
                    "Gốc đã trả (₫)",
                    "Lãi đã trả (₫)",
                    "Dư nợ gốc (₫)",
                ],
                rows,
            ));
        }
        let a = AuditText::of(user.lang);
        Ok(render(&LoanStatementPage {
            shell: user
                .shell(
                    &state,
                    &format!("{} {}", a.loan_statement, statement.number),
                )
                .await,
            a,
            exports: Exports::of(
                &format!("/audit/loans/{}", statement.loan_id),
                &[],
                user.lang,
            ),
            statement,
        }))
    })
    .await
}

// ----- the audit trail -----

/// The audit trail's filters as typed, the page's cursor, the download asked for and whether to
/// verify the books.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TrailQuery {
    verify: String,
    entity_type: String,
    entity_id: String,
    actor: String,
    action: String,
    cursor: String,
    format: String,
}

impl TrailQuery {
    fn filter(&self, limit: u64, cursor: &str) -> AppResult<AuditFilter> {
        let some = |text: &str| Some(text.trim().to_string()).filter(|t| !t.is_empty());
        Ok(AuditFilter {
            entity_type: some(&self.entity_type),
            entity_id: some(&self.entity_id),
            actor: some(&self.actor),
            action: some(&self.action),
            page: PageRequest::parse(Some(limit), Some(cursor))?,
        })
    }
}

impl Filters for TrailQuery {
    const PATH: &'static str = "/audit/trail";

    fn pairs(&self) -> Vec<(&str, &str)> {
        vec![
            ("entity_type", self.entity_type.as_str()),
            ("entity_id", self.entity_id.as_str()),
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
        ]
    }
}

/// One changed field of an audit record.
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One audit record as the trail page shows it.
pub struct TrailRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub changes: Vec<FieldChange>,
}

fn value_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "–".into(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The fields that differ between before and after (every field of a creation); a record whose
/// before or after is not an object is shown whole.
fn changes_of(record: &AuditRecord) -> Vec<FieldChange> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    match (&record.before, &record.after) {
        (None | Some(Value::Object(_)), None | Some(Value::Object(_))) => {
            let before = match &record.before {
                Some(Value::Object(map)) => map,
                _ => &empty,
            };
            let after = match &record.after {
                Some(Value::Object(map)) => map,
                _ => &empty,
            };
            let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|key| before.get(*key) != after.get(*key))
                .map(|key| FieldChange {
                    field: key.clone(),
                    before: value_text(before.get(key)),
                    after: value_text(after.get(key)),
                })
                .collect()
        }
        (before, after) => vec![FieldChange {
            field: String::new(),
            before: value_text(before.as_ref()),
            after: value_text(after.as_ref()),
        }],
    }
}

/// One hash chain's verdict: its name, rows walked, and the first finding (none: intact).
pub type ChainVerdict = (String, u64, Option<String>);

/// One point of the PAR trend: the month end, PAR10, PAR30.
type TrendInput = (
    NaiveDate,
    Option<rust_decimal::Decimal>,
    Option<rust_decimal::Decimal>,
);

/// `/audit/trail`.
#[derive(Template)]
#[template(path = "audit_trail.html")]
pub struct TrailPage {
    pub shell: Shell,
    pub a: &'static AuditText,
    /// The hash-chain verdict when asked for: passed, and (chain, rows, first finding or none).
    pub verify: Option<(bool, Vec<ChainVerdict>)>,
    pub verify_href: String,
    pub entity_type: String,
    pub entity_id: String,
    pub actor: String,
    pub action: String,
    pub rows: Vec<TrailRow>,
    pub next_href: Option<String>,
    pub exports: Exports,
}

const TRAIL_HEADERS: [&str; 9] = [
    "Số",
    "Thời điểm (UTC)",
    "Người thực hiện",
    "Hành động",
    "Loại đối tượng",
    "Mã đối tượng",
    "Trước",
    "Sau",
    "Mã yêu cầu",
];

fn trail_cells(record: &AuditRecord) -> [Cell; 9] {
    let json = |value: &Option<serde_json::Value>| {
        value
            .as_ref()
            .map_or(Cell::Empty, |v| Cell::Text(v.to_string()))
    };
    [
        Cell::Int(record.id.get()),
        Cell::Text(record.at.to_rfc3339()),
        Cell::from(record.actor.as_str()),
        Cell::from(record.action.as_str()),
        Cell::from(record.entity_type.as_str()),
        Cell::from(record.entity_id.as_str()),
        json(&record.before),
        json(&record.after),
        record.request_id.as_deref().map_or(Cell::Empty, Cell::from),
    ]
}

/// `GET /audit/trail?entity_type=&entity_id=&actor=&action=&cursor=&format=`: every recorded change,
/// newest first, each with the fields it changed (before → after). Admins and auditors.
pub async fn trail(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<TrailQuery>,
) -> Response {
    user.answer(&state, async {
        if let Some(format) = download_of(&query.format)? {
            let filter = query.filter(crate::app::page::LIMIT_MAX, "")?;
            return export_trail(&state, &user, filter, format).await;
        }
        let filter = query.filter(50, &query.cursor)?;
        let page = audit::list(&state.ctx, &user.caller, filter).await?;
        let a = AuditText::of(user.lang);
        let verify = if query.verify.trim() == "1" {
            let report = crate::app::chains::verify(&state.ctx, &user.caller, None).await?;
            let chains = report
                .chains
                .iter()
                .map(|chain| {
                    let first = chain.first.as_ref().map(|f| match user.lang {
                        Lang::Vi => f.message_vi.clone(),
                        Lang::En => f.message.clone(),
                    });
                    (chain.chain.name().to_string(), chain.rows, first)
                })
                .collect();
            Some((report.passed, chains))
        } else {
            None
        };
        let next_href = page
            .next_cursor
            .as_deref()
            .map(|cursor| query.href_with(("cursor", cursor)));
        let rows = page
            .items
            .iter()
            .map(|record| TrailRow {
                id: record.id.get(),
                at: record.at.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
                actor: record.actor.clone(),
                action: record.action.clone(),
                entity: format!("{} {}", record.entity_type, record.entity_id),
                changes: changes_of(record),
            })
            .collect();
        Ok(render(&TrailPage {
            shell: user.shell(&state, a.audit_trail).await,
            a,
            verify,
            verify_href: query.href_with(("verify", "1")),
            exports: query.exports(user.lang),
            entity_type: query.entity_type.clone(),
            entity_id: query.entity_id.clone(),
            actor: query.actor.clone(),
            action: query.action.clone(),
            rows,
            next_href,
        }))
    })
    .await
}

/// The whole filtered trail as a download, page by page (constant memory).
async fn export_trail(
    state: &AppState,
    user: &WebUser,
    filter: AuditFilter,
    format: ExportFormat,
) -> AppResult<Response> {
    // The first page checks the role and the filters while a status code can still say so.
    let first = audit::list(&state.ctx, &user.caller, filter.clone()).await?;
    let (ctx, caller) = (state.ctx.clone(), user.caller.clone());
    Ok(sheets::stream(
        format,
        "nhat-ky-thay-doi",
        move |mut sheets| async move {
            sheets.section("Nhật ký thay đổi", &TRAIL_HEADERS).await?;
            let mut page = first;
            loop {
                for record in &page.items {
                    sheets.row(&trail_cells(record)).await?;
                }
                let Some(cursor) = page.next_cursor.take() else {
                    break;
                };
                let next = AuditFilter {
                    page: PageRequest::parse(
                        Some(crate::app::page::LIMIT_MAX),
                        Some(cursor.as_str()),
                    )?,
                    ..filter.clone()
                };
                page = audit::list(&ctx, &caller, next).await?;
            }
            Ok(sheets)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_leave_out_empty_filters() {
        assert_eq!(
            href("/audit/journal", &[("from", ""), ("to", "")]),
            "/audit/journal"
        );
        assert_eq!(
            href("/audit/journal", &[("from", "2026-01-01"), ("account", "")]),
            "/audit/journal?from=2026-01-01"
        );
    }
}

// ----- reports as of a date, and the lending report -----

/// One bar of a server-drawn chart (coordinates in the SVG's viewBox).
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub label: String,
    pub value: String,
    /// Drawn in the warning colour (bad debt, PAR).
    pub bad: bool,
}

/// A bar chart drawn on the server (no script, no inline style: classes from the stylesheet).
pub struct BarChart {
    pub width: i64,
    pub height: i64,
    pub baseline: i64,
    pub bars: Vec<Bar>,
    pub title: String,
}

/// Chart geometry, in viewBox units.
const CHART_WIDTH: i64 = 600;
const CHART_HEIGHT: i64 = 220;
const CHART_TOP: i64 = 20;
const CHART_BOTTOM: i64 = 40;

impl BarChart {
    /// Bars of `values` (label, amount, bad), scaled to the largest; an empty or all-zero series
    /// draws empty bars.
    pub fn of(
        title: &str,
        values: &[(String, Vnd, bool)],
        show: impl Fn(&Vnd) -> String,
    ) -> BarChart {
        let max = values
            .iter()
            .map(|(_, v, _)| v.to_i64().unwrap_or(0))
            .max()
            .unwrap_or(0)
            .max(1);
        let slots = i64::try_from(values.len()).unwrap_or(1).max(1);
        let slot = CHART_WIDTH / slots;
        let plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM;
        let baseline = CHART_HEIGHT - CHART_BOTTOM;
        let bars = values
            .iter()
            .enumerate()
            .map(|(i, (label, value, bad))| {
                let amount = value.to_i64().unwrap_or(0).max(0);
                // Integer geometry: pixels, not money; i128 so a large portfolio cannot overflow.
                let height = i64::try_from(i128::from(amount) * i128::from(plot) / i128::from(max))
                    .unwrap_or(plot);
                let index = i64::try_from(i).unwrap_or(0);
                Bar {
                    x: index * slot + slot / 6,
                    y: baseline - height,
                    width: slot * 2 / 3,
                    height,
                    label: label.clone(),
                    value: show(value),
                    bad: *bad,
                }
            })
            .collect();
        BarChart {
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
            baseline,
            bars,
            title: title.to_string(),
        }
    }

    /// The x of a bar's centre (labels).
    pub fn centre(&self, bar: &Bar) -> i64 {
        bar.x + bar.width / 2
    }
}

/// A line of PAR at month ends, drawn on the server.
pub struct TrendChart {
    pub width: i64,
    pub height: i64,
    pub baseline: i64,
    /// `x,y x,y …` of PAR10 and PAR30 (percent, 0 at the baseline, the largest value at the top).
    pub par10: String,
    pub par30: String,
    /// (x, dd/mm label) per point.
    pub ticks: Vec<(i64, String)>,
    pub title: String,
}

impl TrendChart {
    fn of(title: &str, points: &[TrendInput]) -> TrendChart {
        use rust_decimal::prelude::ToPrimitive;
        let plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM;
        let baseline = CHART_HEIGHT - CHART_BOTTOM;
        // Basis points, integers: the geometry of a picture, read exactly from the decimals.
        let bp = |p: &Option<rust_decimal::Decimal>| {
            p.map(|d| {
                (d * rust_decimal::Decimal::ONE_HUNDRED)
                    .trunc()
                    .to_i64()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
        };
        let max = points
            .iter()
            .map(|(_, a, b)| bp(a).max(bp(b)))
            .max()
            .unwrap_or(0)
            .max(100);
        let n = i64::try_from(points.len()).unwrap_or(1).max(1);
        let step = CHART_WIDTH / n;
        let xy = |i: usize, v: i64| {
            let x = i64::try_from(i).unwrap_or(0) * step + step / 2;
            (x, baseline - v * plot / max)
        };
        let line = |pick: &dyn Fn(&TrendInput) -> i64| {
            points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let (x, y) = xy(i, pick(p));
                    format!("{x},{y}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        TrendChart {
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
            baseline,
            par10: line(&|p| bp(&p.1)),
            par30: line(&|p| bp(&p.2)),
            ticks: points
                .iter()
                .enumerate()
                .map(|(i, p)| (xy(i, 0).0, p.0.format("%m/%Y").to_string()))
                .collect(),
            title: title.to_string(),
        }
    }
}

crate::texts! {
    ReportText, REPORT_VI, REPORT_EN;
    title: "Báo cáo tại ngày", "Report as of";
    intro: "Sổ sách đúng như khi ngày này được khóa sổ: giao dịch ghi sau đó, kể cả ghi lùi ngày, không làm thay đổi báo cáo.", "The books as they stood when this day was closed: transactions recorded afterwards, even back-dated ones, do not change the report.";
    provisional: "Ngày này chưa khóa sổ: báo cáo còn có thể thay đổi.", "This day is not closed yet: the report may still change.";
    later_note: "Có giao dịch ghi sau ngày khóa sổ với ngày giá trị trước hoặc bằng ngày báo cáo (không tính vào báo cáo này):", "Transactions recorded after the close with a value date on or before the report date (not counted here):";
    transactions: "giao dịch", "transactions";
    loans_word: "khoản vay", "loans";
    earliest: "sớm nhất", "earliest";
    date: "Ngày báo cáo", "Report date";
    from: "Từ ngày (kỳ)", "Period from";
    show: "Xem", "Show";
    by_group: "Dư nợ theo nhóm nợ", "Outstanding by debt group";
    group: "Nhóm nợ", "Debt group";
    loans: "Số khoản vay", "Loans";
    principal: "Dư nợ gốc", "Outstanding principal";
    specific: "Dự phòng cụ thể", "Specific provision";
    general: "Dự phòng chung", "General provision";
    total: "Tổng cộng", "Total";
    bad_debt: "Nợ xấu (nhóm 3-5)", "Bad debt (groups 3-5)";
    bad_ratio: "Tỷ lệ nợ xấu", "Bad-debt ratio";
    aging: "Tuổi nợ theo số ngày quá hạn", "Aging by days past due";
    band: "Số ngày quá hạn", "Days past due";
    current: "Trong hạn", "Current";
    trend: "Xu hướng PAR cuối tháng", "PAR at month ends";
    month_end: "Cuối tháng", "Month end";
    flows: "Giải ngân và thu nợ trong kỳ", "Disbursements and collections in the period";
    by: "Theo", "By";
    district: "Huyện", "District";
    kind: "Loại hình", "Kind";
    product: "Sản phẩm", "Product";
    name: "Tên", "Name";
    loans_disbursed: "Khoản giải ngân", "Loans disbursed";
    disbursed: "Giải ngân", "Disbursed";
    principal_collected: "Thu gốc", "Principal collected";
    interest_collected: "Thu lãi", "Interest collected";
    no_flows: "Không có giải ngân hay thu nợ trong kỳ.", "No disbursement or collection in the period.";
    exposures: "Dư nợ lớn nhất so với giới hạn", "Largest exposures against the limits";
    charter_capital: "Vốn điều lệ", "Charter capital";
    scope: "Phạm vi", "Scope";
    single: "Một khách hàng (≤ 15%)", "One customer (≤ 15%)";
    related: "Nhóm liên quan (≤ 25%)", "Related group (≤ 25%)";
    share: "% vốn điều lệ", "% of charter capital";
    above: "Vượt giới hạn", "Above the limit";
    yes: "Có", "Yes";
    no: "Không", "No";
    write_offs: "Xóa nợ và thu hồi trong kỳ", "Write-offs and recoveries in the period";
    written_off_loans: "Số khoản xóa nợ", "Loans written off";
    written_off: "Gốc đã xóa", "Principal written off";
    recovered: "Đã thu hồi", "Recovered";
    follow_up: "Đang theo dõi ngoại bảng", "Under follow-up (off balance)";
    ledger_check: "Đối chiếu: dư nợ gốc trên sổ cái (12831 + 12832)", "Check: principal in the books (12831 + 12832)";
    lending_title: "Báo cáo tình hình cho vay", "Lending report";
    lending_intro: "Theo Nghị định 45/2021 Điều 34, 44 và Thông tư 52/2022 Phụ lục 1a; kỳ báo cáo 6 tháng (30/6) và năm (31/12).", "Under Decree 45/2021 Art 34 and 44 and Circular 52/2022 Appendix 1a; half-year (30/6) and annual (31/12) cut-offs.";
    year: "Năm", "Year";
    period: "Kỳ", "Period";
    h1: "6 tháng đầu năm", "First half";
    h2: "6 tháng cuối năm", "Second half";
    whole_year: "Cả năm", "Whole year";
    number: "STT", "No.";
    indicator: "Chỉ tiêu", "Indicator";
    unit: "Đơn vị tính", "Unit";
    value: "Số liệu", "Figure";
    reconciliation: "Đối chiếu với sổ cái tại ngày khóa", "Reconciliation with the books at the cut-off";
    report_figure: "Báo cáo", "Report";
    ledger_figure: "Sổ cái", "Books";
    reconciles: "Khớp với sổ cái.", "Agrees with the books.";
    differs: "KHÔNG khớp với sổ cái.", "Does NOT agree with the books.";
    print: "In trang này bằng lệnh In của trình duyệt.", "Print this page with the browser's Print command.";
    prepared: "Người lập biểu", "Prepared by";
    chief_accountant: "Kế toán trưởng", "Chief accountant";
    director: "Giám đốc", "Director";
}

/// A report's date, period or year as typed and the download asked for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    date: String,
    from: String,
    format: String,
    year: String,
    period: String,
}

/// `/audit/reports`.
#[derive(Template)]
#[template(path = "audit_reports.html")]
pub struct ReportPage {
    pub shell: Shell,
    pub r: &'static ReportText,
    pub report: crate::http::dto::reports_as_of::AsOfReport,
    pub date_value: String,
    pub from_value: String,
    pub groups_chart: BarChart,
    pub aging_chart: BarChart,
    pub trend_chart: TrendChart,
    pub exports: Exports,
}

impl ReportPage {
    /// A percentage for people: `3,25 %` (vi) / `3.25 %` (en); `–` when none.
    pub fn percent(&self, value: &Option<rust_decimal::Decimal>) -> String {
        percent_text(*value, self.shell.lang)
    }

    /// The name of an aging band.
    pub fn band(&self, code: &str) -> String {
        if code == "current" {
            self.r.current.to_string()
        } else {
            code.to_string()
        }
    }

    /// The name of a flow's dimension.
    pub fn dimension(&self, code: &str) -> &'static str {
        match code {
            "district" => self.r.district,
            "cooperative_kind" => self.r.kind,
            _ => self.r.product,
        }
    }

    /// Whether the flow is the first of its dimension (a heading row).
    pub fn label_of(&self, flow: &crate::http::dto::reports_as_of::FlowView) -> String {
        if flow.dimension == "cooperative_kind" {
            self.shell.label(&flow.label)
        } else {
            flow.label.clone()
        }
    }
}

fn percent_text(value: Option<rust_decimal::Decimal>, lang: Lang) -> String {
    match value {
        None => "–".into(),
        Some(v) => match lang {
            Lang::Vi => format!("{} %", v.to_string().replace('.', ",")),
            Lang::En => format!("{v} %"),
        },
    }
}

/// `GET /audit/reports?date=&from=&format=`: every report of issue 11 item 2 as of a day, with
/// charts; `format=csv|xlsx` downloads it (one sheet per section).
pub async fn reports(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<ReportQuery>,
) -> Response {
    use crate::app::reports_as_of::{report_as_of, AsOfRequest};
    use crate::http::dto::reports_as_of::AsOfReport;
    user.answer(&state, async {
        let request = AsOfRequest {
            date: opt_date("date", &query.date)?,
            from: opt_date("from", &query.from)?,
            trend_months: None,
        };
        let download = download_of(&query.format)?;
        let report = AsOfReport::from(&report_as_of(&state.ctx, &user.caller, request).await?);
        if let Some(format) = download {
            return Ok(sheets::json_or_sheets(format, report));
        }
        let r = ReportText::of(user.lang);
        let shell = user.shell(&state, r.title).await;
        let lang = user.lang;
        let show = |v: &Vnd| format::vnd_of(v, lang);
        let groups_chart = BarChart::of(
            r.by_group,
            &report
                .groups
                .iter()
                .map(|g| {
                    (
                        format!("{}", g.debt_group),
                        g.outstanding_principal_vnd,
                        g.debt_group >= 3,
                    )
                })
                .collect::<Vec<_>>(),
            show,
        );
        let aging_chart = BarChart::of(
            r.aging,
            &report
                .aging
                .iter()
                .map(|l| {
                    (
                        if l.band == "current" {
                            r.current.to_string()
                        } else {
                            l.band.clone()
                        },
                        l.outstanding_principal_vnd,
                        l.band != "current" && l.band != "1-9",
                    )
                })
                .collect::<Vec<_>>(),
            show,
        );
        let trend_chart = TrendChart::of(
            r.trend,
            &report
                .trend
                .iter()
                .map(|t| (t.date, t.par10_percent, t.par30_percent))
                .collect::<Vec<_>>(),
        );
        let (date_value, from_value) = (report.date.to_string(), report.from.to_string());
        Ok(render(&ReportPage {
            shell,
            r,
            exports: Exports::of(
                "/audit/reports",
                &[("date", date_value.as_str()), ("from", from_value.as_str())],
                lang,
            ),
            date_value,
            from_value,
            groups_chart,
            aging_chart,
            trend_chart,
            report,
        }))
    })
    .await
}

/// `/audit/lending`.
#[derive(Template)]
#[template(path = "audit_lending.html")]
pub struct LendingPage {
    pub shell: Shell,
    pub r: &'static ReportText,
    pub report: crate::http::dto::reports_as_of::LendingReportView,
    pub rows: Vec<(String, String, String, String)>,
    pub year_value: String,
    pub period: String,
    pub exports: Exports,
}

impl LendingPage {
    /// Whether `period` is the one shown (the selected option).
    pub fn is_period(&self, period: &str) -> bool {
        self.period == period
    }
}

/// `GET /audit/lending?year=&period=&format=`: the lending report (Appendix 1a), printable, with
/// its reconciliation with the books; `format=csv|xlsx` downloads it.
pub async fn lending(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<ReportQuery>,
) -> Response {
    use crate::app::reports_as_of::{lending_report, LendingPeriod};
    use crate::http::dto::reports_as_of::LendingReportView;
    user.answer(&state, async {
        let year = opt_year("year", &query.year)?;
        let period = match query.period.trim() {
            "" => None,
            text => Some(LendingPeriod::parse(text)?),
        };
        let download = download_of(&query.format)?;
        let report =
            LendingReportView::from(&lending_report(&state.ctx, &user.caller, year, period).await?);
        if let Some(format) = download {
            return Ok(sheets::json_or_sheets(format, report));
        }
        let r = ReportText::of(user.lang);
        let lang = user.lang;
        let rows = report
            .appendix()
            .into_iter()
            .map(|row| {
                let value = match &row.value {
                    Cell::Vnd(v) => format::vnd(*v, lang),
                    Cell::Int(v) => v.to_string(),
                    Cell::Decimal(d) => percent_text(Some(*d), lang),
                    Cell::Text(t) => t.clone(),
                    _ => String::new(),
                };
                let label = match lang {
                    Lang::Vi => row.label_vi,
                    Lang::En => row.label_en,
                };
                (row.number.to_string(), label, row.unit.to_string(), value)
            })
            .collect();
        let (year_value, period) = (report.year.to_string(), report.period.clone());
        let exports = Exports {
            note: Some(r.print),
            ..Exports::of(
                "/audit/lending",
                &[("year", year_value.as_str()), ("period", period.as_str())],
                lang,
            )
        };
        Ok(render(&LendingPage {
            shell: user.shell(&state, r.lending_title).await,
            r,
            exports,
            rows,
            year_value,
            period,
            report,
        }))
    })
    .await
}

crate::texts! {
    TargetText, TARGET_VI, TARGET_EN;
    title: "Đóng góp của Quỹ cho mục tiêu Nghị quyết về kinh tế tập thể", "The fund's contribution to the resolution's targets on collective economy";
    intro: "Mục tiêu đến 2025: ít nhất 350 HTX và 2 liên hiệp HTX, khoảng 70% nông nghiệp, bình quân ít nhất 15 thành viên/HTX, 75% xếp loại tốt, khá.", "Targets by 2025: at least 350 cooperatives and 2 unions, about 70% agricultural, at least 15 members per cooperative on average, 75% rated good or fairly good.";
    from_year: "Từ năm", "From year";
    to_year: "Đến năm", "To year";
    year: "Năm", "Year";
    district: "Huyện", "District";
    province: "Toàn tỉnh", "Province";
    financed: "HTX được vay", "Cooperatives financed";
    new_repeat: "Lần đầu / vay lại", "New / repeat";
    unions: "Liên hiệp HTX", "Unions";
    agricultural: "Nông nghiệp", "Agricultural";
    members: "Thành viên", "Members";
    per_borrower: "Bình quân thành viên", "Members each";
    ocop: "Khoản vay HTX OCOP", "Loans to OCOP cooperatives";
    disbursed: "Giải ngân", "Disbursed";
    per_member: "Vốn/thành viên", "Capital per member";
    rated_good: "Tốt, khá", "Good or fairly good";
}

/// The targets report's years as typed and the download asked for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TargetsQueryText {
    from_year: String,
    to_year: String,
    format: String,
}

/// `/audit/targets`.
#[derive(Template)]
#[template(path = "audit_targets.html")]
pub struct TargetsPage {
    pub shell: Shell,
    pub t: &'static TargetText,
    pub report: crate::http::dto::reports_as_of::TargetsReport,
    pub exports: Exports,
}

impl TargetsPage {
    /// A percentage for people.
    pub fn percent(&self, value: &Option<rust_decimal::Decimal>) -> String {
        percent_text(*value, self.shell.lang)
    }

    /// An optional amount.
    pub fn opt_vnd(&self, value: &Option<Vnd>) -> String {
        value.map_or_else(|| "–".into(), |v| self.shell.vnd(&v))
    }
}

/// `GET /audit/targets?from_year=&to_year=&format=`: the resolution's targets report.
pub async fn targets(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<TargetsQueryText>,
) -> Response {
    user.answer(&state, async {
        let download = download_of(&query.format)?;
        let report = crate::http::routes::reports::targets_report(
            &state,
            &user.caller,
            opt_year("from_year", &query.from_year)?,
            opt_year("to_year", &query.to_year)?,
        )
        .await?;
        if let Some(format) = download {
            return Ok(sheets::json_or_sheets(format, report));
        }
        let t = TargetText::of(user.lang);
        let (from, to) = (report.from_year.to_string(), report.to_year.to_string());
        Ok(render(&TargetsPage {
            shell: user.shell(&state, t.title).await,
            t,
            exports: Exports::of(
                "/audit/targets",
                &[("from_year", from.as_str()), ("to_year", to.as_str())],
                user.lang,
            ),
            report,
        }))
    })
    .await
}
