//! The wire types of the API: request bodies (`*Body`, parsed once into the use case's command
//! with `TryFrom`), query parameters (`IntoParams`) and response views (`*View`, `ToSchema`), one
//! module per resource. The use cases in `crate::app` never see them.

pub mod audit;
pub mod auth;
pub mod backups;
pub mod calendar;
pub mod cooperatives;
pub mod outbox;
pub mod users;
