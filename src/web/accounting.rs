//! The accountant's pages (and the contract signing an officer or approver does from the loan page):
//! sign the contract, disburse, reverse a transaction with its reason, a payoff quote for any date,
//! the close of business (`/cob`) and the fund's charter capital (`/charter-capital`).
//!
//! Each page calls the API's use case (`app::loans::{sign, disburse, reverse, payoff}`,
//! `app::cob::{business_dates, list_runs, run_through}`, `app::charter_capital::{overview,
//! contribute}`); the rules and the role checks are theirs. A form page checks the role of the
//! command it leads to before it is shown, so a wrong role gets the 403 page rather than a form
//! that can only fail.
//!
//! Money forms (disbursement, reversal, contribution) and the signing carry an idempotency key made
//! when the form was rendered (a hidden field, kept through a refused submission), so a double
//! click or a resubmitted form posts once: the second request replays the first. Success is a
//! redirect (post/redirect/get), so reloading never resubmits. A refusal is shown next to the
//! field it names, with what was typed kept.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use chrono::NaiveDate;
use coopfund_domain::{
    ids::{LoanId, TransactionId},
    Vnd,
};
use serde::{Deserialize, Serialize};

use super::form::{FormBody, PageQuery};
use super::{
    form::{date_input, key_or_new, keyed, render_with, replayed_id, Errors},
    format,
    loans::{loan_and_cooperative, loan_id},
    PathId, Shell, WebUser,
};
use crate::{
    app::{
        charter_capital::{self, Contribution, NewContribution},
        cob::{self, CobRun, Trigger},
        idempotency::Idempotent,
        loans::{self, Disburse, LoanView, PayoffView, Reverse, SignContract, TransactionView},
        page::PageRequest,
    },
    auth::Role,
    error::{AppError, AppResult, Lang},
    state::AppState,
};

crate::texts! {
    AccountingText, ACCOUNTING_VI, ACCOUNTING_EN;
    sign_title: "Ký hợp đồng tín dụng", "Sign the loan contract";
    sign_action: "Ký hợp đồng", "Sign the contract";
    contract_number: "Số hợp đồng", "Contract number";
    contract_number_hint: "Ví dụ: 12/2026/HĐTD", "e.g. 12/2026/HĐTD";
    signed_on: "Ngày ký", "Signed on";
    signed_on_hint: "Không sau ngày làm việc", "Not after the business date";
    submit_sign: "Ghi nhận ký hợp đồng", "Record the signing";
    signed_notice: "Đã ghi nhận ký hợp đồng.", "The contract signing was recorded.";
    disburse_title: "Giải ngân khoản vay", "Disbursement of loan";
    disburse_action: "Giải ngân", "Disburse";
    submit_disbursement: "Ghi nhận giải ngân", "Post the disbursement";
    approved_principal: "Số tiền được duyệt", "Approved principal";
    already_disbursed: "Đã giải ngân", "Disbursed so far";
    left_to_disburse: "Còn được giải ngân", "Left to disburse";
    disbursed_notice: "Đã ghi nhận giải ngân.", "The disbursement was posted.";
    disburse_reference_hint: "Số ủy nhiệm chi (UNC) của ngân hàng", "The bank's payment order (UNC)";
    reverse_title: "Hủy giao dịch", "Reverse a transaction";
    reverse_action: "Hủy giao dịch", "Reverse";
    reason: "Lý do", "Reason";
    reason_hint: "Bắt buộc: ghi rõ sai sót và chứng từ liên quan", "Required: say what was wrong and cite the document";
    submit_reversal: "Ghi nhận hủy giao dịch", "Post the reversal";
    reversal_explain: "Không có gì bị xóa: một giao dịch hủy được ghi thêm, khoản vay được tính lại từ ngày hiệu lực và sổ sách có bút toán đảo.", "Nothing is deleted: a reversal is recorded, the loan is recomputed from the value date and the books get a reversing entry.";
    reversed_notice: "Đã hủy giao dịch.", "The transaction was reversed.";
    transaction: "Giao dịch", "Transaction";
    payoff_title: "Số tiền tất toán", "Payoff quote";
    payoff_date: "Ngày tất toán", "Payoff date";
    payoff_date_hint: "Bất kỳ ngày nào; sau ngày làm việc là số dự tính nếu không có giao dịch nào thêm", "Any date; after the business date it is projected, assuming no further transaction";
    quote: "Xem số tất toán", "Show the quote";
    how_computed: "Cách tính?", "How is this computed?";
    payoff_any_date: "Tất toán theo ngày khác", "Payoff on another date";
    journal: "Bút toán của khoản vay", "Journal entries of the loan";
    no_entries: "Chưa có bút toán.", "No entries yet.";
    entry: "Bút toán", "Entry";
    entry_date: "Ngày hạch toán", "Entry date";
    description: "Diễn giải", "Description";
    account: "Tài khoản", "Account";
    debit: "Nợ", "Debit";
    credit: "Có", "Credit";
    lines: "Định khoản", "Lines";
    mails: "Thư gửi về khoản vay", "Mails about this loan";
    no_mails: "Chưa có thư nào.", "No mail yet.";
    subject: "Tiêu đề", "Subject";
    recipient: "Người nhận", "Recipient";
    delivery: "Gửi", "Delivery";
    queued_at: "Lập lúc (UTC)", "Queued (UTC)";
    preview_title: "Phân bổ dự kiến", "How it will be allocated";
    preview_hint: "Chưa ghi nhận: đây là phân bổ mà việc ghi nhận sẽ thực hiện.", "Not posted yet: this is the allocation the posting will make.";
    preview_action: "Xem trước phân bổ", "Preview the allocation";
    payoff_after: "Số tất toán sau khoản thu", "Payoff after this payment";
    settles: "Khoản thu này tất toán khoản vay.", "This payment settles the loan.";
    advance_applied: "Dùng tiền trả trước", "Advance used";
    cob_title: "Khóa sổ cuối ngày", "Close of business";
    cob_explain: "Khóa sổ một ngày: tính lãi dự thu, chuyển các khoản đến hạn chưa trả sang quá hạn, phân loại nhóm nợ, trích lập dự phòng vào cuối tháng và lập thư nhắc nợ.", "Closing a day accrues interest, moves what fell due unpaid to overdue, classifies every loan, sets provisions at month end and queues the reminders.";
    cob_through: "Khóa sổ đến hết ngày", "Close through";
    cob_through_hint: "Các ngày từ ngày làm việc hiện tại đến ngày này được khóa sổ lần lượt", "Every day from the business date through this one is closed, in order";
    cob_run: "Chạy khóa sổ", "Run the close of business";
    cob_done: "Đã khóa sổ. Ngày làm việc hiện tại:", "Closed. The business date is now";
    cob_nothing: "Không có ngày nào cần khóa sổ.", "There was nothing to close.";
    cob_skipped: "Một phiên khác đang khóa sổ; lần này không làm gì.", "Another instance is running the close of business; nothing was done.";
    runs: "Các lần khóa sổ", "Runs";
    no_runs: "Chưa có lần khóa sổ nào.", "No close of business has run yet.";
    closed_day: "Ngày khóa sổ", "Day closed";
    result: "Kết quả", "Result";
    started_by: "Khởi chạy bởi", "Started by";
    started_at: "Bắt đầu (UTC)", "Started (UTC)";
    loans_processed: "Khoản vay", "Loans";
    entries_posted: "Bút toán", "Entries";
    notices_queued: "Thư", "Mails";
    errors: "Lỗi", "Errors";
    note: "Ghi chú", "Note";
    charter_title: "Vốn điều lệ", "Charter capital";
    paid_in: "Vốn điều lệ đã góp", "Paid-in charter capital";
    contributions: "Các lần góp vốn", "Contributions";
    no_contributions: "Chưa có lần góp vốn nào.", "No contribution yet.";
    contributed_on: "Ngày góp", "Contributed on";
    contribute: "Ghi nhận góp vốn", "Record a contribution";
    submit_contribution: "Ghi nhận góp vốn", "Record the contribution";
    contribution_reference_hint: "Quyết định hoặc chứng từ ngân hàng, ví dụ QĐ 123/QĐ-UBND", "The decision or bank document, e.g. QĐ 123/QĐ-UBND";
    contributed_notice: "Đã ghi nhận góp vốn.", "The contribution was recorded.";
    limits_note: "Tổng vốn đã góp là căn cứ tính hạn mức cho vay 15% một khách hàng và 25% cùng người có liên quan (Nghị định 45/2021 Điều 23).", "The paid-in total sets the lending limits: 15% per customer, 25% with related persons (Decree 45/2021 Art 23).";
    amount_label: "Số tiền (đồng)", "Amount (đồng)";
    amount_hint: "Số nguyên đồng, ví dụ 12.500.000", "Whole đồng, e.g. 12,500,000";
    value_date: "Ngày hiệu lực", "Value date";
    value_date_hint: "Không sau ngày làm việc", "Not after the business date";
    reference: "Số tham chiếu", "Reference";
    fix_errors: "Chưa ghi nhận: hãy sửa các lỗi bên dưới.", "Not recorded: please correct the errors below.";
    cancel: "Hủy bỏ", "Cancel";
    back_to_loan: "Về khoản vay", "Back to the loan";
}

/// This area's strings in `lang`.
pub fn accounting_text(lang: Lang) -> &'static AccountingText {
    AccountingText::of(lang)
}

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/loans/{id}/sign", get(sign_form).post(post_sign))
        .route(
            "/loans/{id}/disbursements",
            get(disbursement_form).post(post_disbursement),
        )
        .route(
            "/loans/{id}/transactions/{tx}/reverse",
            get(reversal_form).post(post_reversal),
        )
        .route("/loans/{id}/payoff", get(payoff_page))
        .route("/cob", get(cob_page).post(post_cob))
        .route(
            "/charter-capital",
            get(charter_page).post(post_contribution),
        )
}

// ----- what every money form here shares -----

/// What the accountant typed in a money form that posts a transaction (a disbursement; a
/// repayment adds its kind), kept as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct MoneyForm {
    pub amount_vnd: String,
    pub value_date: String,
    pub reference: String,
    /// The idempotency key made when the form was first rendered.
    pub key: String,
}

impl MoneyForm {
    /// The amount and the value date as the use case reads them, or `None` with each refusal
    /// placed next to its field.
    pub fn read(
        &self,
        errors: &mut Errors,
        lang: Lang,
        labels: &[(&str, &str)],
    ) -> Option<(i64, NaiveDate)> {
        let date = ("value_date", self.value_date.as_str());
        errors.amount_and_date(&self.amount_vnd, date, lang, labels)
    }
}

/// The id of the transaction a money form posted — for a second submission of the same rendered
/// form, the first one's (nothing is posted again) — or `None` with the refusal placed on the form
/// (a refusal that is a page of its own is handed back).
pub(super) fn posted_id(
    outcome: AppResult<Idempotent<TransactionView>>,
    errors: &mut Errors,
    lang: Lang,
    labels: &[(&str, &str)],
) -> AppResult<Option<String>> {
    match outcome {
        Ok(Idempotent::Fresh(tx)) => Ok(Some(tx.id.to_string())),
        Ok(Idempotent::Replayed { body, .. }) => Ok(Some(replayed_id(&body))),
        Err(err) => {
            errors.refuse(err, lang, labels)?;
            Ok(None)
        }
    }
}

// ----- signing the contract -----

/// What the officer typed to sign.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SignForm {
    pub contract_number: String,
    pub signed_on: String,
    pub key: String,
}

/// `/loans/{id}/sign`.
#[derive(Template)]
#[template(path = "accounting_sign.html")]
pub struct SignPage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub loan: LoanView,
    pub cooperative: String,
    pub form: SignForm,
    pub signed_on_input: String,
    pub errors: Errors,
}

async fn sign_page(
    state: &AppState,
    user: &WebUser,
    id: LoanId,
    mut form: SignForm,
    errors: Errors,
) -> AppResult<SignPage> {
    user.caller.require(&[Role::Officer, Role::Approver])?;
    let (loan, cooperative) = loan_and_cooperative(state, user, id).await?;
    let a = accounting_text(user.lang);
    form.key = key_or_new(&form.key);
    let signed_on_input = date_input(&form.signed_on, loan.as_of.unwrap_or_default());
    Ok(SignPage {
        shell: user
            .shell(state, &format!("{} {}", a.sign_title, loan.number))
            .await,
        a,
        loan,
        cooperative,
        form,
        signed_on_input,
        errors,
    })
}

/// `GET /loans/{id}/sign`: the signing form (officers and approvers).
pub async fn sign_form(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
) -> Response {
    user.page(&state, async {
        sign_page(&state, &user, id, SignForm::default(), Errors::default()).await
    })
    .await
}

/// `POST /loans/{id}/sign`: records the signing once per rendered form.
pub async fn post_sign(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    FormBody(form): FormBody<SignForm>,
) -> Response {
    user.answer(&state, async {
        let a = accounting_text(user.lang);
        let labels = [
            ("contract_number", a.contract_number),
            ("signed_on", a.signed_on),
        ];
        let outcome = async {
            let signed_on = format::parse_date("signed_on", &form.signed_on)?;
            let key = keyed(
                &form.key,
                &(form.contract_number.trim(), signed_on.to_string()),
            )?;
            let command = SignContract {
                contract_number: form.contract_number.clone(),
                signed_on,
            };
            loans::sign(&state.ctx, &user.caller, id, command, Some(&key)).await
        }
        .await;
        let mut errors = Errors::default();
        match outcome {
            Ok(_) => return Ok(Redirect::to(&format!("/loans/{id}?done=signed")).into_response()),
            Err(err) => errors.refuse(err, user.lang, &labels)?,
        }
        let status = errors.status();
        Ok(render_with(
            status,
            &sign_page(&state, &user, id, form, errors).await?,
        ))
    })
    .await
}

// ----- disbursement -----

/// `/loans/{id}/disbursements`.
#[derive(Template)]
#[template(path = "accounting_disburse.html")]
pub struct DisbursePage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub loan: LoanView,
    pub cooperative: String,
    pub left_vnd: Vnd,
    pub form: MoneyForm,
    pub value_date_input: String,
    pub errors: Errors,
}

async fn disburse_page(
    state: &AppState,
    user: &WebUser,
    id: LoanId,
    mut form: MoneyForm,
    errors: Errors,
) -> AppResult<DisbursePage> {
    user.caller.require(&[Role::Accountant])?;
    let (loan, cooperative) = loan_and_cooperative(state, user, id).await?;
    let a = accounting_text(user.lang);
    form.key = key_or_new(&form.key);
    // What is shown as left; the use case decides what may be disbursed (422 above the approval).
    let left_vnd = Vnd::from_i64(0).max(loan.principal_vnd - loan.disbursed_vnd);
    if form.amount_vnd.is_empty() && errors.fields.is_empty() && left_vnd.is_positive() {
        form.amount_vnd = format::vnd_of(&left_vnd, user.lang)
            .trim_end_matches(" ₫")
            .to_string();
    }
    let value_date_input = date_input(&form.value_date, loan.as_of.unwrap_or_default());
    Ok(DisbursePage {
        shell: user
            .shell(state, &format!("{} {}", a.disburse_title, loan.number))
            .await,
        a,
        loan,
        cooperative,
        left_vnd,
        form,
        value_date_input,
        errors,
    })
}

/// `GET /loans/{id}/disbursements`: the disbursement form (accountants).
pub async fn disbursement_form(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
) -> Response {
    user.page(&state, async {
        disburse_page(&state, &user, id, MoneyForm::default(), Errors::default()).await
    })
    .await
}

/// What a disbursement's key fingerprints: the disbursement as the use case reads it.
#[derive(Serialize)]
struct DisbursementPrint<'a> {
    amount_vnd: i64,
    value_date: NaiveDate,
    reference: &'a str,
}

/// `POST /loans/{id}/disbursements`: posts once per rendered form.
pub async fn post_disbursement(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    FormBody(form): FormBody<MoneyForm>,
) -> Response {
    user.answer(&state, async {
        let a = accounting_text(user.lang);
        let labels = [
            ("amount_vnd", a.amount_label),
            ("value_date", a.value_date),
            ("reference", a.reference),
        ];
        let mut errors = Errors::default();
        if let Some((amount_vnd, value_date)) = form.read(&mut errors, user.lang, &labels) {
            let outcome = async {
                let key = keyed(
                    &form.key,
                    &DisbursementPrint {
                        amount_vnd,
                        value_date,
                        reference: form.reference.trim(),
                    },
                )?;
                let command = Disburse {
                    amount: Vnd::from_i64(amount_vnd),
                    value_date,
                    reference: form.reference.clone(),
                };
                loans::disburse(&state.ctx, &user.caller, id, command, Some(&key)).await
            }
            .await;
            if let Some(tx_id) = posted_id(outcome, &mut errors, user.lang, &labels)? {
                let disbursed = format!("/loans/{id}?disbursed={tx_id}#transactions");
                return Ok(Redirect::to(&disbursed).into_response());
            }
        }
        // The form shown again (a wrong role is told so by the page, whatever was typed).
        let status = errors.status();
        Ok(render_with(
            status,
            &disburse_page(&state, &user, id, form, errors).await?,
        ))
    })
    .await
}

// ----- reversal -----

/// What the accountant typed to reverse.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ReverseForm {
    pub reason: String,
    pub key: String,
}

/// `/loans/{id}/transactions/{tx}/reverse`.
#[derive(Template)]
#[template(path = "accounting_reverse.html")]
pub struct ReversePage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub loan: LoanView,
    pub cooperative: String,
    pub tx: TransactionView,
    pub form: ReverseForm,
    pub errors: Errors,
}

fn transaction_id(text: &str) -> AppResult<i64> {
    super::path_id(text, "giao dịch", "Transaction")
}

async fn reverse_page(
    state: &AppState,
    user: &WebUser,
    id: LoanId,
    tx_id: i64,
    mut form: ReverseForm,
    errors: Errors,
) -> AppResult<ReversePage> {
    user.caller.require(&[Role::Accountant])?;
    let (loan, cooperative) = loan_and_cooperative(state, user, id).await?;
    let tx = loans::transactions(&state.ctx, &user.caller, id)
        .await?
        .into_iter()
        .find(|t| t.id == tx_id)
        .ok_or_else(|| AppError::not_found("giao dịch", "Transaction"))?;
    let a = accounting_text(user.lang);
    form.key = key_or_new(&form.key);
    Ok(ReversePage {
        shell: user
            .shell(state, &format!("{} #{}", a.reverse_title, tx.id))
            .await,
        a,
        loan,
        cooperative,
        tx,
        form,
        errors,
    })
}

/// `GET /loans/{id}/transactions/{tx}/reverse`: the reversal form (accountants).
pub async fn reversal_form(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, tx)): Path<(String, String)>,
) -> Response {
    user.page(&state, async {
        let (id, tx_id) = (loan_id(&id)?, transaction_id(&tx)?);
        let (form, errors) = (ReverseForm::default(), Errors::default());
        reverse_page(&state, &user, id, tx_id, form, errors).await
    })
    .await
}

/// `POST /loans/{id}/transactions/{tx}/reverse`: posts the reversal once per rendered form.
pub async fn post_reversal(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, tx)): Path<(String, String)>,
    FormBody(form): FormBody<ReverseForm>,
) -> Response {
    user.answer(&state, async {
        let (id, tx_id) = (loan_id(&id)?, transaction_id(&tx)?);
        let a = accounting_text(user.lang);
        let labels = [("reason", a.reason)];
        let outcome = async {
            let key = keyed(&form.key, &(tx_id, form.reason.trim()))?;
            let command = Reverse {
                transaction_id: TransactionId::new(tx_id),
                reason: form.reason.clone(),
            };
            loans::reverse(&state.ctx, &user.caller, id, command, Some(&key)).await
        }
        .await;
        let mut errors = Errors::default();
        match outcome {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/loans/{id}?reversed={tx_id}#transactions"))
                        .into_response(),
                )
            }
            Err(err) => errors.refuse(err, user.lang, &labels)?,
        }
        let status = errors.status();
        Ok(render_with(
            status,
            &reverse_page(&state, &user, id, tx_id, form, errors).await?,
        ))
    })
    .await
}

// ----- payoff quote for any date -----

/// `/loans/{id}/payoff?date=`.
#[derive(Template)]
#[template(path = "accounting_payoff.html")]
pub struct PayoffPage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub loan: LoanView,
    pub cooperative: String,
    pub payoff: Option<PayoffView>,
    pub date_input: String,
    pub errors: Errors,
}

/// The payoff quote page's query as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PayoffQuery {
    date: String,
}

/// `GET /loans/{id}/payoff?date=`: what settles the loan on any date (any staff; a cooperative its
/// own loans), every component with its "how is this computed?" link.
pub async fn payoff_page(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    PageQuery(query): PageQuery<PayoffQuery>,
) -> Response {
    let a = accounting_text(user.lang);
    user.answer(&state, async {
        let (loan, cooperative) = loan_and_cooperative(&state, &user, id).await?;
        let mut errors = Errors::default();
        let date = if query.date.trim().is_empty() {
            loan.as_of
        } else {
            errors.read(
                format::parse_date("date", &query.date),
                user.lang,
                &[("date", a.payoff_date)],
            )
        };
        let payoff = match date {
            Some(date) => match loans::payoff(&state.ctx, &user.caller, id, Some(date)).await {
                Ok(p) => Some(p),
                Err(err) => {
                    errors.refuse(err, user.lang, &[("date", a.payoff_date)])?;
                    None
                }
            },
            None => None,
        };
        let date_input = date_input(&query.date, loan.as_of.unwrap_or_default());
        // A date that cannot be quoted is the query's fault, whatever the use case's kind.
        let status = if errors.any() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let page = PayoffPage {
            shell: user
                .shell(&state, &format!("{} {}", a.payoff_title, loan.number))
                .await,
            a,
            loan,
            cooperative,
            payoff,
            date_input,
            errors,
        };
        Ok(render_with(status, &page))
    })
    .await
}

// ----- close of business -----

/// `/cob`.
#[derive(Template)]
#[template(path = "accounting_cob.html")]
pub struct CobPage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub business_date: NaiveDate,
    pub last_closed_date: NaiveDate,
    pub runs: Vec<CobRun>,
    pub can_run: bool,
    pub through_input: String,
    /// What the last run did, after its redirect.
    pub done: Option<String>,
    pub errors: Errors,
}

impl CobPage {
    /// Who started a run, in words.
    pub fn trigger(&self, trigger: &Trigger) -> &'static str {
        let vi = self.a.lang_is_vi();
        match (trigger, vi) {
            (Trigger::Schedule, true) => "Lịch tự động",
            (Trigger::Schedule, false) => "Schedule",
            (Trigger::Api, true) => "Người dùng",
            (Trigger::Api, false) => "A user",
            (Trigger::Cli, true) => "Dòng lệnh",
            (Trigger::Cli, false) => "Command line",
        }
    }

    /// A timestamp as `dd/mm/yyyy hh:mm:ss`.
    pub fn at(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        at.format("%d/%m/%Y %H:%M:%S").to_string()
    }
}

impl AccountingText {
    /// Whether these are the Vietnamese strings.
    pub fn lang_is_vi(&self) -> bool {
        std::ptr::eq(self, &ACCOUNTING_VI)
    }
}

/// The close-of-business page's query as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CobQuery {
    done: String,
    through: String,
}

/// The most runs listed.
const RUNS_LIMIT: u64 = 30;

async fn cob_page_of(
    state: &AppState,
    user: &WebUser,
    typed_through: &str,
    done: Option<String>,
    errors: Errors,
) -> AppResult<CobPage> {
    let runs = cob::list_runs(
        &state.ctx,
        &user.caller,
        PageRequest::parse(Some(RUNS_LIMIT), None)?,
    )
    .await?
    .items;
    let dates = cob::business_dates(&state.ctx, &user.caller).await?;
    let a = accounting_text(user.lang);
    Ok(CobPage {
        shell: user.shell(state, a.cob_title).await,
        a,
        business_date: dates.business_date,
        last_closed_date: dates.last_closed_date,
        runs,
        can_run: matches!(user.caller.role(), Role::Accountant | Role::Admin),
        through_input: date_input(typed_through, dates.business_date),
        done,
        errors,
    })
}

/// `GET /cob`: the business date, the runs and their results, and (accountants, admins) the form
/// that runs the close of business through a date.
pub async fn cob_page(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<CobQuery>,
) -> Response {
    let a = accounting_text(user.lang);
    let done = match query.done.as_str() {
        "" => None,
        "skipped" => Some(a.cob_skipped.to_string()),
        "nothing" => Some(a.cob_nothing.to_string()),
        _ => Some(a.cob_done.to_string()),
    };
    let page = cob_page_of(&state, &user, &query.through, done, Errors::default());
    user.page(&state, page).await
}

/// The close-of-business form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CobForm {
    through: String,
}

/// `POST /cob`: closes every day from the business date through the one asked for (a second
/// submission finds them closed and does nothing: the close is idempotent per day).
pub async fn post_cob(
    State(state): State<AppState>,
    user: WebUser,
    FormBody(form): FormBody<CobForm>,
) -> Response {
    let a = accounting_text(user.lang);
    let labels = [("through", a.cob_through)];
    user.answer(&state, async {
        let outcome = async {
            let through = format::parse_date("through", &form.through)?;
            cob::run_through(&state.ctx, &user.caller, through, Trigger::Api).await
        }
        .await;
        let mut errors = Errors::default();
        match outcome {
            Ok(outcome) => {
                let done = if !outcome.ran {
                    "skipped"
                } else if outcome.runs.is_empty() {
                    "nothing"
                } else {
                    "closed"
                };
                return Ok(Redirect::to(&format!("/cob?done={done}#runs")).into_response());
            }
            Err(err) => errors.refuse(err, user.lang, &labels)?,
        }
        let status = errors.status();
        let page = cob_page_of(&state, &user, &form.through, None, errors).await?;
        Ok(render_with(status, &page))
    })
    .await
}

// ----- charter capital -----

/// What was typed to record a contribution.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ContributionForm {
    pub amount_vnd: String,
    pub contributed_on: String,
    pub reference: String,
    pub key: String,
}

/// `/charter-capital`.
#[derive(Template)]
#[template(path = "accounting_charter.html")]
pub struct CharterPage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub fund_name: String,
    pub province: String,
    pub paid_in_vnd: i64,
    /// Newest first.
    pub contributions: Vec<Contribution>,
    pub can_contribute: bool,
    pub form: ContributionForm,
    pub contributed_on_input: String,
    pub done: bool,
    pub errors: Errors,
}

/// The charter capital page's query as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CharterQuery {
    done: String,
}

async fn charter_page_of(
    state: &AppState,
    user: &WebUser,
    mut form: ContributionForm,
    done: bool,
    errors: Errors,
) -> AppResult<CharterPage> {
    let fund = charter_capital::overview(&state.ctx, &user.caller).await?;
    let a = accounting_text(user.lang);
    form.key = key_or_new(&form.key);
    let mut contributions = fund.contributions;
    contributions.reverse();
    Ok(CharterPage {
        shell: user.shell(state, a.charter_title).await,
        a,
        fund_name: fund.name,
        province: fund.province,
        paid_in_vnd: fund.paid_in_charter_capital_vnd,
        contributions,
        can_contribute: matches!(user.caller.role(), Role::Accountant | Role::Admin),
        contributed_on_input: date_input(&form.contributed_on, fund.business_date),
        form,
        done,
        errors,
    })
}

/// `GET /charter-capital`: the paid-in charter capital and its contributions (staff), with the
/// contribution form for accountants and admins.
pub async fn charter_page(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<CharterQuery>,
) -> Response {
    let (form, done) = (ContributionForm::default(), !query.done.is_empty());
    let page = charter_page_of(&state, &user, form, done, Errors::default());
    user.page(&state, page).await
}

/// What a contribution's key fingerprints.
#[derive(Serialize)]
struct ContributionPrint<'a> {
    amount_vnd: i64,
    contributed_on: NaiveDate,
    reference: &'a str,
}

/// `POST /charter-capital`: records a contribution once per rendered form.
pub async fn post_contribution(
    State(state): State<AppState>,
    user: WebUser,
    FormBody(form): FormBody<ContributionForm>,
) -> Response {
    user.answer(&state, async {
        let a = accounting_text(user.lang);
        let labels = [
            ("amount_vnd", a.amount_label),
            ("contributed_on", a.contributed_on),
            ("reference", a.reference),
        ];
        let mut errors = Errors::default();
        let typed = errors.amount_and_date(
            &form.amount_vnd,
            ("contributed_on", &form.contributed_on),
            user.lang,
            &labels,
        );
        if let Some((amount_vnd, contributed_on)) = typed {
            let outcome = async {
                let key = keyed(
                    &form.key,
                    &ContributionPrint {
                        amount_vnd,
                        contributed_on,
                        reference: form.reference.trim(),
                    },
                )?;
                let input = NewContribution {
                    amount_vnd,
                    contributed_on,
                    reference: form.reference.clone(),
                };
                charter_capital::contribute(&state.ctx, &user.caller, input, Some(&key)).await
            }
            .await;
            match outcome {
                Ok(_) => return Ok(Redirect::to("/charter-capital?done=1").into_response()),
                Err(err) => errors.refuse(err, user.lang, &labels)?,
            }
        } else if !matches!(user.caller.role(), Role::Accountant | Role::Admin) {
            // A wrong role is told so, whatever was typed.
            return Err(AppError::forbidden());
        }
        let status = errors.status();
        Ok(render_with(
            status,
            &charter_page_of(&state, &user, form, false, errors).await?,
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_strings() {
        assert!(accounting_text(Lang::Vi).lang_is_vi());
        assert!(!accounting_text(Lang::En).lang_is_vi());
        assert_eq!(
            accounting_text(Lang::En).how_computed,
            "How is this computed?"
        );
        assert_eq!(accounting_text(Lang::Vi).how_computed, "Cách tính?");
    }
}
