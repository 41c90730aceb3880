//! The wire types of the API: request bodies (`*Body`, parsed once into the use case's command
//! with `TryFrom`), query parameters (`IntoParams`) and response views (`*View`, `ToSchema`), one
//! module per resource. The use cases in `crate::app` never see them.
//!
//! A view that is its record on the wire, field for field, is written once with `view!`: the
//! macro writes the struct (with its schema attributes and docs) and the `From<record>` that moves
//! each field across, so a field list is not written again as a conversion.

/// Writes a wire struct and its conversion from one field list: `pub struct View from Record {..}`
/// (a response: `From<Record> for View`) or `pub struct Body into Command {..}` (a request:
/// `From<Body> for Command`). Each field moves across under its own name; a field marked `[map]`
/// (an `Option`), `[each]` (a `Vec`) or `[into]` converts with `Into` on the way. The record is
/// destructured whole, so a field added to the record and not to the view fails to compile
/// rather than vanishing from the wire.
macro_rules! view {
    (@field $value:ident) => { $value };
    (@field $value:ident map) => { $value.map(Into::into) };
    (@field $value:ident each) => { $value.into_iter().map(Into::into).collect() };
    (@field $value:ident into) => { $value.into() };
    (
        $(#[$meta:meta])*
        pub struct $view:ident from $record:ty {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty $([$conv:ident])? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $view { $( $(#[$fmeta])* pub $field: $ty, )* }

        impl From<$record> for $view {
            fn from(record: $record) -> Self {
                // An alias, so that a generic record (`Page<T>`) can be destructured too.
                type Record = $record;
                let Record { $($field),* } = record;
                Self { $($field: view!(@field $field $($conv)?)),* }
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $body:ident into $command:ty {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty $([$conv:ident])? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $body { $( $(#[$fmeta])* pub $field: $ty, )* }

        impl From<$body> for $command {
            fn from(body: $body) -> Self {
                let $body { $($field),* } = body;
                Self { $($field: view!(@field $field $($conv)?)),* }
            }
        }
    };
}

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
pub mod reports_as_of;
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
