//! One module per resource; each exposes `router()` with its OpenAPI-annotated handlers.

pub mod application_documents;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod bank_statements;
pub mod calendar;
pub mod cob;
pub mod cooperatives;
pub mod explain;
pub mod fund;
pub mod health;
pub mod ledger;
pub mod loans;
pub mod outbox;
pub mod payment_qr;
pub mod products;
pub mod recoveries;
pub mod reports;
pub mod schedule;
pub mod users;
