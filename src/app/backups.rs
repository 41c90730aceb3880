//! Backups and restore of the embedded SQLite database (issue 15).
//!
//! A backup is `VACUUM INTO` a new file: SQLite writes a consistent, compacted copy of the live database from one
//! read snapshot, so the service keeps running (readers and writers are not stopped; WAL mode lets writers go on
//! while the snapshot is read). Next to each copy `NAME.db` the backup writes `NAME.db.json`, its
//! [`Manifest`]: the file's SHA-256 and size, and what the copy holds — read back from the copy itself, not from
//! the live database — the business date, the journal's totals and counts, loans, the audit trail's length and
//! last id. `restore` checks the SHA-256 before it copies anything.
//!
//! The scheduled backup (`[backup]` in the configuration) runs on the close of business's scheduler and takes
//! the same in-process lock as the close of business, so the two never run at the same moment; it prunes old
//! copies to `retention_count`, records every run in the `backups` table (`GET /api/v1/backups`, admin) and mails
//! the admins when one fails. On PostgreSQL use the database's own tools (README: `pg_dump`/`pg_restore`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::ids::BackupRunId;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryOrder, QuerySelect, Set, Statement,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    app::{context::AppCtx, Caller},
    auth::Role,
    error::{AppError, AppResult},
    store::entities::backup_run,
};

/// The manifest format written next to each copy.
pub const MANIFEST_VERSION: u32 = 1;

/// What a backup holds, read back from the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub format_version: u32,
    /// The copy's file name (in the same folder as the manifest).
    pub file: String,
    /// SHA-256 of the copy, lower-case hex.
    pub sha256: String,
    /// Size of the copy in bytes.
    pub size_bytes: u64,
    /// When the backup was taken (UTC).
    pub created_at: DateTime<Utc>,
    /// The fund's business date in the copy.
    pub business_date: Option<NaiveDate>,
    /// The copy's contents, to compare with the source or a restore.
    pub contents: Contents,
}

/// Totals that prove what a database holds (the same query on the source, the copy and a restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromQueryResult)]
pub struct Contents {
    /// Journal entries.
    pub journal_entries: i64,
    /// Journal lines.
    pub journal_lines: i64,
    /// Σ debits of every line, đồng.
    pub total_debit_vnd: i64,
    /// Σ credits of every line, đồng.
    pub total_credit_vnd: i64,
    /// Loans.
    pub loans: i64,
    /// Loan transactions.
    pub loan_transactions: i64,
    /// Audit records.
    pub audit_records: i64,
    /// The last audit record's id (0 when none).
    pub last_audit_id: i64,
}

/// Reads [`Contents`] from `conn`.
pub async fn contents_of<C: ConnectionTrait>(conn: &C) -> AppResult<Contents> {
    let sql = "SELECT \
        (SELECT COUNT(*) FROM journal_entries) AS journal_entries, \
        (SELECT COUNT(*) FROM journal_lines) AS journal_lines, \
        (SELECT CAST(COALESCE(SUM(debit_vnd), 0) AS BIGINT) FROM journal_lines) AS total_debit_vnd, \
        (SELECT CAST(COALESCE(SUM(credit_vnd), 0) AS BIGINT) FROM journal_lines) AS total_credit_vnd, \
        (SELECT COUNT(*) FROM loans) AS loans, \
        (SELECT COUNT(*) FROM loan_transactions) AS loan_transactions, \
        (SELECT COUNT(*) FROM audit_records) AS audit_records, \
        (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM audit_records) AS last_audit_id";
    Contents::find_by_statement(Statement::from_string(conn.get_database_backend(), sql))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the contents query returned no row")))
}

/// A finished backup: the copy, its manifest and where the manifest was written.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The copy.
    pub path: PathBuf,
    /// `path` + `.json`.
    pub manifest_path: PathBuf,
    /// What it holds.
    pub manifest: Manifest,
}

/// Why a backup or a restore could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Backups are made by `VACUUM INTO`, which only SQLite has.
    #[error("backups by coopfund are for the embedded SQLite database; on PostgreSQL use pg_dump (see README)")]
    NotSqlite,
    /// A file could not be written, read or copied.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database refused.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// A use-case error (reading the copy's contents).
    #[error("{0}")]
    App(#[from] AppError),
    /// The copy does not match its manifest.
    #[error("{path} does not match its manifest: SHA-256 {actual}, the manifest says {expected}")]
    ChecksumMismatch {
        /// The copy.
        path: PathBuf,
        /// What the manifest says.
        expected: String,
        /// What the file hashes to.
        actual: String,
    },
    /// The manifest is not readable.
    #[error("the manifest {path} is not readable: {reason}")]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The restore target holds a database and `--force` was not given.
    #[error(
        "{0} already holds a database; restore into a fresh path, or pass --force to replace it"
    )]
    TargetNotEmpty(PathBuf),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The name of a copy taken at `at`: `coopfund-YYYYMMDD-HHMMSS.db` (UTC; sorts by time).
pub fn file_name(at: DateTime<Utc>) -> String {
    format!("coopfund-{}.db", at.format("%Y%m%d-%H%M%S"))
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_of(path: &Path) -> Result<String, BackupError> {
    let mut file = std::fs::File::open(path).map_err(io("cannot read", path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io("cannot read", path))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Makes a consistent copy of the live SQLite database `db` in `dir` (created if missing), then reads the copy
/// back into its manifest. Never overwrites: a name already taken gets a `-2`, `-3` … suffix.
#[tracing::instrument(name = "backup", skip_all, fields(dir = %dir.display()))]
pub async fn backup(
    db: &DatabaseConnection,
    dir: &Path,
    at: DateTime<Utc>,
) -> Result<Backup, BackupError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    std::fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
    let base = file_name(at);
    let mut path = dir.join(&base);
    let mut n = 2;
    while path.exists() || manifest_path_of(&path).exists() {
        path = dir.join(base.replace(".db", &format!("-{n}.db")));
        n += 1;
    }
    let target = path.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{target}'"))
        .await?;
    let copy = Database::connect(format!("sqlite://{}?mode=ro", path.display())).await?;
    let contents = contents_of(&copy).await?;
    let business_date = business_date_of(&copy).await?;
    copy.close().await?;
    let size_bytes = std::fs::metadata(&path)
        .map_err(io("cannot read", &path))?
        .len();
    let manifest = Manifest {
        format_version: MANIFEST_VERSION,
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: sha256_of(&path)?,
        size_bytes,
        created_at: at,
        business_date,
        contents,
    };
    let manifest_path = manifest_path_of(&path);
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| BackupError::App(AppError::internal(e)))?;
    std::fs::write(&manifest_path, json).map_err(io("cannot write", &manifest_path))?;
    tracing::info!(file = %path.display(), sha256 = %manifest.sha256, size_bytes, "backup written");
    Ok(Backup {
        path,
        manifest_path,
        manifest,
    })
}

async fn business_date_of<C: ConnectionTrait>(conn: &C) -> AppResult<Option<NaiveDate>> {
    use crate::store::entities::fund_state;
    Ok(fund_state::Entity::find()
        .one(conn)
        .await?
        .map(|s| s.business_date))
}

/// `FILE.json` next to `FILE`.
pub fn manifest_path_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// Reads the manifest next to `path` and checks the file's SHA-256 against it.
pub fn verify_copy(path: &Path) -> Result<Manifest, BackupError> {
    let manifest_path = manifest_path_of(path);
    let text =
        std::fs::read_to_string(&manifest_path).map_err(io("cannot read", &manifest_path))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| BackupError::BadManifest {
        path: manifest_path.clone(),
        reason: e.to_string(),
    })?;
    let actual = sha256_of(path)?;
    if actual != manifest.sha256 {
        return Err(BackupError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: manifest.sha256,
            actual,
        });
    }
    Ok(manifest)
}

/// Deletes the oldest copies (and their manifests) in `dir` so that `keep` remain; returns what it deleted.
/// Only files named like [`file_name`] are considered, so nothing else in the folder is ever touched.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let mut copies: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io("cannot list", dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("coopfund-") && n.ends_with(".db"))
        })
        .collect();
    copies.sort();
    let excess = copies.len().saturating_sub(keep);
    let mut deleted = Vec::new();
    for path in copies.into_iter().take(excess) {
        std::fs::remove_file(&path).map_err(io("cannot delete", &path))?;
        let manifest = manifest_path_of(&path);
        if manifest.exists() {
            std::fs::remove_file(&manifest).map_err(io("cannot delete", &manifest))?;
        }
        deleted.push(path);
    }
    Ok(deleted)
}

/// Copies a verified backup to `target` (an SQLite file path). Refuses a target that holds a database unless
/// `force`; the copy is written beside the target and renamed over it, so a failed restore leaves the target as
/// it was. Returns the manifest of the restored copy.
pub fn restore_file(from: &Path, target: &Path, force: bool) -> Result<Manifest, BackupError> {
    let manifest = verify_copy(from)?;
    let holds_data = std::fs::metadata(target).is_ok_and(|m| m.len() > 0);
    if holds_data && !force {
        return Err(BackupError::TargetNotEmpty(target.to_path_buf()));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
    }
    let mut staging = target.as_os_str().to_owned();
    staging.push(".restoring");
    let staging = PathBuf::from(staging);
    std::fs::copy(from, &staging).map_err(io("cannot copy to", &staging))?;
    let copied = sha256_of(&staging)?;
    if copied != manifest.sha256 {
        let _ = std::fs::remove_file(&staging);
        return Err(BackupError::ChecksumMismatch {
            path: staging,
            expected: manifest.sha256,
            actual: copied,
        });
    }
    // The old database's write-ahead log would be replayed onto the restored file: remove it first.
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            std::fs::remove_file(&side).map_err(io("cannot delete", &side))?;
        }
    }
    std::fs::rename(&staging, target).map_err(io("cannot move into place", target))?;
    Ok(manifest)
}

/// One recorded backup run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupRun {
    pub id: BackupRunId,
    /// `schedule` or `cli`.
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The copy it wrote, or why it failed.
    pub outcome: BackupOutcome,
}

/// How a backup run ended. Stored as `status` `ok` with the copy's file and SHA-256 (its size when it
/// fits), or `failed` with the error, never a mix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupOutcome {
    Ok {
        /// The copy written.
        file: String,
        /// Its SHA-256, hex.
        sha256: String,
        size_bytes: Option<i64>,
    },
    Failed {
        /// Why it failed.
        error: String,
    },
}

impl BackupOutcome {
    const OK: &'static str = "ok";
    const FAILED: &'static str = "failed";

    fn of(result: &Result<Backup, BackupError>) -> BackupOutcome {
        match result {
            Ok(b) => BackupOutcome::Ok {
                file: b.path.display().to_string(),
                sha256: b.manifest.sha256.clone(),
                size_bytes: i64::try_from(b.manifest.size_bytes).ok(),
            },
            Err(e) => BackupOutcome::Failed {
                error: e.to_string(),
            },
        }
    }

    /// `ok` or `failed`, as stored and shown.
    pub fn status(&self) -> &'static str {
        match self {
            BackupOutcome::Ok { .. } => Self::OK,
            BackupOutcome::Failed { .. } => Self::FAILED,
        }
    }
}

impl TryFrom<backup_run::Model> for BackupRun {
    type Error = AppError;

    /// A stored status other than `ok` or `failed`, or one without what it implies (the file and
    /// hash of a copy, the error of a failure), is an error naming the run.
    fn try_from(m: backup_run::Model) -> AppResult<Self> {
        let outcome = match (m.status.as_str(), m.file, m.sha256, m.error) {
            (BackupOutcome::OK, Some(file), Some(sha256), None) => BackupOutcome::Ok {
                file,
                sha256,
                size_bytes: m.size_bytes,
            },
            (BackupOutcome::FAILED, None, None, Some(error)) => BackupOutcome::Failed { error },
            (status, file, sha256, error) => {
                return Err(AppError::internal(anyhow::anyhow!(
                "stored backup run {} has status {status:?} with file {file:?}, sha256 {sha256:?} \
                     and error {error:?}",
                m.id
            )))
            }
        };
        Ok(BackupRun {
            id: BackupRunId::new(m.id),
            trigger: m.trigger,
            started_at: m.started_at,
            finished_at: m.finished_at,
            outcome,
        })
    }
}

/// Records a backup run (ok or failed).
pub async fn record_run<C: ConnectionTrait>(
    conn: &C,
    trigger: &str,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    result: &Result<Backup, BackupError>,
) -> AppResult<()> {
    let outcome = BackupOutcome::of(result);
    let mut row = backup_run::ActiveModel {
        status: Set(outcome.status().into()),
        trigger: Set(trigger.into()),
        started_at: Set(started_at),
        finished_at: Set(finished_at),
        ..Default::default()
    };
    match outcome {
        BackupOutcome::Ok {
            file,
            sha256,
            size_bytes,
        } => {
            row.file = Set(Some(file));
            row.sha256 = Set(Some(sha256));
            row.size_bytes = Set(size_bytes);
            row.error = Set(None);
        }
        BackupOutcome::Failed { error } => {
            row.file = Set(None);
            row.sha256 = Set(None);
            row.size_bytes = Set(None);
            row.error = Set(Some(error));
        }
    }
    backup_run::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The last 100 runs, newest first (admin).
#[tracing::instrument(name = "backups.list", skip_all)]
pub async fn list(ctx: &AppCtx, caller: &Caller) -> AppResult<Vec<BackupRun>> {
    caller.require(&[Role::Admin])?;
    backup_run::Entity::find()
        .order_by_desc(backup_run::Column::Id)
        .limit(100)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(BackupRun::try_from)
        .collect()
}

/// The scheduled backup: waits for the close of business's lock (they never run at once), copies the database
/// into `settings.dir`, records the run, prunes to `settings.retention_count`, and on failure logs it and mails
/// every active admin with an email address. Returns the backup's result.
#[tracing::instrument(name = "scheduled backup", skip_all)]
pub async fn run_scheduled(
    ctx: &AppCtx,
    settings: &crate::config::BackupSettings,
    trigger: &str,
) -> Result<Backup, BackupError> {
    let db = &ctx.db;
    let lock = crate::app::cob::local_lock(&ctx.settings.database.url);
    let _held = lock.lock().await;
    let started_at = ctx.now();
    let mut result = backup(db, &settings.dir, started_at).await;
    if let Ok(done) = &result {
        if let Err(error) = prune(&settings.dir, settings.retention_count) {
            tracing::error!(%error, "pruning old backups failed");
        }
        // The copy must be readable and match its manifest before the run counts as good.
        if let Err(error) = verify_copy(&done.path) {
            result = Err(error);
        }
    }
    if let Err(error) = &result {
        tracing::error!(%error, "backup failed");
    }
    record_run(db, trigger, started_at, ctx.now(), &result).await?;
    if let Err(error) = &result {
        mail_admins(db, started_at, error).await?;
    }
    result
}

async fn mail_admins(
    db: &DatabaseConnection,
    started_at: DateTime<Utc>,
    error: &BackupError,
) -> AppResult<()> {
    use crate::error::Lang;
    use crate::mail::outbox::{enqueue, NewMessage};
    use crate::store::entities::user;
    use sea_orm::{ColumnTrait, QueryFilter};
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Disabled.eq(false))
        .all(db)
        .await?;
    let when = started_at.format("%Y-%m-%d %H:%M UTC");
    for admin in admins {
        let Some(email) = admin.email.filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        // The failure alert must still go out: an unreadable stored language is logged with the
        // account's id and the alert is written in Vietnamese, the fund's language.
        let lang = Lang::parse(&admin.language).unwrap_or_else(|| {
            tracing::warn!(user_id = admin.id, language = %admin.language, "stored language unreadable; alert sent in Vietnamese");
            Lang::Vi
        });
        let (subject, body) = match lang {
            Lang::Vi => (
                format!("Sao lưu cơ sở dữ liệu không thành công ({when})"),
                format!(
                    "Bản sao lưu theo lịch lúc {when} không tạo được:\n\n{error}\n\n\
                     Hãy kiểm tra thư mục sao lưu và dung lượng ổ đĩa, rồi chạy `coopfund backup --to THƯ_MỤC`."
                ),
            ),
            Lang::En => (
                format!("Database backup failed ({when})"),
                format!(
                    "The scheduled backup at {when} could not be made:\n\n{error}\n\n\
                     Check the backup folder and free disk space, then run `coopfund backup --to DIR`."
                ),
            ),
        };
        enqueue(
            db,
            NewMessage {
                dedupe_key: format!("backup_failed:{}:{}", started_at.timestamp(), admin.id),
                kind: "backup_failed".into(),
                recipient: email,
                cc: None,
                language: lang,
                subject,
                body_text: body,
                body_html: None,
                related: None,
                cooperative_id: None,
            },
        )
        .await?;
    }
    Ok(())
}
