//! The test harness: a real server on port 0 over a fresh database per test (a new SQLite file,
//! or a new PostgreSQL database when `COOPFUND_TEST_DATABASE_URL` is set, dropped afterwards),
//! and typed request helpers.

use std::sync::atomic::{AtomicU64, Ordering};

use coopfund::{config::Settings, server::Application};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const PASSWORD: &str = "correct-horse-42";

/// A running service and what a test needs to talk to it.
pub struct TestApp {
    /// `http://…` or, with `server.tls.enabled`, `https://…`.
    pub address: String,
    /// The plain-HTTP listener that redirects to HTTPS (`server.tls.redirect_http`), `http://…`.
    pub redirect_address: Option<String>,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub admin_token: String,
    /// The settings the service runs with.
    pub settings: Settings,
    /// Owned by the first instance only (a second instance on the same database leaves it alone).
    _database: Option<TestDatabase>,
}

/// Starts a fresh service and logs the admin in.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a fresh service after `adjust` has changed its settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::create().await;
    let mut settings = Settings::load(None).expect("default settings");
    settings.server.port = 0;
    settings.database.url = database.url.clone();
    settings.database.max_connections = 5;
    adjust(&mut settings);
    let db = coopfund::server::prepare_database(&settings)
        .await
        .expect("connect, migrate, initialise");
    let ctx =
        coopfund::app::context::AppCtx::new(db.clone(), std::sync::Arc::new(settings.clone()));
    coopfund::app::users::ensure_admin(&ctx, Some(ADMIN_PASSWORD.into()))
        .await
        .expect("admin");
    start(settings, db, Some(database)).await
}

async fn start(
    settings: Settings,
    db: DatabaseConnection,
    database: Option<TestDatabase>,
) -> TestApp {
    let application = Application::build_with_db(settings.clone(), db.clone())
        .await
        .expect("build");
    let scheme = if application.is_https() {
        "https"
    } else {
        "http"
    };
    let address = format!("{scheme}://{}", application.local_addr());
    let redirect_address = application.redirect_addr().map(|a| format!("http://{a}"));
    tokio::spawn(application.run_until_stopped());
    let client = if settings.server.tls.enabled {
        client_trusting(&settings.server.tls.cert_path)
    } else {
        reqwest::Client::new()
    };
    let mut app = TestApp {
        address,
        redirect_address,
        client,
        db,
        admin_token: String::new(),
        settings,
        _database: database,
    };
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    app
}

/// A client that trusts only the certificate in `cert_path` (the test's own, for HTTPS tests).
pub fn client_trusting(cert_path: &std::path::Path) -> reqwest::Client {
    let pem = std::fs::read(cert_path).expect("read the test certificate");
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM certificate"))
        .build()
        .expect("client")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique suffix for names within this test process.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        std::process::id() % 10_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestApp {
    /// A second instance of the service on the same database: its own server and connection pool,
    /// as a second process would have (the database is dropped with the first instance).
    pub async fn second_instance(&self) -> TestApp {
        let db = coopfund::store::connect(&self.settings.database)
            .await
            .expect("second pool");
        start(self.settings.clone(), db, None).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Logs in and returns the token (panics if login fails).
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "login of {username}");
        let body: Value = response.json().await.expect("json");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Sends raw bytes as JSON (for malformed-body tests).
    pub async fn post_raw(&self, path: &str, token: &str, body: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    /// Creates a user with `role` (and cooperative) and returns its token.
    pub async fn user_token(&self, role: &str, cooperative_id: Option<i64>) -> String {
        let username = unique(role);
        let response = self
            .post(
                "/api/v1/users",
                &self.admin_token,
                &json!({"username": username, "password": PASSWORD, "role": role, "cooperative_id": cooperative_id}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "create {role}: {}",
            response.text().await.unwrap_or_default()
        );
        self.login(&username, PASSWORD).await
    }

    /// Registers a cooperative and returns its id.
    pub async fn cooperative(&self) -> i64 {
        let response = self
            .post(
                "/api/v1/cooperatives",
                &self.admin_token,
                &cooperative_body(&unique("DN-")),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        body["id"].as_i64().expect("id")
    }
}

/// A valid cooperative registration with `code`.
pub fn cooperative_body(code: &str) -> Value {
    json!({
        "registration_code": code,
        "name": "HTX Chè Tân Cương",
        "kind": "cooperative",
        "district": "Thành phố Thái Nguyên",
        "commune": "Xã Tân Cương",
        "address": "Xóm Nam Đồng, xã Tân Cương",
        "legal_representative": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "email": "htx.tancuong@example.vn",
        "member_count": 45,
        "charter_capital_vnd": 2_500_000_000i64,
        "founded_on": "2015-06-01"
    })
}

/// Reads `{"error":{code,…}}`, asserting the status.
pub async fn error_of(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error body is json");
    assert!(body["error"]["code"].is_string(), "error body: {body}");
    assert!(body["error"]["message"].is_string(), "error body: {body}");
    body["error"].clone()
}

/// A database that exists for one test.
struct TestDatabase {
    url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    async fn create() -> Self {
        match std::env::var("COOPFUND_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("coopfund_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create database");
                admin.close().await.ok();
                let url = replace_database(&admin_url, &name);
                TestDatabase {
                    url,
                    admin_url: Some(admin_url),
                    name,
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDatabase {
                    url,
                    admin_url: None,
                    name: String::new(),
                    _dir: Some(dir),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin_url) = self.admin_url.clone() else {
            return;
        };
        let name = self.name.clone();
        // Drop is synchronous: drop the database from a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Database::connect(&admin_url).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// `postgres://u@h:p/old?x` → `postgres://u@h:p/new?x`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// An empty database of the backend under test (a SQLite file, or a PostgreSQL database dropped with the
/// value), not migrated: for tests that migrate step by step.
pub struct EmptyDatabase(TestDatabase);

impl EmptyDatabase {
    pub async fn create() -> EmptyDatabase {
        EmptyDatabase(TestDatabase::create().await)
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.0.url
    }
}
