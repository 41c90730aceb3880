//! The fund's calendar (DOMAIN.md §4): `GET /api/v1/calendar` for everyone,
//! `POST /api/v1/calendar/holidays` and `DELETE /api/v1/calendar/holidays/{date}` for admins.

use crate::http::responses::{
    BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use chrono::NaiveDate;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        calendar::{self, CalendarQuery, CalendarView, HolidayInput, HolidayView},
        Caller,
    },
    error::{AppError, AppResult, Reason},
    http::extract::{ApiJson, ApiQuery},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_calendar))
        .routes(routes!(add_holiday))
        .routes(routes!(remove_holiday))
}

/// The fund's days off between `from` and `to` (default: the business date and a year after),
/// each with the last day to pay without penalty an installment due on it; the weekly rules and
/// the holidays (any logged-in user).
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", security(("bearer" = [])),
    params(CalendarQuery),
    responses((status = 200, body = CalendarView), BadRequest,
              Unauthorized))]
pub async fn get_calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CalendarQuery>,
) -> AppResult<Json<CalendarView>> {
    calendar::view(&state.db, &caller, query).await.map(Json)
}

/// Enters a holiday (admin). Only a date after the business date (422
/// `holiday_not_after_business_date`): a closed day is never rewritten; 409 `holiday_exists`.
#[utoipa::path(post, path = "/api/v1/calendar/holidays", tag = "calendar", security(("bearer" = [])),
    request_body = HolidayInput,
    responses((status = 201, body = HolidayView), BadRequest,
              Forbidden, Conflict,
              Unprocessable))]
pub async fn add_holiday(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<HolidayInput>,
) -> AppResult<(StatusCode, Json<HolidayView>)> {
    calendar::add_holiday(&state.db, &state.money_writer, &caller, input)
        .await
        .map(|view| (StatusCode::CREATED, Json(view)))
}

/// Removes a holiday (admin). Only a date after the business date (422); 404 when it is not a
/// holiday in force. The record is kept, marked removed.
#[utoipa::path(delete, path = "/api/v1/calendar/holidays/{date}", tag = "calendar",
    security(("bearer" = [])),
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = HolidayView), BadRequest,
              Forbidden, NotFound,
              Unprocessable))]
pub async fn remove_holiday(
    State(state): State<AppState>,
    caller: Caller,
    Path(date): Path<String>,
) -> AppResult<Json<HolidayView>> {
    let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "date",
            Reason::InvalidFormat {
                expected: "YYYY-MM-DD",
            },
        )
    })?;
    calendar::remove_holiday(&state.db, &state.money_writer, &caller, date)
        .await
        .map(Json)
}
