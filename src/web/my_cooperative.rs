//! The cooperative's own pages (issue 10): what a chair or accountant of a cooperative, often on a
//! phone and rarely a finance person, needs from the fund.
//!
//! - `/home` (for a cooperative, delegated here by [`super::dashboard::home`]): each loan with what
//!   is due next by component, its days past due in plain words ("đúng hạn", "quá hạn 12 ngày"), and
//!   the next-payment panel: a VietQR code to scan ([`payment_qr::payment_qr`], the API's use case)
//!   with the transfer details written out; the officer to contact; the applications.
//! - `/my/loans/{id}`: the loan with the same panel, every amount owed with a "Cách tính?" link to
//!   the explanation (`/loans/{id}/explain#<field>`), the schedule (paid / due / overdue), the
//!   payment history with each payment's allocation, and a statement for any period.
//! - `/my/loans/{id}/statement?from=&to=`: the printable statement (A4 print stylesheet): the fund,
//!   the loan, the period, opening and closing balances and every movement
//!   ([`loans::statement_for_period`]).
//! - `/my/applications`, `/my/applications/new`, `/my/applications/{id}`: applying online. The form
//!   previews the schedule from the product's terms as the user types (htmx posts the form with
//!   `action=preview` and swaps `#preview`; without JavaScript the "Xem lịch trả nợ" button does the
//!   same), saves a draft ([`applications::create`]), then the draft's page takes supporting
//!   documents (multipart, outside the URL-encoded CSRF layer: the token is checked here, first
//!   field; up to the 5 MB document limit, past `server.body_limit_bytes`: see [`upload_router`])
//!   and is submitted ([`applications::submit`]), which puts it in the officer's queue.
//! - `/my/applications/{id}/edit`: until it is submitted, the draft opens in the same form (same
//!   checks next to each field, what was typed kept, the schedule preview) and is saved by
//!   [`applications::update`], the API's `PATCH`, with the version it was opened at (a draft changed
//!   meanwhile is refused, never overwritten); `/my/applications/{id}/withdraw` withdraws an open
//!   application ([`applications::withdraw`]).
//! - `/my/applications/{id}/documents/{doc}` (and `/applications/{id}/documents/{doc}` for staff):
//!   a document, only ever as a download.
//! - `/my/notifications`: the language and recipients of the fund's mails, and the mails sent.
//!
//! Another cooperative's loan or application is the 404 page (the use cases scope every read).

use askama::Template;
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use chrono::{Datelike, NaiveDate};
use coopfund_domain::{
    ids::{ApplicationId, LoanId, ProductId},
    LoanStatus, Method, Vnd,
};
use serde::Deserialize;
use tower_http::limit::RequestBodyLimitLayer;

use super::form::{FormBody, PageQuery};
use super::{
    applications::TermsForm,
    form::{is_page_error, render_with, Errors, FieldError},
    format, render, Shell, WebUser,
};
use crate::{
    app::{
        application_documents::{self, DocumentInfo},
        applications::{self, Application, ApplicationFilter, NewApplication, NewCollateral},
        loans::{self, LoanSchedule, LoanStatementPeriod, LoanView, PayoffView, TransactionView},
        notifications::{self, NotificationChange, NotificationSettings, OfficerContact},
        outbox::OutboxMessage,
        page::PageRequest,
        payment_qr::{self, PaymentQr, PaymentQrQuery},
        products::{self, Product},
        schedule_preview::{self, PreviewRequest, PreviewResponse},
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Lang},
    state::AppState,
};

crate::texts! {
    MyText, MY_VI, MY_EN;
    welcome: "Xin chào", "Welcome";
    our_loans: "Khoản vay của HTX", "Our loans";
    no_loans: "HTX chưa có khoản vay nào.", "You have no loans yet.";
    on_time: "Đúng hạn", "On time";
    awaiting_disbursement: "Chờ giải ngân", "Awaiting disbursement";
    paid_off: "Đã tất toán", "Paid off";
    written_off: "Đã xử lý rủi ro", "Written off";
    next_payment: "Khoản cần trả tiếp theo", "Your next payment";
    pay_now: "Cần trả ngay", "To pay now";
    due_today: "Kỳ đến hạn hôm nay", "Due today";
    nothing_to_pay: "Hiện không có khoản nào cần trả.", "There is nothing to pay now.";
    due_on: "Hạn trả", "Due on";
    principal: "Tiền gốc", "Principal";
    interest: "Tiền lãi", "Interest";
    total: "Tổng cộng", "Total";
    how_computed: "Cách tính?", "How is this computed?";
    scan_to_pay: "Quét mã bằng ứng dụng ngân hàng để chuyển khoản: số tiền và nội dung đã điền sẵn.", "Scan with your banking app to pay: the amount and the message are filled in.";
    qr_alt: "Mã VietQR để chuyển khoản", "VietQR code to pay";
    transfer_details: "Hoặc chuyển khoản theo thông tin", "Or transfer with these details";
    account_name: "Chủ tài khoản", "Account name";
    account_number: "Số tài khoản", "Account number";
    bank: "Ngân hàng", "Bank";
    amount: "Số tiền", "Amount";
    transfer_message: "Nội dung chuyển khoản", "Transfer message";
    view_loan: "Xem chi tiết khoản vay", "Open the loan";
    officer_contact: "Cán bộ tín dụng phụ trách", "Your loan officer";
    no_officer: "Chưa có cán bộ phụ trách; xin gọi Quỹ.", "No officer assigned yet; please call the fund.";
    fund_phone: "Điện thoại của Quỹ", "The fund's phone";
    applications: "Hồ sơ vay của HTX", "Our applications";
    new_application: "Lập hồ sơ vay mới", "Apply for a loan";
    no_applications: "Chưa có hồ sơ vay nào.", "No applications yet.";
    status: "Trạng thái", "Status";
    dpd: "Số ngày quá hạn", "Days past due";
    outstanding: "Dư nợ gốc", "Principal outstanding";
    payoff: "Tất toán toàn bộ hôm nay", "To pay off everything today";
    overdue_principal: "Gốc quá hạn", "Overdue principal";
    unpaid_interest: "Lãi chưa trả của kỳ đã quá hạn", "Unpaid interest of overdue installments";
    overdue_interest: "Lãi quá hạn", "Overdue interest";
    late_interest: "Lãi chậm trả", "Late interest";
    current_interest: "Lãi trong hạn đến hôm nay", "Interest to date";
    restructured_interest: "Lãi đã cơ cấu", "Restructured interest";
    principal_not_due: "Gốc chưa đến hạn", "Principal not yet due";
    less_advance: "Trừ tiền trả trước", "Less advance held";
    schedule: "Lịch trả nợ", "Repayment schedule";
    seq: "Kỳ", "No.";
    paid: "Đã trả", "Paid";
    history: "Lịch sử thanh toán", "Payment history";
    no_history: "Chưa có giao dịch nào.", "No payments yet.";
    date: "Ngày", "Date";
    kind: "Loại", "Kind";
    allocation: "Đã trừ vào", "Applied to";
    advance: "Giữ làm tiền trả trước", "Held as an advance";
    statement: "Sao kê khoản vay", "Loan statement";
    statement_for: "Sao kê cho kỳ", "Statement for a period";
    from: "Từ ngày", "From";
    to: "Đến ngày", "To";
    show_statement: "Xem sao kê", "Show the statement";
    print_hint: "Dùng lệnh In của trình duyệt (Ctrl+P, hoặc Chia sẻ › In trên điện thoại) để in hoặc lưu PDF.", "Use the browser's Print (Ctrl+P, or Share › Print on a phone) to print or save as PDF.";
    period: "Kỳ sao kê", "Period";
    opening_balance: "Dư nợ gốc đầu kỳ", "Opening principal balance";
    closing_balance: "Dư nợ gốc cuối kỳ", "Closing principal balance";
    opening_advance: "Tiền trả trước đầu kỳ", "Opening advance";
    closing_advance: "Tiền trả trước cuối kỳ", "Closing advance";
    movements: "Các phát sinh trong kỳ", "Movements in the period";
    no_movements: "Không có phát sinh nào trong kỳ.", "No movement in the period.";
    disbursed: "Giải ngân", "Disbursed";
    billed: "Đến hạn", "Fell due";
    received: "Đã nhận", "Received";
    principal_paid: "Gốc đã trả", "Principal paid";
    interest_paid: "Lãi đã trả", "Interest paid";
    balance: "Dư nợ gốc", "Balance";
    period_totals: "Cộng phát sinh trong kỳ", "Totals of the period";
    printed_on: "Lập ngày", "Issued on";
    back_to_loan: "Về khoản vay", "Back to the loan";
    line_disbursement: "Giải ngân", "Disbursement";
    line_installment_due: "Kỳ đến hạn", "Installment due";
    line_advance_applied: "Trừ tiền trả trước", "Advance applied";
    line_repayment: "Trả nợ", "Payment";
    line_restructure: "Cơ cấu lại", "Restructuring";
    line_write_off: "Xử lý rủi ro", "Write-off";
    line_recovery: "Thu hồi", "Recovery";
    number: "Số hồ sơ", "Number";
    term: "Thời hạn", "Term";
    months: "tháng", "months";
    reason: "Lý do", "Reason";
    submitted_on: "Ngày nộp", "Submitted on";
    open: "Xem", "Open";
    apply_title: "Hồ sơ đề nghị vay vốn", "Loan application";
    product: "Sản phẩm vay", "Loan product";
    amount_vnd: "Số tiền đề nghị vay (đồng)", "Amount asked (đồng)";
    amount_hint: "Số nguyên đồng, ví dụ 300.000.000", "Whole đồng, e.g. 300,000,000";
    installments: "Số kỳ trả nợ", "Number of installments";
    period_months: "Mỗi kỳ", "Each installment every";
    method: "Cách trả", "How to repay";
    principal_grace: "Số kỳ ân hạn gốc (chỉ trả lãi)", "Installments of principal grace (interest only)";
    purpose: "Mục đích vay, phương án sản xuất kinh doanh", "Purpose of the loan, the business plan";
    project_total_vnd: "Tổng vốn của phương án (đồng)", "Total cost of the project (đồng)";
    own_capital_vnd: "Vốn tự có tham gia (đồng)", "Own capital put in (đồng)";
    own_capital_hint: "Ít nhất 20% tổng vốn phương án (Nghị định 45/2021 Điều 22)", "At least 20% of the project (Decree 45/2021 Art 22)";
    collateral: "Tài sản bảo đảm", "Collateral";
    collateral_hint: "Để trống dòng không dùng. Cán bộ tín dụng sẽ thẩm định giá trị.", "Leave unused lines empty. The officer appraises the values.";
    collateral_kind: "Loại tài sản", "Kind";
    collateral_description: "Mô tả (giấy tờ, vị trí…)", "Description (papers, location…)";
    collateral_value: "Giá trị ước tính (đồng)", "Estimated value (đồng)";
    kind_land: "Quyền sử dụng đất", "Land use right";
    kind_building: "Nhà xưởng, công trình", "Building";
    kind_machinery: "Máy móc, thiết bị", "Machinery";
    kind_vehicle: "Phương tiện vận tải", "Vehicle";
    kind_deposit: "Tiền gửi, giấy tờ có giá", "Deposit or securities";
    no_bad_debt: "HTX cam kết không có nợ xấu tại tổ chức tín dụng nào (Nghị định 45/2021 Điều 22).", "We declare no bad debt at any credit institution (Decree 45/2021 Art 22).";
    preview: "Lịch trả nợ dự kiến", "Expected repayment schedule";
    preview_button: "Xem lịch trả nợ", "Preview the schedule";
    preview_hint: "Nhập số tiền, số kỳ và cách trả để xem lịch trả nợ dự kiến.", "Enter the amount, the installments and how to repay to see the expected schedule.";
    preview_note: "Tính với lãi suất của sản phẩm, giả định giải ngân hôm nay; lịch chính thức lập khi giải ngân.", "At the product's rate, as if disbursed today; the real schedule is made at disbursement.";
    total_interest: "Tổng tiền lãi", "Total interest";
    save_draft: "Lưu hồ sơ nháp", "Save the draft";
    fix_errors: "Chưa lưu: hãy sửa các lỗi bên dưới.", "Not saved: please correct the errors below.";
    saved: "Đã lưu hồ sơ nháp. Hãy đính kèm tài liệu rồi bấm «Nộp hồ sơ».", "The draft is saved. Attach your documents, then press «Submit».";
    submitted: "Đã nộp hồ sơ. Cán bộ tín dụng sẽ thẩm định và liên hệ với HTX.", "The application is submitted. The loan officer will appraise it and contact you.";
    uploaded: "Đã tải lên tài liệu.", "The document was uploaded.";
    submit: "Nộp hồ sơ", "Submit";
    edit_title: "Sửa hồ sơ nháp", "Edit the draft";
    edit: "Sửa hồ sơ", "Edit";
    save_changes: "Lưu thay đổi", "Save the changes";
    cancel: "Thôi, không sửa", "Cancel";
    withdraw: "Rút hồ sơ", "Withdraw";
    withdraw_hint: "Rút hồ sơ khi HTX không cần vay nữa; hồ sơ đã rút không nộp lại được.", "Withdraw when you no longer need the loan; a withdrawn application cannot be submitted again.";
    withdraw_reason: "Lý do rút (không bắt buộc)", "Why (optional)";
    withdrawn: "Đã rút hồ sơ.", "The application is withdrawn.";
    changes_saved: "Đã lưu thay đổi của hồ sơ nháp.", "The changes to the draft are saved.";
    submit_hint: "Sau khi nộp, hồ sơ không sửa được nữa.", "Once submitted, the application cannot be changed.";
    documents: "Tài liệu kèm theo", "Supporting documents";
    no_documents: "Chưa có tài liệu nào.", "No documents yet.";
    upload: "Tải lên", "Upload";
    file: "Tệp PDF hoặc ảnh JPEG", "A PDF file or a JPEG image";
    file_hint: "Phương án kinh doanh, báo cáo tài chính, giấy tờ tài sản…", "Business plan, financial statements, property papers…";
    size: "Dung lượng", "Size";
    rate: "Lãi suất", "Rate";
    loan_created: "Khoản vay", "Loan";
    notifications: "Thông báo qua thư điện tử", "Email notifications";
    notifications_intro: "Quỹ gửi thư nhắc hạn trả nợ, thông báo quá hạn, biên nhận và kết quả hồ sơ tới các địa chỉ dưới đây.", "The fund sends payment reminders, overdue notices, receipts and decisions to the addresses below.";
    language: "Ngôn ngữ của thư", "Language of the mails";
    chair_email: "Thư điện tử của Chủ tịch/Giám đốc HTX", "Email of the chair or director";
    accountant_email: "Thư điện tử của Kế toán HTX", "Email of the accountant";
    email_hint: "Để trống nếu không có.", "Leave empty if none.";
    registered_email: "Khi không có địa chỉ nào, thư gửi tới địa chỉ đã đăng ký với Quỹ", "With no address, mails go to the address registered with the fund";
    recipients_now: "Thư đang được gửi tới", "Mails go to";
    save: "Lưu", "Save";
    settings_saved: "Đã lưu lựa chọn.", "Your choice is saved.";
    mails: "Thư Quỹ đã gửi cho HTX", "Mails the fund sent you";
    no_mails: "Chưa có thư nào.", "No mails yet.";
    subject: "Tiêu đề", "Subject";
    recipient: "Người nhận", "To";
    mail_pending: "Đang chờ gửi", "Waiting";
    mail_sending: "Đang gửi", "Sending";
    mail_sent: "Đã gửi", "Sent";
    mail_failed: "Gửi không được", "Not delivered";
}

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/my/loans/{id}", get(loan_page))
        .route("/my/loans/{id}/statement", get(statement_page))
        .route("/my/applications", get(applications_page))
        .route(
            "/my/applications/new",
            get(new_application).post(post_application),
        )
        .route("/my/applications/{id}", get(application_page))
        .route(
            "/my/applications/{id}/edit",
            get(edit_application).post(post_edit_application),
        )
        .route("/my/applications/{id}/submit", post(submit_application))
        .route("/my/applications/{id}/withdraw", post(withdraw_application))
        .route(
            "/my/applications/{id}/documents/{doc}",
            get(download_document),
        )
        // The same download for the officer and the approver (the use case scopes it).
        .route("/applications/{id}/documents/{doc}", get(download_document))
        .route(
            "/my/notifications",
            get(notifications_page).post(post_notifications),
        )
}

/// The document upload: a multipart form, outside the URL-encoded CSRF layer (checked by its
/// handler, first field), reading at most `body_limit_bytes` (the 5 MB document and the form
/// around it; merged by [`crate::http::router`], not under `server.body_limit_bytes`).
pub fn upload_router(body_limit_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/my/applications/{id}/documents", post(upload_document))
        .layer(DefaultBodyLimit::max(body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(body_limit_bytes))
        .layer(middleware::from_fn(file_too_large_page))
        .layer(middleware::from_fn(super::security_headers))
}

/// The bare 413 the body limit answers to a form declaring a larger body becomes a page saying
/// the file is over 5 MB, in the page's language (the handler explains a body cut off while read).
async fn file_too_large_page(request: axum::extract::Request, next: middleware::Next) -> Response {
    let lang = super::lang_of(request.headers());
    let response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_page {
        return response;
    }
    super::error_page(None, lang, &application_documents::too_large())
}

fn loan_id(text: &str) -> AppResult<i64> {
    super::path_id(text, "khoản vay", "Loan")
}

fn application_id(text: &str) -> AppResult<i64> {
    super::path_id(text, "hồ sơ vay", "Loan application")
}

/// The loan's state in plain words: "Đúng hạn", "Quá hạn 12 ngày", "Chờ giải ngân", "Đã tất toán".
pub fn plain_status(loan: &LoanView, lang: Lang) -> String {
    let m = MyText::of(lang);
    match loan.status {
        LoanStatus::Approved | LoanStatus::ContractSigned => m.awaiting_disbursement.into(),
        LoanStatus::Closed => m.paid_off.into(),
        LoanStatus::WrittenOff | LoanStatus::Recovered => m.written_off.into(),
        LoanStatus::Active if loan.dpd > 0 => match lang {
            Lang::Vi => format!("Quá hạn {} ngày", loan.dpd),
            Lang::En if loan.dpd == 1 => "1 day overdue".into(),
            Lang::En => format!("{} days overdue", loan.dpd),
        },
        LoanStatus::Active => m.on_time.into(),
    }
}

/// The next-payment panel of one loan.
pub struct PaymentPanel {
    /// The code and the amount it asks for; `None` when nothing is to be paid.
    pub qr: Option<PaymentQr>,
    /// Something is overdue: the panel shows the overdue amounts and the total to pay now.
    pub overdue: bool,
    /// The payoff quote today (the components with their "how is this computed?" links).
    pub payoff: PayoffView,
    /// What falls due today on top of the overdue amounts (owed now − the overdue components).
    pub due_today_vnd: Vnd,
}

/// One loan on the home page.
pub struct LoanCard {
    pub loan: LoanView,
    pub status_text: String,
    pub panel: Option<PaymentPanel>,
}

/// The fund's account as the transfer details show it.
pub struct BankDetails {
    pub account_name: String,
    pub account_number: String,
    pub bank_name: String,
    pub contact_phone: String,
}

impl BankDetails {
    fn of(state: &AppState) -> BankDetails {
        let mail = &state.settings.mail;
        BankDetails {
            account_name: mail.bank_account_name.clone(),
            account_number: mail.bank_account_number.clone(),
            bank_name: mail.bank_name.clone(),
            contact_phone: mail.contact_phone.clone(),
        }
    }
}

async fn panel_of(
    state: &AppState,
    user: &WebUser,
    loan: &LoanView,
) -> AppResult<Option<PaymentPanel>> {
    if loan.status != LoanStatus::Active {
        return Ok(None);
    }
    let qr =
        match payment_qr::payment_qr(&state.ctx, &user.caller, loan.id, PaymentQrQuery::default())
            .await
        {
            Ok(qr) => Some(qr),
            // Nothing to pay now (covered by the advance): the panel says so, no code.
            Err(err) if err.kind == ErrorKind::Rule => None,
            Err(err) => return Err(err),
        };
    let payoff = loans::payoff(&state.ctx, &user.caller, LoanId::new(loan.id), None).await?;
    let overdue_parts = payoff.overdue_principal_vnd
        + payoff.unpaid_interest_vnd
        + payoff.overdue_interest_vnd
        + payoff.late_interest_vnd;
    let overdue = loan.owed_now_vnd.is_positive() && overdue_parts.is_positive();
    let due_today_vnd = if loan.owed_now_vnd > overdue_parts {
        loan.owed_now_vnd - overdue_parts
    } else {
        Vnd::ZERO
    };
    Ok(Some(PaymentPanel {
        qr,
        overdue,
        payoff,
        due_today_vnd,
    }))
}

// ----- /home -----

/// `/home` for a cooperative.
#[derive(Template)]
#[template(path = "my_home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub m: &'static MyText,
    pub cooperative: String,
    pub cards: Vec<LoanCard>,
    pub bank: BankDetails,
    pub officer: Option<OfficerContact>,
    pub applications: Vec<Application>,
}

/// `GET /home` of a cooperative user (called by [`super::dashboard::home`]).
pub async fn home(state: &AppState, user: &WebUser) -> Response {
    user.page(state, async {
        let own = user.caller.cooperative().ok_or_else(AppError::forbidden)?;
        let cooperative = crate::app::cooperatives::get(&state.ctx, &user.caller, own)
            .await?
            .name;
        let page = loans::list(
            &state.ctx,
            &user.caller,
            loans::LoanFilter {
                limit: Some(50),
                ..Default::default()
            },
        )
        .await?;
        let mut cards = Vec::new();
        for loan in page.items {
            let panel = panel_of(state, user, &loan).await?;
            cards.push(LoanCard {
                status_text: plain_status(&loan, user.lang),
                panel,
                loan,
            });
        }
        // Loans that ask for money first, then the rest, newest first.
        cards.sort_by_key(|c| (c.panel.is_none(), -c.loan.dpd));
        let officer = notifications::officer_contact(&state.ctx, &user.caller).await?;
        let applications = applications::list(
            &state.ctx,
            &user.caller,
            ApplicationFilter {
                limit: Some(5),
                ..Default::default()
            },
        )
        .await?
        .items;
        let m = MyText::of(user.lang);
        Ok(HomePage {
            shell: user.shell(state, m.our_loans).await,
            m,
            cooperative,
            cards,
            bank: BankDetails::of(state),
            officer,
            applications,
        })
    })
    .await
}

// ----- one loan -----

/// `/my/loans/{id}`.
#[derive(Template)]
#[template(path = "my_loan.html")]
pub struct LoanPage {
    pub shell: Shell,
    pub m: &'static MyText,
    pub card: LoanCard,
    pub bank: BankDetails,
    pub schedule: LoanSchedule,
    pub transactions: Vec<TransactionView>,
    pub statement_from: String,
    pub statement_to: String,
}

/// The default statement period of `loan`: from its first disbursement (else the business date's
/// first of January) to the business date.
fn default_period(loan: &LoanView) -> (NaiveDate, NaiveDate) {
    let to = loan.as_of.unwrap_or_default();
    let from = loan
        .first_disbursed_on
        .or(loan.signed_on)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to));
    (from, to)
}

/// `GET /my/loans/{id}`: a cooperative's loan (staff are sent to the staff page).
pub async fn loan_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    if user.caller.role() != Role::Cooperative {
        return Redirect::to(&format!("/loans/{}", id.trim())).into_response();
    }
    user.page(&state, async {
        let id = loan_id(&id)?;
        let loan = loans::get(&state.ctx, &user.caller, id.into()).await?;
        let schedule = loans::schedule(&state.ctx, &user.caller, id.into()).await?;
        let transactions = loans::transactions(&state.ctx, &user.caller, id.into()).await?;
        let panel = panel_of(&state, &user, &loan).await?;
        let m = MyText::of(user.lang);
        let (from, to) = default_period(&loan);
        let title = format!("{} {}", super::text::text(user.lang).loan, loan.number);
        Ok(LoanPage {
            shell: user.shell(&state, &title).await,
            m,
            bank: BankDetails::of(&state),
            schedule,
            transactions: transactions
                .into_iter()
                .filter(|t| t.reversed_by.is_none() && t.reverses_id.is_none())
                .collect(),
            statement_from: from.format("%Y-%m-%d").to_string(),
            statement_to: to.format("%Y-%m-%d").to_string(),
            card: LoanCard {
                status_text: plain_status(&loan, user.lang),
                panel,
                loan,
            },
        })
    })
    .await
}

// ----- the statement -----

/// `/my/loans/{id}/statement`.
#[derive(Template)]
#[template(path = "my_statement.html")]
pub struct StatementPage {
    pub shell: Shell,
    pub m: &'static MyText,
    pub fund_name: String,
    pub cooperative: String,
    pub loan: LoanView,
    pub statement: LoanStatementPeriod,
    pub from_input: String,
    pub to_input: String,
}

impl StatementPage {
    /// Interest of every kind paid on a line (contractual, overdue, late), as shown.
    pub fn interest_text(&self, l: &coopfund_domain::StatementLine) -> String {
        self.shell.vnd(
            &(l.moved.paid_interest + l.moved.paid_overdue_interest + l.moved.paid_late_interest),
        )
    }

    /// Interest of every kind paid in the period, as shown.
    pub fn total_interest_text(&self) -> String {
        self.shell.vnd(&self.statement.interest_paid_vnd())
    }

    /// The name of a statement line's kind.
    pub fn line_kind(&self, kind: &str) -> &'static str {
        let m = self.m;
        match kind {
            "disbursement" => m.line_disbursement,
            "installment_due" => m.line_installment_due,
            "advance_applied" => m.line_advance_applied,
            "repayment" => m.line_repayment,
            "restructure" => m.line_restructure,
            "write_off" => m.line_write_off,
            _ => m.line_recovery,
        }
    }
}

/// The statement page's period as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeriodQuery {
    from: String,
    to: String,
}

/// `GET /my/loans/{id}/statement?from=&to=`: the printable statement of a period.
pub async fn statement_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    PageQuery(query): PageQuery<PeriodQuery>,
) -> Response {
    user.page(&state, async {
        let id = loan_id(&id)?;
        let loan = loans::get(&state.ctx, &user.caller, id.into()).await?;
        let (default_from, default_to) = default_period(&loan);
        let from = match query.from.trim() {
            "" => default_from,
            text => format::parse_date("from", text)?,
        };
        let to = match query.to.trim() {
            "" => default_to,
            text => format::parse_date("to", text)?,
        };
        let statement =
            loans::statement_for_period(&state.ctx, &user.caller, id.into(), from, to).await?;
        let cooperative =
            crate::app::cooperatives::get(&state.ctx, &user.caller, loan.cooperative_id.into())
                .await?
                .name;
        let m = MyText::of(user.lang);
        let title = format!("{} {}", m.statement, loan.number);
        Ok(StatementPage {
            shell: user.shell(&state, &title).await,
            m,
            fund_name: state.settings.fund.name.clone(),
            cooperative,
            from_input: statement.period.from.format("%Y-%m-%d").to_string(),
            to_input: statement.period.to.format("%Y-%m-%d").to_string(),
            loan,
            statement,
        })
    })
    .await
}

// ----- applications -----

/// `/my/applications`.
#[derive(Template)]
#[template(path = "my_applications.html")]
pub struct ApplicationsPage {
    pub shell: Shell,
    pub m: &'static MyText,
    pub applications: Vec<Application>,
}

impl ApplicationsPage {
    /// The day an application was submitted ("" for a draft).
    pub fn submitted_on(&self, a: &Application) -> String {
        a.submitted_at
            .map(|at| self.shell.date(&at.date_naive()))
            .unwrap_or_default()
    }
}

/// `GET /my/applications`: the cooperative's applications with their state and the reasons given.
pub async fn applications_page(State(state): State<AppState>, user: WebUser) -> Response {
    user.page(&state, async {
        user.caller.require(&[Role::Cooperative])?;
        let filter = ApplicationFilter {
            limit: Some(200),
            ..Default::default()
        };
        let page = applications::list(&state.ctx, &user.caller, filter).await?;
        let m = MyText::of(user.lang);
        Ok(ApplicationsPage {
            shell: user.shell(&state, m.applications).await,
            m,
            applications: page.items,
        })
    })
    .await
}

/// The collateral lines the form offers.
pub const COLLATERAL_LINES: usize = 3;

/// What the user typed, kept as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ApplicationForm {
    /// The loan and the project (the officer's form asks the same).
    #[serde(flatten)]
    pub terms: TermsForm,
    pub coll_kind_0: String,
    pub coll_desc_0: String,
    pub coll_value_0: String,
    pub coll_kind_1: String,
    pub coll_desc_1: String,
    pub coll_value_1: String,
    pub coll_kind_2: String,
    pub coll_desc_2: String,
    pub coll_value_2: String,
    pub no_bad_debt: String,
    /// `preview` (show the schedule, save nothing) or `save`.
    pub action: String,
    /// The draft's version when the form was opened (editing only): a draft changed meanwhile is
    /// refused (409), never overwritten.
    pub version: String,
}

/// One collateral line of the form as typed.
pub struct CollateralLine {
    pub index: usize,
    pub kind: String,
    pub description: String,
    pub value: String,
}

impl ApplicationForm {
    fn lines(&self) -> Vec<CollateralLine> {
        [
            (&self.coll_kind_0, &self.coll_desc_0, &self.coll_value_0),
            (&self.coll_kind_1, &self.coll_desc_1, &self.coll_value_1),
            (&self.coll_kind_2, &self.coll_desc_2, &self.coll_value_2),
        ]
        .into_iter()
        .enumerate()
        .map(|(index, (kind, description, value))| CollateralLine {
            index,
            kind: kind.clone(),
            description: description.clone(),
            value: value.clone(),
        })
        .collect()
    }
}

/// `/my/applications/new`.
#[derive(Template)]
#[template(path = "my_application_new.html")]
pub struct NewApplicationPage {
    pub shell: Shell,
    pub m: &'static MyText,
    pub products: Vec<Product>,
    pub form: ApplicationForm,
    pub lines: Vec<CollateralLine>,
    pub errors: Errors,
    pub preview: Option<PreviewResponse>,
    pub collateral_kinds: Vec<(&'static str, &'static str)>,
    pub methods: Vec<(&'static str, String)>,
    pub periods: Vec<i64>,
    /// The draft being edited (its id and number); `None` for a new application.
    pub editing: Option<(i64, String)>,
}

impl NewApplicationPage {
    /// Where the form posts (and htmx previews): the new application's address or the draft's.
    pub fn form_action(&self) -> String {
        match &self.editing {
            Some((id, _)) => format!("/my/applications/{id}/edit"),
            None => "/my/applications/new".into(),
        }
    }

    /// The page's heading.
    pub fn title(&self) -> String {
        match &self.editing {
            Some((_, number)) => format!("{} {number}", self.m.edit_title),
            None => self.m.apply_title.to_string(),
        }
    }

    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.error_for(field)
    }

    /// Whether `field` was refused.
    pub fn invalid(&self, field: &str) -> bool {
        self.error_for(field).is_some()
    }

    /// Whether any field was refused.
    pub fn has_errors(&self) -> bool {
        self.errors.any()
    }

    /// The message for a collateral line's `part` (`kind`, `desc`, `value`).
    pub fn line_error(&self, part: &str, index: &usize) -> Option<&str> {
        self.error_for(&format!("coll_{part}_{index}"))
    }

    /// Whether `id` is the selected product.
    pub fn is_product(&self, id: &i64) -> bool {
        self.form.terms.product_id == id.to_string()
    }
}

/// The form's field for an error the use case names.
fn form_field(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("collateral[") {
        if let Some((index, part)) = rest.split_once("].") {
            let part = match part {
                "kind" => "kind",
                "description" => "desc",
                _ => "value",
            };
            return format!("coll_{part}_{index}");
        }
    }
    match field {
        "no_bad_debt_declared" => "no_bad_debt".into(),
        other => other.into(),
    }
}

/// The label of a form field, to name it in a message in the page's words.
fn field_label(field: &str, m: &MyText) -> Option<&'static str> {
    let label = match field {
        "product_id" => m.product,
        "amount_vnd" => m.amount_vnd,
        "installments" => m.installments,
        "period_months" => m.period_months,
        "method" => m.method,
        "principal_grace" => m.principal_grace,
        "purpose" => m.purpose,
        "project_total_vnd" => m.project_total_vnd,
        "own_capital_vnd" => m.own_capital_vnd,
        "no_bad_debt" => m.no_bad_debt,
        "language" => m.language,
        "chair_email" => m.chair_email,
        "accountant_email" => m.accountant_email,
        f if f.starts_with("coll_desc_") => m.collateral_description,
        f if f.starts_with("coll_value_") => m.collateral_value,
        f if f.starts_with("coll_kind_") => m.collateral_kind,
        _ => return None,
    };
    Some(label)
}

/// Places `err` on a form of this area: next to the form's field for the one the use case names.
fn place_error(err: &AppError, lang: Lang, errors: &mut Errors) {
    errors.place_as(err, lang, form_field, |field| {
        field_label(field, MyText::of(lang))
    });
}

fn parse_count(field: &str, text: &str) -> AppResult<i64> {
    text.trim().parse::<i64>().map_err(|_| {
        AppError::invalid(
            field,
            crate::error::Reason::InvalidFormat {
                expected: "a whole number",
            },
        )
    })
}

/// The application the form describes, or the refusals of its fields.
fn parse_form(form: &ApplicationForm, lang: Lang) -> (Option<NewApplication>, Errors) {
    let mut refused: Vec<AppError> = Vec::new();
    fn take(refused: &mut Vec<AppError>, result: AppResult<i64>) -> Option<i64> {
        result.map_err(|e| refused.push(e)).ok()
    }
    let product_id = take(
        &mut refused,
        parse_count("product_id", &form.terms.product_id),
    );
    let amount = take(
        &mut refused,
        format::parse_vnd("amount_vnd", &form.terms.amount_vnd, lang),
    );
    let installments = take(
        &mut refused,
        parse_count("installments", &form.terms.installments),
    );
    let period = take(
        &mut refused,
        parse_count("period_months", &form.terms.period_months),
    );
    let grace = if form.terms.principal_grace.trim().is_empty() {
        Some(0)
    } else {
        take(
            &mut refused,
            parse_count("principal_grace", &form.terms.principal_grace),
        )
    };
    let project = take(
        &mut refused,
        format::parse_vnd("project_total_vnd", &form.terms.project_total_vnd, lang),
    );
    let own = take(
        &mut refused,
        format::parse_vnd("own_capital_vnd", &form.terms.own_capital_vnd, lang),
    );
    let mut collateral = Vec::new();
    for line in form.lines() {
        if line.description.trim().is_empty() && line.value.trim().is_empty() {
            continue;
        }
        let field = format!("coll_value_{}", line.index);
        let value = take(&mut refused, format::parse_vnd(&field, &line.value, lang));
        if line.description.trim().is_empty() {
            refused.push(AppError::invalid(
                format!("coll_desc_{}", line.index),
                crate::error::Reason::Required,
            ));
        }
        if let Some(value) = value {
            collateral.push(NewCollateral {
                kind: if line.kind.trim().is_empty() {
                    "other".into()
                } else {
                    line.kind.clone()
                },
                description: line.description.clone(),
                appraised_value_vnd: value,
                discount_rate_percent: rust_decimal::Decimal::ZERO,
            });
        }
    }
    let method = match form.terms.method.parse::<Method>() {
        Ok(method) => Some(method),
        Err(_) => {
            refused.push(AppError::invalid("method", crate::error::Reason::Required));
            None
        }
    };
    let mut errors = Errors::default();
    for err in &refused {
        place_error(err, lang, &mut errors);
    }
    let parsed = match (
        product_id,
        amount,
        installments,
        period,
        grace,
        project,
        own,
        method,
    ) {
        (Some(p), Some(a), Some(i), Some(pm), Some(g), Some(pt), Some(o), Some(method))
            if !errors.any() =>
        {
            Some(NewApplication {
                product_id: ProductId::new(p),
                cooperative_id: None,
                amount_vnd: a,
                installments: i,
                period_months: pm,
                method,
                principal_grace: Some(g),
                purpose: form.terms.purpose.clone(),
                project_total_vnd: pt,
                own_capital_vnd: o,
                collateral,
                no_bad_debt_declared: form.no_bad_debt == "on",
                documents: Vec::new(),
            })
        }
        _ => None,
    };
    (parsed, errors)
}

/// The expected schedule of what the form asks, at the product's terms, disbursed on the business
/// date ([`schedule_preview::preview`], the API's preview); `None` while the terms are incomplete.
fn preview_of(
    form: &ApplicationForm,
    products: &[Product],
    today: NaiveDate,
    lang: Lang,
) -> Option<PreviewResponse> {
    let product = products
        .iter()
        .find(|p| p.id.to_string() == form.terms.product_id.trim())?;
    let request = PreviewRequest {
        principal_vnd: format::parse_vnd("amount_vnd", &form.terms.amount_vnd, lang).ok()?,
        rate_percent: product.rate_percent.to_string(),
        installments: form.terms.installments.trim().parse().ok()?,
        period_months: form.terms.period_months.trim().parse().ok()?,
        method: form.terms.method.clone(),
        disbursed_on: today,
        first_due_on: None,
        // Blank means no grace; anything else typed must read, or there is no preview yet.
        principal_grace: match form.terms.principal_grace.trim() {
            "" => 0,
            typed => typed.parse().ok()?,
        },
        day_count: Some(product.day_count.as_str().to_string()),
        installment_unit_vnd: Some(product.installment_unit_vnd),
    };
    schedule_preview::preview(&request).ok()
}

async fn new_application_page(
    state: &AppState,
    user: &WebUser,
    form: ApplicationForm,
    errors: Errors,
    want_preview: bool,
) -> AppResult<NewApplicationPage> {
    application_form_page(state, user, form, errors, want_preview, None).await
}

/// The application form, new (`editing` is `None`) or a draft's.
async fn application_form_page(
    state: &AppState,
    user: &WebUser,
    form: ApplicationForm,
    errors: Errors,
    want_preview: bool,
    editing: Option<(i64, String)>,
) -> AppResult<NewApplicationPage> {
    user.caller.require(&[Role::Cooperative])?;
    let products = super::applications::active_products(state, &user.caller).await?;
    let mut form = form;
    if form.terms.product_id.is_empty() {
        if let Some(first) = products.first() {
            form.terms.product_id = first.id.to_string();
        }
    }
    let product = products
        .iter()
        .find(|p| p.id.to_string() == form.terms.product_id.trim());
    let periods = product.map(|p| p.period_months.clone()).unwrap_or_default();
    let offered = product.map(|p| p.methods.clone()).unwrap_or_default();
    // A method the product does not offer (after a change of product) becomes its first one.
    if !offered.iter().any(|m| m.as_str() == form.terms.method) {
        if let Some(first) = offered.first() {
            form.terms.method = first.as_str().to_string();
        }
    }
    if !periods
        .iter()
        .any(|p| p.to_string() == form.terms.period_months)
    {
        if let Some(first) = periods.first() {
            form.terms.period_months = first.to_string();
        }
    }
    let methods = offered
        .into_iter()
        .map(|m| (m.as_str(), super::text::label(m.as_str(), user.lang)))
        .collect();
    let today = crate::app::cob::business_dates(&state.ctx, &user.caller)
        .await?
        .business_date;
    let preview = if want_preview || !form.terms.amount_vnd.is_empty() {
        preview_of(&form, &products, today, user.lang)
    } else {
        None
    };
    let m = MyText::of(user.lang);
    let title = match &editing {
        Some((_, number)) => format!("{} {number}", m.edit_title),
        None => m.apply_title.to_string(),
    };
    Ok(NewApplicationPage {
        shell: user.shell(state, &title).await,
        editing,
        m,
        lines: form.lines(),
        products,
        form,
        errors,
        preview,
        collateral_kinds: vec![
            ("land_use_right", m.kind_land),
            ("building", m.kind_building),
            ("machinery", m.kind_machinery),
            ("vehicle", m.kind_vehicle),
            ("deposit", m.kind_deposit),
        ],
        methods,
        periods,
    })
}

/// `GET /my/applications/new`: the empty form.
pub async fn new_application(State(state): State<AppState>, user: WebUser) -> Response {
    let form = ApplicationForm {
        terms: TermsForm {
            method: "equal_principal".into(),
            principal_grace: "0".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    user.page(
        &state,
        new_application_page(&state, &user, form, Errors::default(), false),
    )
    .await
}

/// `POST /my/applications/new` (CSRF-checked by the middleware): `action=preview` shows the schedule
/// (htmx swaps only `#preview`), otherwise the draft is saved and the user goes to its page.
pub async fn post_application(
    State(state): State<AppState>,
    user: WebUser,
    FormBody(form): FormBody<ApplicationForm>,
) -> Response {
    user.answer(&state, async {
        if form.action == "preview" {
            let page = new_application_page(&state, &user, form, Errors::default(), true).await?;
            return Ok(render(&page));
        }
        let (parsed, mut errors) = parse_form(&form, user.lang);
        let status = match parsed {
            Some(input) => match applications::create(&state.ctx, &user.caller, input).await {
                Ok(created) => {
                    let saved = format!("/my/applications/{}?saved=1", created.id);
                    return Ok(Redirect::to(&saved).into_response());
                }
                Err(err) if matches!(err.kind, ErrorKind::Forbidden | ErrorKind::Internal) => {
                    return Err(err)
                }
                Err(err) => {
                    place_error(&err, user.lang, &mut errors);
                    crate::http::error::status_of(err.kind)
                }
            },
            None => StatusCode::BAD_REQUEST,
        };
        let page = new_application_page(&state, &user, form, errors, true).await?;
        Ok(render_with(status, &page))
    })
    .await
}

/// `/my/applications/{id}`.
#[derive(Template)]
#[template(path = "my_application.html")]
pub struct ApplicationPage {
    pub shell: Shell,
    pub m: &'static MyText,
    pub application: Application,
    pub product: Option<Product>,
    pub documents: Vec<DocumentInfo>,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
    pub can_upload: bool,
}

impl ApplicationPage {
    /// Whether the application is still a draft (it can be edited and submitted).
    pub fn is_draft(&self) -> bool {
        self.application.status == applications::Status::Draft
    }

    /// A size in kB.
    pub fn size(&self, bytes: &i64) -> String {
        format!("{} kB", (bytes + 1023) / 1024)
    }
}

/// What the application page was reached after, as typed (the notice it shows).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeQuery {
    saved: String,
    submitted: String,
    uploaded: String,
    changed: String,
    withdrawn: String,
}

async fn application_view(
    state: &AppState,
    user: &WebUser,
    id: i64,
    notice: Option<&'static str>,
    error: Option<String>,
) -> AppResult<ApplicationPage> {
    user.caller.require(&[Role::Cooperative])?;
    let application = applications::get(&state.ctx, &user.caller, ApplicationId::new(id)).await?;
    let documents = application_documents::list(&state.ctx, &user.caller, id).await?;
    let product = products::get(&state.ctx, &user.caller, application.product_id)
        .await
        .ok();
    let m = MyText::of(user.lang);
    let title = format!("{} {}", m.apply_title, application.number);
    Ok(ApplicationPage {
        shell: user.shell(state, &title).await,
        m,
        can_upload: matches!(
            application.status,
            applications::Status::Draft
                | applications::Status::Submitted
                | applications::Status::InAppraisal
                | applications::Status::Appraised
        ),
        application,
        product,
        documents,
        notice,
        error,
    })
}

/// `GET /my/applications/{id}`.
pub async fn application_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    PageQuery(query): PageQuery<NoticeQuery>,
) -> Response {
    let m = MyText::of(user.lang);
    let notice = if !query.withdrawn.is_empty() {
        Some(m.withdrawn)
    } else if !query.changed.is_empty() {
        Some(m.changes_saved)
    } else if !query.submitted.is_empty() {
        Some(m.submitted)
    } else if !query.uploaded.is_empty() {
        Some(m.uploaded)
    } else if !query.saved.is_empty() {
        Some(m.saved)
    } else {
        None
    };
    user.page(&state, async {
        application_view(&state, &user, application_id(&id)?, notice, None).await
    })
    .await
}

// ----- editing and withdrawing a draft -----

/// The form as the draft `a` would have been typed (amounts grouped as the page writes them).
fn form_of(a: &Application, lang: Lang) -> ApplicationForm {
    let kind = |i: usize| {
        a.collateral
            .get(i)
            .map(|c| c.kind.clone())
            .unwrap_or_default()
    };
    let desc = |i: usize| {
        a.collateral
            .get(i)
            .map(|c| c.description.clone())
            .unwrap_or_default()
    };
    let value = |i: usize| {
        a.collateral
            .get(i)
            .map(|c| format::grouped(c.appraised_value_vnd, lang))
            .unwrap_or_default()
    };
    ApplicationForm {
        terms: TermsForm {
            product_id: a.product_id.to_string(),
            amount_vnd: format::grouped(a.amount_vnd, lang),
            installments: a.installments.to_string(),
            period_months: a.period_months.to_string(),
            method: a.method.as_str().to_string(),
            principal_grace: a.principal_grace.to_string(),
            purpose: a.purpose.clone(),
            project_total_vnd: format::grouped(a.project_total_vnd, lang),
            own_capital_vnd: format::grouped(a.own_capital_vnd, lang),
        },
        coll_kind_0: kind(0),
        coll_desc_0: desc(0),
        coll_value_0: value(0),
        coll_kind_1: kind(1),
        coll_desc_1: desc(1),
        coll_value_1: value(1),
        coll_kind_2: kind(2),
        coll_desc_2: desc(2),
        coll_value_2: value(2),
        no_bad_debt: if a.no_bad_debt_declared {
            "on".into()
        } else {
            String::new()
        },
        action: String::new(),
        version: a.version.to_string(),
    }
}

/// The changes the form makes to a draft: every field it shows, the collateral lines replacing the
/// draft's (a line's discount kept where the officer set one), the list of papers untouched.
fn changes_of(
    input: NewApplication,
    version: i32,
    before: &Application,
) -> applications::ApplicationChanges {
    let collateral = input
        .collateral
        .into_iter()
        .enumerate()
        .map(|(i, mut line)| {
            if let Some(old) = before.collateral.get(i) {
                line.discount_rate_percent = old.discount_rate_percent;
            }
            line
        })
        .collect();
    applications::ApplicationChanges {
        version,
        product_id: Some(input.product_id),
        amount_vnd: Some(input.amount_vnd),
        installments: Some(input.installments),
        period_months: Some(input.period_months),
        method: Some(input.method),
        principal_grace: input.principal_grace,
        purpose: Some(input.purpose),
        project_total_vnd: Some(input.project_total_vnd),
        own_capital_vnd: Some(input.own_capital_vnd),
        collateral: Some(collateral),
        no_bad_debt_declared: Some(input.no_bad_debt_declared),
        documents: None,
    }
}

/// The cooperative's own draft `id`, as the form may edit it: 404 for another cooperative's, 409
/// once submitted (the use case's own refusal) or when it has more collateral lines than the form
/// shows (editing here would drop them; the officer edits it).
async fn draft_to_edit(state: &AppState, user: &WebUser, id: i64) -> AppResult<Application> {
    user.caller.require(&[Role::Cooperative])?;
    let draft = applications::get(&state.ctx, &user.caller, ApplicationId::new(id)).await?;
    if draft.status != applications::Status::Draft {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "application_not_draft",
            crate::error::Localized::new(
                "Hồ sơ đã nộp hoặc đã được xử lý: không sửa được nữa.",
                "The application is submitted or decided: it can no longer be edited.",
            ),
        )
        .with_field("status"));
    }
    if draft.collateral.len() > COLLATERAL_LINES {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "too_many_collateral_lines_for_the_form",
            crate::error::Localized::new(
                format!("Hồ sơ có hơn {COLLATERAL_LINES} tài sản bảo đảm: xin nhờ cán bộ tín dụng sửa."),
                format!("The draft has more than {COLLATERAL_LINES} collateral lines: please ask your loan officer to edit it."),
            ),
        ));
    }
    Ok(draft)
}

/// `GET /my/applications/{id}/edit`: the draft in the application form, as it was typed.
pub async fn edit_application(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    user.page(&state, async {
        let draft = draft_to_edit(&state, &user, application_id(&id)?).await?;
        let form = form_of(&draft, user.lang);
        let editing = Some((draft.id.get(), draft.number));
        application_form_page(&state, &user, form, Errors::default(), true, editing).await
    })
    .await
}

/// `POST /my/applications/{id}/edit` (CSRF-checked by the middleware): `action=preview` shows the
/// schedule; otherwise the draft is saved by [`applications::update`] (the API's `PATCH`), or the
/// form comes back with each refusal next to its field and everything typed kept.
pub async fn post_edit_application(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    FormBody(form): FormBody<ApplicationForm>,
) -> Response {
    user.answer(&state, async {
        let draft = draft_to_edit(&state, &user, application_id(&id)?).await?;
        let editing = Some((draft.id.get(), draft.number.clone()));
        if form.action == "preview" {
            let errors = Errors::default();
            let page = application_form_page(&state, &user, form, errors, true, editing).await?;
            return Ok(render(&page));
        }
        let (parsed, mut errors) = parse_form(&form, user.lang);
        // A form without the version it was opened at cannot prove it saw the draft as it is.
        let version = form.version.trim().parse::<i32>();
        let status = match (parsed, version) {
            (Some(input), Ok(version)) => {
                let changes = changes_of(input, version, &draft);
                let id = draft.id;
                match applications::update(&state.ctx, &user.caller, id, changes).await {
                    Ok(_) => {
                        let changed = format!("/my/applications/{}?changed=1", draft.id);
                        return Ok(Redirect::to(&changed).into_response());
                    }
                    Err(err) if is_page_error(&err) => return Err(err),
                    Err(err) => {
                        place_error(&err, user.lang, &mut errors);
                        crate::http::error::status_of(err.kind)
                    }
                }
            }
            (_, Err(_)) => {
                let stale = AppError::stale_version();
                errors.general = Some(stale.message.get(user.lang).to_string());
                crate::http::error::status_of(stale.kind)
            }
            (None, Ok(_)) => StatusCode::BAD_REQUEST,
        };
        let page = application_form_page(&state, &user, form, errors, true, editing).await?;
        Ok(render_with(status, &page))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WithdrawForm {
    reason: String,
}

/// `POST /my/applications/{id}/withdraw` (CSRF-checked by the middleware): the cooperative
/// withdraws its application while it is open ([`applications::withdraw`], the API's use case),
/// with the reason it gives, if any.
pub async fn withdraw_application(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    user.answer(&state, async {
        let id = application_id(&id)?;
        user.caller.require(&[Role::Cooperative])?;
        let form: WithdrawForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let reason = Some(form.reason.trim().to_string()).filter(|r| !r.is_empty());
        let outcome =
            applications::withdraw(&state.ctx, &user.caller, ApplicationId::new(id), reason).await;
        action_answer(&state, &user, id, outcome, "withdrawn=1").await
    })
    .await
}

/// `POST /my/applications/{id}/submit` (CSRF-checked by the middleware).
pub async fn submit_application(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    user.answer(&state, async {
        let id = application_id(&id)?;
        user.caller.require(&[Role::Cooperative])?;
        let outcome =
            applications::submit(&state.ctx, &user.caller, ApplicationId::new(id), None).await;
        action_answer(&state, &user, id, outcome, "submitted=1").await
    })
    .await
}

/// `POST /my/applications/{id}/documents`: a multipart upload; the CSRF token must come first.
pub async fn upload_document(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let id = match application_id(&id) {
        Ok(id) => id,
        Err(err) => return user.fail(&state, err).await,
    };
    let upload = match super::form::upload(&headers, &mut multipart, "document upload").await {
        Ok(upload) => upload,
        Err(refused) => return refused,
    };
    user.answer(&state, async {
        let outcome = if upload.too_large {
            Err(application_documents::too_large())
        } else {
            let (file_name, bytes) = &upload.file;
            application_documents::upload(&state.ctx, &user.caller, id, file_name, bytes).await
        };
        action_answer(&state, &user, id, outcome, "uploaded=1#documents").await
    })
    .await
}

/// The answer to an action on the cooperative's own application (submit, withdraw, upload):
/// done → back to the application with `done` in the query; refused → the application page again
/// with the refusal and its status; not found / forbidden → the error page (`Err`).
async fn action_answer<T>(
    state: &AppState,
    user: &WebUser,
    id: i64,
    outcome: AppResult<T>,
    done: &str,
) -> AppResult<Response> {
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/my/applications/{id}?{done}")).into_response()),
        Err(err) if is_page_error(&err) => Err(err),
        Err(err) => {
            let status = crate::http::error::status_of(err.kind);
            let message = err.message.get(user.lang).to_string();
            let page = application_view(state, user, id, None, Some(message)).await?;
            Ok(render_with(status, &page))
        }
    }
}

/// `GET …/applications/{id}/documents/{doc}`: the document as a download, with the type checked at
/// upload, never shown inline.
pub async fn download_document(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, doc)): Path<(String, String)>,
) -> Response {
    let result = async {
        let id = application_id(&id)?;
        let doc = super::path_id(&doc, "tài liệu", "Document")?;
        application_documents::download(&state.ctx, &user.caller, id, doc).await
    }
    .await;
    match result {
        Ok((info, content)) => {
            crate::http::routes::application_documents::document_download(&info, content)
        }
        Err(err) => user.fail(&state, err).await,
    }
}

// ----- notifications -----

/// `/my/notifications`.
#[derive(Template)]
#[template(path = "my_notifications.html")]
pub struct NotificationsPage {
    pub shell: Shell,
    pub m: &'static MyText,
    pub settings: NotificationSettings,
    pub form: NotificationForm,
    pub errors: Errors,
    pub saved: bool,
    pub mails: Vec<OutboxMessage>,
}

impl NotificationsPage {
    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.error_for(field)
    }

    /// A mail's state in words.
    pub fn mail_status(&self, status: &str) -> &'static str {
        match status {
            "sent" => self.m.mail_sent,
            "failed" => self.m.mail_failed,
            "sending" => self.m.mail_sending,
            _ => self.m.mail_pending,
        }
    }

    /// A timestamp as a date in the fund's time zone is not needed here: the day it was queued (UTC).
    pub fn day(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        format::date(at.date_naive())
    }
}

/// The settings as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct NotificationForm {
    pub language: String,
    pub chair_email: String,
    pub accountant_email: String,
}

async fn notifications_view(
    state: &AppState,
    user: &WebUser,
    form: Option<NotificationForm>,
    errors: Errors,
    saved: bool,
) -> AppResult<NotificationsPage> {
    let settings = notifications::get(&state.ctx, &user.caller).await?;
    let mails = notifications::mails(
        &state.ctx,
        &user.caller,
        PageRequest::parse(Some(50), None)?,
    )
    .await?
    .items;
    let form = form.unwrap_or_else(|| NotificationForm {
        language: settings.language.clone(),
        chair_email: settings.chair_email.clone(),
        accountant_email: settings.accountant_email.clone(),
    });
    let m = MyText::of(user.lang);
    Ok(NotificationsPage {
        shell: user.shell(state, m.notifications).await,
        m,
        settings,
        form,
        errors,
        saved,
        mails,
    })
}

/// `GET /my/notifications`.
pub async fn notifications_page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> Response {
    let saved = query.as_deref().unwrap_or("").contains("saved=1");
    user.page(
        &state,
        notifications_view(&state, &user, None, Errors::default(), saved),
    )
    .await
}

/// `POST /my/notifications` (CSRF-checked by the middleware).
pub async fn post_notifications(
    State(state): State<AppState>,
    user: WebUser,
    FormBody(form): FormBody<NotificationForm>,
) -> Response {
    let change = NotificationChange {
        language: form.language.clone(),
        chair_email: form.chair_email.clone(),
        accountant_email: form.accountant_email.clone(),
    };
    user.answer(&state, async {
        let err = match notifications::update(&state.ctx, &user.caller, change).await {
            Ok(_) => return Ok(Redirect::to("/my/notifications?saved=1").into_response()),
            Err(err) if is_page_error(&err) => return Err(err),
            Err(err) => err,
        };
        let status = crate::http::error::status_of(err.kind);
        let mut errors = Errors::default();
        place_error(&err, user.lang, &mut errors);
        // The form has no summary: a refusal that names none of its fields goes under the first.
        if let Some(message) = errors.general.take() {
            errors.fields.push(FieldError {
                field: "language".into(),
                message,
            });
        }
        let page = notifications_view(&state, &user, Some(form), errors, false).await?;
        Ok(render_with(status, &page))
    })
    .await
}
