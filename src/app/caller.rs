//! Who is asking: a member of the fund's staff with a role, a cooperative bound to its own records,
//! or the system itself (the operator at the CLI, a scheduled job); with the language of the answer
//! and the request's id. Every use case takes one, so the role check and the audit actor are never
//! forgotten, and a cooperative's scope is its id, never a sentinel.

use coopfund_domain::ids::{CooperativeId, UserId};

use crate::{
    auth::Role,
    error::{AppError, AppResult, Lang},
};

/// A user account acting through the API or the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account's id.
    pub id: UserId,
    /// Its username (the audit actor).
    pub username: String,
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A member of the fund's staff; never [`Role::Cooperative`].
    Staff {
        /// The account.
        user: Account,
        /// Its role.
        role: Role,
    },
    /// A borrowing cooperative's account: sees only the records of `cooperative`.
    Cooperative {
        /// The account.
        user: Account,
        /// The only cooperative it may see.
        cooperative: CooperativeId,
    },
    /// The operator at the command line or a scheduled job, recorded under `name`; acts as admin.
    System {
        /// `cli`, `system`, `cob`, ...
        name: String,
    },
}

/// The identity behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who acts.
    pub actor: Actor,
    /// The language of messages to this caller.
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
        Self::new(Actor::System {
            name: name.to_string(),
        })
    }

    /// The account `id` named `username` with `role`; a cooperative account needs its
    /// `cooperative` (`None` is refused: the account's row is inconsistent).
    pub fn account(
        id: impl Into<UserId>,
        username: impl Into<String>,
        role: Role,
        cooperative: Option<i64>,
    ) -> AppResult<Self> {
        let user = Account {
            id: id.into(),
            username: username.into(),
        };
        let actor = match (role, cooperative) {
            (Role::Cooperative, Some(cooperative)) => Actor::Cooperative {
                user,
                cooperative: CooperativeId::new(cooperative),
            },
            (Role::Cooperative, None) => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "stored user {} has role cooperative but no cooperative",
                    user.id
                )))
            }
            (role, _) => Actor::Staff { user, role },
        };
        Ok(Self::new(actor))
    }

    /// `actor`, answered in Vietnamese, outside any request.
    pub fn new(actor: Actor) -> Self {
        Caller {
            actor,
            lang: Lang::Vi,
            request_id: None,
        }
    }

    /// The same caller answered in `lang`.
    pub fn with_lang(self, lang: Lang) -> Self {
        Caller { lang, ..self }
    }

    /// The same caller with the request's id.
    pub fn with_request_id(self, request_id: Option<String>) -> Self {
        Caller { request_id, ..self }
    }

    /// The account, `None` for the system.
    pub fn user(&self) -> Option<&Account> {
        match &self.actor {
            Actor::Staff { user, .. } | Actor::Cooperative { user, .. } => Some(user),
            Actor::System { .. } => None,
        }
    }

    /// The account's id, `None` for the system.
    pub fn user_id(&self) -> Option<i64> {
        self.user().map(|user| user.id.get())
    }

    /// Username, or the system's name (`cli`, `system`, ...): the audit actor.
    pub fn name(&self) -> &str {
        match &self.actor {
            Actor::Staff { user, .. } | Actor::Cooperative { user, .. } => &user.username,
            Actor::System { name } => name,
        }
    }

    /// The role the caller acts with (the system acts as admin).
    pub fn role(&self) -> Role {
        match &self.actor {
            Actor::Staff { role, .. } => *role,
            Actor::Cooperative { .. } => Role::Cooperative,
            Actor::System { .. } => Role::Admin,
        }
    }

    /// The language of messages to this caller.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Refuses with 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// For a cooperative account, the cooperative it is bound to; `None` for staff and the system,
    /// who see all.
    pub fn cooperative(&self) -> Option<CooperativeId> {
        match &self.actor {
            Actor::Cooperative { cooperative, .. } => Some(*cooperative),
            _ => None,
        }
    }

    /// [`Caller::cooperative`] as the column's `i64`.
    pub fn own_cooperative(&self) -> Option<i64> {
        self.cooperative().map(CooperativeId::get)
    }

    /// Whether the caller may see data of cooperative `id`.
    pub fn may_see_cooperative(&self, id: i64) -> bool {
        self.own_cooperative().is_none_or(|own| own == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cooperative_sees_only_itself_and_staff_see_all() {
        let coop = Caller::account(7, "htx", Role::Cooperative, Some(3)).unwrap();
        assert_eq!(coop.own_cooperative(), Some(3));
        assert!(coop.may_see_cooperative(3));
        assert!(!coop.may_see_cooperative(4));
        assert!(coop.require(&[Role::Admin]).is_err());
        let officer = Caller::account(8, "an", Role::Officer, None).unwrap();
        assert_eq!(officer.own_cooperative(), None);
        assert!(officer.may_see_cooperative(4));
        assert_eq!(Caller::cli().role(), Role::Admin);
        assert_eq!(Caller::cli().user_id(), None);
        assert_eq!(Caller::cli().name(), "cli");
    }

    #[test]
    fn a_cooperative_account_without_its_cooperative_is_refused() {
        assert!(Caller::account(7, "htx", Role::Cooperative, None).is_err());
    }
}
