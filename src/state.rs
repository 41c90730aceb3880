//! What every request handler and job shares.

use std::sync::Arc;

use chrono::NaiveDate;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;

use crate::{
    app::{context::AppCtx, writer::MoneyWriter},
    config::Settings,
};

/// Shared, cheaply cloned application state: the use cases' context plus what only the HTTP
/// server needs (the metrics handle).
#[derive(Clone)]
pub struct AppState {
    /// The context every use case takes (database, writer gate, settings, policy, clock).
    pub ctx: AppCtx,
    /// The same pool as `ctx.db` (kept while callers move to `ctx`).
    pub db: DatabaseConnection,
    /// The same settings as `ctx.settings`.
    pub settings: Arc<Settings>,
    pub metrics: PrometheusHandle,
    /// The same gate as `ctx.writer`: serializes money commands in-process on SQLite (see
    /// [`crate::app::writer`]).
    pub money_writer: MoneyWriter,
}

impl AppState {
    /// The state of a process over `db` with `settings`.
    pub fn new(db: DatabaseConnection, settings: Settings) -> Self {
        Self::with_ctx(AppCtx::new(db, Arc::new(settings)))
    }

    /// The state around an already built context (a test with its own clock or policy).
    pub fn with_ctx(ctx: AppCtx) -> Self {
        AppState {
            db: ctx.db.clone(),
            settings: ctx.settings.clone(),
            metrics: crate::telemetry::metrics_handle(),
            money_writer: ctx.writer.clone(),
            ctx,
        }
    }

    /// The fund's calendar date now, in its time zone (used until a business date is kept).
    pub fn today(&self) -> NaiveDate {
        self.ctx.today()
    }
}
