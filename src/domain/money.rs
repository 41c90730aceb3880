//! Money and rates: whole đồng and annual percentage rates, exact decimals only.
//!
//! - Decree 45/2021/NĐ-CP Art 25: the fund lends in VND only, so every amount that is posted, shown as due or paid
//!   is a whole number of đồng ([`Vnd`]).
//! - DOMAIN.md §2: interest accumulates exactly (as [`Decimal`]) and is rounded ROUND_HALF_UP to the đồng only at
//!   the moments the rules name; the rounding helpers below are named after the rule they apply.
//! - Civil Code 2015 Art 468: an agreed rate is at most 20%/year ([`crate::limits::RATE_PERCENT_MAX`]).
//!
//! No `f32`/`f64` anywhere: rates and amounts are `rust_decimal::Decimal`.
//!
//! **Amounts for people** are written one way everywhere (error messages, mails, pages): whole đồng with
//! thousands separators and the unit of the reader's language, `1.500.000.000 đồng` in Vietnamese and
//! `1,500,000,000 VND` in English ([`Vnd::for_people`]). `Display` writes the English form, so an engine error's
//! English text (`the payment 900,000,000 VND is above the payoff of 504,438,356 VND`) reads the same way.
//!
//! Range: inputs are limited to [`Vnd::MAX_INPUT`] (10^15 đồng), far inside `Decimal`'s 7.9·10^28, so the
//! arithmetic of the engine (sums of a few thousand such amounts, products with rates and day counts) cannot
//! overflow. [`Vnd`] also offers checked operations for callers that combine amounts of unknown size.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Errors when making money values from raw input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The amount has a fractional part; VND amounts are whole đồng.
    #[error("amount {0} is not a whole number of đồng")]
    NotWholeDong(Decimal),
    /// The amount is beyond the supported range (|amount| ≤ 10^15 đồng).
    #[error("amount {0} is out of range (at most 10^15 đồng)")]
    OutOfRange(Decimal),
    /// The rate is negative or above its legal maximum.
    #[error("rate {rate_percent}% is out of range (0 to {max_percent}% per year)")]
    RateOutOfRange {
        /// The rate that was given, percent per year.
        rate_percent: Decimal,
        /// The highest rate allowed, percent per year.
        max_percent: Decimal,
    },
}

impl MoneyError {
    /// A stable snake_case code for API and CLI messages.
    pub fn code(&self) -> &'static str {
        match self {
            MoneyError::NotWholeDong(_) => "amount_not_whole_dong",
            MoneyError::OutOfRange(_) => "amount_out_of_range",
            MoneyError::RateOutOfRange { .. } => "rate_out_of_range",
        }
    }
}

/// An amount of Vietnamese đồng, always a whole number (it may be negative only where a signed balance is meant,
/// e.g. a ledger balance or a difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Vnd(Decimal);

impl Vnd {
    /// Zero đồng.
    pub const ZERO: Vnd = Vnd(Decimal::ZERO);
    /// The largest amount accepted from input: 10^15 đồng (a thousand trillion).
    pub const MAX_INPUT: i64 = 1_000_000_000_000_000;

    /// A whole-đồng amount from a decimal; refuses fractions and amounts beyond ±10^15.
    pub fn new(amount: Decimal) -> Result<Vnd, MoneyError> {
        if amount.fract() != Decimal::ZERO {
            return Err(MoneyError::NotWholeDong(amount));
        }
        if amount.abs() > Decimal::from(Vnd::MAX_INPUT) {
            return Err(MoneyError::OutOfRange(amount));
        }
        Ok(Vnd(amount.trunc().normalize()))
    }

    /// A whole-đồng amount from an integer (any i64 is representable exactly).
    pub fn from_i64(amount_vnd: i64) -> Vnd {
        Vnd(Decimal::from(amount_vnd))
    }

    /// The amount as a decimal (always integral).
    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// The amount as an `i64`, when it fits (it always does for amounts built from validated input).
    pub fn to_i64(self) -> Option<i64> {
        i64::try_from(self.0).ok()
    }

    /// True when the amount is strictly above zero.
    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }

    /// True when the amount is zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// True when the amount is strictly below zero.
    pub fn is_negative(self) -> bool {
        self.0 < Decimal::ZERO
    }

    /// Checked addition: `None` on overflow of the decimal range.
    pub fn checked_add(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_add(other.0).map(Vnd)
    }

    /// Checked subtraction: `None` on overflow of the decimal range.
    pub fn checked_sub(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_sub(other.0).map(Vnd)
    }

    /// The smaller of two amounts.
    pub fn min(self, other: Vnd) -> Vnd {
        if self <= other {
            self
        } else {
            other
        }
    }

    /// The larger of two amounts.
    pub fn max(self, other: Vnd) -> Vnd {
        if self >= other {
            self
        } else {
            other
        }
    }

    /// `max(self, 0)`.
    pub fn clamp_non_negative(self) -> Vnd {
        self.max(Vnd::ZERO)
    }

    /// Integral decimal → Vnd without checks; only for values the engine has just rounded.
    pub(crate) fn from_rounded(amount: Decimal) -> Vnd {
        debug_assert!(amount.fract().is_zero());
        if amount.scale() == 0 {
            Vnd(amount)
        } else {
            Vnd(amount.trunc().normalize())
        }
    }
}

/// The languages the fund writes to people in: Vietnamese (the default) and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Tiếng Việt: `1.500.000.000 đồng`.
    #[default]
    Vietnamese,
    /// English: `1,500,000,000 VND`.
    English,
}

impl Vnd {
    /// The amount as people read it: `1.500.000.000 đồng` (Vietnamese: dots between thousands) or
    /// `1,500,000,000 VND` (English: commas); a negative amount starts with `-`. The one money formatter of
    /// the service: every error message and mail writes amounts with it.
    pub fn for_people(self, language: Language) -> String {
        let (separator, unit) = match language {
            Language::Vietnamese => ('.', "đồng"),
            Language::English => (',', "VND"),
        };
        // Whole đồng by construction; `trunc` keeps a stray scale from ever printing a decimal point.
        let digits = self.0.abs().trunc().normalize().to_string();
        let mut text = String::with_capacity(digits.len() + digits.len() / 3 + unit.len() + 2);
        if self.is_negative() {
            text.push('-');
        }
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                text.push(separator);
            }
            text.push(digit);
        }
        text.push(' ');
        text.push_str(unit);
        text
    }
}

/// The English form for people (`1,500,000,000 VND`, see [`Vnd::for_people`]).
impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.for_people(Language::English))
    }
}

// Panics only beyond 7.9·10^28 đồng, unreachable from inputs limited to 10^15 (see module docs).
impl Add for Vnd {
    type Output = Vnd;
    fn add(self, rhs: Vnd) -> Vnd {
        Vnd(self.0 + rhs.0)
    }
}

impl Sub for Vnd {
    type Output = Vnd;
    fn sub(self, rhs: Vnd) -> Vnd {
        Vnd(self.0 - rhs.0)
    }
}

impl AddAssign for Vnd {
    fn add_assign(&mut self, rhs: Vnd) {
        self.0 += rhs.0;
    }
}

impl SubAssign for Vnd {
    fn sub_assign(&mut self, rhs: Vnd) {
        self.0 -= rhs.0;
    }
}

impl Neg for Vnd {
    type Output = Vnd;
    fn neg(self) -> Vnd {
        Vnd(-self.0)
    }
}

impl Sum for Vnd {
    fn sum<I: Iterator<Item = Vnd>>(iter: I) -> Vnd {
        iter.fold(Vnd::ZERO, |acc, x| acc + x)
    }
}

/// Serialized as a JSON integer of đồng (`"amount_vnd": 120000000`), per API.md.
impl Serialize for Vnd {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.to_i64() {
            Some(v) => serializer.serialize_i64(v),
            None => serializer.serialize_str(&self.0.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Vnd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Vnd, D::Error> {
        let raw = i64::deserialize(deserializer)?;
        Vnd::new(Decimal::from(raw)).map_err(serde::de::Error::custom)
    }
}

/// An annual interest rate in percent per year (7.2 means 7.2%/year), between 0 and 20 inclusive.
///
/// Civil Code 2015 Art 468 and Circular 39/2016 Art 13: an agreed rate is at most 20%/year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AnnualRate(Decimal);

impl AnnualRate {
    /// A rate from percent per year; refuses < 0 and > 20.
    pub fn new(percent_per_year: Decimal) -> Result<AnnualRate, MoneyError> {
        AnnualRate::new_at_most(percent_per_year, crate::limits::RATE_PERCENT_MAX)
    }

    /// A rate from percent per year with a tighter legal maximum (e.g. 10 for late interest).
    pub fn new_at_most(
        percent_per_year: Decimal,
        max_percent: Decimal,
    ) -> Result<AnnualRate, MoneyError> {
        if percent_per_year < Decimal::ZERO || percent_per_year > max_percent {
            return Err(MoneyError::RateOutOfRange {
                rate_percent: percent_per_year,
                max_percent,
            });
        }
        Ok(AnnualRate(percent_per_year.normalize()))
    }

    /// Percent per year (7.2 for 7.2%).
    pub fn percent(self) -> Decimal {
        self.0
    }

    /// True for a zero rate.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

/// DOMAIN.md §2: round an exact amount to the whole đồng, ROUND_HALF_UP (x.5 goes up; the engine only rounds
/// non-negative amounts; a negative one rounds half away from zero).
pub fn round_half_up_to_dong(amount: Decimal) -> Vnd {
    Vnd::from_rounded(amount.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
}

/// DOMAIN.md §3 (annuity): round to the nearest multiple of the installment unit (1 đồng by default, often
/// 1,000), ties up. A unit below 1 đồng is treated as 1 đồng.
pub fn round_to_unit_ties_up(amount: Decimal, unit: Vnd) -> Vnd {
    let unit_vnd = if unit.as_decimal() < Decimal::ONE {
        Decimal::ONE
    } else {
        unit.as_decimal()
    };
    let multiples =
        (amount / unit_vnd).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    Vnd::from_rounded(multiples * unit_vnd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn half_a_dong_rounds_up() {
        assert_eq!(round_half_up_to_dong(dec!(662794.5)), Vnd::from_i64(662795));
        assert_eq!(
            round_half_up_to_dong(dec!(662794.4999)),
            Vnd::from_i64(662794)
        );
    }

    #[test]
    fn unit_rounding_ties_up() {
        let unit = Vnd::from_i64(1000);
        assert_eq!(
            round_to_unit_ties_up(dec!(88136500), unit),
            Vnd::from_i64(88137000)
        );
        assert_eq!(
            round_to_unit_ties_up(dec!(88136499.99), unit),
            Vnd::from_i64(88136000)
        );
    }

    #[test]
    fn fractions_and_huge_amounts_are_refused() {
        assert_eq!(
            Vnd::new(dec!(1.5)).unwrap_err().code(),
            "amount_not_whole_dong"
        );
        assert_eq!(
            Vnd::new(dec!(1000000000000001)).unwrap_err().code(),
            "amount_out_of_range"
        );
        assert!(Vnd::new(dec!(1000000000000000)).is_ok());
    }

    #[test]
    fn amounts_are_written_for_people_with_thousands_separators_and_the_unit_of_the_language() {
        let cases = [
            (1_500_000_000, "1.500.000.000 đồng", "1,500,000,000 VND"),
            (504_438_356, "504.438.356 đồng", "504,438,356 VND"),
            (10_662_795, "10.662.795 đồng", "10,662,795 VND"),
            (1_000, "1.000 đồng", "1,000 VND"),
            (999, "999 đồng", "999 VND"),
            (0, "0 đồng", "0 VND"),
            (-28_715, "-28.715 đồng", "-28,715 VND"),
            (
                Vnd::MAX_INPUT,
                "1.000.000.000.000.000 đồng",
                "1,000,000,000,000,000 VND",
            ),
        ];
        for (amount, vi, en) in cases {
            let amount = Vnd::from_i64(amount);
            assert_eq!(amount.for_people(Language::Vietnamese), vi);
            assert_eq!(amount.for_people(Language::English), en);
            assert_eq!(amount.to_string(), en);
        }
        // Built from a decimal with a scale (12.000 đồng is whole): no decimal point is written.
        assert_eq!(
            Vnd::new(dec!(12000.000))
                .unwrap()
                .for_people(Language::Vietnamese),
            "12.000 đồng"
        );
        assert_eq!(
            round_half_up_to_dong(dec!(-0.4)).for_people(Language::English),
            "0 VND"
        );
    }

    #[test]
    fn rates_above_twenty_percent_are_refused() {
        assert!(AnnualRate::new(dec!(20)).is_ok());
        assert_eq!(
            AnnualRate::new(dec!(20.01)).unwrap_err().code(),
            "rate_out_of_range"
        );
        assert!(AnnualRate::new(dec!(-0.1)).is_err());
    }
}
