//! Two clerks on one loan never produce a wrong balance; a retried request never posts twice.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::loan_fixtures::{
    active_loan, active_loans, assert_ledger_verifies, example_3, json_of, post_keyed, repay,
    repayment_amounts, set_date, Staff,
};

#[tokio::test]
async fn fifty_identical_repayment_requests_post_exactly_once() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-02-10").await;
    let path = format!("/api/v1/loans/{loan}/repayments");
    let body = json!({"amount_vnd": 11_019_178, "value_date": "2026-02-10", "reference": "GD 1", "kind": "ordinary"});
    let requests = (0..50).map(|_| {
        let (app, path, body, token) = (&app, path.clone(), body.clone(), staff.accountant.clone());
        async move {
            let response = post_keyed(app, &path, &token, Some("same-payment-1"), &body).await;
            let replayed = response.headers().get("Idempotency-Replayed").is_some();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, replayed, body)
        }
    });
    let results = futures_join_all(requests).await;
    let mut ids = Vec::new();
    for (status, replayed, body) in &results {
        match *status {
            StatusCode::CREATED => ids.push((body["id"].clone(), *replayed)),
            StatusCode::CONFLICT => {
                assert_eq!(body["error"]["code"], "request_in_progress", "{body}")
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|(id, _)| *id == ids[0].0),
        "every success is the same transaction"
    );
    assert_eq!(
        ids.iter().filter(|(_, replayed)| !replayed).count(),
        1,
        "exactly one fresh posting"
    );
    assert_eq!(repayment_amounts(&app, &staff, loan).await.len(), 1);
    let view = json_of(
        app.get(&format!("/api/v1/loans/{loan}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["in_term_principal_vnd"], 90_000_000);
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
async fn twenty_different_repayments_at_once_give_the_same_balance_as_posting_them_one_by_one() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let concurrent = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let sequential = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-02-25").await;
    let amounts: Vec<i64> = (0..20).map(|i| 500_000 + i * 10_000).collect();
    let requests = amounts.iter().enumerate().map(|(i, amount_vnd)| {
        let (app, token) = (&app, staff.accountant.clone());
        let body = json!({"amount_vnd": amount_vnd, "value_date": "2026-02-25", "reference": format!("GD {i}"), "kind": "ordinary"});
        async move {
            let path = format!("/api/v1/loans/{concurrent}/repayments");
            post_keyed(app, &path, &token, Some(&format!("clerk-{i}")), &body).await.status()
        }
    });
    let statuses = futures_join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    for amount_vnd in &amounts {
        json_of(
            repay(
                &app,
                &staff,
                sequential,
                *amount_vnd,
                "2026-02-25",
                "ordinary",
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let balances = |view: &Value| {
        json!([
            view["in_term_principal_vnd"],
            view["overdue_principal_vnd"],
            view["unpaid_interest_vnd"],
            view["advance_vnd"],
            view["dpd"]
        ])
    };
    let a = json_of(
        app.get(&format!("/api/v1/loans/{concurrent}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    let b = json_of(
        app.get(&format!("/api/v1/loans/{sequential}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(balances(&a), balances(&b));
    let total: i64 = amounts.iter().sum();
    let statement = json_of(
        app.get(
            &format!("/api/v1/loans/{concurrent}/statement"),
            &staff.auditor,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(statement["total_received_vnd"], total);
    assert_eq!(
        a["overdue_principal_vnd"], 0,
        "10,000,000 overdue principal was paid first: {a}"
    );
    assert_ledger_verifies(&app).await;
}

#[tokio::test]
/// Thirty repayments at once on three loans, every third one above the payoff. On SQLite they queue at
/// the writer gate and share commits (group commit, `src/app/writer.rs`); on PostgreSQL each is its own
/// transaction. Either way each refused one answers 422 and writes nothing, and every accepted one is
/// posted exactly once, in full, and is in the books when its 201 arrives.
async fn repayments_at_once_with_some_refused_post_exactly_the_accepted_ones() {
    let app = spawn_app().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loans = active_loans(&app, &staff, coop, 3, "2026-01-10").await;
    set_date(&app, "2026-02-25").await;
    let plan: Vec<(i64, i64)> = (0..30)
        .map(|i| {
            let amount_vnd = if i % 3 == 1 {
                900_000_000
            } else {
                400_000 + i * 1_000
            };
            (loans[i as usize % 3], amount_vnd)
        })
        .collect();
    let requests = plan.iter().enumerate().map(|(i, (loan, amount_vnd))| {
        let (app, token) = (&app, staff.accountant.clone());
        let body = json!({"amount_vnd": amount_vnd, "value_date": "2026-02-25", "reference": format!("GD {i}"), "kind": "ordinary"});
        async move {
            let path = format!("/api/v1/loans/{loan}/repayments");
            let response = post_keyed(app, &path, &token, Some(&format!("mixed-{i}")), &body).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    });
    let results = futures_join_all(requests).await;
    for ((loan, amount_vnd), (status, body)) in plan.iter().zip(&results) {
        if *amount_vnd == 900_000_000 {
            assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["error"]["code"], "payment_above_payoff", "{body}");
        } else {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            assert_eq!(body["loan_id"], *loan, "{body}");
            assert_eq!(body["amount_vnd"], *amount_vnd, "{body}");
        }
    }
    for loan in &loans {
        let accepted: Vec<i64> = plan
            .iter()
            .filter(|(l, amount_vnd)| l == loan && *amount_vnd != 900_000_000)
            .map(|(_, amount_vnd)| *amount_vnd)
            .collect();
        let mut repaid = repayment_amounts(&app, &staff, *loan).await;
        repaid.sort_unstable();
        let mut expected = accepted.clone();
        expected.sort_unstable();
        assert_eq!(repaid, expected, "loan {loan}");
        let statement = json_of(
            app.get(&format!("/api/v1/loans/{loan}/statement"), &staff.auditor)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            statement["total_received_vnd"],
            accepted.iter().sum::<i64>(),
            "loan {loan}"
        );
    }
    assert_ledger_verifies(&app).await;
}

/// Runs futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (index, future) in set.iter_mut().enumerate() {
            if outputs[index].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => outputs[index] = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}
