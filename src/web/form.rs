//! What every form page shares, whatever its area: the refusals of a submitted form placed next
//! to the fields they name ([`Errors`]), the idempotency key a rendered form carries
//! ([`key_or_new`], [`keyed`]), date inputs ([`date_input`]), the fields of a URL-encoded body
//! ([`pairs`], [`first`], [`all`]) and the answer of a form shown again ([`render_with`]).
//!
//! A form page is built by one function of its area from what was typed and the refusals to
//! show; its `GET` handler builds it empty, its `POST` handler calls the use case and either
//! redirects (post/redirect/get) or builds it again with [`Errors::refuse`]'s placement and
//! answers with [`Errors::status`].

use askama::Template;
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Multipart, Request},
    http::{request::Parts, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Serialize};

use super::{format, render};
use crate::{
    app::idempotency::IdempotencyKey,
    error::{AppError, AppResult, ErrorKind, Lang},
};

/// A refusal next to its field.
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The refusals of one submitted form: next to their fields, or above the form.
#[derive(Default)]
pub struct Errors {
    pub fields: Vec<FieldError>,
    /// A refusal that names no field of the form.
    pub general: Option<String>,
    /// The kind of the last refusal placed: the status the form is shown again with.
    kind: Option<ErrorKind>,
}

impl Errors {
    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Whether anything was refused (the summary above the form).
    pub fn any(&self) -> bool {
        !self.fields.is_empty() || self.general.is_some()
    }

    /// Places `err` next to its field when `label_of` names that field on the form, else above
    /// the form; in `lang`, with the field's technical name replaced by its label. A field shows
    /// its first refusal.
    pub fn place_by<L: std::fmt::Display>(
        &mut self,
        err: &AppError,
        lang: Lang,
        label_of: impl Fn(&str) -> Option<L>,
    ) {
        self.place_as(err, lang, str::to_string, label_of);
    }

    /// [`Errors::place_by`] for a form whose fields are not named as the use case names them:
    /// `form_field` gives the form's field for the use case's (`collateral[0].kind` → one input of
    /// a repeated line), `label_of` the label of the form's field.
    pub fn place_as<L: std::fmt::Display>(
        &mut self,
        err: &AppError,
        lang: Lang,
        form_field: impl Fn(&str) -> String,
        label_of: impl Fn(&str) -> Option<L>,
    ) {
        self.kind = Some(err.kind);
        let message = err.message.get(lang).to_string();
        let placed = err.field.as_deref().and_then(|named| {
            let field = form_field(named);
            label_of(&field).map(|label| (named, field, label))
        });
        match placed {
            Some((named, field, label)) => {
                if self.error_for(&field).is_none() {
                    self.fields.push(FieldError {
                        message: message.replace(&format!("'{named}'"), &format!("«{label}»")),
                        field,
                    });
                }
            }
            None => self.general = Some(message),
        }
    }

    /// [`Errors::place_by`] with the form's `labels` (field → label).
    pub fn place(&mut self, err: &AppError, lang: Lang, labels: &[(&str, &str)]) {
        self.place_by(err, lang, |field| {
            labels
                .iter()
                .find(|(name, _)| *name == field)
                .map(|(_, label)| *label)
        });
    }

    /// The value a field of the form reads as, or `None` with its refusal placed by
    /// [`Errors::place`].
    pub fn read<T>(
        &mut self,
        read: AppResult<T>,
        lang: Lang,
        labels: &[(&str, &str)],
    ) -> Option<T> {
        read.map_err(|e| self.place(&e, lang, labels)).ok()
    }

    /// The amount (`amount_vnd`, in `lang`'s digits) and the date (`date_field`) a money form
    /// posts, each refusal placed next to its field: both, or `None`.
    pub fn amount_and_date(
        &mut self,
        amount_vnd: &str,
        (date_field, date): (&str, &str),
        lang: Lang,
        labels: &[(&str, &str)],
    ) -> Option<(i64, NaiveDate)> {
        let amount_vnd = self.read(
            format::parse_vnd("amount_vnd", amount_vnd, lang),
            lang,
            labels,
        );
        let date = self.read(format::parse_date(date_field, date), lang, labels);
        amount_vnd.zip(date)
    }

    /// The refusal of the use case a form posts to, placed on the form; unless it is a page of
    /// its own (not found, not allowed, our own failure), which is handed back.
    pub fn refuse(&mut self, err: AppError, lang: Lang, labels: &[(&str, &str)]) -> AppResult<()> {
        if is_page_error(&err) {
            return Err(err);
        }
        self.place(&err, lang, labels);
        Ok(())
    }

    /// The status of the form shown again: its last refusal's, 200 when nothing was refused.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Some(kind) if self.any() => crate::http::error::status_of(kind),
            _ => StatusCode::OK,
        }
    }
}

/// A use case's refusal that is a page of its own (not found, not allowed, our own failure)
/// rather than a message on the form.
pub fn is_page_error(err: &AppError) -> bool {
    matches!(
        err.kind,
        ErrorKind::NotFound | ErrorKind::Forbidden | ErrorKind::Internal
    )
}

/// A page answered with `status`: a form shown again answers with its refusal's.
pub fn render_with<P: Template>(status: StatusCode, page: &P) -> Response {
    (status, render(page)).into_response()
}

/// A new idempotency key for a rendered form, or the one it came back with.
pub fn key_or_new(key: &str) -> String {
    if key.trim().is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        key.to_string()
    }
}

/// The idempotency key of a submitted form, fingerprinting `values` (what the use case reads).
pub fn keyed(key: &str, values: &impl Serialize) -> AppResult<IdempotencyKey> {
    let body = serde_json::to_vec(values).map_err(AppError::internal)?;
    IdempotencyKey::new(key, &body)
}

/// The id in a replayed response's JSON body (`{"id": …}`), as text: what the first submission of
/// a form created.
pub fn replayed_id(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["id"].as_i64())
        .map(|id| id.to_string())
        .unwrap_or_default()
}

/// `yyyy-mm-dd` for a date input: the typed text when it does not read as a date (kept as typed),
/// else `default`.
pub fn date_input(typed: &str, default: NaiveDate) -> String {
    if typed.trim().is_empty() {
        default.format("%Y-%m-%d").to_string()
    } else {
        match format::parse_date("date", typed) {
            Ok(d) => d.format("%Y-%m-%d").to_string(),
            Err(_) => typed.to_string(),
        }
    }
}

/// `path?name=value&…`: a link to a page with its query (the next page of a list, the list
/// filtered as it was), every value encoded.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// A page's query as typed, each field empty when absent; a query that does not read is an empty
/// one (it only filters what a page shows; what it asks for is checked by the use case).
pub fn query_of<T: DeserializeOwned + Default>(raw: &Option<String>) -> T {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default()
}

/// `?done=…` after a redirect (post/redirect/get): which confirmation a page shows.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Done {
    pub done: String,
}

/// A page's query read by [`query_of`] as the handler's argument: `PageQuery(query):
/// PageQuery<ListQuery>`. Never refuses a request.
pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequestParts<S> for PageQuery<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageQuery(query_of(&parts.uri.query().map(str::to_string))))
    }
}

/// A multipart form read by [`upload`]: its text fields and its file.
#[derive(Default)]
pub struct Upload {
    /// The text fields other than the token, in order.
    pub fields: Vec<(String, String)>,
    /// The file's name and content (empty when none was sent).
    pub file: (String, Bytes),
    /// The body was larger than its limit allows: the file is not all there.
    pub too_large: bool,
}

impl Upload {
    /// The text of field `name`, when it was sent.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// Reads a multipart form whose CSRF token (`csrf`) comes first, the file in field `file`: nothing
/// of a forged form is read beyond its first field, and a missing or wrong token is the refused
/// page (`Err`), logged as `what` refused.
pub async fn upload(
    headers: &HeaderMap,
    multipart: &mut Multipart,
    what: &str,
) -> Result<Upload, Response> {
    let mut csrf_ok = false;
    let mut upload = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            // Past a good token, a body that breaks off is one over the limit.
            Err(_) if csrf_ok => {
                upload.too_large = true;
                break;
            }
            Err(_) => return Err(super::refused(headers)),
        };
        let name = field.name().unwrap_or("").to_string();
        if !csrf_ok && name != "csrf" {
            break;
        }
        match name.as_str() {
            "csrf" => {
                let sent = field.text().await.unwrap_or_default();
                csrf_ok = super::csrf::is_valid(headers, Some(&sent));
                if !csrf_ok {
                    break;
                }
            }
            "file" => {
                let file_name = field.file_name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(bytes) => upload.file = (file_name, bytes),
                    Err(_) => {
                        upload.too_large = true;
                        break;
                    }
                }
            }
            _ => {
                let text = field.text().await.unwrap_or_default();
                upload.fields.push((name, text));
            }
        }
    }
    if !csrf_ok {
        tracing::warn!("{what} refused: missing or wrong CSRF token");
        return Err(super::refused(headers));
    }
    Ok(upload)
}

/// A submitted form as typed, each field empty when absent: the use case checks every value and
/// a refusal shows the form again with what was typed.
pub fn body_of<T: DeserializeOwned + Default>(body: &[u8]) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// A submitted form read by [`body_of`] as the handler's (last) argument: `FormBody(form):
/// FormBody<RepaymentForm>`.
pub struct FormBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for FormBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(FormBody(body_of(&body_bytes(request, state).await?)))
    }
}

/// The [`pairs`] of a submitted form as the handler's (last) argument: `FormPairs(pairs):
/// FormPairs`, for a form that repeats a name.
pub struct FormPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(FormPairs(pairs(&body_bytes(request, state).await?)))
    }
}

/// A submitted form's body; one that cannot be read is answered as axum answers it.
async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Response> {
    Bytes::from_request(request, state)
        .await
        .map_err(IntoResponse::into_response)
}

/// The `(name, value)` pairs of a URL-encoded form, in order (a checkbox group repeats its name).
pub fn pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// The first value of `name` (empty when absent).
pub fn first(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Every value of `name`, in order.
pub fn all(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_goes_next_to_its_field_in_the_page_words_or_above_the_form() {
        let mut errors = Errors::default();
        let err = AppError::invalid("amount_vnd", crate::error::Reason::Required);
        errors.place(&err, Lang::Vi, &[("amount_vnd", "Số tiền (đồng)")]);
        let message = errors.error_for("amount_vnd").expect("next to the field");
        assert!(!message.contains("'amount_vnd'"), "{message}");
        assert!(errors.general.is_none());
        assert_eq!(errors.status(), StatusCode::BAD_REQUEST);

        let mut errors = Errors::default();
        let err = AppError::invalid("status", crate::error::Reason::Required);
        errors.place(&err, Lang::En, &[("amount_vnd", "Amount")]);
        assert!(errors.error_for("status").is_none());
        assert!(errors.general.is_some() && errors.any());
    }

    #[test]
    fn a_refusal_goes_next_to_the_form_field_for_the_one_the_use_case_names() {
        let mut errors = Errors::default();
        let err = AppError::invalid("collateral[0].value", crate::error::Reason::Required);
        let form_field = |named: &str| named.replace("collateral[0].value", "coll_value_0");
        let label_of = |field: &str| (field == "coll_value_0").then_some("Giá trị");
        errors.place_as(&err, Lang::Vi, form_field, label_of);
        let message = errors
            .error_for("coll_value_0")
            .expect("next to the form's field");
        assert!(!message.contains("'collateral[0].value'"), "{message}");
        assert!(errors.error_for("collateral[0].value").is_none());

        // A field the form does not show goes above the form.
        let err = AppError::invalid("documents", crate::error::Reason::Required);
        errors.place_as(&err, Lang::Vi, form_field, label_of);
        assert!(errors.general.is_some());
    }

    #[test]
    fn a_money_form_reads_its_amount_and_date_or_places_each_refusal() {
        let labels = [("amount_vnd", "Số tiền"), ("value_date", "Ngày giá trị")];
        let mut errors = Errors::default();
        let typed =
            errors.amount_and_date("1.500.000", ("value_date", "05/03/2026"), Lang::Vi, &labels);
        let date = NaiveDate::from_ymd_opt(2026, 3, 5).expect("a date");
        assert_eq!(typed, Some((1_500_000, date)));
        assert!(!errors.any());

        let typed = errors.amount_and_date("nhiều", ("value_date", "hôm qua"), Lang::Vi, &labels);
        assert_eq!(typed, None);
        assert!(errors.error_for("amount_vnd").is_some());
        assert!(errors.error_for("value_date").is_some());
    }

    #[test]
    fn a_page_error_is_not_placed_on_the_form() {
        let mut errors = Errors::default();
        let refused = errors.refuse(AppError::forbidden(), Lang::Vi, &[]);
        assert!(refused.is_err());
        assert!(!errors.any());
        assert_eq!(errors.status(), StatusCode::OK);
    }

    #[test]
    fn a_form_keeps_its_key_and_a_new_form_gets_one() {
        assert_eq!(key_or_new("abc"), "abc");
        let fresh = key_or_new(" ");
        assert_eq!(fresh.len(), 36);
        assert_ne!(fresh, key_or_new(""));
    }

    #[test]
    fn a_date_input_shows_the_typed_date_or_the_default() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(date_input("", d), "2026-03-05");
        assert_eq!(date_input("07/03/2026", d), "2026-03-07");
        assert_eq!(date_input("hôm qua", d), "hôm qua");
    }

    #[test]
    fn a_form_body_reads_in_order_with_repeated_names() {
        let pairs = pairs(b"role=a&name=x&role=b");
        assert_eq!(first(&pairs, "name"), "x");
        assert_eq!(first(&pairs, "none"), "");
        assert_eq!(all(&pairs, "role"), vec!["a", "b"]);
    }
}
