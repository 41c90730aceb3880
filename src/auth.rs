//! Roles, password hashing (argon2id) and bearer tokens (random, stored hashed).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What a user may do. A `cooperative` user is bound to one cooperative and sees only it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages accounts, products and configuration.
    Admin,
    /// Fund officer (cán bộ tín dụng): registers cooperatives, takes and appraises applications.
    Officer,
    /// Fund director or management council: approves or rejects.
    Approver,
    /// Accountant (kế toán): disburses, posts repayments, reverses.
    Accountant,
    /// Auditor (kiểm soát viên): reads everything, changes nothing.
    Auditor,
    /// A borrowing cooperative: sees only its own data.
    Cooperative,
}

impl Role {
    /// Every role, in the order shown to people.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Officer,
        Role::Approver,
        Role::Accountant,
        Role::Auditor,
        Role::Cooperative,
    ];

    /// The fund's staff: every role but a borrowing cooperative's.
    pub const STAFF: [Role; 5] = [
        Role::Officer,
        Role::Approver,
        Role::Admin,
        Role::Accountant,
        Role::Auditor,
    ];

    /// The name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Approver => "approver",
            Role::Accountant => "accountant",
            Role::Auditor => "auditor",
            Role::Cooperative => "cooperative",
        }
    }

    /// Parses a stored or requested role name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// The list of names, for error messages.
    pub fn names() -> String {
        Role::ALL.map(Role::as_str).join(", ")
    }
}

/// Hashes a password with argon2id and a fresh random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// Checks a password against a PHC string; a malformed hash counts as a mismatch.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody has, verified for unknown usernames so that an unknown user
/// and a wrong password take the same time (no account enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password-coopfund").unwrap_or_default())
}

/// A new bearer token: 32 random bytes, hex, with a recognisable prefix.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("cf_{}", hex::encode(bytes))
}

/// What is stored for a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A readable random password for generated accounts (printed once, never stored).
pub fn generate_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("đúng mật khẩu").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("đúng mật khẩu", &hash));
        assert!(!verify_password("sai", &hash));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
