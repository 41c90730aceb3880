//! HTTPS without a proxy, and behind one (issue 15 item 4): the built-in TLS listener with a
//! certificate the test makes (rcgen), the plain-HTTP redirect, `Secure` cookies over HTTPS only,
//! and forwarded headers believed only from `server.trusted_proxies`.

use std::path::PathBuf;

use reqwest::{header, redirect::Policy, StatusCode};

use crate::helpers::{client_trusting, spawn_app, spawn_app_with, TestApp, ADMIN_PASSWORD};

/// A certificate for `localhost` and 127.0.0.1 with its key, as PEM files in a folder of the test.
struct TestCertificate {
    _dir: tempfile::TempDir,
    cert_path: PathBuf,
    key_path: PathBuf,
}

fn make_certificate() -> TestCertificate {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("a self-signed certificate");
    let dir = tempfile::tempdir().expect("tempdir");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).expect("write the certificate");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write the key");
    TestCertificate {
        _dir: dir,
        cert_path,
        key_path,
    }
}

/// A service with built-in HTTPS and the redirect on a free port (the admin logged in over HTTPS).
async fn spawn_https_app(certificate: &TestCertificate) -> TestApp {
    let (cert_path, key_path) = (certificate.cert_path.clone(), certificate.key_path.clone());
    spawn_app_with(move |s| {
        s.server.tls.enabled = true;
        s.server.tls.cert_path = cert_path;
        s.server.tls.key_path = key_path;
        s.server.tls.redirect_http = true;
        s.server.tls.redirect_port = 0;
    })
    .await
}

fn without_redirects(client: reqwest::ClientBuilder) -> reqwest::Client {
    client.redirect(Policy::none()).build().expect("client")
}

/// The `Set-Cookie` values of a response.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii cookie").to_string())
        .collect()
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap_or_default().to_string()
}

/// Logs in through the login page and returns every cookie set on the way (pre-session, session).
async fn page_login_cookies(app: &TestApp, client: &reqwest::Client) -> Vec<String> {
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .expect("login page");
    assert_eq!(page.status(), StatusCode::OK);
    let mut cookies = set_cookies(&page);
    let pre = cookies
        .iter()
        .find(|c| c.starts_with("cf_pre="))
        .expect("the login page sets the pre-session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_in(&page.text().await.unwrap());
    let done = client
        .post(app.url("/login"))
        .header(header::COOKIE, pre)
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(
        done.status(),
        StatusCode::SEE_OTHER,
        "the page login succeeds"
    );
    cookies.extend(set_cookies(&done));
    assert!(
        cookies.iter().any(|c| c.starts_with("cf_session=cf_")),
        "a session cookie is set: {cookies:?}"
    );
    cookies
}

#[tokio::test]
async fn https_serves_with_a_certificate_made_by_the_test() {
    let certificate = make_certificate();
    // `spawn_app_with` has already logged the admin in over HTTPS with a client that trusts only
    // this certificate.
    let app = spawn_https_app(&certificate).await;
    assert!(
        app.address.starts_with("https://127.0.0.1:"),
        "{}",
        app.address
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(
        health.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    let me = app.get("/api/v1/auth/me", &app.admin_token).await;
    assert_eq!(me.status(), StatusCode::OK);

    // A client that does not trust the certificate is refused the handshake: this is really TLS
    // with the test's certificate, not plain HTTP.
    let stranger = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(stranger.get(app.url("/healthz")).send().await.is_err());
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = app.address.replace("https://", "http://");
    let answer = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(
        answer.is_err() || answer.is_ok_and(|r| !r.status().is_success()),
        "plain HTTP must not be served on the HTTPS port"
    );
}

#[tokio::test]
async fn plain_http_is_redirected_to_the_same_path_over_https() {
    let certificate = make_certificate();
    let app = spawn_https_app(&certificate).await;
    let redirect = app
        .redirect_address
        .clone()
        .expect("a redirect listener when server.tls.redirect_http");
    let https_port = app.address.rsplit(':').next().unwrap().to_string();
    let client = without_redirects(reqwest::Client::builder());
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let response = client
            .request(
                method.clone(),
                format!("{redirect}/loans/17?tab=schedule&lang=en"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::PERMANENT_REDIRECT,
            "{method}: 308 keeps the method and body"
        );
        assert_eq!(
            response.headers()[header::LOCATION],
            format!("https://127.0.0.1:{https_port}/loans/17?tab=schedule&lang=en").as_str()
        );
    }
    // The host the client asked for is kept (without its plain-HTTP port).
    let named = client
        .get(format!("{redirect}/login"))
        .header(header::HOST, "quy.example.vn:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        named.headers()[header::LOCATION],
        format!("https://quy.example.vn:{https_port}/login").as_str()
    );
    // Followed by a browser-like client, the redirect ends on the page over HTTPS.
    let follower = client_trusting(&certificate.cert_path);
    let landed = follower
        .get(format!("{redirect}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), StatusCode::OK);
    assert!(
        landed.url().as_str().starts_with("https://"),
        "{}",
        landed.url()
    );
}

#[tokio::test]
async fn cookies_are_secure_over_https_and_not_over_plain_http() {
    let certificate = make_certificate();
    let https = spawn_https_app(&certificate).await;
    let client = without_redirects(
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(&std::fs::read(&certificate.cert_path).unwrap())
                    .unwrap(),
            ),
    );
    let cookies = page_login_cookies(&https, &client).await;
    for cookie in cookies.iter().filter(|c| !c.starts_with("cf_lang=")) {
        assert!(cookie.ends_with("; Secure"), "over HTTPS: {cookie}");
    }

    let plain = spawn_app().await;
    let client = without_redirects(reqwest::Client::builder());
    let cookies = page_login_cookies(&plain, &client).await;
    for cookie in &cookies {
        assert!(!cookie.contains("Secure"), "over plain HTTP: {cookie}");
    }
}

/// Default: nobody is trusted, so a client's own `X-Forwarded-Proto: https` (or `Forwarded`) over
/// plain HTTP does not make its cookies `Secure` (it would otherwise lose them on the next plain
/// request, and the scheme in logs would lie).
#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let app = spawn_app().await;
    let client = without_redirects(reqwest::Client::builder());
    for (name, value) in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=198.51.100.7;proto=https"),
    ] {
        let page = client
            .get(app.url("/login"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        for cookie in set_cookies(&page) {
            assert!(!cookie.contains("Secure"), "{name}: {cookie}");
        }
    }
}

/// Behind nginx/Caddy on the same machine (`trusted_proxies = ["127.0.0.1", "::1"]`), the proxy's
/// `X-Forwarded-Proto: https` or `Forwarded: proto=https` is believed: cookies are `Secure`.
#[tokio::test]
async fn forwarded_headers_from_a_trusted_proxy_are_believed() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1".into(), "::1".into()];
    })
    .await;
    let client = without_redirects(reqwest::Client::builder());
    for (name, value) in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=198.51.100.7;proto=https"),
    ] {
        let page = client
            .get(app.url("/login"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        let cookies = set_cookies(&page);
        assert!(!cookies.is_empty());
        for cookie in cookies {
            assert!(cookie.ends_with("; Secure"), "{name}: {cookie}");
        }
    }
    // The proxy saying plain HTTP is believed too.
    let page = client
        .get(app.url("/login"))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    for cookie in set_cookies(&page) {
        assert!(!cookie.contains("Secure"), "{cookie}");
    }
}

/// An unreadable key stops the start with a message naming `server.tls.key_path` (and a missing
/// certificate `server.tls.cert_path`).
#[tokio::test]
async fn an_unreadable_certificate_or_key_is_named_by_its_key() {
    let certificate = make_certificate();
    let mut settings = coopfund::config::Settings::load(None).expect("defaults");
    settings.server.port = 0;
    settings.server.tls.enabled = true;
    settings.server.tls.cert_path = certificate.cert_path.clone();
    settings.server.tls.key_path = certificate.key_path.with_file_name("no-such-key.pem");
    let error = coopfund::server::tls_config(&settings.server)
        .expect_err("a missing key")
        .to_string();
    assert!(error.contains("server.tls.key_path"), "{error}");
    assert!(error.contains("no-such-key.pem"), "{error}");

    // A file that is not a key at all.
    settings.server.tls.key_path = certificate.cert_path.clone();
    let error = coopfund::server::tls_config(&settings.server)
        .expect_err("a certificate is not a key")
        .to_string();
    assert!(error.contains("server.tls.key_path"), "{error}");

    settings.server.tls.key_path = certificate.key_path.clone();
    settings.server.tls.cert_path = certificate.key_path.with_file_name("no-such-cert.pem");
    let error = coopfund::server::tls_config(&settings.server)
        .expect_err("a missing certificate")
        .to_string();
    assert!(error.contains("server.tls.cert_path"), "{error}");

    settings.server.tls.cert_path = certificate.cert_path.clone();
    assert!(coopfund::server::tls_config(&settings.server).is_ok());
}
