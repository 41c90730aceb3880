//! Snapshots of the fold (issue 14) through the public surface: the close of business keeps each loan's folded
//! position, the loan reads fold only what came after it and answer exactly what the full refold answers, a
//! back-dated payment deletes the snapshots it makes stale in its own transaction, an unreadable snapshot is
//! ignored (the read refolds) and `ledger verify` names it; the money commands fold from the latest snapshot
//! too and keep one every few events without any close of business (the posting path stays flat in history),
//! a reversal keeping the snapshots before its value date.

use coopfund::app::loan_engine;
use coopfund::store::entities::{loan_snapshot, loan_transaction};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::loan_fixtures::{
    active_loan, assert_ledger_verifies, date, example_3, json_of, repay, run_cob, set_date, Staff,
};

async fn snapshots_of(app: &TestApp, loan_id: i64) -> Vec<loan_snapshot::Model> {
    loan_snapshot::Entity::find()
        .filter(loan_snapshot::Column::LoanId.eq(loan_id))
        .all(&app.db)
        .await
        .expect("snapshots")
}

/// The loan and its payoff as the API shows them.
async fn reads(app: &TestApp, staff: &Staff, loan_id: i64) -> (Value, Value) {
    let loan = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    let payoff = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}/payoff"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    (loan, payoff)
}

/// The same reads with every snapshot deleted first: the full refold's answer.
async fn reads_refolded(app: &TestApp, staff: &Staff, loan_id: i64) -> (Value, Value) {
    let kept = snapshots_of(app, loan_id).await;
    loan_snapshot::Entity::delete_many()
        .filter(loan_snapshot::Column::LoanId.eq(loan_id))
        .exec(&app.db)
        .await
        .expect("delete snapshots");
    let refolded = reads(app, staff, loan_id).await;
    for row in kept {
        row.into_active_model()
            .reset_all()
            .insert(&app.db)
            .await
            .expect("put the snapshot back");
    }
    refolded
}

#[tokio::test]
async fn the_reads_fold_from_the_close_of_business_snapshot_and_answer_as_the_full_refold() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    run_cob(&app, "2026-02-12").await;
    let snapshots = snapshots_of(&app, loan_id).await;
    assert!(!snapshots.is_empty(), "the close keeps a snapshot");
    assert!(snapshots.iter().all(|s| s.as_of <= date("2026-02-13")));
    assert!(
        snapshots.iter().any(|s| s.as_of > date("2026-02-01")),
        "{snapshots:?}"
    );
    // Past the first due date (2026-02-10), with interest billed and overdue: many amounts to get right.
    let from_snapshot = reads(&app, &staff, loan_id).await;
    assert_eq!(from_snapshot.0["dpd"], 3, "{}", from_snapshot.0);
    assert_eq!(from_snapshot, reads_refolded(&app, &staff, loan_id).await);
    assert_ledger_verifies(&app).await;

    // A payment recorded today and one back-dated before the latest snapshot.
    let today = repay(&app, &staff, loan_id, 1_000_000, "2026-02-13", "ordinary").await;
    assert_eq!(today.status(), StatusCode::CREATED);
    assert!(
        !snapshots_of(&app, loan_id).await.is_empty(),
        "a payment of the business date leaves the snapshots alone"
    );
    assert_eq!(
        reads(&app, &staff, loan_id).await,
        reads_refolded(&app, &staff, loan_id).await
    );
    let back_dated = repay(&app, &staff, loan_id, 2_000_000, "2026-02-05", "ordinary").await;
    assert_eq!(back_dated.status(), StatusCode::CREATED);
    let left = snapshots_of(&app, loan_id).await;
    assert!(
        left.iter().all(|s| s.as_of <= date("2026-02-05")),
        "the snapshots after the value date are deleted: {left:?}"
    );
    assert_eq!(
        reads(&app, &staff, loan_id).await,
        reads_refolded(&app, &staff, loan_id).await
    );
    assert_ledger_verifies(&app).await;

    // The next closes advance from the snapshots again.
    run_cob(&app, "2026-02-20").await;
    assert!(snapshots_of(&app, loan_id)
        .await
        .iter()
        .any(|s| s.as_of > date("2026-02-13")));
    assert_eq!(
        reads(&app, &staff, loan_id).await,
        reads_refolded(&app, &staff, loan_id).await
    );
    assert_ledger_verifies(&app).await;
}

/// The transactions a snapshot covers but is dated before (recorded before it was taken, dated after it) are
/// folded on top of it by the reads and by the money commands: the second of the two ranges their reads take
/// (`loan_engine`: recorded since the snapshot, or recorded before it and dated after it).
#[tokio::test]
async fn the_transactions_a_snapshot_covers_but_is_dated_before_are_folded_on_top_of_it() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    // Past the first due date (2026-02-10): interest billed and overdue, so an allocation depends on what was paid.
    run_cob(&app, "2026-02-12").await;
    let latest = snapshots_of(&app, loan_id)
        .await
        .into_iter()
        .max_by_key(|s| s.as_of)
        .expect("the close keeps a snapshot");
    assert!(latest.as_of < date("2026-02-15"), "{latest:?}");
    set_date(&app, "2026-02-18").await;
    for (amount_vnd, on) in [(1_000_000, "2026-02-15"), (2_000_000, "2026-02-18")] {
        let paid = repay(&app, &staff, loan_id, amount_vnd, on, "ordinary").await;
        assert_eq!(paid.status(), StatusCode::CREATED);
    }
    // Only the close's snapshot left, made to cover both payments: still true of it, since both are dated
    // after it (every event it covers dated on or before its date is folded into it, and none of these is).
    loan_snapshot::Entity::delete_many()
        .filter(loan_snapshot::Column::LoanId.eq(loan_id))
        .filter(loan_snapshot::Column::AsOf.gt(latest.as_of))
        .exec(&app.db)
        .await
        .expect("delete the later snapshots");
    let last_id = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::LoanId.eq(loan_id))
        .order_by_desc(loan_transaction::Column::Id)
        .all(&app.db)
        .await
        .expect("transactions")[0]
        .id;
    let mut covering = loan_engine::decode_snapshot(&latest).expect("a readable snapshot");
    covering.covered_sequence = u64::try_from(last_id).expect("an id");
    let covering = loan_engine::snapshot_row(loan_id, &covering, latest.taken_at).expect("its row");
    loan_snapshot::Entity::delete_by_id((loan_id, latest.as_of))
        .exec(&app.db)
        .await
        .expect("replace the snapshot");
    let covering = covering.insert(&app.db).await.expect("cover both payments");
    assert!(
        loan_engine::decode_snapshot(&covering).is_some(),
        "{covering:?}"
    );

    let from_snapshot = reads(&app, &staff, loan_id).await;
    assert_eq!(from_snapshot, reads_refolded(&app, &staff, loan_id).await);
    // A money command folds from it too: its allocation, the cached balances and the ledger as the refold's.
    let paid = repay(&app, &staff, loan_id, 500_000, "2026-02-18", "ordinary").await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    assert_eq!(
        reads(&app, &staff, loan_id).await,
        reads_refolded(&app, &staff, loan_id).await
    );
    let recorded = json_of(paid, StatusCode::CREATED).await;
    assert_allocations_as_listed(&app, &staff, loan_id, &[recorded]).await;
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn an_unreadable_snapshot_is_ignored_by_the_reads_and_named_by_ledger_verify() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    run_cob(&app, "2026-01-20").await;
    let refolded = reads_refolded(&app, &staff, loan_id).await;
    for row in snapshots_of(&app, loan_id).await {
        let mut active = row.into_active_model();
        active.state = Set("{\"not\": \"a snapshot\"}".into());
        active.update(&app.db).await.expect("spoil the snapshot");
    }
    assert_eq!(reads(&app, &staff, loan_id).await, refolded);
    let report =
        coopfund::app::ledger::verify(&app.db, &app.settings.classification.classification())
            .await
            .expect("verify runs");
    assert!(!report.passed());
    assert!(
        report
            .render()
            .contains(&format!("loan {loan_id} snapshot of")),
        "{}",
        report.render()
    );
}

/// Posts `count` ordinary repayments of 100,000 đồng valued `on`; returns each response's transaction.
async fn repay_many(
    app: &TestApp,
    staff: &Staff,
    loan_id: i64,
    count: usize,
    on: &str,
) -> Vec<Value> {
    let mut recorded = Vec::with_capacity(count);
    for _ in 0..count {
        recorded.push(
            json_of(
                repay(app, staff, loan_id, 100_000, on, "ordinary").await,
                StatusCode::CREATED,
            )
            .await,
        );
    }
    recorded
}

/// Each recorded repayment's allocation (as its command answered) is the one the transactions list shows
/// (folded from the start), and every repayment listed has one.
async fn assert_allocations_as_listed(
    app: &TestApp,
    staff: &Staff,
    loan_id: i64,
    recorded: &[Value],
) {
    let listed = json_of(
        app.get(
            &format!("/api/v1/loans/{loan_id}/transactions"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let listed = listed.as_array().expect("a list of transactions");
    for tx in listed
        .iter()
        .filter(|t| t["kind"] == "repayment" && t["reversed_by"].is_null())
    {
        assert!(tx["allocation"].is_object(), "{tx}");
    }
    for tx in recorded {
        let shown = listed
            .iter()
            .find(|t| t["id"] == tx["id"])
            .expect("the recorded repayment is listed");
        assert_eq!(shown["allocation"], tx["allocation"], "{tx}");
    }
}

#[tokio::test]
async fn the_money_commands_fold_from_the_latest_snapshot_and_keep_one_every_few_events() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let every = coopfund::app::loan_engine::SNAPSHOT_EVERY_EVENTS;

    // No close of business: the posts alone keep a snapshot once the loan has that many events.
    let first = repay_many(&app, &staff, loan_id, every - 2, "2026-01-10").await;
    assert!(
        snapshots_of(&app, loan_id).await.is_empty(),
        "too few events for a snapshot"
    );
    let more = repay_many(&app, &staff, loan_id, 1, "2026-01-10").await;
    let kept = snapshots_of(&app, loan_id).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].as_of, date("2026-01-10"));
    assert_eq!(kept[0].format_version, 2);
    assert!(
        !kept[0].state.contains("allocations\":[{"),
        "a snapshot keeps no allocation: {}",
        kept[0].state
    );
    assert_eq!(
        reads(&app, &staff, loan_id).await,
        reads_refolded(&app, &staff, loan_id).await
    );

    // Ten days on (past nothing due yet): the posts fold from the 2026-01-10 snapshot and keep the next one
    // once they folded that many events past it.
    set_date(&app, "2026-01-20").await;
    let later = repay_many(&app, &staff, loan_id, every, "2026-01-20").await;
    let kept = snapshots_of(&app, loan_id).await;
    assert!(
        kept.iter().any(|s| s.as_of == date("2026-01-20")),
        "{kept:?}"
    );
    assert_eq!(
        reads(&app, &staff, loan_id).await,
        reads_refolded(&app, &staff, loan_id).await
    );
    let recorded: Vec<Value> = first.into_iter().chain(more).chain(later.clone()).collect();
    assert_allocations_as_listed(&app, &staff, loan_id, &recorded).await;
    assert_ledger_verifies(&app).await;

    // A reversal deletes the snapshots on or after its value date and keeps those before.
    let covered_before_reversal = kept
        .iter()
        .map(|s| s.covered_sequence)
        .max()
        .expect("a snapshot was kept");
    let reversed = &later[3];
    json_of(
        app.post(
            &format!(
                "/api/v1/loans/{loan_id}/transactions/{}/reverse",
                reversed["id"]
            ),
            &staff.accountant,
            &json!({"reason": "entered twice"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // The snapshot of 2026-01-20 covered the reversed payment: it is gone. The reversal's own post may keep a
    // new one of that date (it folded that many events past 2026-01-10), which then covers the reversal.
    let kept = snapshots_of(&app, loan_id).await;
    assert!(
        kept.iter()
            .all(|s| s.as_of < date("2026-01-20") || s.covered_sequence > covered_before_reversal),
        "{kept:?}"
    );
    assert!(
        kept.iter().any(|s| s.as_of == date("2026-01-10")),
        "{kept:?}"
    );
    // A payment after the reversal folds from the 2026-01-10 snapshot, and the reads agree with the refold.
    let after = repay_many(&app, &staff, loan_id, 1, "2026-01-20").await;
    assert_eq!(
        reads(&app, &staff, loan_id).await,
        reads_refolded(&app, &staff, loan_id).await
    );
    assert_allocations_as_listed(&app, &staff, loan_id, &after).await;
    assert_ledger_verifies(&app).await;
}
