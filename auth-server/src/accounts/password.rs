//! Argon2id password hashing off the async runtime, on a bounded pool.
//!
//! Hashing is deliberately expensive (~tens of ms, 19 MiB each). Running it on
//! the runtime's worker threads would let a login flood stall every other
//! endpoint, so each hash runs on a dedicated pool of threads behind a
//! semaphore sized to the cores; callers past a queue bound get `Busy` (503)
//! instead of piling up. The pool's threads run at the lowest normal
//! scheduling priority (nice 19): when a core is shared, token verification,
//! issuance and every other request preempt a hash in progress, so a login
//! flood slows logins rather than everything else.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

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

type Job = Box<dyn FnOnce() + Send>;

/// Start `threads` hashing threads at the lowest normal priority, fed through
/// one channel; they end when the last sender (hasher clone) is dropped.
fn spawn_pool(threads: usize) -> Result<SyncSender<Job>, HashError> {
    let (sender, receiver) = sync_channel::<Job>(threads);
    let receiver = Arc::new(Mutex::new(receiver));
    for index in 0..threads {
        let receiver = receiver.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{index}"))
            .spawn(move || run_worker(&receiver))
            .map_err(|e| HashError::Failed(format!("cannot start a hashing thread: {e}")))?;
    }
    Ok(sender)
}

fn run_worker(receiver: &Mutex<Receiver<Job>>) {
    // Lowering one's own priority needs no privilege; if the platform refuses,
    // hashing still works at normal priority.
    if let Err(error) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::warn!(?error, "could not lower the hashing thread's priority");
    }
    loop {
        let job = match receiver.lock() {
            Ok(receiver) => match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            Err(_) => return,
        };
        // A panicking hash must not take a pool thread with it: the caller
        // sees its result channel dropped and answers with an error.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    jobs: SyncSender<Job>,
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
/// What the stored hash of an account without a password starts with (it
/// can never match; a reset link sets a real one).
pub const NO_PASSWORD_PREFIX: &str = "!";

pub fn policy_violation(password: &str, email: Option<&str>) -> Option<super::Refusal> {
    use super::Refusal;
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(Refusal::new(
            "password_too_short",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(Refusal::new(
            "password_too_long",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if email.is_some_and(|email| email.eq_ignore_ascii_case(password)) {
        return Some(Refusal::new(
            "password_is_email",
            "must not be the email address",
        ));
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
            jobs: spawn_pool(concurrency)?,
            permits: Arc::new(Semaphore::new(concurrency)),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queued: concurrency * 64,
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Run `work` on the hashing pool once a permit is free.
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
        let (done, result) = tokio::sync::oneshot::channel();
        // Never blocks: a permit is held per job, and the channel has room for
        // as many jobs as there are permits.
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(work());
                drop(permit);
            }))
            .map_err(|_| HashError::Failed("hashing pool stopped".into()))?;
        result
            .await
            .map_err(|_| HashError::Failed("a hashing job failed".into()))
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
        // An account without a password (`!…`, made by an upstream sign-in)
        // is checked against the dummy hash like an unknown one: the same
        // time, and never a match.
        let usable = stored.filter(|h| !h.starts_with(NO_PASSWORD_PREFIX));
        let known = usable.is_some();
        let hash = usable
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

    /// The nice value of each of this process's threads with `name`, from /proc.
    #[cfg(target_os = "linux")]
    fn nice_of_threads_named(name: &str) -> Vec<i64> {
        let mut nice = Vec::new();
        for task in std::fs::read_dir("/proc/self/task")
            .expect("tasks")
            .flatten()
        {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() != name {
                continue;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).expect("stat");
            // Fields after the parenthesised command: state is field 3, nice field 19.
            let after_comm = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            let fields: Vec<&str> = after_comm.split_whitespace().collect();
            nice.push(fields[16].parse().expect("nice"));
        }
        nice
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_the_lowest_priority_so_requests_preempt_them() {
        let hasher = PasswordHasher::new(cheap(), 1).expect("hasher");
        // The first job proves the worker has started (and lowered itself).
        hasher
            .hash(&Password::new("a long passphrase"))
            .await
            .expect("hash");
        let name = "argon2-0";
        let nice = nice_of_threads_named(name);
        assert!(!nice.is_empty(), "no {name} thread");
        assert!(nice.iter().all(|n| *n == 19), "{nice:?}");
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
