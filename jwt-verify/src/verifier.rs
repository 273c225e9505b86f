//! The verifier: key sources, the builder, and the check of one token, which
//! puts together the JWS rules ([`crate::jws`]), the claim rules
//! ([`Validation`]), the key set kept fresh by [`crate::refresh`], the
//! verified-token cache and the counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use serde::de::DeserializeOwned;

use crate::claims::parse_standard_claims;
use crate::clock::unix_seconds;
#[cfg(feature = "jwks")]
use crate::refresh::RefreshPolicy;
use crate::{Clock, KeyError, KeySet, StandardClaims, SystemClock, Validation, VerifyError};

#[cfg(feature = "jwks")]
pub(crate) use crate::refresh::Remote;
/// Without the `jwks` feature there is no remote source: `Option<Remote>`
/// is always `None`.
#[cfg(not(feature = "jwks"))]
pub(crate) enum Remote {}

/// Where the verifier gets its public keys.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeySource {
    /// A JWKS URL, fetched at start and refreshed (see [`VerifierBuilder`]).
    #[cfg(feature = "jwks")]
    Jwks(String),
    /// An issuer URL; the JWKS URL is read from its
    /// `/.well-known/openid-configuration` (whose `issuer` must match).
    #[cfg(feature = "jwks")]
    OidcDiscovery(String),
    /// Keys given up front: no network, no refresh.
    Static(KeySet),
}

impl KeySource {
    /// Fetch keys from this JWKS URL (feature `jwks`).
    #[cfg(feature = "jwks")]
    pub fn jwks(url: impl Into<String>) -> Self {
        Self::Jwks(url.into())
    }

    /// Discover the JWKS URL from the issuer's OIDC discovery document
    /// (feature `jwks`).
    #[cfg(feature = "jwks")]
    pub fn oidc_discovery(issuer: impl Into<String>) -> Self {
        Self::OidcDiscovery(issuer.into())
    }

    /// One RSA public key in PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`),
    /// for services that are handed the key and must work with no auth server.
    pub fn pem(pem: &str) -> Result<Self, KeyError> {
        KeySet::from_pem(pem).map(Self::Static)
    }

    /// A JWKS document given as JSON text (e.g. from a file or a secret).
    pub fn from_jwks_json(json: &str) -> Result<Self, KeyError> {
        KeySet::from_jwks_json(json).map(Self::Static)
    }
}

/// The health of the key cache, for `/readyz` and metrics.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CacheStatus {
    /// When keys were last fetched successfully (`None`: never, or a static source).
    pub last_success: Option<SystemTime>,
    /// When the last fetch failed, if it did after the last success.
    pub last_failure: Option<SystemTime>,
    /// The last fetch error, cleared by a success.
    pub last_error: Option<String>,
    /// Usable keys in the current set.
    pub key_count: usize,
    /// How many HTTP fetches of the key set were made (successful or not).
    pub fetches: u64,
    /// How many of those fetches failed.
    pub failed_fetches: u64,
    /// Whether keys come from a remote source that is refreshed.
    pub remote: bool,
}

#[derive(Default)]
pub(crate) struct Counters {
    verified: AtomicU64,
    rejected: [AtomicU64; crate::error::REASONS.len()],
}

pub(crate) struct Inner {
    /// Swapped whole on refresh: readers never take a lock.
    pub(crate) keys: ArcSwap<KeySet>,
    pub(crate) validation: Validation,
    pub(crate) remote: Option<Remote>,
    pub(crate) status: Mutex<CacheStatus>,
    pub(crate) counters: Counters,
    /// Opt-in: verified tokens by their exact text.
    pub(crate) cache: Option<crate::cache::TokenCache>,
    pub(crate) clock: Arc<dyn Clock>,
    /// With a revocation feed: the deny set every verification consults.
    pub(crate) revocations: Option<crate::revocation::Revocations>,
    /// With DPoP: the proof rules, replay cache and nonce key.
    pub(crate) dpop: Option<crate::dpop::DpopState>,
}

/// How a token was presented: as a bearer token (a token bound to a DPoP
/// key is then refused) or with a proof the caller checks next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presentation {
    Bearer,
    Bound,
}

/// Verifies access tokens locally with the issuer's public keys.
///
/// Cheap to clone (one `Arc`); share one per process. With a remote source, a
/// background task keeps the keys fresh for as long as a clone is alive.
#[derive(Clone)]
pub struct Verifier {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.inner.keys.load().kids())
            .field("validation", &self.inner.validation)
            .finish()
    }
}

/// A token that passed every check.
///
/// Cheap to clone; the layer stores one in request extensions.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    claims: Arc<StandardClaims>,
    payload: Arc<[u8]>,
    kid: Option<Arc<str>>,
}

impl VerifiedToken {
    /// The `kid` of the key that signed it, if the header named one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The registered claims.
    pub fn claims(&self) -> &StandardClaims {
        &self.claims
    }

    /// Deserialize the payload into your own claims type.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.payload)
    }

    /// The decoded JSON payload (already authenticated).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Configures a [`Verifier`]; obtained from [`Verifier::builder`].
pub struct VerifierBuilder {
    pub(crate) source: KeySource,
    pub(crate) validation: Validation,
    #[cfg(feature = "jwks")]
    pub(crate) http_timeout: Duration,
    #[cfg(feature = "jwks")]
    pub(crate) max_jwks_bytes: usize,
    #[cfg(feature = "jwks")]
    pub(crate) policy: RefreshPolicy,
    #[cfg(feature = "jwks")]
    pub(crate) lazy: bool,
    pub(crate) token_cache: Option<usize>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) revocation: crate::revocation::RevocationSettings,
    pub(crate) dpop: Option<crate::DpopSettings>,
}

/// Settings of a remote key source (feature `jwks`).
#[cfg(feature = "jwks")]
impl VerifierBuilder {
    /// Connect + total timeout of each JWKS or discovery request (default 5 s).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// Largest JWKS or discovery response accepted (default 64 KiB).
    pub fn max_jwks_bytes(mut self, bytes: usize) -> Self {
        self.max_jwks_bytes = bytes;
        self
    }

    /// Bounds on the background refresh interval; the server's `Cache-Control:
    /// max-age` is clamped into them (defaults 1 s and 1 h). The low default
    /// honours the issuer's `max-age`: Signet publishes a new key for at least
    /// its `max-age` before signing with it, so a verifier that refreshes at
    /// that pace holds every key before its first token arrives.
    pub fn refresh_interval_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.policy.min_interval = min;
        self.policy.max_interval = max.max(min);
        self
    }

    /// Least time between two fetches caused by unknown `kid`s (default 1 s).
    /// A flood of tokens with random `kid`s costs at most one fetch per
    /// cooldown. A token arriving inside the cooldown waits for its end and
    /// the next fetch instead of being refused, so a flood cannot keep a
    /// genuinely new key out for longer than one cooldown and one fetch.
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.policy.unknown_kid_cooldown = cooldown;
        self
    }

    /// How long the last good key set is used while every refresh fails
    /// (default 7 days). Past it the keys are dropped and tokens are refused
    /// with [`VerifyError::KeysUnavailable`]: a verifier cut off from its
    /// issuer for that long no longer knows which keys were revoked.
    pub fn max_stale_keys(mut self, max_stale: Duration) -> Self {
        self.policy.max_stale = max_stale;
        self
    }

    /// Start even if the first fetch fails; tokens are refused with
    /// [`VerifyError::KeysUnavailable`] until a fetch succeeds.
    ///
    /// An error that waiting cannot fix ([`KeyError::is_misconfiguration`]: a
    /// wrong issuer, a URL the server answers `404`) still fails the build.
    pub fn lazy(mut self, lazy: bool) -> Self {
        self.lazy = lazy;
        self
    }

    /// Follow the issuer's security-event feed: a background task keeps a
    /// deny set of revoked sessions, users, clients and keys, and every
    /// verification consults it (no lock, no allocation), so a token revoked
    /// at the issuer is refused with [`VerifyError::Revoked`] within about a
    /// second. See [`RevocationFeed`](crate::RevocationFeed) and the README.
    pub fn revocation_feed(mut self, feed: crate::RevocationFeed) -> Self {
        self.revocation.feed = Some(feed);
        self
    }
}

impl VerifierBuilder {
    /// How long the revocation feed may be silent (unreachable, failing)
    /// before the verifier counts as stale (default: never). Stale, it keeps
    /// accepting tokens (logged, and [`Verifier::revocation_status`] says so)
    /// unless [`revocation_fail_closed`](Self::revocation_fail_closed) is set.
    pub fn revocation_max_staleness(mut self, max: Duration) -> Self {
        self.revocation.max_staleness = Some(max);
        self
    }

    /// Refuse every token with [`VerifyError::RevocationsStale`] (503) while
    /// the feed is stale, instead of accepting tokens whose revocation may
    /// not have arrived. Availability against exactness: off by default.
    pub fn revocation_fail_closed(mut self, fail_closed: bool) -> Self {
        self.revocation.fail_closed = fail_closed;
        self
    }

    /// Keep a deny set that the application fills itself with
    /// [`Verifier::apply_security_events`]: for an issuer verifying its own
    /// tokens, which learns of revocations from its own store rather than
    /// over the feed. Works with [`build_static`](Self::build_static).
    pub fn local_revocations(mut self) -> Self {
        self.revocation.local = true;
        self
    }

    /// How long after its event a revocation is kept (default 24 h 5 min,
    /// Signet's longest token lifetime and leeway): by then no token it
    /// could match is still valid.
    pub fn revocation_horizon(mut self, horizon: Duration) -> Self {
        self.revocation.horizon = horizon;
        self
    }
}

impl VerifierBuilder {
    /// Cache up to `capacity` verified tokens, so a token seen again skips the
    /// RSA operation. Safe by construction: a hit needs the exact same token,
    /// still inside `exp` + leeway, whose verifying key is still in the current
    /// key set (any refresh or rotation invalidates). Off by default.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.token_cache = (capacity > 0).then_some(capacity);
        self
    }

    /// Accept DPoP-bound tokens (RFC 9449) presented with `Authorization:
    /// DPoP` and a proof that passes `settings`; see [`Verifier::verify_dpop`].
    /// Without it, a bound token is refused whichever way it comes
    /// ([`VerifyError::DpopProofRequired`]).
    pub fn dpop(mut self, settings: crate::DpopSettings) -> Self {
        self.dpop = Some(settings);
        self
    }

    /// Read the time from `clock` (default: the system clock). Tests pass a
    /// [`ManualClock`](crate::ManualClock) and move it instead of sleeping.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Build the verifier. For a remote source this fetches the keys first and
    /// fails if that fails (unless [`lazy`](Self::lazy)), then starts the
    /// background refresh; it must run inside a Tokio runtime.
    pub async fn build(self) -> Result<Verifier, KeyError> {
        #[cfg(feature = "jwks")]
        let follow = self
            .revocation
            .feed
            .clone()
            .map(|feed| (feed, self.http_timeout));
        let verifier = self.build_verifier().await?;
        #[cfg(feature = "jwks")]
        if let Some((feed, timeout)) = follow {
            let client = reqwest::Client::builder()
                .connect_timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| KeyError::Client(e.to_string()))?;
            crate::revocation::follow::spawn(&verifier, feed, client);
        }
        Ok(verifier)
    }

    /// Build over a [`KeySource::Static`] key set without a runtime (an
    /// issuer verifying its own tokens). A remote source is refused: it
    /// needs [`build`](Self::build).
    pub fn build_static(self) -> Result<Verifier, KeyError> {
        match &self.source {
            KeySource::Static(keys) => Ok(Verifier::over_static_keys(
                keys.clone(),
                self.validation.clone(),
                self.token_cache,
                self.clock.clone(),
                self.revocation
                    .local
                    .then(|| crate::revocation::Revocations::new(&self.revocation)),
                self.dpop.clone().map(crate::dpop::DpopState::new),
            )),
            #[cfg(feature = "jwks")]
            _ => Err(KeyError::InvalidUrl {
                url: String::new(),
                reason: "build_static needs KeySource::Static".into(),
            }),
        }
    }

    /// The deny set, when a feed will fill it.
    pub(crate) fn revocations(&self) -> Option<crate::revocation::Revocations> {
        #[cfg(feature = "jwks")]
        if self.revocation.feed.is_some() {
            return Some(crate::revocation::Revocations::new(&self.revocation));
        }
        self.revocation
            .local
            .then(|| crate::revocation::Revocations::new(&self.revocation))
    }

    async fn build_verifier(self) -> Result<Verifier, KeyError> {
        match &self.source {
            KeySource::Static(keys) => Ok(Verifier::over_static_keys(
                keys.clone(),
                self.validation.clone(),
                self.token_cache,
                self.clock.clone(),
                self.revocations(),
                self.dpop.clone().map(crate::dpop::DpopState::new),
            )),
            #[cfg(feature = "jwks")]
            KeySource::Jwks(url) => {
                let target = crate::fetch::Target::Jwks(crate::fetch::parse_http_url(url)?);
                crate::refresh::build_remote(target, self).await
            }
            #[cfg(feature = "jwks")]
            KeySource::OidcDiscovery(issuer) => {
                let target = crate::fetch::Target::discovery(issuer)?;
                crate::refresh::build_remote(target, self).await
            }
        }
    }
}

impl Verifier {
    /// Verify against a remote or static key source with default refresh settings.
    pub async fn new(source: KeySource, validation: Validation) -> Result<Self, KeyError> {
        Self::builder(source, validation).build().await
    }

    /// Configure refresh, timeouts and laziness before building.
    pub fn builder(source: KeySource, validation: Validation) -> VerifierBuilder {
        VerifierBuilder {
            source,
            validation,
            #[cfg(feature = "jwks")]
            http_timeout: Duration::from_secs(5),
            #[cfg(feature = "jwks")]
            max_jwks_bytes: 64 * 1024,
            #[cfg(feature = "jwks")]
            policy: RefreshPolicy {
                min_interval: Duration::from_secs(1),
                max_interval: Duration::from_secs(3600),
                unknown_kid_cooldown: Duration::from_secs(1),
                max_stale: Duration::from_secs(7 * 24 * 3600),
            },
            #[cfg(feature = "jwks")]
            lazy: false,
            token_cache: None,
            clock: Arc::new(SystemClock),
            revocation: crate::revocation::RevocationSettings::default(),
            dpop: None,
        }
    }

    /// A verifier over fixed keys: no network, no runtime needed.
    pub fn from_key_set(keys: KeySet, validation: Validation) -> Self {
        Self::over_static_keys(keys, validation, None, Arc::new(SystemClock), None, None)
    }

    fn over_static_keys(
        keys: KeySet,
        validation: Validation,
        token_cache: Option<usize>,
        clock: Arc<dyn Clock>,
        revocations: Option<crate::revocation::Revocations>,
        dpop: Option<crate::dpop::DpopState>,
    ) -> Self {
        let key_count = keys.len();
        Self {
            inner: Arc::new(Inner {
                keys: ArcSwap::from_pointee(keys),
                validation,
                remote: None,
                status: Mutex::new(CacheStatus {
                    key_count,
                    ..CacheStatus::default()
                }),
                counters: Counters::default(),
                cache: token_cache.map(crate::cache::TokenCache::new),
                clock,
                revocations,
                dpop,
            }),
        }
    }

    /// How many verified tokens the cache holds (0 without a cache).
    pub fn cached_tokens(&self) -> usize {
        self.inner
            .cache
            .as_ref()
            .map_or(0, crate::cache::TokenCache::len)
    }

    /// Replace the key set (for an embedding server that rotates its own keys).
    pub fn replace_keys(&self, keys: KeySet) {
        let count = keys.len();
        self.inner.keys.store(Arc::new(keys));
        if let Ok(mut status) = self.inner.status.lock() {
            status.key_count = count;
        }
    }

    /// The validation rules in force.
    pub fn validation(&self) -> &Validation {
        &self.inner.validation
    }

    /// The current key set.
    pub fn keys(&self) -> Arc<KeySet> {
        self.inner.keys.load_full()
    }

    /// The key cache's health: last success, last error, key count, fetches.
    pub fn status(&self) -> CacheStatus {
        self.inner
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Verify a token, refetching the key set once if its `kid` is unknown and
    /// the cooldown allows. The only await is that refetch; known keys verify
    /// without I/O or locks.
    ///
    /// The token is taken as a bearer token: one bound to a DPoP key is
    /// refused ([`VerifyError::DpopProofRequired`]); see [`verify_dpop`](Self::verify_dpop).
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        match self.verify_now(token, Presentation::Bearer) {
            Some(result) => result,
            None => self.verify_after_refetch(token, Presentation::Bearer).await,
        }
    }

    /// Verify a token presented with `Authorization: DPoP` and its `proof`
    /// (the request's `DPoP` header) on a request with `method` and `path`
    /// (the URI path as this service received it). The token must be bound
    /// to the proof's key (`cnf.jkt`); the proof must pass the
    /// [`DpopSettings`](crate::DpopSettings) given to the builder, its `jti`
    /// unseen by this verifier. Without settings every call is refused.
    pub async fn verify_dpop(
        &self,
        token: &str,
        proof: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<VerifiedToken, crate::AuthError> {
        let verified = match self.verify_now(token, Presentation::Bound) {
            Some(result) => result,
            None => self.verify_after_refetch(token, Presentation::Bound).await,
        }?;
        self.check_proof(verified, token, proof, method, path)
    }

    /// The proof half of [`verify_dpop`](Self::verify_dpop), for a token
    /// already verified as [`Presentation::Bound`].
    pub(crate) fn check_proof(
        &self,
        verified: VerifiedToken,
        token: &str,
        proof: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<VerifiedToken, crate::AuthError> {
        let Some(dpop) = &self.inner.dpop else {
            return Err(crate::AuthError::InvalidToken(
                VerifyError::DpopProofRequired,
            ));
        };
        let proof = proof.ok_or(crate::AuthError::InvalidDpopProof(
            crate::DpopError::Missing,
        ))?;
        let now = unix_seconds(&*self.inner.clock);
        let jkt = verified.claims().cnf.as_ref().map(|c| c.jkt.as_str());
        match dpop.check(proof, method, path, token, jkt, now) {
            Ok(_) => Ok(verified),
            Err(Ok(nonce)) => Err(crate::AuthError::UseDpopNonce(nonce)),
            Err(Err(error)) => Err(crate::AuthError::InvalidDpopProof(error)),
        }
    }

    /// Whether DPoP-bound tokens are accepted (the builder was given settings).
    pub fn accepts_dpop(&self) -> bool {
        self.inner.dpop.is_some()
    }

    /// A fresh `DPoP-Nonce` to hand a client, when nonces are required.
    pub fn dpop_nonce(&self) -> Option<String> {
        let now = unix_seconds(&*self.inner.clock);
        self.inner.dpop.as_ref().and_then(|d| d.fresh_nonce(now))
    }

    /// Verify with the keys held now; `None` when the answer is an unknown kid
    /// (or no keys yet) that a refetch may change. Final outcomes are counted.
    pub(crate) fn verify_now(
        &self,
        token: &str,
        presentation: Presentation,
    ) -> Option<Result<VerifiedToken, VerifyError>> {
        let result = self.check_as(token, presentation);
        let refetch_may_help = self.inner.remote.is_some()
            && matches!(
                result,
                Err(VerifyError::UnknownKid | VerifyError::KeysUnavailable)
            );
        if refetch_may_help {
            return None;
        }
        self.count(&result);
        Some(result)
    }

    /// Refetch (cooldown-limited, single flight) and verify again; counted.
    pub(crate) async fn verify_after_refetch(
        &self,
        token: &str,
        presentation: Presentation,
    ) -> Result<VerifiedToken, VerifyError> {
        // Ok or Err, re-check with whatever keys we now hold: a failed or
        // cooling-down refresh leaves the last good set in place.
        #[cfg(feature = "jwks")]
        let _ = self.refresh_if_allowed(false).await;
        let result = self.check_as(token, presentation);
        self.count(&result);
        result
    }

    /// Verify with the keys held now, never fetching. An unknown `kid` is
    /// [`VerifyError::UnknownKid`] at once.
    /// Like [`verify`](Self::verify), a DPoP-bound token is refused.
    pub fn verify_with_current_keys(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let result = self.check_as(token, Presentation::Bearer);
        self.count(&result);
        result
    }

    /// Verify with the keys held now, accepting a DPoP-bound token without
    /// its proof: for an issuer's introspection and revocation endpoints,
    /// which report on or end a token, never to authorize a request with it.
    pub fn inspect(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let result = self.check_as(token, Presentation::Bound);
        self.count(&result);
        result
    }

    /// [`check`](Self::check), then the sender constraint: a bearer
    /// presentation of a bound token is refused (RFC 9449 §7.2).
    fn check_as(
        &self,
        token: &str,
        presentation: Presentation,
    ) -> Result<VerifiedToken, VerifyError> {
        let verified = self.check(token)?;
        if presentation == Presentation::Bearer && verified.claims().cnf.is_some() {
            return Err(VerifyError::DpopProofRequired);
        }
        Ok(verified)
    }

    /// How many tokens passed verification.
    pub fn verified(&self) -> u64 {
        self.inner.counters.verified.load(Ordering::Relaxed)
    }

    /// How many tokens were rejected, per [`VerifyError::reason`] (every reason listed).
    pub fn rejections(&self) -> Vec<(&'static str, u64)> {
        crate::error::REASONS
            .iter()
            .zip(self.inner.counters.rejected.iter())
            .map(|(reason, count)| (*reason, count.load(Ordering::Relaxed)))
            .collect()
    }

    fn count(&self, result: &Result<VerifiedToken, VerifyError>) {
        let counters = &self.inner.counters;
        match result {
            Ok(_) => {
                counters.verified.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                counters.rejected[error.reason_index()].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The whole check, uncounted (`verify` may run it twice around a refetch).
    fn check(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let validation = &self.inner.validation;
        if token.len() > validation.max_token_len {
            return Err(VerifyError::TooLong);
        }
        if let Some(cache) = &self.inner.cache {
            let keys = self.inner.keys.load();
            let hit = cache.get(token, unix_seconds(&*self.inner.clock), |verified_by| {
                keys.keys
                    .values()
                    .any(|current| std::ptr::eq(current.as_ref(), verified_by))
            });
            if let Some(verified) = hit {
                self.check_revocation(&verified)?;
                return Ok(verified);
            }
        }
        let jws = crate::jws::Jws::parse(token, validation)?;
        let keys = self.inner.keys.load();
        if keys.is_empty() {
            return Err(VerifyError::KeysUnavailable);
        }
        let key = jws.key_in(&keys)?;
        jws.verify_signature(key)?;
        let payload = jws.payload()?;
        let (claims, has_exp) = parse_standard_claims(&payload)?;
        let now = unix_seconds(&*self.inner.clock);
        validation.check_claims(&claims, has_exp, now)?;
        let valid_until = if validation.validate_exp && has_exp {
            claims
                .exp
                .saturating_add(validation.leeway.as_secs() as i64)
        } else {
            i64::MAX
        };
        let verified = VerifiedToken {
            claims: Arc::new(claims),
            payload: payload.into(),
            kid: jws.kid().map(Arc::from),
        };
        if let Some(cache) = &self.inner.cache {
            cache.insert(token, verified.clone(), Arc::clone(key), valid_until, now);
        }
        // After the cache insert: a token revoked later is refused on every
        // hit too, since the cache never skips this check.
        self.check_revocation(&verified)?;
        Ok(verified)
    }

    fn check_revocation(&self, verified: &VerifiedToken) -> Result<(), VerifyError> {
        match &self.inner.revocations {
            Some(revocations) => revocations.check(
                verified.claims(),
                verified.kid(),
                unix_seconds(&*self.inner.clock),
            ),
            None => Ok(()),
        }
    }

    /// Benchmarks only, not part of the API: put `count` revoked sessions
    /// (random `sid`s) into the deny set as the follower would after
    /// reading them, so the cost of a full deny set can be measured without
    /// signing that many events. Does nothing without a feed.
    #[doc(hidden)]
    pub fn load_revoked_sessions_for_benchmarks(&self, count: usize) {
        if let Some(revocations) = &self.inner.revocations {
            let now = unix_seconds(&*self.inner.clock);
            let events: Vec<(String, String, i64)> = (0..count)
                .map(|i| {
                    (
                        crate::revocation::SESSION_REVOKED.to_owned(),
                        format!("bench-session-{i:08}"),
                        now,
                    )
                })
                .collect();
            revocations.apply(&events, count as i64, now);
        }
    }

    /// Apply revocations the application learned itself (see
    /// [`VerifierBuilder::local_revocations`]) and record `cursor` as the
    /// position reached: from the next verification on, tokens they name
    /// are refused with [`VerifyError::Revoked`], from the token cache too.
    /// Entries older than the horizon are dropped. `false` (nothing done)
    /// without a deny set.
    pub fn apply_security_events(&self, events: &[crate::SecurityEvent], cursor: i64) -> bool {
        let Some(revocations) = &self.inner.revocations else {
            return false;
        };
        let events: Vec<(String, String, i64)> = events
            .iter()
            .map(|event| (event.event_type.clone(), event.subject.clone(), event.at))
            .collect();
        revocations.apply(&events, cursor, unix_seconds(&*self.inner.clock));
        true
    }

    /// Whether a stale feed makes this verifier refuse every token
    /// ([`VerifierBuilder::revocation_fail_closed`]).
    pub fn revocations_fail_closed(&self) -> bool {
        self.inner
            .revocations
            .as_ref()
            .is_some_and(crate::revocation::Revocations::fails_closed)
    }

    /// The revocation follower's position and health; `None` without a feed.
    pub fn revocation_status(&self) -> Option<crate::RevocationStatus> {
        self.inner.revocations.as_ref().map(|r| {
            let mut status = r.status();
            status.stale = r.is_stale(unix_seconds(&*self.inner.clock));
            status
        })
    }

    /// Verify a Security Event Token with this verifier's keys and `validation`.
    #[cfg(feature = "jwks")]
    pub(crate) fn verify_set(
        &self,
        set: &str,
        validation: &Validation,
    ) -> Result<serde_json::Value, VerifyError> {
        let jws = crate::jws::Jws::parse(set, validation)?;
        let keys = self.inner.keys.load();
        let key = jws.key_in(&keys)?;
        jws.verify_signature(key)?;
        let payload = jws.payload()?;
        let claims: serde_json::Value = serde_json::from_slice(&payload)
            .map_err(|_| VerifyError::Malformed("payload is not a JSON object"))?;
        if let Some(issuer) = validation.issuer() {
            if claims.get("iss").and_then(serde_json::Value::as_str) != Some(issuer) {
                return Err(VerifyError::WrongIssuer);
            }
        }
        Ok(claims)
    }

    /// A kid-miss refetch (cooldown-limited), for the revocation follower.
    #[cfg(feature = "jwks")]
    pub(crate) async fn refresh_for_unknown_kid(&self) {
        let _ = self.refresh_if_allowed(false).await;
    }
}
