//! `/api/v1/products`: loan products, the fund's lending rules per product.

use axum::{extract::State, http::StatusCode, Json};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{products, Caller},
    error::AppResult,
    http::dto::products::{
        ProductBody, ProductPageView, ProductPatchBody, ProductQuery, ProductView,
    },
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
    request_body = ProductBody,
    responses((status = 201, body = ProductView), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ProductBody>,
) -> AppResult<(StatusCode, Json<ProductView>)> {
    let created = products::create(&state.ctx, &caller, body.try_into()?).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Lists products, newest first (any logged-in user).
#[utoipa::path(get, path = "/api/v1/products", tag = "products", security(("bearer" = [])),
    params(ProductQuery),
    responses((status = 200, body = ProductPageView), (status = 400, body = ErrorEnvelope)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> AppResult<Json<ProductPageView>> {
    let page = products::list(&state.ctx, &caller, query.into()).await?;
    Ok(Json(page.into()))
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
    let found = products::get(&state.ctx, &caller, id.into()).await?;
    Ok(Json(found.into()))
}

/// Updates some fields; `version` must be current (admin).
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ProductPatchBody,
    responses((status = 200, body = ProductView), (status = 403, body = ErrorEnvelope), (status = 400, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 422, body = ErrorEnvelope)))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiJson(body): ApiJson<ProductPatchBody>,
) -> AppResult<Json<ProductView>> {
    let updated = products::update(&state.ctx, &caller, id.into(), body.try_into()?).await?;
    Ok(Json(updated.into()))
}
