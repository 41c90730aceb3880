//! The `coopfund` command: `serve`, `migrate`, `user …` and the operator tools.
//!
//! Exit codes: 0 success, 1 a failure of ours (database unreachable …), 2 a mistake in what was
//! asked (bad arguments, invalid values), with a message on stderr.

use std::{io::BufRead, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};

use crate::{
    app::{
        schedule_preview::{self, PreviewRequest},
        users::{self, AccountChange, NewAccount},
        Caller,
    },
    config::Settings,
    error::{AppError, ErrorKind},
    server::{self, Application},
    telemetry,
};

/// coopfund: lending for a Cooperative Development Support Fund.
#[derive(Debug, Parser)]
#[command(name = "coopfund", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML); the embedded defaults apply when it is absent.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP service (migrates the database first; creates the first admin).
    Serve {
        /// Load the demo fund first (a fresh database only; the demo users' passwords are printed).
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// The fund itself: record charter capital contributions.
    #[command(subcommand)]
    Fund(FundCommand),
    /// Print a repayment schedule from terms (no database needed).
    Schedule(ScheduleArgs),
    /// Close of business.
    #[command(subcommand)]
    Cob(CobCommand),
    /// The books.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The fund's days off (weekly days off and holidays such as Tết).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// The tamper-evident books: verify the hash chains, print their heads to sign off.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Load a demo fund into the configured database (a fresh one only) and exit.
    Demo(DemoArgs),
    /// Copy the live SQLite database into DIR (the service may keep running), with a manifest of its
    /// SHA-256 and contents; exit 0 only when the copy verifies.
    Backup {
        /// The folder for the copy (created if missing).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Restore a backup made by `coopfund backup` into the configured SQLite database path: checks the copy
    /// against its manifest, refuses a path that already holds a database unless --force, migrates it to this
    /// version and runs `ledger verify`.
    Restore {
        /// The copy (`coopfund-YYYYMMDD-HHMMSS.db`, with its `.json` manifest beside it).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace a database already at the target path.
        #[arg(long)]
        force: bool,
    },
}

/// `demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Bulk mode for benchmarks: this many loans (up to 100,000), inserted in batches. Without it, the
    /// explorable demo that `serve --demo` loads.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub loans: Option<u32>,
}

/// Ledger commands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check the books: every entry balances, debits = credits, each loan's subledger equals the
    /// control accounts, cached balances and posted books equal the engine's replay. Exit 0 only
    /// when every check holds; otherwise a report of each difference and exit 1.
    Verify,
}

/// Audit commands: the hash chains over the audit trail, the journal, the loan transactions and the
/// charter capital contributions.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every chain and name the first row edited, deleted, inserted or reordered in each. With
    /// --checkpoint, also prove that nothing at or before the checkpoint's heads changed, even if a chain was
    /// re-hashed throughout. Exit 0 only when every chain is intact.
    Verify {
        /// A checkpoint saved from `coopfund audit checkpoint` (its JSON, or the compact line).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the chain heads with the date and time, as JSON, to sign off and keep outside the database
    /// (the `compact` line is what `GET /api/v1/audit/verify?checkpoint=` takes).
    Checkpoint,
}

/// Calendar commands: a change only touches days after the business date.
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Enter a holiday (a date after the business date).
    Add {
        /// The day off, YYYY-MM-DD.
        #[arg(long)]
        date: chrono::NaiveDate,
        /// What it is, e.g. "Tết Nguyên đán".
        #[arg(long)]
        name: String,
    },
    /// Remove a holiday (a date after the business date); the record is kept, marked removed.
    Remove {
        /// The holiday, YYYY-MM-DD.
        #[arg(long)]
        date: chrono::NaiveDate,
    },
    /// List the days off between two dates (default: the business date and a year after).
    List {
        /// YYYY-MM-DD.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// YYYY-MM-DD, at most 731 days after `from`.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
}

/// Close-of-business commands.
#[derive(Debug, Subcommand)]
pub enum CobCommand {
    /// Close every business date through DATE, in order (accrual, overdue, classification,
    /// provisions, reminders); skips if another instance is running it.
    Run {
        /// The last business date to close, YYYY-MM-DD.
        #[arg(long)]
        through: chrono::NaiveDate,
    },
}

/// Fund commands.
#[derive(Debug, Subcommand)]
pub enum FundCommand {
    /// Record a charter capital contribution (posts Dr 1121 / Cr 4111); it raises the
    /// Decree 45/2021 Art 23 lending limits.
    Contribute(FundContributeArgs),
}

/// `fund contribute` arguments.
#[derive(Debug, Args)]
pub struct FundContributeArgs {
    /// Amount in đồng, more than 0.
    #[arg(long = "amount-vnd", allow_negative_numbers = true)]
    pub amount_vnd: i64,
    /// Date of the contribution, YYYY-MM-DD, on or before the business date.
    #[arg(long = "on")]
    pub contributed_on: chrono::NaiveDate,
    /// The decision or bank document, e.g. "QĐ 123/QĐ-UBND".
    #[arg(long)]
    pub reference: String,
}

/// `schedule` arguments (API.md: the same terms as `POST /api/v1/schedule/preview`).
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Principal in đồng.
    #[arg(long, allow_negative_numbers = true)]
    pub principal: i64,
    /// Annual rate in percent, e.g. 7.2.
    #[arg(long, allow_negative_numbers = true)]
    pub rate: String,
    /// Number of installments.
    #[arg(long)]
    pub installments: u32,
    /// Months per period: 1, 3, 6 or 12.
    #[arg(long)]
    pub period_months: u32,
    /// annuity, equal_principal or bullet.
    #[arg(long)]
    pub method: String,
    /// Disbursement date, YYYY-MM-DD.
    #[arg(long)]
    pub disbursed_on: chrono::NaiveDate,
    /// First due date, YYYY-MM-DD (default: one period after disbursement).
    #[arg(long)]
    pub first_due_on: Option<chrono::NaiveDate>,
    /// First installments that pay interest only.
    #[arg(long, default_value_t = 0)]
    pub principal_grace: u32,
    /// actual_365 (default) or per_period.
    #[arg(long)]
    pub day_count: Option<String>,
    /// Round annuity installments to a multiple of this many đồng.
    #[arg(long)]
    pub installment_unit: Option<i64>,
    /// `json` (API.md's preview shape) or `table`.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from stdin (one line) or prompted for.
    Add(UserAddArgs),
    /// List accounts.
    List,
    /// Disable an account (its tokens stop working).
    Disable {
        /// The account to disable.
        #[arg(long)]
        username: String,
    },
}

/// `user add` arguments.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// Login name (a-z, 0-9, . _ -).
    #[arg(long)]
    pub username: String,
    /// admin, officer, approver, accountant, auditor or cooperative.
    #[arg(long)]
    pub role: String,
    /// The cooperative's id, for the cooperative role.
    #[arg(long)]
    pub cooperative: Option<i64>,
    /// Full name shown in pages and the audit trail.
    #[arg(long)]
    pub full_name: Option<String>,
    /// Email for notices.
    #[arg(long)]
    pub email: Option<String>,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref().or(default_config_path().as_deref()))
    {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_logging(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(err),
    }
}

/// `config/default.toml` when it exists in the working directory (the README's layout).
fn default_config_path() -> Option<PathBuf> {
    let path = PathBuf::from("config/default.toml");
    path.exists().then_some(path)
}

fn report(err: anyhow::Error) -> ExitCode {
    if let Some(config) = err.downcast_ref::<crate::config::ConfigError>() {
        // A configuration the service cannot use (an unreadable TLS key …): not worth a restart.
        eprintln!("error: {config}");
        return ExitCode::from(2);
    }
    match err.downcast_ref::<AppError>() {
        Some(app) if app.kind != ErrorKind::Internal => {
            let field = app
                .field
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default();
            eprintln!("error: {}{field}: {}", app.code, app.message.en);
            ExitCode::from(2)
        }
        _ => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Migrate => {
            server::prepare_database(&settings).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::User(cmd) => user(cmd, settings).await,
        Command::Fund(FundCommand::Contribute(args)) => fund_contribute(args, settings).await,
        Command::Schedule(args) => print_schedule(args),
        Command::Cob(CobCommand::Run { through }) => cob_run(through, settings).await,
        Command::Ledger(LedgerCommand::Verify) => ledger_verify(settings).await,
        Command::Calendar(cmd) => calendar(cmd, settings).await,
        Command::Audit(cmd) => audit(cmd, settings).await,
        Command::Demo(args) => demo(args, settings).await,
        Command::Backup { to } => backup(to, settings).await,
        Command::Restore { from, force } => restore(from, force, settings).await,
    }
}

async fn backup(to: PathBuf, settings: Settings) -> anyhow::Result<()> {
    use crate::app::backups;
    let db = server::prepare_database(&settings).await?;
    let backup_settings = crate::config::BackupSettings {
        dir: to,
        ..settings.backup.clone()
    };
    let ctx = crate::app::context::AppCtx::new(db, std::sync::Arc::new(settings.clone()));
    let done = backups::run_scheduled(&ctx, &backup_settings, "cli")
        .await
        .map_err(|e| match e {
            backups::BackupError::NotSqlite => refused("backup_not_sqlite", &e),
            other => anyhow::anyhow!("backup failed: {other}"),
        })?;
    let m = &done.manifest;
    println!("backup: {}", done.path.display());
    println!("manifest: {}", done.manifest_path.display());
    println!("sha256: {}  size: {} bytes", m.sha256, m.size_bytes);
    println!(
        "holds: business date {}, {} journal entries (debits {} = credits {} đồng), {} loans, {} audit records",
        m.business_date.map_or("-".into(), |d| d.to_string()),
        m.contents.journal_entries,
        m.contents.total_debit_vnd,
        m.contents.total_credit_vnd,
        m.contents.loans,
        m.contents.audit_records
    );
    Ok(())
}

async fn restore(from: PathBuf, force: bool, settings: Settings) -> anyhow::Result<()> {
    use crate::app::backups::{self, BackupError};
    let Some(target) = crate::store::sqlite_file_path(&settings.database.url) else {
        return Err(refused(
            "restore_not_sqlite",
            &"restore is for the embedded SQLite database; on PostgreSQL use pg_restore (see README)",
        ));
    };
    let manifest = backups::restore_file(&from, std::path::Path::new(&target), force).map_err(
        |e| match e {
            BackupError::Io { .. } | BackupError::Database(_) | BackupError::App(_) => {
                anyhow::anyhow!("restore failed: {e}")
            }
            refusal => refused("restore_refused", &refusal),
        },
    )?;
    let db = server::prepare_database(&settings).await?;
    let contents = backups::contents_of(&db).await?;
    println!(
        "restored {} (sha256 {}) into {target}",
        from.display(),
        manifest.sha256
    );
    if contents != manifest.contents {
        return Err(anyhow::anyhow!(
            "the restored database does not hold what the manifest says: {contents:?} vs {:?}",
            manifest.contents
        ));
    }
    println!(
        "holds what its manifest says: {} journal entries, {} loans, {} audit records",
        contents.journal_entries, contents.loans, contents.audit_records
    );
    let report = crate::app::ledger::verify(&db, &settings.classification.classification()).await?;
    print!("{}", report.render());
    if !report.passed() {
        return Err(anyhow::anyhow!(
            "ledger verify found {} difference(s) in the restored database",
            report.differences.len()
        ));
    }
    Ok(())
}

async fn calendar(cmd: CalendarCommand, settings: Settings) -> anyhow::Result<()> {
    use crate::app::calendar::{self, CalendarRange, NewHoliday};
    let db = server::prepare_database(&settings).await?;
    let ctx = crate::app::context::AppCtx::new(db, std::sync::Arc::new(settings));
    let caller = Caller::cli();
    match cmd {
        CalendarCommand::Add { date, name } => {
            let added = calendar::add_holiday(&ctx, &caller, NewHoliday { date, name }).await?;
            println!(
                "holiday {} ({}) entered; in force for folds after the business date {}",
                added.date, added.name, added.entered_on_business_date
            );
        }
        CalendarCommand::Remove { date } => {
            let removed = calendar::remove_holiday(&ctx, &caller, date).await?;
            println!("holiday {} ({}) removed", removed.date, removed.name);
        }
        CalendarCommand::List { from, to } => {
            let view = calendar::view(&ctx, &caller, CalendarRange { from, to }).await?;
            println!(
                "days off from {} to {} (business date {})",
                view.from, view.to, view.business_date
            );
            for rule in &view.weekly_rules {
                println!(
                    "weekly days off from {}: {}",
                    rule.effective_from,
                    if rule.days_off.is_empty() {
                        "none".to_string()
                    } else {
                        rule.days_off.join(", ")
                    }
                );
            }
            println!(
                "{:<10}  {:<9}  {:<10}  holiday",
                "date", "weekday", "pay by"
            );
            for day in &view.days_off {
                println!(
                    "{}  {:<9}  {}  {}",
                    day.date,
                    day.weekday,
                    day.pay_by,
                    day.holiday.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

/// A refusal of what was asked (exit 2), with the reason.
fn refused(code: &str, reason: &dyn std::fmt::Display) -> anyhow::Error {
    let text = reason.to_string();
    AppError::new(
        ErrorKind::BadRequest,
        code,
        crate::error::Localized::new(text.clone(), text),
    )
    .into()
}

async fn ledger_verify(settings: Settings) -> anyhow::Result<()> {
    let db = server::prepare_database(&settings).await?;
    let report = crate::app::ledger::verify(&db, &settings.classification.classification()).await?;
    print!("{}", report.render());
    if report.passed() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "ledger verify found {} difference(s)",
            report.differences.len()
        ))
    }
}

async fn audit(cmd: AuditCommand, settings: Settings) -> anyhow::Result<()> {
    let db = server::prepare_database(&settings).await?;
    match cmd {
        AuditCommand::Checkpoint => {
            let checkpoint = crate::app::chains::checkpoint_of(&db, chrono::Utc::now()).await?;
            let mut json = serde_json::to_value(&checkpoint)?;
            json["compact"] = checkpoint.compact().into();
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(())
        }
        AuditCommand::Verify { checkpoint, json } => {
            let heads = match checkpoint {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        anyhow::anyhow!("cannot read the checkpoint {}: {e}", path.display())
                    })?;
                    Some(crate::app::chains::parse_checkpoint(&text)?)
                }
                None => None,
            };
            let report =
                crate::app::chains::verify_books(&db, chrono::Utc::now(), heads.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.render());
            }
            if report.passed {
                Ok(())
            } else {
                let tampered = report.chains.iter().filter(|c| !c.intact).count();
                Err(anyhow::anyhow!(
                    "audit verify: {tampered} chain(s) show tampering"
                ))
            }
        }
    }
}

async fn fund_contribute(args: FundContributeArgs, settings: Settings) -> anyhow::Result<()> {
    let db = server::prepare_database(&settings).await?;
    let input = crate::app::charter_capital::NewContribution {
        amount_vnd: args.amount_vnd,
        contributed_on: args.contributed_on,
        reference: args.reference,
    };
    let ctx = crate::app::context::AppCtx::new(db.clone(), std::sync::Arc::new(settings));
    let created = crate::app::charter_capital::contribute(&ctx, &Caller::cli(), input, None)
        .await?
        .fresh()
        .ok_or_else(|| anyhow::anyhow!("a contribution without a key is never a replay"))?;
    let total = crate::app::fund::paid_in_charter_capital_vnd(&db).await?;
    println!(
        "recorded contribution {} of {} đồng on {} (journal entry {}); paid-in charter capital now {} đồng",
        created.id,
        created.amount_vnd,
        created.contributed_on,
        created.journal_entry_id.map(|id| id.to_string()).unwrap_or_default(),
        total
    );
    Ok(())
}

async fn serve(mut settings: Settings, demo: bool) -> anyhow::Result<()> {
    if demo {
        crate::demo::use_demo_bank_account(&mut settings);
    } else if crate::demo::has_placeholder_bank_account(&settings) {
        eprintln!("warning: mail.bank_account_number is the placeholder {}: set the fund's own account and mail.bank_bin (README, \"Install for a fund\") before cooperatives pay by VietQR", crate::demo::PLACEHOLDER_BANK_ACCOUNT_NUMBER);
    }
    let db = server::prepare_database(&settings).await?;
    if demo {
        load_demo(&db, &settings).await?;
    } else {
        server::bootstrap_admin(&crate::app::context::AppCtx::new(
            db.clone(),
            std::sync::Arc::new(settings.clone()),
        ))
        .await?;
    }
    let app = Application::build_with_db(settings, db).await?;
    let address = app.local_addr();
    let scheme = if app.is_https() { "https" } else { "http" };
    println!("coopfund listening on {scheme}://{address}");
    if let Some(redirect) = app.redirect_addr() {
        println!("  plain HTTP on {redirect} redirects to HTTPS");
    }
    println!("  API docs (OpenAPI): {scheme}://{address}/api/v1/openapi.json");
    println!(
        "  log in: curl -s -X POST {scheme}://{address}/api/v1/auth/token -H 'content-type: application/json' -d '{{\"username\":\"admin\",\"password\":\"…\"}}'"
    );
    // The mail worker runs beside the server and stops after it, finishing the message in hand.
    let (stop_mail, mail_stopped) = tokio::sync::watch::channel(false);
    let mail_worker = if app.state().settings.smtp.enabled {
        let smtp = &app.state().settings.smtp;
        println!(
            "  email: delivering through {}:{} ({:?})",
            smtp.host, smtp.port, smtp.tls
        );
        Some(crate::mail::worker::spawn(
            app.state().clone(),
            mail_stopped,
        )?)
    } else {
        println!("  email: queued only (set smtp.enabled = true to deliver)");
        None
    };
    let mut scheduler = crate::jobs::start(app.state().clone()).await?;
    if scheduler.is_some() {
        let cob = &app.state().settings.cob;
        println!(
            "  close of business: scheduled at '{}' ({})",
            cob.cron, cob.time_zone
        );
    }
    let served = app.run_until_stopped().await;
    if let Some(scheduler) = scheduler.as_mut() {
        let _ = scheduler.shutdown().await;
    }
    let _ = stop_mail.send(true);
    if let Some(worker) = mail_worker {
        let _ = worker.await;
    }
    served
}

/// The explorable demo: refuses a database with cooperatives or loans before anything is written; the
/// admin, when created here, gets the demo password (unless `COOPFUND_ADMIN_PASSWORD` is set).
async fn load_demo(db: &sea_orm::DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    crate::demo::ensure_empty(db).await?;
    let from_env = std::env::var("COOPFUND_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let demo_admin = from_env.is_none();
    let password = from_env.unwrap_or_else(|| crate::demo::DEMO_ADMIN_PASSWORD.to_string());
    let ctx = crate::app::context::AppCtx::new(db.clone(), std::sync::Arc::new(settings.clone()));
    let created = users::find_by_username(&ctx, "admin").await.is_err();
    if created {
        users::ensure_admin(&ctx, Some(password)).await?;
    }
    println!("loading the demo fund (about eight months of lending; the last {} days by close of business) …", crate::demo::COB_WINDOW_DAYS);
    let started = std::time::Instant::now();
    let state = crate::state::AppState::new(db.clone(), settings.clone());
    let mut summary = crate::demo::load_explorable(&state).await?;
    if created && demo_admin {
        if let Some(admin) = summary.users.iter_mut().find(|u| u.username == "admin") {
            admin.password = Some(crate::demo::DEMO_ADMIN_PASSWORD.to_string());
        }
    }
    println!(
        "demo fund loaded in {:.1} s: {} cooperatives, {} products, {} applications, {} loans; business date {}; {} days closed; ledger verify OK ({} entries)",
        started.elapsed().as_secs_f64(),
        summary.cooperatives,
        summary.products,
        summary.applications,
        summary.loans,
        summary.business_date,
        summary.cob_days,
        summary.verify.entries_checked
    );
    println!("demo users (fixed demo passwords: never use them for a real fund):");
    print!("{}", crate::demo::credentials_table(&summary.users));
    Ok(())
}

async fn demo(args: DemoArgs, mut settings: Settings) -> anyhow::Result<()> {
    crate::demo::use_demo_bank_account(&mut settings);
    let db = server::prepare_database(&settings).await?;
    match args.loans {
        None => load_demo(&db, &settings).await,
        Some(loans) => {
            crate::demo::ensure_empty(&db).await?;
            let state = crate::state::AppState::new(db, settings);
            server::bootstrap_admin(&state.ctx).await?;
            let summary = crate::demo::load_bulk(&state, loans as usize).await?;
            print!("{}", summary.render());
            Ok(())
        }
    }
}

async fn user(cmd: UserCommand, settings: Settings) -> anyhow::Result<()> {
    let db = server::prepare_database(&settings).await?;
    let ctx = crate::app::context::AppCtx::new(db, std::sync::Arc::new(settings));
    let caller = Caller::cli();
    match cmd {
        UserCommand::Add(args) => {
            let password = read_password()?;
            let role = crate::auth::Role::parse(&args.role).ok_or_else(|| {
                crate::error::AppError::invalid(
                    "role",
                    crate::error::Reason::UnknownValue {
                        allowed: crate::auth::Role::names(),
                    },
                )
            })?;
            let input = NewAccount {
                username: args.username,
                password,
                role,
                full_name: args.full_name,
                email: args.email,
                cooperative_id: args.cooperative.map(Into::into),
                language: crate::error::Lang::Vi,
            };
            let created = users::create(&ctx, &caller, input).await?;
            println!(
                "created user {} (id {}, role {})",
                created.username,
                created.id,
                created.role.as_str()
            );
        }
        UserCommand::List => {
            println!(
                "{:>5}  {:<20} {:<12} {:>11}  status",
                "id", "username", "role", "cooperative"
            );
            for u in users::list(&ctx, &caller).await? {
                let coop = u
                    .cooperative_id
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into());
                let status = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:>5}  {:<20} {:<12} {:>11}  {}",
                    u.id,
                    u.username,
                    u.role.as_str(),
                    coop,
                    status
                );
            }
        }
        UserCommand::Disable { username } => {
            let found = users::find_by_username(&ctx, &username).await?;
            let change = AccountChange {
                disabled: Some(true),
                password: None,
                role: None,
            };
            users::change(&ctx, &caller, found.id, change).await?;
            println!("disabled user {}", found.username);
        }
    }
    Ok(())
}

async fn cob_run(through: chrono::NaiveDate, settings: Settings) -> anyhow::Result<()> {
    let db = server::prepare_database(&settings).await?;
    let state = crate::state::AppState::new(db, settings);
    let outcome = crate::app::cob::run_through(
        &state.ctx,
        &Caller::cli(),
        through,
        crate::app::cob::Trigger::Cli,
    )
    .await?;
    for run in &outcome.runs {
        println!(
            "{}  {:<8}  loans {:>7}  entries {:>7}  notices {:>6}  errors {}",
            run.business_date,
            run.status.as_str(),
            run.counts.loans_processed,
            run.counts.entries_posted,
            run.counts.notices_queued,
            run.counts.errors
        );
    }
    println!("{}", outcome.message);
    if outcome
        .runs
        .iter()
        .any(|r| r.status != crate::app::cob::RunStatus::Finished)
    {
        anyhow::bail!(
            "close of business stopped with errors; see the log and GET /api/v1/cob/runs"
        );
    }
    Ok(())
}

fn print_schedule(args: ScheduleArgs) -> anyhow::Result<()> {
    let request = PreviewRequest {
        principal_vnd: args.principal,
        rate_percent: args.rate,
        installments: args.installments,
        period_months: args.period_months,
        method: args.method,
        disbursed_on: args.disbursed_on,
        first_due_on: args.first_due_on,
        principal_grace: args.principal_grace,
        day_count: args.day_count,
        installment_unit_vnd: args.installment_unit,
    };
    let preview = schedule_preview::preview(&request)?;
    if args.format == "json" {
        // The API's JSON, amounts named with their unit.
        let wire = crate::http::dto::schedule::PreviewResponse::from(preview);
        println!("{}", serde_json::to_string_pretty(&wire)?);
    } else {
        print!("{}", preview.to_table());
    }
    Ok(())
}

/// Reads the password: a prompt without echo on a terminal, otherwise one line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        Ok(rpassword::prompt_password("Password: ")?)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
