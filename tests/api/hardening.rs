//! Issue 13, "Hardening": what an attacker and a generated client found, each through HTTP and on
//! both backends. Control characters in inputs, parallel password guessing, tokens that outlived
//! a reset, a phantom close-of-business lock, CSV formula injection, the bearer scheme's case.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{cooperative_body, error_of, spawn_app, spawn_app_with, unique, PASSWORD};

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

// 1. Control characters and invisible characters.

#[tokio::test]
async fn a_nul_in_the_login_body_is_a_400_naming_the_field_without_a_token() {
    let app = spawn_app().await;
    let r = try_login(&app, "adm\u{0}in", "x").await;
    let error = error_of(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["code"], "invalid_format");
    assert_eq!(error["field"], "username");
    let r = try_login(&app, "admin", "pass\u{1b}word-123").await;
    let error = error_of(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["field"], "password");
}

#[tokio::test]
async fn control_characters_in_query_values_and_path_texts_are_400s_naming_the_field() {
    let app = spawn_app().await;
    let auditor = app.user_token("auditor", None).await;
    let cases = [
        ("/api/v1/audit?entity_type=lo%00an", "entity_type"),
        ("/api/v1/audit?entity_id=1%00", "entity_id"),
        ("/api/v1/audit?actor=ad%00min", "actor"),
        ("/api/v1/audit?action=loan.repay%01", "action"),
        ("/api/v1/audit?format=csv%00", "format"),
        ("/api/v1/cooperatives?q=Ch%C3%A8%00", "q"),
        ("/api/v1/cooperatives?district=%00", "district"),
        ("/api/v1/ledger/entries?account=1121%00", "account"),
        ("/api/v1/ledger/entries?account=1121%0A", "account"),
        ("/api/v1/ledger/accounts/11%0021/statement", "code"),
    ];
    for (path, field) in cases {
        let r = app.get(path, &auditor).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_format", "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    // The same values without the control character are answered normally.
    for path in [
        "/api/v1/audit?entity_type=loan",
        "/api/v1/cooperatives?q=Ch%C3%A8",
        "/api/v1/ledger/entries?account=1121",
    ] {
        assert_eq!(
            app.get(path, &auditor).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn control_bidi_and_zero_width_characters_in_names_and_references_are_refused() {
    let app = spawn_app().await;
    for (field, value) in [
        ("name", "HTX \u{202E}gnơưC nâT"),
        ("name", "HTX Tân\u{200B}Cương"),
        ("name", "\u{FEFF}HTX Tân Cương"),
        ("legal_representative", "Nguyễn\u{2067} Văn An"),
        ("address", "Xóm Nam\u{0}Đồng"),
        ("commune", "Xã\u{7f}Tân Cương"),
    ] {
        let mut body = cooperative_body(&unique("DN-"));
        body[field] = json!(value);
        let r = app
            .post("/api/v1/cooperatives", &app.admin_token, &body)
            .await;
        let error = error_of(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["code"], "invalid_format", "{field}: {value:?}");
        assert_eq!(error["field"], field);
    }
    let accountant = app.user_token("accountant", None).await;
    let r = app
        .post(
            "/api/v1/fund/charter-capital",
            &accountant,
            &json!({"amount_vnd": 1_000_000_000i64, "contributed_on": "2020-01-01",
                    "reference": "GV-01\u{202E}10-VG"}),
        )
        .await;
    let error = error_of(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["field"], "reference");
    // Nested strings are named by their path.
    let r = app
        .post_raw(
            "/api/v1/schedule/preview",
            &app.admin_token,
            r#"{"principal_vnd": 1, "x": ["ok", "b\u0000d"]}"#,
        )
        .await;
    let error = error_of(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["field"], "x[1]");
}

// 2. The lockout under parallel guessing, and unknown usernames.

#[tokio::test]
async fn thirty_parallel_wrong_passwords_lock_the_account_after_the_policys_five() {
    let app = spawn_app().await;
    let (_, username) = officer(&app).await;
    let max = app.settings.auth.max_failed_logins as usize;
    assert_eq!(max, 5);
    let guesses: Vec<_> = (0..30)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/v1/auth/token");
            let username = username.clone();
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"username": username, "password": format!("wrong-guess-{i}")}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let locked = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, locked), (max, 30 - max), "{statuses:?}");
    // The right password is not even checked now.
    let r = try_login(&app, &username, PASSWORD).await;
    let error = error_of(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(error["code"], "account_locked");
}

#[tokio::test]
async fn a_locked_unknown_username_answers_exactly_like_a_locked_real_one() {
    let app = spawn_app().await;
    let (_, real) = officer(&app).await;
    let unknown = unique("nobody");
    for _ in 0..5 {
        let a = error_of(
            try_login(&app, &real, "wrong-one-1").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        let b = error_of(
            try_login(&app, &unknown, "wrong-one-1").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(a, b);
    }
    let r_real = try_login(&app, &real, "wrong-one-1").await;
    let r_unknown = try_login(&app, &unknown, "wrong-one-1").await;
    assert_eq!(r_real.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r_unknown.status(), StatusCode::TOO_MANY_REQUESTS);
    let a: Value = r_real.json().await.unwrap();
    let b: Value = r_unknown.json().await.unwrap();
    assert_eq!(a["error"]["code"], "account_locked");
    // The only difference allowed is the minute the lock ends, should the clock tick between.
    let without_digits = |v: &Value| v.to_string().replace(|c: char| c.is_ascii_digit(), "#");
    assert_eq!(without_digits(&a), without_digits(&b));
    // Case and spaces do not make a fresh name.
    let r = try_login(&app, &format!("  {}", unknown.to_uppercase()), "x").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_lock_ends_for_real_and_unknown_names_alike_and_counting_starts_again() {
    let app = spawn_app().await;
    let (_, real) = officer(&app).await;
    let unknown = unique("nobody");
    for name in [&real, &unknown] {
        for _ in 0..5 {
            assert_eq!(
                try_login(&app, name, "wrong-one-1").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            try_login(&app, name, "wrong-one-1").await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // Let the locks end, as time would.
    use sea_orm::ConnectionTrait;
    for table in ["users", "login_failures"] {
        app.db
            .execute_unprepared(&format!(
                "UPDATE {table} SET locked_until = '2020-01-01T00:00:00+00:00' WHERE locked_until IS NOT NULL"
            ))
            .await
            .unwrap();
    }
    for name in [&real, &unknown] {
        for _ in 0..5 {
            assert_eq!(
                try_login(&app, name, "wrong-one-1").await.status(),
                StatusCode::UNAUTHORIZED,
                "{name}"
            );
        }
        assert_eq!(
            try_login(&app, name, "wrong-one-1").await.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{name}"
        );
    }
    app.db
        .execute_unprepared("UPDATE users SET locked_until = '2020-01-01T00:00:00+00:00' WHERE locked_until IS NOT NULL")
        .await
        .unwrap();
    // A success resets the count: four failures after it do not lock.
    app.login(&real, PASSWORD).await;
    for _ in 0..4 {
        assert_eq!(
            try_login(&app, &real, "wrong-one-1").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    app.login(&real, PASSWORD).await;
}

// 3. Tokens end with a password change, a reset or a disable.

#[tokio::test]
async fn a_password_reset_or_a_disable_revokes_every_token_and_re_enabling_brings_none_back() {
    let app = spawn_app().await;
    let (id, username) = officer(&app).await;
    let first = app.login(&username, PASSWORD).await;
    let second = app.login(&username, PASSWORD).await;
    for token in [&first, &second] {
        assert_eq!(
            app.get("/api/v1/auth/me", token).await.status(),
            StatusCode::OK
        );
    }
    let path = format!("/api/v1/users/{id}");
    let r = app
        .patch(
            &path,
            &app.admin_token,
            &json!({"password": "another-pass-77"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for token in [&first, &second] {
        let error = error_of(
            app.get("/api/v1/auth/me", token).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(error["code"], "invalid_token");
    }
    let third = app.login(&username, "another-pass-77").await;
    let r = app
        .patch(&path, &app.admin_token, &json!({"disabled": true}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .patch(&path, &app.admin_token, &json!({"disabled": false}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    for token in [&first, &second, &third] {
        let error = error_of(
            app.get("/api/v1/auth/me", token).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
        assert_eq!(error["code"], "invalid_token");
    }
    let fresh = app.login(&username, "another-pass-77").await;
    assert_eq!(
        app.get("/api/v1/auth/me", &fresh).await.status(),
        StatusCode::OK
    );
    // Other accounts' tokens are untouched.
    assert_eq!(
        app.get("/api/v1/auth/me", &app.admin_token).await.status(),
        StatusCode::OK
    );
}

// 4. Close of business never meets its own lock.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serial_close_of_business_runs_never_see_a_phantom_lock_under_cpu_load() {
    let app = spawn_app_with(|s| s.fund.start_business_date = "2026-01-05".into()).await;
    let r = app
        .post(
            "/api/v1/cob/run",
            &app.admin_token,
            &json!({"through": "2026-01-05"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Load every core while the runs go on, so that nothing the server leaves to a background
    // task (a connection's pending rollback) gets done before the next request arrives.
    let stop = Arc::new(AtomicBool::new(false));
    let burners: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
        })
        .collect();
    let mut skipped = Vec::new();
    for i in 0..200 {
        // The day is already closed: each run takes the lock, finds nothing to do, lets it go.
        let r = app
            .post(
                "/api/v1/cob/run",
                &app.admin_token,
                &json!({"through": "2026-01-05"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let outcome: Value = r.json().await.unwrap();
        if outcome["ran"] != true {
            skipped.push((i, outcome["message"].clone()));
        }
    }
    // The same from outside any worker thread, as the CLI and the demo call it (the test body,
    // like their `block_on`, is not a runtime worker).
    let state = coopfund::state::AppState::new(app.db.clone(), app.settings.clone());
    let admin = coopfund::app::Caller::system_named("cli");
    let through = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    for i in 0..200 {
        let outcome = coopfund::app::cob::run_through(
            &state.ctx,
            &admin,
            through,
            coopfund::app::cob::Trigger::Cli,
        )
        .await
        .unwrap();
        if !outcome.ran {
            skipped.push((1000 + i, json!(outcome.message)));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for burner in burners {
        burner.join().unwrap();
    }
    assert!(
        skipped.is_empty(),
        "{} of 400 skipped: {skipped:?}",
        skipped.len()
    );
}

// 6. CSV formula injection and the bearer scheme's case.

#[tokio::test]
async fn csv_cells_that_would_run_as_formulas_are_neutralised() {
    let app = spawn_app().await;
    let auditor = app.user_token("auditor", None).await;
    let r = app
        .client
        .post(app.url("/api/v1/cooperatives"))
        .bearer_auth(&app.admin_token)
        .header("x-request-id", "=HYPERLINK(\"http://evil.example\",\"x\")")
        .json(&cooperative_body(&unique("DN-")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let csv = app
        .get("/api/v1/audit?format=csv&entity_type=cooperative", &auditor)
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert!(
        text.contains(r#""'=HYPERLINK(""http://evil.example"",""x"")""#),
        "{text}"
    );
    assert!(
        !text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"),
        "{text}"
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_without_regard_to_case() {
    let app = spawn_app().await;
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let r = app
            .client
            .get(app.url("/api/v1/auth/me"))
            .header("authorization", format!("{scheme} {}", app.admin_token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{scheme}");
    }
    let r = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("authorization", format!("Basic {}", app.admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

// 5. The OpenAPI document describes the server.

async fn openapi(app: &crate::helpers::TestApp) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn has_response(operation: &Value, status: &str) -> bool {
    operation["responses"].get(status).is_some()
}

#[tokio::test]
async fn every_operation_of_the_openapi_document_matches_the_route_table() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let routes = crate::authorization::protected_routes();
    let mut problems = Vec::new();
    for (method, path, allowed) in &routes {
        let Some(operation) = doc["paths"][*path].get(method.as_str()) else {
            problems.push(format!("{method} {path}: not documented"));
            continue;
        };
        if operation["security"]
            .as_array()
            .is_none_or(|s| s.is_empty())
        {
            problems.push(format!("{method} {path}: no security"));
        }
        if !has_response(operation, "401") {
            problems.push(format!("{method} {path}: no 401"));
        }
        if allowed.len() < 6 && !has_response(operation, "403") {
            problems.push(format!("{method} {path}: no 403 (allowed: {allowed:?})"));
        }
    }
    let mut operations = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let placeholders: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, operation) in ops.as_object().unwrap() {
            operations += 1;
            let at = format!("{method} {path}");
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if secured && !routes.iter().any(|(m, p, _)| m == method && p == path) {
                problems.push(format!("{at}: protected but not in the route table"));
            }
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let in_path: Vec<&str> = parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let mut declared = in_path.clone();
            declared.sort();
            let mut expected = placeholders.clone();
            expected.sort();
            if declared != expected {
                problems.push(format!(
                    "{at}: path parameters {in_path:?}, template has {placeholders:?}"
                ));
            }
            for parameter in parameters.iter().filter(|p| p["in"] == "query") {
                let name = parameter["name"].as_str().unwrap();
                if parameter["required"] == true {
                    problems.push(format!("{at}: query parameter {name} required"));
                }
                if name == "limit"
                    && (parameter["schema"]["minimum"] != 1
                        || parameter["schema"]["maximum"] != 200)
                {
                    problems.push(format!("{at}: limit without bounds 1..=200"));
                }
                if !has_response(operation, "400") {
                    problems.push(format!("{at}: query parameters but no 400"));
                }
            }
            if let Some(body) = operation.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                if schema.to_string().contains(r#"{"type":"null"}"#) {
                    problems.push(format!("{at}: a null body is documented"));
                }
                if body["required"] == true {
                    for status in ["400", "413", "415"] {
                        if !has_response(operation, status) {
                            problems.push(format!("{at}: JSON body but no {status}"));
                        }
                    }
                }
            }
        }
    }
    assert!(operations >= routes.len(), "{operations}");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Password lengths are documented.
    let new_user = &doc["components"]["schemas"]["NewUser"]["properties"]["password"];
    assert_eq!(
        (new_user["minLength"].clone(), new_user["maxLength"].clone()),
        (json!(10), json!(128))
    );
}

#[tokio::test]
async fn the_documented_enums_and_bounds_are_what_the_server_accepts() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let auditor = app.user_token("auditor", None).await;
    let query_enum = |path: &str, name: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} {name}: no enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    for (path, token) in [
        ("/api/v1/loans", &auditor),
        ("/api/v1/applications", &auditor),
        ("/api/v1/outbox", &auditor),
    ] {
        let allowed = query_enum(path, "status");
        assert!(allowed.len() >= 4, "{path}: {allowed:?}");
        for status in &allowed {
            let r = app.get(&format!("{path}?status={status}"), token).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}?status={status}");
        }
        let r = app.get(&format!("{path}?status=bogus"), token).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    assert_eq!(
        query_enum("/api/v1/audit", "format"),
        ["json", "csv", "xlsx"]
    );
    let kinds = doc["components"]["schemas"]["CooperativeInput"]["properties"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    for kind in &kinds {
        let mut body = cooperative_body(&unique("EN-"));
        body["kind"] = kind.clone();
        let r = app
            .post("/api/v1/cooperatives", &app.admin_token, &body)
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "{kind}");
    }
    let mut body = cooperative_body(&unique("EN-"));
    body["kind"] = json!("bogus");
    let r = app
        .post("/api/v1/cooperatives", &app.admin_token, &body)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // limit: 1..=200.
    for (limit, status) in [
        (0, StatusCode::BAD_REQUEST),
        (1, StatusCode::OK),
        (200, StatusCode::OK),
        (201, StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .get(&format!("/api/v1/cooperatives?limit={limit}"), &auditor)
            .await;
        assert_eq!(r.status(), status, "limit={limit}");
    }
    // 415 on a required body; an optional body may be empty but never null.
    let r = app
        .client
        .post(app.url("/api/v1/cooperatives"))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/plain")
        .body(cooperative_body(&unique("EN-")).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let officer = app.user_token("officer", None).await;
    let r = app
        .post_raw("/api/v1/applications/999999/submit", &officer, "null")
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .post_raw("/api/v1/applications/999999/submit", &officer, "")
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let submit = &doc["paths"]["/api/v1/applications/{id}/submit"]["post"]["requestBody"];
    assert_eq!(submit["required"], false);
}

/// The names with no account that `login_failures` holds.
async fn failure_rows(app: &crate::helpers::TestApp) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT username FROM login_failures ORDER BY username",
        ))
        .await
        .expect("rows");
    rows.iter()
        .map(|r| r.try_get::<String>("", "username").expect("username"))
        .collect()
}

#[tokio::test]
async fn old_failures_of_unknown_names_are_pruned_and_a_lock_is_kept() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let (old, locked, fresh) = (
        unique("ghost-old-"),
        unique("ghost-locked-"),
        unique("ghost-new-"),
    );
    assert_eq!(
        try_login(&app, &old, "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    for _ in 0..app.settings.auth.max_failed_logins {
        try_login(&app, &locked, "wrong").await;
    }
    assert_eq!(
        try_login(&app, &locked, "wrong").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Both last failed two days ago; the lock still runs.
    let two_days_ago = chrono::Utc::now() - chrono::Duration::days(2);
    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            "UPDATE login_failures SET last_failed_at = $1",
            [two_days_ago.into()],
        ))
        .await
        .expect("age the rows");
    assert_eq!(failure_rows(&app).await.len(), 2);

    assert_eq!(
        try_login(&app, &fresh, "wrong").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut expected = vec![locked.clone(), fresh.clone()];
    expected.sort();
    assert_eq!(
        failure_rows(&app).await,
        expected,
        "the old count is gone, the lock and the new count stay"
    );
    assert_eq!(
        try_login(&app, &locked, "wrong").await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a pruning never ends a lock"
    );
}

#[tokio::test]
async fn an_overlong_or_non_ascii_request_id_is_replaced_by_a_fresh_one() {
    let app = spawn_app().await;
    let send = |id: reqwest::header::HeaderValue| {
        app.client
            .get(app.url("/healthz"))
            .header("x-request-id", id)
            .send()
    };
    let fit = "r".repeat(128);
    let response = send(fit.parse().unwrap()).await.unwrap();
    assert_eq!(response.headers()["x-request-id"], fit.as_str());
    for unfit in [
        reqwest::header::HeaderValue::from_str(&"r".repeat(129)).unwrap(),
        reqwest::header::HeaderValue::from_str(&"x".repeat(16_000)).unwrap(),
        reqwest::header::HeaderValue::from_bytes("mã-yêu-cầu".as_bytes()).unwrap(),
        reqwest::header::HeaderValue::from_bytes(b"tab\there").unwrap(),
    ] {
        let response = send(unfit.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let echoed = response.headers()["x-request-id"].clone();
        assert_ne!(echoed, unfit);
        assert!(
            echoed.len() <= 128 && echoed.to_str().is_ok(),
            "a fresh id: {echoed:?}"
        );
    }
}
