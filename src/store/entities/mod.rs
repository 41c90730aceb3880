//! sea-orm entities: one module per table. Money columns are `i64` đồng (`*_vnd`), rates are
//! exact decimal strings; see the migrations crate for why.

pub mod api_token;
pub mod audit_record;
pub mod cooperative;
pub mod user;
