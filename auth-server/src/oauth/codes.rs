//! Authorization codes (RFC 6749 §4.1, RFC 7636, OAuth 2.1 §4.1): `sgac_`
//! and 256 random bits, stored as SHA-256 only, 60 s of life, bound to the
//! client, the exact redirect URI and an S256 PKCE challenge (plain is never
//! accepted).
//!
//! Redemption is exactly-once: a conditional UPDATE claims the code, and the
//! session its tokens belong to is started and recorded in the same
//! transaction. A second redemption, sequential or concurrent, finds the
//! code claimed, ends that session (RFC 6749 §4.1.2: revoke the tokens issued
//! from the code) and is refused.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::digest::sha256_hex;
use crate::oauth::code_entity as code;
use crate::sessions::{self, SessionPolicy, Started};

pub const CODE_PREFIX: &str = "sgac_";
/// OAuth 2.1 §4.1.2 recommends at most 10 minutes; one is plenty for a
/// redirect and a back-channel request.
pub const CODE_TTL: Duration = Duration::from_secs(60);

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2, S256).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An S256 challenge is the base64url of 32 bytes: 43 characters.
pub fn challenge_is_valid(challenge: &str) -> bool {
    challenge.len() == 43
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] [a-z] [0-9] - . _ ~`.
pub fn verifier_is_valid(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// What the user approved, to be redeemed once by its client.
pub struct NewCode<'a> {
    pub client_id: &'a str,
    pub user_id: Uuid,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    /// S256, checked with [`challenge_is_valid`] by the caller.
    pub code_challenge: &'a str,
    pub auth_time: DateTime<Utc>,
    /// The upstream issuer the browser signed in through (`None`: a password).
    pub idp: Option<&'a str>,
    /// How the browser's sign-in was authenticated.
    pub methods: &'a crate::sessions::methods::Methods,
    /// The resource the authorization request named (RFC 8707).
    pub resource: Option<&'a str>,
    /// The browser session that approved it (`None`: none, e.g. a test).
    pub browser_session: Option<Uuid>,
}

/// Mint and store a code; the code itself is returned once.
pub async fn issue(
    db: &DatabaseConnection,
    new: NewCode<'_>,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let value = format!("{CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    code::ActiveModel {
        code_hash: Set(sha256_hex(&value)),
        client_id: Set(new.client_id.to_owned()),
        user_id: Set(new.user_id),
        redirect_uri: Set(new.redirect_uri.to_owned()),
        scope: Set(new.scope.to_owned()),
        nonce: Set(new.nonce.map(str::to_owned)),
        code_challenge: Set(new.code_challenge.to_owned()),
        auth_time: Set(new.auth_time),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::from_std(CODE_TTL).unwrap_or_default()),
        redeemed_at: Set(None),
        issued_session_id: Set(None),
        idp: Set(new.idp.map(str::to_owned)),
        amr: Set(Some(new.methods.to_stored())),
        resource: Set(new.resource.map(str::to_owned)),
        browser_session_id: Set(new.browser_session),
    }
    .insert(db)
    .await?;
    Ok(value)
}

/// A token request with `grant_type=authorization_code`.
pub struct Redemption<'a> {
    pub code: &'a str,
    /// The authenticated client (or, for a public client, the one named).
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    /// The token request's `resource`/`audience`, if it named one.
    pub resource: Option<&'a str>,
}

/// Why a code was refused. All but `Store` are `invalid_grant` (RFC 6749
/// §5.2), one answer whatever the reason.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("unknown authorization code")]
    Unknown,
    #[error("the authorization code has expired")]
    Expired,
    #[error("the authorization code was issued to another client")]
    WrongClient,
    #[error("redirect_uri differs from the authorization request's")]
    WrongRedirectUri,
    #[error("code_verifier is missing or malformed")]
    InvalidVerifier,
    #[error("code_verifier does not match the code_challenge")]
    VerifierMismatch,
    /// RFC 8707 §2.2: `invalid_target`, not `invalid_grant`.
    #[error("the token request names another resource than the authorization request")]
    WrongResource,
    /// The code was redeemed before: the session of its tokens is ended.
    #[error("the authorization code was already used")]
    Replayed { ended_session: Option<Uuid> },
    #[error("code store: {0}")]
    Store(#[from] DbErr),
}

/// A redeemed code and the session started for its tokens.
pub struct Redeemed {
    pub code: code::Model,
    pub started: Started,
}

/// Check and claim `redemption`'s code, and start the session its tokens
/// belong to, in one transaction (see the module docs).
pub async fn redeem(
    db: &DatabaseConnection,
    redemption: Redemption<'_>,
    policy: &SessionPolicy,
    client: sessions::Client,
    now: DateTime<Utc>,
) -> Result<Redeemed, CodeError> {
    if !redemption.code.starts_with(CODE_PREFIX) || redemption.code.len() > 128 {
        return Err(CodeError::Unknown);
    }
    let code_hash = sha256_hex(redemption.code);
    // Read and check outside the transaction: its first statement is then
    // the claim (a write), which SQLite and PostgreSQL both serialise.
    let row = code::Entity::find_by_id(code_hash.as_str())
        .one(db)
        .await?
        .ok_or(CodeError::Unknown)?;
    if row.redeemed_at.is_some() {
        return Err(replayed(db, &code_hash, now).await?);
    }
    if row.expires_at <= now {
        return Err(CodeError::Expired);
    }
    if row.client_id != redemption.client_id {
        return Err(CodeError::WrongClient);
    }
    // OAuth 2.1 §4.1.3: required whenever the request carried one, which
    // ours always do; compared as exact strings.
    if redemption.redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(CodeError::WrongRedirectUri);
    }
    let verifier = redemption
        .code_verifier
        .filter(|v| verifier_is_valid(v))
        .ok_or(CodeError::InvalidVerifier)?;
    if !bool::from(
        s256(verifier)
            .as_bytes()
            .ct_eq(row.code_challenge.as_bytes()),
    ) {
        return Err(CodeError::VerifierMismatch);
    }
    if row
        .resource
        .as_deref()
        .is_some_and(|allowed| redemption.resource.is_some_and(|asked| asked != allowed))
    {
        return Err(CodeError::WrongResource);
    }
    let txn = signet_service::db::begin_write(db).await?;
    let claimed = code::Entity::update_many()
        .col_expr(code::Column::RedeemedAt, Expr::value(now))
        .filter(code::Column::CodeHash.eq(code_hash.as_str()))
        .filter(code::Column::RedeemedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Another redemption won between our read and our claim.
        txn.rollback().await?;
        return Err(replayed(db, &code_hash, now).await?);
    }
    let client = sessions::Client {
        client_id: Some(row.client_id.clone()),
        scope: Some(row.scope.clone()),
        idp: row.idp.clone(),
        methods: Some(row.methods()),
        // The resource the user allowed, when the request named one.
        audience: row.resource.clone().or(client.audience),
        parent: row.browser_session_id,
        ..client
    };
    let started = sessions::start_within(&txn, row.user_id, policy, client, now).await?;
    code::Entity::update_many()
        .col_expr(
            code::Column::IssuedSessionId,
            Expr::value(started.session.id),
        )
        .filter(code::Column::CodeHash.eq(code_hash.as_str()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let code = code::Model {
        redeemed_at: Some(now),
        issued_session_id: Some(started.session.id),
        ..row
    };
    Ok(Redeemed { code, started })
}

/// A second redemption: end the session the first one started (its refresh
/// token dies at once; account routes refuse its access token), audited.
async fn replayed(
    db: &DatabaseConnection,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<CodeError, DbErr> {
    let row = code::Entity::find_by_id(code_hash).one(db).await?;
    let Some(session) = row.as_ref().and_then(|r| r.issued_session_id) else {
        return Ok(CodeError::Replayed {
            ended_session: None,
        });
    };
    let (session_text, client) = (
        session.to_string(),
        row.map(|r| r.client_id).unwrap_or_default(),
    );
    sessions::end_and_audit(
        db,
        session,
        "authorization code replayed",
        AuditEvent::new("code.replay_detected")
            .actor(&client)
            .subject(&session_text)
            .detail(serde_json::json!({ "action": "session revoked" })),
        now,
    )
    .await?;
    Ok(CodeError::Replayed {
        ended_session: Some(session),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(verifier_is_valid(verifier));
        assert!(challenge_is_valid(&s256(verifier)));
    }

    #[test]
    fn malformed_verifiers_and_challenges_are_refused() {
        assert!(!verifier_is_valid(&"a".repeat(42)));
        assert!(!verifier_is_valid(&"a".repeat(129)));
        assert!(!verifier_is_valid(&format!("{}+", "a".repeat(42))));
        assert!(!verifier_is_valid(&format!("{} ", "a".repeat(43))));
        assert!(verifier_is_valid(&"a".repeat(128)));
        // plain: the verifier itself is no S256 challenge.
        assert!(!challenge_is_valid("plain-verifier"));
        assert!(!challenge_is_valid(&"*".repeat(43)));
        assert!(!challenge_is_valid(&format!("{}=", s256("x"))));
    }
}
