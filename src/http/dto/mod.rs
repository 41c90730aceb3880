//! The wire types of the API: request bodies (`*Body`, parsed once into the use case's command
//! with `TryFrom`), query parameters (`IntoParams`) and response views (`*View`, `ToSchema`), one
//! module per resource. The use cases in `crate::app` never see them.

pub mod auth;
pub mod users;
