//! Use cases: one module per aggregate. Each opens one database transaction, loads, decides
//! (in `coopfund_domain` where money is involved), stores, and appends the audit record in the
//! same transaction, so a change and its trail are written together or not at all.

pub mod application_documents;
pub mod applications;
pub mod audit;
pub mod backups;
pub mod bank_statements;
pub mod calendar;
pub mod caller;
pub mod chains;
pub mod charter_capital;
pub mod cob;
pub mod cob_batch;
pub mod configuration;
pub mod context;
pub mod cooperative_profiles;
pub mod cooperatives;
pub mod deferred_writes;
pub mod event_mail;
pub mod follow_ups;
pub mod fund;
pub mod idempotency;
pub mod ledger;
pub mod lending_limits;
pub mod loan_engine;
pub mod loans;
pub mod notifications;
pub mod outbox;
pub mod page;
pub mod payment_qr;
pub mod policy;
pub mod products;
pub mod repairs;
pub mod reports;
pub mod reports_as_of;
pub mod schedule_preview;
pub mod sessions;
pub mod users;
pub mod validate;
pub mod writer;

pub use caller::Caller;
