//! Every route, every role: allowed roles get past the check, the others get 403, and no token
//! gets 401. Later capabilities add their routes to `ROUTES`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{cooperative_body, spawn_app, unique, TestApp, PASSWORD};

const ALL: &[&str] = &[
    "admin",
    "officer",
    "approver",
    "accountant",
    "auditor",
    "cooperative",
];
/// Everyone but a cooperative.
const STAFF: &[&str] = &["admin", "officer", "approver", "accountant", "auditor"];

/// A protected route: method, path template, who may call it.
struct Route {
    method: Method,
    path: &'static str,
    allowed: &'static [&'static str],
}

const ROUTES: &[Route] = &[
    Route {
        method: Method::GET,
        path: "/api/v1/auth/me",
        allowed: ALL,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/users",
        allowed: &["admin"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/users",
        allowed: &["admin"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/users/{id}",
        allowed: &["admin"],
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/users/{id}",
        allowed: &["admin"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/cooperatives",
        allowed: &["admin", "officer"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/cooperatives",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/cooperatives/{id}",
        allowed: ALL,
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/cooperatives/{id}",
        allowed: &["admin", "officer"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/outbox",
        allowed: &["admin", "auditor"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/outbox/{id}/retry",
        allowed: &["admin"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/backups",
        allowed: &["admin"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/schedule/preview",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/business-date",
        allowed: ALL,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/cob/run",
        allowed: &["admin", "accountant"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/cob/runs",
        allowed: &["admin", "accountant", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/reports/portfolio",
        allowed: STAFF,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/products",
        allowed: &["admin"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/products",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/products/{id}",
        allowed: ALL,
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/products/{id}",
        allowed: &["admin"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/fund",
        allowed: STAFF,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/fund/charter-capital",
        allowed: &["admin", "accountant"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/applications",
        allowed: &["officer", "cooperative"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/applications",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/applications/{id}",
        allowed: ALL,
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/applications/{id}",
        allowed: &["officer", "cooperative"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/applications/{id}/submit",
        allowed: &["officer", "cooperative"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/applications/{id}/appraise",
        allowed: &["officer"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/applications/{id}/approve",
        allowed: &["approver"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/applications/{id}/reject",
        allowed: &["approver"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/applications/{id}/withdraw",
        allowed: &["officer", "cooperative"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/applications/{id}/documents",
        allowed: &["officer", "cooperative"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/applications/{id}/documents",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/applications/{id}/documents/{document_id}",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}/schedule",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}/transactions",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}/payoff",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}/payment-qr",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}/explain",
        allowed: ALL,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}/statement",
        allowed: ALL,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/sign",
        allowed: &["officer", "approver"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/disbursements",
        allowed: &["accountant"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/repayments",
        allowed: &["accountant"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/transactions/{tx}/reverse",
        allowed: &["accountant"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/restructure",
        allowed: &["approver"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/write-off",
        allowed: &["approver"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/recoveries",
        allowed: &["accountant"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/loans/{id}/follow-ups",
        allowed: STAFF,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/loans/{id}/follow-ups",
        allowed: &["officer"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/ledger/accounts",
        allowed: &["admin", "officer", "approver", "accountant", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/ledger/entries",
        allowed: &["admin", "officer", "approver", "accountant", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/ledger/trial-balance",
        allowed: &["admin", "officer", "approver", "accountant", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/audit",
        allowed: &["admin", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/audit/verify",
        allowed: &["admin", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/audit/checkpoint",
        allowed: &["admin", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/ledger/accounts/{code}/statement",
        allowed: STAFF,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/calendar",
        allowed: ALL,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/calendar/holidays",
        allowed: &["admin"],
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/calendar/holidays/{date}",
        allowed: &["admin"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/bank-statements",
        allowed: &["admin", "accountant"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/bank-statements",
        allowed: &["admin", "accountant", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/bank-statements/{id}",
        allowed: &["admin", "accountant", "auditor"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/bank-statements/{id}/confirm",
        allowed: &["accountant"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/bank-statements/{id}/reconciliation",
        allowed: &["admin", "accountant", "auditor"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/bank-statement-lines/{id}",
        allowed: &["admin", "accountant", "auditor"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/bank-statement-lines/{id}/confirm",
        allowed: &["accountant"],
    },
    Route {
        method: Method::POST,
        path: "/api/v1/bank-statement-lines/{id}/reject",
        allowed: &["accountant"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/cooperatives/{id}/bank-accounts",
        allowed: STAFF,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/cooperatives/{id}/bank-accounts",
        allowed: &["admin", "officer", "accountant"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/reports/as-of",
        allowed: STAFF,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/reports/lending",
        allowed: STAFF,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/reports/targets",
        allowed: STAFF,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/cooperatives/{id}/profiles",
        allowed: &["admin", "officer"],
    },
    Route {
        method: Method::GET,
        path: "/api/v1/cooperatives/{id}/profiles",
        allowed: ALL,
    },
    // Last: it revokes the token it is called with.
    Route {
        method: Method::DELETE,
        path: "/api/v1/auth/token",
        allowed: ALL,
    },
];

/// Routes a cooperative is not told exist (the fund's internal follow-up file): it gets 404, not 403.
const HIDDEN_FROM_COOPERATIVES: &[&str] = &["/api/v1/loans/{id}/follow-ups"];

/// Every protected route as (method in lower case, path template, roles allowed), for the
/// OpenAPI contract test (tests/api/hardening.rs).
pub fn protected_routes() -> Vec<(String, &'static str, &'static [&'static str])> {
    ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_ascii_lowercase(), r.path, r.allowed))
        .collect()
}

/// Paths every OpenAPI document must list (public and protected).
pub fn documented_paths() -> Vec<&'static str> {
    let mut paths = vec!["/healthz", "/readyz", "/metrics", "/api/v1/auth/token"];
    paths.extend(ROUTES.iter().map(|r| r.path));
    paths
}

/// The ids a route's placeholders are filled with, and a valid body for it.
struct Fixture {
    cooperative_id: i64,
    user_id: i64,
}

impl Fixture {
    fn path(&self, template: &str) -> String {
        let id = if template.starts_with("/api/v1/users") {
            self.user_id
        } else {
            self.cooperative_id
        };
        template
            .replace("{id}", &id.to_string())
            .replace("{tx}", &id.to_string())
            .replace("{date}", "2000-01-01")
    }

    fn body(&self, route: &Route) -> Option<Value> {
        match (route.method.as_str(), route.path) {
            ("POST", "/api/v1/users") => {
                Some(json!({"username": unique("u"), "password": PASSWORD, "role": "auditor"}))
            }
            ("PATCH", "/api/v1/users/{id}") => Some(json!({"disabled": false})),
            ("POST", "/api/v1/cooperatives") => Some(cooperative_body(&unique("AZ-"))),
            ("PATCH", "/api/v1/cooperatives/{id}") => Some(json!({"version": 999})),
            ("POST", "/api/v1/products") => Some(crate::products::product_body(&unique("AZP-"))),
            ("PATCH", "/api/v1/products/{id}") => Some(json!({"version": 999})),
            ("POST", "/api/v1/fund/charter-capital") => Some(
                json!({"amount_vnd": 1, "contributed_on": "2000-01-01", "reference": "authorization"}),
            ),
            ("POST", "/api/v1/applications") => Some(
                json!({"product_id": 999999, "cooperative_id": self.cooperative_id,
                "amount_vnd": 1, "installments": 1, "period_months": 1, "method": "bullet", "purpose": "x",
                "project_total_vnd": 1, "own_capital_vnd": 0}),
            ),
            ("PATCH", "/api/v1/applications/{id}") => Some(json!({"version": 999})),
            ("POST", "/api/v1/applications/{id}/appraise") => {
                Some(json!({"note": "x", "recommendation": "approve"}))
            }
            ("POST", "/api/v1/applications/{id}/reject") => Some(json!({"reason": "x"})),
            ("POST", "/api/v1/cob/run") => Some(json!({"through": "2000-01-01"})),
            ("POST", "/api/v1/calendar/holidays") => {
                Some(json!({"date": "2000-01-01", "name": "authorization"}))
            }
            ("POST", "/api/v1/schedule/preview") => Some(
                json!({"principal_vnd": 1000000, "rate_percent": "7", "installments": 2,
                "period_months": 1, "method": "bullet", "disbursed_on": "2026-01-01"}),
            ),
            ("POST", "/api/v1/loans/{id}/sign") => {
                Some(json!({"contract_number": "HĐ-1", "signed_on": "2026-01-01"}))
            }
            ("POST", "/api/v1/loans/{id}/disbursements") => {
                Some(json!({"amount_vnd": 1000, "value_date": "2026-01-01", "reference": "UNC"}))
            }
            ("POST", "/api/v1/loans/{id}/repayments") => Some(
                json!({"amount_vnd": 1000, "value_date": "2026-01-01", "reference": "GD", "kind": "ordinary"}),
            ),
            ("POST", "/api/v1/loans/{id}/transactions/{tx}/reverse") => {
                Some(json!({"reason": "test"}))
            }
            ("POST", "/api/v1/loans/{id}/restructure") => Some(
                json!({"kind": "extension", "first_due_on": "2027-01-01", "installments": 3, "reason": "test"}),
            ),
            ("POST", "/api/v1/loans/{id}/write-off") => Some(json!({"reason": "test"})),
            ("POST", "/api/v1/loans/{id}/recoveries") => {
                Some(json!({"amount_vnd": 1000, "value_date": "2026-01-01", "reference": "GD"}))
            }
            ("POST", "/api/v1/loans/{id}/follow-ups") => {
                Some(json!({"kind": "visit", "acted_on": "2026-01-01", "note": "test"}))
            }
            ("POST", "/api/v1/bank-statements/{id}/confirm") => Some(json!({})),
            ("POST", "/api/v1/bank-statement-lines/{id}/confirm") => Some(json!({})),
            ("POST", "/api/v1/bank-statement-lines/{id}/reject") => {
                Some(json!({"reason": "authorization"}))
            }
            ("POST", "/api/v1/cooperatives/{id}/bank-accounts") => {
                Some(json!({"account_number": unique("9000"), "bank_name": "Agribank"}))
            }
            ("POST", "/api/v1/cooperatives/{id}/profiles") => Some(
                json!({"effective_on": "2020-01-01", "sector": "agriculture", "member_count": 20}),
            ),
            _ => None,
        }
    }
}

async fn call(app: &TestApp, route: &Route, fixture: &Fixture, token: Option<&str>) -> StatusCode {
    let mut request = app
        .client
        .request(route.method.clone(), app.url(&fixture.path(route.path)));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = fixture.body(route) {
        request = request.json(&body);
    }
    request.send().await.expect("request").status()
}

#[tokio::test]
async fn every_route_checks_every_role() {
    let app = spawn_app().await;
    let cooperative_id = app.cooperative().await;
    let user: Value = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            &json!({"username": unique("target"), "password": PASSWORD, "role": "auditor"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let fixture = Fixture {
        cooperative_id,
        user_id: user["id"].as_i64().unwrap(),
    };
    let mut tokens = Vec::new();
    for role in ALL {
        let coop = (*role == "cooperative").then_some(cooperative_id);
        tokens.push((*role, app.user_token(role, coop).await));
    }
    let mut failures = Vec::new();
    for route in ROUTES {
        let anonymous = call(&app, route, &fixture, None).await;
        if anonymous != StatusCode::UNAUTHORIZED {
            failures.push(format!(
                "{} {} without a token: {anonymous}",
                route.method, route.path
            ));
        }
        for (role, token) in &tokens {
            let status = call(&app, route, &fixture, Some(token)).await;
            let allowed = route.allowed.contains(role);
            let ok = if allowed {
                status != StatusCode::FORBIDDEN
                    && status != StatusCode::UNAUTHORIZED
                    && !status.is_server_error()
            } else if *role == "cooperative" && HIDDEN_FROM_COOPERATIVES.contains(&route.path) {
                status == StatusCode::NOT_FOUND
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {role}: {status} (allowed: {allowed})",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization failures:\n{}",
        failures.join("\n")
    );
}

/// Every route that takes a JSON body answers bad input with a 4xx in the API.md shape:
/// malformed JSON, an unknown field, a wrong type at the top level, and a non-JSON content type.
#[tokio::test]
async fn every_route_with_a_body_refuses_bad_input_with_a_4xx() {
    let app = spawn_app().await;
    let cooperative_id = app.cooperative().await;
    let fixture = Fixture {
        cooperative_id,
        user_id: 1,
    };
    let mut failures = Vec::new();
    for route in ROUTES {
        let Some(mut valid) = fixture.body(route) else {
            continue;
        };
        let url = app.url(&fixture.path(route.path));
        let send = |body: String, content_type: &'static str| {
            app.client
                .request(route.method.clone(), url.clone())
                .bearer_auth(&app.admin_token)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        valid["surely_unknown_field"] = json!(1);
        let cases = [
            ("{]", "application/json", "malformed_json"),
            ("[1, 2, 3]", "application/json", "wrong_type"),
            (
                &valid.to_string() as &str,
                "application/json",
                "unknown_field",
            ),
            ("{}", "text/plain", "unsupported_media_type"),
        ];
        // Routes whose body is optional ignore the content type of an absent body; they must still
        // answer with a 4xx and the error shape.
        let lenient = |code: &str, status: StatusCode| {
            code == "unsupported_media_type" && status.is_client_error()
        };
        for (body, content_type, code) in cases {
            let response = send(body.to_string(), content_type).await.expect("request");
            let status = response.status();
            let error: Value = response.json().await.unwrap_or(Value::Null);
            let shaped =
                error["error"]["code"].is_string() && error["error"]["message"].is_string();
            let right_code = error["error"]["code"] == code || lenient(code, status);
            if !status.is_client_error() || !right_code || !shaped {
                failures.push(format!(
                    "{} {} with {code}: {status} {error}",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "bad input not refused cleanly:\n{}",
        failures.join("\n")
    );
}

/// Issue 11: an auditor reads everything and changes nothing. Every operation of the OpenAPI
/// document that is not a read (anything but GET, logging in and out, and the schedule preview) answers an auditor
/// 403 — with a valid body where this file knows one, so the refusal is the role's, not the body's;
/// and every such operation is one this file lists, so a new write route cannot slip past the check.
#[tokio::test]
async fn an_auditor_gets_403_on_every_write_route() {
    let app = spawn_app().await;
    let cooperative_id = app.cooperative().await;
    let fixture = Fixture {
        cooperative_id,
        user_id: 1,
    };
    let auditor = app.user_token("auditor", None).await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let mut writes = Vec::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            // Logging in and out, and a schedule preview (a calculation that stores nothing), are
            // not writes.
            let not_a_write = path == "/api/v1/auth/token" || path == "/api/v1/schedule/preview";
            if method != "get" && !not_a_write {
                writes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(
        writes.len() > 20,
        "the document lists the write routes: {writes:?}"
    );
    let mut failures = Vec::new();
    for (method, path) in &writes {
        let Some(route) = ROUTES
            .iter()
            .find(|r| r.method.as_str() == method && r.path == path)
        else {
            failures.push(format!("{method} {path}: not listed in ROUTES"));
            continue;
        };
        if route.allowed.contains(&"auditor") {
            failures.push(format!("{method} {path}: allows the auditor"));
            continue;
        }
        let status = call(&app, route, &fixture, Some(&auditor)).await;
        if status != StatusCode::FORBIDDEN {
            failures.push(format!("{method} {path} as auditor: {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "write routes open to an auditor:\n{}",
        failures.join("\n")
    );
}
