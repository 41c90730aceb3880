//! The outbox worker: claims due messages, sends them over SMTP with lettre, and records the
//! outcome. An SMTP outage delays mail; it never loses or duplicates it.
//!
//! ## One step
//! [`Worker::run_once_at`] is one bounded, deterministic step (tests drive it directly):
//! 1. **Expire**: a `sending` row whose lease has run out after its last allowed attempt is
//!    marked `failed` (its worker died mid-send; an admin decides whether to retry).
//! 2. **Claim** up to `outbox.batch_size` rows that are `pending`, or `sending` with an expired
//!    lease (a crashed worker), whose `next_attempt_at` has passed: one `UPDATE` sets them
//!    `sending`, counts the attempt, sets `next_attempt_at` to the end of the lease and writes a
//!    fresh claim token; the rows are then read back by that token. On PostgreSQL the subquery
//!    that picks the rows is `FOR UPDATE SKIP LOCKED`, so concurrent workers (in one process or
//!    many) take disjoint rows without waiting for each other. SQLite serialises writers, so the
//!    single conditional `UPDATE` is already exclusive.
//! 3. **Send** each claimed row, in order, with its stored Message-ID (a retry carries the same
//!    id, so a receiving system can tell a resend). Sending stops early if the lease is about
//!    to run out, and the unsent rows are handed back, so no other worker can ever take a row
//!    this worker is still sending.
//! 4. **Record**: `sent`; or back to `pending` with exponential back-off
//!    (`backoff_base_seconds × 2^(attempts−1)`, capped at `backoff_max_seconds`); or `failed`
//!    after `max_attempts`. Each update is guarded by the claim token, so a worker that lost its
//!    lease cannot overwrite the outcome of the one that took over.
//!
//! Each update goes through the writer gate of the embedded database ([`crate::app::writer`]),
//! never while a message is being sent, so delivering mail does not make a request or the close
//! of business meet a locked SQLite database.
//!
//! Delivery is at-least-once in one narrow case only: a worker killed after the SMTP server
//! accepted a message but before the `sent` update commits. The row is then resent after its
//! lease with the same Message-ID. No email is ever sent inside a database transaction.
//!
//! ## The loop
//! [`spawn`] runs steps until told to stop: immediately again while there is work, otherwise
//! after `outbox.poll_interval_seconds`; on shutdown it finishes the message in hand and hands
//! the rest of its batch back to the queue. Each outcome is counted in the Prometheus counter
//! `outbox_messages_total{outcome="sent"|"retried"|"failed"}`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lettre::{
    message::{
        header::{ContentType, Header, HeaderName, HeaderValue},
        Mailbox, Mailboxes,
    },
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query},
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    app::writer,
    config::{OutboxSettings, Settings, SmtpTls},
    error::{AppError, AppResult},
    state::AppState,
    store::entities::outbox_message::{self, Column, Entity, FAILED, PENDING, SENDING, SENT},
};

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Rows this step took.
    pub claimed: usize,
    /// Accepted by the SMTP server.
    pub sent: usize,
    /// Failed this time, to be tried again later.
    pub retried: usize,
    /// Given up on (max attempts reached, or an address that can never work).
    pub failed: usize,
    /// Stale leases after the last attempt, marked failed.
    pub expired: usize,
    /// Claimed but handed back unsent because the lease was running out.
    pub released: usize,
}

/// An SMTP client configured from `[smtp]` and `[mail]`.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

impl Mailer {
    /// Builds the transport (no connection is made until the first send).
    pub fn from_settings(settings: &Settings) -> AppResult<Self> {
        let smtp = &settings.smtp;
        let config_error = |key: &str, e: &dyn std::fmt::Display| {
            AppError::internal(anyhow::anyhow!("configuration key `{key}`: {e}"))
        };
        let mut builder = match smtp.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
            }
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| config_error("smtp.host", &e))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| config_error("smtp.host", &e))?,
        }
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(smtp.timeout_seconds)));
        if !smtp.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                smtp.username.clone(),
                smtp.password.clone(),
            ));
        }
        let from = Mailbox::new(
            Some(smtp.from_name.clone()).filter(|n| !n.is_empty()),
            smtp.from_address
                .parse()
                .map_err(|e| config_error("smtp.from_address", &e))?,
        );
        let reply_to = match settings.mail.reply_to.as_str() {
            "" => None,
            address => Some(Mailbox::new(
                None,
                address
                    .parse()
                    .map_err(|e| config_error("mail.reply_to", &e))?,
            )),
        };
        Ok(Self {
            transport: builder.build(),
            from,
            reply_to,
        })
    }

    /// Builds the email of `row`. An error means the row can never be sent (a bad address).
    fn compose(&self, row: &outbox_message::Model) -> Result<Message, String> {
        // One address, or the several a cooperative chose (its chair and accountant), comma-separated.
        let to: Mailboxes = row
            .recipient
            .parse()
            .map_err(|e| format!("recipient {:?}: {e}", row.recipient))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .mailbox(lettre::message::header::To::from(to))
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .header(ContentLanguage(row.language.clone()))
            .header(AutoSubmitted)
            .date_now();
        if let Some(cc) = &row.cc {
            builder = builder.cc(cc.parse().map_err(|e| format!("cc {cc:?}: {e}"))?);
        }
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(payload) = &row.qr_payload {
            return builder
                .multipart(with_payment_code(row, payload)?)
                .map_err(|e| format!("message: {e}"));
        }
        match &row.body_html {
            Some(html) => builder.multipart(lettre::message::MultiPart::alternative_plain_html(
                row.body_text.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(row.body_text.clone()),
        }
        .map_err(|e| format!("message: {e}"))
    }
}

/// The Content-ID of the VietQR image in a mail that asks for a payment.
pub const QR_CONTENT_ID: &str = "vietqr@coopfund";

/// The body of a mail that asks for a payment (issue 10 §4): the text, and an HTML alternative that
/// shows the same text with the VietQR code of `payload` as an inline PNG (`cid:`), so a banking app
/// can scan it from the screen. `multipart/alternative` of the text and a `multipart/related` of the
/// HTML and the image: clients that show text only still get the account and the message in words.
fn with_payment_code(
    row: &outbox_message::Model,
    payload: &str,
) -> Result<lettre::message::MultiPart, String> {
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let png = crate::app::payment_qr::draw_png(payload).map_err(|e| format!("QR code: {e}"))?;
    let escaped = row
        .body_text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let alt = if row.language == "en" {
        "VietQR code to pay"
    } else {
        "Mã VietQR để chuyển khoản"
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head><body>\
         <pre style=\"font-family:inherit;white-space:pre-wrap\">{escaped}</pre>\
         <p><img src=\"cid:{QR_CONTENT_ID}\" alt=\"{alt}\" width=\"264\" height=\"264\"></p>\
         </body></html>",
        lang = if row.language == "en" { "en" } else { "vi" },
    );
    let image = Attachment::new_inline(QR_CONTENT_ID.to_string())
        .body(png, "image/png".parse().map_err(|e| format!("{e}"))?);
    Ok(MultiPart::alternative()
        .singlepart(SinglePart::plain(row.body_text.clone()))
        .multipart(
            MultiPart::related()
                .singlepart(SinglePart::html(html))
                .singlepart(image),
        ))
}

/// `Content-Language: vi` / `en`, so a mail client or a test can tell the language.
#[derive(Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): mail robots do not answer it.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

/// The delay before attempt `attempts + 1`, after `attempts` failures: base × 2^(attempts−1),
/// at most `max`.
pub fn backoff(policy: &OutboxSettings, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0);
    let exponent = std::cmp::Ord::min(exponent, 30);
    let seconds = std::cmp::Ord::min(
        policy.backoff_base_seconds.saturating_mul(1u64 << exponent),
        policy.backoff_max_seconds,
    );
    Duration::from_secs(seconds)
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// A worker: the database, the policy and an SMTP client.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    policy: OutboxSettings,
    smtp_timeout: Duration,
    mailer: Mailer,
    /// Set by [`spawn`]: when it turns `true` the step hands back what it has not sent yet.
    stop: Option<watch::Receiver<bool>>,
}

impl Worker {
    /// A worker on `db` with the `[smtp]`, `[mail]` and `[outbox]` settings. Several workers
    /// (in one process or many) may share a database.
    pub fn new(db: DatabaseConnection, settings: &Settings) -> AppResult<Self> {
        Ok(Self {
            db,
            policy: settings.outbox.clone(),
            smtp_timeout: Duration::from_secs(settings.smtp.timeout_seconds),
            mailer: Mailer::from_settings(settings)?,
            stop: None,
        })
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|stop| *stop.borrow())
    }

    /// One step at the current time.
    pub async fn run_once(&self) -> AppResult<DeliveryReport> {
        self.run_once_at(Utc::now()).await
    }

    /// One step as if the clock read `now` (tests move it past back-off delays).
    #[tracing::instrument(name = "outbox batch", skip_all, fields(%now, claimed))]
    pub async fn run_once_at(&self, now: DateTime<Utc>) -> AppResult<DeliveryReport> {
        let started = Instant::now();
        let lease = Duration::from_secs(self.policy.lease_seconds);
        let mut report = DeliveryReport {
            expired: self.expire_stale(now).await?,
            ..Default::default()
        };
        let (token, rows) = self.claim(now).await?;
        report.claimed = rows.len();
        tracing::Span::current().record("claimed", report.claimed);
        for (index, row) in rows.iter().enumerate() {
            // Never start a send that could outlive the lease: another worker would take the
            // row and send it again.
            // On shutdown, likewise: the rows go back to the queue rather than wait for a lease.
            if started.elapsed() + 2 * self.smtp_timeout >= lease || self.stopping() {
                report.released = self.release(&token, &rows[index..]).await?;
                break;
            }
            let outcome = match self.mailer.compose(row) {
                Err(permanent) => Outcome::Failed(permanent),
                Ok(email) => match tokio::time::timeout(
                    2 * self.smtp_timeout,
                    self.mailer.transport.send(email),
                )
                .await
                {
                    Ok(Ok(_)) => Outcome::Sent,
                    Ok(Err(e)) => Outcome::Retry(e.to_string()),
                    Err(_) => Outcome::Retry(format!(
                        "no answer from the SMTP server within {:?}",
                        2 * self.smtp_timeout
                    )),
                },
            };
            match self
                .record(
                    &token,
                    row,
                    outcome,
                    now + chrono_duration(started.elapsed()),
                )
                .await?
            {
                Recorded::Sent => report.sent += 1,
                Recorded::Retry => report.retried += 1,
                Recorded::Failed => report.failed += 1,
                Recorded::LostLease => {}
            }
        }
        for (outcome, count) in [
            ("sent", report.sent),
            ("retried", report.retried),
            ("failed", report.failed + report.expired),
        ] {
            if count > 0 {
                metrics::counter!("outbox_messages_total", "outcome" => outcome)
                    .increment(count as u64);
            }
        }
        if report != DeliveryReport::default() {
            tracing::info!(
                claimed = report.claimed,
                sent = report.sent,
                retried = report.retried,
                failed = report.failed,
                expired = report.expired,
                released = report.released,
                "outbox step"
            );
        }
        Ok(report)
    }

    async fn expire_stale(&self, now: DateTime<Utc>) -> AppResult<usize> {
        let _gate = writer::enter(&self.db).await;
        let result = Entity::update_many()
            .col_expr(Column::Status, Expr::value(FAILED))
            .col_expr(Column::ClaimToken, Expr::value(Option::<String>::None))
            .col_expr(
                Column::LastError,
                Expr::value(
                    "the worker sending the last attempt stopped before recording the outcome",
                ),
            )
            .filter(Column::Status.eq(SENDING))
            .filter(Column::NextAttemptAt.lte(now))
            .filter(Column::Attempts.gte(self.policy.max_attempts))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected as usize)
    }

    /// Takes up to `batch_size` due rows under a fresh claim token.
    async fn claim(&self, now: DateTime<Utc>) -> AppResult<(String, Vec<outbox_message::Model>)> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let lease_until = now + chrono_duration(Duration::from_secs(self.policy.lease_seconds));
        let mut due = Query::select();
        due.column(Column::Id)
            .from(Entity)
            .and_where(Column::Status.is_in([PENDING, SENDING]))
            .and_where(Column::NextAttemptAt.lte(now))
            .and_where(Column::Attempts.lt(self.policy.max_attempts))
            .order_by(Column::NextAttemptAt, Order::Asc)
            .order_by(Column::Id, Order::Asc)
            .limit(self.policy.batch_size);
        if self.db.get_database_backend() == DbBackend::Postgres {
            due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let gate = writer::enter(&self.db).await;
        let claimed = Entity::update_many()
            .col_expr(Column::Status, Expr::value(SENDING))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::NextAttemptAt, Expr::value(lease_until))
            .col_expr(Column::ClaimToken, Expr::value(token.clone()))
            .filter(Column::Id.in_subquery(due))
            .exec(&self.db)
            .await?;
        drop(gate);
        if claimed.rows_affected == 0 {
            return Ok((token, Vec::new()));
        }
        let rows = Entity::find()
            .filter(Column::ClaimToken.eq(token.as_str()))
            .order_by_asc(Column::Id)
            .all(&self.db)
            .await?;
        Ok((token, rows))
    }

    /// Hands claimed rows back unsent: pending again, the attempt not counted.
    async fn release(&self, token: &str, rows: &[outbox_message::Model]) -> AppResult<usize> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let _gate = writer::enter(&self.db).await;
        let result = Entity::update_many()
            .col_expr(Column::Status, Expr::value(PENDING))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
            .col_expr(Column::NextAttemptAt, Expr::value(Utc::now()))
            .col_expr(Column::ClaimToken, Expr::value(Option::<String>::None))
            .filter(Column::Id.is_in(ids))
            .filter(Column::ClaimToken.eq(token))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected as usize)
    }

    async fn record(
        &self,
        token: &str,
        row: &outbox_message::Model,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> AppResult<Recorded> {
        let update = Entity::update_many()
            .col_expr(Column::ClaimToken, Expr::value(Option::<String>::None))
            .filter(Column::Id.eq(row.id))
            .filter(Column::Status.eq(SENDING))
            .filter(Column::ClaimToken.eq(token));
        let (update, recorded) = match outcome {
            Outcome::Sent => (
                update
                    .col_expr(Column::Status, Expr::value(SENT))
                    .col_expr(Column::SentAt, Expr::value(Some(now)))
                    .col_expr(Column::LastError, Expr::value(Option::<String>::None)),
                Recorded::Sent,
            ),
            Outcome::Failed(error) => {
                tracing::warn!(id = row.id, %error, "outbox message cannot be sent");
                (
                    update
                        .col_expr(Column::Status, Expr::value(FAILED))
                        .col_expr(Column::LastError, Expr::value(truncate(&error))),
                    Recorded::Failed,
                )
            }
            Outcome::Retry(error) if row.attempts >= self.policy.max_attempts => {
                tracing::warn!(id = row.id, attempts = row.attempts, %error, "outbox message failed for good");
                (
                    update
                        .col_expr(Column::Status, Expr::value(FAILED))
                        .col_expr(Column::LastError, Expr::value(truncate(&error))),
                    Recorded::Failed,
                )
            }
            Outcome::Retry(error) => {
                let next = now + chrono_duration(backoff(&self.policy, row.attempts));
                tracing::info!(id = row.id, attempts = row.attempts, %error, next_attempt_at = %next, "outbox message will be retried");
                (
                    update
                        .col_expr(Column::Status, Expr::value(PENDING))
                        .col_expr(Column::NextAttemptAt, Expr::value(next))
                        .col_expr(Column::LastError, Expr::value(truncate(&error))),
                    Recorded::Retry,
                )
            }
        };
        let result = {
            let _gate = writer::enter(&self.db).await;
            update.exec(&self.db).await?
        };
        if result.rows_affected == 1 {
            Ok(recorded)
        } else {
            tracing::warn!(
                id = row.id,
                "outbox lease lost before the outcome was recorded"
            );
            Ok(Recorded::LostLease)
        }
    }
}

enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
}

enum Recorded {
    Sent,
    Retry,
    Failed,
    LostLease,
}

/// Error texts from servers can be long; keep what a person needs.
fn truncate(error: &str) -> String {
    error.chars().take(1000).collect()
}

/// One step with a fresh [`Worker`] for `state`: what a test or an operator command calls.
pub async fn run_once(state: &AppState) -> AppResult<DeliveryReport> {
    Worker::new(state.db.clone(), &state.settings)?
        .run_once()
        .await
}

/// Runs the delivery loop until `stop` turns `true`, then returns after the message in hand.
pub fn spawn(state: AppState, stop: watch::Receiver<bool>) -> AppResult<JoinHandle<()>> {
    let worker = Worker::new(state.db.clone(), &state.settings)?;
    tracing::info!(
        host = %state.settings.smtp.host,
        port = state.settings.smtp.port,
        "outbox delivery worker started"
    );
    let idle = Duration::from_secs(state.settings.outbox.poll_interval_seconds);
    Ok(spawn_polling(worker, stop, idle))
}

/// [`spawn`] with an explicit pause between steps when there is no work (tests poll faster than
/// `outbox.poll_interval_seconds` allows).
pub fn spawn_polling(
    mut worker: Worker,
    mut stop: watch::Receiver<bool>,
    idle: Duration,
) -> JoinHandle<()> {
    worker.stop = Some(stop.clone());
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            let pause = match worker.run_once().await {
                // A full batch: there may be more, go again at once.
                Ok(report)
                    if report.claimed as u64 >= worker.policy.batch_size
                        && report.released == 0 =>
                {
                    Duration::ZERO
                }
                Ok(_) => idle,
                Err(err) => {
                    tracing::error!(error = %err, "outbox step failed");
                    idle
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!("outbox delivery worker stopped");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
        let policy = OutboxSettings {
            poll_interval_seconds: 5,
            batch_size: 10,
            max_attempts: 8,
            backoff_base_seconds: 60,
            backoff_max_seconds: 600,
            lease_seconds: 300,
        };
        let secs = |attempts| backoff(&policy, attempts).as_secs();
        assert_eq!(
            [secs(1), secs(2), secs(3), secs(4), secs(5), secs(50)],
            [60, 120, 240, 480, 600, 600]
        );
        assert_eq!(secs(0), 60);
    }
}
