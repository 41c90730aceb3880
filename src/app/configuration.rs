//! The configuration in force, as an administrator reads it: every setting the service runs with
//! (the embedded defaults, then the file, then `COOPFUND__*` variables, as merged at start), each
//! as `section.key = value`, with its secrets hidden.
//!
//! The settings are walked through their `Serialize` form rather than listed by hand, so a key
//! added later shows up without anyone remembering this page. What is hidden is decided here, by
//! the key's name and by the value's shape, and errs towards hiding:
//! - a key named like a secret (`password`, `secret`, `token` but not `*_ttl_*`, `api_key`,
//!   `private_key`, `credentials`) shows only whether it is set;
//! - a URL with credentials (`postgres://user:pass@host/db`) keeps its user and loses its password
//!   ([`crate::config::redact_url`], the same redaction as the log lines).

use serde_json::Value;

use super::{context::AppCtx, Caller};
use crate::{
    auth::Role,
    config::redact_url,
    error::{AppError, AppResult},
};

/// How a setting is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// The value as text (lists joined by `, `; an empty text as empty).
    Shown(String),
    /// A secret: only whether it is set.
    Hidden {
        /// Whether it has a (non-empty) value.
        set: bool,
    },
}

/// One setting: its dotted key (`smtp.password`, `bank_statements.profiles.0.name`) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: SettingValue,
}

/// The settings of one top-level section (`[smtp]`), in the order the service declares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingSection {
    pub name: String,
    pub settings: Vec<Setting>,
}

/// The configuration in force, secrets hidden. Admins only.
#[tracing::instrument(name = "configuration.in_force", skip_all)]
pub fn in_force(ctx: &AppCtx, caller: &Caller) -> AppResult<Vec<SettingSection>> {
    caller.require(&[Role::Admin])?;
    let tree = serde_json::to_value(ctx.settings.as_ref())
        .map_err(|e| AppError::internal(anyhow::anyhow!("settings as JSON: {e}")))?;
    Ok(sections(&tree))
}

/// The sections of a settings tree (its top-level objects; a top-level scalar is a section of one).
pub fn sections(tree: &Value) -> Vec<SettingSection> {
    let Value::Object(top) = tree else {
        return Vec::new();
    };
    top.iter()
        .map(|(name, value)| {
            let mut settings = Vec::new();
            flatten(name, value, &mut settings);
            SettingSection {
                name: name.clone(),
                settings,
            }
        })
        .collect()
}

/// Whether a key's last segment names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    if last.contains("ttl") || last.ends_with("_minutes") || last.ends_with("_seconds") {
        // `token_ttl_minutes` is a duration, not a token.
        return false;
    }
    [
        "password",
        "secret",
        "token",
        "api_key",
        "private_key",
        "credential",
        "passphrase",
    ]
    .iter()
    .any(|word| last.contains(word))
}

fn flatten(key: &str, value: &Value, out: &mut Vec<Setting>) {
    match value {
        Value::Object(fields) => {
            for (name, inner) in fields {
                flatten(&format!("{key}.{name}"), inner, out);
            }
        }
        // A list of tables (bank profiles, holidays) is a numbered table each.
        Value::Array(items) if items.iter().any(Value::is_object) => {
            for (i, inner) in items.iter().enumerate() {
                flatten(&format!("{key}.{i}"), inner, out);
            }
        }
        _ if is_secret_key(key) => out.push(Setting {
            key: key.to_string(),
            value: SettingValue::Hidden {
                set: !matches!(value, Value::Null) && value.as_str().is_none_or(|s| !s.is_empty()),
            },
        }),
        _ => out.push(Setting {
            key: key.to_string(),
            value: SettingValue::Shown(shown(value)),
        }),
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => hide_credentials(text),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A URL's password replaced by `***` (any text with `scheme://user:pass@`).
fn hide_credentials(text: &str) -> String {
    if text.contains("://") && text.contains('@') {
        redact_url(text)
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn all(settings: &Settings) -> Vec<Setting> {
        sections(&serde_json::to_value(settings).expect("json"))
            .into_iter()
            .flat_map(|s| s.settings)
            .collect()
    }

    fn find<'a>(settings: &'a [Setting], key: &str) -> &'a SettingValue {
        &settings
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("no {key}"))
            .value
    }

    #[test]
    fn the_smtp_password_and_the_database_password_are_never_shown() {
        let mut settings = Settings::load(None).expect("defaults");
        settings.smtp.password = "smtp-s3cret-pw".into();
        settings.database.url = "postgres://fund:db-s3cret@db.example:5432/coopfund".into();
        let listed = all(&settings);
        assert_eq!(
            find(&listed, "smtp.password"),
            &SettingValue::Hidden { set: true }
        );
        assert_eq!(
            find(&listed, "database.url"),
            &SettingValue::Shown("postgres://fund:***@db.example:5432/coopfund".into())
        );
        let everything = format!("{listed:?}");
        assert!(!everything.contains("s3cret"), "{everything}");
    }

    #[test]
    fn ordinary_settings_are_shown_with_their_values_and_an_empty_secret_as_not_set() {
        let settings = Settings::load(None).expect("defaults");
        let listed = all(&settings);
        assert_eq!(
            find(&listed, "auth.token_ttl_minutes"),
            &SettingValue::Shown("480".into())
        );
        assert_eq!(
            find(&listed, "smtp.password"),
            &SettingValue::Hidden { set: false }
        );
        assert_eq!(
            find(&listed, "classification.group_from_dpd"),
            &SettingValue::Shown(
                settings
                    .classification
                    .group_from_dpd
                    .map(|d| d.to_string())
                    .join(", ")
            )
        );
        assert!(listed.iter().any(|s| s.key == "server.tls.key_path"));
    }

    #[test]
    fn secret_names_are_recognised_and_durations_are_not() {
        for key in [
            "smtp.password",
            "x.api_key",
            "x.client_secret",
            "x.access_token",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "auth.token_ttl_minutes",
            "server.tls.key_path",
            "smtp.username",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }
}
