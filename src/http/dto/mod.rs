//! The wire types of the API: request bodies (`*Body`, parsed once into the use case's command
//! with `TryFrom`), query parameters (`IntoParams`) and response views (`*View`, `ToSchema`), one
//! module per resource. The use cases in `crate::app` never see them.

pub mod application_documents;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod bank_statements;
pub mod calendar;
pub mod cob;
pub mod cooperatives;
pub mod explain;
pub mod fund;
pub mod ledger;
pub mod loans;
pub mod outbox;
pub mod payment_qr;
pub mod products;
pub mod reports;
pub mod schedule;
pub mod users;

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
