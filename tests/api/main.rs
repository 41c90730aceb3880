//! Integration tests through HTTP, one binary (one link) for the whole API suite.
//! Every test starts its own server over its own fresh database.

mod client;
mod helpers;
mod loan_fixtures;
mod smtp;

mod applications;
mod auth;
mod authorization;
mod backups;
mod bank_statements;
mod calendar;
mod chains;
mod cob;
mod cob_e2e;
mod cob_groups;
mod cob_kill;
mod concurrency;
mod cooperatives;
mod demo;
mod errors;
mod event_mails;
mod explain;
mod exports;
mod faults;
mod hardening;
mod keyed;
mod ledger;
mod loan_views;
mod loans;
mod migrations;
mod model;
mod notices_policy;
mod operations;
mod outbox;
mod payment_qr;
mod pg_restore;
mod products;
mod provisions;
mod recoveries;
mod reports;
mod restructuring;
mod schedule;
mod tls;
mod users;
mod writer_contention;
