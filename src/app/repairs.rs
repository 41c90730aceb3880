//! Corrections of books written by an older version, run at start-up after the migrations.
//!
//! Each repair refolds the loans it concerns with today's engine and posts the difference, exactly as a money
//! command does (posting by difference): it is idempotent by construction — a second run finds nothing to post —
//! so it can run at every start, and with several instances at once (each loan is locked while it is repaired).

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::ClassificationConfig;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde::Serialize;

use crate::{
    app::{
        audit::{self, Change},
        chains::ChainHeads,
        context::Clock,
        fund,
        ledger::{self, Posting},
        loan_engine::{kind, status_of},
        loans::lock_loan,
        Caller,
    },
    error::AppResult,
    store::entities::loan_transaction,
};

/// What the repair changed on one loan, for its audit record.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct LoanFigures {
    status: coopfund_domain::LoanStatus,
    in_term_principal_vnd: i64,
    overdue_principal_vnd: i64,
}

/// The header of a loan's `correction` entry on `date` (no business key: a second run posts nothing).
fn correction(date: NaiveDate, posted_at: DateTime<Utc>) -> Posting {
    Posting {
        kind: "correction".into(),
        entry_date: date,
        description: "Điều chỉnh: lãi chưa trả đã chuyển vào lịch trả nợ mới khi cơ cấu lại vẫn phải thu \
                      / Correction: unpaid interest moved into a restructured schedule is still owed"
            .into(),
        transaction_id: None,
        reverses_entry_id: None,
        business_key: None,
        posted_at,
        entry_id: None,
    }
}

/// Issue 16: until this version a restructuring dropped the unpaid interest it moved into the new schedule from
/// every payoff quote, and a payment equal to that quote closed the loan without collecting it. The engine now
/// keeps it owed (DOMAIN.md §7). This refolds every restructured loan: an open one gets its receivable (or memo
/// 0041) back; one that the short payoff had closed is reopened, the payment it received held as an advance and
/// applied on the following due dates, so the borrower is shown the interest still owed. Each loan whose books
/// change gets a `correction` entry and an audit record `loan.restructured_interest_restored`. Returns how many
/// loans were corrected.
#[tracing::instrument(name = "restore interest carried by restructurings", skip_all)]
pub async fn restore_restructured_interest(
    db: &DatabaseConnection,
    classification: &ClassificationConfig,
    clock: &dyn Clock,
) -> AppResult<usize> {
    let loan_ids: Vec<i64> = loan_transaction::Entity::find()
        .select_only()
        .column(loan_transaction::Column::LoanId)
        .filter(loan_transaction::Column::Kind.eq(kind::RESTRUCTURE))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let caller = Caller::system_named("upgrade");
    let mut corrected = 0;
    for loan_id in loan_ids {
        let txn = db.begin().await?;
        let loan = lock_loan(&txn, loan_id).await?;
        let today = fund::business_date(&txn).await?;
        let before = figures(&loan)?;
        let calendar = crate::app::calendar::in_force(&txn).await?;
        // The correction's entry and its audit record go onto the chains through one set of heads, moved once.
        let mut heads = ChainHeads::for_loan(loan_id);
        let refolded = ledger::refold_and_post(
            &txn,
            &mut heads,
            classification,
            &caller,
            loan,
            today,
            &correction(today, clock.now()),
            &calendar,
            |_, _, _| ledger::Provision::Keep,
        )
        .await?;
        let after = figures(&refolded.loan)?;
        if refolded.entry_id.is_some() || after.status != before.status {
            audit::record_linked(
                &txn,
                &mut heads,
                &caller,
                clock.now(),
                Change {
                    action: "loan.restructured_interest_restored",
                    entity_type: "loan",
                    entity_id: loan_id.to_string(),
                    before: Some(&before),
                    after: Some(&after),
                },
            )
            .await?;
            tracing::warn!(
                loan_id,
                status_before = %before.status,
                status_after = %after.status,
                "restored the unpaid interest a restructuring had dropped from the payoff"
            );
            corrected += 1;
        }
        heads.finish(&txn).await?;
        txn.commit().await?;
    }
    Ok(corrected)
}

fn figures(loan: &crate::store::entities::loan::Model) -> AppResult<LoanFigures> {
    Ok(LoanFigures {
        status: status_of(loan)?,
        in_term_principal_vnd: loan.in_term_principal_vnd,
        overdue_principal_vnd: loan.overdue_principal_vnd,
    })
}
