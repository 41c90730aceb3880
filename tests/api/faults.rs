//! Faults (issue 13): the real `coopfund serve` killed with SIGKILL during a burst of disbursements and
//! during the outbox worker's send; PostgreSQL restarted under a repayment load; the SQLite disk full
//! and the SQLite file read-only. In each: nothing acknowledged is lost or applied twice (every request
//! is retried with its `Idempotency-Key` afterwards), the books verify, and the service says clearly
//! what is wrong while it is wrong.
//!
//! The PostgreSQL restart uses a cluster of its own (initdb on a free port, as the `postgres` user), so
//! it never disturbs the shared server; it runs in the PostgreSQL pass (`COOPFUND_TEST_DATABASE_URL`
//! set) and is skipped, with a message, when initdb or root is missing. The SQLite disk tests mount a
//! small tmpfs (root only; skipped with a message otherwise) and run in the SQLite pass.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app_with, TestApp},
    loan_fixtures::{
        active_loan, approved_loan, assert_ledger_verifies, example_3, set_date, sign, Staff, Terms,
    },
    smtp::{free_port, SmtpServer},
};

fn on_postgres() -> bool {
    std::env::var("COOPFUND_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `coopfund serve` as a child process on `url`, killed (SIGKILL) on drop.
struct Served {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Served {
    fn start(url: &str, env: &[(&str, String)], log: PathBuf) -> Served {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_coopfund"));
        command
            .arg("serve")
            .env("COOPFUND__DATABASE__URL", url)
            .env("COOPFUND__SERVER__HOST", "127.0.0.1")
            .env("COOPFUND__SERVER__PORT", port.to_string())
            .env("COOPFUND__COB__ENABLED", "false")
            .env("COOPFUND__BACKUP__ENABLED", "false")
            .env("COOPFUND__LOG__LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("start coopfund serve");
        Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    async fn ready(&mut self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            if let Some(status) = self.child.try_wait().expect("poll") {
                panic!("coopfund serve exited ({status}): {}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "coopfund serve not ready: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        self.child.wait().expect("reap");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request that must take effect exactly once: where, what, and its idempotency key.
#[derive(Debug, Clone)]
struct Keyed {
    path: String,
    body: Value,
    key: String,
}

/// Sends `request` to `base`; the transaction id when acknowledged (201), else the status or error.
async fn send_keyed(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    request: &Keyed,
) -> Result<i64, String> {
    let response = client
        .post(format!("{base}{}", request.path))
        .bearer_auth(token)
        .header("Idempotency-Key", &request.key)
        .json(&request.body)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status == StatusCode::CREATED {
        Ok(body["id"].as_i64().expect("transaction id"))
    } else {
        Err(format!("{status} {body}"))
    }
}

/// Retries every request with its key until each is acknowledged; an acknowledged one must come back
/// with the same transaction (a replay, not a second posting).
async fn settle_all(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    requests: &[Keyed],
    acknowledged: &BTreeMap<String, i64>,
) -> BTreeMap<String, i64> {
    let mut settled = BTreeMap::new();
    for request in requests {
        let mut last = String::new();
        let mut id = None;
        for _ in 0..100 {
            match send_keyed(client, base, token, request).await {
                Ok(tx) => {
                    id = Some(tx);
                    break;
                }
                Err(err) => last = err,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let id = id.unwrap_or_else(|| panic!("{} never acknowledged: {last}", request.key));
        if let Some(before) = acknowledged.get(&request.key) {
            assert_eq!(
                *before, id,
                "{}: acknowledged as {before}, replayed as {id}",
                request.key
            );
        }
        settled.insert(request.key.clone(), id);
    }
    settled
}

/// The loan's transactions of `kind` that are not reversed: id → amount.
async fn posted(
    app: &TestApp,
    token: &str,
    base: &str,
    loan: i64,
    kind: &str,
) -> BTreeMap<i64, i64> {
    let response = app
        .client
        .get(format!("{base}/api/v1/loans/{loan}/transactions"))
        .bearer_auth(token)
        .send()
        .await
        .expect("transactions");
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.expect("json");
    list.as_array()
        .expect("array")
        .iter()
        .filter(|t| t["kind"] == kind && t["reversed_by"].is_null())
        .map(|t| (t["id"].as_i64().unwrap(), t["amount_vnd"].as_i64().unwrap()))
        .collect()
}

fn ledger_verify(url: &str) {
    let verify = Command::new(env!("CARGO_BIN_EXE_coopfund"))
        .args(["ledger", "verify"])
        .env("COOPFUND__DATABASE__URL", url)
        .env("COOPFUND__LOG__LEVEL", "warn")
        .output()
        .expect("ledger verify");
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Sends `requests` 8 at a time to `base` and kills `served` once `kill_after` are acknowledged.
async fn burst_then_kill(
    client: &reqwest::Client,
    served: &mut Served,
    token: &str,
    requests: &[Keyed],
    kill_after: usize,
) -> BTreeMap<String, i64> {
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    for request in requests.iter().cloned() {
        let (client, base, token, sender) = (
            client.clone(),
            served.base.clone(),
            token.to_string(),
            sender.clone(),
        );
        let semaphore = semaphore.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await.expect("permit");
            let outcome = send_keyed(&client, &base, &token, &request).await;
            let _ = sender.send((request.key, outcome));
        }));
    }
    drop(sender);
    let mut acknowledged = BTreeMap::new();
    let mut killed = false;
    while let Some((key, outcome)) = receiver.recv().await {
        if let Ok(tx) = outcome {
            acknowledged.insert(key, tx);
        }
        if !killed && acknowledged.len() >= kill_after {
            served.kill();
            killed = true;
        }
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert!(killed, "the burst ended before the kill: {acknowledged:?}");
    assert!(
        acknowledged.len() < requests.len(),
        "the kill came mid-burst ({} of {})",
        acknowledged.len(),
        requests.len()
    );
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_disbursement_burst_loses_and_doubles_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    set_date(&app, "2026-01-10").await;
    let mut loans = Vec::new();
    for _ in 0..6 {
        let loan = approved_loan(&app, coop, &example_3()).await;
        sign(&app, &staff, loan, "2026-01-10").await;
        loans.push(loan);
    }
    // Each loan in ten tranches of 10,000,000: 60 disbursements, a key each.
    let mut requests = Vec::new();
    for round in 0..10 {
        for loan in &loans {
            requests.push(Keyed {
                path: format!("/api/v1/loans/{loan}/disbursements"),
                body: json!({"amount_vnd": 10_000_000, "value_date": "2026-01-10", "reference": format!("UNC {round}")}),
                key: format!("burst-{loan}-{round}"),
            });
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.settings.database.url.clone();
    let mut served = Served::start(&url, &[], dir.path().join("serve-1.log"));
    served.ready(&app.client).await;
    let acknowledged =
        burst_then_kill(&app.client, &mut served, &staff.accountant, &requests, 15).await;

    let mut again = Served::start(&url, &[], dir.path().join("serve-2.log"));
    again.ready(&app.client).await;
    let settled = settle_all(
        &app.client,
        &again.base,
        &staff.accountant,
        &requests,
        &acknowledged,
    )
    .await;
    for loan in &loans {
        let tranches = posted(&app, &staff.auditor, &again.base, *loan, "disbursement").await;
        assert_eq!(
            tranches.len(),
            10,
            "loan {loan}: each tranche exactly once: {tranches:?}"
        );
        assert_eq!(tranches.values().sum::<i64>(), 100_000_000);
        for round in 0..10 {
            let tx = settled[&format!("burst-{loan}-{round}")];
            assert!(
                tranches.contains_key(&tx),
                "tranche {round} of {loan} is {tx}"
            );
        }
    }
    println!(
        "disbursement burst: {} of {} acknowledged before SIGKILL; all 60 posted once after the retry",
        acknowledged.len(),
        requests.len()
    );
    again.kill();
    ledger_verify(&url);
}

/// A TCP server that accepts SMTP connections and never answers: the worker is stuck mid-send.
fn silent_smtp_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).expect("nonblocking");
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            if held.len() > 16 {
                break;
            }
        }
    });
    (port, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_the_outbox_send_delivers_each_message_after_the_restart() {
    use coopfund::store::entities::outbox_message;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let app = spawn_app_with(|_| {}).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    // A disbursement queues a mail to the cooperative (and its officer).
    active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let queued = outbox_message::Entity::find()
        .all(&app.db)
        .await
        .expect("outbox");
    assert!(!queued.is_empty(), "a mail is queued");

    let (silent_port, _silent) = silent_smtp_server();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = app.settings.database.url.clone();
    let mail_env = |port: u16| {
        vec![
            ("COOPFUND__SMTP__ENABLED", "true".to_string()),
            ("COOPFUND__SMTP__HOST", "127.0.0.1".to_string()),
            ("COOPFUND__SMTP__PORT", port.to_string()),
            ("COOPFUND__SMTP__TIMEOUT_SECONDS", "5".to_string()),
            ("COOPFUND__OUTBOX__POLL_INTERVAL_SECONDS", "1".to_string()),
            ("COOPFUND__OUTBOX__LEASE_SECONDS", "20".to_string()),
            ("COOPFUND__OUTBOX__BACKOFF_BASE_SECONDS", "1".to_string()),
        ]
    };
    let mut served = Served::start(&url, &mail_env(silent_port), dir.path().join("serve-1.log"));
    served.ready(&app.client).await;
    // Wait until the worker has claimed a message and is talking to the silent server.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sending = outbox_message::Entity::find()
            .filter(outbox_message::Column::Status.eq("sending"))
            .all(&app.db)
            .await
            .expect("outbox");
        if !sending.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never claimed a message: {}",
            served.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    served.kill();

    let smtp = SmtpServer::start();
    let mut again = Served::start(&url, &mail_env(smtp.port), dir.path().join("serve-2.log"));
    again.ready(&app.client).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let rows = loop {
        let rows = outbox_message::Entity::find()
            .all(&app.db)
            .await
            .expect("outbox");
        if rows.iter().all(|m| m.status == "sent") {
            break rows;
        }
        assert!(
            Instant::now() < deadline,
            "not every message was sent after the restart: {:?} {}",
            rows.iter()
                .map(|m| (&m.status, &m.last_error))
                .collect::<Vec<_>>(),
            again.stderr()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let received = smtp.messages();
    for row in &rows {
        let copies = received
            .iter()
            .filter(|m| {
                m.message_id.trim_matches(['<', '>']) == row.message_id.trim_matches(['<', '>'])
            })
            .count();
        assert_eq!(
            copies, 1,
            "message {} delivered once, with its own Message-ID: {received:?}",
            row.message_id
        );
    }
    assert_eq!(received.len(), rows.len(), "nothing else delivered");
    again.kill();
    assert_ledger_verifies(&app).await;
}

/// A PostgreSQL cluster of the test's own (initdb as `postgres`), on a free port.
struct OwnCluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
}

impl OwnCluster {
    fn create() -> Result<OwnCluster, String> {
        if !is_root() {
            return Err("not root: cannot run initdb as the postgres user".into());
        }
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("no /usr/lib/postgresql: {e}"))?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())
            .ok_or("no initdb under /usr/lib/postgresql")?;
        let dir =
            std::env::temp_dir().join(format!("coopfund-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let chown = Command::new("chown")
            .args(["postgres:postgres", dir.to_str().unwrap()])
            .status()
            .map_err(|e| e.to_string())?;
        if !chown.success() {
            return Err("no postgres user to own the cluster".into());
        }
        let cluster = OwnCluster {
            dir,
            port: free_port(),
            bin,
        };
        let data = cluster.dir.join("data");
        cluster.as_postgres(&[
            cluster.bin.join("initdb").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ])?;
        cluster.pg_ctl("start")?;
        Ok(cluster)
    }

    fn as_postgres(&self, args: &[&str]) -> Result<(), String> {
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{args:?}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    fn pg_ctl(&self, action: &str) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("pg.log");
        let mut args = vec![
            self.bin.join("pg_ctl").to_str().unwrap().to_string(),
            "-D".into(),
            data.to_str().unwrap().into(),
            "-l".into(),
            log.to_str().unwrap().into(),
            "-w".into(),
            "-m".into(),
            "fast".into(),
        ];
        if action != "stop" {
            args.push("-o".into());
            args.push(options);
        }
        args.push(action.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.as_postgres(&args)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl("stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn readyz(app: &TestApp) -> StatusCode {
    match app
        .client
        .get(app.url("/readyz"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
    {
        Ok(r) => r.status(),
        Err(_) => StatusCode::REQUEST_TIMEOUT,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_under_a_repayment_load_recovers_by_itself_and_loses_nothing() {
    if !on_postgres() {
        println!("skipped: the PostgreSQL restart runs in the PostgreSQL pass (COOPFUND_TEST_DATABASE_URL)");
        return;
    }
    let cluster = match OwnCluster::create() {
        Ok(cluster) => cluster,
        Err(why) => {
            println!("skipped: cannot make a PostgreSQL cluster to restart: {why}");
            return;
        }
    };
    let url = cluster.url();
    let app = spawn_app_with(|s| s.database.url = url.clone()).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let terms = Terms {
        principal_vnd: 1_000_000_000,
        ..example_3()
    };
    let loan = active_loan(&app, &staff, coop, &terms, "2026-01-10").await;
    let requests: Vec<Keyed> = (0..60)
        .map(|i| Keyed {
            path: format!("/api/v1/loans/{loan}/repayments"),
            body: json!({"amount_vnd": 100_000, "value_date": "2026-01-10", "reference": format!("GD {i}"), "kind": "ordinary"}),
            key: format!("pg-restart-{i}"),
        })
        .collect();

    // A client posts the 60 in order while the cluster is stopped (after the 20th acknowledgement)
    // and started again.
    let (progress, mut acknowledgements) = tokio::sync::watch::channel(0usize);
    let loader = {
        let (client, base, token, requests) = (
            app.client.clone(),
            app.address.clone(),
            staff.accountant.clone(),
            requests.clone(),
        );
        tokio::spawn(async move {
            let mut acknowledged = BTreeMap::new();
            let mut errors = Vec::new();
            for request in &requests {
                match send_keyed(&client, &base, &token, request).await {
                    Ok(tx) => {
                        acknowledged.insert(request.key.clone(), tx);
                        let _ = progress.send(acknowledged.len());
                    }
                    Err(err) => errors.push(err),
                }
            }
            (acknowledged, errors)
        })
    };
    acknowledgements
        .wait_for(|n| *n >= 20)
        .await
        .expect("20 acknowledged before the restart");
    cluster.pg_ctl("stop").expect("stop PostgreSQL");
    let ready_while_down = readyz(&app).await;
    // A request of its own while the database is down: a clear 503, not a hang or a 500.
    let probe = app
        .client
        .get(app.url(&format!("/api/v1/loans/{loan}")))
        .bearer_auth(&staff.auditor)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("an answer while the database is down");
    let probe_status = probe.status();
    let probe_body: Value = probe.json().await.unwrap_or(Value::Null);
    cluster.pg_ctl("start").expect("start PostgreSQL");
    let (acknowledged, errors) = loader.await.expect("loader");
    assert_eq!(
        ready_while_down,
        StatusCode::SERVICE_UNAVAILABLE,
        "/readyz while the database is down"
    );
    assert_eq!(
        probe_status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{probe_body}"
    );
    assert_eq!(probe_body["error"]["code"], "database_unavailable");
    for err in &errors {
        assert!(
            err.starts_with("503") || err.starts_with("no answer"),
            "a request during the restart: {err}"
        );
    }
    let refused_while_down = errors.len();
    // The same process, not restarted, is ready again and takes every request.
    let deadline = Instant::now() + Duration::from_secs(60);
    while readyz(&app).await != StatusCode::OK {
        assert!(Instant::now() < deadline, "/readyz never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settled = settle_all(
        &app.client,
        &app.address,
        &staff.accountant,
        &requests,
        &acknowledged,
    )
    .await;
    let repayments = posted(&app, &staff.auditor, &app.address, loan, "repayment").await;
    assert_eq!(repayments.len(), 60, "each repayment exactly once");
    for tx in settled.values() {
        assert!(repayments.contains_key(tx));
    }
    println!(
        "PostgreSQL restart: {} acknowledged around the restart, {refused_while_down} refused while down, 60 posted once",
        acknowledged.len()
    );
    assert_ledger_verifies(&app).await;
}

/// A tmpfs of `size` mounted for one test, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        if !is_root() {
            return Err("not root: cannot mount a tmpfs".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("mount -t tmpfs failed".into());
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn integrity_check(file: &Path) -> String {
    let output = Command::new("sqlite3")
        .arg(file)
        .arg("PRAGMA integrity_check;")
        .output();
    match output {
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Err(_) => "ok".into(), // no sqlite3 shell: `ledger verify` still reads every row
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gives_a_clear_error_and_no_corruption_on_sqlite() {
    if on_postgres() {
        println!("skipped: a full SQLite disk is tested in the SQLite pass");
        return;
    }
    let tmpfs = match Tmpfs::mount("6m") {
        Ok(t) => t,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let file = tmpfs.path().join("fund.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let app = spawn_app_with(|s| s.database.url = url.clone()).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;

    // Fill the disk.
    let filler = tmpfs.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    let requests: Vec<Keyed> = (0..40)
        .map(|i| Keyed {
            path: format!("/api/v1/loans/{loan}/repayments"),
            body: json!({"amount_vnd": 100_000, "value_date": "2026-01-10", "reference": format!("GD {i}"), "kind": "ordinary"}),
            key: format!("full-{i}"),
        })
        .collect();
    let mut acknowledged = BTreeMap::new();
    let mut errors = Vec::new();
    for request in &requests {
        let response = app
            .client
            .post(app.url(&request.path))
            .bearer_auth(&staff.accountant)
            .header("Idempotency-Key", &request.key)
            .json(&request.body)
            .send()
            .await
            .expect("the service answers on a full disk");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == StatusCode::CREATED {
            acknowledged.insert(request.key.clone(), body["id"].as_i64().unwrap());
        } else {
            errors.push((status, body));
        }
    }
    assert!(
        !errors.is_empty(),
        "the disk was full: every write succeeded"
    );
    for (status, body) in &errors {
        assert_eq!(
            *status,
            StatusCode::SERVICE_UNAVAILABLE,
            "a full disk is a 503 that says so: {body}"
        );
        assert_eq!(body["error"]["code"], "storage_full", "{body}");
    }
    // Reads still work, and so does the service once space is freed.
    let view = app
        .get(&format!("/api/v1/loans/{loan}"), &staff.auditor)
        .await;
    assert_eq!(view.status(), StatusCode::OK);
    std::fs::remove_file(&filler).expect("free the disk");
    let settled = settle_all(
        &app.client,
        &app.address,
        &staff.accountant,
        &requests,
        &acknowledged,
    )
    .await;
    let repayments = posted(&app, &staff.auditor, &app.address, loan, "repayment").await;
    assert_eq!(repayments.len(), 40, "each repayment exactly once");
    for tx in settled.values() {
        assert!(repayments.contains_key(tx));
    }
    assert_ledger_verifies(&app).await;
    assert_eq!(integrity_check(&file), "ok");
    println!(
        "full disk: {} acknowledged, {} refused with storage_full, 40 posted once after space was freed",
        acknowledged.len(),
        errors.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_file_gives_a_clear_error_and_stays_intact() {
    if on_postgres() {
        println!("skipped: a read-only SQLite file is tested in the SQLite pass");
        return;
    }
    let tmpfs = match Tmpfs::mount("16m") {
        Ok(t) => t,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    // A fund made by a first process, which then stops.
    let file = tmpfs.path().join("fund.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    {
        let app = spawn_app_with(|s| s.database.url = url.clone()).await;
        let staff = Staff::new(&app).await;
        let coop = app.cooperative().await;
        active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
        app.db.clone().close().await.expect("close");
    }
    let checkpoint = Command::new("sqlite3")
        .arg(&file)
        .arg("PRAGMA wal_checkpoint(TRUNCATE);")
        .output();
    let _ = checkpoint;
    let before = std::fs::read(&file).expect("read");
    let remount = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(tmpfs.path())
        .output()
        .expect("remount");
    assert!(
        remount.status.success(),
        "remount read-only: {}",
        String::from_utf8_lossy(&remount.stderr)
    );

    // Starting on it says what is wrong and exits; a close of business too.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut served = Served::start(&url, &[], dir.path().join("serve.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = served.child.try_wait().expect("poll") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve kept running on a read-only database: {}",
            served.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    let said = served.stderr();
    assert!(
        said.contains("read-only") || said.contains("readonly"),
        "the error names the cause: {said}"
    );
    assert!(!said.contains("panicked"), "{said}");
    let after = std::fs::read(&file).expect("read");
    assert!(before == after, "the file is untouched");

    let remount = Command::new("mount")
        .args(["-o", "remount,rw"])
        .arg(tmpfs.path())
        .status()
        .expect("remount");
    assert!(remount.success());
    assert_eq!(integrity_check(&file), "ok");
    ledger_verify(&url);
}
