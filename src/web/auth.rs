//! `/`, `/login`, `/logout` and `/lang`: who is at the keyboard, and in which language.
//!
//! Login is the API's login ([`sessions::login`]): the same accounts, argon2 check, the same work
//! for an unknown user, the same lockout after repeated failures; its token becomes the session
//! cookie (see [`super::cookies`]). Logout revokes that token server-side, so a copied cookie is
//! worthless afterwards.

use askama::Template;
use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Redirect, Response},
};

use rand::RngCore;
use serde::Deserialize;

use super::form::{FormBody, PageQuery};
use super::{cookies, csrf, error_page, lang_of, render, text, Shell, WebUser};
use crate::{
    app::sessions::{self, Credentials},
    error::Lang,
    state::AppState,
};

/// Only a path on this site (`/…`, not `//host` or `/\host`) is followed after login or a switch.
pub fn safe_local(path: &str) -> Option<&str> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control());
    ok.then_some(path)
}

/// `GET /`: the user's start page, or the login page.
pub async fn root(user: Result<WebUser, Response>) -> Response {
    match user {
        Ok(_) => Redirect::to("/home").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

/// The login page.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub shell: Shell,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
}

/// Where to go after logging in, as typed (kept only when local).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// The login form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `GET /login`: the form (or the start page when already logged in).
pub async fn login_page(
    user: Result<WebUser, Response>,
    headers: HeaderMap,
    PageQuery(next): PageQuery<NextQuery>,
) -> Response {
    if user.is_ok() {
        return Redirect::to("/home").into_response();
    }
    let lang = lang_of(&headers);
    // A visitor without a seed gets one, so the login form has a CSRF token too.
    let (seed, new_seed) = match csrf::seed_of(&headers) {
        Some(seed) => (seed.to_string(), None),
        None => {
            let seed = random_hex();
            (seed.clone(), Some(seed))
        }
    };
    let page = login_form(lang, &seed, String::new(), &next.next, None);
    let mut response = render(&page);
    if let Some(seed) = new_seed {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::PRE_SESSION, &seed, 3600, cookies::is_tls(&headers)),
        );
    }
    response
}

/// The login form for the pre-session `seed`, with what was typed; `next` is kept only when it
/// is a local address.
fn login_form(
    lang: Lang,
    seed: &str,
    username: String,
    next: &str,
    error: Option<String>,
) -> LoginPage {
    LoginPage {
        shell: Shell::anonymous(
            lang,
            csrf::token_for(seed),
            "/login".into(),
            text::text(lang).login_title,
        ),
        username,
        next: safe_local(next).unwrap_or("").to_string(),
        error,
    }
}

/// `POST /login` (CSRF-checked by the middleware).
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let secure = cookies::is_tls(&headers);
    let credentials = Credentials {
        username: form.username.clone(),
        password: form.password,
    };
    match sessions::login(&state.ctx, credentials).await {
        Ok(issued) => {
            let max_age = (issued.expires_at - state.ctx.now()).num_seconds();
            let target = safe_local(&form.next)
                .filter(|n| !n.starts_with("/login"))
                .unwrap_or("/home");
            let mut response = Redirect::to(target).into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                cookies::set(cookies::SESSION, &issued.token, max_age, secure),
            );
            headers.append(
                header::SET_COOKIE,
                cookies::set(cookies::PRE_SESSION, "", 0, secure),
            );
            response
        }
        Err(err) if err.kind == crate::error::ErrorKind::Internal => error_page(None, lang, &err),
        Err(err) => {
            let seed = csrf::seed_of(&headers).unwrap_or_default().to_string();
            let status = crate::http::error::status_of(err.kind);
            let error = Some(err.message.get(lang).to_string());
            let page = login_form(lang, &seed, form.username, &form.next, error);
            (status, render(&page)).into_response()
        }
    }
}

/// `POST /logout`: revokes the session and forgets the cookie.
pub async fn logout(
    State(state): State<AppState>,
    user: Result<WebUser, Response>,
    headers: HeaderMap,
) -> Response {
    if let Ok(user) = user {
        if let Err(err) = sessions::revoke(&state.ctx, &user.token).await {
            return user.fail(&state, err).await;
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, "", 0, cookies::is_tls(&headers)),
    );
    response
}

/// The language switch as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangForm {
    lang: String,
    back: String,
}

/// `POST /lang`: remembers the chosen language for a year and returns to the page.
pub async fn switch_language(headers: HeaderMap, FormBody(form): FormBody<LangForm>) -> Response {
    let lang = Lang::parse(&form.lang).unwrap_or_default();
    let back = safe_local(&form.back).unwrap_or("/");
    let mut response = Redirect::to(back).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            cookies::LANG,
            lang.code(),
            365 * 24 * 3600,
            cookies::is_tls(&headers),
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::safe_local;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_local("/loans/3"), Some("/loans/3"));
        assert_eq!(safe_local("//evil.example/x"), None);
        assert_eq!(safe_local("/\\evil.example"), None);
        assert_eq!(safe_local("https://evil.example"), None);
        assert_eq!(safe_local(""), None);
    }
}
