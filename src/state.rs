//! What every request handler and job shares.

use std::sync::Arc;

use chrono::NaiveDate;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;

use crate::{app::writer::MoneyWriter, config::Settings};

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub metrics: PrometheusHandle,
    /// Serializes money commands in-process on SQLite (see [`crate::app::writer`]).
    pub money_writer: MoneyWriter,
}

impl AppState {
    /// The state of a process over `db` with `settings`.
    pub fn new(db: DatabaseConnection, settings: Settings) -> Self {
        crate::app::policy::install(&settings.classification);
        AppState {
            db,
            settings: Arc::new(settings),
            metrics: crate::telemetry::metrics_handle(),
            money_writer: MoneyWriter::new(),
        }
    }

    /// The fund's calendar date now, in its time zone (used until a business date is kept).
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.settings.time_zone())
            .date_naive()
    }
}
