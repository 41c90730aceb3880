//! The site's cookies: reading the `Cookie` header and writing `Set-Cookie`.
//!
//! - `cf_session`: the session — a token of the API's own kind (`api_tokens` row: stored hashed,
//!   expiring, revoked at logout or when the account is disabled), so a page login gets exactly the
//!   API's argon2 check and lockout. `HttpOnly` (no script reads it), `SameSite=Lax` (a link in a
//!   reminder mail opens logged in; a cross-site POST does not carry it), `Secure` when the request
//!   came over HTTPS (the service's own TLS, or a trusted proxy that terminates it: see
//!   [`crate::forwarded`]), `Max-Age` the token's lifetime.
//! - `cf_pre`: before login, a random value that seeds the login form's CSRF token (see
//!   [`super::csrf`]); same attributes, one hour.
//! - `cf_lang`: `vi` or `en`, the page language the visitor chose; a year.

use axum::http::{header, HeaderMap, HeaderValue};

/// The session cookie.
pub const SESSION: &str = "cf_session";
/// The pre-login CSRF seed.
pub const PRE_SESSION: &str = "cf_pre";
/// The chosen page language.
pub const LANG: &str = "cf_lang";

/// The value of cookie `name` in the request, if sent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Whether the request reached us over TLS, directly or through a trusted proxy.
///
/// Reads `X-Forwarded-Proto`, which [`crate::forwarded::believe`] (around the whole router) has
/// replaced by the scheme it believes: a client's own `X-Forwarded-Proto` never gets here.
pub fn is_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: `name=value` for `max_age_seconds` (0 deletes it), HttpOnly, Lax, Path=/.
pub fn set(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{secure}",
        max_age_seconds.max(0)
    );
    // Only our own names and values (hex, `cf_…`, `vi`/`en`) are written: always valid ASCII.
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("cf_invalid=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; cf_session=cf_abc; cf_lang=en"),
        );
        assert_eq!(get(&headers, SESSION), Some("cf_abc"));
        assert_eq!(get(&headers, LANG), Some("en"));
        assert_eq!(get(&headers, PRE_SESSION), None);
    }

    #[test]
    fn the_session_cookie_is_http_only_lax_and_secure_over_tls() {
        let plain = set(SESSION, "cf_x", 60, false);
        assert_eq!(
            plain.to_str().unwrap(),
            "cf_session=cf_x; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"
        );
        let tls = set(SESSION, "cf_x", 60, true);
        assert!(tls.to_str().unwrap().ends_with("; Secure"));
    }
}
