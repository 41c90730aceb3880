//! Field checks shared by the use cases: each returns the cleaned value or a 400 naming the field.
//!
//! **Invisible characters.** Every validated text (names, references, notes) refuses control
//! characters, and also the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069,
//! U+200E, U+200F, U+061C) and the zero-width characters (U+200B–U+200D, U+2060, U+FEFF): they
//! make two names that look identical differ, or make a reference read differently on screen and
//! in the books ("Trojan Source"). Vietnamese text never needs them. The HTTP layer refuses control
//! characters in every body string and query value before a use case runs
//! ([`reject_control_chars`]), since PostgreSQL cannot store a NUL and would answer 500.

use crate::error::{AppError, AppResult, Reason};

/// A required text, trimmed, of at most `max_chars` characters.
pub fn text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, Reason::Required));
    }
    optional_text(field, trimmed, max_chars)
}

/// A text that may be empty, trimmed, of at most `max_chars` characters.
pub fn optional_text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err(AppError::invalid(field, Reason::TooLong { max_chars }));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: "text without control characters",
            },
        ));
    }
    if trimmed.chars().any(is_invisible_format) {
        return Err(AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: "text without bidirectional overrides or zero-width characters",
            },
        ));
    }
    Ok(trimmed.to_string())
}

/// A bidirectional override, embedding, isolate or mark, or a zero-width character.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200B}'..='\u{200F}'
            | '\u{061C}'
            | '\u{2060}'
            | '\u{FEFF}'
    )
}

/// 400 naming `field` when `value` has a control character (U+0000–U+001F, U+007F–U+009F).
/// Multi-line free text keeps its line breaks and tabs when `allow_line_breaks` (bodies); query
/// values and path segments never need them.
pub fn reject_control_chars(field: &str, value: &str, allow_line_breaks: bool) -> AppResult<()> {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(allow_line_breaks && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: "text without control characters",
            },
        ));
    }
    Ok(())
}

/// `value` if it lies in `min..=max`, else a 400 naming `field` and the range.
pub fn in_range(field: &str, value: i64, min: i64, max: i64) -> AppResult<i64> {
    if value < min || value > max {
        return Err(out_of_range(field, min, max));
    }
    Ok(value)
}

/// `value` in `min..=max` as the `i32` a count column holds (a range wider than `i32` is still
/// refused as out of range, never wrapped).
pub fn small_in_range(field: &str, value: i64, min: i64, max: i64) -> AppResult<i32> {
    let value = in_range(field, value, min, max)?;
    i32::try_from(value).map_err(|_| out_of_range(field, min, max))
}

fn out_of_range(field: &str, min: i64, max: i64) -> AppError {
    AppError::invalid(
        field,
        Reason::OutOfRange {
            min: min.to_string(),
            max: max.to_string(),
        },
    )
}

/// A whole number ≥ 0.
pub fn non_negative(field: &str, value: i64) -> AppResult<i64> {
    if value < 0 {
        return Err(AppError::invalid(field, Reason::MustNotBeNegative));
    }
    Ok(value)
}

/// A whole number > 0.
pub fn positive(field: &str, value: i64) -> AppResult<i64> {
    if value <= 0 {
        return Err(AppError::invalid(field, Reason::MustBePositive));
    }
    Ok(value)
}

/// A plausible email address (one `@`, a dot in the domain, no spaces).
pub fn email(field: &str, value: &str) -> AppResult<String> {
    let value = text(field, value, 254)?;
    let plausible = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    } && !value.contains(char::is_whitespace)
        && value.matches('@').count() == 1;
    if !plausible {
        return Err(AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: "name@example.vn",
            },
        ));
    }
    Ok(value)
}

/// A phone number: digits with optional leading `+`, spaces, dots or dashes; 8 to 15 digits.
pub fn phone(field: &str, value: &str) -> AppResult<String> {
    let value = text(field, value, 30)?;
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-') || (i == 0 && c == '+'));
    if !allowed || !(8..=15).contains(&digits) {
        return Err(AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: "0912 345 678",
            },
        ));
    }
    Ok(value)
}

/// One of `allowed`.
pub fn one_of<'a>(field: &str, value: &str, allowed: &[&'a str]) -> AppResult<&'a str> {
    allowed
        .iter()
        .find(|a| **a == value)
        .copied()
        .ok_or_else(|| {
            AppError::invalid(
                field,
                Reason::UnknownValue {
                    allowed: allowed.join(", "),
                },
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            text("name", "  HTX Tân Cương ", 50).unwrap(),
            "HTX Tân Cương"
        );
        assert_eq!(text("name", "   ", 50).unwrap_err().code, "required");
        assert_eq!(
            text("name", &"ă".repeat(51), 50).unwrap_err().code,
            "too_long"
        );
        assert!(text("name", &"ă".repeat(50), 50).is_ok());
    }

    #[test]
    fn emails_and_phones_are_checked() {
        assert!(email("email", "htx@example.vn").is_ok());
        assert!(email("email", "htx@@example.vn").is_err());
        assert!(email("email", "htx example.vn").is_err());
        assert!(phone("phone", "+84 912 345 678").is_ok());
        assert!(phone("phone", "12ab").is_err());
    }

    #[test]
    fn invisible_characters_are_refused_in_texts() {
        for bad in [
            "HTX\u{202E}gnờưC",
            "HTX\u{200B}Tân",
            "\u{FEFF}HTX",
            "a\u{2066}b",
            "a\u{0}b",
        ] {
            let err = text("name", bad, 50).unwrap_err();
            assert_eq!(err.code, "invalid_format", "{bad:?}");
            assert_eq!(err.field.as_deref(), Some("name"));
        }
        assert!(reject_control_chars("q", "dòng 1\ndòng 2", true).is_ok());
        assert!(reject_control_chars("q", "dòng 1\ndòng 2", false).is_err());
        assert!(reject_control_chars("q", "a\u{85}b", true).is_err());
    }
}
