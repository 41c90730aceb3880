//! The accountant's bank statement pages (issue 12): `/bank-statements` (the statements, and a form to
//! import a file), `/bank-statements/{id}` (the review: every line with its proposal, reason and
//! confidence, the payoff of the proposed loan, the reconciliation against 1121), and the decisions —
//! confirm all proposed or the ticked lines, confirm one line (as proposed, reassigned to another loan,
//! or split across loans), mark a line "not a repayment" with a reason.
//!
//! Every handler calls the same use case as the API ([`crate::app::bank_statements`]). Decisions are
//! post/redirect/get: the result is shown on the review page, so a reload never confirms again (and
//! a confirmation repeated anyway posts nothing: the use case is idempotent on the line).
//!
//! The import form is `multipart/form-data`, which the site's CSRF middleware (URL-encoded forms,
//! 64 KiB) does not read: its route is outside that layer and checks the `csrf` part itself, before
//! the file is read.
//!
//! The strings of these pages are in [`BANK_VI`] / [`BANK_EN`] below (the same pairs-per-language
//! pattern as [`super::text`], kept here so the pages of this issue stay in their own file).

use askama::Template;
use axum::{
    extract::{Multipart, Path, State},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Router,
};

use super::form::{FormPairs, PageQuery};
use super::{form, format, Shell, WebUser};
use crate::{
    app::bank_statements::{
        self,
        confirm::{self, BulkConfirmInput, ConfirmInput, RejectInput},
        import::{self, ImportQuery},
        reconcile::{self, Reconciliation},
        LineStatus, LineView, Split, StatementView,
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Lang, Localized},
    state::AppState,
};

/// The fixed strings of the bank statement pages in one language.
#[allow(missing_docs)]
pub struct BankText {
    pub nav: &'static str,
    pub title: &'static str,
    pub import_title: &'static str,
    pub import_hint: &'static str,
    pub file: &'static str,
    pub format: &'static str,
    pub profile: &'static str,
    pub profile_hint: &'static str,
    pub account: &'static str,
    pub account_hint: &'static str,
    pub import_button: &'static str,
    pub none_yet: &'static str,
    pub period: &'static str,
    pub lines: &'static str,
    pub new_lines: &'static str,
    pub imported_at: &'static str,
    pub review: &'static str,
    pub opening: &'static str,
    pub closing: &'static str,
    pub bank: &'static str,
    pub ledger: &'static str,
    pub difference: &'static str,
    pub reconciliation: &'static str,
    pub reconciled: &'static str,
    pub not_reconciled: &'static str,
    pub unexplained: &'static str,
    pub unposted_lines: &'static str,
    pub postings_without_line: &'static str,
    pub confirm_all: &'static str,
    pub confirm_selected: &'static str,
    pub confirm: &'static str,
    pub other_choices: &'static str,
    pub reassign_label: &'static str,
    pub reassign_hint: &'static str,
    pub confirm_to: &'static str,
    pub reject_label: &'static str,
    pub reject: &'static str,
    pub date: &'static str,
    pub value_date: &'static str,
    pub description: &'static str,
    pub amount: &'static str,
    pub proposal: &'static str,
    pub status: &'static str,
    pub payoff: &'static str,
    pub above_payoff: &'static str,
    pub select: &'static str,
    pub done: &'static str,
    pub refused: &'static str,
    pub counterparty: &'static str,
    pub bank_id: &'static str,
    pub posted_as: &'static str,
    pub confidence: &'static str,
}

/// Tiếng Việt.
pub static BANK_VI: BankText = BankText {
    nav: "Sao kê ngân hàng",
    title: "Sao kê ngân hàng",
    import_title: "Nhập sao kê",
    import_hint: "Tệp xuất từ internet banking: CSV hoặc XLSX (chọn hồ sơ ngân hàng), camt.053 (XML) hoặc MT940. Nhập lại cùng một tệp không thêm gì.",
    file: "Tệp sao kê",
    format: "Định dạng",
    profile: "Hồ sơ ngân hàng",
    profile_hint: "Chỉ cho CSV/XLSX: cột nào là ngày, ghi có, nội dung…",
    account: "Số tài khoản của Quỹ",
    account_hint: "Bắt buộc với CSV/XLSX; camt.053 và MT940 tự ghi.",
    import_button: "Nhập sao kê",
    none_yet: "Chưa nhập sao kê nào.",
    period: "Kỳ sao kê",
    lines: "Số dòng",
    new_lines: "Dòng mới",
    imported_at: "Nhập lúc",
    review: "Đối chiếu",
    opening: "Số dư đầu kỳ",
    closing: "Số dư cuối kỳ",
    bank: "Ngân hàng",
    ledger: "Sổ sách (TK 1121)",
    difference: "Chênh lệch",
    reconciliation: "Đối chiếu với tài khoản 1121",
    reconciled: "Khớp đến từng đồng.",
    not_reconciled: "Chưa khớp: chênh lệch được giải thích bên dưới.",
    unexplained: "Chênh lệch chưa giải thích",
    unposted_lines: "Dòng sao kê chưa hạch toán",
    postings_without_line: "Bút toán TK 1121 không có dòng sao kê",
    confirm_all: "Xác nhận tất cả dòng đã khớp",
    confirm_selected: "Xác nhận các dòng đã chọn",
    confirm: "Xác nhận",
    other_choices: "Khác…",
    reassign_label: "Gán cho khoản vay (hoặc chia)",
    reassign_hint: "Một số khoản vay, hoặc nhiều dòng «số khoản vay số tiền», ví dụ: HTX-2026-000123 1.000.000; HTX-2026-000124 500.000",
    confirm_to: "Xác nhận theo phương án này",
    reject_label: "Không phải trả nợ — lý do",
    reject: "Không phải trả nợ",
    date: "Ngày",
    value_date: "Ngày hiệu lực",
    description: "Nội dung",
    amount: "Số tiền",
    proposal: "Đề xuất",
    status: "Trạng thái",
    payoff: "Tất toán",
    above_payoff: "Vượt số tiền tất toán: không hạch toán",
    select: "Chọn",
    done: "Đã xử lý",
    refused: "Không xử lý được",
    counterparty: "Người chuyển",
    bank_id: "Mã giao dịch",
    posted_as: "Đã hạch toán",
    confidence: "độ tin cậy",
};

/// English.
pub static BANK_EN: BankText = BankText {
    nav: "Bank statements",
    title: "Bank statements",
    import_title: "Import a statement",
    import_hint: "A file exported from internet banking: CSV or XLSX (choose the bank's profile), camt.053 (XML) or MT940. Importing the same file again adds nothing.",
    file: "Statement file",
    format: "Format",
    profile: "Bank profile",
    profile_hint: "CSV/XLSX only: which column is the date, the credit, the message…",
    account: "The fund's account number",
    account_hint: "Required for CSV/XLSX; camt.053 and MT940 carry it.",
    import_button: "Import",
    none_yet: "No statement imported yet.",
    period: "Period",
    lines: "Lines",
    new_lines: "New lines",
    imported_at: "Imported",
    review: "Review",
    opening: "Opening balance",
    closing: "Closing balance",
    bank: "Bank",
    ledger: "Books (account 1121)",
    difference: "Difference",
    reconciliation: "Reconciliation with account 1121",
    reconciled: "Reconciled to the đồng.",
    not_reconciled: "Not reconciled: the difference is explained below.",
    unexplained: "Unexplained difference",
    unposted_lines: "Bank lines not posted",
    postings_without_line: "1121 postings with no bank line",
    confirm_all: "Confirm all matched lines",
    confirm_selected: "Confirm the selected lines",
    confirm: "Confirm",
    other_choices: "Other…",
    reassign_label: "Post to loan (or split)",
    reassign_hint: "A loan number, or several «loan number amount», e.g. HTX-2026-000123 1,000,000; HTX-2026-000124 500,000",
    confirm_to: "Confirm this way",
    reject_label: "Not a repayment — reason",
    reject: "Not a repayment",
    date: "Date",
    value_date: "Value date",
    description: "Message",
    amount: "Amount",
    proposal: "Proposal",
    status: "Status",
    payoff: "Payoff",
    above_payoff: "Above the payoff: not posted",
    select: "Select",
    done: "Done",
    refused: "Could not be done",
    counterparty: "Payer",
    bank_id: "Bank id",
    posted_as: "Posted",
    confidence: "confidence",
};

/// The strings of `lang`.
pub fn bank_text(lang: Lang) -> &'static BankText {
    match lang {
        Lang::Vi => &BANK_VI,
        Lang::En => &BANK_EN,
    }
}

/// The name of a line status or match reason.
pub fn bank_label(code: &str, lang: Lang) -> String {
    let pair = match code {
        "proposed" => ("Đã khớp, chờ xác nhận", "Matched, to confirm"),
        "ambiguous" => ("Nhiều khả năng", "Ambiguous"),
        "unmatched" => ("Chưa khớp", "Unmatched"),
        "awaiting_second" => ("Chờ kế toán thứ hai", "Awaiting a second accountant"),
        "posting" => ("Đang hạch toán", "Posting"),
        "posted" => ("Đã hạch toán", "Posted"),
        "rejected" => ("Không phải trả nợ", "Not a repayment"),
        "credit" => ("Ghi có", "Credit"),
        "debit" => ("Ghi nợ", "Debit"),
        "loan_number" => ("số khoản vay trong nội dung", "loan number in the message"),
        "loan_number_then_digits" => (
            "số khoản vay (có số theo sau)",
            "loan number (digits follow)",
        ),
        "loan_number_truncated" => ("số khoản vay bị cắt", "loan number cut short"),
        "account_and_amount_due" => (
            "tài khoản của HTX và số tiền đến hạn",
            "cooperative's account and amount due",
        ),
        "disbursement_amount_date" => (
            "giải ngân cùng số tiền, cùng ngày",
            "disbursement of that amount and date",
        ),
        "disbursement_amount_date_reference" => (
            "giải ngân cùng số tiền, ngày và số chứng từ",
            "disbursement of that amount, date and reference",
        ),
        "several_loan_numbers" => ("có nhiều số khoản vay", "several loan numbers"),
        "several_loans_due_this_amount" => (
            "nhiều khoản vay đến hạn số tiền này",
            "several loans due this amount",
        ),
        "several_disbursements" => (
            "nhiều lần giải ngân cùng số tiền",
            "several disbursements of this amount",
        ),
        "loan_not_active" => ("khoản vay không còn hoạt động", "the loan is not active"),
        "account_known_amount_not_due" => (
            "tài khoản đã biết, số tiền không khớp kỳ nào",
            "known account, amount not due",
        ),
        "no_loan_number_or_known_account" => (
            "không có số khoản vay hay tài khoản đã đăng ký",
            "no loan number or registered account",
        ),
        "no_disbursement_of_this_amount_and_date" => (
            "không có lần giải ngân nào khớp",
            "no matching disbursement",
        ),
        other => return other.to_string(),
    };
    match lang {
        Lang::Vi => pair.0.to_string(),
        Lang::En => pair.1.to_string(),
    }
}

/// The routes of these pages that take URL-encoded forms (inside the site's CSRF layer).
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/bank-statements", axum::routing::get(list))
        .route("/bank-statements/{id}", axum::routing::get(show))
        .route("/bank-statements/{id}/confirm", post(confirm_many))
        .route("/bank-statement-lines/{id}/confirm", post(confirm_one))
        .route("/bank-statement-lines/{id}/reject", post(reject_one))
}

/// The import route (multipart; its own CSRF check and the site's security headers).
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .route("/bank-statements/import", post(upload))
        .layer(middleware::from_fn(super::security_headers))
}

fn id_of(text: &str) -> AppResult<i64> {
    super::path_id(text, "sao kê", "Bank statement")
}

// ----- the list and the import form -----

/// `/bank-statements`.
#[derive(Template)]
#[template(path = "bank_statements.html")]
pub struct StatementsPage {
    pub shell: Shell,
    pub b: &'static BankText,
    pub statements: Vec<StatementView>,
    pub profiles: Vec<(String, String)>,
    pub can_import: bool,
    pub error: Option<String>,
}

impl StatementsPage {
    /// `from – to`.
    pub fn period(&self, s: &StatementView) -> String {
        format!(
            "{} – {}",
            self.shell.opt_date(&s.period_from),
            self.shell.opt_date(&s.period_to)
        )
    }
}

async fn statements_page(
    state: &AppState,
    user: &WebUser,
    error: Option<String>,
) -> AppResult<StatementsPage> {
    let statements = bank_statements::list(&state.db, &user.caller, Default::default()).await?;
    let b = bank_text(user.lang);
    Ok(StatementsPage {
        shell: user.shell(state, b.title).await,
        b,
        statements,
        profiles: state
            .settings
            .bank_statements
            .profiles
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    format!("{} ({})", p.bank_name, p.format.to_uppercase()),
                )
            })
            .collect(),
        can_import: matches!(user.caller.role(), Role::Accountant | Role::Admin),
        error,
    })
}

/// `GET /bank-statements` (accountants, admins, auditors).
pub async fn list(State(state): State<AppState>, user: WebUser) -> Response {
    user.page(&state, statements_page(&state, &user, None))
        .await
}

/// `POST /bank-statements/import` (multipart: `csrf` first, then `format`, `profile`, `account`, `file`).
pub async fn upload(
    State(state): State<AppState>,
    user: WebUser,
    headers: axum::http::HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let upload = match super::form::upload(&headers, &mut multipart, "statement import").await {
        Ok(upload) => upload,
        Err(refused) => return refused,
    };
    if upload.too_large {
        let err = AppError::new(
            ErrorKind::PayloadTooLarge,
            "payload_too_large",
            Localized::new("Tệp quá lớn.", "The file is too large."),
        );
        return failed_import(&state, &user, err).await;
    }
    let (file_name, bytes) = &upload.file;
    let query = ImportQuery {
        format: upload.field("format"),
        profile: upload.field("profile").filter(|p| !p.is_empty()),
        account: upload.field("account").filter(|a| !a.trim().is_empty()),
        file_name: Some(file_name.clone()).filter(|n| !n.is_empty()),
    };
    let outcome = import::import(&state.ctx, &user.caller, query, bytes).await;
    match outcome {
        Ok(outcome) => Redirect::to(&format!(
            "/bank-statements/{}?imported={}",
            outcome.statement.id, outcome.new_lines
        ))
        .into_response(),
        Err(err) => failed_import(&state, &user, err).await,
    }
}

async fn failed_import(state: &AppState, user: &WebUser, err: AppError) -> Response {
    if matches!(err.kind, ErrorKind::Forbidden | ErrorKind::Internal) {
        return user.fail(state, err).await;
    }
    let status = crate::http::error::status_of(err.kind);
    user.page_with(
        state,
        status,
        statements_page(state, user, Some(err.message.get(user.lang).to_string())),
    )
    .await
}

// ----- the review -----

/// `/bank-statements/{id}`.
#[derive(Template)]
#[template(path = "bank_statement.html")]
pub struct StatementPage {
    pub shell: Shell,
    pub b: &'static BankText,
    pub statement: StatementView,
    pub lines: Vec<LineView>,
    pub reconciliation: Reconciliation,
    pub can_decide: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl StatementPage {
    /// A status or reason in the page's language.
    pub fn bl(&self, code: &str) -> String {
        bank_label(code, self.shell.lang)
    }

    /// An amount that may be absent.
    pub fn opt_vnd(&self, amount: &Option<i64>) -> String {
        amount
            .map(|a| format::vnd(a, self.shell.lang))
            .unwrap_or_else(|| "–".into())
    }

    /// Whether an open credit is above the payoff of its proposed loan.
    pub fn above_payoff(&self, line: &LineView) -> bool {
        line.is_open() && line.payoff_vnd.is_some_and(|p| line.amount_vnd > p)
    }

    /// Whether the line can still be decided.
    pub fn open(&self, line: &LineView) -> bool {
        self.can_decide && line.is_open()
    }

    /// How many lines "confirm all" would take.
    pub fn proposed_count(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.status, LineStatus::Proposed | LineStatus::AwaitingSecond))
            .count()
    }
}

/// The review page's query as typed (what was just done, for its notice).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    imported: String,
    done: String,
    refused: String,
    error: String,
}

async fn statement_page(
    state: &AppState,
    user: &WebUser,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<StatementPage> {
    let detail = bank_statements::get(&state.ctx, &user.caller, id).await?;
    let reconciliation = reconcile::reconcile(&state.db, &user.caller, id).await?;
    let b = bank_text(user.lang);
    let title = format!("{} #{}", b.title, detail.statement.id);
    Ok(StatementPage {
        shell: user.shell(state, &title).await,
        b,
        statement: detail.statement,
        lines: detail.lines,
        reconciliation,
        can_decide: user.caller.role() == Role::Accountant,
        notice,
        error,
    })
}

/// `GET /bank-statements/{id}`: the review page.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    PageQuery(query): PageQuery<ShowQuery>,
) -> Response {
    let lang = user.lang;
    let mut notice = None;
    if !query.imported.is_empty() {
        notice = Some(Localized::new(
            format!("Đã nhập sao kê: {} dòng mới.", query.imported),
            format!("Statement imported: {} new lines.", query.imported),
        ));
    } else if !query.done.is_empty() || !query.refused.is_empty() {
        notice = Some(Localized::new(
            format!(
                "Đã xử lý {} dòng; không xử lý được {} dòng.",
                query.done.parse::<i64>().unwrap_or(0),
                query.refused.parse::<i64>().unwrap_or(0)
            ),
            format!(
                "{} lines done; {} could not be done.",
                query.done.parse::<i64>().unwrap_or(0),
                query.refused.parse::<i64>().unwrap_or(0)
            ),
        ));
    }
    let error = Some(query.error).filter(|e| !e.is_empty());
    user.page(&state, async {
        statement_page(
            &state,
            &user,
            id_of(&id)?,
            notice.map(|n| n.get(lang).to_string()),
            error,
        )
        .await
    })
    .await
}

/// Back to the review with what happened (post/redirect/get).
fn back(statement_id: i64, done: i64, refused: i64, error: Option<String>) -> Response {
    let mut pairs = vec![("done", done.to_string()), ("refused", refused.to_string())];
    if let Some(error) = error {
        pairs.push(("error", error));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    Redirect::to(&format!("/bank-statements/{statement_id}?{query}#lines")).into_response()
}

/// `POST /bank-statements/{id}/confirm`: `line_id` repeated (the ticked lines), or none for all
/// proposed lines above the configured confidence.
pub async fn confirm_many(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    FormPairs(pairs): FormPairs,
) -> Response {
    let ids: Vec<i64> = form::all(&pairs, "line_id")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let all = form::all(&pairs, "all").iter().any(|v| v == "1");
    let id = match id_of(&id) {
        Ok(id) => id,
        Err(err) => return user.fail(&state, err).await,
    };
    if !all && ids.is_empty() {
        let message = Localized::new(
            "Chưa chọn dòng nào: đánh dấu các dòng cần xác nhận, hoặc bấm «Xác nhận tất cả».",
            "No line selected: tick the lines to confirm, or use «Confirm all».",
        );
        return back(id, 0, 0, Some(message.get(user.lang).to_string()));
    }
    let input = BulkConfirmInput {
        line_ids: if all { None } else { Some(ids) },
    };
    match confirm::confirm_statement(&state.ctx, &user.caller, id, input).await {
        Ok(outcome) => {
            let first_error = outcome.lines.iter().find_map(|l| l.error_message.clone());
            back(id, outcome.confirmed, outcome.refused, first_error)
        }
        Err(err) if form::is_page_error(&err) => user.fail(&state, err).await,
        Err(err) => back(id, 0, 0, Some(err.message.get(user.lang).to_string())),
    }
}

/// `splits` as typed: `HTX-2026-000123` (the whole amount) or `NUMBER AMOUNT; NUMBER AMOUNT`.
async fn parse_splits(
    state: &AppState,
    user: &WebUser,
    line: &LineView,
    text: &str,
) -> AppResult<Option<Vec<Split>>> {
    let parts: Vec<&str> = text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Ok(None);
    }
    let mut splits = Vec::new();
    for part in &parts {
        let mut words = part.split_whitespace();
        let number = words.next().unwrap_or("");
        let amount_text: String = words.collect::<Vec<_>>().join("");
        let loan_id = bank_statements::loan_id_by_number(&state.db, &user.caller, number).await?;
        let amount_vnd = if amount_text.is_empty() && parts.len() == 1 {
            line.amount_vnd
        } else {
            format::parse_vnd("splits", &amount_text, user.lang)?
        };
        splits.push(Split {
            loan_id,
            amount_vnd,
        });
    }
    Ok(Some(splits))
}

/// `POST /bank-statement-lines/{id}/confirm`: as proposed, or `splits` typed in "Other…".
pub async fn confirm_one(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    FormPairs(pairs): FormPairs,
) -> Response {
    let field = |name: &str| form::first(&pairs, name);
    let result = async {
        let line = bank_statements::line(&state.ctx, &user.caller, id_of(&id)?).await?;
        let splits = match parse_splits(&state, &user, &line, &field("splits")).await {
            Ok(splits) => splits,
            Err(err) => return Ok(Err((line.statement_id, err))),
        };
        let kind = match Some(field("kind")).filter(|k| !k.is_empty()) {
            None => None,
            Some(text) => match confirm::repayment_kind(&text) {
                Ok(kind) => Some(kind),
                Err(err) => return Ok(Err((line.statement_id, err))),
            },
        };
        let done = confirm::confirm(
            &state.ctx,
            &user.caller,
            line.id,
            ConfirmInput {
                splits,
                kind,
                transaction_id: None,
            },
        )
        .await;
        Ok::<_, AppError>(match done {
            Ok(_) => Ok(line.statement_id),
            Err(err) => Err((line.statement_id, err)),
        })
    }
    .await;
    decided(&state, &user, result).await
}

async fn decided(
    state: &AppState,
    user: &WebUser,
    result: AppResult<Result<i64, (i64, AppError)>>,
) -> Response {
    match result {
        Ok(Ok(statement_id)) => back(statement_id, 1, 0, None),
        Ok(Err((_, err))) | Err(err) if form::is_page_error(&err) => user.fail(state, err).await,
        Ok(Err((statement_id, err))) => back(
            statement_id,
            0,
            1,
            Some(err.message.get(user.lang).to_string()),
        ),
        Err(err) => user.fail(state, err).await,
    }
}

/// `POST /bank-statement-lines/{id}/reject` with `reason`.
pub async fn reject_one(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    FormPairs(pairs): FormPairs,
) -> Response {
    let reason = form::first(&pairs, "reason");
    let result = async {
        let line = bank_statements::line(&state.ctx, &user.caller, id_of(&id)?).await?;
        let done = confirm::reject(&state.ctx, &user.caller, line.id, RejectInput { reason }).await;
        Ok::<_, AppError>(match done {
            Ok(_) => Ok(line.statement_id),
            Err(err) => Err((line.statement_id, err)),
        })
    }
    .await;
    decided(&state, &user, result).await
}
