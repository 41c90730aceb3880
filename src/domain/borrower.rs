//! Who the fund may lend to (Decree 45/2021/NĐ-CP Art 20): cooperatives (hợp tác xã), unions of
//! cooperatives (liên hiệp hợp tác xã) and members of a cooperative (thành viên hợp tác xã) — never an
//! enterprise (doanh nghiệp).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// The kind of a registered borrower; stored and sent by [`CooperativeKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CooperativeKind {
    /// Hợp tác xã.
    Cooperative,
    /// Liên hiệp hợp tác xã.
    UnionOfCooperatives,
    /// Thành viên hợp tác xã (a household or person who is a member).
    CooperativeMember,
}

/// What a typed kind is when it is not one the fund lends to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KindRefusal {
    /// An enterprise: a kind that exists, which the law excludes (a rule refusal, not a typing error).
    #[error("the fund never lends to an enterprise (Decree 45/2021 Art 20)")]
    Enterprise,
    /// Not a kind at all.
    #[error("unknown kind {0:?}")]
    Unknown(String),
}

impl CooperativeKind {
    /// Every kind the fund lends to, in the order forms list them.
    pub const ALL: [CooperativeKind; 3] = [
        CooperativeKind::Cooperative,
        CooperativeKind::UnionOfCooperatives,
        CooperativeKind::CooperativeMember,
    ];

    /// The kind the law excludes, as typed (`enterprise`).
    pub const ENTERPRISE: &'static str = "enterprise";

    /// The stored and wire name (`union_of_cooperatives`).
    pub fn as_str(self) -> &'static str {
        match self {
            CooperativeKind::Cooperative => "cooperative",
            CooperativeKind::UnionOfCooperatives => "union_of_cooperatives",
            CooperativeKind::CooperativeMember => "cooperative_member",
        }
    }
}

impl fmt::Display for CooperativeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CooperativeKind {
    type Err = KindRefusal;

    /// The kind named `text`; an enterprise and an unknown name are told apart.
    fn from_str(text: &str) -> Result<CooperativeKind, KindRefusal> {
        if text == Self::ENTERPRISE {
            return Err(KindRefusal::Enterprise);
        }
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| KindRefusal::Unknown(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name_and_serializes_as_it() {
        for kind in CooperativeKind::ALL {
            assert_eq!(kind.as_str().parse::<CooperativeKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_string(&kind).expect("json"),
                format!("\"{}\"", kind.as_str())
            );
        }
    }

    #[test]
    fn an_enterprise_is_refused_by_law_and_anything_else_as_unknown() {
        assert_eq!(
            "enterprise".parse::<CooperativeKind>(),
            Err(KindRefusal::Enterprise)
        );
        assert_eq!(
            "Cooperative".parse::<CooperativeKind>(),
            Err(KindRefusal::Unknown("Cooperative".into()))
        );
        assert_eq!(
            "".parse::<CooperativeKind>(),
            Err(KindRefusal::Unknown(String::new()))
        );
    }
}
