//! Criterion benches of the pure engine (issue 3): schedules of 12, 60 and 360 installments, and a 10-year loan
//! of 120 monthly installments with 40 payments folded to a date. Results: benches/README.md.

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    build_schedule, fold, DayCount, LoanContract, LoanEvent, Method, RepaymentKind, ScheduleTerms,
    Vnd,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rust_decimal_macros::dec;
use std::hint::black_box;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid bench date")
}

fn terms(installments: u32, method: Method) -> ScheduleTerms {
    let mut terms = ScheduleTerms::new(
        Vnd::from_i64(5_000_000_000),
        dec!(7.2),
        date(2026, 1, 31),
        installments,
        1,
        method,
    );
    terms.day_count = DayCount::Actual365;
    terms
}

fn schedules(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule");
    for installments in [12u32, 60, 360] {
        for method in [Method::Annuity, Method::EqualPrincipal] {
            let terms = terms(installments, method);
            let id = BenchmarkId::new(method.as_str(), installments);
            group.bench_with_input(id, &terms, |b, terms| {
                b.iter(|| build_schedule(black_box(terms)))
            });
        }
    }
    group.finish();
}

/// 120 monthly installments; 40 payments: most on time, some late, one prepayment.
fn ten_year_loan() -> (LoanContract, Vec<LoanEvent>, NaiveDate) {
    let contract = LoanContract::new(terms(120, Method::Annuity));
    let schedule = build_schedule(&contract.terms).expect("valid terms");
    let mut events = vec![LoanEvent::disbursement(
        "d",
        date(2026, 1, 31),
        0,
        contract.terms.principal,
    )];
    for (k, line) in schedule.installments.iter().take(40).enumerate() {
        let late_days = if k % 7 == 3 { 12 } else { 0 };
        let kind = if k == 20 {
            RepaymentKind::Prepayment
        } else {
            RepaymentKind::Ordinary
        };
        let extra = if k == 20 {
            Vnd::from_i64(100_000_000)
        } else {
            Vnd::ZERO
        };
        let amount = line.total + extra + Vnd::from_i64(if late_days > 0 { 2_000_000 } else { 0 });
        let value_date = line.due_on + Duration::days(late_days);
        events.push(LoanEvent::repayment(
            format!("r{k}"),
            value_date,
            1 + k as u64,
            amount,
            kind,
        ));
    }
    let through = schedule.installments[45].due_on;
    fold(&contract, &events, through).expect("the bench loan folds");
    (contract, events, through)
}

fn folds(c: &mut Criterion) {
    let (contract, events, through) = ten_year_loan();
    c.bench_function("fold/120_installments_40_payments", |b| {
        b.iter(|| fold(black_box(&contract), black_box(&events), black_box(through)))
    });
}

criterion_group!(benches, schedules, folds);
criterion_main!(benches);
