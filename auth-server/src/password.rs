//! Argon2id password hashing off the async runtime, on a bounded pool.
//!
//! Hashing is deliberately expensive (~tens of ms, 19 MiB each). Running it on
//! the runtime's worker threads would let a login flood stall every other
//! endpoint, so each hash runs in `spawn_blocking` behind a semaphore sized to
//! the cores; callers past a queue bound get `Busy` (503) instead of piling up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::Argon2Config;

/// A password in memory: never printed, never serialized.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password operations are queued")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

pub struct Verification {
    pub matches: bool,
    /// The stored hash uses other parameters than the configured ones.
    pub needs_rehash: bool,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
    /// Verified against when the account does not exist, so a wrong email takes
    /// as long as a wrong password.
    dummy_hash: Arc<String>,
}

/// What a password must satisfy (NIST SP 800-63B §5.1.1.2): length, not content rules.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// `None` if acceptable, or the reason.
pub fn policy_violation(password: &str, email: Option<&str>) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    if email.is_some_and(|email| email.eq_ignore_ascii_case(password)) {
        return Some("must not be the email address".to_owned());
    }
    None
}

impl PasswordHasher {
    pub fn new(config: Argon2Config, concurrency: usize) -> Result<Self, HashError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| HashError::Failed(e.to_string()))?;
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(b"signet-dummy-password", &salt)
            .map_err(|e| HashError::Failed(e.to_string()))?
            .to_string();
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queued: concurrency * 64,
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Run `work` on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let queued = self.queued.fetch_add(1, Ordering::SeqCst);
        let guard = QueueGuard(self.queued.clone());
        if queued >= self.max_queued {
            return Err(HashError::Busy);
        }
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Failed("hashing pool closed".into()))?;
        drop(guard);
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let argon2 = self.argon2();
        let password = password.clone();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await?
    }

    /// Check `password` against `stored`; with no stored hash (unknown account)
    /// the dummy hash is checked so the timing matches, and the answer is "no".
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<Verification, HashError> {
        let argon2 = self.argon2();
        let password = password.clone();
        let known = stored.is_some();
        let hash = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let current = self.params.clone();
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return Verification {
                    matches: false,
                    needs_rehash: true,
                };
            };
            let matches = argon2
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok()
                && known;
            // Compare the cost parameters only: a parsed hash also carries its output
            // length, which the configured parameters leave unset.
            let needs_rehash = parsed.algorithm != Algorithm::Argon2id.ident()
                || Params::try_from(&parsed).map_or(true, |p| {
                    (p.m_cost(), p.t_cost(), p.p_cost())
                        != (current.m_cost(), current.t_cost(), current.p_cost())
                });
            Verification {
                matches,
                needs_rehash,
            }
        })
        .await
    }
}

struct QueueGuard(Arc<AtomicUsize>);

impl Drop for QueueGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Config {
        Argon2Config {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = PasswordHasher::new(cheap(), 2).expect("hasher");
        let hash = hasher
            .hash(&Password::new("correct horse"))
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(
            hasher
                .verify(&Password::new("correct horse"), Some(&hash))
                .await
                .expect("ok")
                .matches
        );
        assert!(
            !hasher
                .verify(&Password::new("wrong horse"), Some(&hash))
                .await
                .expect("ok")
                .matches
        );
    }

    #[tokio::test]
    async fn unknown_accounts_never_match_even_the_dummy_password() {
        let hasher = PasswordHasher::new(cheap(), 1).expect("hasher");
        let verdict = hasher
            .verify(&Password::new("signet-dummy-password"), None)
            .await
            .expect("ok");
        assert!(!verdict.matches);
    }

    #[tokio::test]
    async fn hashes_with_old_parameters_are_flagged_for_upgrade() {
        let old = PasswordHasher::new(cheap(), 1).expect("hasher");
        let hash = old
            .hash(&Password::new("correct horse"))
            .await
            .expect("hash");
        let new = PasswordHasher::new(
            Argon2Config {
                memory_kib: 2048,
                ..cheap()
            },
            1,
        )
        .expect("hasher");
        let verdict = new
            .verify(&Password::new("correct horse"), Some(&hash))
            .await
            .expect("ok");
        assert!(verdict.matches && verdict.needs_rehash);
    }

    #[tokio::test]
    async fn hashes_with_the_current_parameters_are_not_rehashed() {
        let hasher = PasswordHasher::new(cheap(), 1).expect("hasher");
        let hash = hasher
            .hash(&Password::new("correct horse"))
            .await
            .expect("hash");
        let verdict = hasher
            .verify(&Password::new("correct horse"), Some(&hash))
            .await
            .expect("ok");
        assert!(verdict.matches && !verdict.needs_rehash);
    }

    #[test]
    fn policy_follows_nist_length_rules() {
        assert!(policy_violation("short", None).is_some());
        assert!(policy_violation("eight ch", None).is_none());
        assert!(policy_violation(&"p".repeat(128), None).is_none());
        assert!(policy_violation(&"p".repeat(257), None).is_some());
        assert!(policy_violation("me@example.com", Some("me@example.com")).is_some());
    }
}
