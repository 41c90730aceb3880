//! The web pages for the fund's people: server-rendered HTML from askama templates (checked at
//! compile time, under `templates/`), htmx only to improve what already works without JavaScript.
//!
//! The shape follows Kanidm's views: one module per area ([`auth`] login/logout/language,
//! [`dashboard`], [`loans`] with the repayment form, [`cooperatives`]); every page gets a [`Shell`]
//! (navigation by role, the business date, who is logged in, the CSRF token, the language); a
//! handler calls the same `app::` use case as the JSON route — never the database — and an error
//! becomes a page (403/404) or, in a form, a message next to its field with the typed values kept.
//!
//! Cross-cutting, in their own modules: [`cookies`] (session, language), [`csrf`] (a token per
//! session checked by middleware on every POST), [`text`] (every string, vi and en, one file),
//! [`mod@format`] (amounts, dates, rates), [`assets`] (the stylesheet and vendored htmx, served from the
//! binary). Every page response carries the security headers of [`security_headers`].

pub mod accounting;
pub mod admin;
pub mod applications;
pub mod assets;
pub mod auditor;
pub mod auth;
pub mod bank_statements;
pub mod chart;
pub mod cookies;
pub mod cooperatives;
pub mod csrf;
pub mod dashboard;
pub mod explain;
pub mod form;
pub mod format;
pub mod loans;
pub mod my_cooperative;
pub mod text;

use askama::Template;
use axum::{
    extract::{FromRequestParts, Path, Request},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use chrono::NaiveDate;
use coopfund_domain::ids::{ApplicationId, CooperativeId, LoanId};
use rust_decimal::Decimal;

use crate::{
    app::{cob, sessions, Caller},
    auth::Role,
    error::{AppError, ErrorKind, Lang},
    state::AppState,
};
use text::Text;

/// The page routes (merged into the service's router by [`crate::http::router`]).
pub fn router() -> Router<AppState> {
    let router = Router::new()
        .route("/", get(auth::root))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", post(auth::switch_language))
        .route("/home", get(dashboard::home))
        .route("/cooperatives", get(cooperatives::list))
        .route("/loans", get(loans::list))
        .route("/loans/{id}", get(loans::show))
        .route(
            "/loans/{id}/repayments",
            get(loans::repayment_form).post(loans::post_repayment),
        )
        .route("/static/{*path}", get(assets::serve));
    // Each area adds its own pages (its routes, templates and strings live in its module).
    let router = applications::routes(router);
    let router = accounting::routes(router);
    let router = admin::routes(router);
    let router = my_cooperative::routes(router);
    let router = auditor::routes(router);
    let router = explain::routes(router);
    bank_statements::routes(router)
        .layer(middleware::from_fn(csrf::protect))
        .layer(middleware::from_fn(security_headers))
        // A multipart form: outside the URL-encoded CSRF layer, checked by its handler.
        .merge(bank_statements::upload_router())
    // `my_cooperative::upload_router` is merged by `crate::http::router`: it has its own body limit.
}

/// The Content-Security-Policy of every page: nothing from elsewhere, no inline script or style.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Adds the security headers to every page response; pages are never cached (they show money).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    add_security_headers(response.headers_mut());
    response
}

fn add_security_headers(headers: &mut HeaderMap) {
    crate::http::set_static_headers(
        headers,
        [
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// The service's fallback: a JSON 404 under `/api/`, a 404 page anywhere else.
pub async fn fallback(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return AppError::not_found("đường dẫn", "Route").into_response();
    }
    let lang = lang_of(request.headers());
    let mut response = error_page(None, lang, &AppError::not_found("trang", "Page"));
    add_security_headers(response.headers_mut());
    response
}

/// The page language: the `cf_lang` cookie, else Vietnamese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookies::get(headers, cookies::LANG)
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// One link of the navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// Who is logged in, as the layout shows it.
pub struct ShellUser {
    pub name: String,
    /// The role's name in the page language.
    pub role: String,
}

/// What every page's layout shows: who, in what language, on what business date, and where to go.
pub struct Shell {
    pub lang: Lang,
    pub t: &'static Text,
    /// The logged-in user.
    pub user: Option<ShellUser>,
    pub nav: Vec<NavItem>,
    pub business_date: Option<NaiveDate>,
    /// The CSRF token for this page's forms.
    pub csrf: String,
    /// This page's path and query (the language switch comes back to it).
    pub here: String,
    pub title: String,
}

impl Shell {
    /// A shell for a visitor who is not logged in.
    pub fn anonymous(lang: Lang, csrf: String, here: String, title: &str) -> Shell {
        Shell {
            lang,
            t: text::text(lang),
            user: None,
            nav: Vec::new(),
            business_date: None,
            csrf,
            here,
            title: title.to_string(),
        }
    }

    /// An amount: `1.234.567 ₫`.
    pub fn vnd(&self, amount: &impl format::Amount) -> String {
        format::vnd_of(amount, self.lang)
    }

    /// The sum of two amounts: `1.234.567 ₫`.
    pub fn vnd_sum(&self, a: &impl format::Amount, b: &impl format::Amount) -> String {
        format::vnd_of(&(a.as_vnd() + b.as_vnd()), self.lang)
    }

    /// A date: `dd/mm/yyyy`.
    pub fn date(&self, date: &NaiveDate) -> String {
        format::date(*date)
    }

    /// An optional date; `–` when none.
    pub fn opt_date(&self, date: &Option<NaiveDate>) -> String {
        date.map(format::date).unwrap_or_else(|| "–".into())
    }

    /// An annual rate: `7,2 %/năm`.
    pub fn rate(&self, rate: &Decimal) -> String {
        format::rate(*rate, self.lang)
    }

    /// The name of a stored code (status, kind, role).
    pub fn label(&self, code: &str) -> String {
        text::label(code, self.lang)
    }

    /// The name of a debt group.
    pub fn group(&self, group: &i32) -> String {
        text::debt_group(i64::from(*group), self.lang)
    }

    /// The name of a debt group (a use case's result).
    pub fn debt_group(&self, group: &coopfund_domain::DebtGroup) -> String {
        text::debt_group(i64::from(group.number()), self.lang)
    }

    /// The name of a debt group given as its number.
    pub fn group_u8(&self, group: &u8) -> String {
        text::debt_group(i64::from(*group), self.lang)
    }

    /// A localized message from a use case.
    pub fn message(&self, err: &AppError) -> String {
        err.message.get(self.lang).to_string()
    }

    /// URL of a static asset, with its content hash so a new build is never served stale.
    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }
}

/// A logged-in user of the pages: the API's [`Caller`] (same roles, same scope) with the page
/// language and the session's CSRF token.
pub struct WebUser {
    pub caller: Caller,
    /// The session token (the cookie's value), for logout.
    pub token: String,
    pub lang: Lang,
    pub csrf: String,
    pub here: String,
    pub secure: bool,
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let to_login = || {
            let next = serde_urlencoded::to_string([("next", here.as_str())]).unwrap_or_default();
            Redirect::to(&format!("/login?{next}")).into_response()
        };
        let Some(token) = cookies::get(&parts.headers, cookies::SESSION).map(str::to_string) else {
            return Err(to_login());
        };
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut caller = match sessions::authenticate(&state.ctx, &token, request_id).await {
            Ok(caller) => caller,
            Err(err) if err.kind == ErrorKind::Unauthorized => return Err(to_login()),
            Err(err) => return Err(error_page(None, lang_of(&parts.headers), &err)),
        };
        // The page language: the visitor's switch, else the account's language.
        let lang = cookies::get(&parts.headers, cookies::LANG)
            .and_then(Lang::parse)
            .unwrap_or(caller.lang);
        caller.lang = lang;
        Ok(WebUser {
            csrf: csrf::token_for(&token),
            secure: cookies::is_tls(&parts.headers),
            caller,
            token,
            lang,
            here,
        })
    }
}

impl WebUser {
    /// The shell of a page titled `title`, with the business date read through the use case.
    pub async fn shell(&self, state: &AppState, title: &str) -> Shell {
        let business_date = cob::business_dates(&state.ctx, &self.caller)
            .await
            .ok()
            .map(|v| v.business_date);
        let t = text::text(self.lang);
        Shell {
            lang: self.lang,
            t,
            user: Some(ShellUser {
                name: self.caller.name().to_string(),
                role: text::label(self.caller.role().as_str(), self.lang),
            }),
            nav: nav_for(self.caller.role(), t, &self.here),
            business_date,
            csrf: self.csrf.clone(),
            here: self.here.clone(),
            title: title.to_string(),
        }
    }

    /// The page for a use case's error, with this user's navigation.
    pub async fn fail(&self, state: &AppState, err: AppError) -> Response {
        let shell = self.shell(state, "").await;
        error_page(Some(shell), self.lang, &err)
    }

    /// The frame every page handler shares: the response `work` builds, or, when a use case
    /// refuses or fails on the way, the error page for it ([`WebUser::fail`]).
    pub async fn answer(
        &self,
        state: &AppState,
        work: impl std::future::Future<Output = crate::error::AppResult<Response>>,
    ) -> Response {
        match work.await {
            Ok(response) => response,
            Err(err) => self.fail(state, err).await,
        }
    }

    /// [`WebUser::answer`] for a page: the page `work` builds, rendered.
    pub async fn page<P: Template>(
        &self,
        state: &AppState,
        work: impl std::future::Future<Output = crate::error::AppResult<P>>,
    ) -> Response {
        self.page_with(state, StatusCode::OK, work).await
    }

    /// [`WebUser::page`] answered with `status` (a refused form shown again says why it was).
    pub async fn page_with<P: Template>(
        &self,
        state: &AppState,
        status: StatusCode,
        work: impl std::future::Future<Output = crate::error::AppResult<P>>,
    ) -> Response {
        self.answer(state, async {
            Ok((status, render(&work.await?)).into_response())
        })
        .await
    }
}

/// The navigation of `role`: each role sees where its work is (the pages behind each link check
/// the role again; the menu only leads).
fn nav_for(role: Role, t: &'static Text, here: &str) -> Vec<NavItem> {
    let bank = bank_statements::bank_text(if t.lang_code == "en" {
        Lang::En
    } else {
        Lang::Vi
    })
    .nav;
    let links: Vec<(&'static str, &'static str)> = match role {
        Role::Cooperative => vec![
            ("/home", t.nav_my_loans),
            ("/my/applications", t.nav_my_applications),
            ("/my/notifications", t.nav_notifications),
        ],
        Role::Officer => vec![
            ("/home", t.nav_dashboard),
            ("/cooperatives", t.nav_cooperatives),
            ("/applications", t.nav_applications),
            ("/loans", t.nav_loans),
        ],
        Role::Approver => vec![
            ("/home", t.nav_dashboard),
            ("/applications", t.nav_applications),
            ("/loans", t.nav_loans),
            ("/cooperatives", t.nav_cooperatives),
        ],
        Role::Accountant => vec![
            ("/home", t.nav_dashboard),
            ("/loans", t.nav_loans),
            ("/cob", t.nav_cob),
            ("/charter-capital", t.nav_charter_capital),
            ("/bank-statements", bank),
        ],
        Role::Auditor => vec![
            ("/home", t.nav_dashboard),
            ("/audit", t.nav_audit),
            ("/loans", t.nav_loans),
            ("/cooperatives", t.nav_cooperatives),
            ("/bank-statements", bank),
        ],
        Role::Admin => vec![
            ("/home", t.nav_dashboard),
            ("/loans", t.nav_loans),
            ("/cooperatives", t.nav_cooperatives),
            ("/admin/users", t.nav_users),
            ("/admin/products", t.nav_products),
            ("/admin/outbox", t.nav_outbox),
            ("/admin/config", t.nav_config),
        ],
    };
    links
        .into_iter()
        .map(|(href, label)| NavItem {
            href,
            label,
            current: here == href
                || here.starts_with(&format!("{href}/"))
                || here.starts_with(&format!("{href}?")),
        })
        .collect()
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub shell: Shell,
    pub status: u16,
    pub heading: String,
    pub detail: String,
}

/// Renders `err` as a page with its status: 403 and 404 in plain words, a use case's refusal with
/// its own message, our own failure logged in full and shown as a plain message.
pub fn error_page(shell: Option<Shell>, lang: Lang, err: &AppError) -> Response {
    let t = text::text(lang);
    let status = crate::http::error::status_of(err.kind);
    if err.kind == ErrorKind::Internal {
        tracing::error!(error = %err, "internal error on a page");
    }
    let (heading, detail) = match err.kind {
        ErrorKind::NotFound => (t.not_found_title, t.not_found_text.to_string()),
        ErrorKind::Forbidden => (t.forbidden_title, t.forbidden_text.to_string()),
        _ => (t.error_title, err.message.get(lang).to_string()),
    };
    let mut shell = shell.unwrap_or_else(|| Shell::anonymous(lang, String::new(), "/".into(), ""));
    shell.title = heading.to_string();
    let page = ErrorPage {
        shell,
        status: status.as_u16(),
        heading: heading.to_string(),
        detail,
    };
    (status, render(&page)).into_response()
}

/// The 403 page for a form refused by [`csrf::protect`].
pub fn refused(headers: &HeaderMap) -> Response {
    let lang = lang_of(headers);
    let t = text::text(lang);
    let page = ErrorPage {
        shell: Shell::anonymous(lang, String::new(), "/".into(), t.forbidden_title),
        status: 403,
        heading: t.forbidden_title.to_string(),
        detail: t.csrf_text.to_string(),
    };
    (StatusCode::FORBIDDEN, render(&page)).into_response()
}

/// Renders a template to an HTML response (a 500 page in plain text if a template fails, which
/// compile-time checking makes a bug of ours, logged).
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                "<!doctype html><title>500</title><p>Đã có lỗi hệ thống. Something went wrong.</p>",
            )
                .into_response()
        }
    }
}

/// What a page's `{id}` is the id of, in the words of the 404 page for one that is not an id.
pub trait PathKind: From<i64> {
    /// What the id names, in Vietnamese and in English: `("khoản vay", "Loan")`.
    const WHAT: (&'static str, &'static str);
}

impl PathKind for LoanId {
    const WHAT: (&'static str, &'static str) = ("khoản vay", "Loan");
}

impl PathKind for ApplicationId {
    const WHAT: (&'static str, &'static str) = ("hồ sơ vay", "Loan application");
}

impl PathKind for CooperativeId {
    const WHAT: (&'static str, &'static str) = ("hợp tác xã", "Cooperative");
}

/// A page's `{id}` read as the typed id of what it names: `PathId(id): PathId<LoanId>`. Anything
/// but a positive number is the 404 page with the user's navigation — the same answer as for an
/// id that does not exist or is not the caller's.
pub struct PathId<T>(pub T);

impl<T: PathKind + Send> FromRequestParts<AppState> for PathId<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match path_id(&text, T::WHAT.0, T::WHAT.1) {
            Ok(id) => Ok(PathId(T::from(id))),
            // The 404 page shows the user's navigation: the user is read again (a handler reads
            // it first, so this answers as it did).
            Err(err) => Err(WebUser::from_request_parts(parts, state)
                .await?
                .fail(state, err)
                .await),
        }
    }
}

/// A positive id from a path segment; anything else is the 404 page of `what_vi`/`what_en`, the
/// same answer as for an id that does not exist or is not the caller's.
pub fn path_id(text: &str, what_vi: &str, what_en: &str) -> crate::error::AppResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::not_found(what_vi, what_en))
}

/// Whether the request was made by htmx for a fragment (a history restore needs the whole page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some() && headers.get("hx-history-restore-request").is_none()
}
