//! `/api/v1/applications/{id}/documents`: the supporting documents of an application (issue 10 §2).
//! The upload's body is the file itself (like a bank statement import), its name in `?file_name=`;
//! the type is decided by the content (PDF or JPEG). A document is served back only as a download.

use axum::{
    extract::{Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::{application_documents, application_documents::DocumentInfo, Caller},
    error::{AppError, AppResult, ErrorKind},
    http::{
        dto::application_documents::{DocumentView, UploadQuery},
        error::{ErrorBody, ErrorEnvelope},
        extract::{read_body, ApiId, ApiQuery},
    },
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_document, list_documents))
        .routes(routes!(download_document))
}

/// Adds a document (the borrowing cooperative or an officer, while the application is open): the
/// body is the file, a PDF or a JPEG by its content (415 otherwise), at most 5 MB (413
/// `document_too_large`: this route's body limit is its own, not `server.body_limit_bytes`); 409
/// once the application is decided or withdrawn, or at 20 documents.
#[utoipa::path(post, path = "/api/v1/applications/{id}/documents", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file: a PDF or a JPEG image"),
    responses((status = 201, body = DocumentView), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 413, body = ErrorEnvelope),
              (status = 415, body = ErrorEnvelope)))]
pub async fn upload_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
    ApiQuery(query): ApiQuery<UploadQuery>,
    request: Request,
) -> AppResult<(StatusCode, Json<DocumentView>)> {
    // Over the route's body limit (a body sent without its length): the document rule's refusal.
    let bytes = read_body(request, &state).await.map_err(|err| {
        if err.kind == ErrorKind::PayloadTooLarge {
            application_documents::too_large()
        } else {
            err
        }
    })?;
    let file_name = query.file_name.unwrap_or_default();
    let info = application_documents::upload(&state.ctx, &caller, id, &file_name, &bytes).await?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

/// The documents of an application, oldest first (whoever may read it; 404 for another
/// cooperative's).
#[utoipa::path(get, path = "/api/v1/applications/{id}/documents", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<DocumentView>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_documents(
    State(state): State<AppState>,
    caller: Caller,
    ApiId(id): ApiId,
) -> AppResult<Json<Vec<DocumentView>>> {
    let documents = application_documents::list(&state.ctx, &caller, id).await?;
    Ok(Json(
        documents.into_iter().map(DocumentView::from).collect(),
    ))
}

/// One document as a download (`Content-Disposition: attachment`, its checked type).
#[utoipa::path(get, path = "/api/v1/applications/{id}/documents/{document_id}", tag = "applications", security(("bearer" = [])),
    params(("id" = i64, Path), ("document_id" = i64, Path)),
    responses((status = 200, description = "The file, as a download", content((Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"))),
              (status = 404, body = ErrorEnvelope)))]
pub async fn download_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, document_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let not_found = || AppError::not_found("tài liệu", "Document");
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let document_id = document_id.parse::<i64>().map_err(|_| not_found())?;
    let (info, content) =
        application_documents::download(&state.ctx, &caller, id, document_id).await?;
    Ok(document_download(&info, content))
}

/// Layered outside the upload route's body limit (see [`crate::http::router`]): the bare 413 that
/// limit answers to a declared `Content-Length` over it becomes the document rule's refusal
/// (`document_too_large`, "5 MB at most" in the caller's language). A 413 the handler already
/// explained is left as is.
pub async fn name_the_size_limit(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE
        || response.extensions().get::<ErrorBody>().is_some()
    {
        return response;
    }
    application_documents::too_large().into_response()
}

/// An application's document as a download (the page's link and the API's route): the type
/// checked at upload, never shown inline, sniffed or run.
pub fn document_download(info: &DocumentInfo, content: Vec<u8>) -> Response {
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&info.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(value) =
        HeaderValue::from_str(&application_documents::content_disposition(&info.file_name))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    crate::http::set_static_headers(
        headers,
        [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox",
            ),
        ],
    );
    response
}
