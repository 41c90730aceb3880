//! Configuration: the embedded defaults, then a TOML file, then `COOPFUND__SECTION__KEY`
//! environment variables, validated once at start so a wrong value stops the service with a
//! message naming the key.

use std::path::Path;

use figment::{
    providers::{Env, Format, Toml},
    Figment,
};
use serde::Deserialize;

/// The defaults shipped inside the binary, identical to `config/default.toml`, so the service
/// starts even when run from another directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Every setting of the service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub fund: FundSettings,
}

/// Where and how the HTTP server listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub body_limit_bytes: usize,
}

/// The database connection.
#[derive(Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// Plain lines for people or JSON for collectors.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Plain,
    Json,
}

/// Login and token policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub token_ttl_minutes: i64,
    pub max_failed_logins: i32,
    pub lockout_minutes: i64,
}

/// Facts about the fund itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundSettings {
    pub name: String,
    pub province: String,
    pub districts: Vec<String>,
    pub time_zone: String,
    pub start_business_date: String,
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
                return Err(ConfigError::Load(format!("file {} not found", path.display())))
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
        let url = &self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return invalid("database.url", "must start with sqlite: or postgres://");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        if self.server.body_limit_bytes < 1024 {
            return invalid("server.body_limit_bytes", "must be at least 1024");
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
            return invalid("fund.time_zone", "is not an IANA time zone such as Asia/Ho_Chi_Minh");
        }
        if !self.fund.start_business_date.is_empty()
            && chrono::NaiveDate::parse_from_str(&self.fund.start_business_date, "%Y-%m-%d").is_err()
        {
            return invalid("fund.start_business_date", "must be YYYY-MM-DD or empty");
        }
        Ok(())
    }

    /// The fund's time zone (validated at load).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.fund.time_zone.parse().unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }
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

    #[test]
    fn the_embedded_defaults_are_valid() {
        let settings = Settings::load(None).expect("defaults load");
        assert_eq!(settings.server.port, 8080);
        assert!(settings.database.url.starts_with("sqlite:"));
    }

    #[test]
    fn a_password_in_the_database_url_is_redacted() {
        assert_eq!(
            redact_url("postgres://fund:s3cret@db:5432/coopfund"),
            "postgres://fund:***@db:5432/coopfund"
        );
        assert!(!format!("{:?}", DatabaseSettings { url: "postgres://a:pw@h/d".into(), max_connections: 1 }).contains("pw"));
    }
}
