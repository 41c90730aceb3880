//! Who is asking: the authenticated user (or the operator at the CLI), with role, scope and
//! language. Every use case takes one, so the role check and the audit actor are never forgotten.

use crate::{
    auth::Role,
    error::{AppError, AppResult, Lang},
};

/// The identity behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user's id; `None` for the operator at the command line or a scheduled job.
    pub user_id: Option<i64>,
    /// Username, or `cli` / `system`.
    pub name: String,
    pub role: Role,
    /// For a `cooperative` user: the only cooperative it may see.
    pub cooperative_id: Option<i64>,
    pub lang: Lang,
    /// The `x-request-id` of the HTTP request, kept in audit records.
    pub request_id: Option<String>,
}

impl Caller {
    /// The operator at the command line: acts as admin, recorded as `cli`.
    pub fn cli() -> Self {
        Self::system_named("cli")
    }

    /// A scheduled job or start-up task, recorded under `name`.
    pub fn system_named(name: &str) -> Self {
        Self {
            user_id: None,
            name: name.to_string(),
            role: Role::Admin,
            cooperative_id: None,
            lang: Lang::Vi,
            request_id: None,
        }
    }

    /// Refuses with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// For a cooperative user, the cooperative it is bound to; `None` for staff, who see all.
    pub fn own_cooperative(&self) -> Option<i64> {
        match self.role {
            Role::Cooperative => Some(self.cooperative_id.unwrap_or(-1)),
            _ => None,
        }
    }

    /// Whether the caller may see data of cooperative `id`.
    pub fn may_see_cooperative(&self, id: i64) -> bool {
        self.own_cooperative().is_none_or(|own| own == id)
    }
}
