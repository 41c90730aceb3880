//! How the pages write and read amounts, dates and rates.
//!
//! Written: amounts in whole đồng grouped by thousands with the language's separator and the
//! đồng sign (`1.234.567 ₫` in Vietnamese, `1,234,567 ₫` in English); dates `dd/mm/yyyy` in both
//! languages (the fund's paperwork is Vietnamese, and an English reader of a Vietnamese fund reads
//! them the same way); annual rates `7,2 %/năm` / `7.2 %/yr`.
//!
//! Read (form fields): an amount is a whole number of đồng, where the language's group separator
//! and spaces may be typed (`12.500.000` in Vietnamese, `12,500,000` in English); anything else —
//! a decimal part, a sign, a letter — is refused naming the field, never guessed at. A date is
//! `yyyy-mm-dd` (what `<input type=date>` sends) or `dd/mm/yyyy` (what a person types where the
//! browser has no date picker).
//!
//! (The service's own money formatter is being added to `coopfund_domain::money` on another
//! branch; these will be unified when both are merged.)

use chrono::NaiveDate;
use coopfund_domain::Vnd;
use rust_decimal::Decimal;

use crate::error::{AppError, AppResult, Lang, Reason};

/// The thousands separator of `lang`.
fn group_separator(lang: Lang) -> char {
    match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    }
}

/// `1234567` → `1.234.567` (vi) / `1,234,567` (en); negative amounts keep their sign.
pub fn grouped(amount: i64, lang: Lang) -> String {
    let digits = amount.unsigned_abs().to_string();
    let separator = group_separator(lang);
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if amount < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

/// An amount of whole đồng: `1.234.567 ₫` (vi) / `1,234,567 ₫` (en).
pub fn vnd(amount_vnd: i64, lang: Lang) -> String {
    format!("{} ₫", grouped(amount_vnd, lang))
}

/// An amount the pages show: an integer of đồng (their own rows) or a [`Vnd`] (the use cases' results).
pub trait Amount {
    /// The amount as đồng.
    fn as_vnd(&self) -> Vnd;
}

impl Amount for i64 {
    fn as_vnd(&self) -> Vnd {
        Vnd::from_i64(*self)
    }
}

impl Amount for Vnd {
    fn as_vnd(&self) -> Vnd {
        *self
    }
}

impl<T: Amount> Amount for &T {
    fn as_vnd(&self) -> Vnd {
        (**self).as_vnd()
    }
}

/// [`vnd`] of any [`Amount`]; one beyond `i64` (never seen: amounts are bounded at 10^15) is written
/// with its digits ungrouped rather than wrongly.
pub fn vnd_of(amount: &impl Amount, lang: Lang) -> String {
    let amount = amount.as_vnd();
    match amount.to_i64() {
        Some(amount_vnd) => vnd(amount_vnd, lang),
        None => format!("{} ₫", amount.as_decimal()),
    }
}

/// A date as `dd/mm/yyyy`.
pub fn date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// An annual rate: `7,2 %/năm` (vi) / `7.2 %/yr` (en).
pub fn rate(rate_percent_annual: Decimal, lang: Lang) -> String {
    let text = rate_percent_annual.normalize().to_string();
    match lang {
        Lang::Vi => format!("{} %/năm", text.replace('.', ",")),
        Lang::En => format!("{text} %/yr"),
    }
}

/// Reads a typed amount of whole đồng (see the module docs); 400 naming `field` otherwise.
pub fn parse_vnd(field: &str, text: &str, lang: Lang) -> AppResult<i64> {
    let separator = group_separator(lang);
    let trimmed = text.trim().trim_end_matches('₫').trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, Reason::Required));
    }
    let invalid = || {
        AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: match lang {
                    Lang::Vi => "số nguyên đồng, ví dụ 12.500.000",
                    Lang::En => "whole đồng, e.g. 12,500,000",
                },
            },
        )
    };
    let mut digits = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '\u{a0}' => {}
            c if c == separator => {}
            _ => return Err(invalid()),
        }
    }
    digits.parse::<i64>().map_err(|_| invalid())
}

/// Reads a date typed as `yyyy-mm-dd` or `dd/mm/yyyy`; 400 naming `field` otherwise.
pub fn parse_date(field: &str, text: &str) -> AppResult<NaiveDate> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, Reason::Required));
    }
    NaiveDate::parse_from_str(trimmed, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(trimmed, "%d/%m/%Y"))
        .map_err(|_| {
            AppError::invalid(
                field,
                Reason::InvalidFormat {
                    expected: "dd/mm/yyyy",
                },
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands_in_each_language() {
        assert_eq!(vnd(1_234_567, Lang::Vi), "1.234.567 ₫");
        assert_eq!(vnd(1_234_567, Lang::En), "1,234,567 ₫");
        assert_eq!(vnd(0, Lang::Vi), "0 ₫");
        assert_eq!(vnd(999, Lang::Vi), "999 ₫");
        assert_eq!(vnd(1_000, Lang::En), "1,000 ₫");
        assert_eq!(vnd(-28_715, Lang::Vi), "-28.715 ₫");
        assert_eq!(vnd(999_999_999_999_999, Lang::Vi), "999.999.999.999.999 ₫");
        assert_eq!(vnd(i64::MIN, Lang::En), "-9,223,372,036,854,775,808 ₫");
    }

    #[test]
    fn dates_read_day_month_year() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(date(d), "05/03/2026");
    }

    #[test]
    fn rates_use_the_language_decimal_mark() {
        assert_eq!(rate(Decimal::new(720, 2), Lang::Vi), "7,2 %/năm");
        assert_eq!(rate(Decimal::new(72, 1), Lang::En), "7.2 %/yr");
        assert_eq!(rate(Decimal::new(6, 0), Lang::Vi), "6 %/năm");
    }

    #[test]
    fn a_typed_amount_is_read_with_the_language_separator_only() {
        assert_eq!(
            parse_vnd("amount_vnd", "12.500.000", Lang::Vi).unwrap(),
            12_500_000
        );
        assert_eq!(
            parse_vnd("amount_vnd", " 12 500 000 ₫", Lang::Vi).unwrap(),
            12_500_000
        );
        assert_eq!(
            parse_vnd("amount_vnd", "12,500,000", Lang::En).unwrap(),
            12_500_000
        );
        assert_eq!(parse_vnd("amount_vnd", "7", Lang::En).unwrap(), 7);
        // A decimal part in English, a comma in Vietnamese, a sign, letters: refused, not guessed.
        for (text, lang) in [
            ("1,250.5", Lang::En),
            ("12,5", Lang::Vi),
            ("-5", Lang::Vi),
            ("abc", Lang::En),
            ("99999999999999999999", Lang::Vi),
        ] {
            let err = parse_vnd("amount_vnd", text, lang).unwrap_err();
            assert_eq!(err.code, "invalid_format", "{text}");
            assert_eq!(err.field.as_deref(), Some("amount_vnd"));
        }
        assert_eq!(
            parse_vnd("amount_vnd", "  ", Lang::Vi).unwrap_err().code,
            "required"
        );
    }

    #[test]
    fn a_date_is_read_from_the_picker_or_as_typed() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(parse_date("value_date", "2026-11-29").unwrap(), d);
        assert_eq!(parse_date("value_date", "29/11/2026").unwrap(), d);
        assert_eq!(
            parse_date("value_date", "11/29/2026").unwrap_err().code,
            "invalid_format"
        );
        assert_eq!(parse_date("value_date", "").unwrap_err().code, "required");
    }
}
