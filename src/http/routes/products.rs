//! `/api/v1/products`: loan products, the fund's lending rules per product.

use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{
        products::{self, ProductInput, ProductPage, ProductPatch, ProductQuery, ProductView},
        Caller,
    },
    error::AppResult,
    http::{
        error::ErrorEnvelope,
        extract::{ApiId, ApiJson, ApiQuery},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(get_product, update_product))
}

/// Creates a loan product (admin); rates above the legal caps are 422.
#[utoipa::path(post, path = "/api/v1/products", tag = "products", security(("bearer" = [])),
    request_body = ProductInput,
    responses((status = 201, body = ProductView), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ProductInput>,
) -> AppResult<(StatusCode, Json<ProductView>)> {
    let created = products::create(&state.db, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists products, newest first (any logged-in user).
#[utoipa::path(get, path = "/api/v1/products", tag = "products", security(("bearer" = [])),
    params(ProductQuery),
    responses((status = 200, body = ProductPage), (status = 400, body = ErrorEnvelope)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> AppResult<Json<ProductPage>> {
    products::list(&state.db, &caller, query).await.map(Json)
}

/// One product (any logged-in user).
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProductView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<ProductView>> {
    products::get(&state.db, &caller, id).await.map(Json)
}

/// Updates some fields; `version` must be current (admin).
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ProductPatch,
    responses((status = 200, body = ProductView), (status = 403, body = ErrorEnvelope), (status = 400, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(patch): ApiJson<ProductPatch>,
) -> AppResult<Json<ProductView>> {
    products::update(&state.db, &caller, id, patch)
        .await
        .map(Json)
}
