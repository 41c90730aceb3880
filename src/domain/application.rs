//! A loan application's life cycle (DOMAIN.md §6, §7), pure: the states, who may move an application from one
//! to the next, four-eyes, and the approval decision with its lending rules. The service loads the numbers,
//! asks here, and stores what is decided.
//!
//! ```text
//! draft ──submit──▶ submitted ──appraise──▶ appraised ──approve──▶ approved (+ loan)
//!                   (in_appraisal)            │  └─approve (above the council threshold)──▶ awaiting_council ──approve──▶ approved
//!                                             └──reject──▶ rejected        (awaiting_council ──reject──▶ rejected)
//! any open state ──withdraw──▶ withdrawn
//! ```
//!
//! Choices where DOMAIN.md is silent:
//! - `in_appraisal` is a state an application may be in (DOMAIN.md §7) and may be appraised from, but no action
//!   leads to it: appraisal is one step.
//! - `awaiting_council` is an extra state: above the council threshold the first approval waits for the
//!   management council's, which must come from a third person (neither the creator, the appraiser nor the first
//!   approver).
//! - A four-eyes breach or a broken lending rule is a refusal of *this* application ([`Refusal`]), not a
//!   missing permission: the actor's role is right.
//! - The approval rules are checked in a fixed order and the first breach is reported: state, four-eyes,
//!   eligible borrower (Decree 45/2021 Art 20), no bad debt declared (Art 22), project share and own capital
//!   (Art 22), rate caps (Civil Code Art 466, 468), then the exposure limits (Art 23). They are checked at each
//!   approval, because the exposure may change between the two.

use std::fmt;

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::limits::{self, Breach, CapBreach, Exposure, Rates};

/// Where an application is in its life cycle (DOMAIN.md §7, plus `awaiting_council`). Serialized as its
/// [`Status::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written; the only state in which it may be edited.
    Draft,
    /// Handed in to the fund.
    Submitted,
    /// Being appraised (accepted as stored; no action leads here).
    InAppraisal,
    /// Appraised, with the appraiser's note and recommendation.
    Appraised,
    /// Approved once; the management council's second approval is pending.
    AwaitingCouncil,
    /// Approved: the loan exists.
    Approved,
    /// Refused by an approver, with a reason.
    Rejected,
    /// Withdrawn by the borrower or an officer.
    Withdrawn,
}

impl Status {
    /// Every state, in life-cycle order.
    pub const ALL: [Status; 8] = [
        Status::Draft,
        Status::Submitted,
        Status::InAppraisal,
        Status::Appraised,
        Status::AwaitingCouncil,
        Status::Approved,
        Status::Rejected,
        Status::Withdrawn,
    ];

    /// The stored and wire name (`awaiting_council`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::InAppraisal => "in_appraisal",
            Status::Appraised => "appraised",
            Status::AwaitingCouncil => "awaiting_council",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Whether the application may still be withdrawn (no decision yet).
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Status::Approved | Status::Rejected | Status::Withdrawn
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Status::ALL`] (or [`Recommendation::ALL`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Status, UnknownStatus> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_string()))
    }
}

/// What the appraiser recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    /// Lend.
    Approve,
    /// Do not lend.
    Reject,
}

impl Recommendation {
    /// Both, in the order they are offered.
    pub const ALL: [Recommendation; 2] = [Recommendation::Approve, Recommendation::Reject];

    /// The stored and wire name (`approve`).
    pub fn as_str(self) -> &'static str {
        match self {
            Recommendation::Approve => "approve",
            Recommendation::Reject => "reject",
        }
    }
}

impl FromStr for Recommendation {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Recommendation, UnknownStatus> {
        Recommendation::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| UnknownStatus(text.to_string()))
    }
}

/// What someone does to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Change a draft.
    Edit,
    /// Hand a draft in.
    Submit,
    /// Record the appraisal.
    Appraise,
    /// Approve; above the council threshold the first approval waits for the council's.
    Approve {
        /// Whether the amount is above the council threshold ([`council_required`]).
        council_required: bool,
    },
    /// Refuse, with a reason.
    Reject,
    /// Take an open application back.
    Withdraw,
}

impl Action {
    /// A stable name (`approve`), e.g. for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Appraise => "appraise",
            Action::Approve { .. } => "approve",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
        }
    }

    /// Who may take this action (DOMAIN.md §6): the borrowing side (an officer or the cooperative) writes,
    /// submits and withdraws; an officer appraises; an approver decides.
    pub fn permits(self, actor: Actor) -> bool {
        match self {
            Action::Edit | Action::Submit | Action::Withdraw => {
                matches!(actor, Actor::Officer | Actor::Cooperative)
            }
            Action::Appraise => actor == Actor::Officer,
            Action::Approve { .. } | Action::Reject => actor == Actor::Approver,
        }
    }
}

/// Who acts on an application, as far as its rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A user of the borrowing cooperative.
    Cooperative,
    /// A credit officer of the fund.
    Officer,
    /// An approver (or the management council's approver).
    Approver,
    /// Anyone else (admin, accountant, auditor): may read, not act.
    Other,
}

/// Why an action cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The actor's role may not take this action on any application.
    #[error("a {actor:?} may not {} an application", action.as_str())]
    NotPermitted {
        /// The action tried.
        action: Action,
        /// Who tried it.
        actor: Actor,
    },
    /// The application is not in a state the action leaves from.
    #[error("cannot {} an application in state {from}", action.as_str())]
    InvalidState {
        /// The action tried.
        action: Action,
        /// The application's state.
        from: Status,
    },
}

/// The one table of the life cycle: the state `action` by `actor` leads to from `status`.
pub fn transition(status: Status, action: Action, actor: Actor) -> Result<Status, TransitionError> {
    if !action.permits(actor) {
        return Err(TransitionError::NotPermitted { action, actor });
    }
    let to = match (status, action) {
        (Status::Draft, Action::Edit) => Some(Status::Draft),
        (Status::Draft, Action::Submit) => Some(Status::Submitted),
        (Status::Submitted | Status::InAppraisal, Action::Appraise) => Some(Status::Appraised),
        (
            Status::Appraised,
            Action::Approve {
                council_required: true,
            },
        ) => Some(Status::AwaitingCouncil),
        (
            Status::Appraised,
            Action::Approve {
                council_required: false,
            },
        )
        | (Status::AwaitingCouncil, Action::Approve { .. }) => Some(Status::Approved),
        (Status::Appraised | Status::AwaitingCouncil, Action::Reject) => Some(Status::Rejected),
        (from, Action::Withdraw) if from.is_open() => Some(Status::Withdrawn),
        _ => None,
    };
    to.ok_or(TransitionError::InvalidState {
        action,
        from: status,
    })
}

/// DOMAIN.md §6: above `council_approval_above_vnd` an approval needs the management council's as well.
pub fn council_required(amount_vnd: i64, council_approval_above_vnd: i64) -> bool {
    amount_vnd > council_approval_above_vnd
}

/// Who the four-eyes rule keeps from approving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FourEyes {
    /// The approver created the application.
    Creator,
    /// The approver appraised it.
    Appraiser,
    /// The council's approver is the first approver.
    FirstApprover,
}

/// Everything approval decides on: the application, its borrower, its product's rates and the exposures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalCase {
    /// The application's state.
    pub status: Status,
    /// The amount asked for.
    pub amount_vnd: i64,
    /// The project's total capital.
    pub project_total_vnd: i64,
    /// The borrower's own capital in the project.
    pub own_capital_vnd: i64,
    /// Decree 45/2021 Art 22: no bad debt at any credit institution.
    pub no_bad_debt_declared: bool,
    /// Decree 45/2021 Art 20: the borrower is a cooperative, a union of cooperatives or a member.
    pub borrower_eligible: bool,
    /// Who created the application.
    pub created_by: Option<i64>,
    /// Who appraised it.
    pub appraised_by: Option<i64>,
    /// Who approved it first (when awaiting the council).
    pub approved_by: Option<i64>,
    /// The product's rates, as they are now.
    pub rates: Rates,
    /// What counts against the Art 23 limits.
    pub exposure: Exposure,
    /// Above this amount, two approvals are needed.
    pub council_approval_above_vnd: i64,
}

/// Which approval this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The first approval (the only one at or below the council threshold).
    First,
    /// The management council's.
    Council,
}

/// Why an approval is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The application cannot be approved from its state (or by this actor).
    Transition(TransitionError),
    /// Four-eyes (DOMAIN.md §6).
    FourEyes(FourEyes),
    /// Decree 45/2021 Art 20.
    BorrowerNotEligible,
    /// Decree 45/2021 Art 22.
    BadDebtNotDeclared,
    /// A rate above its legal cap (the product changed since it was chosen).
    RateCap(CapBreach),
    /// Decree 45/2021 Art 22, 23.
    Limit(Breach),
}

/// What an approval decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approved: the loan is to be created. `step` says which approval completed it.
    Approved {
        /// The first approval or the council's.
        step: Step,
    },
    /// The first approval of an amount above the council threshold: the council's is still needed.
    AwaitingCouncil,
    /// Nothing changes.
    Refused(Refusal),
}

/// DOMAIN.md §6: neither the creator nor the appraiser approves; the council's approver is a third person, not
/// the first approver either. An approver without a user id (the command line) is nobody's second pair of eyes
/// and nobody's first.
pub fn check_four_eyes(case: &ApprovalCase, approver: Option<i64>) -> Result<(), FourEyes> {
    let same = |other: Option<i64>| approver.is_some() && approver == other;
    if same(case.created_by) {
        return Err(FourEyes::Creator);
    }
    if same(case.appraised_by) {
        return Err(FourEyes::Appraiser);
    }
    if case.status == Status::AwaitingCouncil && same(case.approved_by) {
        return Err(FourEyes::FirstApprover);
    }
    Ok(())
}

/// The approval decision: every rule in the order of the module docs, the first breach refuses.
pub fn approve(case: &ApprovalCase, approver: Option<i64>) -> Decision {
    match decide(case, approver) {
        Ok(decision) => decision,
        Err(refusal) => Decision::Refused(refusal),
    }
}

fn decide(case: &ApprovalCase, approver: Option<i64>) -> Result<Decision, Refusal> {
    let council = council_required(case.amount_vnd, case.council_approval_above_vnd);
    let to = transition(
        case.status,
        Action::Approve {
            council_required: council,
        },
        Actor::Approver,
    )
    .map_err(Refusal::Transition)?;
    check_four_eyes(case, approver).map_err(Refusal::FourEyes)?;
    if !case.borrower_eligible {
        return Err(Refusal::BorrowerNotEligible);
    }
    if !case.no_bad_debt_declared {
        return Err(Refusal::BadDebtNotDeclared);
    }
    limits::check_project_share(
        case.amount_vnd,
        case.project_total_vnd,
        case.own_capital_vnd,
    )
    .map_err(Refusal::Limit)?;
    limits::check_rate_caps(case.rates).map_err(Refusal::RateCap)?;
    limits::check_exposures(case.exposure, case.amount_vnd).map_err(Refusal::Limit)?;
    let step = if case.status == Status::AwaitingCouncil {
        Step::Council
    } else {
        Step::First
    };
    Ok(match to {
        Status::AwaitingCouncil => Decision::AwaitingCouncil,
        _ => Decision::Approved { step },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Cap, Rule};
    use rust_decimal_macros::dec;

    const CREATOR: i64 = 1;
    const APPRAISER: i64 = 2;
    const APPROVER: i64 = 3;
    const COUNCIL: i64 = 4;

    #[test]
    fn every_status_reads_back_from_its_name_and_an_unknown_name_is_an_error() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(
            "approve".parse::<Status>(),
            Err(UnknownStatus("approve".into()))
        );
        assert_eq!("".parse::<Status>(), Err(UnknownStatus(String::new())));
        for recommendation in Recommendation::ALL {
            assert_eq!(recommendation.as_str().parse(), Ok(recommendation));
        }
        assert!("maybe".parse::<Recommendation>().is_err());
    }

    #[test]
    fn the_life_cycle_table() {
        use Action::*;
        use Status::*;
        let approve = Approve {
            council_required: false,
        };
        let approve_council = Approve {
            council_required: true,
        };
        // (from, action, actor, to) for every allowed move.
        let allowed = [
            (Draft, Edit, Actor::Cooperative, Draft),
            (Draft, Edit, Actor::Officer, Draft),
            (Draft, Submit, Actor::Cooperative, Submitted),
            (Draft, Submit, Actor::Officer, Submitted),
            (Submitted, Appraise, Actor::Officer, Appraised),
            (InAppraisal, Appraise, Actor::Officer, Appraised),
            (Appraised, approve, Actor::Approver, Approved),
            (Appraised, approve_council, Actor::Approver, AwaitingCouncil),
            (AwaitingCouncil, approve, Actor::Approver, Approved),
            (AwaitingCouncil, approve_council, Actor::Approver, Approved),
            (Appraised, Reject, Actor::Approver, Rejected),
            (AwaitingCouncil, Reject, Actor::Approver, Rejected),
        ];
        // Withdraw: from any open state, by either side of the borrowing.
        let withdrawals: Vec<_> = [Draft, Submitted, InAppraisal, Appraised, AwaitingCouncil]
            .into_iter()
            .flat_map(|from| {
                [Actor::Cooperative, Actor::Officer].map(|who| (from, Withdraw, who, Withdrawn))
            })
            .collect();
        let allowed = [allowed.as_slice(), &withdrawals].concat();
        let actions = [
            Edit,
            Submit,
            Appraise,
            approve,
            approve_council,
            Reject,
            Withdraw,
        ];
        let actors = [
            Actor::Cooperative,
            Actor::Officer,
            Actor::Approver,
            Actor::Other,
        ];
        for from in Status::ALL {
            for action in actions {
                for actor in actors {
                    let expected = allowed
                        .iter()
                        .find(|(f, a, who, _)| (*f, *a, *who) == (from, action, actor))
                        .map(|(_, _, _, to)| *to);
                    let got = transition(from, action, actor);
                    match expected {
                        Some(to) => assert_eq!(got, Ok(to), "{from} {action:?} by {actor:?}"),
                        None if !action.permits(actor) => assert_eq!(
                            got,
                            Err(TransitionError::NotPermitted { action, actor }),
                            "{from} {action:?} by {actor:?}"
                        ),
                        None => assert_eq!(
                            got,
                            Err(TransitionError::InvalidState { action, from }),
                            "{from} {action:?} by {actor:?}"
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn a_decided_application_is_no_longer_open() {
        let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(
            open,
            [
                Status::Draft,
                Status::Submitted,
                Status::InAppraisal,
                Status::Appraised,
                Status::AwaitingCouncil
            ]
        );
    }

    #[test]
    fn the_council_is_needed_strictly_above_its_threshold() {
        assert!(!council_required(500_000_000, 500_000_000));
        assert!(council_required(500_000_001, 500_000_000));
    }

    /// An appraised application of 100 million that every rule lets through.
    fn case() -> ApprovalCase {
        ApprovalCase {
            status: Status::Appraised,
            amount_vnd: 100_000_000,
            project_total_vnd: 200_000_000,
            own_capital_vnd: 100_000_000,
            no_bad_debt_declared: true,
            borrower_eligible: true,
            created_by: Some(CREATOR),
            appraised_by: Some(APPRAISER),
            approved_by: None,
            rates: Rates {
                rate_percent: dec!(7.2),
                overdue_multiplier: dec!(1.5),
                late_rate_percent: dec!(10),
            },
            exposure: Exposure {
                charter_capital_vnd: 10_000_000_000,
                customer_vnd: 0,
                related_group_vnd: None,
            },
            council_approval_above_vnd: 500_000_000,
        }
    }

    #[test]
    fn the_approval_decision_table() {
        let above_council = ApprovalCase {
            amount_vnd: 600_000_000,
            project_total_vnd: 1_000_000_000,
            own_capital_vnd: 400_000_000,
            ..case()
        };
        let awaiting = ApprovalCase {
            status: Status::AwaitingCouncil,
            approved_by: Some(APPROVER),
            ..above_council
        };
        let breach = |rule, limit_vnd, exposure_vnd, room_vnd, requested_vnd| {
            Decision::Refused(Refusal::Limit(Breach {
                rule,
                limit_vnd,
                exposure_vnd,
                room_vnd,
                requested_vnd,
            }))
        };
        let cases: Vec<(&str, ApprovalCase, Option<i64>, Decision)> = vec![
            (
                "a plain approval",
                case(),
                Some(APPROVER),
                Decision::Approved { step: Step::First },
            ),
            (
                "from the command line",
                case(),
                None,
                Decision::Approved { step: Step::First },
            ),
            (
                "above the threshold, first",
                above_council,
                Some(APPROVER),
                Decision::AwaitingCouncil,
            ),
            (
                "the council's",
                awaiting,
                Some(COUNCIL),
                Decision::Approved {
                    step: Step::Council,
                },
            ),
            (
                "the council's by the first approver",
                awaiting,
                Some(APPROVER),
                Decision::Refused(Refusal::FourEyes(FourEyes::FirstApprover)),
            ),
            (
                "by the creator",
                case(),
                Some(CREATOR),
                Decision::Refused(Refusal::FourEyes(FourEyes::Creator)),
            ),
            (
                "by the appraiser",
                case(),
                Some(APPRAISER),
                Decision::Refused(Refusal::FourEyes(FourEyes::Appraiser)),
            ),
            (
                "a submitted application",
                ApprovalCase {
                    status: Status::Submitted,
                    ..case()
                },
                Some(APPROVER),
                Decision::Refused(Refusal::Transition(TransitionError::InvalidState {
                    action: Action::Approve {
                        council_required: false,
                    },
                    from: Status::Submitted,
                })),
            ),
            (
                "an approved one (state before four-eyes)",
                ApprovalCase {
                    status: Status::Approved,
                    ..case()
                },
                Some(CREATOR),
                Decision::Refused(Refusal::Transition(TransitionError::InvalidState {
                    action: Action::Approve {
                        council_required: false,
                    },
                    from: Status::Approved,
                })),
            ),
            (
                "an ineligible borrower",
                ApprovalCase {
                    borrower_eligible: false,
                    no_bad_debt_declared: false,
                    ..case()
                },
                Some(APPROVER),
                Decision::Refused(Refusal::BorrowerNotEligible),
            ),
            (
                "no bad-debt declaration",
                ApprovalCase {
                    no_bad_debt_declared: false,
                    amount_vnd: 190_000_000,
                    ..case()
                },
                Some(APPROVER),
                Decision::Refused(Refusal::BadDebtNotDeclared),
            ),
            (
                "above 80% of the project",
                ApprovalCase {
                    amount_vnd: 160_000_001,
                    ..case()
                },
                Some(APPROVER),
                breach(Rule::ProjectShare, 160_000_000, 0, 160_000_000, 160_000_001),
            ),
            (
                "own capital below 20%",
                ApprovalCase {
                    own_capital_vnd: 39_999_999,
                    ..case()
                },
                Some(APPROVER),
                breach(Rule::OwnCapital, 40_000_000, 39_999_999, 1, 100_000_000),
            ),
            (
                "a rate raised above its cap",
                ApprovalCase {
                    rates: Rates {
                        rate_percent: dec!(21),
                        ..case().rates
                    },
                    ..case()
                },
                Some(APPROVER),
                Decision::Refused(Refusal::RateCap(CapBreach {
                    cap: Cap::Rate,
                    value: dec!(21),
                })),
            ),
            (
                "above 15% of charter capital",
                ApprovalCase {
                    exposure: Exposure {
                        customer_vnd: 1_450_000_000,
                        ..case().exposure
                    },
                    ..case()
                },
                Some(APPROVER),
                breach(
                    Rule::SingleCustomer,
                    1_500_000_000,
                    1_450_000_000,
                    50_000_000,
                    100_000_000,
                ),
            ),
            (
                "above 25% with related persons",
                ApprovalCase {
                    exposure: Exposure {
                        related_group_vnd: Some(2_450_000_000),
                        ..case().exposure
                    },
                    ..case()
                },
                Some(APPROVER),
                breach(
                    Rule::RelatedGroup,
                    2_500_000_000,
                    2_450_000_000,
                    50_000_000,
                    100_000_000,
                ),
            ),
        ];
        for (name, case, approver, expected) in cases {
            assert_eq!(approve(&case, approver), expected, "{name}");
        }
    }
}
