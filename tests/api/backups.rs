//! Issue 15: backups of the embedded SQLite database while the service works, their manifests, restore, the
//! scheduled run with pruning, failures listed and mailed.

use std::path::Path;

use coopfund::app::backups::{self, BackupError};
use coopfund::config::BackupSettings;
use reqwest::StatusCode;
use sea_orm::Database;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp};
use crate::loan_fixtures::{
    active_loan, assert_ledger_verifies, example_3, json_of, post_keyed, set_date, Staff,
};

fn is_sqlite(app: &TestApp) -> bool {
    app.settings.database.url.starts_with("sqlite")
}

/// Copies taken while an accountant posts repayments: each one matches its manifest, balances, restores into a
/// fresh file that passes `ledger verify`, and holds exactly what its manifest says.
#[tokio::test]
async fn a_backup_taken_while_repayments_are_posted_verifies_and_restores() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tempdir");
    if !is_sqlite(&app) {
        // PostgreSQL has its own tools (README); coopfund refuses rather than pretending.
        let refused = backups::backup(&app.db, dir.path(), chrono::Utc::now()).await;
        assert!(
            matches!(refused, Err(BackupError::NotSqlite)),
            "{refused:?}"
        );
        return;
    }
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-02-10").await;
    let posting = {
        let (address, client, token) = (
            app.address.clone(),
            app.client.clone(),
            staff.accountant.clone(),
        );
        tokio::spawn(async move {
            let mut posted = 0;
            for n in 0..40 {
                let response = client
                    .post(format!("{address}/api/v1/loans/{loan_id}/repayments"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", format!("backup-test-{n}"))
                    .json(&json!({"amount_vnd": 100_000, "value_date": "2026-02-10",
                                  "reference": format!("GD {n}"), "kind": "ordinary"}))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status(), StatusCode::CREATED);
                posted += 1;
            }
            posted
        })
    };
    let mut copies = Vec::new();
    for _ in 0..4 {
        let done = backups::backup(&app.db, dir.path(), chrono::Utc::now())
            .await
            .expect("backup while posting");
        copies.push(done);
        tokio::task::yield_now().await;
    }
    assert_eq!(posting.await.expect("posting task"), 40);
    for done in &copies {
        let manifest = backups::verify_copy(&done.path).expect("the copy matches its manifest");
        assert_eq!(manifest, done.manifest);
        assert_eq!(
            manifest.contents.total_debit_vnd, manifest.contents.total_credit_vnd,
            "a consistent copy balances: {manifest:?}"
        );
        let target = dir.path().join(format!("restored-{}", manifest.file));
        backups::restore_file(&done.path, &target, false).expect("restores into a fresh path");
        let restored = Database::connect(format!("sqlite://{}?mode=rwc", target.display()))
            .await
            .expect("open the restored copy");
        assert_eq!(
            backups::contents_of(&restored).await.expect("contents"),
            manifest.contents
        );
        let report = coopfund::app::ledger::verify(&restored, &Default::default())
            .await
            .expect("verify");
        assert!(report.passed(), "{}", report.render());
    }
    // The last copy, taken after the posting ended, holds every repayment.
    let last = backups::backup(&app.db, dir.path(), chrono::Utc::now())
        .await
        .expect("backup");
    assert_eq!(
        last.manifest.contents,
        backups::contents_of(&app.db)
            .await
            .expect("source contents")
    );
    assert_ledger_verifies(&app).await;
}

/// Restoring onto a database refuses without `force`; a copy that does not match its manifest is refused.
#[tokio::test]
async fn restore_refuses_a_non_empty_target_and_a_damaged_copy() {
    let app = spawn_app().await;
    if !is_sqlite(&app) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let done = backups::backup(&app.db, dir.path(), chrono::Utc::now())
        .await
        .expect("backup");
    let target = dir.path().join("live.db");
    std::fs::write(&target, b"an existing database").expect("write");
    let refused = backups::restore_file(&done.path, &target, false);
    assert!(
        matches!(refused, Err(BackupError::TargetNotEmpty(_))),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read(&target).expect("read"),
        b"an existing database"
    );
    backups::restore_file(&done.path, &target, true).expect("forced restore");

    let mut bytes = std::fs::read(&done.path).expect("read copy");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&done.path, bytes).expect("damage");
    let refused = backups::restore_file(&done.path, &dir.path().join("fresh.db"), false);
    assert!(
        matches!(refused, Err(BackupError::ChecksumMismatch { .. })),
        "{refused:?}"
    );
    assert!(!dir.path().join("fresh.db").exists());
}

fn settings_in(dir: &Path, keep: usize) -> BackupSettings {
    BackupSettings {
        enabled: true,
        cron: "0 0 2 * * *".into(),
        dir: dir.to_path_buf(),
        retention_count: keep,
    }
}

/// The scheduled run keeps `retention_count` copies, lists every run for the admin, and a failed run is listed
/// with its reason and mailed to the admins.
#[tokio::test]
async fn the_scheduled_backup_prunes_old_copies_lists_its_runs_and_mails_a_failure() {
    let app = spawn_app().await;
    if !is_sqlite(&app) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = coopfund::app::context::AppCtx::new(
        app.db.clone(),
        std::sync::Arc::new(app.settings.clone()),
    );
    for _ in 0..3 {
        backups::run_scheduled(&ctx, &settings_in(dir.path(), 2), "schedule")
            .await
            .expect("scheduled backup");
        // Copies are named by the second they were taken.
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "two copies and their manifests: {names:?}");

    // A folder that cannot be created (a file is in the way) fails; the admin with an email is told.
    json_of(
        post_keyed(
            &app,
            "/api/v1/users",
            &app.admin_token,
            None,
            &json!({"username": "admin.it", "password": "mật-khẩu-dài-2026", "role": "admin",
                    "full_name": "Cán bộ CNTT", "email": "it@quyhtx.example.vn"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, b"not a folder").expect("write");
    let failed = backups::run_scheduled(&ctx, &settings_in(&blocked, 2), "schedule").await;
    assert!(matches!(failed, Err(BackupError::Io { .. })), "{failed:?}");

    let runs = json_of(
        app.get("/api/v1/backups", &app.admin_token).await,
        StatusCode::OK,
    )
    .await;
    let runs = runs.as_array().expect("runs");
    assert_eq!(runs.len(), 4, "{runs:?}");
    assert_eq!(runs[0]["status"], "failed");
    assert!(runs[0]["error"]
        .as_str()
        .expect("error")
        .contains("blocked"));
    assert!(runs[1..]
        .iter()
        .all(|r| r["status"] == "ok" && r["sha256"].as_str().is_some_and(|h| h.len() == 64)));
    let outbox = json_of(
        app.get("/api/v1/outbox", &app.admin_token).await,
        StatusCode::OK,
    )
    .await;
    let mails: Vec<_> = outbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|m| m["kind"] == "backup_failed")
        .collect();
    assert_eq!(mails.len(), 1, "{outbox}");
    assert_eq!(mails[0]["recipient"], "it@quyhtx.example.vn");
}

/// The scheduler of `serve` (the one the close of business runs on) really makes the daily backup: here every
/// second, keeping one copy. Its runs are listed with trigger `schedule`, and the folder holds only the newest
/// copy and its manifest once the scheduler stops.
#[tokio::test]
async fn the_scheduler_makes_the_backup_on_its_cron_and_prunes_to_the_retention_count() {
    let app = spawn_app().await;
    if !is_sqlite(&app) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = app.settings.clone();
    settings.cob.enabled = false;
    settings.backup = BackupSettings {
        enabled: true,
        cron: "* * * * * *".into(),
        dir: dir.path().to_path_buf(),
        retention_count: 1,
    };
    let state = coopfund::state::AppState::new(app.db.clone(), settings);
    let mut scheduler = coopfund::jobs::start(state)
        .await
        .expect("start the scheduler")
        .expect("the backup job is scheduled");
    let scheduled_runs = || async {
        json_of(
            app.get("/api/v1/backups", &app.admin_token).await,
            StatusCode::OK,
        )
        .await
        .as_array()
        .expect("runs")
        .iter()
        .filter(|run| run["trigger"] == "schedule")
        .cloned()
        .collect::<Vec<_>>()
    };
    // Wait (at most a minute, on a busy machine) for two runs, so the second had one to prune.
    let mut waited_seconds = 0;
    while scheduled_runs().await.len() < 2 {
        assert!(
            waited_seconds < 60,
            "the scheduled backup did not run twice"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        waited_seconds += 1;
    }
    scheduler.shutdown().await.expect("stop the scheduler");
    // A run already started when the scheduler stopped finishes and is recorded: wait for the list to settle.
    let mut runs = scheduled_runs().await;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let again = scheduled_runs().await;
        if again.len() == runs.len() {
            break;
        }
        runs = again;
    }
    assert!(runs.iter().all(|run| run["status"] == "ok"), "{runs:?}");
    let newest = runs[0]["file"].as_str().expect("the newest copy's file");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "one copy and its manifest: {names:?}");
    assert!(
        newest.ends_with(names[0].as_str()),
        "the copy kept is the newest: {newest} vs {names:?}"
    );
    backups::verify_copy(&dir.path().join(&names[0])).expect("the kept copy verifies");
}

/// Issue 15 item 2: "after restore the service starts" — a service started on a restored copy shows the same
/// books as its source: every loan, the trial balance and the audit trail, through the API.
#[tokio::test]
async fn a_service_started_on_a_restored_copy_shows_the_same_books() {
    let app = spawn_app().await;
    if !is_sqlite(&app) {
        return;
    }
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    set_date(&app, "2026-02-10").await;
    for n in 0..3 {
        json_of(
            post_keyed(
                &app,
                &format!("/api/v1/loans/{loan_id}/repayments"),
                &staff.accountant,
                Some(&format!("restore-test-{n}")),
                &json!({"amount_vnd": 2_500_000, "value_date": "2026-02-10",
                        "reference": format!("GD {n}"), "kind": "ordinary"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let done = backups::backup(&app.db, dir.path(), chrono::Utc::now())
        .await
        .expect("backup");
    let books = |address: String, client: reqwest::Client, token: String| async move {
        let mut seen = Vec::new();
        for path in [
            "/api/v1/loans".to_string(),
            format!("/api/v1/loans/{loan_id}"),
            "/api/v1/ledger/trial-balance".to_string(),
            "/api/v1/audit".to_string(),
        ] {
            let response = client
                .get(format!("{address}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            seen.push((path, json_of(response, StatusCode::OK).await));
        }
        seen
    };
    let source = books(
        app.address.clone(),
        app.client.clone(),
        app.admin_token.clone(),
    )
    .await;

    let target = dir.path().join("restored.db");
    backups::restore_file(&done.path, &target, false).expect("restore into a fresh path");
    let mut settings = app.settings.clone();
    settings.database.url = format!("sqlite://{}?mode=rwc", target.display());
    let db = coopfund::server::prepare_database(&settings)
        .await
        .expect("the restored copy migrates and opens");
    let restored = coopfund::server::Application::build_with_db(settings, db)
        .await
        .expect("the service starts on the restored copy");
    let address = format!("http://{}", restored.local_addr());
    tokio::spawn(restored.run_until_stopped());
    // The admin's token is in the copy too: no login, so not even a login changes the audit trail.
    let copy = books(address, reqwest::Client::new(), app.admin_token.clone()).await;
    for ((path, from_source), (_, from_copy)) in source.iter().zip(&copy) {
        assert_eq!(from_source, from_copy, "{path} differs after the restore");
    }
    assert!(
        source[0].1.to_string().contains(&loan_id.to_string()),
        "the loan is listed"
    );
}
