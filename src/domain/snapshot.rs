//! Snapshots of the fold: a loan's folded position kept, so that a read, a post or a close of business folds only
//! what happened after it instead of replaying the loan from its first disbursement (issue 14).
//!
//! A [`FoldSnapshot`] is the [`LoanFolder`]'s own position at the **start** of a date `as_of` (as [`crate::fold`]
//! leaves it: the installment due that day billed, the events of that day applied), together with
//! - `covered_sequence`: the highest event sequence the store held when it was taken. Every effective event with
//!   a value date ≤ `as_of` and a sequence ≤ `covered_sequence` is folded into it; nothing else is;
//! - `contract_fingerprint`: a digest of the [`LoanContract`] it was folded under (terms, product rules and the
//!   calendar in force). A holiday added later changes the fold, so it makes the snapshot unusable;
//! - `format_version` ([`SNAPSHOT_FORMAT_VERSION`]): the stored form is the folder's fields through serde (the
//!   shell writes JSON; decimals as exact text), so any change to [`LoanState`] bumps it, and a snapshot of
//!   another version is simply not used.
//!
//! ## The position, not the history
//! A snapshot keeps what the fold needs to go on (balances, schedule, accruals, counters, the few restructuring
//! reductions and recoveries), **not** [`LoanState::allocations`]: the split of every repayment so far grows
//! with the loan's history (≈ 350 bytes a payment), and decoding it made a read of a 2,000-transaction loan
//! three times slower than one of 200 (format 1 kept them; format 2 does not). Nothing in the fold reads past
//! allocations. So the state [`advance`] gives (and [`fold_from`] when it used the snapshot) carries only the
//! allocations of what it folded **after** the snapshot (the events folded and the advance applied on the due
//! dates passed since); everything else equals the full refold ([`position_of`] states what is compared). A
//! view that lists every allocation (the transactions, the statement) folds from the start; a money command
//! only reads the allocation of the event it just recorded, which is always folded after the snapshot.
//!
//! ## What is still to fold ([`FoldSnapshot::is_pending`])
//! The events with a sequence above `covered_sequence` (recorded since), those dated after `as_of` (known, not yet
//! reached), and every reversal (cheap, rare, and needed to drop a known future event a reversal cancels).
//! [`advance`] folds them on top of the snapshot. That equals the full refold (the property test
//! `src/domain/tests/snapshot_properties.rs` checks it over random histories) because events are folded in
//! (value date, sequence) order and a new event has a higher sequence than every event it follows on its date.
//! It does not hold, and [`advance`] refuses with a [`Stale`] reason (the caller then replays from an earlier
//! snapshot or from the start), when
//! - a new event is dated **before** `as_of` (back-dated), or on `as_of` with a sequence already covered;
//! - a new reversal cancels an event already folded into the snapshot;
//! - the contract changed, the format is another version, or the target date is before `as_of`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::loan::{EventKind, FoldError, LoanContract, LoanEvent, LoanFolder, LoanState};

/// The version of the stored form of a snapshot; bump it whenever [`LoanState`]'s fields change. 2: the
/// allocations are left out (module docs).
pub const SNAPSHOT_FORMAT_VERSION: u32 = 2;

/// A loan's folded position at the start of `as_of` (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldSnapshot {
    /// [`SNAPSHOT_FORMAT_VERSION`] when it was written.
    pub format_version: u32,
    /// The date it stands at (start of day, the day's events applied).
    pub as_of: NaiveDate,
    /// The highest event sequence known when it was taken.
    pub covered_sequence: u64,
    /// [`contract_fingerprint`] of the contract it was folded under.
    pub contract_fingerprint: String,
    /// Whether the first disbursement was folded.
    started: bool,
    /// The folder's own state (before statuses and projections).
    state: LoanState,
}

/// Why a snapshot cannot be advanced to give the full refold's answer (module docs). Not an error of the loan:
/// the caller replays from further back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    /// Written by another version of the format.
    #[error("snapshot format {found}, this build reads {expected}")]
    Format {
        /// The stored version.
        found: u32,
        /// [`SNAPSHOT_FORMAT_VERSION`].
        expected: u32,
    },
    /// The contract (terms, product rules or calendar in force) is not the one it was folded under.
    #[error("the contract changed since the snapshot was taken")]
    ContractChanged,
    /// The target date is before the snapshot.
    #[error("the snapshot stands at {as_of}, after the date asked for, {through}")]
    AfterTarget {
        /// The snapshot's date.
        as_of: NaiveDate,
        /// The date asked for.
        through: NaiveDate,
    },
    /// An event recorded after the snapshot, dated before (or on, once covered) its date.
    #[error("event {event_id} dated {value_date} goes before the snapshot of {as_of}")]
    BackDated {
        /// The event.
        event_id: String,
        /// Its value date.
        value_date: NaiveDate,
        /// The snapshot's date.
        as_of: NaiveDate,
    },
    /// A reversal recorded after the snapshot of an event folded into it.
    #[error("event {event_id} reverses event {reversed_id}, folded into the snapshot")]
    ReversesFolded {
        /// The reversal.
        event_id: String,
        /// The event it cancels.
        reversed_id: String,
    },
}

/// Why [`advance`] gave no state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdvanceError {
    /// The snapshot cannot be used: replay from further back.
    #[error(transparent)]
    Stale(#[from] Stale),
    /// The engine refused an event (as the full refold would).
    #[error(transparent)]
    Fold(#[from] FoldError),
}

/// A digest of everything in a contract that the fold depends on (hex SHA-256 of its full description; the
/// calendar's sets are ordered, so the description is deterministic).
///
/// The description is written straight into the hash (no string of it is built): every close of business computes
/// this for every open loan it advances from a snapshot (issue 14, cobcpu: building the kilobyte of text, grown
/// by reallocation, and the 64 `format!`s of the hex were a few percent of the close's CPU). The digest is the one
/// of `format!("{contract:?}")` (a test checks it).
pub fn contract_fingerprint(contract: &LoanContract) -> String {
    use std::fmt::Write as _;
    /// Feeds formatted text to the hash as it is written.
    struct HashWriter(Sha256);
    impl std::fmt::Write for HashWriter {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            self.0.update(text.as_bytes());
            Ok(())
        }
    }
    let mut writer = HashWriter(Sha256::new());
    // Writing into a hash cannot fail, and `Debug` of the contract's fields never fails either.
    let _ = write!(writer, "{contract:?}");
    let digest = writer.0.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

/// What a snapshot reproduces of a state: everything but [`LoanState::allocations`] (module docs). Compare
/// `position_of(advanced)` with `position_of(full refold)` (the allocations made after the snapshot are a tail
/// of the full refold's list, [`allocations_after`]).
pub fn position_of(mut state: LoanState) -> LoanState {
    state.allocations = Vec::new();
    state
}

/// The tail of `full` (a full refold's allocations) that a state advanced from a snapshot carries: the last
/// `advanced.len()` of them. For tests and checks: `allocations_after(full, advanced) == advanced`.
pub fn allocations_after<'a>(
    full: &'a [crate::Allocation],
    advanced: &[crate::Allocation],
) -> &'a [crate::Allocation] {
    &full[full.len().saturating_sub(advanced.len())..]
}

/// The highest sequence among `events` (0 for none): what a snapshot taken after them covers.
pub fn covered_sequence_of(events: &[LoanEvent]) -> u64 {
    events.iter().map(|e| e.sequence).max().unwrap_or(0)
}

/// The folder after every effective event of `events` (reversals applied) dated on or before `through`, moved to
/// the start of `through`: the full refold [`crate::fold`] does, kept as a folder so that the caller can both
/// take a snapshot of it ([`FoldSnapshot::of_folder`]) and read its state ([`LoanFolder::into_state`]) without
/// folding twice.
pub fn fold_folder<'c>(
    contract: &'c LoanContract,
    events: &[LoanEvent],
    through: NaiveDate,
) -> Result<LoanFolder<'c>, FoldError> {
    let mut folder = LoanFolder::new(contract)?;
    for event in crate::loan::effective_events(events)?
        .into_iter()
        .filter(|e| e.value_date <= through)
    {
        folder.apply(event)?;
    }
    folder.advance_to(through);
    Ok(folder)
}

impl FoldSnapshot {
    /// The snapshot of a folder moved to the start of `as_of` ([`LoanFolder::advance_to`]), covering the events up
    /// to `covered_sequence`. The folder must have been given exactly the effective events with a value date ≤
    /// `as_of` and a sequence ≤ `covered_sequence` ([`FoldSnapshot::take`] and [`advance_folder`] do).
    ///
    /// `as_of` is the date asked for, not the folder's own date: a written-off loan's folder stops moving at its
    /// frozen schedule's next due date, and what the snapshot holds is decided by the date the events were
    /// selected with.
    pub fn of_folder(
        contract: &LoanContract,
        folder: &LoanFolder<'_>,
        as_of: NaiveDate,
        covered_sequence: u64,
    ) -> FoldSnapshot {
        let (state, started) = folder.position();
        FoldSnapshot {
            format_version: SNAPSHOT_FORMAT_VERSION,
            as_of,
            covered_sequence,
            contract_fingerprint: contract_fingerprint(contract),
            started,
            state: position_of(state.clone()),
        }
    }

    /// Folds `events` (all the loan's events, reversals included) to the start of `as_of` and keeps the position.
    pub fn take(
        contract: &LoanContract,
        events: &[LoanEvent],
        as_of: NaiveDate,
    ) -> Result<FoldSnapshot, FoldError> {
        let folder = fold_folder(contract, events, as_of)?;
        Ok(FoldSnapshot::of_folder(
            contract,
            &folder,
            as_of,
            covered_sequence_of(events),
        ))
    }

    /// The loan as of the start of `as_of`, as [`crate::fold`] gives it (statuses, DPD and projections computed),
    /// without the allocations made before it ([`position_of`]).
    pub fn state(&self, contract: &LoanContract) -> Result<LoanState, FoldError> {
        Ok(LoanFolder::resume(contract, self.state.clone(), self.started)?.into_state())
    }

    /// Whether `event` is still to be folded on top of this snapshot (module docs).
    pub fn is_pending(&self, event: &LoanEvent) -> bool {
        event.sequence > self.covered_sequence
            || event.value_date > self.as_of
            || matches!(event.kind, EventKind::Reversal { .. })
    }

    /// Checks that `pending` (the events [`FoldSnapshot::is_pending`] selects) can be folded on top of this
    /// snapshot to reach `through` under `contract`, giving the full refold's answer.
    pub fn check(
        &self,
        contract: &LoanContract,
        pending: &[LoanEvent],
        through: NaiveDate,
    ) -> Result<(), Stale> {
        if self.format_version != SNAPSHOT_FORMAT_VERSION {
            return Err(Stale::Format {
                found: self.format_version,
                expected: SNAPSHOT_FORMAT_VERSION,
            });
        }
        if self.contract_fingerprint != contract_fingerprint(contract) {
            return Err(Stale::ContractChanged);
        }
        if through < self.as_of {
            return Err(Stale::AfterTarget {
                as_of: self.as_of,
                through,
            });
        }
        for event in pending {
            match &event.kind {
                EventKind::Reversal { reversed_id } => {
                    let target_pending = pending.iter().any(|e| {
                        &e.id == reversed_id && !matches!(e.kind, EventKind::Reversal { .. })
                    });
                    // A reversal known when the snapshot was taken was already accounted for then.
                    if !target_pending && event.sequence > self.covered_sequence {
                        return Err(Stale::ReversesFolded {
                            event_id: event.id.clone(),
                            reversed_id: reversed_id.clone(),
                        });
                    }
                }
                _ => {
                    let covered_on_the_day =
                        event.value_date == self.as_of && event.sequence <= self.covered_sequence;
                    if event.value_date < self.as_of || covered_on_the_day {
                        return Err(Stale::BackDated {
                            event_id: event.id.clone(),
                            value_date: event.value_date,
                            as_of: self.as_of,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Folds `pending` (the events still to fold, [`FoldSnapshot::is_pending`]) on top of `snapshot` up to the start of
/// `through`, and returns the folder there (for a new snapshot or [`LoanFolder::close_day`]). Its allocations are
/// those made after the snapshot only (module docs).
///
/// `pending` may leave out a reversal recorded before the snapshot (sequence ≤ `covered_sequence`) whose target is
/// not pending: it was accounted for when the snapshot was taken, and here it changes nothing.
pub fn advance_folder<'c>(
    contract: &'c LoanContract,
    snapshot: &FoldSnapshot,
    pending: &[LoanEvent],
    through: NaiveDate,
) -> Result<LoanFolder<'c>, AdvanceError> {
    snapshot.check(contract, pending, through)?;
    // The reversals among the pending events cancel pending events only (`check` refused the others); the
    // reversals known to the snapshot whose target is not pending were already applied then.
    let reversed: Vec<&str> = pending
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Reversal { reversed_id } => Some(reversed_id.as_str()),
            _ => None,
        })
        .collect();
    let mut kept: Vec<&LoanEvent> = pending
        .iter()
        .filter(|e| {
            !matches!(e.kind, EventKind::Reversal { .. })
                && !reversed.contains(&e.id.as_str())
                && e.value_date <= through
        })
        .collect();
    kept.sort_by_key(|e| (e.value_date, e.sequence));
    let mut folder = LoanFolder::resume(contract, snapshot.state.clone(), snapshot.started)?;
    for event in kept {
        folder.apply(event)?;
    }
    folder.advance_to(through);
    Ok(folder)
}

/// The loan as of the start of `through` from a snapshot and the events after it: the same [`LoanState`] as
/// [`crate::fold`] over all the events but for the allocations made before the snapshot ([`position_of`]), or
/// [`AdvanceError::Stale`] when the snapshot cannot give it.
pub fn advance(
    contract: &LoanContract,
    snapshot: &FoldSnapshot,
    pending: &[LoanEvent],
    through: NaiveDate,
) -> Result<LoanState, AdvanceError> {
    Ok(advance_folder(contract, snapshot, pending, through)?.into_state())
}

/// [`advance`] when it can, the full refold of `events` (all of the loan's) when there is no snapshot or it is
/// stale: always the full refold's answer (its [`position_of`]; the allocations are all of them only when the
/// snapshot was not used). Returns why the snapshot was not used, if it was not.
pub fn fold_from(
    contract: &LoanContract,
    snapshot: Option<&FoldSnapshot>,
    events: &[LoanEvent],
    through: NaiveDate,
) -> Result<(LoanState, Option<Stale>), FoldError> {
    let stale = match snapshot {
        Some(snapshot) => {
            let pending: Vec<LoanEvent> = events
                .iter()
                .filter(|e| snapshot.is_pending(e))
                .cloned()
                .collect();
            match advance(contract, snapshot, &pending, through) {
                Ok(state) => return Ok((state, None)),
                Err(AdvanceError::Fold(error)) => return Err(error),
                Err(AdvanceError::Stale(stale)) => Some(stale),
            }
        }
        None => None,
    };
    Ok((crate::loan::fold(contract, events, through)?, stale))
}
