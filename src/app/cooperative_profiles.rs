//! A cooperative's profile as the provincial resolution on collective economy 2021-2025 measures it
//! (issue 11 item 4): its sector (≈ 70% of cooperatives agricultural), its members (≥ 15 per
//! cooperative on average), its OCOP products (the One Commune One Product programme, rated 3 to 5
//! stars) and its rating (Circular 09/2022/TT-BKHĐT: good, fairly good, average, weak; target 75%
//! good or fairly good). Each change is a new row in force from `effective_on` (append-only), so the
//! targets report of a past year reads the profile in force at that year's end; each row is audited.
//!
//! The report: per year and district, what the fund contributed — cooperatives and unions financed
//! (new: first ever disbursement that year; repeat: financed before), the share in agriculture,
//! members reached, loans to OCOP-product cooperatives, and capital lent per member.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use coopfund_domain::{ids::CooperativeId, CooperativeKind, Vnd};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::{
    audit::{self, Audited},
    context::AppCtx,
    loan_engine::kind,
    validate, Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, Reason},
    store::entities::{cooperative, cooperative_profile, loan, loan_transaction},
};

/// Sectors (Law on Cooperatives 2023 Art 6 areas, grouped as the province reports them).
pub const SECTORS: [&str; 7] = [
    "agriculture",
    "industry_handicraft",
    "trade_services",
    "transport",
    "construction",
    "environment",
    "other",
];
/// The agricultural sector (the resolution's 70% target).
pub const AGRICULTURE: &str = "agriculture";
/// Ratings (Circular 09/2022/TT-BKHĐT).
pub const RATINGS: [&str; 4] = ["good", "fairly_good", "average", "weak"];
/// The most OCOP products on one profile.
pub const OCOP_PRODUCTS_MAX: usize = 50;
/// The most members a cooperative can report.
pub const MEMBERS_MAX: i64 = 1_000_000;

/// One OCOP product and its stars (3 to 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcopProduct {
    /// The product's name.
    pub name: String,
    /// Its OCOP rating, 3 to 5 stars.
    pub stars: u8,
}

/// A profile to record.
#[derive(Debug, Clone)]
pub struct ProfileInput {
    /// In force from (≤ the business date's today, ≥ the cooperative's founding).
    pub effective_on: NaiveDate,
    /// One of [`SECTORS`].
    pub sector: String,
    /// Members on that day.
    pub member_count: i64,
    /// OCOP products (none is fine).
    pub ocop_products: Vec<OcopProduct>,
    /// One of [`RATINGS`], with `rated_year`; none when not rated.
    pub rating: Option<String>,
    /// The year the rating is for.
    pub rated_year: Option<i32>,
}

/// A recorded profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// The row.
    pub id: i64,
    /// The cooperative.
    pub cooperative_id: CooperativeId,
    /// In force from.
    pub effective_on: NaiveDate,
    /// The sector.
    pub sector: String,
    /// Members.
    pub member_count: i32,
    /// OCOP products.
    pub ocop_products: Vec<OcopProduct>,
    /// The rating.
    pub rating: Option<String>,
    /// The year of the rating.
    pub rated_year: Option<i32>,
    /// Who recorded it.
    pub recorded_by: Option<i64>,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

impl Audited for Profile {
    const ENTITY_TYPE: &'static str = "cooperative_profile";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

impl TryFrom<cooperative_profile::Model> for Profile {
    type Error = AppError;

    fn try_from(m: cooperative_profile::Model) -> AppResult<Self> {
        let ocop_products = serde_json::from_str(&m.ocop_products).map_err(|_| {
            AppError::unreadable(
                "cooperative profile",
                m.id,
                "OCOP products",
                &m.ocop_products,
            )
        })?;
        Ok(Profile {
            id: m.id,
            cooperative_id: CooperativeId::new(m.cooperative_id),
            effective_on: m.effective_on,
            sector: m.sector,
            member_count: m.member_count,
            ocop_products,
            rating: m.rating,
            rated_year: m.rated_year,
            recorded_by: m.recorded_by,
            recorded_at: m.recorded_at,
        })
    }
}

/// Checks a profile: the sector and rating from their lists, members 0..=[`MEMBERS_MAX`], OCOP
/// products named (≤ 200 characters, no name twice) with 3 to 5 stars, a rating with its year (from
/// 2000 to the profile's year) or neither, and a date from the founding to today.
pub fn validate_profile(
    input: &ProfileInput,
    founded_on: NaiveDate,
    today: NaiveDate,
) -> AppResult<ProfileInput> {
    let sector = validate::one_of("sector", input.sector.trim(), &SECTORS)?.to_string();
    if input.effective_on > today || input.effective_on < founded_on {
        return Err(AppError::invalid(
            "effective_on",
            Reason::OutOfRange {
                min: founded_on.to_string(),
                max: today.to_string(),
            },
        ));
    }
    if !(0..=MEMBERS_MAX).contains(&input.member_count) {
        return Err(AppError::invalid(
            "member_count",
            Reason::OutOfRange {
                min: "0".into(),
                max: MEMBERS_MAX.to_string(),
            },
        ));
    }
    if input.ocop_products.len() > OCOP_PRODUCTS_MAX {
        return Err(AppError::invalid(
            "ocop_products",
            Reason::OutOfRange {
                min: "0".into(),
                max: OCOP_PRODUCTS_MAX.to_string(),
            },
        ));
    }
    let mut names = BTreeSet::new();
    let mut ocop_products = Vec::with_capacity(input.ocop_products.len());
    for (i, product) in input.ocop_products.iter().enumerate() {
        let name = validate::text(&format!("ocop_products[{i}].name"), &product.name, 200)?;
        if !names.insert(name.to_lowercase()) {
            return Err(AppError::invalid(
                format!("ocop_products[{i}].name"),
                Reason::InvalidFormat {
                    expected: "a product name not already in the list",
                },
            ));
        }
        if !(3..=5).contains(&product.stars) {
            return Err(AppError::invalid(
                format!("ocop_products[{i}].stars"),
                Reason::OutOfRange {
                    min: "3".into(),
                    max: "5".into(),
                },
            ));
        }
        ocop_products.push(OcopProduct {
            name,
            stars: product.stars,
        });
    }
    let rating = match input.rating.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(rating) => Some(validate::one_of("rating", rating, &RATINGS)?.to_string()),
    };
    match (&rating, input.rated_year) {
        (None, None) => {}
        (Some(_), Some(year)) if (2000..=input.effective_on.year()).contains(&year) => {}
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "rated_year",
                Reason::OutOfRange {
                    min: "2000".into(),
                    max: input.effective_on.year().to_string(),
                },
            ))
        }
        (Some(_), None) => return Err(AppError::invalid("rated_year", Reason::Required)),
        (None, Some(_)) => return Err(AppError::invalid("rating", Reason::Required)),
    }
    Ok(ProfileInput {
        effective_on: input.effective_on,
        sector,
        member_count: input.member_count,
        ocop_products,
        rating,
        rated_year: input.rated_year,
    })
}

/// Records a new profile of cooperative `id` in force from `input.effective_on`. Admins and officers.
#[tracing::instrument(name = "cooperatives.profile", skip_all, fields(cooperative_id = %id))]
pub async fn record(
    ctx: &AppCtx,
    caller: &Caller,
    id: CooperativeId,
    input: ProfileInput,
) -> AppResult<Profile> {
    caller.require(&[Role::Admin, Role::Officer])?;
    let txn = ctx.db.begin().await?;
    let found = cooperative::Entity::find_by_id(id.get())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    let valid = validate_profile(&input, found.founded_on, ctx.today())?;
    let products = serde_json::to_string(&valid.ocop_products).map_err(AppError::internal)?;
    let member_count = i32::try_from(valid.member_count).map_err(AppError::internal)?;
    let row = cooperative_profile::ActiveModel {
        cooperative_id: Set(id.get()),
        effective_on: Set(valid.effective_on),
        sector: Set(valid.sector),
        member_count: Set(member_count),
        ocop_products: Set(products),
        rating: Set(valid.rating),
        rated_year: Set(valid.rated_year),
        recorded_by: Set(caller.user_id()),
        recorded_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let profile = Profile::try_from(row)?;
    audit::created(&txn, ctx, caller, "cooperative.profile", &profile).await?;
    txn.commit().await?;
    Ok(profile)
}

/// Every profile of cooperative `id`, newest first (a cooperative sees only its own). Everyone.
#[tracing::instrument(name = "cooperatives.profiles", skip_all, fields(cooperative_id = %id))]
pub async fn history(ctx: &AppCtx, caller: &Caller, id: CooperativeId) -> AppResult<Vec<Profile>> {
    caller.require(&Role::ALL)?;
    if !caller.may_see_cooperative(id.get()) {
        return Err(AppError::not_found("hợp tác xã", "Cooperative"));
    }
    cooperative::Entity::find_by_id(id.get())
        .one(&ctx.db)
        .await?
        .ok_or_else(|| AppError::not_found("hợp tác xã", "Cooperative"))?;
    cooperative_profile::Entity::find()
        .filter(cooperative_profile::Column::CooperativeId.eq(id.get()))
        .order_by_desc(cooperative_profile::Column::EffectiveOn)
        .order_by_desc(cooperative_profile::Column::Id)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(Profile::try_from)
        .collect()
}

/// The profile in force on `date` of every cooperative that has one (the latest `effective_on` ≤
/// `date`, the latest recorded of that day).
pub async fn profiles_on<C: ConnectionTrait>(
    conn: &C,
    date: NaiveDate,
) -> AppResult<BTreeMap<i64, Profile>> {
    let mut in_force = BTreeMap::new();
    let rows = cooperative_profile::Entity::find()
        .filter(cooperative_profile::Column::EffectiveOn.lte(date))
        .order_by_asc(cooperative_profile::Column::EffectiveOn)
        .order_by_asc(cooperative_profile::Column::Id)
        .all(conn)
        .await?;
    for row in rows {
        let profile = Profile::try_from(row)?;
        in_force.insert(profile.cooperative_id.get(), profile);
    }
    Ok(in_force)
}

/// The fund's contribution in one year and one district (or the whole province: `district` = None).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetLine {
    /// The year.
    pub year: i32,
    /// The district; `None` for the province's total.
    pub district: Option<String>,
    /// Cooperatives (not unions, not members) with a disbursement in the year.
    pub cooperatives_financed: i64,
    /// Of them, financed for the first time.
    pub cooperatives_new: i64,
    /// Of them, financed before.
    pub cooperatives_repeat: i64,
    /// Unions of cooperatives financed.
    pub unions_financed: i64,
    /// Borrowers financed (cooperatives and unions) in agriculture.
    pub agricultural: i64,
    /// Borrowers financed with a profile (the base of the shares).
    pub with_profile: i64,
    /// Σ members of the borrowers financed (the profile at the year's end, else the register).
    pub members_reached: i64,
    /// Loans disbursed to borrowers with an OCOP product.
    pub ocop_loans: i64,
    /// Disbursed to them.
    pub ocop_disbursed: Vnd,
    /// Everything disbursed in the year.
    pub disbursed: Vnd,
    /// Borrowers financed rated good or fairly good.
    pub rated_good: i64,
    /// Borrowers financed with a rating.
    pub rated: i64,
}

impl TargetLine {
    /// Share of the financed in agriculture, percent to 2 decimals (of those with a profile).
    pub fn agricultural_percent(&self) -> Option<rust_decimal::Decimal> {
        ratio(self.agricultural, self.with_profile)
    }

    /// Share rated good or fairly good, percent to 2 decimals (of those rated).
    pub fn rated_good_percent(&self) -> Option<rust_decimal::Decimal> {
        ratio(self.rated_good, self.rated)
    }

    /// Members per borrower financed, to 2 decimals.
    pub fn members_per_borrower(&self) -> Option<rust_decimal::Decimal> {
        let borrowers = self.cooperatives_financed + self.unions_financed;
        (borrowers > 0).then(|| {
            let mut value = (rust_decimal::Decimal::from(self.members_reached)
                / rust_decimal::Decimal::from(borrowers))
            .round_dp(2);
            value.rescale(2);
            value
        })
    }

    /// Capital lent per member reached, whole đồng (rounded down).
    pub fn disbursed_per_member(&self) -> Option<Vnd> {
        (self.members_reached > 0)
            .then(|| Vnd::from_i64(self.disbursed.to_i64().unwrap_or(0) / self.members_reached))
    }
}

fn ratio(part: i64, whole: i64) -> Option<rust_decimal::Decimal> {
    coopfund_domain::aging::percent_2dp(Vnd::from_i64(part), Vnd::from_i64(whole))
}

/// The targets report for `from_year..=to_year` (at most 10 years): per year, the province's total
/// then each district. Staff.
#[tracing::instrument(name = "reports.targets", skip_all, fields(from_year, to_year))]
pub async fn targets(
    ctx: &AppCtx,
    caller: &Caller,
    from_year: i32,
    to_year: i32,
) -> AppResult<Vec<TargetLine>> {
    caller.require(&super::ledger::READERS)?;
    if !(2000..=9999).contains(&from_year) || to_year < from_year || to_year - from_year > 9 {
        return Err(AppError::invalid(
            "to_year",
            Reason::OutOfRange {
                min: from_year.to_string(),
                max: (from_year + 9).to_string(),
            },
        ));
    }
    let conn = &ctx.db;
    let reversed: BTreeSet<i64> = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::ReversesId.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|tx| tx.reverses_id)
        .collect();
    let disbursements: Vec<loan_transaction::Model> = loan_transaction::Entity::find()
        .filter(loan_transaction::Column::Kind.eq(kind::DISBURSEMENT))
        .order_by_asc(loan_transaction::Column::ValueDate)
        .all(conn)
        .await?
        .into_iter()
        .filter(|tx| !reversed.contains(&tx.id))
        .collect();
    let loan_ids: BTreeSet<i64> = disbursements.iter().map(|tx| tx.loan_id).collect();
    let loan_cooperative: BTreeMap<i64, i64> = if loan_ids.is_empty() {
        BTreeMap::new()
    } else {
        loan::Entity::find()
            .all(conn)
            .await?
            .into_iter()
            .filter(|l| loan_ids.contains(&l.id))
            .map(|l| (l.id, l.cooperative_id))
            .collect()
    };
    let cooperatives: BTreeMap<i64, cooperative::Model> = cooperative::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    // The first year each borrower was ever financed (new vs repeat).
    let mut first_year: BTreeMap<i64, i32> = BTreeMap::new();
    for tx in &disbursements {
        if let Some(coop) = loan_cooperative.get(&tx.loan_id) {
            first_year.entry(*coop).or_insert(tx.value_date.year());
        }
    }
    let mut lines = Vec::new();
    for year in from_year..=to_year {
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("year {year}")))?;
        let profiles = profiles_on(conn, year_end).await?;
        // Per borrower: amount disbursed and loans with a disbursement in the year.
        let mut financed: BTreeMap<i64, (Vnd, BTreeSet<i64>)> = BTreeMap::new();
        for tx in disbursements
            .iter()
            .filter(|tx| tx.value_date.year() == year)
        {
            if let Some(coop) = loan_cooperative.get(&tx.loan_id) {
                let entry = financed.entry(*coop).or_default();
                entry.0 += Vnd::from_i64(tx.amount_vnd);
                entry.1.insert(tx.loan_id);
            }
        }
        let mut by_district: BTreeMap<Option<String>, TargetLine> = BTreeMap::new();
        for (coop_id, (amount, loans)) in &financed {
            let Some(coop) = cooperatives.get(coop_id) else {
                continue;
            };
            let kind: CooperativeKind = coop
                .kind
                .parse()
                .map_err(|_| AppError::unreadable("cooperative", coop.id, "kind", &coop.kind))?;
            let profile = profiles.get(coop_id);
            for district in [None, Some(coop.district.clone())] {
                let line = by_district
                    .entry(district.clone())
                    .or_insert_with(|| TargetLine {
                        year,
                        district,
                        ..TargetLine::default()
                    });
                match kind {
                    CooperativeKind::UnionOfCooperatives => line.unions_financed += 1,
                    CooperativeKind::Cooperative => {
                        line.cooperatives_financed += 1;
                        if first_year.get(coop_id) == Some(&year) {
                            line.cooperatives_new += 1;
                        } else {
                            line.cooperatives_repeat += 1;
                        }
                    }
                    CooperativeKind::CooperativeMember => {}
                }
                line.disbursed += *amount;
                line.members_reached +=
                    i64::from(profile.map_or(coop.member_count, |p| p.member_count));
                if let Some(profile) = profile {
                    line.with_profile += 1;
                    if profile.sector == AGRICULTURE {
                        line.agricultural += 1;
                    }
                    if !profile.ocop_products.is_empty() {
                        line.ocop_loans += i64::try_from(loans.len()).unwrap_or(0);
                        line.ocop_disbursed += *amount;
                    }
                    if let Some(rating) = &profile.rating {
                        line.rated += 1;
                        if rating == "good" || rating == "fairly_good" {
                            line.rated_good += 1;
                        }
                    }
                }
            }
        }
        if by_district.is_empty() {
            by_district.insert(
                None,
                TargetLine {
                    year,
                    ..TargetLine::default()
                },
            );
        }
        lines.extend(by_district.into_values());
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProfileInput {
        ProfileInput {
            effective_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            sector: "agriculture".into(),
            member_count: 20,
            ocop_products: vec![OcopProduct {
                name: "Chè Tân Cương".into(),
                stars: 4,
            }],
            rating: Some("good".into()),
            rated_year: Some(2025),
        }
    }

    fn check(input: &ProfileInput) -> AppResult<ProfileInput> {
        validate_profile(
            input,
            NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        )
    }

    #[test]
    fn a_complete_profile_is_valid() {
        assert!(check(&input()).is_ok());
    }

    #[test]
    fn each_wrong_field_is_named() {
        let cases: Vec<(ProfileInput, &str)> = vec![
            (
                ProfileInput {
                    sector: "mining".into(),
                    ..input()
                },
                "sector",
            ),
            (
                ProfileInput {
                    member_count: -1,
                    ..input()
                },
                "member_count",
            ),
            (
                ProfileInput {
                    ocop_products: vec![OcopProduct {
                        name: "X".into(),
                        stars: 6,
                    }],
                    ..input()
                },
                "ocop_products[0].stars",
            ),
            (
                ProfileInput {
                    ocop_products: vec![
                        OcopProduct {
                            name: "X".into(),
                            stars: 3,
                        },
                        OcopProduct {
                            name: "x".into(),
                            stars: 4,
                        },
                    ],
                    ..input()
                },
                "ocop_products[1].name",
            ),
            (
                ProfileInput {
                    rating: Some("excellent".into()),
                    ..input()
                },
                "rating",
            ),
            (
                ProfileInput {
                    rated_year: None,
                    ..input()
                },
                "rated_year",
            ),
            (
                ProfileInput {
                    rated_year: Some(2027),
                    ..input()
                },
                "rated_year",
            ),
            (
                ProfileInput {
                    rating: None,
                    ..input()
                },
                "rating",
            ),
            (
                ProfileInput {
                    effective_on: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
                    ..input()
                },
                "effective_on",
            ),
        ];
        for (case, field) in cases {
            let err = check(&case).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(field), "{case:?}");
        }
    }

    #[test]
    fn shares_and_per_member_figures_round_as_documented() {
        let line = TargetLine {
            cooperatives_financed: 2,
            unions_financed: 1,
            agricultural: 2,
            with_profile: 3,
            members_reached: 45,
            disbursed: Vnd::from_i64(1_000_000_000),
            rated_good: 3,
            rated: 4,
            ..TargetLine::default()
        };
        assert_eq!(line.agricultural_percent().unwrap().to_string(), "66.67");
        assert_eq!(line.rated_good_percent().unwrap().to_string(), "75.00");
        assert_eq!(line.members_per_borrower().unwrap().to_string(), "15.00");
        assert_eq!(line.disbursed_per_member(), Some(Vnd::from_i64(22_222_222)));
    }
}
