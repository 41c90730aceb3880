//! Logs never carry a secret (issue 13): a test binary of its own, because it installs a tracing subscriber
//! as the default of its thread, and tracing's per-callsite interest is shared by the whole process — a test
//! running beside it in the same binary can change what the subscriber is offered.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, unique, PASSWORD};

/// Creates an officer and returns (id, username).
async fn officer(app: &crate::helpers::TestApp) -> (i64, String) {
    let username = unique("officer");
    let r = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": username, "password": PASSWORD, "role": "officer"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    (body["id"].as_i64().unwrap(), username)
}

async fn try_login(
    app: &crate::helpers::TestApp,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

// Logs never carry a secret.

/// Collects everything written by the test's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The server runs on this test's (single-threaded) runtime, so a subscriber set as this thread's
/// default sees every event of the run, at debug level for the service, the HTTP layer and the
/// database drivers (statements included), in the JSON format production uses.
#[tokio::test]
async fn the_logs_of_a_run_with_logins_carry_no_password_token_or_session_cookie() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,hyper=info,h2=info,reqwest=info",
        ))
        .json()
        .flatten_event(true)
        .with_writer(captured.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let app = spawn_app().await;
    let (id, username) = officer(&app).await;
    let token = app.login(&username, PASSWORD).await;
    assert_eq!(
        try_login(&app, &username, "wrong-secret-guess-1")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_login(&app, "nobody-at-all", "other-secret-guess-2")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .bearer_auth(&token)
        .header("cookie", "coopfund_session=session-cookie-secret-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &app.admin_token,
            &json!({"password": "reset-secret-pass-4"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = app.login(&username, "reset-secret-pass-4").await;
    let r = app
        .client
        .delete(app.url("/api/v1/auth/token"))
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A bad token is logged no more than a good one.
    let bogus = "cf_bogus-token-secret-5";
    assert_eq!(
        app.get("/api/v1/auth/me", bogus).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("\"response\""), "nothing was captured");
    assert!(
        logs.contains("/api/v1/auth/token"),
        "no request was captured"
    );
    for secret in [
        crate::helpers::ADMIN_PASSWORD,
        PASSWORD,
        "wrong-secret-guess-1",
        "other-secret-guess-2",
        "session-cookie-secret-3",
        "reset-secret-pass-4",
        bogus,
        &token,
        &second,
        &app.admin_token,
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
    // Neither hashes: a stored password hash or token hash is as good as a secret offline.
    assert!(
        !logs.contains("$argon2"),
        "the logs contain a password hash"
    );
}

/// The client's address in the logs (every line of a request, e.g. a failed login's) is the TCP
/// peer's, unless that peer is a trusted proxy: then it is the one the proxy forwarded. Default:
/// nobody is trusted, so a client cannot choose the address it is logged under.
#[tokio::test]
async fn the_logged_client_address_is_forwarded_only_by_a_trusted_proxy() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,hyper=info,h2=info,reqwest=info",
        ))
        .json()
        .flatten_event(true)
        .with_writer(captured.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let failed_login_from = |app: &crate::helpers::TestApp, forwarded_for: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/token"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"username": "admin", "password": "not-the-password"}))
            .send()
    };
    let logged_lines = |needle: &str| {
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        logs.lines()
            .filter(|line| line.contains(needle))
            .map(String::from)
            .collect::<Vec<_>>()
    };

    // Nobody trusted (the default): the header is ignored, the peer is logged.
    let direct = spawn_app().await;
    let r = failed_login_from(&direct, "198.51.100.7").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        logged_lines("198.51.100.7").is_empty(),
        "an untrusted X-Forwarded-For reached the logs"
    );
    let responses = logged_lines("\"status\":401");
    assert!(
        responses
            .iter()
            .any(|line| line.contains("\"ip\":\"127.0.0.1\"")),
        "the failed login is logged with the peer's address: {responses:?}"
    );

    // Behind a trusted proxy on this machine: its forwarded client address is logged.
    let proxied = crate::helpers::spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1".into(), "::1".into()];
    })
    .await;
    let r = failed_login_from(&proxied, "203.0.113.45").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let responses = logged_lines("\"status\":401");
    assert!(
        responses
            .iter()
            .any(|line| line.contains("\"ip\":\"203.0.113.45\"")),
        "the failed login is logged with the forwarded client's address: {responses:?}"
    );
}

/// Issue 15: "a failed backup is logged" (besides listed and mailed, tests/api/backups.rs): an error line
/// naming the cause.
#[tokio::test]
async fn a_failed_scheduled_backup_is_logged_as_an_error() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "debug,hyper=info,h2=info,reqwest=info",
        ))
        .json()
        .flatten_event(true)
        .with_writer(captured.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let app = spawn_app().await;
    if !app.settings.database.url.starts_with("sqlite") {
        return; // PostgreSQL is backed up with its own tools.
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let blocked = dir.path().join("blocked-by-a-file");
    std::fs::write(&blocked, b"not a folder").expect("write");
    let settings = coopfund::config::BackupSettings {
        enabled: true,
        cron: "0 0 2 * * *".into(),
        dir: blocked,
        retention_count: 2,
    };
    let ctx = coopfund::app::context::AppCtx::new(
        app.db.clone(),
        std::sync::Arc::new(app.settings.clone()),
    );
    let failed = coopfund::app::backups::run_scheduled(&ctx, &settings, "schedule").await;
    assert!(failed.is_err());
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|line| line.contains("backup failed"))
        .unwrap_or_else(|| panic!("no 'backup failed' line in:\n{logs}"));
    assert!(line.contains("\"level\":\"ERROR\""), "{line}");
    assert!(
        line.contains("blocked-by-a-file"),
        "the cause is named: {line}"
    );
}
