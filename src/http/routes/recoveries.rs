//! After a write-off (Decree 45/2021 Art 29): `POST /api/v1/loans/{id}/recoveries` (accountant; optional
//! `Idempotency-Key`, like a repayment) and the follow-up file, `GET`/`POST /api/v1/loans/{id}/follow-ups`
//! (staff read, officers write; a cooperative gets 404).

use axum::{extract::State, http::StatusCode, response::Response, Json};
use chrono::NaiveDate;
use coopfund_domain::Vnd;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        follow_ups,
        loans::{self, Recover},
        Caller,
    },
    error::AppResult,
    http::{
        dto::loans::{FollowUpFile, FollowUpInput, FollowUpView, TransactionView},
        extract::{ApiId, ApiJson},
        idempotency::Keyed,
        responses::{BadRequest, Conflict, Forbidden, NotFound, Unprocessable},
    },
    state::AppState,
};

/// `POST /loans/{id}/recoveries` (accountant; Decree 45/2021 Art 29, DOMAIN.md §9).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryBody {
    pub amount_vnd: i64,
    /// At most the business date, not before the write-off.
    #[schema(value_type = String, format = Date)]
    pub value_date: NaiveDate,
    /// The bank's reference, or the court's enforcement decision.
    pub reference: String,
}

impl From<RecoveryBody> for Recover {
    fn from(body: RecoveryBody) -> Recover {
        Recover {
            amount: Vnd::from_i64(body.amount_vnd),
            value_date: body.value_date,
            reference: body.reference,
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_follow_ups, record_follow_up))
}

/// The recovery, a money command that takes the writer gate itself through `run_keyed` (see
/// `crate::http::router`).
pub fn gating_themselves() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recover))
}

/// Records money recovered on a written-off loan (accountant): principal written off first, then interest
/// not recognised; above what remains → 422 naming it.
#[utoipa::path(post, path = "/api/v1/loans/{id}/recoveries", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RecoveryBody,
    responses((status = 201, body = TransactionView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    keyed: Keyed<RecoveryBody>,
) -> AppResult<Response> {
    let command: Recover = keyed.input.into();
    super::loans::appended(&state, &caller, id, command, keyed.key, loans::recover).await
}

/// The follow-up file of a loan (staff): what remains under follow-up, the recoveries and the actions.
#[utoipa::path(get, path = "/api/v1/loans/{id}/follow-ups", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = FollowUpFile), Forbidden, NotFound))]
pub async fn list_follow_ups(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<FollowUpFile>> {
    let file = follow_ups::file(&state.ctx, &caller, id).await?;
    Ok(Json(file.into()))
}

/// Notes a follow-up action on a written-off loan (officer): visit, letter, legal_case or other.
#[utoipa::path(post, path = "/api/v1/loans/{id}/follow-ups", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = FollowUpInput,
    responses((status = 201, body = FollowUpView), BadRequest, Forbidden, NotFound, Conflict, Unprocessable))]
pub async fn record_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<FollowUpInput>,
) -> AppResult<(StatusCode, Json<FollowUpView>)> {
    let action = follow_ups::record(&state.ctx, &caller, id, input.into()).await?;
    Ok((StatusCode::CREATED, Json(action.into())))
}
