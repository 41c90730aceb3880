//! "How is this computed?": the page that opens an amount owed on a loan into the lines that make
//! it (from, to, days, balance, rate, formula, amount, rounding), for staff and the loan's own
//! cooperative (any other loan is a 404 page, as in the API).
//!
//! `/loans/{id}/explain?date=` calls [`loans::explain`], the use case behind
//! `GET /api/v1/loans/{id}/explain`: the engine's own fold records each step, so the lines add up to
//! the amounts of the payoff quote exactly. Each amount is a section whose id is the quote's field
//! name (`#overdue_interest_vnd`), so the loan pages can link straight to one amount. The lines are
//! a `table.cards`: a table at a desk, stacked cards on a phone. Each amount cell carries the exact
//! decimal in `data-amount` (for tests and for people copying figures).

use askama::Template;
use axum::{extract::State, response::Response, routing::get, Router};
use chrono::NaiveDate;
use coopfund_domain::{ids::LoanId, ExplanationKind, ExplanationLine, Formula, QuoteField};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::Deserialize;

use super::form::PageQuery;
use super::{format, PathId, Shell, WebUser};
use crate::{
    app::loans::{self, LoanExplanation},
    auth::Role,
    error::{AppError, Lang},
    state::AppState,
};

/// The link to the explanation of one amount of loan `loan_id`: `field` is the payoff quote's field
/// name (`overdue_interest_vnd`, …), the section's anchor. For the loan pages' "how is this
/// computed?" links (the label in both languages is [`ExplainText::link`]).
pub fn href(loan_id: i64, field: &str) -> String {
    format!("/loans/{loan_id}/explain#{field}")
}

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router.route("/loans/{id}/explain", get(show))
}

crate::texts! {
    ExplainText, EXPLAIN_VI, EXPLAIN_EN;
    title: "Cách tính số tiền", "How each amount is computed";
    back_to_loan: "Về khoản vay", "Back to the loan";
    link: "Cách tính?", "How is this computed?";
    as_of: "Tính đến ngày", "As of";
    show: "Xem", "Show";
    how: "Lãi được tính thế nào?", "How is interest computed?";
    intro: "Mỗi số tiền dưới đây được tách thành các dòng tạo nên nó. Lãi tính theo số ngày thực tế trên 365 ngày (Thông tư 14/2017/TT-NHNN): tính ngày đầu, không tính ngày cuối, trên dư nợ cuối ngày. Lãi được cộng dồn chính xác và chỉ làm tròn đến đồng (làm tròn nửa lên) khi đến hạn kỳ hoặc trên tổng số, không làm tròn từng đoạn. Các dòng hiển thị đến xu (hai chữ số thập phân) và cộng lại đúng bằng số tiền.",
        "Each amount below is opened into the lines that make it. Interest runs on actual days over 365 (Circular 14/2017/TT-NHNN): the first day counts, the last does not, on the end-of-day balance. Interest accrues exactly and is rounded to the đồng (half up) only when an installment is billed or on the total, never per segment. Lines are shown to two decimals and add up exactly to the amount.";
    summary: "Các khoản", "The amounts";
    what: "Diễn giải", "What";
    from: "Từ ngày", "From";
    to: "Đến ngày (không tính)", "To (not counted)";
    days: "Số ngày", "Days";
    balance: "Dư nợ tính lãi", "Balance";
    rate: "Lãi suất", "Annual rate";
    formula: "Cách tính", "Formula";
    amount: "Số tiền", "Amount";
    sum: "Cộng", "Total";
    nothing: "Không có khoản nào.", "Nothing owed.";
    days_word: "ngày", "days";
    period_days_word: "ngày của kỳ", "days in the period";
    f_overdue_principal: "Gốc quá hạn", "Overdue principal";
    f_unpaid_interest: "Lãi trong hạn chưa trả (đã quá hạn)", "Unpaid interest (overdue)";
    f_overdue_interest: "Lãi quá hạn", "Overdue interest";
    f_late_interest: "Lãi chậm trả", "Late interest";
    f_current_interest: "Lãi trong hạn", "Current interest";
    f_restructured_interest: "Lãi đã cơ cấu", "Restructured interest";
    f_principal: "Gốc trong hạn", "Principal in term";
    f_advance: "Tiền trả trước đang giữ", "Advance held";
    f_total: "Tổng tất toán", "Total payoff";
    accrual_current: "Lãi trong hạn trên dư nợ gốc chưa đến hạn", "Interest on the principal not yet due";
    accrual_overdue: "Lãi quá hạn trên gốc quá hạn (lãi suất × hệ số quá hạn)", "Overdue interest on overdue principal (rate × overdue multiplier)";
    accrual_late: "Lãi chậm trả trên lãi chưa trả", "Late interest on unpaid interest";
    accrual_other: "Cộng dồn", "Accrued";
    disbursement: "Giải ngân", "Disbursement";
    billed: "Đến hạn kỳ", "Installment due:";
    rounding_at_billing: "Làm tròn lãi đến đồng khi đến hạn kỳ (làm tròn nửa lên)", "Interest rounded to the đồng when installment billed (half up):";
    carried_interest: "Lãi chuyển từ cơ cấu nợ vào kỳ", "Interest carried by the restructuring into installment";
    fell_overdue: "Chuyển quá hạn (cuối ngày đến hạn)", "Fell overdue (end of the due day)";
    payment: "Trả nợ", "Repayment";
    prepayment: "Trả nợ trước hạn", "Prepayment";
    advance_applied: "Cấn trừ tiền trả trước", "Advance applied";
    fraction_dropped: "Bỏ phần lẻ dưới 1 đồng khi trả đủ khoản đã làm tròn", "Fraction of a đồng dropped when the rounded charge was paid in full";
    restructure: "Cơ cấu lại nợ", "Restructuring";
    write_off: "Xử lý rủi ro (xóa nợ)", "Written off";
    recovery: "Thu hồi nợ đã xử lý", "Recovery";
    rounding_on_total: "Làm tròn tổng đến đồng (làm tròn nửa lên, trên tổng, không làm tròn từng đoạn)", "Total rounded to the đồng (half up, on the total, not per segment)";
    advance_deducted: "Trừ tiền trả trước đang giữ", "Less the advance held";
    advance_above_owed: "Tiền trả trước lớn hơn số nợ: tổng là 0", "Advance above what is owed: the total is 0";
}

/// One line as the page shows it.
pub struct LineRow {
    pub what: String,
    /// The anchor of the amount this line is (in the total).
    pub link: Option<&'static str>,
    pub from: String,
    pub to: String,
    pub days: String,
    pub balance: String,
    pub rate: String,
    pub formula: String,
    pub amount: String,
    /// The exact decimal (to the cent).
    pub amount_raw: String,
}

/// One amount of the quote.
pub struct Section {
    /// The quote's field name, the section's id.
    pub anchor: &'static str,
    pub label: &'static str,
    pub amount: String,
    pub amount_raw: i64,
    pub lines: Vec<LineRow>,
}

/// `/loans/{id}/explain`.
#[derive(Template)]
#[template(path = "explain.html")]
pub struct ExplainPage {
    pub shell: Shell,
    pub x: &'static ExplainText,
    pub loan_id: i64,
    pub loan_number: String,
    /// The loan page of this reader (a cooperative's own page, or the staff page).
    pub back_href: String,
    /// The date field as typed (or the quote's date).
    pub date_value: String,
    pub date_error: Option<String>,
    pub date_shown: String,
    pub sections: Vec<Section>,
}

/// The explanation page's query as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExplainQuery {
    date: String,
}

/// The label of a quote amount.
pub fn field_label(field: QuoteField, x: &'static ExplainText) -> &'static str {
    match field {
        QuoteField::OverduePrincipal => x.f_overdue_principal,
        QuoteField::UnpaidInterest => x.f_unpaid_interest,
        QuoteField::OverdueInterest => x.f_overdue_interest,
        QuoteField::LateInterest => x.f_late_interest,
        QuoteField::CurrentInterest => x.f_current_interest,
        QuoteField::RestructuredInterest => x.f_restructured_interest,
        QuoteField::Principal => x.f_principal,
        QuoteField::Advance => x.f_advance,
        QuoteField::Total => x.f_total,
    }
}

/// A decimal written for people: `49.315,068493` (vi) / `49,315.068493` (en); whole amounts without
/// decimals, a fraction of a đồng with at least two.
pub fn decimal(amount: Decimal, lang: Lang) -> String {
    let negative = amount.is_sign_negative() && !amount.is_zero();
    let abs = amount.abs();
    let whole = abs.trunc();
    let mut out = String::new();
    if negative {
        out.push('−');
    }
    out.push_str(&format::grouped(whole.to_i64().unwrap_or(i64::MAX), lang));
    let fraction = abs - whole;
    if !fraction.is_zero() {
        let mut fraction = fraction.normalize();
        if fraction.scale() < 2 {
            fraction.rescale(2);
        }
        let digits = fraction.to_string();
        out.push(match lang {
            Lang::Vi => ',',
            Lang::En => '.',
        });
        out.push_str(digits.trim_start_matches('0').trim_start_matches('.'));
    }
    out
}

fn money(amount: Decimal, lang: Lang) -> String {
    format!("{} ₫", decimal(amount, lang))
}

fn line_row(
    line: &ExplanationLine,
    field: QuoteField,
    x: &'static ExplainText,
    lang: Lang,
) -> LineRow {
    let installment = line
        .installment
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let what = match line.kind {
        ExplanationKind::Accrual => match field {
            QuoteField::CurrentInterest => x.accrual_current,
            QuoteField::OverdueInterest => x.accrual_overdue,
            QuoteField::LateInterest => x.accrual_late,
            _ => x.accrual_other,
        }
        .to_string(),
        ExplanationKind::Disbursement => x.disbursement.to_string(),
        ExplanationKind::Billed => format!("{}{installment}", x.billed),
        ExplanationKind::RoundingAtBilling => format!("{}{installment}", x.rounding_at_billing),
        ExplanationKind::CarriedInterest => format!("{}{installment}", x.carried_interest),
        ExplanationKind::FellOverdue => x.fell_overdue.to_string(),
        ExplanationKind::Payment => x.payment.to_string(),
        ExplanationKind::Prepayment => x.prepayment.to_string(),
        ExplanationKind::AdvanceApplied => x.advance_applied.to_string(),
        ExplanationKind::FractionDropped => x.fraction_dropped.to_string(),
        ExplanationKind::Restructure => x.restructure.to_string(),
        ExplanationKind::WriteOff => x.write_off.to_string(),
        ExplanationKind::Recovery => x.recovery.to_string(),
        ExplanationKind::RoundingOnTotal => x.rounding_on_total.to_string(),
        ExplanationKind::Component => line
            .component
            .map(|c| field_label(c, x))
            .unwrap_or_default()
            .to_string(),
        ExplanationKind::AdvanceDeducted => x.advance_deducted.to_string(),
        ExplanationKind::AdvanceAboveOwed => x.advance_above_owed.to_string(),
    };
    let formula = match (
        line.formula,
        line.balance,
        line.rate_percent,
        line.days,
        line.exact,
    ) {
        (Some(formula), Some(balance), Some(rate), Some(days), Some(exact)) => {
            let head = format!(
                "{} × {} × {days} {}",
                format::vnd_of(&balance, lang),
                format::rate(rate, lang),
                x.days_word
            );
            match formula {
                Formula::Actual365 => format!("{head} / 365 = {}", decimal(exact, lang)),
                Formula::PerPeriod {
                    period_months,
                    period_days,
                } => format!(
                    "{} × {} × {period_months}/12 × {days} / {period_days} {} = {}",
                    format::vnd_of(&balance, lang),
                    format::rate(rate, lang),
                    x.period_days_word,
                    decimal(exact, lang)
                ),
            }
        }
        _ => String::new(),
    };
    LineRow {
        what,
        link: line.component.map(QuoteField::wire_name),
        from: format::date(line.from),
        to: line.to.map(format::date).unwrap_or_default(),
        days: line.days.map(|d| d.to_string()).unwrap_or_default(),
        balance: line
            .balance
            .map(|b| format::vnd_of(&b, lang))
            .unwrap_or_default(),
        rate: line
            .rate_percent
            .map(|r| format::rate(r, lang))
            .unwrap_or_default(),
        formula,
        amount: money(line.amount, lang),
        amount_raw: line.amount.to_string(),
    }
}

fn sections_of(explained: &LoanExplanation, x: &'static ExplainText, lang: Lang) -> Vec<Section> {
    explained
        .explanation
        .amounts
        .iter()
        .map(|amount| Section {
            anchor: amount.field.wire_name(),
            label: field_label(amount.field, x),
            amount: format::vnd_of(&amount.amount, lang),
            amount_raw: amount.amount.to_i64().unwrap_or_default(),
            lines: amount
                .lines
                .iter()
                .map(|line| line_row(line, amount.field, x, lang))
                .collect(),
        })
        .collect()
}

/// `GET /loans/{id}/explain?date=`: the payoff quote on `date` (default: the business date), every
/// amount opened into its lines. A date that does not read is shown next to the field, and the
/// explanation is the business date's.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<LoanId>,
    PageQuery(query): PageQuery<ExplainQuery>,
) -> Response {
    let x = ExplainText::of(user.lang);
    let typed = query.date.trim().to_string();
    let (date, date_error): (Option<NaiveDate>, Option<AppError>) = if typed.is_empty() {
        (None, None)
    } else {
        match format::parse_date("date", &typed) {
            Ok(date) => (Some(date), None),
            Err(err) => (None, Some(err)),
        }
    };
    user.page(&state, async {
        let explained = loans::explain(&state.ctx, &user.caller, id, date).await?;
        let title = format!("{} · {}", x.title, explained.loan_number);
        let shell = user.shell(&state, &title).await;
        let quote_date = explained.explanation.quote.date;
        Ok(ExplainPage {
            date_error: date_error.as_ref().map(|err| shell.message(err)),
            date_value: if date_error.is_some() {
                typed
            } else {
                quote_date.format("%Y-%m-%d").to_string()
            },
            date_shown: format::date(quote_date),
            sections: sections_of(&explained, x, user.lang),
            back_href: if user.caller.role() == Role::Cooperative {
                format!("/my/loans/{}", explained.loan_id.get())
            } else {
                format!("/loans/{}", explained.loan_id.get())
            },
            loan_id: explained.loan_id.get(),
            loan_number: explained.loan_number,
            shell,
            x,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn fractions_of_a_dong_are_written_with_the_languages_separators() {
        assert_eq!(decimal(dec("49315.068493"), Lang::Vi), "49.315,068493");
        assert_eq!(decimal(dec("49315.07"), Lang::En), "49,315.07");
        assert_eq!(decimal(dec("-0.5"), Lang::Vi), "−0,50");
        assert_eq!(decimal(dec("-10000000"), Lang::Vi), "−10.000.000");
        assert_eq!(decimal(dec("0"), Lang::En), "0");
        assert_eq!(money(dec("295890.41"), Lang::Vi), "295.890,41 ₫");
    }
}
