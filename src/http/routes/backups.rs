//! `/api/v1/backups`: the backup runs of the embedded database, ok and failed (admin).

use crate::http::responses::{Forbidden, Unauthorized};
use axum::{extract::State, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        backups::{self, BackupView},
        Caller,
    },
    error::AppResult,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_backups))
}

/// The last 100 backup runs, newest first, with the copy's file and SHA-256 or why it failed (admin).
#[utoipa::path(get, path = "/api/v1/backups", tag = "operations", security(("bearer" = [])),
    responses((status = 200, body = Vec<BackupView>), Unauthorized,
              Forbidden))]
pub async fn list_backups(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<BackupView>>> {
    backups::list(&state.db, &caller).await.map(Json)
}
