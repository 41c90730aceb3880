//! The JSON API under `/api/v1`, plus `/healthz`, `/readyz` and `/metrics`.
//!
//! Every request gets an `x-request-id` (kept if the client sent one), a tracing span with
//! method, path and request id, a log line with status and latency, and a Prometheus counter and
//! histogram. Errors are rendered by [`error::localize_errors`]. The OpenAPI document, generated
//! from the handlers' annotations, is served at `/api/v1/openapi.json`.

pub mod classified;
pub mod dto;
pub mod error;
pub mod export;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod responses;
pub mod routes;
pub mod sheets;

use std::time::{Duration, Instant};

use axum::{
    extract::{DefaultBodyLimit, MatchedPath, Request},
    middleware::{self, Next},
    response::Response,
    Json, Router,
};
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Sets each `(name, value)` of `fixed` on `headers`, replacing what was there (values known when the
/// service is written: the security headers of a page or a download).
pub fn set_static_headers<const N: usize>(
    headers: &mut axum::http::HeaderMap,
    fixed: [(axum::http::HeaderName, &'static str); N],
) {
    for (name, value) in fixed {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
}

/// Builds the whole router with its middleware.
///
/// Bodies are bounded per route: every route reads at most `server.body_limit_bytes` (256 KiB by
/// default) except the two document uploads (the API's and the page's), which read up to
/// [`UPLOAD_BODY_LIMIT_BYTES`] so a document of the 5 MB limit gets through. Each group carries its
/// own pair of layers (axum's `DefaultBodyLimit` for the extractors, tower-http's
/// `RequestBodyLimitLayer` for a declared `Content-Length` and any body read another way): a
/// larger limit nested inside a smaller one could never take effect, so the groups are layered
/// apart and merged after.
pub fn router(state: AppState) -> Router {
    let (_, openapi) = api_routes().split_for_parts();
    let openapi_json = openapi::completed(&openapi);
    let body_limit = state.settings.server.body_limit_bytes;
    let upload_limit = body_limit.max(UPLOAD_BODY_LIMIT_BYTES);
    let (api, _) = gated_api_routes().split_for_parts();
    let (own_gates, _) = api_routes_gating_themselves().split_for_parts();
    let own_gates = own_gates
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit));
    let (document_api, _) = routes::application_documents::router().split_for_parts();
    let uploads = document_api
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(RequestBodyLimitLayer::new(upload_limit))
        // Outside the limit: its bare 413 becomes the document rule's own refusal.
        .layer(middleware::from_fn(
            routes::application_documents::name_the_size_limit,
        ))
        // The page's upload form, with the same limit and its refusal as a page.
        .merge(crate::web::my_cooperative::upload_router(upload_limit));
    api.route("/api/v1/openapi.json", axum::routing::get(move || async move { Json(openapi_json) }))
        // The pages (src/web) share the state, the tracing, metrics and limits; their errors are pages.
        .merge(crate::web::router())
        .fallback(crate::web::fallback)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .merge(uploads)
        // Every writing request, page or API, goes through the one SQLite writer (see `one_writer`)...
        .layer(middleware::from_fn_with_state(state.clone(), one_writer))
        // ...but those whose use cases take it themselves, merged after the layer so it does not wrap them.
        .merge(own_gates)
        .with_state(state)
        // Outside the body limit, so its 413 gets the JSON error shape too.
        .layer(middleware::from_fn(error::localize_errors))
        .layer(middleware::from_fn(record_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(drop_unfit_request_id))
}

/// The longest client-sent `x-request-id` that is kept, in bytes.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// A client's `x-request-id` is logged, echoed and stored in the audit trail: one longer than
/// [`MAX_REQUEST_ID_BYTES`], or with anything but visible ASCII, is replaced by a fresh one.
async fn drop_unfit_request_id(mut request: Request, next: Next) -> Response {
    let unfit = request.headers().get("x-request-id").is_some_and(|v| {
        v.len() > MAX_REQUEST_ID_BYTES
            || !v
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_graphic() || *b == b' ')
    });
    if unfit {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// The largest body the document upload routes read: the 5 MB document limit
/// ([`crate::app::application_documents::MAX_DOCUMENT_BYTES`]) and room for a multipart form's
/// boundaries, part headers and CSRF field, so a file just over the limit still reaches the use
/// case and is refused by its rule (`document_too_large`, 413).
pub const UPLOAD_BODY_LIMIT_BYTES: usize =
    crate::app::application_documents::MAX_DOCUMENT_BYTES + 64 * 1024;

/// Every documented route; the OpenAPI document is built from exactly these.
pub fn api_routes() -> OpenApiRouter<AppState> {
    gated_api_routes()
        .merge(api_routes_gating_themselves())
        .merge(routes::application_documents::router())
}

/// The documented routes whose writes take the writer gate themselves, step by step, instead of for the
/// whole request: the close of business (a long run must not stop the API) and the money commands on
/// loans, which write only through [`crate::app::idempotency::run_keyed`] — on SQLite it joins the group
/// commit (see [`crate::app::writer`]), and holding the gate for the whole request would let no second
/// command queue behind the first, so none would ever share its commit. A route belongs here only if
/// every write of its handler goes through such a use case.
fn api_routes_gating_themselves() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::cob::gating_themselves())
        .merge(routes::loans::gating_themselves())
        .merge(routes::recoveries::gating_themselves())
}

/// Every other documented route but the document upload's, which has a larger body limit (see
/// [`router`]): a request that may write holds the writer gate throughout ([`one_writer`]).
fn gated_api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::cooperatives::router())
        .merge(routes::loans::router())
        .merge(routes::recoveries::router())
        .merge(routes::payment_qr::router())
        .merge(routes::ledger::router())
        .merge(routes::products::router())
        .merge(routes::fund::router())
        .merge(routes::applications::router())
        .merge(routes::outbox::router())
        .merge(routes::backups::router())
        .merge(routes::schedule::router())
        .merge(routes::cob::router())
        .merge(routes::calendar::router())
        .merge(routes::audit::router())
        .merge(routes::reports::router())
        .merge(routes::bank_statements::router())
        .merge(routes::explain::router())
}

/// On SQLite, a request that may write runs holding the writer gate (see [`crate::app::writer`]),
/// so it never meets another writer's lock ("database is locked"). Not layered over
/// [`api_routes_gating_themselves`].
async fn one_writer(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let reads_only = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if reads_only {
        return next.run(request).await;
    }
    crate::app::writer::hold(&state.db, next.run(request)).await
}

/// Counts requests and their latency by route template and status.
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
