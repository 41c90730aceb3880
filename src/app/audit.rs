//! The audit trail: who, when, what, before and after, appended in the transaction of the change.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Serialize;

use super::Caller;
use crate::{error::AppResult, store::entities::audit_record};

/// One change to record.
pub struct Change<'a, B: Serialize, A: Serialize> {
    /// Dotted verb, e.g. `cooperative.update`.
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

/// Appends `change` by `caller` on `conn` (pass the use case's transaction).
pub async fn record<C, B, A>(conn: &C, caller: &Caller, change: Change<'_, B, A>) -> AppResult<()>
where
    C: ConnectionTrait,
    B: Serialize,
    A: Serialize,
{
    let to_json = |value: Option<&dyn erased::Json>| value.map(|v| v.json());
    audit_record::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(caller.user_id),
        actor: Set(caller.name.clone()),
        action: Set(change.action.to_string()),
        entity_type: Set(change.entity_type.to_string()),
        entity_id: Set(change.entity_id),
        before: Set(to_json(change.before.map(|b| b as &dyn erased::Json))),
        after: Set(to_json(change.after.map(|a| a as &dyn erased::Json))),
        request_id: Set(caller.request_id.clone()),
        chain_hash: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

mod erased {
    /// Object-safe JSON rendering, so `record` can treat before and after alike.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"unserializable\":\"{e}\"}}"))
        }
    }
}
