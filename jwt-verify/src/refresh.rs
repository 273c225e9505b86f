//! Keeping the key set fresh: a background refresh that follows the issuer's
//! `Cache-Control: max-age`, a kid-miss refetch (single flight, one per
//! cooldown, waited out rather than refused), stale-if-error up to a limit,
//! and redirects kept on their origin.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

// tokio's Instant: the same monotonic clock, and one that tests can pause
// and advance instead of sleeping through cooldowns and staleness limits.
use tokio::time::Instant;

use futures_util::future::{BoxFuture, FutureExt, Shared};

use crate::fetch::{Fetcher, Target};
use crate::http_client::same_origin_redirects;
use crate::verifier::{CacheStatus, Counters, Inner, VerifierBuilder};
use crate::{KeyError, KeySet, Verifier};

#[derive(Debug, Clone)]
pub(crate) struct RefreshPolicy {
    pub(crate) min_interval: Duration,
    pub(crate) max_interval: Duration,
    pub(crate) unknown_kid_cooldown: Duration,
    pub(crate) max_stale: Duration,
}

pub(crate) type SharedRefresh = Shared<BoxFuture<'static, Result<Option<Duration>, KeyError>>>;

#[derive(Default)]
pub(crate) struct RefreshState {
    in_flight: Option<SharedRefresh>,
    last_attempt: Option<Instant>,
    /// The last successful fetch, for the staleness limit (monotonic).
    last_success: Option<Instant>,
}

pub(crate) struct Remote {
    pub(crate) fetcher: Fetcher,
    pub(crate) policy: RefreshPolicy,
    pub(crate) state: Mutex<RefreshState>,
}

/// Build a verifier over a remote source: fetch the keys first (failing
/// unless `lazy`), then keep them fresh in the background.
pub(crate) async fn build_remote(
    target: Target,
    builder: VerifierBuilder,
) -> Result<Verifier, KeyError> {
    let client = reqwest::Client::builder()
        .connect_timeout(builder.http_timeout)
        .timeout(builder.http_timeout)
        .redirect(same_origin_redirects())
        .build()
        .map_err(|e| KeyError::Client(e.to_string()))?;
    let revocations = builder.revocations();
    let dpop = builder.dpop.clone().map(crate::dpop::DpopState::new);
    let inner = Arc::new(Inner {
        keys: arc_swap::ArcSwap::from_pointee(KeySet::default()),
        validation: builder.validation,
        remote: Some(Remote {
            fetcher: Fetcher {
                client,
                target,
                max_bytes: builder.max_jwks_bytes,
            },
            policy: builder.policy,
            state: Mutex::new(RefreshState::default()),
        }),
        status: Mutex::new(CacheStatus {
            remote: true,
            ..CacheStatus::default()
        }),
        counters: Counters::default(),
        cache: builder.token_cache.map(crate::cache::TokenCache::new),
        revocations,
        dpop,
        clock: builder.clock,
    });
    let verifier = Verifier { inner };
    let first_delay = match verifier.refresh().await {
        Ok(max_age) => verifier.next_delay(max_age),
        Err(error) if builder.lazy && !error.is_misconfiguration() => {
            tracing::warn!(%error, "starting without verification keys; will retry");
            verifier.retry_delay()
        }
        Err(error) => return Err(error),
    };
    spawn_background_refresh(Arc::downgrade(&verifier.inner), first_delay);
    Ok(verifier)
}

fn spawn_background_refresh(inner: Weak<Inner>, first_delay: Duration) {
    tokio::spawn(async move {
        let mut delay = first_delay;
        loop {
            tokio::time::sleep(delay).await;
            let Some(inner) = inner.upgrade() else { break };
            let verifier = Verifier { inner };
            delay = match verifier.refresh().await {
                Ok(max_age) => verifier.next_delay(max_age),
                Err(_) => verifier.retry_delay(),
            };
        }
    });
}

/// Fetching on demand (feature `jwks`).
impl Verifier {
    /// Fetch the key set now (joining a fetch already under way), ignoring the
    /// cooldown. On failure the last good keys stay in use (stale-if-error).
    /// Returns the server's `max-age`, if it sent one. A static source is a no-op.
    pub async fn refresh(&self) -> Result<Option<Duration>, KeyError> {
        self.refresh_if_allowed(true).await
    }

    pub(crate) async fn refresh_if_allowed(
        &self,
        force: bool,
    ) -> Result<Option<Duration>, KeyError> {
        let Some(remote) = self.inner.remote.as_ref() else {
            return Ok(None);
        };
        let cooling_down = {
            let Ok(state) = remote.state.lock() else {
                return Err(KeyError::RefreshInterrupted("refresh state poisoned"));
            };
            match (&state.in_flight, state.last_attempt) {
                (None, Some(last)) if !force => remote
                    .policy
                    .unknown_kid_cooldown
                    .checked_sub(last.elapsed()),
                _ => None,
            }
        };
        if let Some(wait) = cooling_down.filter(|wait| !wait.is_zero()) {
            // Wait out the cooldown, then fetch (or join the fetch another
            // waiter started): a flood of random kids costs one fetch per
            // cooldown and cannot keep a real new key out.
            tokio::time::sleep(wait).await;
        }
        let shared = {
            let Ok(mut state) = remote.state.lock() else {
                return Err(KeyError::RefreshInterrupted("refresh state poisoned"));
            };
            match (&state.in_flight, state.last_attempt) {
                (Some(in_flight), _) => in_flight.clone(),
                // Someone else's fetch finished while we waited: its keys are ours.
                (None, Some(last))
                    if !force && last.elapsed() < remote.policy.unknown_kid_cooldown =>
                {
                    return Ok(None);
                }
                _ => {
                    let weak = Arc::downgrade(&self.inner);
                    // The fetch runs as its own task so it completes even if every
                    // waiting request is cancelled; waiters share its one result.
                    let task = tokio::spawn(fetch_and_swap(weak));
                    let fut: BoxFuture<'static, _> = async move {
                        task.await
                            .unwrap_or(Err(KeyError::RefreshInterrupted("refresh task failed")))
                    }
                    .boxed();
                    let shared = fut.shared();
                    state.in_flight = Some(shared.clone());
                    state.last_attempt = Some(Instant::now());
                    shared
                }
            }
        };
        shared.await
    }

    pub(crate) fn next_delay(&self, max_age: Option<Duration>) -> Duration {
        let Some(remote) = self.inner.remote.as_ref() else {
            return Duration::from_secs(3600);
        };
        let policy = &remote.policy;
        max_age
            .unwrap_or(policy.max_interval)
            .clamp(policy.min_interval, policy.max_interval)
    }

    pub(crate) fn retry_delay(&self) -> Duration {
        self.inner
            .remote
            .as_ref()
            .map(|r| r.policy.min_interval)
            .unwrap_or(Duration::from_secs(60))
    }
}
async fn fetch_and_swap(inner: Weak<Inner>) -> Result<Option<Duration>, KeyError> {
    let Some(inner) = inner.upgrade() else {
        return Err(KeyError::RefreshInterrupted("verifier dropped"));
    };
    let Some(remote) = inner.remote.as_ref() else {
        return Ok(None);
    };
    let result = remote.fetcher.fetch().await;
    let outcome = match result {
        Ok(fetched) => {
            let count = fetched.keys.len();
            inner.keys.store(Arc::new(fetched.keys));
            if let Ok(mut state) = remote.state.lock() {
                state.last_success = Some(Instant::now());
            }
            if let Ok(mut status) = inner.status.lock() {
                status.fetches += 1;
                status.key_count = count;
                status.last_success = Some(SystemTime::now());
                status.last_error = None;
            }
            tracing::debug!(source = %remote.fetcher.describe(), keys = count, "verification keys refreshed");
            Ok(fetched.max_age)
        }
        Err(error) => {
            let mut expired = false;
            let mut first_fetch = false;
            let had_keys = remote
                .state
                .lock()
                .ok()
                .is_some_and(|state| state.last_success.is_some());
            if let Ok(mut status) = inner.status.lock() {
                status.fetches += 1;
                first_fetch = status.fetches == 1;
                status.failed_fetches += 1;
                status.last_failure = Some(SystemTime::now());
                status.last_error = Some(error.to_string());
                expired = remote
                    .state
                    .lock()
                    .ok()
                    .and_then(|state| state.last_success)
                    .is_some_and(|at| at.elapsed() > remote.policy.max_stale);
                if expired {
                    status.key_count = 0;
                }
            }
            if expired {
                inner.keys.store(Arc::new(KeySet::default()));
                tracing::error!(%error, "verification keys dropped: no successful refresh within the maximum staleness");
            } else if had_keys {
                tracing::warn!(%error, "refreshing verification keys failed; keeping the last good key set");
            } else if first_fetch {
                // The builder returns it (or a lazy start reports it): once.
                tracing::debug!(%error, "the first fetch of verification keys failed");
            } else {
                tracing::warn!(%error, "fetching verification keys failed; none loaded yet");
            }
            Err(error)
        }
    };
    if let Ok(mut state) = remote.state.lock() {
        state.in_flight = None;
    }
    outcome
}
