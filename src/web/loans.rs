//! `/loans`, `/loans/{id}` and the accountant's repayment form `/loans/{id}/repayments`.
//!
//! The loan page shows what the API's loan, schedule and transactions use cases return, as of the
//! business date: terms, balances, DPD and debt group, the schedule with each installment's status
//! and the transactions with their allocation.
//!
//! The repayment form calls [`loans::repay`], the API's use case, with an idempotency key made when
//! the form was rendered (a hidden field): a double click or a resubmitted form sends the same key
//! and the same values, so the second request replays the first instead of posting again; the
//! success is a redirect (post/redirect/get), so reloading the loan page never resubmits. Before
//! posting, the form shows the payoff quote for the chosen value date ([`loans::payoff`]). A refusal
//! is shown next to the field it names, with what was typed kept; the key stays the same (a refused
//! command stores no key, so the corrected form posts once).

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, LoanStatus, RepaymentKind, Vnd};
use serde::{Deserialize, Serialize};

use super::form::{link, FormBody, PageQuery};
use super::{
    accounting::{accounting_text, posted_id, AccountingText, MoneyForm},
    dashboard::{cooperative_names, LoanRow, LIST_LIMIT},
    form::{key_or_new, keyed, render_with, Errors},
    format, render, PathId, Shell, WebUser,
};
use crate::{
    app::{
        cooperatives,
        ledger::journal::{self, EntryFilter, PostedEntry},
        loans::{
            self, LoanFilter, LoanSchedule, LoanView, PayoffView, Repay, RepaymentPreview,
            TransactionView,
        },
        outbox::OutboxMessage,
        page::PageRequest,
    },
    auth::Role,
    error::{AppResult, ErrorKind},
    http::routes::loans::name_of,
    state::AppState,
};

/// A loan id from a path of two ids (a page's own is a [`PathId`]); anything but a positive
/// number is a 404 (as for a loan that does not exist).
pub(crate) fn loan_id(text: &str) -> AppResult<LoanId> {
    super::path_id(text, "khoản vay", "Loan").map(LoanId::new)
}

/// The loan and its cooperative's name, for a page's heading.
pub(super) async fn loan_and_cooperative(
    state: &AppState,
    user: &WebUser,
    id: LoanId,
) -> AppResult<(LoanView, String)> {
    let loan = loans::get(&state.ctx, &user.caller, id).await?;
    let cooperative = cooperatives::get(&state.ctx, &user.caller, loan.cooperative_id.into())
        .await?
        .name;
    Ok((loan, cooperative))
}

// ----- the list -----

/// `/loans`.
#[derive(Template)]
#[template(path = "loans.html")]
pub struct LoansPage {
    pub shell: Shell,
    pub rows: Vec<LoanRow>,
    pub status: String,
    pub statuses: [&'static str; 5],
    pub next_href: Option<String>,
}

impl LoansPage {
    /// Whether the list is filtered by `status` (the selected option).
    pub fn is_status(&self, status: &str) -> bool {
        self.status == status
    }
}

/// The loans list's query as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    cooperative_id: String,
    cursor: String,
}

/// `GET /loans?status=&cooperative_id=&cursor=`: loans newest first.
pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    user.page(&state, async {
        let page = loans::list(
            &state.ctx,
            &user.caller,
            LoanFilter {
                status: Some(query.status.as_str())
                    .filter(|s| !s.is_empty())
                    .map(|s| name_of("status", s, LoanStatus::ALL))
                    .transpose()?,
                cooperative_id: query.cooperative_id.parse().ok(),
                limit: Some(LIST_LIMIT.min(50)),
                cursor: Some(query.cursor.clone()).filter(|c| !c.is_empty()),
                ..Default::default()
            },
        )
        .await?;
        let names = cooperative_names(&state, &user.caller).await?;
        let next_href = page.next_cursor.map(|cursor| {
            let (status, cooperative) = (query.status.as_str(), query.cooperative_id.as_str());
            link(
                "/loans",
                &[
                    ("status", status),
                    ("cooperative_id", cooperative),
                    ("cursor", &cursor),
                ],
            )
        });
        let t = super::text::text(user.lang);
        Ok(LoansPage {
            shell: user.shell(&state, t.nav_loans).await,
            rows: page.items.iter().map(|l| LoanRow::of(l, &names)).collect(),
            status: query.status.clone(),
            statuses: [
                "approved",
                "contract_signed",
                "active",
                "closed",
                "written_off",
            ],
            next_href,
        })
    })
    .await
}

// ----- one loan -----

/// `/loans/{id}`.
#[derive(Template)]
#[template(path = "loan.html")]
pub struct LoanPage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub loan: LoanView,
    pub cooperative: String,
    pub schedule: LoanSchedule,
    pub transactions: Vec<TransactionView>,
    /// The payoff on the business date, once something was disbursed.
    pub payoff: Option<PayoffView>,
    /// The loan's journal entries, newest first (staff only).
    pub entries: Vec<PostedEntry>,
    /// The mails queued about the loan, newest first (staff only).
    pub mails: Vec<OutboxMessage>,
    pub is_staff: bool,
    pub can_repay: bool,
    pub can_sign: bool,
    pub can_disburse: bool,
    pub can_reverse: bool,
    /// What the redirect after a command says happened.
    pub notice: Option<&'static str>,
    pub posted: Option<i64>,
}

impl LoanPage {
    /// Whether `tx` can still be reversed (not a reversal, not reversed already); the use case
    /// decides in the end.
    pub fn reversible(&self, tx: &TransactionView) -> bool {
        self.can_reverse
            && tx.reversed_by.is_none()
            && tx.kind != coopfund_domain::TransactionKind::Reversal
    }

    /// The name of account `code` in the page language (the code itself when unknown).
    pub fn account_name(&self, code: &str) -> String {
        match coopfund_domain::Account::from_code(code) {
            Some(account) if self.shell.lang == crate::error::Lang::En => {
                account.name_en().to_string()
            }
            Some(account) => account.name_vi().to_string(),
            None => code.to_string(),
        }
    }

    /// A timestamp as `dd/mm/yyyy hh:mm`.
    pub fn at(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        at.format("%d/%m/%Y %H:%M").to_string()
    }

    /// A mail's delivery status in words.
    pub fn mail_status(&self, status: &str) -> String {
        let pair = match status {
            "pending" => ("Chờ gửi", "Queued"),
            "sending" => ("Đang gửi", "Sending"),
            "sent" => ("Đã gửi", "Sent"),
            "failed" => ("Gửi lỗi", "Failed"),
            other => (other, other),
        };
        crate::error::Localized::new(pair.0, pair.1)
            .get(self.shell.lang)
            .to_string()
    }
}

/// The most journal entries listed on the loan page (newest first).
const ENTRIES_LIMIT: u64 = 50;

/// The loan page's query as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    posted: String,
    disbursed: String,
    reversed: String,
    done: String,
}

/// `GET /loans/{id}`: the loan page for any staff (a cooperative sees only its own: 404 otherwise).
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    PageQuery(query): PageQuery<ShowQuery>,
) -> Response {
    user.page(&state, async {
        let (loan, cooperative) = loan_and_cooperative(&state, &user, id).await?;
        let schedule = loans::schedule(&state.ctx, &user.caller, id).await?;
        let transactions = loans::transactions(&state.ctx, &user.caller, id).await?;
        let payoff = if loan.disbursed_vnd.is_positive() && loan.status == LoanStatus::Active {
            Some(loans::payoff(&state.ctx, &user.caller, id, None).await?)
        } else {
            None
        };
        // The books and the mails are the fund's: staff read them, a cooperative does not.
        let (entries, mails) = if user.caller.role() == Role::Cooperative {
            (Vec::new(), Vec::new())
        } else {
            let entries = journal::entries(
                &state.ctx,
                &user.caller,
                EntryFilter {
                    loan_id: Some(id),
                    ..Default::default()
                },
                PageRequest::parse(Some(ENTRIES_LIMIT), None)?,
            )
            .await?
            .items;
            (entries, loans::mails(&state.ctx, &user.caller, id).await?)
        };
        let t = super::text::text(user.lang);
        let a = accounting_text(user.lang);
        let role = user.caller.role();
        let notice = if !query.posted.is_empty() {
            Some(t.repayment_posted)
        } else if !query.disbursed.is_empty() {
            Some(a.disbursed_notice)
        } else if !query.reversed.is_empty() {
            Some(a.reversed_notice)
        } else if query.done == "signed" {
            Some(a.signed_notice)
        } else {
            None
        };
        Ok(LoanPage {
            shell: user
                .shell(&state, &format!("{} {}", t.loan, loan.number))
                .await,
            a,
            can_repay: role == Role::Accountant && loan.status == LoanStatus::Active,
            can_sign: matches!(role, Role::Officer | Role::Approver)
                && loan.status == LoanStatus::Approved,
            can_disburse: role == Role::Accountant
                && matches!(loan.status, LoanStatus::ContractSigned | LoanStatus::Active)
                && loan.disbursed_vnd < loan.principal_vnd,
            can_reverse: role == Role::Accountant,
            is_staff: role != Role::Cooperative,
            notice,
            posted: query.posted.parse().ok(),
            loan,
            cooperative,
            schedule,
            transactions,
            payoff,
            entries,
            mails,
        })
    })
    .await
}

// ----- the repayment form -----

/// What the accountant typed, kept as typed: a money form and the repayment's kind.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct RepaymentForm {
    /// The amount, value date, reference and key, as on every money form.
    #[serde(flatten)]
    pub money: MoneyForm,
    pub kind: String,
}

/// `/loans/{id}/repayments`.
#[derive(Template)]
#[template(path = "repayment.html")]
pub struct RepaymentPage {
    pub shell: Shell,
    pub a: &'static AccountingText,
    pub loan: LoanView,
    pub cooperative: String,
    pub payoff: PayoffView,
    pub form: RepaymentForm,
    /// The value date the form shows, as `yyyy-mm-dd` for the date input.
    pub value_date_input: String,
    pub errors: Errors,
    /// How the typed payment would be allocated (when amount and value date read).
    pub preview: Option<RepaymentPreview>,
    /// Why the typed payment cannot be previewed (e.g. above the payoff).
    pub preview_error: Option<String>,
}

impl RepaymentPage {
    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.error_for(field)
    }
}

/// The form's fields in the page's words, to name them in a refusal.
fn field_labels(t: &super::text::Text) -> [(&'static str, &'static str); 4] {
    [
        ("amount_vnd", t.amount_vnd_label),
        ("value_date", t.value_date),
        ("reference", t.reference),
        ("kind", t.repayment_kind),
    ]
}

async fn form_page(
    state: &AppState,
    user: &WebUser,
    id: LoanId,
    form: RepaymentForm,
    errors: Errors,
) -> AppResult<RepaymentPage> {
    user.caller.require(&[Role::Accountant])?;
    let (loan, cooperative) = loan_and_cooperative(state, user, id).await?;
    let business_date = loan.as_of.unwrap_or_default();
    // The payoff on the typed value date when it reads as one, else on the business date.
    let date = format::parse_date("value_date", &form.money.value_date)
        .ok()
        .filter(|d| *d <= business_date);
    let payoff = loans::payoff(
        &state.ctx,
        &user.caller,
        id,
        Some(date.unwrap_or(business_date)),
    )
    .await?;
    let value_date_input = match date {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None if form.money.value_date.trim().is_empty() => {
            business_date.format("%Y-%m-%d").to_string()
        }
        None => form.money.value_date.clone(),
    };
    let mut form = form;
    form.money.key = key_or_new(&form.money.key);
    if form.kind.is_empty() {
        form.kind = "ordinary".into();
    }
    let title = format!(
        "{} {}",
        super::text::text(user.lang).repayment_title,
        loan.number
    );
    // The allocation the posting would make, from the same engine (nothing is written).
    let (preview, preview_error) = match preview_of(state, user, id, &form).await {
        Some(Ok(preview)) => (Some(preview), None),
        Some(Err(err)) if err.kind == ErrorKind::Internal => return Err(err),
        Some(Err(err)) => (None, Some(err.message.get(user.lang).to_string())),
        None => (None, None),
    };
    Ok(RepaymentPage {
        shell: user.shell(state, &title).await,
        a: accounting_text(user.lang),
        preview,
        preview_error,
        loan,
        cooperative,
        payoff,
        form,
        value_date_input,
        errors,
    })
}

/// The preview of the typed repayment, when its amount and value date read (`None` otherwise:
/// nothing to preview yet).
async fn preview_of(
    state: &AppState,
    user: &WebUser,
    id: LoanId,
    form: &RepaymentForm,
) -> Option<AppResult<RepaymentPreview>> {
    let amount_vnd = format::parse_vnd("amount_vnd", &form.money.amount_vnd, user.lang).ok()?;
    let value_date = format::parse_date("value_date", &form.money.value_date).ok()?;
    let kind = name_of("kind", &form.kind, RepaymentKind::ALL).ok()?;
    let command = Repay {
        amount: Vnd::from_i64(amount_vnd),
        value_date,
        reference: form.money.reference.clone(),
        kind,
    };
    Some(loans::preview_repayment(&state.ctx, &user.caller, id, &command).await)
}

/// `GET /loans/{id}/repayments`: the form with the payoff on its value date (the "show payoff"
/// button and the htmx refresh submit the typed values here, so they are kept).
pub async fn repayment_form(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    PageQuery(form): PageQuery<RepaymentForm>,
) -> Response {
    user.answer(&state, async {
        let page = form_page(&state, &user, id, form, Errors::default()).await?;
        Ok(render(&page))
    })
    .await
}

/// What is fingerprinted with the key: the repayment as the use case reads it.
#[derive(Serialize)]
struct Fingerprint<'a> {
    amount_vnd: i64,
    value_date: NaiveDate,
    reference: &'a str,
    kind: &'a str,
}

/// `POST /loans/{id}/repayments` (CSRF-checked by the middleware): posts once per rendered form.
pub async fn post_repayment(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    FormBody(form): FormBody<RepaymentForm>,
) -> Response {
    user.answer(&state, async {
        let labels = field_labels(super::text::text(user.lang));
        let mut errors = Errors::default();
        let Some((amount_vnd, value_date)) = form.money.read(&mut errors, user.lang, &labels)
        else {
            return refused_form(&state, &user, id, form, errors).await;
        };
        let kind = if form.kind.is_empty() {
            "ordinary"
        } else {
            form.kind.as_str()
        };
        let outcome = async {
            // The key fingerprints the repayment as the use case reads it; the operation (the
            // loan) is added by it.
            let fingerprint = Fingerprint {
                amount_vnd,
                value_date,
                reference: form.money.reference.trim(),
                kind,
            };
            let key = keyed(&form.money.key, &fingerprint)?;
            let command = Repay {
                amount: Vnd::from_i64(amount_vnd),
                value_date,
                reference: form.money.reference.clone(),
                kind: name_of("kind", kind, RepaymentKind::ALL)?,
            };
            loans::repay(&state.ctx, &user.caller, id, command, Some(&key)).await
        }
        .await;
        match posted_id(outcome, &mut errors, user.lang, &labels)? {
            Some(tx_id) => {
                let posted = format!("/loans/{id}?posted={tx_id}#transactions");
                Ok(Redirect::to(&posted).into_response())
            }
            None => refused_form(&state, &user, id, form, errors).await,
        }
    })
    .await
}

/// The form shown again with its refusals, answered with their status.
async fn refused_form(
    state: &AppState,
    user: &WebUser,
    id: LoanId,
    form: RepaymentForm,
    errors: Errors,
) -> AppResult<Response> {
    let status = errors.status();
    Ok(render_with(
        status,
        &form_page(state, user, id, form, errors).await?,
    ))
}
