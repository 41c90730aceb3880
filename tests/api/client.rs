//! A typed client of the API for tests (zero2prod's `TestApp::post_subscriptions` shape, per
//! resource): requests are the crate's body types, responses its view types, and a refusal is an
//! [`ApiError`] with its status, code, field and message. A test reads as what it does:
//!
//! ```text
//! let officer = app.client(&app.user_token("officer", None).await);
//! let created = officer.cooperatives().create(&body).await.unwrap();
//! assert_eq!(officer.cooperatives().get(created.id).await.unwrap().version, 1);
//! ```
// The client covers whole resources; each test uses a part of it.
#![allow(dead_code)]

use coopfund::http::dto::{
    audit::{AuditPage, AuditQuery},
    calendar::{CalendarQuery, CalendarView, HolidayInput, HolidayView},
    cooperatives::{
        CooperativeBody, CooperativePage, CooperativePatchBody, CooperativeQuery, CooperativeView,
    },
    outbox::{OutboxPage, OutboxQuery, OutboxView},
    users::{NewUserBody, UserChangeBody, UserView},
};
use coopfund_domain::ids::{CooperativeId, OutboxMessageId, UserId};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::helpers::TestApp;

/// A refusal as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: String,
    /// `error.field`, when one is named.
    pub field: Option<String>,
    /// `error.message` in the language asked for.
    pub message: String,
}

/// The answer to a typed request.
pub type ApiResult<T> = Result<T, ApiError>;

/// One caller (a token) talking to one app.
pub struct Client<'a> {
    app: &'a TestApp,
    token: String,
}

impl TestApp {
    /// A typed client acting with `token`.
    pub fn client(&self, token: &str) -> Client<'_> {
        Client {
            app: self,
            token: token.to_string(),
        }
    }

    /// A typed client acting as the admin.
    pub fn admin(&self) -> Client<'_> {
        self.client(&self.admin_token)
    }
}

impl<'a> Client<'a> {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
    }

    /// Sends `request`; a 2xx is read as `T`, anything else as an [`ApiError`].
    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> ApiResult<T> {
        let response = request.send().await.expect("request");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON body");
        if status.is_success() {
            return Ok(serde_json::from_value(body.clone())
                .unwrap_or_else(|e| panic!("unexpected response shape ({e}): {body}")));
        }
        let error = &body["error"];
        Err(ApiError {
            status,
            code: error["code"].as_str().expect("error.code").to_string(),
            field: error["field"].as_str().map(str::to_string),
            message: error["message"]
                .as_str()
                .expect("error.message")
                .to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        self.send(self.request(Method::GET, path)).await
    }

    async fn get_query<T: DeserializeOwned, Q: Serialize>(
        &self,
        path: &str,
        query: &Q,
    ) -> ApiResult<T> {
        self.send(self.request(Method::GET, path).query(query))
            .await
    }

    async fn with_body<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> ApiResult<T> {
        self.send(self.request(method, path).json(body)).await
    }

    /// `/cooperatives`.
    pub fn cooperatives(&self) -> Cooperatives<'_, 'a> {
        Cooperatives(self)
    }

    /// `/users`.
    pub fn users(&self) -> Users<'_, 'a> {
        Users(self)
    }

    /// `/outbox`.
    pub fn outbox(&self) -> Outbox<'_, 'a> {
        Outbox(self)
    }

    /// `/calendar`.
    pub fn calendar(&self) -> Calendar<'_, 'a> {
        Calendar(self)
    }

    /// `GET /auth/me`.
    pub async fn me(&self) -> ApiResult<UserView> {
        self.get("/api/v1/auth/me").await
    }

    /// `GET /audit`.
    pub async fn audit(&self, query: &AuditQuery) -> ApiResult<AuditPage> {
        self.get_query("/api/v1/audit", query).await
    }
}

/// `/api/v1/cooperatives`.
pub struct Cooperatives<'c, 'a>(&'c Client<'a>);

impl Cooperatives<'_, '_> {
    pub async fn create(&self, body: &CooperativeBody) -> ApiResult<CooperativeView> {
        self.0
            .with_body(Method::POST, "/api/v1/cooperatives", body)
            .await
    }

    pub async fn get(&self, id: CooperativeId) -> ApiResult<CooperativeView> {
        self.0.get(&format!("/api/v1/cooperatives/{id}")).await
    }

    pub async fn list(&self, query: &CooperativeQuery) -> ApiResult<CooperativePage> {
        self.0.get_query("/api/v1/cooperatives", query).await
    }

    pub async fn update(
        &self,
        id: CooperativeId,
        body: &CooperativePatchBody,
    ) -> ApiResult<CooperativeView> {
        self.0
            .with_body(Method::PATCH, &format!("/api/v1/cooperatives/{id}"), body)
            .await
    }
}

/// `/api/v1/users`.
pub struct Users<'c, 'a>(&'c Client<'a>);

impl Users<'_, '_> {
    pub async fn create(&self, body: &NewUserBody) -> ApiResult<UserView> {
        self.0.with_body(Method::POST, "/api/v1/users", body).await
    }

    pub async fn list(&self) -> ApiResult<Vec<UserView>> {
        self.0.get("/api/v1/users").await
    }

    pub async fn get(&self, id: UserId) -> ApiResult<UserView> {
        self.0.get(&format!("/api/v1/users/{id}")).await
    }

    pub async fn change(&self, id: UserId, body: &UserChangeBody) -> ApiResult<UserView> {
        self.0
            .with_body(Method::PATCH, &format!("/api/v1/users/{id}"), body)
            .await
    }
}

/// `/api/v1/outbox`.
pub struct Outbox<'c, 'a>(&'c Client<'a>);

impl Outbox<'_, '_> {
    pub async fn list(&self, query: &OutboxQuery) -> ApiResult<OutboxPage> {
        self.0.get_query("/api/v1/outbox", query).await
    }

    pub async fn retry(&self, id: OutboxMessageId) -> ApiResult<OutboxView> {
        self.0
            .with_body(
                Method::POST,
                &format!("/api/v1/outbox/{id}/retry"),
                &serde_json::json!({}),
            )
            .await
    }
}

/// `/api/v1/calendar`.
pub struct Calendar<'c, 'a>(&'c Client<'a>);

impl Calendar<'_, '_> {
    pub async fn get(&self, query: &CalendarQuery) -> ApiResult<CalendarView> {
        self.0.get_query("/api/v1/calendar", query).await
    }

    pub async fn add_holiday(&self, body: &HolidayInput) -> ApiResult<HolidayView> {
        self.0
            .with_body(Method::POST, "/api/v1/calendar/holidays", body)
            .await
    }

    pub async fn remove_holiday(&self, date: chrono::NaiveDate) -> ApiResult<HolidayView> {
        self.0
            .send(
                self.0
                    .request(Method::DELETE, &format!("/api/v1/calendar/holidays/{date}")),
            )
            .await
    }
}

/// A valid cooperative registration with `code` (the typed twin of
/// [`crate::helpers::cooperative_body`]).
pub fn cooperative(code: &str) -> CooperativeBody {
    serde_json::from_value(crate::helpers::cooperative_body(code)).expect("a valid body")
}

// --- chains (issue 11 item 1): the hash chains of the books ---

impl Client<'_> {
    /// `GET /audit/verify`, compared with `checkpoint` (the compact heads) when given.
    pub async fn verify_chains(
        &self,
        checkpoint: Option<&str>,
    ) -> ApiResult<coopfund::http::dto::audit::ChainsVerifyView> {
        let query = coopfund::http::dto::audit::ChainVerifyQuery {
            checkpoint: checkpoint.map(str::to_string),
        };
        self.get_query("/api/v1/audit/verify", &query).await
    }

    /// `GET /audit/checkpoint`.
    pub async fn chain_checkpoint(&self) -> ApiResult<coopfund::http::dto::audit::CheckpointView> {
        self.get("/api/v1/audit/checkpoint").await
    }
}
