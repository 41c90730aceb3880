//! Cross-site request forgery protection for every form of the site.
//!
//! Every state-changing request (anything but GET, HEAD, OPTIONS) to a page route must carry a
//! `csrf` form field (or an `X-CSRF-Token` header) equal to the token of its session; the
//! [`protect`] middleware refuses anything else with a 403 page before a handler runs, so a new
//! form cannot forget the check.
//!
//! The token is derived, not stored: `SHA-256("coopfund csrf v1" ‖ seed)`, hex, where the seed is
//! the session cookie (or, before login, the random `cf_pre` cookie). The seed is HttpOnly and
//! never leaves the browser except to us, so another site can neither read nor compute the token;
//! the token reveals nothing of the session (a preimage would be needed). It changes with every
//! session, so a form rendered before logout or before another login no longer posts.

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{HeaderMap, Method},
    middleware::Next,
    response::Response,
};
use sha2::{Digest, Sha256};

use super::cookies;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
/// The header that may carry it instead (htmx requests).
pub const HEADER: &str = "x-csrf-token";
/// The largest form the site accepts (the repayment form is well under 1 KiB).
const FORM_LIMIT_BYTES: usize = 64 * 1024;

/// The token of the session (or pre-login seed) `seed`.
pub fn token_for(seed: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"coopfund csrf v1\0");
    hasher.update(seed.as_bytes());
    hex::encode(hasher.finalize())
}

/// The seed of this request: its session cookie, else its pre-login cookie.
pub fn seed_of(headers: &HeaderMap) -> Option<&str> {
    cookies::get(headers, cookies::SESSION).or_else(|| cookies::get(headers, cookies::PRE_SESSION))
}

/// Equal in constant time (the token must not be guessable byte by byte from response times).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether `sent` is the token of the request's seed.
pub fn is_valid(headers: &HeaderMap, sent: Option<&str>) -> bool {
    match (seed_of(headers), sent) {
        (Some(seed), Some(sent)) => same(&token_for(seed), sent),
        _ => false,
    }
}

/// The `csrf` field of a URL-encoded form body.
fn field_of(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == FIELD)
        .map(|(_, value)| value)
}

/// Refuses a state-changing request without its session's token (a 403 page).
pub async fn protect(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT_BYTES).await else {
        return super::refused(&parts.headers);
    };
    let from_header = parts
        .headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let sent = from_header.or_else(|| field_of(&bytes));
    if !is_valid(&parts.headers, sent.as_deref()) {
        tracing::warn!(path = %parts.uri.path(), "form refused: missing or wrong CSRF token");
        return super::refused(&parts.headers);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderValue};

    use super::*;

    fn with_cookie(cookie: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static(cookie));
        headers
    }

    #[test]
    fn only_the_token_of_the_requests_own_session_passes() {
        let headers = with_cookie("cf_session=cf_one");
        let good = token_for("cf_one");
        assert!(is_valid(&headers, Some(&good)));
        assert!(!is_valid(&headers, Some(&token_for("cf_two"))));
        assert!(!is_valid(&headers, Some("")));
        assert!(!is_valid(&headers, None));
        assert!(
            !is_valid(&HeaderMap::new(), Some(&good)),
            "no cookie, no pass"
        );
    }

    #[test]
    fn before_login_the_pre_session_cookie_seeds_the_token() {
        let headers = with_cookie("cf_pre=abc123");
        assert!(is_valid(&headers, Some(&token_for("abc123"))));
        // The session wins once there is one: an old login form no longer posts.
        let both = with_cookie("cf_pre=abc123; cf_session=cf_s");
        assert!(!is_valid(&both, Some(&token_for("abc123"))));
    }

    #[test]
    fn the_token_is_read_from_a_form_body() {
        assert_eq!(
            field_of(b"amount=5&csrf=ab%20c&x=1").as_deref(),
            Some("ab c")
        );
        assert_eq!(field_of(b"amount=5"), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
