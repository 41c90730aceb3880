//! Configuration: the embedded defaults, then a TOML file, then `COOPFUND__SECTION__KEY`
//! environment variables, validated once at start so a wrong value stops the service with a
//! message naming the key.

use std::path::Path;

use figment::{
    providers::{Env, Format, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

/// The defaults shipped inside the binary, identical to `config/default.toml`, so the service
/// starts even when run from another directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Every setting of the service.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub fund: FundSettings,
    pub smtp: SmtpSettings,
    pub mail: MailSettings,
    pub outbox: OutboxSettings,
    pub reminders: ReminderSettings,
    pub cob: CobSettings,
    pub backup: BackupSettings,
    pub lending: LendingSettings,
    pub classification: ClassificationSettings,
    pub calendar: CalendarSettings,
    pub bank_statements: BankStatementSettings,
}

/// The fund's days off as configured (entered into the database at start, see `app::calendar`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    /// Weekly days off, by English name (`saturday`, `sunday` …).
    pub weekly_days_off: Vec<String>,
    /// Dated holidays.
    pub holidays: Vec<HolidaySetting>,
}

/// One configured holiday.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaySetting {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// What it is, e.g. `Tết Nguyên đán / Lunar New Year`.
    pub name: String,
}

impl CalendarSettings {
    /// The weekly days off (validated at load, so unknown names cannot occur here).
    pub fn weekly_days(&self) -> coopfund_domain::WeekDays {
        coopfund_domain::WeekDays::of(
            self.weekly_days_off
                .iter()
                .filter_map(|day| parse_weekday(day)),
        )
    }

    /// The configured holidays as dates (validated at load).
    pub fn holiday_dates(&self) -> Vec<(chrono::NaiveDate, String)> {
        self.holidays
            .iter()
            .filter_map(|h| {
                chrono::NaiveDate::parse_from_str(&h.date, "%Y-%m-%d")
                    .ok()
                    .map(|date| (date, h.name.clone()))
            })
            .collect()
    }
}

/// A day of the week from its English name (`monday` … `sunday`, any case).
pub fn parse_weekday(name: &str) -> Option<chrono::Weekday> {
    use chrono::Weekday::*;
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "monday" => Mon,
        "tuesday" => Tue,
        "wednesday" => Wed,
        "thursday" => Thu,
        "friday" => Fri,
        "saturday" => Sat,
        "sunday" => Sun,
        _ => return None,
    })
}

/// Debt groups and provisions (DOMAIN.md §8; Circular 14/2024, Decree 86/2024): thresholds in days
/// past due and rates in percent, all the fund's to set.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClassificationSettings {
    /// Days past due from which a loan is in group 2, 3, 4 and 5.
    pub group_from_dpd: [i64; 4],
    /// Specific provision rates of groups 1 to 5, percent, as decimal strings.
    pub specific_provision_percent: [String; 5],
    /// General provision on the outstanding principal of groups 1-4, percent.
    pub general_provision_percent: String,
}

impl ClassificationSettings {
    /// The engine's classification thresholds.
    pub fn classification(&self) -> coopfund_domain::ClassificationConfig {
        let [g2, g3, g4, g5] = self.group_from_dpd;
        coopfund_domain::ClassificationConfig {
            group_2_from_dpd: g2,
            group_3_from_dpd: g3,
            group_4_from_dpd: g4,
            group_5_from_dpd: g5,
            ..Default::default()
        }
    }

    /// The engine's provision rates (validated at load, so parsing cannot fail here).
    pub fn provision_rates(&self) -> coopfund_domain::ProvisionRates {
        let parse =
            |text: &str| rust_decimal::Decimal::from_str_exact(text.trim()).unwrap_or_default();
        coopfund_domain::ProvisionRates {
            specific_percent: self.specific_provision_percent.each_ref().map(|p| parse(p)),
            general_percent: parse(&self.general_provision_percent),
        }
    }
}

/// Where and how the HTTP server listens.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub body_limit_bytes: usize,
    /// Reverse proxies (IP addresses or CIDR networks) whose `Forwarded` / `X-Forwarded-For` /
    /// `X-Forwarded-Proto` headers are believed (see [`crate::forwarded`]); empty trusts nobody.
    pub trusted_proxies: Vec<String>,
    /// Built-in HTTPS.
    pub tls: TlsSettings,
}

/// Built-in HTTPS (rustls): `server.port` then serves HTTPS, and a plain-HTTP listener may send
/// every request there.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    pub enabled: bool,
    /// PEM file with the certificate chain, the server's certificate first.
    pub cert_path: std::path::PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1). Read at start, then never again.
    pub key_path: std::path::PathBuf,
    /// Whether to listen for plain HTTP on `redirect_port` and answer 308 to the same path over
    /// HTTPS.
    pub redirect_http: bool,
    /// The plain-HTTP port of that redirect (80 in production; 0 picks a free port, for tests).
    pub redirect_port: u16,
}

/// The database connection.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseSettings {
    // The URL may carry a password: never let it reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Log output.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// Plain lines for people or JSON for collectors.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Plain,
    Json,
}

/// Login and token policy.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub token_ttl_minutes: i64,
    pub max_failed_logins: i32,
    pub lockout_minutes: i64,
}

/// Facts about the fund itself.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FundSettings {
    pub name: String,
    pub province: String,
    pub districts: Vec<String>,
    pub time_zone: String,
    pub start_business_date: String,
}

/// The SMTP server the outbox worker delivers through.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Whether `serve` runs the delivery worker. Off by default so a newcomer's first start
    /// never tries to mail anyone; messages still queue in the outbox and go out once enabled.
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Empty means no authentication.
    pub username: String,
    /// Never logged: `Debug` prints `***`.
    pub password: String,
    pub from_address: String,
    pub from_name: String,
    /// Connection and command timeout, in seconds.
    pub timeout_seconds: u64,
}

impl std::fmt::Debug for SmtpSettings {
    // The password must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("enabled", &self.enabled)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or a test server.
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587); refused if the server cannot.
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// What every email says about the fund: how to pay and whom to contact.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The account holder cooperatives pay into.
    pub bank_account_name: String,
    /// The account number: letters and digits, at most 19 (the NAPAS/VietQR limit).
    pub bank_account_number: String,
    /// Bank and branch.
    pub bank_name: String,
    /// The bank's six-digit NAPAS BIN (e.g. 970405 Agribank), which a VietQR payment code names.
    pub bank_bin: String,
    /// Reply-To of every message; empty for none.
    pub reply_to: String,
    /// The fund's phone number for questions.
    pub contact_phone: String,
}

/// Delivery of queued messages: batching, retries and leases.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// Pause between polls when the outbox is empty, in seconds.
    pub poll_interval_seconds: u64,
    /// Messages claimed per step.
    pub batch_size: u64,
    /// Attempts before a message is marked failed (an admin can retry it).
    pub max_attempts: i32,
    /// The first retry waits this long; each further one twice as long …
    pub backoff_base_seconds: u64,
    /// … but never longer than this.
    pub backoff_max_seconds: u64,
    /// A claimed message not marked sent within this time is taken again by another worker
    /// (its worker is presumed dead).
    pub lease_seconds: u64,
}

/// When reminders go out (DOMAIN.md §10).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSettings {
    /// Days before a due date on which the cooperative is reminded.
    pub days_before: Vec<u32>,
    /// Days past due on which an overdue notice goes out (copy to the officer).
    pub overdue_days: Vec<u32>,
}

/// The nightly close of business.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CobSettings {
    /// Whether `serve` schedules it.
    pub enabled: bool,
    /// Cron expression with seconds: `sec min hour day-of-month month day-of-week`.
    pub cron: String,
    /// Time zone the cron expression is read in.
    pub time_zone: String,
    /// Whether a day that has not ended yet may be closed (demos and tests that simulate time).
    pub allow_future_dates: bool,
}

/// The scheduled backup of the embedded SQLite database (`crate::app::backups`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSettings {
    /// Whether `serve` makes the scheduled backup (SQLite only; PostgreSQL has its own tools).
    pub enabled: bool,
    /// Cron expression with seconds, read in `cob.time_zone`.
    pub cron: String,
    /// The folder the copies are written to.
    pub dir: std::path::PathBuf,
    /// How many copies to keep (the oldest beyond this are deleted after each backup).
    pub retention_count: usize,
}

/// The fund's internal lending rules that are not per product.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LendingSettings {
    /// Decree 45/2021 and the fund's charter: an application above this amount (đồng) needs the
    /// management council's approval as well, a second approver different from the first.
    pub council_approval_above_vnd: i64,
}

/// A configuration value that cannot be used, named by its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl Settings {
    /// Loads defaults, then `path` if it exists (an explicitly named file must exist), then the
    /// environment, and validates the result.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        match path {
            Some(path) if !path.exists() => {
                return Err(ConfigError::Load(format!(
                    "file {} not found",
                    path.display()
                )))
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => {}
        }
        figment = figment.merge(Env::prefixed("COOPFUND__").split("__"));
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: ranges, formats, known values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        let dpd = self.classification.group_from_dpd;
        if dpd[0] < 1 || dpd.windows(2).any(|w| w[0] >= w[1]) {
            return invalid(
                "classification.group_from_dpd",
                "must be four increasing day counts, the first at least 1",
            );
        }
        let percent_ok = |text: &str| {
            rust_decimal::Decimal::from_str_exact(text.trim()).is_ok_and(|p| {
                p >= rust_decimal::Decimal::ZERO && p <= rust_decimal::Decimal::ONE_HUNDRED
            })
        };
        if !self
            .classification
            .specific_provision_percent
            .iter()
            .all(|p| percent_ok(p))
        {
            return invalid(
                "classification.specific_provision_percent",
                "must be five percentages from 0 to 100, as strings",
            );
        }
        if !percent_ok(&self.classification.general_provision_percent) {
            return invalid(
                "classification.general_provision_percent",
                "must be a percentage from 0 to 100, as a string",
            );
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return invalid("database.url", "must start with sqlite: or postgres://");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        if self.server.body_limit_bytes < 1024 {
            return invalid("server.body_limit_bytes", "must be at least 1024");
        }
        if let Err(reason) = crate::forwarded::TrustedProxies::parse(&self.server.trusted_proxies) {
            return invalid("server.trusted_proxies", &reason);
        }
        let tls = &self.server.tls;
        if tls.enabled {
            // Readability is checked when `serve` starts (other commands never read them).
            if tls.cert_path.as_os_str().is_empty() {
                return invalid(
                    "server.tls.cert_path",
                    "must name the certificate's PEM file when server.tls.enabled is true",
                );
            }
            if tls.key_path.as_os_str().is_empty() {
                return invalid(
                    "server.tls.key_path",
                    "must name the private key's PEM file when server.tls.enabled is true",
                );
            }
            if tls.redirect_http && tls.redirect_port != 0 && tls.redirect_port == self.server.port
            {
                return invalid(
                    "server.tls.redirect_port",
                    "must differ from server.port (HTTPS is served there)",
                );
            }
        }
        if self.auth.token_ttl_minutes < 1 {
            return invalid("auth.token_ttl_minutes", "must be at least 1");
        }
        if self.auth.max_failed_logins < 1 {
            return invalid("auth.max_failed_logins", "must be at least 1");
        }
        if self.auth.lockout_minutes < 0 {
            return invalid("auth.lockout_minutes", "must not be negative");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return invalid("log.level", "is not a valid tracing filter");
        }
        if self.fund.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return invalid(
                "fund.time_zone",
                "is not an IANA time zone such as Asia/Ho_Chi_Minh",
            );
        }
        if !self.fund.start_business_date.is_empty()
            && chrono::NaiveDate::parse_from_str(&self.fund.start_business_date, "%Y-%m-%d")
                .is_err()
        {
            return invalid("fund.start_business_date", "must be YYYY-MM-DD or empty");
        }
        if self.lending.council_approval_above_vnd < 0 {
            return invalid("lending.council_approval_above_vnd", "must not be negative");
        }
        if let Some(day) = self
            .calendar
            .weekly_days_off
            .iter()
            .find(|day| parse_weekday(day).is_none())
        {
            return invalid(
                "calendar.weekly_days_off",
                &format!("{day:?} is not a day of the week (monday … sunday)"),
            );
        }
        if self.calendar.weekly_days().days().len() == 7 {
            return invalid(
                "calendar.weekly_days_off",
                "the fund must work at least one day a week",
            );
        }
        for holiday in &self.calendar.holidays {
            if chrono::NaiveDate::parse_from_str(&holiday.date, "%Y-%m-%d").is_err() {
                return invalid(
                    "calendar.holidays",
                    &format!("{:?} is not a date YYYY-MM-DD", holiday.date),
                );
            }
            if holiday.name.trim().is_empty() || holiday.name.chars().count() > 200 {
                return invalid(
                    "calendar.holidays",
                    &format!("the name of {} must have 1 to 200 characters", holiday.date),
                );
            }
        }
        self.bank_statements.validate()?;
        self.validate_mail()
    }

    /// The checks of `[smtp]`, `[mail]`, `[outbox]`, `[reminders]` and `[cob]`.
    fn validate_mail(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        let plausible_email = |value: &str| {
            value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.contains('@')
            }) && !value.contains(char::is_whitespace)
        };
        let smtp = &self.smtp;
        if smtp.host.trim().is_empty() {
            return invalid("smtp.host", "must not be empty");
        }
        if smtp.port == 0 {
            return invalid("smtp.port", "must be between 1 and 65535");
        }
        if !plausible_email(&smtp.from_address) {
            return invalid(
                "smtp.from_address",
                "must be an email address such as quy@example.vn",
            );
        }
        if smtp.timeout_seconds == 0 || smtp.timeout_seconds > 600 {
            return invalid("smtp.timeout_seconds", "must be between 1 and 600");
        }
        if !smtp.username.is_empty()
            && smtp.tls == SmtpTls::None
            && smtp.host != "127.0.0.1"
            && smtp.host != "localhost"
        {
            return invalid("smtp.tls", "must be starttls or tls when a username is set (never send a password in clear over the network)");
        }
        let mail = &self.mail;
        if mail.bank_account_name.trim().is_empty() || mail.bank_account_name.chars().count() > 200
        {
            return invalid("mail.bank_account_name", "must have 1 to 200 characters");
        }
        let account = &mail.bank_account_number;
        if account.is_empty()
            || account.len() > 19
            || !account.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return invalid(
                "mail.bank_account_number",
                "must be 1 to 19 letters and digits, without spaces",
            );
        }
        if mail.bank_name.trim().is_empty() {
            return invalid("mail.bank_name", "must not be empty");
        }
        if mail.bank_bin.len() != 6 || !mail.bank_bin.chars().all(|c| c.is_ascii_digit()) {
            return invalid(
                "mail.bank_bin",
                "must be the bank's six-digit NAPAS BIN, e.g. \"970405\" for Agribank",
            );
        }
        if !self.mail.reply_to.is_empty() && !plausible_email(&self.mail.reply_to) {
            return invalid("mail.reply_to", "must be an email address or empty");
        }
        let outbox = &self.outbox;
        if outbox.poll_interval_seconds == 0 {
            return invalid("outbox.poll_interval_seconds", "must be at least 1");
        }
        if !(1..=1000).contains(&outbox.batch_size) {
            return invalid("outbox.batch_size", "must be between 1 and 1000");
        }
        if !(1..=100).contains(&outbox.max_attempts) {
            return invalid("outbox.max_attempts", "must be between 1 and 100");
        }
        if outbox.backoff_base_seconds == 0 {
            return invalid("outbox.backoff_base_seconds", "must be at least 1");
        }
        if outbox.backoff_max_seconds < outbox.backoff_base_seconds {
            return invalid(
                "outbox.backoff_max_seconds",
                "must not be below outbox.backoff_base_seconds",
            );
        }
        // A lease shorter than one send could hand a message still being sent to a second
        // worker, which would send it twice. The worker starts a send only while more than one
        // send's time (twice the timeout) is left of its lease: a lease of exactly twice the
        // timeout would hand every message back unsent, forever.
        if outbox.lease_seconds <= 2 * smtp.timeout_seconds {
            return invalid(
                "outbox.lease_seconds",
                "must be more than twice smtp.timeout_seconds",
            );
        }
        let days_ok = |days: &[u32]| {
            !days.is_empty() && days.iter().all(|d| (1..=366).contains(d)) && {
                let mut sorted = days.to_vec();
                sorted.sort_unstable();
                sorted.dedup();
                sorted.len() == days.len()
            }
        };
        if !days_ok(&self.reminders.days_before) {
            return invalid(
                "reminders.days_before",
                "must list distinct days between 1 and 366, e.g. [7, 1]",
            );
        }
        if !days_ok(&self.reminders.overdue_days) {
            return invalid(
                "reminders.overdue_days",
                "must list distinct days between 1 and 366, e.g. [1, 10, 30]",
            );
        }
        if parse_cron(&self.cob.cron).is_err() {
            return invalid(
                "cob.cron",
                "is not a cron expression with seconds, e.g. \"0 30 23 * * *\"",
            );
        }
        if parse_cron(&self.backup.cron).is_err() {
            return invalid(
                "backup.cron",
                "is not a cron expression with seconds, e.g. \"0 0 2 * * *\"",
            );
        }
        if self.backup.retention_count == 0 {
            return invalid("backup.retention_count", "must keep at least 1 copy");
        }
        if self.cob.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return invalid(
                "cob.time_zone",
                "is not an IANA time zone such as Asia/Ho_Chi_Minh",
            );
        }
        Ok(())
    }

    /// The fund's time zone (validated at load).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.fund
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }
}

/// Parses a cron expression the way the scheduler does (seconds required, day-of-month and
/// day-of-week both honoured).
pub fn parse_cron(expression: &str) -> Result<croner::Cron, croner::errors::CronError> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expression)
}

/// Hides the password of a `scheme://user:password@host/…` URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key `validate` names once `change` is made to a copy of `defaults` (panics if it passes).
    fn key_of(defaults: &Settings, change: impl FnOnce(&mut Settings)) -> &'static str {
        let mut settings = defaults.clone();
        change(&mut settings);
        match settings.validate() {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn the_embedded_defaults_are_valid() {
        let settings = Settings::load(None).expect("defaults load");
        assert_eq!(settings.server.port, 8080);
        assert!(settings.database.url.starts_with("sqlite:"));
    }

    /// `config/production.example.toml` (README, "Install for a fund") loads and validates as it is, so it never
    /// drifts from the keys and checks of this module.
    #[test]
    fn the_production_example_loads_and_validates() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/production.example.toml");
        let settings = Settings::load(Some(&path)).expect("the production example loads");
        assert_eq!(
            settings.database.url,
            "sqlite:///var/lib/coopfund/coopfund.db?mode=rwc"
        );
        assert_eq!(settings.backup.dir, Path::new("/var/backups/coopfund"));
        assert_eq!(settings.backup.retention_count, 30);
        assert_eq!(settings.smtp.port, 587);
        assert_eq!(settings.fund.time_zone, "Asia/Ho_Chi_Minh");
        assert_eq!(settings.fund.districts.len(), 9);
        assert_eq!(settings.mail.bank_account_number, "0000000000000");
        assert_eq!(settings.mail.bank_bin, "970405");
        assert_eq!(settings.server.trusted_proxies, ["127.0.0.1", "::1"]);
        assert!(
            !settings.server.tls.enabled,
            "a proxy in front is the default way"
        );
        assert_eq!(settings.server.tls.redirect_port, 80);
        assert_eq!(settings.calendar.holiday_dates().len(), 29);
        // The example's calendar is the embedded one: a fund starting from either has the same days off.
        let defaults = Settings::load(None).expect("defaults load");
        assert_eq!(
            settings.calendar.holiday_dates(),
            defaults.calendar.holiday_dates()
        );
    }

    #[test]
    fn a_wrong_calendar_setting_is_named_by_its_key() {
        let defaults = Settings::load(None).expect("defaults load");
        assert_eq!(
            defaults.calendar.weekly_days(),
            coopfund_domain::WeekDays::of([chrono::Weekday::Sat, chrono::Weekday::Sun])
        );
        // Tết 2026 (14–22 February) and the 2027 dates are configured.
        let dates: Vec<_> = defaults.calendar.holiday_dates();
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert!(dates.iter().any(|(d, _)| *d == day(2026, 2, 14)));
        assert!(dates.iter().any(|(d, _)| *d == day(2026, 2, 22)));
        assert!(dates.iter().any(|(d, _)| *d == day(2027, 4, 16)));
        assert_eq!(
            key_of(&defaults, |s| s.calendar.weekly_days_off =
                vec!["chủ nhật".into()]),
            "calendar.weekly_days_off"
        );
        assert_eq!(
            key_of(&defaults, |s| {
                s.calendar.weekly_days_off = [
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                ]
                .map(String::from)
                .to_vec()
            }),
            "calendar.weekly_days_off"
        );
        assert_eq!(
            key_of(&defaults, |s| s.calendar.holidays[0].date =
                "2026-02-30".into()),
            "calendar.holidays"
        );
        assert_eq!(
            key_of(&defaults, |s| s.calendar.holidays[0].name = " ".into()),
            "calendar.holidays"
        );
    }

    #[test]
    fn a_wrong_mail_setting_is_named_by_its_key() {
        let defaults = Settings::load(None).expect("defaults load");
        assert_eq!(
            key_of(&defaults, |s| s.cob.cron = "every night".into()),
            "cob.cron"
        );
        assert_eq!(
            key_of(&defaults, |s| s.cob.time_zone = "Hanoi".into()),
            "cob.time_zone"
        );
        assert_eq!(
            key_of(&defaults, |s| s.smtp.from_address = "nobody".into()),
            "smtp.from_address"
        );
        assert_eq!(
            key_of(&defaults, |s| s.outbox.max_attempts = 0),
            "outbox.max_attempts"
        );
        assert_eq!(
            key_of(&defaults, |s| s.outbox.backoff_max_seconds = 0),
            "outbox.backoff_max_seconds"
        );
        assert_eq!(
            key_of(&defaults, |s| s.reminders.days_before = vec![7, 7]),
            "reminders.days_before"
        );
        assert_eq!(
            key_of(&defaults, |s| s.reminders.overdue_days = vec![]),
            "reminders.overdue_days"
        );
        assert!(
            !defaults.smtp.enabled,
            "a newcomer's start must not try to mail"
        );
        assert_eq!(defaults.reminders.days_before, vec![7, 1]);
        assert_eq!(defaults.reminders.overdue_days, vec![1, 10, 30]);
    }

    #[test]
    fn a_wrong_server_or_bank_setting_is_named_by_its_key() {
        let defaults = Settings::load(None).expect("defaults load");
        assert!(
            defaults.server.trusted_proxies.is_empty(),
            "nobody is trusted by default"
        );
        assert!(!defaults.server.tls.enabled);
        assert_eq!(
            key_of(&defaults, |s| s.server.trusted_proxies =
                vec!["nginx.local".into()]),
            "server.trusted_proxies"
        );
        assert_eq!(
            key_of(&defaults, |s| s.server.trusted_proxies =
                vec!["10.0.0.0/40".into()]),
            "server.trusted_proxies"
        );
        assert_eq!(
            key_of(&defaults, |s| s.server.tls.enabled = true),
            "server.tls.cert_path"
        );
        assert_eq!(
            key_of(&defaults, |s| {
                s.server.tls.enabled = true;
                s.server.tls.cert_path = "/etc/coopfund/tls/fullchain.pem".into();
            }),
            "server.tls.key_path"
        );
        assert_eq!(
            key_of(&defaults, |s| {
                s.server.tls.enabled = true;
                s.server.tls.cert_path = "/etc/coopfund/tls/fullchain.pem".into();
                s.server.tls.key_path = "/etc/coopfund/tls/privkey.pem".into();
                s.server.port = 443;
                s.server.tls.redirect_port = 443;
            }),
            "server.tls.redirect_port"
        );
        assert_eq!(
            key_of(&defaults, |s| s.mail.bank_bin = "97040".into()),
            "mail.bank_bin"
        );
        assert_eq!(
            key_of(&defaults, |s| s.mail.bank_bin = "97040A".into()),
            "mail.bank_bin"
        );
        assert_eq!(
            key_of(&defaults, |s| s.mail.bank_account_number =
                "3900 2010 01234".into()),
            "mail.bank_account_number"
        );
        assert_eq!(
            key_of(&defaults, |s| s.mail.bank_account_number = "1".repeat(20)),
            "mail.bank_account_number"
        );
        assert_eq!(
            key_of(&defaults, |s| s.mail.bank_account_name = " ".into()),
            "mail.bank_account_name"
        );
        assert_eq!(
            key_of(&defaults, |s| s.mail.bank_name = "".into()),
            "mail.bank_name"
        );
        let mut accepted = defaults.clone();
        accepted.server.trusted_proxies =
            vec!["127.0.0.1".into(), "10.0.0.0/8".into(), "fd00::/8".into()];
        accepted.mail.bank_account_number = "3900201001234".into();
        accepted.validate().expect("valid proxies and account");
    }

    #[test]
    fn a_password_in_the_database_url_is_redacted() {
        assert_eq!(
            redact_url("postgres://fund:s3cret@db:5432/coopfund"),
            "postgres://fund:***@db:5432/coopfund"
        );
        let mut smtp = Settings::load(None).expect("defaults load").smtp;
        smtp.password = "hunter2-smtp".into();
        assert!(!format!("{smtp:?}").contains("hunter2"));
        assert!(!format!(
            "{:?}",
            DatabaseSettings {
                url: "postgres://a:pw@h/d".into(),
                max_connections: 1
            }
        )
        .contains("pw"));
    }
}

/// `[bank_statements]`: importing the fund's bank statements and posting the repayments in them
/// (issue 12, `crate::app::bank_statements`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BankStatementSettings {
    /// Four-eyes on bank repayments: one accountant proposes the posting of a line, a different one
    /// confirms it (nothing is posted on the first confirmation).
    pub four_eyes: bool,
    /// Lines matched with at least this confidence (percent) are confirmed by "confirm all proposed".
    pub bulk_min_confidence_percent: i32,
    /// One profile per bank export layout (CSV or XLSX).
    pub profiles: Vec<BankProfile>,
}

/// How one bank's CSV or XLSX export reads: which column holds what, how dates and amounts are
/// written. Column names are matched ignoring case, spaces and Vietnamese diacritics.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BankProfile {
    /// The name given at import (`?profile=agribank`).
    pub name: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// The bank, as shown to people.
    pub bank_name: String,
    /// CSV only: the field delimiter, one character.
    pub delimiter: String,
    /// Column of the booking date (required).
    pub booking_date: String,
    /// Column of the value date; empty means the booking date.
    pub value_date: String,
    /// Column of money in (ghi có).
    pub credit: String,
    /// Column of money out (ghi nợ).
    pub debit: String,
    /// Column of the transfer message (required).
    pub description: String,
    /// Column of the bank's transaction id; empty when the bank gives none (a fingerprint is used).
    pub transaction_id: String,
    /// Column of the payer's or payee's name; may be empty.
    pub counterparty_name: String,
    /// Column of the payer's or payee's account; may be empty.
    pub counterparty_account: String,
    /// Column of the running balance after each line; may be empty (then the statement has no
    /// opening and closing balance, and is not reconciled).
    pub balance: String,
    /// chrono format of dates in text cells, e.g. `%d/%m/%Y`.
    pub date_format: String,
    /// `.` (`1.234.567`) or `,` (`1,234,567`).
    pub thousands_separator: String,
    /// `,` or `.`; a fraction of a đồng other than zero is refused.
    pub decimal_separator: String,
}

impl BankStatementSettings {
    /// The profile named `name`.
    pub fn profile(&self, name: &str) -> Option<&BankProfile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |reason: String| {
            Err(ConfigError::Invalid {
                key: "bank_statements.profiles",
                reason,
            })
        };
        if !(0..=100).contains(&self.bulk_min_confidence_percent) {
            return Err(ConfigError::Invalid {
                key: "bank_statements.bulk_min_confidence_percent",
                reason: "must be between 0 and 100".into(),
            });
        }
        for (i, p) in self.profiles.iter().enumerate() {
            let name = &p.name;
            if name.trim().is_empty() || self.profiles[..i].iter().any(|q| &q.name == name) {
                return invalid(format!(
                    "profile {}: the name must be non-empty and unique",
                    i + 1
                ));
            }
            if p.format != "csv" && p.format != "xlsx" {
                return invalid(format!("profile {name}: format must be csv or xlsx"));
            }
            if p.format == "csv" && p.delimiter.chars().count() != 1 {
                return invalid(format!("profile {name}: delimiter must be one character"));
            }
            if p.booking_date.trim().is_empty() || p.description.trim().is_empty() {
                return invalid(format!(
                    "profile {name}: booking_date and description are required"
                ));
            }
            if p.credit.trim().is_empty() || p.debit.trim().is_empty() {
                return invalid(format!(
                    "profile {name}: credit and debit columns are required"
                ));
            }
            let separators_ok = matches!(
                (p.thousands_separator.as_str(), p.decimal_separator.as_str()),
                (".", ",") | (",", ".") | (" ", ",") | ("", ",") | ("", ".")
            );
            if !separators_ok {
                return invalid(format!(
                    "profile {name}: thousands_separator and decimal_separator must be \".\" and \",\" or \",\" and \".\""
                ));
            }
            if chrono::NaiveDate::parse_from_str("05/01/2026", &p.date_format).is_err()
                && chrono::NaiveDate::parse_from_str("2026-01-05", &p.date_format).is_err()
                && chrono::NaiveDate::parse_from_str("05-01-2026", &p.date_format).is_err()
            {
                return invalid(format!(
                    "profile {name}: date_format {:?} reads no date",
                    p.date_format
                ));
            }
        }
        Ok(())
    }
}
