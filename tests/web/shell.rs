//! The shell over plain HTTP: redirects, security headers, CSRF refusal, error pages, assets.

use reqwest::{header, redirect::Policy, StatusCode};

use crate::helpers::{spawn_app, ADMIN_PASSWORD};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// The `cf_…` cookies a response sets, as `name=value` pairs for a `Cookie` header.
fn cookies_of(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_string)
        .collect()
}

/// The value of `name="csrf" value="…"` in a page.
fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_root_sends_a_visitor_to_login_and_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let client = no_redirects();
    let root = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(root.status(), StatusCode::SEE_OTHER);
    assert_eq!(root.headers()[header::LOCATION], "/login");

    let login = client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let headers = login.headers();
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let pre = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        pre.starts_with("cf_pre=") && pre.contains("HttpOnly") && pre.contains("SameSite=Lax"),
        "{pre}"
    );
    let html = login.text().await.unwrap();
    assert!(html.contains("<html lang=\"vi\">"), "Vietnamese by default");
    assert!(html.contains("Đăng nhập hệ thống"));
    assert!(
        !html.contains("<script>") && !html.contains("style=\""),
        "no inline script or style"
    );

    // A page that needs a login sends the visitor there, remembering where they were going.
    let home = client.get(app.url("/loans/1")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()[header::LOCATION], "/login?next=%2Floans%2F1");
}

#[tokio::test]
async fn a_login_without_its_csrf_token_is_refused_and_with_it_opens_a_revocable_session() {
    let app = spawn_app().await;
    let client = no_redirects();
    let page = client.get(app.url("/login")).send().await.unwrap();
    let cookie = cookies_of(&page).join("; ");
    let csrf = csrf_in(&page.text().await.unwrap());

    // No token, a wrong token, or the right token without its cookie: 403, as a page.
    for (token, cookie) in [
        ("", cookie.as_str()),
        ("0000", cookie.as_str()),
        (csrf.as_str(), ""),
    ] {
        let refused = client
            .post(app.url("/login"))
            .header(header::COOKIE, cookie)
            .form(&[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf", token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(refused
            .text()
            .await
            .unwrap()
            .contains("Biểu mẫu đã hết hạn"));
    }

    // A wrong password: the form again, with the API's message and the username kept.
    let wrong = client
        .post(app.url("/login"))
        .header(header::COOKIE, &cookie)
        .form(&[
            ("username", "admin"),
            ("password", "not-it"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("Tên đăng nhập hoặc mật khẩu không đúng."));
    assert!(html.contains("value=\"admin\""));

    let ok = client
        .post(app.url("/login"))
        .header(header::COOKIE, &cookie)
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", "/loans"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()[header::LOCATION], "/loans");
    let set = ok.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.starts_with("cf_session=cf_")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(
        set.contains("Max-Age=28") || set.contains("Max-Age=27"),
        "expires with the token (8 h): {set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag");
    let session = set.split(';').next().unwrap().to_string();

    let dashboard = client
        .get(app.url("/home"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK);
    let html = dashboard.text().await.unwrap();
    assert!(html.contains("id=\"who\""), "who is logged in is shown");
    assert!(
        html.contains("id=\"business-date\""),
        "the business date is shown"
    );
    let session_csrf = csrf_in(&html);

    // A client's own X-Forwarded-Proto is not believed (no proxy is trusted by default), so its
    // cookies stay plain; a trusted proxy's and the built-in HTTPS are tested in tests/api/tls.rs.
    let page = client
        .get(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(!page.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("; Secure"));

    // Logout revokes the session server-side: the same cookie no longer opens a page.
    let out = client
        .post(app.url("/logout"))
        .header(header::COOKIE, &session)
        .form(&[("csrf", session_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = client
        .get(app.url("/home"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "a revoked session is not accepted"
    );
}

#[tokio::test]
async fn not_found_and_forbidden_are_pages_and_the_api_keeps_json() {
    let app = spawn_app().await;
    let client = no_redirects();
    let missing = client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(missing.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("Không tìm thấy trang"));

    let api = client.get(app.url("/api/v1/no-such")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert!(api.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));

    // The admin may not post repayments: the form is a 403 page; a loan that is not there a 404 page.
    let session = session_of(&app, "admin", ADMIN_PASSWORD).await;
    let form = client
        .get(app.url("/loans/1/repayments"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    assert!(form.text().await.unwrap().contains("Không được phép"));
    let loan = client
        .get(app.url("/loans/987654"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(loan.status(), StatusCode::NOT_FOUND);
    assert!(loan.text().await.unwrap().contains("Không tìm thấy trang"));
}

#[tokio::test]
async fn static_assets_are_served_from_the_binary_with_cache_headers() {
    let app = spawn_app().await;
    let client = no_redirects();
    let html = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let href = html
        .split("href=\"/static/app.css")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("stylesheet link");
    let css = client
        .get(app.url(&format!("/static/app.css{href}")))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(css.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let js = client
        .get(app.url("/static/vendor/htmx/htmx.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(
        js.headers()[header::CACHE_CONTROL],
        "no-cache",
        "an unversioned URL is revalidated"
    );
    let licence = client
        .get(app.url("/static/vendor/htmx/LICENSE"))
        .send()
        .await
        .unwrap();
    assert!(licence.text().await.unwrap().contains("Zero-Clause BSD"));
}

/// Logs in through the form and returns the `cf_session=…` cookie.
pub async fn session_of(app: &crate::helpers::TestApp, username: &str, password: &str) -> String {
    let client = no_redirects();
    let page = client.get(app.url("/login")).send().await.unwrap();
    let cookie = cookies_of(&page).join("; ");
    let csrf = csrf_in(&page.text().await.unwrap());
    let ok = client
        .post(app.url("/login"))
        .header(header::COOKIE, &cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER, "login of {username}");
    cookies_of(&ok)
        .into_iter()
        .find(|c| c.starts_with("cf_session="))
        .expect("session cookie")
}
