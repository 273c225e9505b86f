//! Recovery codes: ten single-use codes of 80 random bits each, shown once
//! as `xxxx-xxxx-xxxx-xxxx` and stored as SHA-256 only. A new set replaces
//! the old one.

use chrono::{DateTime, Utc};
use rand::Rng as _;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use super::recovery_entity as code;
use super::MfaError;
use crate::digest::sha256_hex;

pub const COUNT: usize = 10;
/// No 0/O, 1/l/i: read off paper and typed back.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH: usize = 16;

/// The form a code is compared in: lower case, separators and spaces
/// dropped; `None` if it cannot be a recovery code.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

fn mint() -> String {
    let mut rng = rand::rngs::OsRng;
    let raw: String = (0..LENGTH)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    raw.as_bytes()
        .chunks(4)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

/// Replace the user's codes with [`COUNT`] new ones, returned once.
pub async fn replace(
    db: &impl ConnectionTrait,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<String>, MfaError> {
    code::Entity::delete_many()
        .filter(code::Column::UserId.eq(user))
        .exec(db)
        .await?;
    let codes: Vec<String> = (0..COUNT).map(|_| mint()).collect();
    code::Entity::insert_many(codes.iter().map(|shown| code::ActiveModel {
        code_hash: Set(sha256_hex(&normalise(shown).unwrap_or_default())),
        user_id: Set(user),
        created_at: Set(now),
        used_at: Set(None),
    }))
    .exec(db)
    .await?;
    Ok(codes)
}

/// Spend `typed` if it is one of the user's unused codes (a conditional
/// UPDATE: of two uses of one code exactly one wins).
pub async fn spend(
    db: &impl ConnectionTrait,
    user: Uuid,
    typed: &str,
    now: DateTime<Utc>,
) -> Result<bool, MfaError> {
    let Some(code) = normalise(typed) else {
        return Ok(false);
    };
    let spent = code::Entity::update_many()
        .col_expr(code::Column::UsedAt, Expr::value(now))
        .filter(code::Column::CodeHash.eq(sha256_hex(&code)))
        .filter(code::Column::UserId.eq(user))
        .filter(code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// How many unused codes the user has left.
pub async fn left(db: &impl ConnectionTrait, user: Uuid) -> Result<u64, MfaError> {
    Ok(code::Entity::find()
        .filter(code::Column::UserId.eq(user))
        .filter(code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// Remove every code of the user.
pub async fn remove_all(db: &impl ConnectionTrait, user: Uuid) -> Result<(), MfaError> {
    code::Entity::delete_many()
        .filter(code::Column::UserId.eq(user))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_codes_read_back_in_any_case_and_with_or_without_dashes() {
        let code = mint();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let plain = normalise(&code).expect("a code");
        assert_eq!(normalise(&code.to_uppercase()), Some(plain.clone()));
        assert_eq!(normalise(&code.replace('-', " ")), Some(plain));
        assert_ne!(mint(), mint());
    }

    #[test]
    fn what_cannot_be_a_code_is_refused_before_any_lookup() {
        for typed in [
            "",
            "123456",
            "abcd-efgh-jkmn",
            "abcd-efgh-jkmn-pqr0",
            "abcd-efgh-jkmn-pqrst",
        ] {
            assert_eq!(normalise(typed), None, "{typed:?}");
        }
    }
}
