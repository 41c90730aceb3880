//! The wire types of `/api/v1/products` (published under their old schema names).

use chrono::{DateTime, Utc};
use coopfund_domain::{ids::ProductId, DayCount, Method, PrepaymentRule, Vnd};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_named;
use crate::{
    app::products::{
        self, Product, ProductChanges, ProductDraft, ProductFilter, ProductOptions, ProductPage,
    },
    error::AppError,
};

const METHODS: [Method; 3] = [Method::Annuity, Method::EqualPrincipal, Method::Bullet];
const DAY_COUNTS: [DayCount; 2] = [DayCount::Actual365, DayCount::PerPeriod];

fn methods(texts: Vec<String>) -> Result<Vec<Method>, AppError> {
    texts
        .iter()
        .map(|t| parse_named("methods", t, &METHODS, Method::as_str))
        .collect()
}

fn day_count(text: &str) -> Result<DayCount, AppError> {
    parse_named("day_count", text, &DAY_COUNTS, DayCount::as_str)
}

fn prepayment_rule(text: &str) -> Result<PrepaymentRule, AppError> {
    parse_named(
        "prepayment_rule",
        text,
        PrepaymentRule::ALL,
        PrepaymentRule::as_str,
    )
}

/// A product to create. Optional fields take the defaults of DOMAIN.md.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = ProductInput)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Percent per year, a decimal string (`"7.2"`).
    #[schema(value_type = String, example = "7.2")]
    pub rate_percent: Decimal,
    /// Allowed methods: `annuity`, `equal_principal`, `bullet`.
    pub methods: Vec<String>,
    /// Allowed period lengths: a subset of 1, 3, 6, 12.
    pub period_months: Vec<i64>,
    pub min_amount_vnd: i64,
    pub max_amount_vnd: i64,
    pub min_installments: i64,
    pub max_installments: i64,
    /// Most installments of principal grace (default 0).
    #[serde(default)]
    pub max_principal_grace: Option<i64>,
    /// `actual_365` (default) or `per_period`.
    #[serde(default)]
    pub day_count: Option<String>,
    /// Annuity installments are rounded to this multiple (default 1 đồng).
    #[serde(default)]
    pub installment_unit_vnd: Option<i64>,
    /// Overdue rate as a multiple of the in-term rate, at most 1.5 (default `"1.5"`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1.5")]
    pub overdue_multiplier: Option<Decimal>,
    /// Late interest on unpaid interest, percent per year, at most 10 (default `"10"`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "10")]
    pub late_rate_percent: Option<Decimal>,
    /// A permutation of the six components (default DOMAIN.md §5).
    #[serde(default)]
    pub allocation_order: Option<Vec<String>>,
    /// `shorten_term` (default) or `reamortize`.
    #[serde(default)]
    pub prepayment_rule: Option<String>,
    /// Loans up to this amount need no collateral (default 0).
    #[serde(default)]
    pub collateral_free_limit_vnd: Option<i64>,
    /// Whether new applications may use it (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

/// A partial update; `version` must be the one last read.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = ProductPatch)]
#[serde(deny_unknown_fields)]
pub struct ProductPatchBody {
    pub version: i32,
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<String>)]
    pub rate_percent: Option<Decimal>,
    pub methods: Option<Vec<String>>,
    pub period_months: Option<Vec<i64>>,
    pub min_amount_vnd: Option<i64>,
    pub max_amount_vnd: Option<i64>,
    pub min_installments: Option<i64>,
    pub max_installments: Option<i64>,
    pub max_principal_grace: Option<i64>,
    pub day_count: Option<String>,
    pub installment_unit_vnd: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub overdue_multiplier: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub late_rate_percent: Option<Decimal>,
    pub allocation_order: Option<Vec<String>>,
    pub prepayment_rule: Option<String>,
    pub collateral_free_limit_vnd: Option<i64>,
    pub active: Option<bool>,
}

/// A product as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductView {
    #[schema(value_type = i64)]
    pub id: ProductId,
    pub code: String,
    pub name: String,
    pub description: String,
    pub rate_percent: String,
    pub methods: Vec<String>,
    pub period_months: Vec<i64>,
    #[schema(value_type = i64)]
    pub min_amount_vnd: Vnd,
    #[schema(value_type = i64)]
    pub max_amount_vnd: Vnd,
    pub min_installments: i32,
    pub max_installments: i32,
    pub max_principal_grace: i32,
    pub day_count: String,
    #[schema(value_type = i64)]
    pub installment_unit_vnd: Vnd,
    pub overdue_multiplier: String,
    pub late_rate_percent: String,
    pub allocation_order: Vec<String>,
    pub prepayment_rule: String,
    #[schema(value_type = i64)]
    pub collateral_free_limit_vnd: Vnd,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

view! {
    /// Paging and filter of the list.
    #[derive(Debug, Clone, Default, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct ProductQuery into ProductFilter {
        /// Only active (true) or inactive (false) products.
        pub active: Option<bool>,
        /// Page size, 1 to 200 (default 50).
        pub limit: Option<u64>,
        /// The `next_cursor` of the previous page.
        pub cursor: Option<String>,
    }
}

view! {
    /// One page, newest first.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    #[schema(as = ProductPage)]
    pub struct ProductPageView from ProductPage {
        pub items: Vec<ProductView> [each],
        pub next_cursor: Option<String>,
    }
}

/// The command `$command` read from body `$b`: the fields a new product and a patch read alike,
/// written once so the two bodies cannot drift apart in how a field is parsed; `$field: $value`
/// are the ones they read differently.
macro_rules! product_command {
    ($command:ident from $b:ident { $($field:ident: $value:expr),* $(,)? }) => {
        $command {
            $($field: $value,)*
            code: $b.code,
            name: $b.name,
            description: $b.description,
            rate_percent: $b.rate_percent,
            period_months: $b.period_months,
            min_amount_vnd: $b.min_amount_vnd,
            max_amount_vnd: $b.max_amount_vnd,
            min_installments: $b.min_installments,
            max_installments: $b.max_installments,
            options: ProductOptions {
                max_principal_grace: $b.max_principal_grace,
                day_count: $b.day_count.as_deref().map(day_count).transpose()?,
                installment_unit_vnd: $b.installment_unit_vnd,
                overdue_multiplier: $b.overdue_multiplier,
                late_rate_percent: $b.late_rate_percent,
                allocation_order: $b
                    .allocation_order
                    .as_deref()
                    .map(products::allocation_order_of)
                    .transpose()?,
                prepayment_rule: $b
                    .prepayment_rule
                    .as_deref()
                    .map(prepayment_rule)
                    .transpose()?,
                collateral_free_limit_vnd: $b.collateral_free_limit_vnd,
                active: $b.active,
            },
        }
    };
}

impl TryFrom<ProductBody> for ProductDraft {
    type Error = AppError;

    fn try_from(b: ProductBody) -> Result<ProductDraft, AppError> {
        Ok(product_command!(ProductDraft from b {
            methods: methods(b.methods)?,
        }))
    }
}

impl TryFrom<ProductPatchBody> for ProductChanges {
    type Error = AppError;

    fn try_from(b: ProductPatchBody) -> Result<ProductChanges, AppError> {
        Ok(product_command!(ProductChanges from b {
            methods: b.methods.map(methods).transpose()?,
            version: b.version,
        }))
    }
}

impl From<Product> for ProductView {
    fn from(p: Product) -> ProductView {
        ProductView {
            id: ProductId::new(p.id),
            code: p.code,
            name: p.name,
            description: p.description,
            rate_percent: p.rate_percent.to_string(),
            methods: p.methods.iter().map(|m| m.as_str().to_string()).collect(),
            period_months: p.period_months,
            min_amount_vnd: Vnd::from_i64(p.min_amount_vnd),
            max_amount_vnd: Vnd::from_i64(p.max_amount_vnd),
            min_installments: p.min_installments,
            max_installments: p.max_installments,
            max_principal_grace: p.max_principal_grace,
            day_count: p.day_count.as_str().to_string(),
            installment_unit_vnd: Vnd::from_i64(p.installment_unit_vnd),
            overdue_multiplier: p.overdue_multiplier.to_string(),
            late_rate_percent: p.late_rate_percent.to_string(),
            allocation_order: p
                .allocation_order
                .buckets()
                .iter()
                .map(|b| b.as_str().to_string())
                .collect(),
            prepayment_rule: p.prepayment_rule.as_str().to_string(),
            collateral_free_limit_vnd: Vnd::from_i64(p.collateral_free_limit_vnd),
            active: p.active,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}
