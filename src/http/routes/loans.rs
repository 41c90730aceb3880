//! `/api/v1/loans`: loans from approval onward and what is owed (API.md's fixed shapes). Money and state
//! POSTs take an optional `Idempotency-Key` (see [`crate::http::idempotency`]).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    Json,
};
use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, LoanStatus, Method, RepaymentKind, RestructureKind, Vnd};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        context::AppCtx,
        follow_ups,
        idempotency::{IdempotencyKey, Idempotent},
        loans::{self, Disburse, LoanFilter, Repay, Restructure, Reverse, SignContract, WriteOff},
        Caller,
    },
    error::{AppError, AppResult, Reason},
    http::{
        dto::loans::{
            LoanPage, LoanSchedule, LoanStatement, LoanView, PayoffView, TransactionView,
        },
        extract::{ApiId, ApiQuery},
        idempotency::{respond, Keyed},
        responses::{BadRequest, Conflict, Forbidden, NotFound, Unprocessable},
    },
    state::AppState,
};

// ----- the wire: bodies and query parameters, each parsed once into a command -----

/// A name of `all` read from the request field `field` (400 `unknown_value` listing them otherwise).
pub(crate) fn name_of<T>(field: &str, value: &str, all: &[T]) -> AppResult<T>
where
    T: Copy + std::str::FromStr + std::fmt::Display,
{
    value.parse().map_err(|_| {
        AppError::invalid(
            field,
            Reason::UnknownValue {
                allowed: all.iter().map(T::to_string).collect::<Vec<_>>().join(", "),
            },
        )
    })
}

/// The schedule methods, in the order the API lists them.
const METHODS: [Method; 3] = [Method::Annuity, Method::EqualPrincipal, Method::Bullet];

/// Filters and paging of the loan list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoanQuery {
    /// approved, contract_signed, active, closed, written_off, recovered.
    pub status: Option<String>,
    pub cooperative_id: Option<i64>,
    /// Only loans with DPD > 0 (true) or none (false), as cached by the last close of business or money
    /// command (the same as shown for open loans, which every close refreshes).
    pub overdue: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl TryFrom<LoanQuery> for LoanFilter {
    type Error = AppError;
    fn try_from(query: LoanQuery) -> AppResult<LoanFilter> {
        Ok(LoanFilter {
            status: query
                .status
                .as_deref()
                .map(|status| name_of("status", status, LoanStatus::ALL))
                .transpose()?,
            cooperative_id: query.cooperative_id.map(Into::into),
            overdue: query.overdue,
            limit: query.limit,
            cursor: query.cursor,
        })
    }
}

/// `?date=` of the payoff quote (default: the business date).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PayoffQuery {
    /// YYYY-MM-DD.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

/// `POST /loans/{id}/sign`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    /// The contract number (số hợp đồng tín dụng).
    pub contract_number: String,
    /// The signing date, at most the business date.
    #[schema(value_type = String, format = Date)]
    pub signed_on: NaiveDate,
}

impl From<SignBody> for SignContract {
    fn from(body: SignBody) -> SignContract {
        SignContract {
            contract_number: body.contract_number,
            signed_on: body.signed_on,
        }
    }
}

/// `POST /loans/{id}/disbursements` (API.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisbursementBody {
    pub amount_vnd: i64,
    /// At most the business date, not before the contract was signed.
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    /// The bank's reference (UNC …).
    pub reference: String,
}

impl From<DisbursementBody> for Disburse {
    fn from(body: DisbursementBody) -> Disburse {
        Disburse {
            amount: Vnd::from_i64(body.amount_vnd),
            value_date: body.value_date,
            reference: body.reference,
        }
    }
}

/// `POST /loans/{id}/repayments` (API.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepaymentBody {
    pub amount_vnd: i64,
    /// At most the business date; back-dated payments are replayed by the engine.
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    /// The bank's reference.
    pub reference: String,
    /// `ordinary` (excess held as an advance, default) or `prepayment` (excess cuts principal).
    #[serde(default)]
    pub kind: Option<String>,
}

impl TryFrom<RepaymentBody> for Repay {
    type Error = AppError;
    fn try_from(body: RepaymentBody) -> AppResult<Repay> {
        Ok(Repay {
            amount: Vnd::from_i64(body.amount_vnd),
            value_date: body.value_date,
            reference: body.reference,
            // API.md: the kind is optional and means `ordinary` when absent.
            kind: match body.kind.as_deref() {
                Some(kind) => name_of("kind", kind, RepaymentKind::ALL)?,
                None => RepaymentKind::Ordinary,
            },
        })
    }
}

/// `POST /loans/{id}/transactions/{tx}/reverse`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    /// Why (required).
    pub reason: String,
}

/// `POST /loans/{id}/restructure` (approver; Decree 45/2021 Art 27).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestructureBody {
    /// `adjustment` (due dates move, maturity unchanged) or `extension` (maturity later).
    pub kind: String,
    /// The first new due date, after the effective date.
    #[schema(value_type = String, format = Date)]
    pub first_due_on: NaiveDate,
    /// Number of new installments for all unpaid principal.
    pub installments: u32,
    /// Months between new due dates (default: the loan's).
    #[serde(default)]
    pub period_months: Option<u32>,
    /// Method of the new schedule (default: the loan's).
    #[serde(default)]
    pub method: Option<String>,
    /// Interest-only installments at the start (default 0).
    #[serde(default)]
    pub principal_grace: Option<u32>,
    /// Interest waived or reduced (classification §8: at least group 3). Must come with
    /// `interest_reduction_vnd`: a restructuring forgives nothing unless it says how much (DOMAIN.md §7).
    #[serde(default)]
    pub interest_reduced: Option<bool>,
    /// Interest forgiven, in đồng: late interest first, then overdue interest, then unpaid contractual interest;
    /// at most what is owed of those (default 0: nothing is forgiven).
    #[serde(default)]
    pub interest_reduction_vnd: Option<i64>,
    /// Effective date (default and maximum: the business date).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub value_date: Option<NaiveDate>,
    /// Why (required; the approval's grounds).
    pub reason: String,
}

impl TryFrom<RestructureBody> for Restructure {
    type Error = AppError;
    fn try_from(body: RestructureBody) -> AppResult<Restructure> {
        Ok(Restructure {
            kind: name_of("kind", &body.kind, RestructureKind::ALL)?,
            first_due_on: body.first_due_on,
            installments: body.installments,
            period_months: body.period_months,
            method: body
                .method
                .as_deref()
                .map(|method| name_of("method", method, &METHODS))
                .transpose()?,
            // The documented defaults: no grace, nothing forgiven.
            principal_grace: body.principal_grace.unwrap_or(0),
            interest_reduced: body.interest_reduced.unwrap_or(false),
            interest_reduction: Vnd::from_i64(body.interest_reduction_vnd.unwrap_or(0)),
            value_date: body.value_date,
            reason: body.reason,
        })
    }
}

/// `POST /loans/{id}/write-off` (approver; Decree 45/2021 Art 29).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteOffBody {
    /// The risk handling council's decision and grounds (required).
    pub reason: String,
    /// Effective date (default and maximum: the business date).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub value_date: Option<NaiveDate>,
    /// Confirms writing off a loan still in term (DPD 0, nothing overdue); refused without it (422).
    #[serde(default)]
    pub early: Option<bool>,
    /// Why a loan in term is written off (required with `early`).
    #[serde(default)]
    pub early_reason: Option<String>,
}

impl TryFrom<WriteOffBody> for WriteOff {
    type Error = AppError;
    fn try_from(body: WriteOffBody) -> AppResult<WriteOff> {
        Ok(WriteOff {
            early: follow_ups::early_write_off(body.early, body.early_reason.as_deref())?,
            reason: body.reason,
            value_date: body.value_date,
        })
    }
}

// ----- the routes -----

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_loans))
        .routes(routes!(get_loan))
        .routes(routes!(get_schedule))
        .routes(routes!(list_transactions))
        .routes(routes!(get_payoff))
        .routes(routes!(get_statement))
        .routes(routes!(sign_contract))
        .routes(routes!(restructure))
        .routes(routes!(write_off))
}

/// The money commands on a loan: they write only through `run_keyed`, which takes the writer gate
/// itself (and joins the group commit on SQLite), so they are mounted outside the request-wide gate
/// (see `crate::http::router`).
pub fn gating_themselves() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(disburse))
        .routes(routes!(repay))
        .routes(routes!(reverse_transaction))
}

/// Runs the keyed money command `run` (a loan use case) on loan `id` with `command` and the request's
/// key, and answers 201 with the transaction it appended (a replay: the first response, as stored).
pub(crate) async fn appended<C>(
    state: &AppState,
    caller: &Caller,
    id: i64,
    command: C,
    key: Option<IdempotencyKey>,
    run: impl AsyncFnOnce(
        &AppCtx,
        &Caller,
        LoanId,
        C,
        Option<&IdempotencyKey>,
    ) -> AppResult<Idempotent<loans::TransactionView>>,
) -> AppResult<Response> {
    let outcome = run(&state.ctx, caller, id.into(), command, key.as_ref()).await?;
    Ok(respond(
        outcome.map(TransactionView::from),
        StatusCode::CREATED,
    ))
}

/// Loans newest first (cooperative users: only theirs), balances as cached.
#[utoipa::path(get, path = "/api/v1/loans", tag = "loans", security(("bearer" = [])), params(LoanQuery),
    responses((status = 200, body = LoanPage), BadRequest))]
pub async fn list_loans(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LoanQuery>,
) -> AppResult<Json<LoanPage>> {
    loans::list(&state.ctx, &caller, query.try_into()?)
        .await
        .map(|page| Json(page.into()))
}

/// One loan with balances, next due, DPD and debt group as of the business date.
#[utoipa::path(get, path = "/api/v1/loans/{id}", tag = "loans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LoanView), NotFound))]
pub async fn get_loan(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<LoanView>> {
    let loan = loans::get(&state.ctx, &caller, id.into()).await?;
    Ok(Json(loan.into()))
}

/// The current schedule with what was paid on each installment.
#[utoipa::path(get, path = "/api/v1/loans/{id}/schedule", tag = "loans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = LoanSchedule), NotFound))]
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<LoanSchedule>> {
    let schedule = loans::schedule(&state.ctx, &caller, id.into()).await?;
    Ok(Json(schedule.into()))
}

/// Every transaction of the loan, oldest first, reversals included.
#[utoipa::path(get, path = "/api/v1/loans/{id}/transactions", tag = "loans", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TransactionView>), NotFound))]
pub async fn list_transactions(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<Vec<TransactionView>>> {
    let transactions = loans::transactions(&state.ctx, &caller, id.into()).await?;
    Ok(Json(
        transactions
            .into_iter()
            .map(TransactionView::from)
            .collect(),
    ))
}

/// The payoff quote on `date` (default: the business date).
#[utoipa::path(get, path = "/api/v1/loans/{id}/payoff", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), PayoffQuery),
    responses((status = 200, body = PayoffView), NotFound))]
pub async fn get_payoff(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiQuery(query): ApiQuery<PayoffQuery>,
) -> AppResult<Json<PayoffView>> {
    let payoff = loans::payoff(&state.ctx, &caller, id.into(), query.date).await?;
    Ok(Json(payoff.into()))
}

/// The loan statement with running balances.
#[utoipa::path(get, path = "/api/v1/loans/{id}/statement", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("format" = Option<String>, Query, description = "json (default), csv or xlsx")),
    responses((status = 200, body = LoanStatement), NotFound))]
pub async fn get_statement(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    crate::http::extract::Export(format): crate::http::extract::Export,
) -> AppResult<axum::response::Response> {
    let statement = LoanStatement::from(loans::statement(&state.ctx, &caller, id.into()).await?);
    let name = format!("statement-{}", statement.number);
    crate::http::export::json_or_table(format, &statement, &name, &statement.lines)
}

/// Signs the contract (officer, approver): approved → contract_signed.
#[utoipa::path(post, path = "/api/v1/loans/{id}/sign", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = SignBody,
    responses((status = 200, body = LoanView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn sign_contract(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<SignBody>,
) -> AppResult<Response> {
    let outcome = loans::sign(
        &state.ctx,
        &caller,
        id.into(),
        keyed.input.into(),
        keyed.key.as_ref(),
    )
    .await?;
    Ok(respond(outcome.map(LoanView::from), StatusCode::OK))
}

/// Disburses a tranche (accountant); the first makes the loan active.
#[utoipa::path(post, path = "/api/v1/loans/{id}/disbursements", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = DisbursementBody,
    responses((status = 201, body = TransactionView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn disburse(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<DisbursementBody>,
) -> AppResult<Response> {
    let command: Disburse = keyed.input.into();
    appended(&state, &caller, id, command, keyed.key, loans::disburse).await
}

/// Posts a repayment (accountant); the response carries its allocation.
#[utoipa::path(post, path = "/api/v1/loans/{id}/repayments", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RepaymentBody,
    responses((status = 201, body = TransactionView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn repay(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<RepaymentBody>,
) -> AppResult<Response> {
    let command: Repay = keyed.input.try_into()?;
    appended(&state, &caller, id, command, keyed.key, loans::repay).await
}

/// Reverses a transaction with a reason (accountant); nothing is deleted.
#[utoipa::path(post, path = "/api/v1/loans/{id}/transactions/{tx}/reverse", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("tx" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = ReverseBody,
    responses((status = 201, body = TransactionView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn reverse_transaction(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tx)): Path<(String, String)>,
    keyed: Keyed<ReverseBody>,
) -> AppResult<Response> {
    let not_found = || AppError::not_found("tài nguyên", "Resource");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let tx: i64 = tx.parse().map_err(|_| not_found())?;
    let outcome = loans::reverse(
        &state.ctx,
        &caller,
        id.into(),
        Reverse {
            transaction_id: tx.into(),
            reason: keyed.input.reason,
        },
        keyed.key.as_ref(),
    )
    .await?;
    Ok(respond(
        outcome.map(TransactionView::from),
        StatusCode::CREATED,
    ))
}

/// Restructures the loan (approver): `{"kind":"adjustment"|"extension","first_due_on","installments",
/// "period_months"?,"method"?,"principal_grace"?,"interest_reduced"?,"value_date"?,"reason"}`.
#[utoipa::path(post, path = "/api/v1/loans/{id}/restructure", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RestructureBody,
    responses((status = 201, body = TransactionView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn restructure(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<RestructureBody>,
) -> AppResult<Response> {
    let command: Restructure = keyed.input.try_into()?;
    appended(&state, &caller, id, command, keyed.key, loans::restructure).await
}

/// Writes the loan off against its provision (approver): `{"reason","value_date"?}`.
#[utoipa::path(post, path = "/api/v1/loans/{id}/write-off", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = WriteOffBody,
    responses((status = 201, body = TransactionView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn write_off(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<WriteOffBody>,
) -> AppResult<Response> {
    let command: WriteOff = keyed.input.try_into()?;
    appended(&state, &caller, id, command, keyed.key, loans::write_off).await
}
