//! The close of business writes its chunks side by side on PostgreSQL (issue 14, cobwriters), each linking its
//! entries into a bulk part of the journal chain, and moves the fund's "cached through" mark only in chunk
//! order: a chunk written beside one that fails does not cover the failed chunk's loans, and still leaves
//! every one of its own loans reading as of the next day. On SQLite the same code writes one chunk at a time;
//! the outcome must be the same.

use chrono::{Duration, NaiveDate};
use coopfund::{
    app::{
        chains,
        cob::{self, RunStatus, Trigger},
        fund,
        ledger::{self, effective_balances_as_of},
        Caller,
    },
    demo,
    state::AppState,
    store::entities::{journal_entry, loan},
};
use coopfund_domain::{
    chain::{Chain, LOAN_PARTS, PARTS},
    LoanStatus,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use crate::{demo::state_of, helpers::spawn_app};

/// The open loans (the close's own condition) with their cooperatives, by id.
async fn open_loans(db: &sea_orm::DatabaseConnection) -> Vec<loan::Model> {
    loan::Entity::find()
        .filter(loan::Column::Status.is_not_in(LoanStatus::FINISHED.map(LoanStatus::as_str)))
        .filter(loan::Column::FirstDisbursedOn.is_not_null())
        .order_by_asc(loan::Column::Id)
        .all(db)
        .await
        .unwrap()
}

/// Closes `date` as the CLI does, allowing a date after today's.
async fn close(state: &AppState, date: NaiveDate) -> cob::CobRun {
    let mut state = state.clone();
    let mut settings = (*state.settings).clone();
    settings.cob.allow_future_dates = true;
    state.settings = std::sync::Arc::new(settings);
    state.ctx.settings = state.settings.clone();
    let outcome = cob::run_through(&state.ctx, &Caller::cli(), date, Trigger::Cli)
        .await
        .expect("the close runs");
    outcome.runs.last().cloned().expect("a run of the day")
}

#[tokio::test]
async fn chunks_written_side_by_side_mark_in_order_and_a_failed_chunk_is_not_covered() {
    let app = spawn_app().await;
    let state = state_of(&app);
    // 1,600 loans of 400 cooperatives: the close takes them in three chunks (50, 250, the rest).
    demo::load_bulk(&state, 1_600).await.expect("bulk load");
    let date = fund::business_date(&app.db).await.unwrap();
    let open = open_loans(&app.db).await;
    let mut cooperatives: Vec<i64> = open.iter().map(|l| l.cooperative_id).collect();
    cooperatives.sort_unstable();
    cooperatives.dedup();
    assert!(
        cooperatives.len() > 300,
        "{} cooperatives",
        cooperatives.len()
    );

    // One loan of the second chunk cannot be read: that chunk fails and is closed loan by loan, which names the
    // loan; the third chunk, written beside the second on PostgreSQL, must not move the mark over it.
    let broken_cooperative = cooperatives[100];
    let broken = open
        .iter()
        .find(|l| l.cooperative_id == broken_cooperative)
        .expect("an open loan of the cooperative")
        .clone();
    let sql = |sql: String| Statement::from_string(app.db.get_database_backend(), sql);
    app.db
        .execute_raw(sql(format!(
            "UPDATE loans SET day_count = 'bogus' WHERE id = {}",
            broken.id
        )))
        .await
        .unwrap();

    let run = close(&state, date).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert_eq!(run.counts.errors, 1, "{run:?}");
    assert_eq!(run.counts.loans_processed as usize, open.len() - 1);
    assert!(
        run.message
            .as_deref()
            .is_some_and(|m| m.contains(&format!("loan {}", broken.id))),
        "{run:?}"
    );
    // The mark stops at the first chunk (the last of the 50 cooperatives before the failed chunk).
    let marks = fund::cached_through(&app.db).await.unwrap();
    assert_eq!(marks.cob_day, Some((date, cooperatives[49])), "{marks:?}");
    let next_day = date + Duration::days(1);
    for row in open_loans(&app.db).await {
        let as_of = effective_balances_as_of(&row, &marks).unwrap();
        if row.id == broken.id {
            assert!(
                as_of < Some(next_day),
                "the broken loan is not closed: {as_of:?}"
            );
        } else {
            assert_eq!(
                as_of,
                Some(next_day),
                "loan {} of cooperative {} reads as closed",
                row.id,
                row.cooperative_id
            );
        }
    }

    // Mended, the day closes again and completes; the books and the chains verify, and the close's entries
    // went into both bulk parts (the first and third chunks into one, the second into the other).
    app.db
        .execute_raw(sql(format!(
            "UPDATE loans SET day_count = '{}' WHERE id = {}",
            broken.day_count, broken.id
        )))
        .await
        .unwrap();
    let run = close(&state, date).await;
    assert_eq!(run.status, RunStatus::Finished, "{run:?}");
    let run = close(&state, next_day).await;
    assert_eq!(run.status, RunStatus::Finished, "{run:?}");
    assert_eq!(
        fund::business_date(&app.db).await.unwrap(),
        next_day + Duration::days(1)
    );
    let report = ledger::verify(&app.db, &app.settings.classification.classification())
        .await
        .unwrap();
    assert!(report.passed(), "{}", report.render());
    let walked = chains::verify_books(&app.db, chrono::Utc::now(), None)
        .await
        .unwrap();
    assert!(walked.passed, "{}", walked.render());
    let journal = walked
        .chains
        .iter()
        .find(|c| c.chain == Chain::Journal)
        .expect("the journal");
    assert_eq!(journal.heads.len(), usize::from(PARTS));
    for part in LOAN_PARTS..PARTS {
        let entries = journal_entry::Entity::find()
            .filter(journal_entry::Column::ChainPart.eq(part as i16))
            .count(&app.db)
            .await
            .unwrap();
        assert!(entries > 0, "bulk part {part} holds the close's entries");
    }
    // No loan's part holds an entry of the day closed set-based throughout: its chunks wrote only into the bulk
    // parts (the failed day's chunk was closed loan by loan, each loan into its own part).
    let in_loan_parts: Vec<i64> = journal_entry::Entity::find()
        .select_only()
        .column(journal_entry::Column::Id)
        .filter(journal_entry::Column::EntryDate.eq(next_day))
        .filter(journal_entry::Column::ChainPart.lt(LOAN_PARTS as i16))
        .into_tuple()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(in_loan_parts, Vec::<i64>::new());
}
