//! The `coopfund` command through its real binary.

mod upgrade;

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

fn coopfund(db_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coopfund"))
        .args(args)
        .env("COOPFUND__DATABASE__URL", db_url)
        .env("COOPFUND__LOG__LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run coopfund");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    (dir, url)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
    ] {
        let out = coopfund("sqlite::memory:", &args, None);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn migrate_then_add_and_list_a_user_with_the_password_from_stdin() {
    let (_dir, url) = temp_db();
    let out = coopfund(&url, &["migrate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = coopfund(
        &url,
        &[
            "user",
            "add",
            "--username",
            "ke.toan",
            "--role",
            "accountant",
        ],
        Some("mat-khau-dai-1\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("created user ke.toan"));
    let out = coopfund(&url, &["user", "list"], None);
    let listing = text(&out.stdout);
    assert!(
        listing.contains("ke.toan") && listing.contains("accountant") && listing.contains("active"),
        "{listing}"
    );
    let out = coopfund(&url, &["user", "disable", "--username", "ke.toan"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&coopfund(&url, &["user", "list"], None).stdout).contains("disabled"));
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let (_dir, url) = temp_db();
    let out = coopfund(
        &url,
        &["user", "add", "--username", "x", "--role", "wizard"],
        Some("mat-khau-dai-1\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown_value"),
        "{}",
        text(&out.stderr)
    );
    let out = coopfund(
        &url,
        &["user", "add", "--username", "y", "--role", "officer"],
        Some("short\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    let out = coopfund(&url, &["no-such-command"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_wrong_configuration_value_names_its_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_coopfund"))
        .args(["migrate"])
        .env("COOPFUND__FUND__TIME_ZONE", "Mars/Olympus")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("fund.time_zone"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn schedule_prints_the_preview_json_and_a_table() {
    let args = [
        "schedule",
        "--principal",
        "120000000",
        "--rate",
        "7.2",
        "--installments",
        "12",
        "--period-months",
        "1",
        "--method",
        "equal_principal",
        "--disbursed-on",
        "2026-01-31",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = coopfund("sqlite::memory:", &json_args, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(body["installments"][0]["interest_vnd"], 662_795);
    assert_eq!(body["installments"][11]["due_on"], "2027-01-31");
    assert_eq!(body["total_principal_vnd"], 120_000_000);
    let table = text(&coopfund("sqlite::memory:", &args, None).stdout);
    assert!(table.contains("10,662,795"), "{table}");
    assert!(
        table.contains("total principal 120,000,000 VND, total interest "),
        "{table}"
    );
}

#[test]
fn impossible_schedule_terms_exit_2_with_the_reason() {
    let out = coopfund(
        "sqlite::memory:",
        &[
            "schedule",
            "--principal",
            "1000000",
            "--rate",
            "7",
            "--installments",
            "3",
            "--period-months",
            "1",
            "--method",
            "annuity",
            "--disbursed-on",
            "2026-01-31",
            "--principal-grace",
            "3",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("principal_grace_not_below_installments"),
        "{}",
        text(&out.stderr)
    );
    let out = coopfund(
        "sqlite::memory:",
        &[
            "schedule",
            "--principal",
            "-1",
            "--rate",
            "7",
            "--installments",
            "3",
            "--period-months",
            "1",
            "--method",
            "annuity",
            "--disbursed-on",
            "2026-01-31",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn fund_contribute_records_charter_capital_and_refuses_a_future_date() {
    let (_dir, url) = temp_db();
    let out = coopfund(
        &url,
        &[
            "fund",
            "contribute",
            "--amount-vnd",
            "10000000000",
            "--on",
            "2024-01-02",
            "--reference",
            "QĐ 1/QĐ-UBND",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("paid-in charter capital now 10000000000"),
        "{printed}"
    );
    let out = coopfund(
        &url,
        &[
            "fund",
            "contribute",
            "--amount-vnd",
            "1",
            "--on",
            "2999-01-01",
            "--reference",
            "x",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("contributed_on"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ledger_verify_exits_zero_on_sound_books_and_non_zero_listing_an_unbalanced_entry() {
    let (_dir, url) = temp_db();
    let out = coopfund(&url, &["ledger", "verify"], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("OK"), "{}", text(&out.stdout));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(url.as_str()).await.expect("connect");
        db.execute_unprepared(
            "INSERT INTO journal_entries (id, entry_date, kind, description, posted_at) VALUES (900, '2026-01-01', 'manual', 'lệch', '2026-01-01T00:00:00Z');
             INSERT INTO journal_lines (entry_id, account_code, debit_vnd, credit_vnd) VALUES (900, '1121', 1000, 0);",
        )
        .await
        .expect("insert an unbalanced entry");
    });
    let out = coopfund(&url, &["ledger", "verify"], None);
    assert!(!out.status.success());
    let report = text(&out.stdout);
    assert!(report.contains("entry 900 does not balance"), "{report}");
    assert!(
        report.contains("total debits 1000 differ from total credits 0"),
        "{report}"
    );
}

/// Issue 15 through the real binary: `backup` writes a verified copy of the demo fund, `restore` puts it into a
/// fresh path (the books verify), refuses a path that holds a database without `--force`, and refuses a damaged
/// copy.
#[test]
fn backup_then_restore_the_demo_fund_into_a_fresh_database() {
    let (dir, url) = temp_db();
    let out = coopfund(&url, &["demo"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let backups = dir.path().join("backups");
    let out = coopfund(
        &url,
        &["backup", "--to", &backups.display().to_string()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("sha256: "), "{stdout}");
    let copy = std::fs::read_dir(&backups)
        .expect("backups")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "db"))
        .expect("a copy");
    let copy_arg = copy.display().to_string();

    let restored_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("restored.db").display()
    );
    let out = coopfund(&restored_url, &["restore", "--from", &copy_arg], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("holds what its manifest says"), "{stdout}");
    let out = coopfund(&restored_url, &["ledger", "verify"], None);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // Again onto the restored database: refused (exit 2) unless forced.
    let out = coopfund(&restored_url, &["restore", "--from", &copy_arg], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    let out = coopfund(
        &restored_url,
        &["restore", "--from", &copy_arg, "--force"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A damaged copy is refused before anything is written.
    let mut bytes = std::fs::read(&copy).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&copy, bytes).expect("damage");
    let fresh_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("fresh.db").display()
    );
    let out = coopfund(&fresh_url, &["restore", "--from", &copy_arg], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("SHA-256"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("fresh.db").exists());
}

#[test]
fn calendar_add_list_and_remove_a_holiday() {
    let (_dir, url) = temp_db();
    let out = coopfund(&url, &["migrate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = coopfund(
        &url,
        &[
            "calendar",
            "add",
            "--date",
            "2099-12-31",
            "--name",
            "Nghỉ cuối năm",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("holiday 2099-12-31 (Nghỉ cuối năm) entered"));
    let out = coopfund(
        &url,
        &[
            "calendar",
            "list",
            "--from",
            "2099-12-30",
            "--to",
            "2100-01-01",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    // 2099-12-31 is a Thursday; 2100-01-01 a Friday.
    assert!(
        listed.contains("2099-12-31  thursday   2100-01-01  Nghỉ cuối năm"),
        "{listed}"
    );
    let out = coopfund(&url, &["calendar", "remove", "--date", "2099-12-31"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A day already closed (before the business date) is refused: exit 2 with the rule's code.
    let out = coopfund(
        &url,
        &["calendar", "add", "--date", "2000-01-03", "--name", "x"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("holiday_not_after_business_date"));
}

/// `serve` with built-in HTTPS and a key it cannot read stops at once with exit 2 (the systemd
/// unit does not restart it in a loop) and a message naming `server.tls.key_path` and the file.
#[test]
fn serve_with_an_unreadable_tls_key_exits_2_naming_the_key() {
    let (dir, url) = temp_db();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("a self-signed certificate");
    let cert_path = dir.path().join("cert.pem");
    std::fs::write(&cert_path, certified.cert.pem()).expect("write the certificate");
    let key_path = dir.path().join("missing-key.pem");
    let out = Command::new(env!("CARGO_BIN_EXE_coopfund"))
        .args(["serve"])
        .env("COOPFUND__DATABASE__URL", &url)
        .env("COOPFUND__LOG__LEVEL", "warn")
        .env("COOPFUND__SERVER__PORT", "0")
        .env("COOPFUND__SERVER__TLS__ENABLED", "true")
        .env("COOPFUND__SERVER__TLS__CERT_PATH", &cert_path)
        .env("COOPFUND__SERVER__TLS__KEY_PATH", &key_path)
        .env("COOPFUND__SERVER__TLS__REDIRECT_PORT", "0")
        .env("COOPFUND_ADMIN_PASSWORD", "admin-password-123")
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("server.tls.key_path"), "{stderr}");
    assert!(stderr.contains("missing-key.pem"), "{stderr}");
}

/// Issue 11 item 1 through the real binary: `audit verify` names an edited row; `audit checkpoint` prints the
/// heads; after a consistent rewrite of a whole chain `audit verify` alone passes but `audit verify
/// --checkpoint FILE` does not.
#[test]
fn audit_verify_names_an_edit_and_a_saved_checkpoint_catches_a_rewritten_chain() {
    let (dir, url) = temp_db();
    for reference in ["QĐ 1/QĐ-UBND", "QĐ 2/QĐ-UBND"] {
        let out = coopfund(
            &url,
            &[
                "fund",
                "contribute",
                "--amount-vnd",
                "5000000000",
                "--on",
                "2020-01-02",
                "--reference",
                reference,
            ],
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let out = coopfund(&url, &["audit", "verify"], None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("charter_capital: OK, 2 rows"),
        "{}",
        text(&out.stdout)
    );
    let out = coopfund(&url, &["audit", "checkpoint"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let checkpoint = dir.path().join("checkpoint.json");
    std::fs::write(&checkpoint, &out.stdout).expect("save the checkpoint");
    let checkpoint = checkpoint.display().to_string();
    let out = coopfund(
        &url,
        &["audit", "verify", "--checkpoint", &checkpoint],
        None,
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let execute = |sql: String| {
        runtime.block_on(async {
            use sea_orm::ConnectionTrait;
            let db = sea_orm::Database::connect(url.as_str())
                .await
                .expect("connect");
            db.execute_unprepared(&sql).await.expect("tamper");
            db.close().await.ok();
        })
    };
    // A plain edit of the audit trail is named.
    execute("UPDATE audit_records SET actor = 'ai đó' WHERE id = 1".into());
    let out = coopfund(&url, &["audit", "verify"], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("audit_records row 1 (seq 1) was edited"),
        "{}",
        text(&out.stdout)
    );
    // A forger doubles the first contribution and re-hashes the whole chain and its head.
    execute(
        "UPDATE charter_capital_contributions SET amount_vnd = 10000000000 WHERE id = 1".into(),
    );
    let rows = runtime.block_on(async {
        let db = sea_orm::Database::connect(url.as_str())
            .await
            .expect("connect");
        let chain = coopfund_domain::chain::Chain::CharterCapital;
        migration::chain_rows::read_batch(&db, chain, migration::chain_rows::Order::Id, 0, 100)
            .await
            .expect("rows")
    });
    let fields: Vec<_> = rows.iter().map(|r| r.fields.clone()).collect();
    let links = coopfund_domain::chain::links_after(
        coopfund_domain::chain::Chain::CharterCapital,
        0,
        coopfund_domain::chain::GENESIS,
        &fields,
    );
    let mut sql = String::new();
    for (row, link) in rows.iter().zip(&links) {
        sql.push_str(&format!(
            "UPDATE charter_capital_contributions SET chain_prev = '{}', chain_hash = '{}' WHERE id = {};",
            link.prev, link.hash, row.id
        ));
    }
    let last = links.last().expect("links");
    sql.push_str(&format!(
        "UPDATE chain_heads SET hash = '{}' WHERE chain = 'charter_capital';",
        last.hash
    ));
    execute(sql);
    let out = coopfund(&url, &["audit", "verify"], None);
    let report = text(&out.stdout);
    assert!(report.contains("charter_capital: OK"), "{report}");
    let out = coopfund(
        &url,
        &["audit", "verify", "--checkpoint", &checkpoint],
        None,
    );
    assert!(!out.status.success());
    let report = text(&out.stdout);
    assert!(
        report.contains("charter_capital_contributions: the rows up to seq 2 (row 2) no longer hash to the checkpoint"),
        "{report}"
    );
}
