//! `/cooperatives` on the wire.

use chrono::{DateTime, NaiveDate, Utc};
use coopfund_domain::{
    ids::{CooperativeId, UserId},
    CooperativeKind,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::users::language;
use crate::{
    app::{
        cooperatives::{
            Contact, ContactChange, Cooperative, CooperativeChange, CooperativeFilter, Location,
            LocationChange, NewCooperative,
        },
        page::{Page, PageRequest},
    },
    error::{AppError, AppResult, Lang},
};

/// A cooperative to register.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = CooperativeInput)]
#[serde(deny_unknown_fields)]
pub struct CooperativeBody {
    pub registration_code: String,
    pub name: String,
    /// `cooperative`, `union_of_cooperatives` or `cooperative_member`.
    pub kind: String,
    pub district: String,
    pub commune: String,
    pub address: String,
    pub legal_representative: String,
    pub phone: String,
    pub email: String,
    /// `vi` (default) or `en`: the language of its emails.
    #[serde(default)]
    pub language: Option<String>,
    pub member_count: i64,
    pub charter_capital_vnd: i64,
    #[schema(value_type = String, format = Date)]
    pub founded_on: NaiveDate,
    /// Cooperatives in one group are related persons (Decree 45 Art 23, 25% limit).
    #[serde(default)]
    pub related_group: Option<String>,
    /// The officer who follows this borrower.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub officer_id: Option<UserId>,
}

impl TryFrom<CooperativeBody> for NewCooperative {
    type Error = AppError;

    fn try_from(body: CooperativeBody) -> AppResult<Self> {
        Ok(NewCooperative {
            registration_code: body.registration_code,
            name: body.name,
            kind: body.kind,
            location: Location {
                district: body.district,
                commune: body.commune,
                address: body.address,
            },
            contact: Contact {
                legal_representative: body.legal_representative,
                phone: body.phone,
                email: body.email,
                language: language(body.language.as_deref())?,
            },
            member_count: body.member_count,
            charter_capital_vnd: body.charter_capital_vnd,
            founded_on: body.founded_on,
            related_group: body.related_group,
            officer_id: body.officer_id,
        })
    }
}

/// A partial update; `version` must be the one last read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = CooperativePatch)]
#[serde(deny_unknown_fields)]
pub struct CooperativePatchBody {
    pub version: i32,
    pub registration_code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
    pub address: Option<String>,
    pub legal_representative: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub member_count: Option<i64>,
    pub charter_capital_vnd: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub founded_on: Option<NaiveDate>,
    pub related_group: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub officer_id: Option<UserId>,
}

impl TryFrom<CooperativePatchBody> for CooperativeChange {
    type Error = AppError;

    fn try_from(body: CooperativePatchBody) -> AppResult<Self> {
        let language = match body.language.as_deref() {
            Some(code) => Some(language(Some(code))?),
            None => None,
        };
        Ok(CooperativeChange {
            version: body.version,
            registration_code: body.registration_code,
            name: body.name,
            kind: body.kind,
            location: LocationChange {
                district: body.district,
                commune: body.commune,
                address: body.address,
            },
            contact: ContactChange {
                legal_representative: body.legal_representative,
                phone: body.phone,
                email: body.email,
                language,
            },
            member_count: body.member_count,
            charter_capital_vnd: body.charter_capital_vnd,
            founded_on: body.founded_on,
            related_group: body.related_group,
            officer_id: body.officer_id,
        })
    }
}

/// A cooperative as shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CooperativeView {
    #[schema(value_type = i64)]
    pub id: CooperativeId,
    pub registration_code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub kind: CooperativeKind,
    pub district: String,
    pub commune: String,
    pub address: String,
    pub legal_representative: String,
    pub phone: String,
    pub email: String,
    pub language: Lang,
    pub member_count: i32,
    pub charter_capital_vnd: i64,
    #[schema(value_type = String, format = Date)]
    pub founded_on: NaiveDate,
    pub related_group: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub officer_id: Option<UserId>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Cooperative> for CooperativeView {
    fn from(c: Cooperative) -> Self {
        CooperativeView {
            id: c.id,
            registration_code: c.registration_code,
            name: c.name,
            kind: c.kind,
            district: c.location.district,
            commune: c.location.commune,
            address: c.location.address,
            legal_representative: c.contact.legal_representative,
            phone: c.contact.phone,
            email: c.contact.email,
            language: c.contact.language,
            member_count: c.member_count,
            charter_capital_vnd: c.charter_capital_vnd,
            founded_on: c.founded_on,
            related_group: c.related_group,
            officer_id: c.officer_id,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Search and paging for the list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CooperativeQuery {
    /// Part of the name or registration code.
    pub q: Option<String>,
    /// Exact district.
    pub district: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl TryFrom<CooperativeQuery> for CooperativeFilter {
    type Error = AppError;

    fn try_from(query: CooperativeQuery) -> AppResult<Self> {
        Ok(CooperativeFilter {
            page: PageRequest::parse(query.limit, query.cursor.as_deref())?,
            q: query.q,
            district: query.district,
        })
    }
}

view! {
    /// One page, newest first.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct CooperativePage from Page<Cooperative> {
        pub items: Vec<CooperativeView> [each],
        /// Pass as `cursor` for the next page; null on the last page.
        pub next_cursor: Option<String>,
    }
}
