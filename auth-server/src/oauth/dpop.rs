//! DPoP (RFC 9449) at the token endpoint: the proof is checked with
//! jwt-verify's proof rules, its `jti` recorded once in `dpop_proofs` (shared
//! by every replica), and the tokens issued are bound to its key.
//!
//! Each API key and registered client has a policy: `allowed` (the default:
//! a proof binds the tokens, no proof gives bearer tokens) or `required`.

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use jwt_verify::dpop::{verify_proof, DpopError, ProofCheck};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use crate::oauth::OAuthError;

/// How old a proof at the token endpoint may be; its `jti` is kept this
/// long plus the leeway.
pub const PROOF_MAX_AGE: Duration = Duration::from_secs(60);
/// How far ahead of our clock a proof's `iat` may be.
pub const PROOF_LEEWAY: Duration = Duration::from_secs(5);

pub use crate::dpop_policy::DpopPolicy;

/// The replay record (its own file, so other modules can use it).
pub use crate::oauth::dpop_entity as entity;

/// RFC 9449 §5: `400 invalid_dpop_proof`, with the reason's fixed text.
pub fn invalid_proof(error: &DpopError) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_dpop_proof",
        error.to_string(),
    )
}

/// Why a token request's proof was refused, or the store failed.
pub enum ProofFailure {
    Invalid(DpopError),
    Store(DbErr),
}

impl From<ProofFailure> for crate::oauth::TokenEndpointError {
    fn from(failure: ProofFailure) -> Self {
        match failure {
            ProofFailure::Invalid(error) => invalid_proof(&error).into(),
            ProofFailure::Store(error) => error.into(),
        }
    }
}

/// The key thumbprint (`jkt`) of the request's DPoP proof for `token_url`,
/// or `None` without a `DPoP` header; its `jti` is recorded so it cannot be
/// used again at any replica.
pub async fn token_request_key(
    db: &impl ConnectionTrait,
    headers: &HeaderMap,
    token_url: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, ProofFailure> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ProofFailure::Invalid(DpopError::Multiple));
    }
    let proof = value
        .to_str()
        .map_err(|_| ProofFailure::Invalid(DpopError::Malformed("header is not ASCII")))?;
    let verified = verify_proof(
        proof,
        &ProofCheck {
            method: "POST",
            url: token_url,
            access_token: None,
            now: now.timestamp(),
            max_age: PROOF_MAX_AGE,
            leeway: PROOF_LEEWAY,
        },
    )
    .map_err(ProofFailure::Invalid)?;
    let keep = chrono::Duration::from_std(PROOF_MAX_AGE + PROOF_LEEWAY).unwrap_or_default();
    let row = entity::ActiveModel {
        replay_key: Set(base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            verified.replay_key(),
        )),
        expires_at: Set(DateTime::from_timestamp(verified.iat, 0).unwrap_or(now) + keep),
    };
    let inserted = entity::Entity::insert(row)
        .on_conflict(
            OnConflict::column(entity::Column::ReplayKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(ProofFailure::Store)?;
    if inserted == 0 {
        return Err(ProofFailure::Invalid(DpopError::Replayed));
    }
    Ok(Some(verified.jkt))
}

/// A client's policy applied to what came: `required` without a proof is
/// refused.
pub fn enforce(policy: DpopPolicy, jkt: Option<&str>) -> Result<(), OAuthError> {
    if policy == DpopPolicy::Required && jkt.is_none() {
        return Err(invalid_proof(&DpopError::Missing));
    }
    Ok(())
}
