//! `GET /api/v1/loans/{id}/payment-qr`: a VietQR code to pay the loan (issue 10 §4), for the amount to pay
//! next or `?amount_vnd=`. Read like the loan itself: staff, auditor, and the cooperative its own loans only.

use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{payment_qr, Caller},
    error::AppResult,
    http::{
        dto::payment_qr::{PaymentQrParams, PaymentQrView},
        extract::{ApiId, ApiQuery},
        responses::{BadRequest, NotFound, Unprocessable},
    },
    state::AppState,
};

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_payment_qr))
}

/// A VietQR code (payload and inline SVG) to transfer the next payment, or `amount_vnd`, to the fund's
/// account with the loan number as the message; 422 `nothing_to_pay` when nothing is due (not disbursed,
/// settled) and 422 `invalid_amount` for an amount that is not a positive whole number of đồng.
#[utoipa::path(get, path = "/api/v1/loans/{id}/payment-qr", tag = "loans", security(("bearer" = [])),
    params(("id" = i64, Path), PaymentQrParams),
    responses((status = 200, body = PaymentQrView), BadRequest, NotFound, Unprocessable))]
pub async fn get_payment_qr(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiQuery(query): ApiQuery<PaymentQrParams>,
) -> AppResult<Json<PaymentQrView>> {
    let code = payment_qr::payment_qr(&state.ctx, &caller, id, query.into()).await?;
    Ok(Json(code.into()))
}
