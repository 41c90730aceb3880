//! Snapshots of the fold (issue 14): a snapshot plus the events after it gives the very same [`LoanState`] as the
//! full refold, over random histories with tranches, ordinary payments and prepayments, restructurings,
//! write-offs and recoveries, events recorded late (back-dated) and reversals, the snapshot stored and read back
//! through its JSON form; a snapshot is refused as stale exactly when a back-dated event or a reversal of what it
//! holds came after it; and a close of business that advances yesterday's snapshot by one day, day after day,
//! keeps giving the full refold's state; and the posting path (each event recorded in turn, folded from the
//! latest snapshot kept on or before the business date, the snapshots it makes stale deleted as posting deletes
//! them, a new one kept every few events) gives the full refold's state after every event.
//!
//! A snapshot keeps the position, not the allocations made before it (format 2): "the same state" is the same
//! [`position_of`], and the allocations a state advanced from a snapshot carries are exactly the full refold's
//! made after it (its tail, as many as the full refold made after the snapshot's date and sequence).
//!
//! `PROPTEST_CASES` sets the number of histories (64 by default, as CI runs it; the run is 10,000).

mod common;

use chrono::{Duration, NaiveDate};
use coopfund_domain::snapshot::{
    advance, advance_folder, allocations_after, fold_folder, fold_from, position_of, AdvanceError,
    FoldSnapshot,
};
use coopfund_domain::{
    fold, Allocation, DayCount, EventKind, HolidayCalendar, LoanContract, LoanEvent, LoanState,
    Method, RepaymentKind, Restructure, ScheduleTerms, Vnd,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).expect("date")
}

fn vnd(amount: i64) -> Vnd {
    Vnd::from_i64(amount)
}

fn fraction(amount: Vnd, per_mille: u32) -> Vnd {
    vnd((amount.to_i64().unwrap_or(0) * i64::from(per_mille) / 1_000).max(1))
}

/// What may happen on a day of the history.
#[derive(Debug, Clone, Copy)]
enum Op {
    Repay { per_mille: u32, prepayment: bool },
    Tranche,
    Restructure { extension: bool, more: u32 },
    WriteOff,
    Recover { per_mille: u32 },
}

/// A random history: the contract, the operations by day, which of them are recorded late (days of delay), the
/// reversals (index of the event reversed, days after it is recorded) and where the snapshots are cut.
#[derive(Debug, Clone)]
struct History {
    contract: LoanContract,
    first_per_mille: u32,
    ops: Vec<(i64, Op, i64)>,
    reversals: Vec<(prop::sample::Index, i64)>,
    snapshot_day: i64,
    cut: prop::sample::Index,
    later_days: i64,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u32..=1_000, any::<bool>()).prop_map(|(per_mille, prepayment)| Op::Repay { per_mille, prepayment }),
        1 => Just(Op::Tranche),
        2 => (any::<bool>(), 1u32..12).prop_map(|(extension, more)| Op::Restructure { extension, more }),
        1 => Just(Op::WriteOff),
        1 => (1u32..=1_000).prop_map(|per_mille| Op::Recover { per_mille }),
    ]
}

fn history() -> impl Strategy<Value = History> {
    (
        (
            10_000_000i64..=10_000_000_000,
            0u32..=2_000,
            2u32..=36,
            prop::sample::select(vec![1u32, 3]),
            common::any_method(),
            common::any_day_count(),
            common::any_prepayment_rule(),
            0u32..3,
            any::<bool>(),
        ),
        prop::sample::select(vec![1_000u32, 1_000, 600, 300]),
        prop::collection::vec(
            (
                1i64..1_200,
                op(),
                prop::sample::select(vec![0i64, 0, 0, 0, 3, 40, 300]),
            ),
            0..10,
        ),
        prop::collection::vec((any::<prop::sample::Index>(), 0i64..60), 0..3),
        (0i64..1_300, any::<prop::sample::Index>(), 0i64..400),
    )
        .prop_map(
            |(
                (
                    principal,
                    rate_bp,
                    installments,
                    period,
                    method,
                    day_count,
                    rule,
                    grace,
                    weekends,
                ),
                first_per_mille,
                mut ops,
                reversals,
                (snapshot_day, cut, later_days),
            )| {
                let terms = ScheduleTerms {
                    principal: vnd(principal),
                    rate_percent: Decimal::new(i64::from(rate_bp), 2),
                    disbursed_on: start(),
                    installments,
                    period_months: period,
                    method,
                    principal_grace: grace.min(installments - 1),
                    first_due_on: None,
                    day_count,
                    installment_unit: vnd(1),
                };
                let mut contract = LoanContract::new(terms);
                contract.prepayment_rule = rule;
                if weekends {
                    contract.calendar = HolidayCalendar {
                        weekends_off: true,
                        ..HolidayCalendar::none()
                    };
                }
                ops.sort_by_key(|(day, _, _)| *day);
                History {
                    contract,
                    first_per_mille,
                    ops,
                    reversals,
                    snapshot_day,
                    cut,
                    later_days,
                }
            },
        )
}

/// A restructuring on `date` valid for `state` (monthly; an adjustment when it can keep the maturity).
fn restructure_for(state: &LoanState, date: NaiveDate, extension: bool, more: u32) -> Restructure {
    let method = if more.is_multiple_of(2) {
        Method::EqualPrincipal
    } else {
        Method::Annuity
    };
    common::restructuring_on(
        state,
        date,
        extension,
        |to_maturity| (to_maturity + more).min(120),
        method,
    )
}

/// The history's events, each valid when added (in date order), then given sequences in the order a clerk would
/// record them: most on their value date, some days late (back-dated), reversals a little after their target.
fn events_of(h: &History) -> Vec<LoanEvent> {
    let contract = &h.contract;
    let approved = contract.terms.principal;
    let first = fraction(approved, h.first_per_mille).min(approved);
    // (event, the day it is recorded)
    let mut dated: Vec<(LoanEvent, i64)> =
        vec![(LoanEvent::disbursement("e0", start(), 0, first), 0)];
    let last_day = |events: &[(LoanEvent, i64)]| {
        events
            .iter()
            .map(|(e, _)| e.value_date)
            .max()
            .unwrap_or(start())
    };
    for (index, &(day, op, delay)) in h.ops.iter().enumerate() {
        let date = start() + Duration::days(day);
        let events: Vec<LoanEvent> = dated.iter().map(|(e, _)| e.clone()).collect();
        let Ok(state) = fold(contract, &events, date) else {
            break;
        };
        let quote = state.payoff_quote(contract.terms.day_count);
        let id = format!("e{}", index + 1);
        let kind = match op {
            Op::Repay {
                per_mille,
                prepayment,
            } => {
                if quote.total.is_zero() {
                    continue;
                }
                EventKind::Repayment {
                    amount: fraction(quote.total, per_mille).min(quote.total),
                    kind: if prepayment {
                        RepaymentKind::Prepayment
                    } else {
                        RepaymentKind::Ordinary
                    },
                }
            }
            Op::Tranche => {
                let left = approved - state.disbursed;
                if !left.is_positive() {
                    continue;
                }
                EventKind::Disbursement { amount: left }
            }
            Op::Restructure { extension, more } => {
                EventKind::Restructure(restructure_for(&state, date, extension, more))
            }
            Op::WriteOff => EventKind::WriteOff,
            Op::Recover { per_mille } => {
                let remaining =
                    state.principal_under_follow_up() + state.interest_under_follow_up();
                if !remaining.is_positive() {
                    continue;
                }
                EventKind::Recovery {
                    amount: fraction(remaining, per_mille).min(remaining),
                }
            }
        };
        let event = LoanEvent {
            id,
            value_date: date,
            sequence: 0,
            kind,
        };
        let mut with: Vec<(LoanEvent, i64)> = dated.clone();
        with.push((event, day + delay));
        let all: Vec<LoanEvent> = with.iter().map(|(e, _)| e.clone()).collect();
        if fold(contract, &all, last_day(&with)).is_ok() {
            dated = with;
        }
    }
    for (number, (pick, after)) in h.reversals.iter().enumerate() {
        let (target, recorded) = {
            let (event, recorded) = &dated[pick.index(dated.len())];
            (event.clone(), *recorded)
        };
        if matches!(target.kind, EventKind::Reversal { .. }) {
            continue;
        }
        let reversal = LoanEvent {
            id: format!("v{number}"),
            value_date: target.value_date,
            sequence: 0,
            kind: EventKind::Reversal {
                reversed_id: target.id.clone(),
            },
        };
        let mut with = dated.clone();
        with.push((reversal, recorded + after));
        let all: Vec<LoanEvent> = with.iter().map(|(e, _)| e.clone()).collect();
        if fold(contract, &all, last_day(&with)).is_ok() {
            dated = with;
        }
    }
    // The store's sequence is the order of recording (ties: the order they were planned). Recorded late, an
    // event may land after one it was planned before on the same value date (a payment after a write-off): the
    // store would have refused it, so such a history is recorded in the planned order instead.
    let sequenced = |order: &[usize]| {
        let mut events = Vec::with_capacity(dated.len());
        for (sequence, &i) in order.iter().enumerate() {
            let mut event = dated[i].0.clone();
            event.sequence = sequence as u64 + 1;
            events.push(event);
        }
        events
    };
    let planned: Vec<usize> = (0..dated.len()).collect();
    let mut recorded = planned.clone();
    recorded.sort_by_key(|&i| (dated[i].1, i));
    let events = sequenced(&recorded);
    if fold(contract, &events, last_day(&dated)).is_ok() {
        events
    } else {
        sequenced(&planned)
    }
}

/// Through the stored form and back.
fn stored(snapshot: &FoldSnapshot) -> FoldSnapshot {
    let text = serde_json::to_string(snapshot).expect("a snapshot serialises");
    serde_json::from_str(&text).expect("a stored snapshot reads back")
}

fn pending_of(snapshot: &FoldSnapshot, events: &[LoanEvent]) -> Vec<LoanEvent> {
    events
        .iter()
        .filter(|e| snapshot.is_pending(e))
        .cloned()
        .collect()
}

/// True when an event recorded after the cut is dated before the snapshot, or reverses an event folded into it.
fn really_stale(snapshot: &FoldSnapshot, known: &[LoanEvent], events: &[LoanEvent]) -> bool {
    let folded = |id: &str| {
        known
            .iter()
            .any(|e| e.id == id && e.value_date <= snapshot.as_of)
    };
    events
        .iter()
        .filter(|e| e.sequence > snapshot.covered_sequence)
        .any(|e| match &e.kind {
            EventKind::Reversal { reversed_id } => folded(reversed_id),
            _ => e.value_date < snapshot.as_of,
        })
}

/// A state advanced from a snapshot, as compared with the full refold: its position and its allocations.
type Compared = Result<(LoanState, Vec<Allocation>), String>;

/// `advanced` (from a snapshot taken after `allocations_before` allocations) and `full` (the full refold) as
/// compared: each one's position ([`position_of`]) and the allocations made after the snapshot: the advanced
/// state's own, and the full refold's tail of the same length. Also checks that the advanced state carries
/// exactly the full refold's allocations less the snapshot's.
fn compared<E: ToString, F: ToString>(
    advanced: Result<LoanState, E>,
    full: &Result<LoanState, F>,
    allocations_before: usize,
) -> (Compared, Compared) {
    let full = full.as_ref().map_err(ToString::to_string);
    let advanced = advanced.map_err(|e| e.to_string());
    match (advanced, full) {
        (Ok(advanced), Ok(full)) => {
            let expected = full.allocations.len().saturating_sub(allocations_before);
            let tail = if advanced.allocations.len() == expected {
                allocations_after(&full.allocations, &advanced.allocations).to_vec()
            } else {
                // Not as many as the full refold made after the snapshot: shown as a difference.
                full.allocations.clone()
            };
            let own = advanced.allocations.clone();
            (
                Ok((position_of(advanced), own)),
                Ok((position_of(full.clone()), tail)),
            )
        }
        (advanced, full) => (
            advanced.map(|s| (position_of(s), Vec::new())),
            full.map(|s| (position_of(s.clone()), Vec::new())),
        ),
    }
}

/// How many allocations the full refold of `known` made by the start of `as_of` (those a snapshot of it leaves out).
fn allocations_by(contract: &LoanContract, known: &[LoanEvent], as_of: NaiveDate) -> usize {
    fold(contract, known, as_of).map_or(0, |s| s.allocations.len())
}

/// The posting path, as `loan_engine::fold_for_posting` and `invalidate_snapshots` run it over a store of
/// snapshots (by date): the events are recorded one at a time in their recording order on a business date that
/// never goes back (the latest value date so far); each recording first deletes the snapshots it makes stale,
/// then folds from the latest snapshot on or before the business date (or from the start), and keeps the
/// position reached every `every` events. Checks after each event that the fold equals the full refold of what
/// is recorded, that no kept snapshot is ever found stale, and that the allocation of the event just recorded
/// is the full refold's. Returns how many folds started from a snapshot.
fn post_one_by_one(
    contract: &LoanContract,
    events: &[LoanEvent],
    every: usize,
) -> Result<usize, TestCaseError> {
    let mut store: Vec<FoldSnapshot> = Vec::new();
    let mut business_date = start();
    let mut from_snapshot = 0;
    for recorded in 1..=events.len() {
        let known = &events[..recorded];
        let new = &known[recorded - 1];
        business_date = business_date.max(new.value_date);
        // `invalidate_snapshots`.
        match &new.kind {
            EventKind::Reversal { .. } => store.retain(|s| s.as_of < new.value_date),
            _ if new.value_date < business_date => store.retain(|s| s.as_of <= new.value_date),
            _ => {}
        }
        let full = fold(contract, known, business_date);
        let latest = store
            .iter()
            .filter(|s| s.as_of <= business_date)
            .max_by_key(|s| s.as_of)
            .cloned();
        let (folder, folded, before) = match &latest {
            Some(snapshot) => {
                let pending = pending_of(snapshot, known);
                match advance_folder(contract, snapshot, &pending, business_date) {
                    Err(AdvanceError::Stale(stale)) => {
                        return Err(TestCaseError::fail(format!(
                            "a snapshot kept by the posting path is stale after event {}: {stale}",
                            new.id
                        )));
                    }
                    Err(AdvanceError::Fold(error)) => (Err(error), pending.len(), 0),
                    Ok(folder) => {
                        from_snapshot += 1;
                        // The events the snapshot holds, as the store knew them.
                        let held: Vec<LoanEvent> = known
                            .iter()
                            .filter(|e| e.sequence <= snapshot.covered_sequence)
                            .cloned()
                            .collect();
                        let before = allocations_by(contract, &held, snapshot.as_of);
                        (Ok(folder), pending.len(), before)
                    }
                }
            }
            None => (fold_folder(contract, known, business_date), known.len(), 0),
        };
        let folder = match folder {
            Ok(folder) => folder,
            Err(error) => {
                // The store refuses the event: so does the full refold, and nothing more is recorded.
                prop_assert!(
                    full.is_err(),
                    "the fold refused {} but the full refold did not: {}",
                    new.id,
                    error
                );
                return Ok(from_snapshot);
            }
        };
        if folded >= every {
            let covered = known.iter().map(|e| e.sequence).max().unwrap_or(0);
            let kept = stored(&FoldSnapshot::of_folder(
                contract,
                &folder,
                business_date,
                covered,
            ));
            store.retain(|s| s.as_of != business_date);
            store.push(kept);
        }
        let state = folder.into_state();
        let just_recorded = |s: &LoanState| {
            s.allocations
                .iter()
                .find(|a| a.event_id.as_deref() == Some(new.id.as_str()))
                .cloned()
        };
        if let Ok(full) = &full {
            prop_assert_eq!(
                just_recorded(&state),
                just_recorded(full),
                "allocation of {}",
                new.id
            );
        }
        let (ours, theirs) = compared(Ok::<_, String>(state), &full, before);
        prop_assert_eq!(ours, theirs, "after event {}", new.id);
    }
    Ok(from_snapshot)
}

/// 64 cases by default (CI); `PROPTEST_CASES=10000` for the run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn a_snapshot_plus_the_events_after_it_equals_the_full_refold(h in history()) {
        let contract = &h.contract;
        let events = events_of(&h);
        let snapshot_on = start() + Duration::days(h.snapshot_day);
        let through = snapshot_on + Duration::days(h.later_days);
        let full = fold(contract, &events, through);

        // Everything known: never stale, and the same state.
        let everything = stored(&FoldSnapshot::take(contract, &events, snapshot_on).expect("valid history"));
        let advanced = advance(contract, &everything, &pending_of(&everything, &events), through);
        let before = allocations_by(contract, &events, snapshot_on);
        let (ours, theirs) = compared(advanced, &full, before);
        prop_assert_eq!(ours, theirs);

        // Cut at a random point of the recording order: what the store held then, folded to the snapshot date.
        let covered = (h.cut.index(events.len() + 1)) as u64;
        let known: Vec<LoanEvent> = events.iter().filter(|e| e.sequence <= covered).cloned().collect();
        // A prefix whose events do not all apply (an earlier-dated event recorded later) is never stored.
        if let Ok(snapshot) = FoldSnapshot::take(contract, &known, snapshot_on) {
            let snapshot = stored(&snapshot);
            prop_assert_eq!(snapshot.covered_sequence, known.iter().map(|e| e.sequence).max().unwrap_or(0));
            let pending = pending_of(&snapshot, &events);
            match advance(contract, &snapshot, &pending, through) {
                Err(AdvanceError::Stale(stale)) => {
                    prop_assert!(really_stale(&snapshot, &known, &events), "stale for no reason: {}", stale);
                }
                advanced => {
                    prop_assert!(!really_stale(&snapshot, &known, &events), "a stale snapshot was used");
                    let before = allocations_by(contract, &known, snapshot_on);
                    let (ours, theirs) = compared(advanced, &full, before);
                    prop_assert_eq!(ours, theirs);
                }
            }
            // With the fallback, always the full refold's answer.
            let (state, _) = match fold_from(contract, Some(&snapshot), &events, through) {
                Ok(found) => found,
                Err(error) => {
                    prop_assert_eq!(Err(error), full.clone().map(|_| ()));
                    return Ok(());
                }
            };
            prop_assert_eq!(Ok(position_of(state)), full.clone().map(position_of));
        }
    }

    #[test]
    fn closing_day_after_day_from_yesterdays_snapshot_equals_the_full_refold(h in history()) {
        let contract = &h.contract;
        let events = events_of(&h);
        let mut day = start() + Duration::days(h.snapshot_day);
        let Ok(first) = FoldSnapshot::take(contract, &events, day) else {
            return Ok(());
        };
        let mut snapshot = stored(&first);
        // A few consecutive closes, then a jump (downtime caught up).
        for step in 0..5 {
            day += Duration::days(if step < 4 { 1 } else { 1 + h.later_days });
            let pending = pending_of(&snapshot, &events);
            let folder = advance_folder(contract, &snapshot, &pending, day).expect("a fresh snapshot advances");
            let next = stored(&FoldSnapshot::of_folder(contract, &folder, day, snapshot.covered_sequence));
            let before = allocations_by(contract, &events, snapshot.as_of);
            let full = fold(contract, &events, day);
            let (ours, theirs) = compared(Ok::<_, String>(folder.into_state()), &full, before);
            prop_assert_eq!(ours, theirs);
            prop_assert_eq!(next.state(contract).expect("reads"), position_of(full.expect("folds")));
            snapshot = next;
        }
    }

    #[test]
    fn posting_each_event_from_the_latest_snapshot_equals_the_full_refold(h in history()) {
        let contract = &h.contract;
        let events = events_of(&h);
        // A snapshot after every event (each fold starts from the last one) and after every other.
        post_one_by_one(contract, &events, 1)?;
        post_one_by_one(contract, &events, 2)?;
    }
}

#[test]
fn a_snapshot_of_another_contract_or_format_is_stale() {
    let terms = ScheduleTerms {
        principal: vnd(120_000_000),
        rate_percent: Decimal::new(9, 0),
        disbursed_on: start(),
        installments: 12,
        period_months: 1,
        method: Method::Annuity,
        principal_grace: 0,
        first_due_on: None,
        day_count: DayCount::Actual365,
        installment_unit: vnd(1),
    };
    let contract = LoanContract::new(terms);
    let events = vec![LoanEvent::disbursement("1", start(), 1, vnd(120_000_000))];
    let on = start() + Duration::days(40);
    let snapshot = FoldSnapshot::take(&contract, &events, on).expect("folds");
    let mut holidays = contract.clone();
    holidays
        .calendar
        .holidays
        .insert(start() + Duration::days(31));
    assert!(matches!(
        advance(&holidays, &snapshot, &[], on),
        Err(AdvanceError::Stale(
            coopfund_domain::snapshot::Stale::ContractChanged
        ))
    ));
    let mut old = serde_json::to_value(&snapshot).expect("serialises");
    old["format_version"] = serde_json::json!(0);
    let old: FoldSnapshot = serde_json::from_value(old).expect("reads");
    assert!(matches!(
        advance(&contract, &old, &[], on),
        Err(AdvanceError::Stale(
            coopfund_domain::snapshot::Stale::Format { found: 0, .. }
        ))
    ));
    let back_dated = LoanEvent::repayment(
        "2",
        on - Duration::days(3),
        2,
        vnd(1_000),
        RepaymentKind::Ordinary,
    );
    assert!(matches!(
        advance(&contract, &snapshot, &[back_dated], on),
        Err(AdvanceError::Stale(
            coopfund_domain::snapshot::Stale::BackDated { .. }
        ))
    ));
    assert_eq!(
        advance(&contract, &snapshot, &[], on + Duration::days(30)),
        fold(&contract, &events, on + Duration::days(30)).map_err(AdvanceError::Fold)
    );
}

/// The fingerprint is hashed as the contract's description is written (issue 14, cobcpu); it must stay the digest
/// of that description as one string, or every stored snapshot would read as another contract's.
#[test]
fn the_contract_fingerprint_is_the_digest_of_its_description() {
    use sha2::{Digest, Sha256};
    let terms = ScheduleTerms {
        principal: vnd(850_000_000),
        rate_percent: Decimal::new(725, 2),
        disbursed_on: start(),
        installments: 9,
        period_months: 3,
        method: Method::Annuity,
        principal_grace: 1,
        first_due_on: Some(start() + Duration::days(80)),
        day_count: DayCount::Actual365,
        installment_unit: vnd(1_000),
    };
    let mut contract = LoanContract::new(terms);
    contract.calendar = HolidayCalendar::none();
    for day in [1, 30, 120, 240] {
        contract
            .calendar
            .holidays
            .insert(start() + Duration::days(day));
    }
    let expected: String = Sha256::digest(format!("{contract:?}").as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(
        coopfund_domain::snapshot::contract_fingerprint(&contract),
        expected
    );
    assert_eq!(expected.len(), 64);
}
