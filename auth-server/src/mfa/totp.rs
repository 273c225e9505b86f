//! Authenticator apps (RFC 6238): 160-bit secrets, SHA-1, six digits, 30 s
//! steps, one step of skew either way. The secret is sealed at rest; a
//! code is accepted once (its step must be newer than the last accepted).

use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use signet_service::seal::Sealer;
use subtle::ConstantTimeEq as _;
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

use super::totp_entity as factor;
use super::MfaError;

const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
const SECRET_BYTES: usize = 20;

/// The key TOTP secrets are sealed under (derived from
/// `KEY_ENCRYPTION_KEY`, or the development key file).
pub struct FactorSeal(Sealer);

impl FactorSeal {
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Sealer::new(key))
    }

    fn seal(&self, user: Uuid, secret: &[u8]) -> Result<String, MfaError> {
        let text = totp_rs::Secret::Raw(secret.to_vec())
            .to_encoded()
            .to_string();
        self.0
            .seal(&aad(user), &text)
            .map_err(|_| MfaError::Sealing)
    }

    fn open(&self, user: Uuid, sealed: &str) -> Result<Vec<u8>, MfaError> {
        let text = self
            .0
            .open(&aad(user), sealed)
            .map_err(|_| MfaError::Sealing)?;
        totp_rs::Secret::Encoded(text)
            .to_bytes()
            .map_err(|_| MfaError::Sealing)
    }
}

fn aad(user: Uuid) -> String {
    format!("totp:{user}")
}

/// What the enrolment page shows: the secret as base32 and the
/// `otpauth://` URI, drawn as a QR code.
pub struct Enrolment {
    pub secret_base32: String,
    pub uri: String,
    /// The QR code of `uri` as an SVG document (paths only, no text).
    pub qr_svg: String,
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Result<TOTP, MfaError> {
    // The otpauth label is `issuer:account`: neither may hold a colon.
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        secret,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .map_err(|_| MfaError::Sealing)
}

fn enrolment(secret: Vec<u8>, issuer: &str, account: &str) -> Result<Enrolment, MfaError> {
    let totp = totp(secret, issuer, account)?;
    let uri = totp.get_url();
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|_| MfaError::Sealing)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(Enrolment {
        secret_base32: totp.get_secret_base32(),
        uri,
        qr_svg,
    })
}

/// The user's factor row, confirmed or not.
pub async fn find(
    db: &impl ConnectionTrait,
    user: Uuid,
) -> Result<Option<factor::Model>, MfaError> {
    Ok(factor::Entity::find_by_id(user).one(db).await?)
}

/// Start (or show again) an enrolment: a new secret, unless one is already
/// waiting for its first code. An account with a confirmed app must remove
/// it first.
pub async fn begin(
    db: &impl ConnectionTrait,
    seal: &FactorSeal,
    user: &crate::accounts::entity::Model,
    issuer: &str,
    now: DateTime<Utc>,
) -> Result<Enrolment, MfaError> {
    match find(db, user.id).await? {
        Some(row) if row.confirmed_at.is_some() => Err(MfaError::AlreadyEnrolled),
        Some(row) => enrolment(seal.open(user.id, &row.secret_sealed)?, issuer, &user.email),
        None => {
            let mut secret = vec![0u8; SECRET_BYTES];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            factor::ActiveModel {
                user_id: Set(user.id),
                secret_sealed: Set(seal.seal(user.id, &secret)?),
                created_at: Set(now),
                confirmed_at: Set(None),
                last_step: Set(None),
                last_used_at: Set(None),
            }
            .insert(db)
            .await?;
            enrolment(secret, issuer, &user.email)
        }
    }
}

/// The time step of the code `code` matches within one step of `now`.
fn matching_step(secret: Vec<u8>, code: &str, now: DateTime<Utc>) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECONDS,
        secret,
        None,
        String::new(),
    );
    let current = now.timestamp().max(0) as u64 / STEP_SECONDS;
    // Every candidate is computed and compared, so the time taken does not
    // tell which step matched.
    let mut found = None;
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = totp.generate(step * STEP_SECONDS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step as i64);
        }
    }
    found
}

/// What checking a code against the user's app found.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    Accepted,
    /// A right code of a step already used: refused.
    Replayed,
    Wrong,
}

/// Check `code` against the confirmed (or, `pending`, the unconfirmed)
/// app of `user`, claiming its step with a conditional UPDATE so that of
/// two uses of one code exactly one wins.
pub async fn check(
    db: &impl ConnectionTrait,
    seal: &FactorSeal,
    user: Uuid,
    code: &str,
    pending: bool,
    now: DateTime<Utc>,
) -> Result<Checked, MfaError> {
    let Some(row) = find(db, user).await? else {
        return Ok(Checked::Wrong);
    };
    if row.confirmed_at.is_some() == pending {
        return Ok(Checked::Wrong);
    }
    let Some(step) = matching_step(seal.open(user, &row.secret_sealed)?, code, now) else {
        return Ok(Checked::Wrong);
    };
    let mut claim = factor::Entity::update_many()
        .col_expr(factor::Column::LastStep, Expr::value(step))
        .col_expr(factor::Column::LastUsedAt, Expr::value(now))
        .filter(factor::Column::UserId.eq(user))
        .filter(
            sea_orm::Condition::any()
                .add(factor::Column::LastStep.is_null())
                .add(factor::Column::LastStep.lt(step)),
        );
    if pending {
        claim = claim
            .col_expr(factor::Column::ConfirmedAt, Expr::value(now))
            .filter(factor::Column::ConfirmedAt.is_null());
    }
    let claimed = claim.exec(db).await?;
    Ok(if claimed.rows_affected == 1 {
        Checked::Accepted
    } else {
        Checked::Replayed
    })
}

/// Remove the user's app (confirmed or not).
pub async fn remove(db: &impl ConnectionTrait, user: Uuid) -> Result<bool, MfaError> {
    let deleted = factor::Entity::delete_by_id(user).exec(db).await?;
    Ok(deleted.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("a time")
    }

    #[test]
    fn codes_match_rfc_6238_appendix_b_within_one_step() {
        // RFC 6238 Appendix B, SHA-1 secret "12345678901234567890": at
        // 59 s the 8-digit code is 94287082; its last six digits are ours.
        let secret = b"12345678901234567890".to_vec();
        assert_eq!(matching_step(secret.clone(), "287082", at(59)), Some(1));
        assert_eq!(
            matching_step(secret.clone(), "287082", at(89)),
            Some(1),
            "one step late"
        );
        assert_eq!(
            matching_step(secret.clone(), "287082", at(29)),
            Some(1),
            "one step early"
        );
        assert_eq!(
            matching_step(secret.clone(), "287082", at(120)),
            None,
            "two steps late"
        );
        assert_eq!(matching_step(secret.clone(), "28708", at(59)), None);
        assert_eq!(matching_step(secret, "28708x", at(59)), None);
    }

    #[test]
    fn sealed_secrets_open_only_for_their_user() {
        let seal = FactorSeal::new(&[3u8; 32]);
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = seal.seal(alice, b"0123456789abcdefghij").expect("seal");
        assert_eq!(
            seal.open(alice, &sealed).expect("open"),
            b"0123456789abcdefghij"
        );
        assert!(seal.open(bob, &sealed).is_err(), "moved to another row");
    }

    #[test]
    fn the_enrolment_shows_the_secret_and_an_otpauth_uri_as_a_qr_code() {
        let shown = enrolment(
            b"12345678901234567890".to_vec(),
            "Signet",
            "ann@example.com",
        )
        .expect("enrolment");
        assert_eq!(shown.secret_base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(shown
            .uri
            .starts_with("otpauth://totp/Signet:ann%40example.com?"));
        assert!(shown
            .uri
            .contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(shown.qr_svg.contains("<svg") && !shown.qr_svg.contains("<script"));
    }
}
