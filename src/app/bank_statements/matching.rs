//! Which loan a bank line pays: pure functions, no I/O, so they are tested alone and a 10,000-line
//! statement is matched in memory.
//!
//! Credits, in order:
//! 1. **The loan number in the transfer message** (the VietQR message of issue 10 is the loan number).
//!    Banks mangle it: case, spaces, dashes and diacritics dropped (`htx 2026 000123`, `HTX2026000123`),
//!    leading zeros of the serial dropped (`HTX-2026-123`), or the message cut at the bank's length
//!    (`…HTX2026000`). Both sides are folded to upper-case ASCII letters and digits; after each
//!    occurrence of a loan-number prefix (`HTX`) the longest following run of digits that is a loan
//!    number wins (confidence 95 when the run ends there, 85 when more digits follow it). A run cut at
//!    the end of the message that starts exactly one loan number matches it at 70. Two different loan
//!    numbers in one message, or a cut number that starts several, is ambiguous: never proposed.
//! 2. **The payer's account** registered to a cooperative ([`crate::app::bank_statements`]) **and the
//!    amount due** on exactly one of its active loans (owed now, the next installment, or both): 80.
//! 3. Otherwise unmatched, with the reason (e.g. the account is known but no amount due equals it).
//!
//! Debits are matched to disbursements of the same amount with the same value date (75), 95 when the
//! disbursement's reference is in the message too.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// Folds text to ASCII: Vietnamese letters lose their marks (`đ` → `d`, `Ợ` → `O`), other characters
/// are kept. Used for loan numbers, messages and column headers alike.
pub fn fold_ascii(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .collect()
}

/// Upper-case ASCII letters and digits only: what survives every bank's treatment of a message.
pub fn compact(text: &str) -> String {
    fold_ascii(text)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Why a line was matched (or not), as stored and shown.
pub mod reason {
    pub const LOAN_NUMBER: &str = "loan_number";
    pub const LOAN_NUMBER_PREFIX: &str = "loan_number_then_digits";
    pub const LOAN_NUMBER_TRUNCATED: &str = "loan_number_truncated";
    pub const ACCOUNT_AND_AMOUNT_DUE: &str = "account_and_amount_due";
    pub const DISBURSEMENT: &str = "disbursement_amount_date";
    pub const DISBURSEMENT_REFERENCE: &str = "disbursement_amount_date_reference";
    pub const AMBIGUOUS_LOAN_NUMBERS: &str = "several_loan_numbers";
    pub const AMBIGUOUS_AMOUNT_DUE: &str = "several_loans_due_this_amount";
    pub const AMBIGUOUS_DISBURSEMENTS: &str = "several_disbursements";
    pub const LOAN_NOT_ACTIVE: &str = "loan_not_active";
    pub const ACCOUNT_AMOUNT_DIFFERS: &str = "account_known_amount_not_due";
    pub const NOTHING: &str = "no_loan_number_or_known_account";
    pub const NO_DISBURSEMENT: &str = "no_disbursement_of_this_amount_and_date";
}

/// A loan as the matcher knows it.
#[derive(Debug, Clone)]
pub struct LoanRef {
    pub loan_id: i64,
    pub number: String,
    pub cooperative_id: i64,
    pub active: bool,
}

/// The outcome for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proposal {
    /// One loan (or disbursement transaction), with the reason and a confidence in percent.
    One {
        id: i64,
        reason: &'static str,
        confidence: i32,
    },
    /// Several candidates: shown, never proposed.
    Ambiguous {
        candidates: Vec<i64>,
        reason: &'static str,
    },
    /// Nothing, and why (candidates the accountant may want to look at).
    None {
        candidates: Vec<i64>,
        reason: &'static str,
    },
}

/// The loans of the fund, indexed by their folded numbers.
pub struct LoanIndex {
    loans: Vec<LoanRef>,
    /// Folded number → loan (also the form with the serial's leading zeros dropped).
    by_number: HashMap<String, usize>,
    /// Folded numbers, sorted, for the prefix search of a truncated number.
    sorted: Vec<(String, usize)>,
    /// The distinct letter prefixes of loan numbers (`HTX`).
    prefixes: Vec<String>,
}

/// The shortest run of digits a truncated number must keep to be matched (the year and 2 digits).
const TRUNCATED_MIN_DIGITS: usize = 6;

/// `HTX2026000123` → (`HTX`, `2026000123`); `None` unless letters then digits.
fn split_number(folded: &str) -> Option<(&str, &str)> {
    let digits_at = folded.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = folded.split_at(digits_at);
    (!letters.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then_some((letters, digits))
}

/// The form with the serial's leading zeros dropped: `HTX2026000123` → `HTX2026123` (the serial is
/// what follows a 4-digit year).
fn without_serial_zeros(folded: &str) -> Option<String> {
    let (letters, digits) = split_number(folded)?;
    if digits.len() <= 4 {
        return None;
    }
    let (year, serial) = digits.split_at(4);
    let trimmed = serial.trim_start_matches('0');
    (trimmed.len() != serial.len() && !trimmed.is_empty())
        .then(|| format!("{letters}{year}{trimmed}"))
}

impl LoanIndex {
    /// Indexes `loans`.
    pub fn new(loans: Vec<LoanRef>) -> Self {
        let mut by_number = HashMap::new();
        let mut sorted = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for (i, loan) in loans.iter().enumerate() {
            let folded = compact(&loan.number);
            if let Some((letters, _)) = split_number(&folded) {
                if !prefixes.iter().any(|p| p == letters) {
                    prefixes.push(letters.to_string());
                }
            }
            if let Some(short) = without_serial_zeros(&folded) {
                by_number.entry(short).or_insert(i);
            }
            // The full number always wins over another loan's zero-dropped form.
            by_number.insert(folded.clone(), i);
            sorted.push((folded, i));
        }
        sorted.sort();
        // Longer prefixes first, so `HTXA` is tried before `HTX`.
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        LoanIndex {
            loans,
            by_number,
            sorted,
            prefixes,
        }
    }

    /// The loan at index `i`.
    pub fn loan(&self, i: usize) -> &LoanRef {
        &self.loans[i]
    }

    /// The loans whose folded number starts with `prefix`.
    fn starting_with(&self, prefix: &str) -> Vec<usize> {
        let from = self.sorted.partition_point(|(n, _)| n.as_str() < prefix);
        self.sorted[from..]
            .iter()
            .take_while(|(n, _)| n.starts_with(prefix))
            .map(|(_, i)| *i)
            .collect()
    }

    /// The loan numbers in a transfer message: each hit as (loan index, reason, confidence).
    pub fn numbers_in(&self, message: &str) -> Vec<(usize, &'static str, i32)> {
        let text = compact(message);
        let mut hits: Vec<(usize, &'static str, i32)> = Vec::new();
        for prefix in &self.prefixes {
            let mut from = 0;
            while let Some(offset) = text[from..].find(prefix.as_str()) {
                let start = from + offset;
                let digits_start = start + prefix.len();
                let run: &str = {
                    let rest = &text[digits_start..];
                    let end = rest
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(rest.len());
                    &rest[..end]
                };
                from = digits_start.max(start + 1);
                if run.is_empty() {
                    continue;
                }
                let at_end = digits_start + run.len() == text.len();
                // The longest leading part of the run that is a loan number.
                let found = (1..=run.len()).rev().find_map(|k| {
                    self.by_number
                        .get(&format!("{prefix}{}", &run[..k]))
                        .map(|i| (*i, k))
                });
                match found {
                    Some((i, k)) if k == run.len() => hits.push((i, reason::LOAN_NUMBER, 95)),
                    Some((i, _)) if !at_end => hits.push((i, reason::LOAN_NUMBER_PREFIX, 85)),
                    _ if at_end && run.len() >= TRUNCATED_MIN_DIGITS => {
                        // Cut by the bank: the run starts the number.
                        let starts = self.starting_with(&format!("{prefix}{run}"));
                        match (found, starts.as_slice()) {
                            (_, [only]) => hits.push((*only, reason::LOAN_NUMBER_TRUNCATED, 70)),
                            (Some((i, _)), []) => hits.push((i, reason::LOAN_NUMBER_PREFIX, 85)),
                            (_, many) if many.len() > 1 => hits.extend(
                                many.iter().map(|i| (*i, reason::LOAN_NUMBER_TRUNCATED, 0)),
                            ),
                            _ => {}
                        }
                    }
                    Some((i, _)) => hits.push((i, reason::LOAN_NUMBER_PREFIX, 85)),
                    None => {}
                }
            }
        }
        hits.sort_by_key(|h| (h.0, std::cmp::Reverse(h.2)));
        hits.dedup_by_key(|h| h.0);
        hits
    }

    /// The proposal by loan number for a credit with `message`; `None` when no number is found.
    pub fn by_number(&self, message: &str) -> Option<Proposal> {
        let hits = self.numbers_in(message);
        match hits.as_slice() {
            [] => None,
            [(i, reason, confidence)] if *confidence > 0 => {
                let loan = &self.loans[*i];
                Some(if loan.active {
                    Proposal::One {
                        id: loan.loan_id,
                        reason,
                        confidence: *confidence,
                    }
                } else {
                    Proposal::None {
                        candidates: vec![loan.loan_id],
                        reason: reason::LOAN_NOT_ACTIVE,
                    }
                })
            }
            many => Some(Proposal::Ambiguous {
                candidates: many
                    .iter()
                    .map(|(i, _, _)| self.loans[*i].loan_id)
                    .collect(),
                reason: reason::AMBIGUOUS_LOAN_NUMBERS,
            }),
        }
    }
}

/// An account number as stored and compared: its digits (banks write `0123 456 789`, `0123-456789`).
pub fn account_key(account: &str) -> String {
    compact(account)
}

/// What one active loan of the payer's cooperative is due: owed now (as of the business date), the
/// next installment's rest, and each unpaid installment's scheduled total and rest (a transfer made on
/// its due date pays the scheduled amount, whatever the loan owes by the time the statement arrives).
#[derive(Debug, Clone, Default)]
pub struct Due {
    pub loan_id: i64,
    pub owed_now_vnd: i64,
    pub next_due_vnd: i64,
    pub installments_vnd: Vec<i64>,
}

impl Due {
    fn matches(&self, amount_vnd: i64) -> bool {
        let amounts = [
            self.owed_now_vnd,
            self.next_due_vnd,
            self.owed_now_vnd + self.next_due_vnd,
        ];
        amounts
            .iter()
            .chain(self.installments_vnd.iter())
            .any(|a| *a > 0 && *a == amount_vnd)
    }
}

/// A credit from a registered account of a cooperative whose active loans are `dues`.
pub fn by_amount_due(amount_vnd: i64, dues: &[Due]) -> Proposal {
    let matching: Vec<i64> = dues
        .iter()
        .filter(|d| d.matches(amount_vnd))
        .map(|d| d.loan_id)
        .collect();
    match matching.as_slice() {
        [only] => Proposal::One {
            id: *only,
            reason: reason::ACCOUNT_AND_AMOUNT_DUE,
            confidence: 80,
        },
        [] => Proposal::None {
            candidates: dues.iter().map(|d| d.loan_id).collect(),
            reason: reason::ACCOUNT_AMOUNT_DIFFERS,
        },
        many => Proposal::Ambiguous {
            candidates: many.to_vec(),
            reason: reason::AMBIGUOUS_AMOUNT_DUE,
        },
    }
}

/// A disbursement a debit may be.
#[derive(Debug, Clone)]
pub struct Disbursement {
    pub transaction_id: i64,
    pub amount_vnd: i64,
    pub value_date: chrono::NaiveDate,
    pub reference: String,
}

/// A debit of `amount_vnd` on `value_date` with `message`, against the fund's disbursements.
pub fn debit_proposal(
    amount_vnd: i64,
    value_date: chrono::NaiveDate,
    booking_date: chrono::NaiveDate,
    message: &str,
    disbursements: &[Disbursement],
) -> Proposal {
    let same: Vec<&Disbursement> = disbursements
        .iter()
        .filter(|d| {
            d.amount_vnd == amount_vnd
                && (d.value_date == value_date || d.value_date == booking_date)
        })
        .collect();
    let text = compact(message);
    let with_reference: Vec<&&Disbursement> = same
        .iter()
        .filter(|d| {
            let r = compact(&d.reference);
            !r.is_empty() && text.contains(&r)
        })
        .collect();
    match (same.as_slice(), with_reference.as_slice()) {
        (_, [only]) => Proposal::One {
            id: only.transaction_id,
            reason: reason::DISBURSEMENT_REFERENCE,
            confidence: 95,
        },
        ([only], []) => Proposal::One {
            id: only.transaction_id,
            reason: reason::DISBURSEMENT,
            confidence: 75,
        },
        ([], _) => Proposal::None {
            candidates: Vec::new(),
            reason: reason::NO_DISBURSEMENT,
        },
        (many, _) => Proposal::Ambiguous {
            candidates: many.iter().map(|d| d.transaction_id).collect(),
            reason: reason::AMBIGUOUS_DISBURSEMENTS,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> LoanIndex {
        LoanIndex::new(vec![
            LoanRef {
                loan_id: 1,
                number: "HTX-2026-000123".into(),
                cooperative_id: 10,
                active: true,
            },
            LoanRef {
                loan_id: 2,
                number: "HTX-2026-000124".into(),
                cooperative_id: 11,
                active: true,
            },
            LoanRef {
                loan_id: 3,
                number: "HTX-2025-000999".into(),
                cooperative_id: 12,
                active: false,
            },
            LoanRef {
                loan_id: 4,
                number: "HTX-2026-001245".into(),
                cooperative_id: 13,
                active: true,
            },
        ])
    }

    fn one(p: Option<Proposal>) -> (i64, &'static str) {
        match p {
            Some(Proposal::One { id, reason, .. }) => (id, reason),
            other => panic!("expected one loan, got {other:?}"),
        }
    }

    #[test]
    fn diacritics_and_case_fold_away() {
        assert_eq!(fold_ascii("Hợp tác xã Đồng Hỷ"), "Hop tac xa Dong Hy");
        assert_eq!(compact("htx-2026 000123"), "HTX2026000123");
    }

    #[test]
    fn a_loan_number_is_found_however_the_bank_wrote_it() {
        let index = index();
        for message in [
            "HTX-2026-000123 tra no ky 3",
            "htx 2026 000123",
            "HTX2026000123",
            "CK tiền trả nợ HTX.2026.000123 của HTX Chè",
            "Trả nợ hđ htx–2026–000123",
            "TRA NO HTX-2026-123",
        ] {
            assert_eq!(
                one(index.by_number(message)),
                (1, reason::LOAN_NUMBER),
                "{message}"
            );
        }
    }

    #[test]
    fn a_number_cut_at_the_end_matches_only_when_one_loan_starts_with_it() {
        let index = index();
        assert_eq!(
            one(index.by_number("NOP TIEN TRA NO HTX 2026 00124")),
            (4, reason::LOAN_NUMBER_TRUNCATED)
        );
        // `HTX202600012` starts both 000123 and 000124: ambiguous, not proposed.
        assert!(matches!(
            index.by_number("TRA NO HTX202600012"),
            Some(Proposal::Ambiguous { .. })
        ));
    }

    #[test]
    fn two_numbers_are_ambiguous_and_a_closed_loan_is_not_proposed() {
        let index = index();
        assert!(matches!(
            index.by_number("HTX-2026-000123 va HTX-2026-000124"),
            Some(Proposal::Ambiguous { .. })
        ));
        assert!(matches!(
            index.by_number("HTX-2025-000999"),
            Some(Proposal::None {
                reason: reason::LOAN_NOT_ACTIVE,
                ..
            })
        ));
        assert_eq!(index.by_number("tien hang thang 3"), None);
    }

    #[test]
    fn a_phone_number_after_the_loan_number_still_matches() {
        let index = index();
        assert_eq!(
            one(index.by_number("HTX2026000123 0912345678")),
            (1, reason::LOAN_NUMBER_PREFIX)
        );
    }

    #[test]
    fn by_account_the_amount_due_decides() {
        let dues = [
            Due {
                loan_id: 1,
                owed_now_vnd: 0,
                next_due_vnd: 10_662_795,
                installments_vnd: vec![],
            },
            Due {
                loan_id: 2,
                owed_now_vnd: 5_000_000,
                next_due_vnd: 3_000_000,
                installments_vnd: vec![7_777],
            },
        ];
        assert_eq!(
            by_amount_due(10_662_795, &dues),
            Proposal::One {
                id: 1,
                reason: reason::ACCOUNT_AND_AMOUNT_DUE,
                confidence: 80
            }
        );
        assert!(matches!(
            by_amount_due(8_000_000, &dues),
            Proposal::One { id: 2, .. }
        ));
        assert!(matches!(
            by_amount_due(7_777, &dues),
            Proposal::One { id: 2, .. }
        ));
        assert!(matches!(by_amount_due(1, &dues), Proposal::None { .. }));
        let twice = [
            dues[0].clone(),
            Due {
                loan_id: 3,
                ..dues[0].clone()
            },
        ];
        assert!(matches!(
            by_amount_due(10_662_795, &twice),
            Proposal::Ambiguous { .. }
        ));
    }

    #[test]
    fn a_debit_matches_the_disbursement_of_its_amount_and_date() {
        let d = |id, amount_vnd, day, reference: &str| Disbursement {
            transaction_id: id,
            amount_vnd,
            value_date: chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
            reference: reference.into(),
        };
        let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let all = [
            d(7, 100, 2, "UNC 1"),
            d(8, 100, 2, "UNC 2"),
            d(9, 300, 2, "UNC 3"),
        ];
        assert!(matches!(
            debit_proposal(300, date, date, "x", &all),
            Proposal::One {
                id: 9,
                confidence: 75,
                ..
            }
        ));
        assert!(matches!(
            debit_proposal(100, date, date, "x", &all),
            Proposal::Ambiguous { .. }
        ));
        assert!(matches!(
            debit_proposal(100, date, date, "giai ngan UNC2", &all),
            Proposal::One {
                id: 8,
                confidence: 95,
                ..
            }
        ));
        assert!(matches!(
            debit_proposal(5, date, date, "x", &all),
            Proposal::None { .. }
        ));
    }
}
