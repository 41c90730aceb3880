//! The one error type of the use cases, in two languages.
//!
//! Use cases return [`AppError`]; the HTTP layer turns it into `{"error":{code,message,field}}`
//! with the status of its [`ErrorKind`] and the message in the caller's language, and the CLI
//! prints it. Internal causes are logged in full but shown only as a plain message.

use std::fmt;

/// Which class of failure, and so which HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed or a field is invalid.
    BadRequest,
    /// 401: no or bad credentials.
    Unauthorized,
    /// 403: the caller's role may not do this.
    Forbidden,
    /// 404: not found, or not the caller's.
    NotFound,
    /// 409: conflicts with the current state (duplicate, wrong state, stale version, reused key).
    Conflict,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 422: a valid request that a lending rule refuses.
    Rule,
    /// 429: too many attempts.
    TooManyRequests,
    /// 503: the database cannot be reached or cannot take writes now (down, restarting, disk full,
    /// read-only); nothing was changed and the same request may be sent again later.
    Unavailable,
    /// 500: our fault; details only in the log.
    Internal,
}

/// A message in each language the service speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized {
    pub vi: String,
    pub en: String,
}

impl Localized {
    /// Builds a message from its Vietnamese and English texts.
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            vi: vi.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// The languages of messages, emails and pages. Vietnamese is the default.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

/// An RFC 9110 quality value (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn quality_permille(text: &str) -> Option<u16> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if fraction.len() > 3 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

impl Lang {
    /// Picks the preferred supported language from an `Accept-Language` header value
    /// (`en-US,en;q=0.9,vi;q=0.8`), honouring q-values; Vietnamese when none is supported.
    pub fn from_accept_language(header: &str) -> Lang {
        header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let quality = pieces
                    .find_map(|p| p.trim().strip_prefix("q=").map(quality_permille))
                    .unwrap_or(Some(1000))?;
                let lang = Lang::parse(tag.split('-').next()?)?;
                Some((lang, quality))
            })
            .filter(|(_, q)| *q > 0)
            .fold(None::<(Lang, u16)>, |best, (lang, q)| match best {
                Some((_, best_q)) if best_q >= q => best,
                _ => Some((lang, q)),
            })
            .map(|(lang, _)| lang)
            .unwrap_or_default()
    }

    /// `vi` or `en`; anything else is `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// Why a field was refused; each reason has a stable code and a message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Required,
    TooLong { max_chars: usize },
    MustBePositive,
    MustNotBeNegative,
    OutOfRange { min: String, max: String },
    InvalidFormat { expected: &'static str },
    UnknownValue { allowed: String },
}

impl Reason {
    fn code(&self) -> &'static str {
        match self {
            Reason::Required => "required",
            Reason::TooLong { .. } => "too_long",
            Reason::MustBePositive => "must_be_positive",
            Reason::MustNotBeNegative => "must_not_be_negative",
            Reason::OutOfRange { .. } => "out_of_range",
            Reason::InvalidFormat { .. } => "invalid_format",
            Reason::UnknownValue { .. } => "unknown_value",
        }
    }

    fn message(&self, field: &str) -> Localized {
        match self {
            Reason::Required => Localized::new(
                format!("Trường '{field}' là bắt buộc."),
                format!("Field '{field}' is required."),
            ),
            Reason::TooLong { max_chars } => Localized::new(
                format!("Trường '{field}' quá dài (tối đa {max_chars} ký tự)."),
                format!("Field '{field}' is too long (at most {max_chars} characters)."),
            ),
            Reason::MustBePositive => Localized::new(
                format!("Trường '{field}' phải lớn hơn 0."),
                format!("Field '{field}' must be greater than 0."),
            ),
            Reason::MustNotBeNegative => Localized::new(
                format!("Trường '{field}' không được âm."),
                format!("Field '{field}' must not be negative."),
            ),
            Reason::OutOfRange { min, max } => Localized::new(
                format!("Trường '{field}' phải nằm trong khoảng {min} đến {max}."),
                format!("Field '{field}' must be between {min} and {max}."),
            ),
            Reason::InvalidFormat { expected } => Localized::new(
                format!("Trường '{field}' sai định dạng (cần {expected})."),
                format!("Field '{field}' has the wrong format (expected {expected})."),
            ),
            Reason::UnknownValue { allowed } => Localized::new(
                format!("Giá trị của trường '{field}' không hợp lệ; chấp nhận: {allowed}."),
                format!("Field '{field}' has an unknown value; allowed: {allowed}."),
            ),
        }
    }
}

/// The error of every use case.
#[derive(Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    /// Stable snake_case code that programs may match on.
    pub code: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    pub message: Localized,
    /// The internal cause, logged but never shown.
    pub source: Option<anyhow::Error>,
}

/// Shorthand for use-case results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An error of `kind` with a code and a message.
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: Localized) -> Self {
        Self {
            kind,
            code: code.into(),
            field: None,
            message,
            source: None,
        }
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A 400 for one field.
    pub fn invalid(field: impl Into<String>, reason: Reason) -> Self {
        let field = field.into();
        Self::new(ErrorKind::BadRequest, reason.code(), reason.message(&field)).with_field(field)
    }

    /// A 404 for something that does not exist or is not the caller's.
    pub fn not_found(what_vi: &str, what_en: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "not_found",
            Localized::new(
                format!("Không tìm thấy {what_vi}."),
                format!("{what_en} not found."),
            ),
        )
    }

    /// A 403 for a role that may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            "forbidden",
            Localized::new(
                "Vai trò của bạn không được phép thực hiện thao tác này.",
                "Your role is not allowed to do this.",
            ),
        )
    }

    /// A 409 for a value that must be unique.
    pub fn duplicate(field: &str) -> Self {
        Self::new(
            ErrorKind::Conflict,
            "duplicate",
            Localized::new(
                format!("Giá trị của trường '{field}' đã tồn tại."),
                format!("The value of '{field}' already exists."),
            ),
        )
        .with_field(field)
    }

    /// A 409 for an update made against an older version.
    pub fn stale_version() -> Self {
        Self::new(
            ErrorKind::Conflict,
            "stale_version",
            Localized::new(
                "Dữ liệu đã được người khác thay đổi; hãy tải lại rồi thử lại.",
                "Someone else changed this record; reload and try again.",
            ),
        )
        .with_field("version")
    }

    /// A 500 whose cause is logged and hidden from the caller.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut err = Self::new(
            ErrorKind::Internal,
            "internal_error",
            Localized::new(
                "Đã có lỗi hệ thống; vui lòng thử lại sau.",
                "Something went wrong on our side; please try again later.",
            ),
        );
        err.source = Some(cause.into());
        err
    }

    /// A 500 for a stored value that cannot be read: the error names the row (`row` `id`), the column `what`
    /// and the value, never a default in its place (issue 8 item 4). E.g. `stored loan 7 has status "actve"`.
    pub fn unreadable(
        row: &str,
        id: impl fmt::Display,
        what: &str,
        value: impl fmt::Debug,
    ) -> Self {
        Self::internal(anyhow::anyhow!("stored {row} {id} has {what} {value:?}"))
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message.en)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        let code = unavailable_code(&err);
        AppError::internal(err).unavailable_if(code)
    }
}

impl AppError {
    /// What each request answers when one database failure ended several of them (a group commit that
    /// failed, `crate::app::writer`): classified as [`From<DbErr>`] classifies it, the cause logged as text.
    pub fn from_shared_db_err(err: &sea_orm::DbErr) -> Self {
        AppError::internal(anyhow::anyhow!("{err}")).unavailable_if(unavailable_code(err))
    }

    fn unavailable_if(mut self, code: Option<(&'static str, Localized)>) -> Self {
        if let Some((code, message)) = code {
            self.kind = ErrorKind::Unavailable;
            self.code = code.into();
            self.message = message;
        }
        self
    }
}

/// The stable code and message of a database error that says the database is unavailable rather
/// than that the request or our code is wrong: the connection is gone or cannot be made (PostgreSQL
/// restarting or down), the disk is full, the file or file system is read-only.
fn unavailable_code(err: &sea_orm::DbErr) -> Option<(&'static str, Localized)> {
    use sea_orm::{sqlx, DbErr, RuntimeErr};
    let unreachable = || {
        Some((
            "database_unavailable",
            Localized::new(
                "Không kết nối được cơ sở dữ liệu; chưa có gì được ghi. Vui lòng thử lại sau ít phút.",
                "The database cannot be reached; nothing was recorded. Please try again in a few minutes.",
            ),
        ))
    };
    let sqlx_err = match err {
        DbErr::ConnectionAcquire(_) => return unreachable(),
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return None,
    };
    match &**sqlx_err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => unreachable(),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                // SQLite's SQLITE_FULL; PostgreSQL's disk_full.
                "13" | "53100" => Some((
                    "storage_full",
                    Localized::new(
                        "Ổ đĩa của cơ sở dữ liệu đã đầy; chưa có gì được ghi. Hãy báo quản trị hệ thống giải phóng dung lượng rồi gửi lại.",
                        "The database's disk is full; nothing was recorded. Ask the administrator to free space, then send it again.",
                    ),
                )),
                // SQLite's SQLITE_READONLY and its extended codes; PostgreSQL's read_only_sql_transaction.
                "8" | "264" | "520" | "776" | "1032" | "1288" | "1544" | "25006" => Some((
                    "database_read_only",
                    Localized::new(
                        "Cơ sở dữ liệu đang ở chế độ chỉ đọc; chưa có gì được ghi. Hãy báo quản trị hệ thống.",
                        "The database is read-only; nothing was recorded. Tell the administrator.",
                    ),
                )),
                // PostgreSQL's admin_shutdown, crash_shutdown, cannot_connect_now, and class 08
                // (connection exceptions).
                "57P01" | "57P02" | "57P03" => unreachable(),
                c if c.starts_with("08") => unreachable(),
                _ => None,
            }
        }
        _ => None,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => AppError::from(db),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, vi;q=0.8"),
            Lang::Vi
        );
        assert_eq!(Lang::from_accept_language("de"), Lang::Vi);
        assert_eq!(Lang::from_accept_language("vi;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::from_accept_language("en;q=0.25, vi;q=0.3"), Lang::Vi);
        assert_eq!(
            Lang::from_accept_language("en;q=2"),
            Lang::Vi,
            "a malformed quality is ignored"
        );
    }

    #[test]
    fn a_field_error_names_the_field_in_both_languages() {
        let err = AppError::invalid("name", Reason::TooLong { max_chars: 200 });
        assert_eq!(err.code, "too_long");
        assert_eq!(err.field.as_deref(), Some("name"));
        assert!(err.message.vi.contains("tối đa 200"));
        assert!(err.message.en.contains("at most 200"));
    }
}
