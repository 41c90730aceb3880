//! `run_keyed`, the one idempotent unit of work, against a real database: a retry replays the first
//! answer and does not run the work again; the key used for another body or another operation is a
//! 409; a refused command leaves no key behind, so its retry runs.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use coopfund::{
    app::{
        context::AppCtx,
        idempotency::{run_keyed, IdempotencyKey, Idempotent},
        Caller,
    },
    auth::Role,
    error::AppError,
};

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_keyed_retry_replays_the_first_answer_and_another_request_under_the_key_is_refused() {
    let app = spawn_app().await;
    let ctx = AppCtx::new(app.db.clone(), Arc::new(app.settings.clone()));
    let admin = Caller::account(1, "admin", Role::Admin, None).expect("admin");
    let runs = Arc::new(AtomicUsize::new(0));
    let run = |operation: &'static str, body: &'static str, answer: u32| {
        let (ctx, admin, runs) = (ctx.clone(), admin.clone(), runs.clone());
        async move {
            let key = IdempotencyKey::new("k-1", body.as_bytes()).expect("key");
            run_keyed(&ctx, &admin, operation, Some(&key), move |_txn| {
                Box::pin(async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok(answer)
                })
            })
            .await
        }
    };
    assert_eq!(
        run("loan.repay:1", r#"{"a":1}"#, 7).await.expect("fresh"),
        Idempotent::Fresh(7)
    );
    // The same request with its keys in another order: the first answer, the work not run again.
    assert_eq!(
        run("loan.repay:1", r#"{ "a": 1 }"#, 8)
            .await
            .expect("replay"),
        Idempotent::Replayed {
            status: None,
            body: "7".into()
        }
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let reused = |result: Result<Idempotent<u32>, AppError>| {
        result.expect_err("reused").code == "idempotency_key_reused"
    };
    assert!(reused(run("loan.repay:1", r#"{"a":2}"#, 9).await));
    assert!(reused(run("loan.repay:2", r#"{"a":1}"#, 9).await));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_keyed_command_leaves_no_key_so_its_retry_runs() {
    let app = spawn_app().await;
    let ctx = AppCtx::new(app.db.clone(), Arc::new(app.settings.clone()));
    let admin = Caller::account(1, "admin", Role::Admin, None).expect("admin");
    let key = IdempotencyKey::new("k-2", b"{}").expect("key");
    let refused = run_keyed(&ctx, &admin, "fund.contribute", Some(&key), |_txn| {
        Box::pin(async { Err::<u32, _>(AppError::forbidden()) })
    })
    .await;
    assert_eq!(refused.expect_err("refused").code, "forbidden");
    let retried = run_keyed(&ctx, &admin, "fund.contribute", Some(&key), |_txn| {
        Box::pin(async { Ok(3u32) })
    })
    .await
    .expect("ran");
    assert_eq!(retried, Idempotent::Fresh(3));
}
