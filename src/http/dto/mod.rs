//! The wire types of the API: request bodies (`*Body`), query parameters and response views
//! (`*View`), with their OpenAPI schemas. Each body parses once into the command of its use case
//! (`TryFrom<Body> for Command`: kinds and methods become enums); each view is built from the read
//! model the use case returns. The use cases in `app` know nothing of them.

pub mod applications;

use std::str::FromStr;

use crate::error::{AppError, Reason};

/// `text` as one of `allowed`, or the 400 naming `field` and the values it accepts.
pub fn parse_named<T: FromStr + Copy>(
    field: &str,
    text: &str,
    allowed: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, AppError> {
    text.parse().map_err(|_| {
        AppError::invalid(
            field,
            Reason::UnknownValue {
                allowed: allowed
                    .iter()
                    .map(|v| name(*v))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        )
    })
}
