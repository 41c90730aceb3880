//! # coopfund
//!
//! The lending service of a provincial Cooperative Development Support Fund (Quỹ hỗ trợ phát
//! triển hợp tác xã): cooperatives apply for loans, officers appraise, approvers approve,
//! accountants disburse and post repayments; the service keeps schedules and a double-entry
//! ledger, and auditors read every book.
//!
//! ## A guided tour
//! - [`domain`] (the `coopfund-domain` crate in `src/domain/`): the pure core where money is
//!   decided — schedules, accrual, allocation, classification, journal entries. No I/O; the
//!   compiler keeps it so, because it is a separate crate with no I/O dependencies.
//! - [`app`]: use cases. One transaction each: load, decide, store, audit.
//! - [`store`]: sea-orm entities and connection; the only place that knows the schema.
//! - [`http`]: the axum JSON API, extractors, errors, OpenAPI.
//! - [`web`]: the pages for people (askama templates, htmx), calling the same use cases.
//! - [`mail`]: message templates (vi, en), the transactional outbox and its SMTP worker.
//! - [`cli`]: the `coopfund` command (serve, migrate, user, schedule …).
//! - [`config`], [`telemetry`], [`server`]: settings, logs and metrics, and start-up (HTTP or
//!   built-in HTTPS); [`forwarded`]: the client's address and scheme, believed from trusted proxies only.

pub use coopfund_domain as domain;

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod forwarded;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod server;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
