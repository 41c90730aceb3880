//! The web pages, tested in a real headless Chromium (Debian's `chromium` and `chromium-driver`;
//! `.ci/run` installs them) and, for what needs no browser, over plain HTTP.
//!
//! The browser tests share one demo fund (the explorable demo, loaded once per test process into
//! a fresh database by a server on port 0 that lives as long as the process) and take turns with
//! the browser (one at a time, so a busy machine is not asked for several Chromiums at once). Each
//! money test posts on a loan of its own, so they do not disturb one another. Screenshots of every
//! page they visit are written to `target/screenshots/`.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

#[allow(dead_code)]
#[path = "../api/loan_fixtures.rs"]
mod loan_fixtures;

mod accounting;
mod admin;
mod auditor;
mod bank;
mod cooperative;
mod driver;
mod explain;
mod officer;
mod pages;
mod shell;
