//! The messages the fund sends, in Vietnamese and English (DOMAIN.md §10).
//!
//! One struct per message, rendered with plain `format!`: every field a message needs is a
//! typed field the compiler checks, and there is no template file to drift from the code. A
//! template engine would pay off for HTML mail with layout; these are plain-text letters.
//!
//! Every letter addresses a named recipient, states the loan (or application) number and the
//! amounts by component in whole đồng (`10.662.795 đồng` / `10,662,795 VND`), the dates, how to
//! pay (the fund's bank account from `[mail]`), and whom to contact (the loan's officer and the
//! fund's phone).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::{config::Settings, error::Lang};

/// What every letter says about the fund, read from `[fund]` and `[mail]`.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub fund_name: String,
    pub bank_account_name: String,
    pub bank_account_number: String,
    pub bank_name: String,
    pub contact_phone: String,
}

impl MailContext {
    /// The context of the configured fund.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            fund_name: settings.fund.name.clone(),
            bank_account_name: settings.mail.bank_account_name.clone(),
            bank_account_number: settings.mail.bank_account_number.clone(),
            bank_name: settings.mail.bank_name.clone(),
            contact_phone: settings.mail.contact_phone.clone(),
        }
    }
}

/// The loan officer a borrower may contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerContact {
    pub name: String,
    pub email: Option<String>,
}

/// Whom a letter is addressed to: the name in the greeting and the officer to contact.
#[derive(Debug, Clone)]
pub struct Addressee {
    pub name: String,
    pub officer: Option<OfficerContact>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body_text: String,
    /// An HTML alternative; `None` sends plain text only.
    pub body_html: Option<String>,
}

/// The amounts of a loan by component (DOMAIN.md §4-§5), in whole đồng.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AmountsByComponent {
    pub principal_vnd: i64,
    pub interest_vnd: i64,
    /// Interest on overdue principal (lãi quá hạn).
    pub overdue_interest_vnd: i64,
    /// Interest on unpaid interest (lãi chậm trả).
    pub late_interest_vnd: i64,
}

impl AmountsByComponent {
    /// The sum of the components (saturating: amounts are far below `i64::MAX`).
    pub fn total_vnd(&self) -> i64 {
        self.principal_vnd
            .saturating_add(self.interest_vnd)
            .saturating_add(self.overdue_interest_vnd)
            .saturating_add(self.late_interest_vnd)
    }
}

/// An installment that comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextDue {
    pub due_date: NaiveDate,
    /// The last day to pay without penalty (the next business day when `due_date` is a day off).
    pub pay_by: NaiveDate,
    pub amounts: AmountsByComponent,
}

/// A message type: its kind (stored in the outbox) and how it reads in each language.
///
/// Every letter has the same layout ([`Template::render`]): the greeting, the message's own
/// part ([`Template::write`]), whom to contact, the signature.
pub trait Template {
    /// The `kind` column of the outbox, e.g. `payment_receipt`.
    const KIND: &'static str;
    /// Whether the letter ends with whom to contact: a letter to a cooperative does, a letter to
    /// the fund's own staff does not.
    const CONTACT: bool = true;
    /// The subject, and the message's own part written on `letter` (already greeted, in its
    /// language).
    fn write(&self, letter: Letter, ctx: &MailContext) -> (String, Letter);
    /// The subject and body in `lang`, laid out as every letter is.
    fn render(&self, lang: Lang, ctx: &MailContext, to: &Addressee) -> Rendered {
        let (subject, letter) = self.write(Letter::to(lang, &to.name), ctx);
        let letter = if Self::CONTACT {
            letter.contact(ctx, to.officer.as_ref())
        } else {
            letter
        };
        Rendered {
            subject,
            body_text: letter.sign(ctx),
            body_html: None,
        }
    }
}

/// "Application received": sent to the cooperative when an application is registered.
#[derive(Debug, Clone)]
pub struct ApplicationReceived {
    pub application_number: String,
    pub amount_vnd: i64,
    pub term_months: u32,
    pub purpose: String,
    pub received_on: NaiveDate,
}

/// The outcome of an application.
#[derive(Debug, Clone)]
pub enum Decision {
    Approved {
        amount_vnd: i64,
        term_months: u32,
        rate_percent_annual: Decimal,
        /// The loan created by the approval.
        loan_number: Option<String>,
    },
    Rejected {
        reason: String,
    },
}

/// "Application decision": approved (amount, term, rate) or rejected (with the reason).
#[derive(Debug, Clone)]
pub struct ApplicationDecision {
    pub application_number: String,
    pub decided_on: NaiveDate,
    pub decision: Decision,
}

/// "Disbursement notice": money paid out on a loan.
#[derive(Debug, Clone)]
pub struct DisbursementNotice {
    pub loan_number: String,
    pub amount_vnd: i64,
    pub value_date: NaiveDate,
    pub outstanding_principal_vnd: i64,
    pub next_due: Option<NextDue>,
}

/// "Payment receipt": a repayment received and how it was allocated.
#[derive(Debug, Clone)]
pub struct PaymentReceipt {
    pub loan_number: String,
    pub value_date: NaiveDate,
    pub received_vnd: i64,
    pub allocated: AmountsByComponent,
    /// The excess held as an advance for the next due dates (DOMAIN.md §5).
    pub advance_vnd: i64,
    pub outstanding_principal_vnd: i64,
    pub next_due: Option<NextDue>,
    /// Set when this payment settled the loan: the receipt then says the loan is paid off and
    /// shows the closing totals.
    pub closing: Option<LoanClosing>,
}

/// What a loan came to over its life, as its statement totals it on the day it was paid off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoanClosing {
    pub closed_on: NaiveDate,
    pub disbursed_vnd: i64,
    /// Cash received over the loan's life (every repayment).
    pub received_vnd: i64,
    /// Everything collected, by component (principal, contractual, overdue and late interest).
    pub paid: AmountsByComponent,
}

/// "Due reminder": an installment is due in `days_before` days (T-7, T-1).
#[derive(Debug, Clone)]
pub struct DueReminder {
    pub loan_number: String,
    pub due_date: NaiveDate,
    /// The last day to pay without penalty: the due date, or the next business day when the due
    /// date is a day off of the fund (DOMAIN.md §4).
    pub pay_by: NaiveDate,
    pub days_before: u32,
    pub amounts: AmountsByComponent,
    /// The part of the advance held that will go to this installment on its due date (never
    /// more than the installment; no reminder is sent for one the advance covers in full).
    pub advance_vnd: i64,
}

/// "Overdue notice": a due date was missed (the day after each missed due date, then 10 and 30
/// days past the oldest unpaid one); a copy goes to the loan's officer.
#[derive(Debug, Clone)]
pub struct OverdueNotice {
    pub loan_number: String,
    /// The due date this notice is about: the one just missed, or the oldest unpaid one for a
    /// days-past-due milestone.
    pub due_date: NaiveDate,
    /// Days from `due_date` to `as_of`.
    pub days_past_due: u32,
    /// An earlier due date that is still unpaid too (the loan's days past due count from it);
    /// `None` when `due_date` is the oldest.
    pub earlier_unpaid_due_date: Option<NaiveDate>,
    /// The business date the amounts are computed for.
    pub as_of: NaiveDate,
    pub overdue: AmountsByComponent,
}

/// One loan in an officer's digest.
#[derive(Debug, Clone)]
pub struct DigestLine {
    pub loan_number: String,
    pub cooperative_name: String,
    pub due_date: NaiveDate,
    pub amount_vnd: i64,
    /// 0 for a loan that is only coming due.
    pub days_past_due: u32,
}

/// "Officer digest": the officer's loans due in the next days and those overdue.
#[derive(Debug, Clone)]
pub struct OfficerDigest {
    pub business_date: NaiveDate,
    pub due_within_days: u32,
    pub due_soon: Vec<DigestLine>,
    pub overdue: Vec<DigestLine>,
}

/// Whole đồng with thousands separators: `10.662.795 đồng` in Vietnamese, `10,662,795 VND` in
/// English — the domain's one money formatter ([`coopfund_domain::Vnd::for_people`]).
pub fn format_vnd(amount_vnd: i64, lang: Lang) -> String {
    let language = match lang {
        Lang::Vi => coopfund_domain::Language::Vietnamese,
        Lang::En => coopfund_domain::Language::English,
    };
    coopfund_domain::Vnd::from_i64(amount_vnd).for_people(language)
}

/// A date as people write it: `10/03/2026` in Vietnamese, `10 March 2026` in English.
pub fn format_date(date: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Vi => date.format("%d/%m/%Y").to_string(),
        Lang::En => format!("{} {} {}", date.day(), date.format("%B"), date.year()),
    }
}

/// An annual rate: `7,25%/năm` or `7.25% a year`.
pub fn format_rate(rate_percent_annual: Decimal, lang: Lang) -> String {
    let text = rate_percent_annual.normalize().to_string();
    match lang {
        Lang::Vi => format!("{}%/năm", text.replace('.', ",")),
        Lang::En => format!("{text}% a year"),
    }
}

/// Picks the text of `lang`.
fn t<'a>(lang: Lang, vi: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A letter being written: greeting, paragraphs, amount tables, payment and contact blocks,
/// signature.
pub struct Letter {
    lang: Lang,
    text: String,
}

/// The labels of the components of an amount (principal, interest, overdue, late interest),
/// each in Vietnamese and English.
type ComponentLabels = [(&'static str, &'static str); 4];

/// The components of an amount due.
const DUE_LABELS: ComponentLabels = [
    ("Gốc", "Principal"),
    ("Lãi trong hạn", "Interest"),
    ("Lãi quá hạn", "Overdue interest"),
    ("Lãi chậm trả", "Late interest"),
];

/// The components of what a loan paid over its life.
const PAID_LABELS: ComponentLabels = [
    ("Gốc đã trả", "Principal paid"),
    ("Lãi trong hạn đã trả", "Interest paid"),
    ("Lãi quá hạn đã trả", "Overdue interest paid"),
    ("Lãi chậm trả đã trả", "Late interest paid"),
];

/// `label: amount` rows of `amounts` by component; overdue and late interest only when not zero.
fn component_rows(
    amounts: &AmountsByComponent,
    labels: &ComponentLabels,
    lang: Lang,
) -> Vec<(&'static str, i64)> {
    let [principal, interest, overdue, late] = labels.map(|(vi, en)| t(lang, vi, en));
    let mut rows = vec![
        (principal, amounts.principal_vnd),
        (interest, amounts.interest_vnd),
    ];
    if amounts.overdue_interest_vnd != 0 {
        rows.push((overdue, amounts.overdue_interest_vnd));
    }
    if amounts.late_interest_vnd != 0 {
        rows.push((late, amounts.late_interest_vnd));
    }
    rows
}

impl Letter {
    /// The language the letter is written in.
    fn lang(&self) -> Lang {
        self.lang
    }

    fn to(lang: Lang, name: &str) -> Self {
        let greeting = match lang {
            Lang::Vi => format!("Kính gửi {name},\n\n"),
            Lang::En => format!("Dear {name},\n\n"),
        };
        Self {
            lang,
            text: greeting,
        }
    }

    fn paragraph(mut self, text: &str) -> Self {
        self.text.push_str(text);
        self.text.push_str("\n\n");
        self
    }

    /// Aligned `label: amount` lines; zero components other than principal and interest are
    /// left out, the total is always shown.
    fn amounts(self, amounts: &AmountsByComponent, total_label: Option<(&str, &str)>) -> Self {
        let lang = self.lang;
        let mut rows = component_rows(amounts, &DUE_LABELS, lang);
        let (total_vi, total_en) = total_label.unwrap_or(("Tổng cộng", "Total"));
        rows.push((t(lang, total_vi, total_en), amounts.total_vnd()));
        self.rows(&rows)
    }

    /// The next installment, and when there is one, its amounts and how to pay them.
    fn next_due(self, next: Option<&NextDue>, ctx: &MailContext, reference: &str) -> Self {
        let lang = self.lang;
        let letter = self.paragraph(&next_due_paragraph(next, lang));
        match next {
            Some(next) => letter
                .amounts(&next.amounts, None)
                .how_to_pay(ctx, reference),
            None => letter,
        }
    }

    fn rows(mut self, rows: &[(&str, i64)]) -> Self {
        let width = rows
            .iter()
            .map(|(label, _)| label.chars().count())
            .max()
            .unwrap_or(0)
            + 1;
        for (label, amount) in rows {
            let label = format!("{label}:");
            self.text.push_str(&format!(
                "  {label:<width$} {:>22}\n",
                format_vnd(*amount, self.lang),
                width = width
            ));
        }
        self.text.push('\n');
        self
    }

    fn how_to_pay(mut self, ctx: &MailContext, reference: &str) -> Self {
        let block = match self.lang {
            Lang::Vi => format!(
                "Cách thanh toán: chuyển khoản hoặc nộp tiền vào tài khoản của Quỹ\n  Chủ tài khoản: {}\n  Số tài khoản:  {}\n  Ngân hàng:     {}\n  Nội dung:      {reference}\n\n",
                ctx.bank_account_name, ctx.bank_account_number, ctx.bank_name
            ),
            Lang::En => format!(
                "How to pay: transfer or deposit to the fund's account\n  Account name:   {}\n  Account number: {}\n  Bank:           {}\n  Reference:      {reference}\n\n",
                ctx.bank_account_name, ctx.bank_account_number, ctx.bank_name
            ),
        };
        self.text.push_str(&block);
        self
    }

    /// The line that points at the VietQR code the mail carries (issue 10 §4).
    fn qr_hint(mut self) -> Self {
        self.text.push_str(t(
            self.lang,
            "Hoặc quét mã VietQR đính kèm thư này bằng ứng dụng ngân hàng: số tiền, tài khoản và nội dung chuyển khoản đã được điền sẵn.\n\n",
            "Or scan the VietQR code in this mail with your banking app: the amount, the account and the transfer message are filled in for you.\n\n",
        ));
        self
    }

    fn contact(mut self, ctx: &MailContext, officer: Option<&OfficerContact>) -> Self {
        let block = match (self.lang, officer) {
            (Lang::Vi, Some(o)) => format!(
                "Mọi thắc mắc xin liên hệ cán bộ tín dụng phụ trách: {}{}, hoặc Quỹ qua số điện thoại {}.\n\n",
                o.name,
                o.email.as_deref().map(|e| format!(" (email {e})")).unwrap_or_default(),
                ctx.contact_phone
            ),
            (Lang::En, Some(o)) => format!(
                "For any question please contact your loan officer, {}{}, or the fund on {}.\n\n",
                o.name,
                o.email.as_deref().map(|e| format!(" (email {e})")).unwrap_or_default(),
                ctx.contact_phone
            ),
            (Lang::Vi, None) => format!("Mọi thắc mắc xin liên hệ Quỹ qua số điện thoại {}.\n\n", ctx.contact_phone),
            (Lang::En, None) => format!("For any question please contact the fund on {}.\n\n", ctx.contact_phone),
        };
        self.text.push_str(&block);
        self
    }

    fn sign(mut self, ctx: &MailContext) -> String {
        self.text
            .push_str(t(self.lang, "Trân trọng,\n", "Yours faithfully,\n"));
        self.text.push_str(&ctx.fund_name);
        self.text.push('\n');
        self.text.push_str(t(
            self.lang,
            "\n(Thư này được gửi tự động; vui lòng không trả lời nếu không cần thiết.)\n",
            "\n(This message was sent automatically.)\n",
        ));
        self.text
    }
}

fn next_due_paragraph(next: Option<&NextDue>, lang: Lang) -> String {
    let paragraph = next_due_sentence(next, lang);
    match (next, lang) {
        (Some(n), Lang::Vi) if n.pay_by > n.due_date => format!(
            "{paragraph} Đó là ngày nghỉ của Quỹ: có thể thanh toán chậm nhất trong ngày {} mà không phát sinh lãi quá hạn.",
            format_date(n.pay_by, lang)
        ),
        (Some(n), Lang::En) if n.pay_by > n.due_date => format!(
            "{paragraph} The fund is closed that day: you may pay until {} at the latest without overdue interest.",
            format_date(n.pay_by, lang)
        ),
        _ => paragraph,
    }
}

fn next_due_sentence(next: Option<&NextDue>, lang: Lang) -> String {
    match (next, lang) {
        (Some(n), Lang::Vi) => format!(
            "Kỳ trả nợ tiếp theo: ngày {}, số tiền {}.",
            format_date(n.due_date, lang),
            format_vnd(n.amounts.total_vnd(), lang)
        ),
        (Some(n), Lang::En) => format!(
            "Next installment: {}, amount {}.",
            format_date(n.due_date, lang),
            format_vnd(n.amounts.total_vnd(), lang)
        ),
        (None, Lang::Vi) => "Không còn kỳ trả nợ nào phải trả.".to_string(),
        (None, Lang::En) => "No further installment is due.".to_string(),
    }
}

impl Template for ApplicationReceived {
    const KIND: &'static str = "application_received";

    fn write(&self, letter: Letter, _ctx: &MailContext) -> (String, Letter) {
        let lang = letter.lang();
        let (subject, body) = match lang {
            Lang::Vi => (
                format!("Quỹ đã nhận hồ sơ vay số {}", self.application_number),
                format!(
                    "Quỹ đã nhận hồ sơ đề nghị vay vốn số {} ngày {}: số tiền đề nghị {}, thời hạn {} tháng, mục đích: {}. Cán bộ tín dụng sẽ thẩm định và thông báo kết quả.",
                    self.application_number,
                    format_date(self.received_on, lang),
                    format_vnd(self.amount_vnd, lang),
                    self.term_months,
                    self.purpose
                ),
            ),
            Lang::En => (
                format!("Loan application {} received", self.application_number),
                format!(
                    "The fund received loan application {} on {}: {} requested for {} months, purpose: {}. Your loan officer will appraise it and tell you the decision.",
                    self.application_number,
                    format_date(self.received_on, lang),
                    format_vnd(self.amount_vnd, lang),
                    self.term_months,
                    self.purpose
                ),
            ),
        };
        (subject, letter.paragraph(&body))
    }
}

impl Template for ApplicationDecision {
    const KIND: &'static str = "application_decision";

    fn write(&self, letter: Letter, _ctx: &MailContext) -> (String, Letter) {
        let lang = letter.lang();
        let date = format_date(self.decided_on, lang);
        let (subject, body) = match (&self.decision, lang) {
            (Decision::Approved { amount_vnd, term_months, rate_percent_annual, loan_number }, Lang::Vi) => (
                format!("Hồ sơ vay số {} đã được phê duyệt", self.application_number),
                format!(
                    "Ngày {date}, Quỹ đã phê duyệt hồ sơ vay số {}: số tiền {}, thời hạn {term_months} tháng, lãi suất {}.{} Cán bộ tín dụng sẽ liên hệ để ký hợp đồng và giải ngân.",
                    self.application_number,
                    format_vnd(*amount_vnd, lang),
                    format_rate(*rate_percent_annual, lang),
                    loan_number.as_deref().map(|n| format!(" Số hợp đồng vay: {n}.")).unwrap_or_default()
                ),
            ),
            (Decision::Approved { amount_vnd, term_months, rate_percent_annual, loan_number }, Lang::En) => (
                format!("Loan application {} approved", self.application_number),
                format!(
                    "On {date} the fund approved loan application {}: {} for {term_months} months at {}.{} Your loan officer will contact you to sign the contract and disburse.",
                    self.application_number,
                    format_vnd(*amount_vnd, lang),
                    format_rate(*rate_percent_annual, lang),
                    loan_number.as_deref().map(|n| format!(" Loan number: {n}.")).unwrap_or_default()
                ),
            ),
            (Decision::Rejected { reason }, Lang::Vi) => (
                format!("Hồ sơ vay số {} không được phê duyệt", self.application_number),
                format!(
                    "Ngày {date}, Quỹ rất tiếc thông báo hồ sơ vay số {} không được phê duyệt. Lý do: {reason}",
                    self.application_number
                ),
            ),
            (Decision::Rejected { reason }, Lang::En) => (
                format!("Loan application {} not approved", self.application_number),
                format!(
                    "On {date} the fund regrets that loan application {} was not approved. Reason: {reason}",
                    self.application_number
                ),
            ),
        };
        (subject, letter.paragraph(&body))
    }
}

impl Template for DisbursementNotice {
    const KIND: &'static str = "disbursement_notice";

    fn write(&self, letter: Letter, ctx: &MailContext) -> (String, Letter) {
        let lang = letter.lang();
        let (subject, body, outstanding) = match lang {
            Lang::Vi => (
                format!(
                    "Giải ngân khoản vay {}: {}",
                    self.loan_number,
                    format_vnd(self.amount_vnd, lang)
                ),
                format!(
                    "Quỹ đã giải ngân {} cho khoản vay số {} ngày {}.",
                    format_vnd(self.amount_vnd, lang),
                    self.loan_number,
                    format_date(self.value_date, lang)
                ),
                "Dư nợ gốc sau giải ngân",
            ),
            Lang::En => (
                format!(
                    "Disbursement on loan {}: {}",
                    self.loan_number,
                    format_vnd(self.amount_vnd, lang)
                ),
                format!(
                    "The fund disbursed {} on loan {} on {}.",
                    format_vnd(self.amount_vnd, lang),
                    self.loan_number,
                    format_date(self.value_date, lang)
                ),
                "Outstanding principal after the disbursement",
            ),
        };
        let letter = letter
            .paragraph(&body)
            .rows(&[(outstanding, self.outstanding_principal_vnd)])
            .next_due(self.next_due.as_ref(), ctx, &self.loan_number);
        (subject, letter)
    }
}

impl Template for PaymentReceipt {
    const KIND: &'static str = "payment_receipt";

    fn write(&self, letter: Letter, ctx: &MailContext) -> (String, Letter) {
        let lang = letter.lang();
        let paid_off = match (self.closing.is_some(), lang) {
            (false, _) => "",
            (true, Lang::Vi) => " - khoản vay đã tất toán",
            (true, Lang::En) => " - your loan is paid off",
        };
        let (subject, body) = match lang {
            Lang::Vi => (
                format!(
                    "Biên nhận thanh toán khoản vay {}: {}{paid_off}",
                    self.loan_number,
                    format_vnd(self.received_vnd, lang)
                ),
                format!(
                    "Quỹ xác nhận đã nhận {} ngày {} cho khoản vay số {}, phân bổ như sau:",
                    format_vnd(self.received_vnd, lang),
                    format_date(self.value_date, lang),
                    self.loan_number
                ),
            ),
            Lang::En => (
                format!(
                    "Payment receipt for loan {}: {}{paid_off}",
                    self.loan_number,
                    format_vnd(self.received_vnd, lang)
                ),
                format!(
                    "The fund confirms it received {} on {} for loan {}, allocated as follows:",
                    format_vnd(self.received_vnd, lang),
                    format_date(self.value_date, lang),
                    self.loan_number
                ),
            ),
        };
        let letter = letter
            .paragraph(&body)
            .amounts(&self.allocated, Some(("Tổng phân bổ", "Total allocated")));
        if let Some(closing) = &self.closing {
            // The loan is settled: nothing is outstanding and nothing falls due any more, so the
            // letter says so and totals the loan's life instead.
            let closed_on = format_date(closing.closed_on, lang);
            let settled = match lang {
                Lang::Vi => format!(
                    "Với khoản thanh toán này, khoản vay đã tất toán ngày {closed_on}: khoản vay số {} không còn dư nợ. Tổng kết khoản vay:",
                    self.loan_number
                ),
                Lang::En => format!(
                    "With this payment your loan is paid off (closed on {closed_on}): nothing is outstanding on loan {}. The loan in total:",
                    self.loan_number
                ),
            };
            let mut rows = vec![(
                t(lang, "Tổng giải ngân", "Total disbursed"),
                closing.disbursed_vnd,
            )];
            rows.extend(component_rows(&closing.paid, &PAID_LABELS, lang));
            rows.push((
                t(lang, "Tổng số tiền đã trả", "Total paid"),
                closing.received_vnd,
            ));
            return (subject, letter.paragraph(&settled).rows(&rows));
        }
        let mut after: Vec<(&str, i64)> = Vec::new();
        if self.advance_vnd != 0 {
            after.push((
                t(lang, "Tiền trả trước giữ lại", "Held as an advance"),
                self.advance_vnd,
            ));
        }
        after.push((
            t(lang, "Dư nợ gốc còn lại", "Outstanding principal"),
            self.outstanding_principal_vnd,
        ));
        let letter = letter
            .rows(&after)
            .next_due(self.next_due.as_ref(), ctx, &self.loan_number);
        (subject, letter)
    }
}

impl Template for DueReminder {
    const KIND: &'static str = "due_reminder";

    fn write(&self, letter: Letter, ctx: &MailContext) -> (String, Letter) {
        let lang = letter.lang();
        let date = format_date(self.due_date, lang);
        let to_pay = self.to_pay_vnd();
        let (subject, body) = match lang {
            Lang::Vi => (
                format!("Nhắc lịch trả nợ khoản vay {}: đến hạn ngày {date}", self.loan_number),
                format!(
                    "Kỳ trả nợ của khoản vay số {} đến hạn ngày {date} (còn {} ngày). Số tiền đến hạn:",
                    self.loan_number, self.days_before
                ),
            ),
            Lang::En => (
                format!("Payment reminder for loan {}: due on {date}", self.loan_number),
                format!(
                    "An installment of loan {} falls due on {date} (in {} day{}). Amount due:",
                    self.loan_number,
                    self.days_before,
                    if self.days_before == 1 { "" } else { "s" }
                ),
            ),
        };
        let mut letter = letter.paragraph(&body).amounts(&self.amounts, None);
        if self.advance_vnd != 0 {
            letter = letter.rows(&[
                (
                    t(lang, "Tiền trả trước đã có", "Advance already held"),
                    self.advance_vnd,
                ),
                (t(lang, "Số tiền cần nộp", "Left to pay"), to_pay),
            ]);
        }
        let pay_by = format_date(self.pay_by, lang);
        let closing = match (lang, self.pay_by > self.due_date) {
            (Lang::Vi, false) => format!("Xin vui lòng thanh toán {} trước hoặc trong ngày {date} để tránh phát sinh lãi quá hạn.", format_vnd(to_pay, lang)),
            (Lang::En, false) => format!("Please pay {} on or before {date} to avoid overdue interest.", format_vnd(to_pay, lang)),
            (Lang::Vi, true) => format!("Ngày {date} là ngày nghỉ của Quỹ: quý HTX có thể thanh toán {} chậm nhất trong ngày {pay_by} mà không phát sinh lãi quá hạn.", format_vnd(to_pay, lang)),
            (Lang::En, true) => format!("{date} is a day the fund is closed: you may pay {} until {pay_by} at the latest without overdue interest.", format_vnd(to_pay, lang)),
        };
        let letter = letter
            .paragraph(&closing)
            .how_to_pay(ctx, &self.loan_number)
            .qr_hint();
        (subject, letter)
    }
}

impl DueReminder {
    /// What is left to pay on the installment once the advance is applied: the amount its VietQR
    /// code asks for.
    pub fn to_pay_vnd(&self) -> i64 {
        self.amounts
            .total_vnd()
            .saturating_sub(self.advance_vnd)
            .max(0)
    }
}

impl Template for OverdueNotice {
    const KIND: &'static str = "overdue_notice";

    fn write(&self, letter: Letter, ctx: &MailContext) -> (String, Letter) {
        let lang = letter.lang();
        let due = format_date(self.due_date, lang);
        let as_of = format_date(self.as_of, lang);
        let (subject, body, closing) = match lang {
            Lang::Vi => (
                format!("Thông báo nợ quá hạn khoản vay {} ({} ngày)", self.loan_number, self.days_past_due),
                format!(
                    "Khoản vay số {} có kỳ trả nợ đến hạn ngày {due} chưa được thanh toán đầy đủ và đã quá hạn {} ngày. Số tiền quá hạn tính đến ngày {as_of}:",
                    self.loan_number, self.days_past_due
                ),
                "Lãi quá hạn và lãi chậm trả tiếp tục phát sinh hằng ngày cho đến khi thanh toán (Thông tư 39/2016/TT-NHNN Điều 20). Xin vui lòng thanh toán ngay hoặc liên hệ cán bộ tín dụng.".to_string(),
            ),
            Lang::En => (
                format!(
                    "Overdue notice for loan {} ({} day{} past due)",
                    self.loan_number,
                    self.days_past_due,
                    if self.days_past_due == 1 { "" } else { "s" }
                ),
                format!(
                    "The installment of loan {} due on {due} has not been paid in full and is {} day{} past due. Overdue amounts as of {as_of}:",
                    self.loan_number,
                    self.days_past_due,
                    if self.days_past_due == 1 { "" } else { "s" }
                ),
                "Overdue and late interest keep accruing every day until payment (Circular 39/2016/TT-NHNN Art 20). Please pay now or contact your loan officer.".to_string(),
            ),
        };
        let mut letter = letter.paragraph(&body);
        if let Some(earlier) = self.earlier_unpaid_due_date {
            let days = (self.as_of - earlier).num_days();
            let earlier = format_date(earlier, lang);
            let also = match lang {
                Lang::Vi => format!("Kỳ trả nợ đến hạn ngày {earlier} cũng chưa được thanh toán đầy đủ (quá hạn {days} ngày); số tiền quá hạn dưới đây gồm cả kỳ đó."),
                Lang::En => format!("The installment due on {earlier} is still unpaid too ({days} days past due); the overdue amounts below include it."),
            };
            letter = letter.paragraph(&also);
        }
        let letter = letter
            .amounts(&self.overdue, None)
            .paragraph(&closing)
            .how_to_pay(ctx, &self.loan_number)
            .qr_hint();
        (subject, letter)
    }
}

impl Template for OfficerDigest {
    const KIND: &'static str = "officer_digest";
    // A letter to an officer: the officer is whom a cooperative contacts.
    const CONTACT: bool = false;

    fn write(&self, letter: Letter, _ctx: &MailContext) -> (String, Letter) {
        let lang = letter.lang();
        let date = format_date(self.business_date, lang);
        let subject = match lang {
            Lang::Vi => format!(
                "Tổng hợp ngày {date}: {} khoản sắp đến hạn, {} khoản quá hạn",
                self.due_soon.len(),
                self.overdue.len()
            ),
            Lang::En => format!(
                "Digest for {date}: {} loans coming due, {} overdue",
                self.due_soon.len(),
                self.overdue.len()
            ),
        };
        let line = |l: &DigestLine| {
            let (due, past_due) = match lang {
                Lang::Vi => ("đến hạn", format!("quá hạn {} ngày", l.days_past_due)),
                Lang::En => ("due", format!("{} days past due", l.days_past_due)),
            };
            let mut text = format!(
                "  - {} · {} · {due} {} · {}",
                l.loan_number,
                l.cooperative_name,
                format_date(l.due_date, lang),
                format_vnd(l.amount_vnd, lang)
            );
            if l.days_past_due > 0 {
                text.push_str(&format!(" · {past_due}"));
            }
            text.push('\n');
            text
        };
        let section = |title: String, lines: &[DigestLine]| {
            let mut text = format!("{title}\n");
            if lines.is_empty() {
                text.push_str(t(lang, "  (không có)\n", "  (none)\n"));
            }
            for l in lines {
                text.push_str(&line(l));
            }
            text
        };
        let due_title = match lang {
            Lang::Vi => format!(
                "Đến hạn trong {} ngày tới ({}):",
                self.due_within_days,
                self.due_soon.len()
            ),
            Lang::En => format!(
                "Due in the next {} days ({}):",
                self.due_within_days,
                self.due_soon.len()
            ),
        };
        let overdue_title = match lang {
            Lang::Vi => format!("Quá hạn ({}):", self.overdue.len()),
            Lang::En => format!("Overdue ({}):", self.overdue.len()),
        };
        let letter = letter
            .paragraph(&section(due_title, &self.due_soon))
            .paragraph(&section(overdue_title, &self.overdue));
        (subject, letter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MailContext {
        MailContext {
            fund_name: "Quỹ HTX".into(),
            bank_account_name: "Quỹ hỗ trợ phát triển HTX".into(),
            bank_account_number: "3900201001234".into(),
            bank_name: "Agribank Thái Nguyên".into(),
            contact_phone: "0208 3 855 555".into(),
        }
    }

    fn addressee() -> Addressee {
        Addressee {
            name: "HTX Chè Tân Cương".into(),
            officer: Some(OfficerContact {
                name: "Trần Thị Bình".into(),
                email: Some("binh@quy.vn".into()),
            }),
        }
    }

    #[test]
    fn amounts_are_whole_dong_with_thousands_separators() {
        assert_eq!(format_vnd(10_662_795, Lang::Vi), "10.662.795 đồng");
        assert_eq!(format_vnd(10_662_795, Lang::En), "10,662,795 VND");
        assert_eq!(format_vnd(0, Lang::Vi), "0 đồng");
        assert_eq!(format_vnd(999, Lang::En), "999 VND");
        assert_eq!(format_vnd(1_000, Lang::En), "1,000 VND");
        assert_eq!(format_vnd(-28_715, Lang::Vi), "-28.715 đồng");
        assert_eq!(
            format_vnd(999_999_999_999_999, Lang::Vi),
            "999.999.999.999.999 đồng"
        );
    }

    #[test]
    fn dates_and_rates_read_as_people_write_them() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        assert_eq!(format_date(date, Lang::Vi), "10/03/2026");
        assert_eq!(format_date(date, Lang::En), "10 March 2026");
        assert_eq!(format_rate(Decimal::new(725, 2), Lang::Vi), "7,25%/năm");
        assert_eq!(format_rate(Decimal::new(7250, 3), Lang::En), "7.25% a year");
    }

    #[test]
    fn a_due_reminder_states_loan_amounts_date_how_to_pay_and_officer_in_each_language() {
        let reminder = DueReminder {
            loan_number: "HTX-2026-000123".into(),
            due_date: NaiveDate::from_ymd_opt(2026, 3, 10).expect("date"),
            pay_by: NaiveDate::from_ymd_opt(2026, 3, 10).expect("date"),
            days_before: 7,
            amounts: AmountsByComponent {
                principal_vnd: 10_000_000,
                interest_vnd: 828_493,
                ..Default::default()
            },
            advance_vnd: 28_715,
        };
        let vi = reminder.render(Lang::Vi, &ctx(), &addressee());
        assert!(
            vi.subject.contains("HTX-2026-000123") && vi.subject.contains("10/03/2026"),
            "{}",
            vi.subject
        );
        for expected in [
            "Kính gửi HTX Chè Tân Cương",
            "10.000.000 đồng",
            "828.493 đồng",
            "10.828.493 đồng",
            "10.799.778 đồng",
            "3900201001234",
            "Trần Thị Bình",
            "binh@quy.vn",
        ] {
            assert!(
                vi.body_text.contains(expected),
                "missing {expected} in:\n{}",
                vi.body_text
            );
        }
        let en = reminder.render(Lang::En, &ctx(), &addressee());
        for expected in [
            "Dear HTX",
            "10,828,493 VND",
            "10,799,778 VND",
            "10 March 2026",
            "in 7 days",
            "Account number: 3900201001234",
        ] {
            assert!(
                en.body_text.contains(expected),
                "missing {expected} in:\n{}",
                en.body_text
            );
        }
    }

    #[test]
    fn the_receipt_of_a_settling_payment_says_the_loan_is_paid_off_and_totals_it() {
        let date = NaiveDate::from_ymd_opt(2026, 2, 20).expect("date");
        let receipt = PaymentReceipt {
            loan_number: "HTX-2026-000001".into(),
            value_date: date,
            received_vnd: 90_295_890,
            allocated: AmountsByComponent {
                principal_vnd: 90_000_000,
                interest_vnd: 295_890,
                ..Default::default()
            },
            advance_vnd: 0,
            outstanding_principal_vnd: 0,
            next_due: None,
            closing: Some(LoanClosing {
                closed_on: date,
                disbursed_vnd: 100_000_000,
                received_vnd: 101_364_383,
                paid: AmountsByComponent {
                    principal_vnd: 100_000_000,
                    interest_vnd: 1_315_068,
                    overdue_interest_vnd: 46_523,
                    late_interest_vnd: 2_792,
                },
            }),
        };
        let vi = receipt.render(Lang::Vi, &ctx(), &addressee());
        assert_eq!(
            vi.subject,
            "Biên nhận thanh toán khoản vay HTX-2026-000001: 90.295.890 đồng - khoản vay đã tất toán"
        );
        for expected in [
            "khoản vay đã tất toán ngày 20/02/2026",
            "Tổng giải ngân:",
            "1.315.068 đồng",
            "Lãi quá hạn đã trả:",
            "46.523 đồng",
            "Lãi chậm trả đã trả:",
            "101.364.383 đồng",
        ] {
            assert!(
                vi.body_text.contains(expected),
                "missing {expected} in:\n{}",
                vi.body_text
            );
        }
        let en = receipt.render(Lang::En, &ctx(), &addressee());
        assert!(
            en.subject
                .ends_with("90,295,890 VND - your loan is paid off"),
            "{}",
            en.subject
        );
        for expected in [
            "your loan is paid off (closed on 20 February 2026)",
            "Total paid:",
            "101,364,383 VND",
        ] {
            assert!(
                en.body_text.contains(expected),
                "missing {expected} in:\n{}",
                en.body_text
            );
        }
        for absent in [
            "How to pay",
            "Outstanding principal",
            "No further installment",
        ] {
            assert!(
                !en.body_text.contains(absent),
                "{absent} in:\n{}",
                en.body_text
            );
        }
    }

    #[test]
    fn an_overdue_notice_of_a_second_missed_due_date_names_the_earlier_unpaid_one() {
        let notice = OverdueNotice {
            loan_number: "HTX-2026-000002".into(),
            due_date: NaiveDate::from_ymd_opt(2026, 3, 5).expect("date"),
            days_past_due: 1,
            earlier_unpaid_due_date: NaiveDate::from_ymd_opt(2026, 2, 5),
            as_of: NaiveDate::from_ymd_opt(2026, 3, 6).expect("date"),
            overdue: AmountsByComponent {
                principal_vnd: 60_000_000,
                interest_vnd: 3_215_343,
                ..Default::default()
            },
        };
        let en = notice.render(Lang::En, &ctx(), &addressee());
        assert_eq!(
            en.subject,
            "Overdue notice for loan HTX-2026-000002 (1 day past due)"
        );
        for expected in [
            "due on 5 March 2026 has not been paid in full and is 1 day past due",
            "The installment due on 5 February 2026 is still unpaid too (29 days past due)",
            "60,000,000 VND",
            "63,215,343 VND",
        ] {
            assert!(
                en.body_text.contains(expected),
                "missing {expected} in:\n{}",
                en.body_text
            );
        }
    }

    #[test]
    fn a_payment_receipt_lists_every_paid_component_and_the_advance() {
        // DOMAIN.md §4 worked example 3: 11,100,000 paid ten days late.
        let receipt = PaymentReceipt {
            loan_number: "HTX-2026-000001".into(),
            value_date: NaiveDate::from_ymd_opt(2026, 2, 20).expect("date"),
            received_vnd: 11_100_000,
            allocated: AmountsByComponent {
                principal_vnd: 10_000_000,
                interest_vnd: 1_019_178,
                overdue_interest_vnd: 49_315,
                late_interest_vnd: 2_792,
            },
            advance_vnd: 28_715,
            outstanding_principal_vnd: 90_000_000,
            next_due: None,
            closing: None,
        };
        let en = receipt.render(Lang::En, &ctx(), &addressee());
        for expected in [
            "11,100,000 VND",
            "49,315 VND",
            "2,792 VND",
            "11,071,285 VND",
            "28,715 VND",
            "90,000,000 VND",
            "Overdue interest",
            "Late interest",
        ] {
            assert!(
                en.body_text.contains(expected),
                "missing {expected} in:\n{}",
                en.body_text
            );
        }
    }

    #[test]
    fn every_message_renders_in_both_languages_with_its_subject() {
        let date = NaiveDate::from_ymd_opt(2026, 1, 10).expect("date");
        let amounts = AmountsByComponent {
            principal_vnd: 1_000_000,
            interest_vnd: 10_000,
            ..Default::default()
        };
        let line = DigestLine {
            loan_number: "HTX-1".into(),
            cooperative_name: "HTX A".into(),
            due_date: date,
            amount_vnd: 5,
            days_past_due: 3,
        };
        let rendered = |lang| {
            vec![
                ApplicationReceived {
                    application_number: "HS-1".into(),
                    amount_vnd: 1,
                    term_months: 12,
                    purpose: "p".into(),
                    received_on: date,
                }
                .render(lang, &ctx(), &addressee()),
                ApplicationDecision {
                    application_number: "HS-1".into(),
                    decided_on: date,
                    decision: Decision::Rejected {
                        reason: "vượt hạn mức".into(),
                    },
                }
                .render(lang, &ctx(), &addressee()),
                ApplicationDecision {
                    application_number: "HS-1".into(),
                    decided_on: date,
                    decision: Decision::Approved {
                        amount_vnd: 1,
                        term_months: 12,
                        rate_percent_annual: Decimal::new(7, 0),
                        loan_number: Some("HTX-1".into()),
                    },
                }
                .render(lang, &ctx(), &addressee()),
                DisbursementNotice {
                    loan_number: "HTX-1".into(),
                    amount_vnd: 1,
                    value_date: date,
                    outstanding_principal_vnd: 1,
                    next_due: Some(NextDue {
                        due_date: date,
                        pay_by: date,
                        amounts,
                    }),
                }
                .render(lang, &ctx(), &addressee()),
                OverdueNotice {
                    loan_number: "HTX-1".into(),
                    due_date: date,
                    days_past_due: 10,
                    earlier_unpaid_due_date: None,
                    as_of: date,
                    overdue: amounts,
                }
                .render(lang, &ctx(), &addressee()),
                OfficerDigest {
                    business_date: date,
                    due_within_days: 7,
                    due_soon: vec![line.clone()],
                    overdue: vec![line.clone()],
                }
                .render(lang, &ctx(), &addressee()),
            ]
        };
        for (vi, en) in rendered(Lang::Vi).into_iter().zip(rendered(Lang::En)) {
            assert_ne!(vi.subject, en.subject);
            assert!(vi.body_text.starts_with("Kính gửi"), "{}", vi.body_text);
            assert!(en.body_text.starts_with("Dear"), "{}", en.body_text);
            assert!(vi.body_text.contains("Quỹ HTX") && en.body_text.contains("Quỹ HTX"));
        }
    }

    #[test]
    fn every_letter_is_laid_out_alike_and_only_a_cooperatives_says_whom_to_contact() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        let received = ApplicationReceived {
            application_number: "HS-2026-0001".into(),
            amount_vnd: 500_000_000,
            term_months: 24,
            purpose: "Mua máy sấy chè".into(),
            received_on: date,
        }
        .render(Lang::En, &ctx(), &addressee());
        let body = &received.body_text;
        assert!(body.starts_with("Dear HTX Chè Tân Cương,\n\n"), "{body}");
        assert!(
            body.ends_with(
                "For any question please contact your loan officer, Trần Thị Bình (email binh@quy.vn), \
                 or the fund on 0208 3 855 555.\n\nYours faithfully,\nQuỹ HTX\n\n\
                 (This message was sent automatically.)\n"
            ),
            "{body}"
        );

        let line = |days_past_due| DigestLine {
            loan_number: "HTX-2026-000001".into(),
            cooperative_name: "HTX Chè Tân Cương".into(),
            due_date: date,
            amount_vnd: 10_828_493,
            days_past_due,
        };
        let digest = OfficerDigest {
            business_date: date,
            due_within_days: 7,
            due_soon: vec![line(0)],
            overdue: vec![line(3)],
        };
        let officer = Addressee {
            name: "Trần Thị Bình".into(),
            officer: None,
        };
        let vi = digest.render(Lang::Vi, &ctx(), &officer).body_text;
        assert!(vi.contains(
            "  - HTX-2026-000001 · HTX Chè Tân Cương · đến hạn 10/03/2026 · 10.828.493 đồng\n"
        ));
        assert!(vi.contains(
            "  - HTX-2026-000001 · HTX Chè Tân Cương · đến hạn 10/03/2026 · 10.828.493 đồng · quá hạn 3 ngày\n"
        ));
        let en = digest.render(Lang::En, &ctx(), &officer).body_text;
        assert!(en.contains(
            "  - HTX-2026-000001 · HTX Chè Tân Cương · due 10 March 2026 · 10,828,493 VND · 3 days past due\n"
        ));
        // A letter to the fund's own officer names no one to contact: it ends with the signature.
        assert!(!en.contains("For any question"), "{en}");
        assert!(
            en.ends_with("Yours faithfully,\nQuỹ HTX\n\n(This message was sent automatically.)\n"),
            "{en}"
        );
    }
}
