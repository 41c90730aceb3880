//! Schedule preview (API.md): a repayment schedule from terms, no loan needed. Shared by
//! `POST /api/v1/schedule/preview` and `coopfund schedule`.

use std::str::FromStr;

use chrono::NaiveDate;
use coopfund_domain::{
    build_schedule, schedule::Installment, DayCount, Method, Schedule, ScheduleTerms, TermsError,
    Vnd,
};
use rust_decimal::Decimal;

use crate::error::{AppError, AppResult, ErrorKind, Localized, Reason};

/// The terms of a preview, as sent (API.md "Schedule preview").
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub principal_vnd: i64,
    /// Percent per year as a decimal string, e.g. `"7.2"`.
    pub rate_percent: String,
    pub installments: u32,
    /// 1, 3, 6 or 12.
    pub period_months: u32,
    /// `annuity`, `equal_principal` or `bullet`.
    pub method: String,
    pub disbursed_on: NaiveDate,
    pub first_due_on: Option<NaiveDate>,
    /// The first installments that pay interest only (default 0).
    pub principal_grace: u32,
    /// `actual_365` (default) or `per_period`.
    pub day_count: Option<String>,
    /// Annuity installments are rounded to a multiple of this (default 1).
    pub installment_unit_vnd: Option<i64>,
}

/// A preview: the engine's installments and their totals (the wire names each amount's unit,
/// `crate::http::dto::schedule`).
#[derive(Debug, Clone)]
pub struct PreviewResponse {
    pub installments: Vec<Installment>,
    pub total_principal_vnd: Vnd,
    pub total_interest_vnd: Vnd,
}

/// Turns engine refusals into 400s naming the field.
pub fn terms_error(err: TermsError) -> AppError {
    AppError::new(
        ErrorKind::BadRequest,
        err.code(),
        Localized::new(vietnamese(&err), format!("{err}.")),
    )
    .with_field(err.field())
}

fn vietnamese(err: &TermsError) -> String {
    match err {
        TermsError::NoInstallments => "Cần ít nhất một kỳ trả nợ.".into(),
        TermsError::TooManyInstallments { installments, max } => {
            format!("Tối đa {max} kỳ trả nợ (đang là {installments}).")
        }
        TermsError::GraceNotBelowInstallments {
            grace,
            installments,
        } => {
            format!("Số kỳ ân hạn gốc ({grace}) phải nhỏ hơn số kỳ trả nợ ({installments}).")
        }
        TermsError::PrincipalNotPositive(_) => "Số tiền vay phải lớn hơn 0.".into(),
        TermsError::PrincipalTooLarge(_) => {
            "Số tiền vay vượt mức tối đa hỗ trợ (10^15 đồng).".into()
        }
        TermsError::RateOutOfRange(rate) => format!("Lãi suất {rate}%/năm phải từ 0 đến 20%/năm."),
        TermsError::PeriodNotAllowed(m) => {
            format!("Kỳ hạn trả nợ phải là 1, 3, 6 hoặc 12 tháng (đang là {m}).")
        }
        TermsError::FirstDueNotAfterDisbursement { .. } => {
            "Ngày đến hạn đầu tiên phải sau ngày giải ngân.".into()
        }
        TermsError::DateOutOfRange => "Lịch trả nợ vượt quá năm 9999.".into(),
        TermsError::InstallmentUnitInvalid(_) => {
            "Đơn vị làm tròn kỳ trả phải từ 1 đồng đến 10^15 đồng.".into()
        }
        TermsError::UnknownMethod(_) => {
            "Phương thức trả nợ phải là annuity, equal_principal hoặc bullet.".into()
        }
        TermsError::UnknownDayCount(_) => {
            "Cách tính ngày phải là actual_365 hoặc per_period.".into()
        }
    }
}

/// Parses a percent rate given as a decimal string (never through a float).
pub fn parse_rate(field: &str, text: &str) -> AppResult<Decimal> {
    Decimal::from_str_exact(text.trim()).map_err(|_| {
        AppError::invalid(
            field,
            Reason::InvalidFormat {
                expected: "a decimal string such as \"7.2\"",
            },
        )
    })
}

impl PreviewRequest {
    /// The engine's terms, or a 400 naming the field.
    pub fn terms(&self) -> AppResult<ScheduleTerms> {
        let method = Method::from_str(&self.method).map_err(terms_error)?;
        let day_count = match self.day_count.as_deref() {
            None => DayCount::Actual365,
            Some(text) => DayCount::from_str(text).map_err(terms_error)?,
        };
        let mut terms = ScheduleTerms::new(
            Vnd::from_i64(self.principal_vnd),
            parse_rate("rate_percent", &self.rate_percent)?,
            self.disbursed_on,
            self.installments,
            self.period_months,
            method,
        );
        terms.first_due_on = self.first_due_on;
        terms.principal_grace = self.principal_grace;
        terms.day_count = day_count;
        terms.installment_unit = Vnd::from_i64(self.installment_unit_vnd.unwrap_or(1));
        Ok(terms)
    }
}

/// Builds the preview.
pub fn preview(request: &PreviewRequest) -> AppResult<PreviewResponse> {
    let schedule = build_schedule(&request.terms()?).map_err(terms_error)?;
    Ok(PreviewResponse::from_schedule(&schedule))
}

impl PreviewResponse {
    /// The preview of an engine schedule.
    pub fn from_schedule(schedule: &Schedule) -> Self {
        PreviewResponse {
            installments: schedule.installments.clone(),
            total_principal_vnd: schedule.total_principal(),
            total_interest_vnd: schedule.total_interest(),
        }
    }

    /// A readable table for the terminal, amounts with thousands separators.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "{:>4}  {:<10}  {:>4}  {:>18}  {:>16}  {:>18}  {:>18}\n",
            "seq", "due_on", "days", "principal_vnd", "interest_vnd", "total_vnd", "closing_vnd"
        );
        for i in &self.installments {
            out.push_str(&format!(
                "{:>4}  {:<10}  {:>4}  {:>18}  {:>16}  {:>18}  {:>18}\n",
                i.seq,
                i.due_on,
                i.days,
                group_thousands(i.principal),
                group_thousands(i.interest),
                group_thousands(i.total),
                group_thousands(i.closing_balance)
            ));
        }
        // The table is in English: amounts written for people the English way (`Vnd::for_people`).
        let english = |amount: Vnd| amount.for_people(coopfund_domain::Language::English);
        out.push_str(&format!(
            "total principal {}, total interest {}\n",
            english(self.total_principal_vnd),
            english(self.total_interest_vnd)
        ));
        out
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(amount: Vnd) -> String {
    let digits = amount.as_decimal().abs().trunc().normalize().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if amount.is_negative() {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(Vnd::ZERO), "0");
        assert_eq!(group_thousands(Vnd::from_i64(120_000_000)), "120,000,000");
        assert_eq!(group_thousands(Vnd::from_i64(-1_234)), "-1,234");
    }

    #[test]
    fn a_rate_is_never_read_through_a_float() {
        assert_eq!(parse_rate("r", "7.25").unwrap().to_string(), "7.25");
        assert!(parse_rate("r", "7,25").is_err());
    }
}
