//! Email: messages in Vietnamese and English, queued in a transactional outbox and delivered
//! over SMTP by a worker.
//!
//! - [`templates`]: one typed struct per message, rendered in each language.
//! - [`notices`]: one function per event, called by the use cases inside their transaction.
//! - [`outbox`]: [`outbox::enqueue`], the dedupe-keyed insert those functions end in.
//! - [`worker`]: claims, sends with lettre, retries with back-off, marks failed.
//!
//! The list and retry actions for people are in [`crate::app::outbox`].

pub mod notices;
pub mod outbox;
pub mod templates;
pub mod worker;
