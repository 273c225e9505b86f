//! Following the issuer's security-event feed (Signet's
//! `/api/v1/security-events`): revocations reach this verifier within a
//! second instead of at token expiry, and verification stays local.
//!
//! The follower keeps a deny set, swapped whole on each batch of events
//! (`ArcSwap`), so the check on the request path takes no lock and
//! allocates nothing:
//!
//! | Event | Refuses a token when |
//! |---|---|
//! | CAEP `session-revoked` (subject: the session id) | its `sid` matches |
//! | CAEP `credential-change`, RISC `account-disabled`, `account-purged` (subject: `iss_sub`) | its `sub` matches and its `iat` is before the event time |
//! | `urn:signet:secevent:client-revoked` (subject: the client id) | its `client_id` matches and its `iat` is not after the event time |
//! | `urn:signet:secevent:key-revoked` (subject: the kid) | it was signed with that key |
//!
//! An entry is dropped once no token it could match can still be valid
//! ([`VerifierBuilder::revocation_horizon`](crate::VerifierBuilder::revocation_horizon)).
//! Each SET is verified with the verifier's own keys (`typ`
//! `secevent+jwt`, the configured issuer). One that does not verify (signed
//! by a key no longer published, say) is skipped: logged at WARN with its
//! `jti`, counted in [`RevocationStatus::skipped`], and the follower moves
//! on, so one bad event never stalls every later revocation. A page on
//! which *no* SET verifies is different: the feed's signatures are
//! untrusted as a whole (wrong issuer, wrong keys, a substituted feed). The
//! follower then keeps its position, retries with back-off, and reports
//! [`RevocationStatus::untrusted`] (services' `/readyz` shows it, unready).

// Without `jwks` nothing fills the deny set (no feed can be configured).
#![cfg_attr(not(feature = "jwks"), allow(dead_code))]

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::Value;

use crate::{StandardClaims, VerifyError};

pub(crate) const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
pub(crate) const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
pub(crate) const ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
pub(crate) const ACCOUNT_PURGED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-purged";
pub(crate) const CLIENT_REVOKED: &str = "urn:signet:secevent:client-revoked";
pub(crate) const KEY_REVOKED: &str = "urn:signet:secevent:key-revoked";

/// The `typ` of a Security Event Token (RFC 8417 §2.3).
pub(crate) const SET_TYPE: &str = "secevent+jwt";

/// The default horizon: Signet's longest configurable token lifetime (24 h)
/// and clock leeway.
pub(crate) const DEFAULT_HORIZON: Duration = Duration::from_secs(24 * 3600 + 5 * 60);

/// What is revoked, each with the event time (seconds since the epoch).
#[derive(Debug, Clone, Default)]
pub(crate) struct DenySet {
    sessions: HashMap<String, i64>,
    subjects: HashMap<String, i64>,
    clients: HashMap<String, i64>,
    keys: HashMap<String, i64>,
}

impl DenySet {
    pub(crate) fn len(&self) -> usize {
        self.sessions.len() + self.subjects.len() + self.clients.len() + self.keys.len()
    }

    /// Whether a verified token with these claims, signed by `kid`, is revoked.
    pub(crate) fn refuses(&self, claims: &StandardClaims, kid: Option<&str>) -> bool {
        let issued = claims.iat.unwrap_or(i64::MIN);
        claims
            .sid
            .as_deref()
            .is_some_and(|sid| self.sessions.contains_key(sid))
            || claims
                .sub
                .as_deref()
                .and_then(|sub| self.subjects.get(sub))
                .is_some_and(|at| issued < *at)
            || claims
                .client_id
                .as_deref()
                .and_then(|client| self.clients.get(client))
                .is_some_and(|at| issued <= *at)
            || kid.is_some_and(|kid| self.keys.contains_key(kid))
    }

    /// Apply one event; unknown event types are ignored (the feed may grow).
    pub(crate) fn apply(&mut self, event_type: &str, subject: &str, at: i64) {
        let map = match event_type {
            SESSION_REVOKED => &mut self.sessions,
            CREDENTIAL_CHANGE | ACCOUNT_DISABLED | ACCOUNT_PURGED => &mut self.subjects,
            CLIENT_REVOKED => &mut self.clients,
            KEY_REVOKED => &mut self.keys,
            _ => return,
        };
        let entry = map.entry(subject.to_owned()).or_insert(at);
        *entry = (*entry).max(at);
    }

    /// Forget entries older than `oldest` (no token they match is still valid).
    pub(crate) fn prune(&mut self, oldest: i64) {
        for map in [
            &mut self.sessions,
            &mut self.subjects,
            &mut self.clients,
            &mut self.keys,
        ] {
            map.retain(|_, at| *at >= oldest);
        }
    }
}

/// One revocation, as a security event on the feed carries it: the event
/// type URI (CAEP `session-revoked`, `credential-change`, RISC
/// `account-disabled`, `account-purged`, or Signet's `client-revoked` and
/// `key-revoked`), its subject (a session id, a user's `sub`, a `client_id`,
/// a `kid`) and when it took effect. For an issuer that verifies its own
/// tokens and learns of revocations itself
/// ([`VerifierBuilder::local_revocations`](crate::VerifierBuilder::local_revocations),
/// [`Verifier::apply_security_events`](crate::Verifier::apply_security_events)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecurityEvent {
    /// The event type URI; unknown types are ignored.
    pub event_type: String,
    /// What it names: a session id, a `sub`, a `client_id` or a `kid`.
    pub subject: String,
    /// When it took effect, in seconds since the epoch.
    pub at: i64,
}

impl SecurityEvent {
    /// An event of `event_type` naming `subject`, in effect from `at`.
    pub fn new(event_type: impl Into<String>, subject: impl Into<String>, at: i64) -> Self {
        Self {
            event_type: event_type.into(),
            subject: subject.into(),
            at,
        }
    }
}

/// The follower's position and health, for `/readyz` and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStatus {
    /// The feed cursor the next read starts after.
    pub cursor: i64,
    /// Entries in the deny set.
    pub entries: usize,
    /// When the feed last answered (seconds since the epoch); `None` before the first answer.
    pub last_synced_at: Option<i64>,
    /// The newest event time applied (seconds since the epoch).
    pub last_event_at: Option<i64>,
    /// Failed reads since the last good one.
    pub failures: u64,
    /// Silent longer than the staleness limit.
    pub stale: bool,
    /// SETs skipped because they did not verify, since the follower started.
    pub skipped: u64,
    /// The last page read had SETs and none of them verified: the follower
    /// is not moving until the feed's signatures verify again.
    pub untrusted: bool,
}

/// The deny set and the follower's state, shared with the verifier.
pub(crate) struct Revocations {
    deny: ArcSwap<DenySet>,
    status: Mutex<RevocationStatus>,
    /// `last_synced_at` for the request path, without the mutex.
    synced_at: AtomicI64,
    pub(crate) max_staleness: Option<Duration>,
    pub(crate) fail_closed: bool,
    pub(crate) horizon: Duration,
}

impl Revocations {
    pub(crate) fn new(settings: &RevocationSettings) -> Self {
        Self {
            deny: ArcSwap::from_pointee(DenySet::default()),
            status: Mutex::new(RevocationStatus::default()),
            synced_at: AtomicI64::new(i64::MIN),
            max_staleness: settings.max_staleness,
            fail_closed: settings.fail_closed,
            horizon: settings.horizon,
        }
    }

    /// The request-path check: no lock, no allocation.
    pub(crate) fn check(
        &self,
        claims: &StandardClaims,
        kid: Option<&str>,
        now: i64,
    ) -> Result<(), VerifyError> {
        if self.fail_closed && self.is_stale(now) {
            return Err(VerifyError::RevocationsStale);
        }
        if self.deny.load().refuses(claims, kid) {
            return Err(VerifyError::Revoked);
        }
        Ok(())
    }

    /// Whether the feed has been silent longer than the staleness limit.
    pub(crate) fn fails_closed(&self) -> bool {
        self.fail_closed
    }

    pub(crate) fn is_stale(&self, now: i64) -> bool {
        let Some(max) = self.max_staleness else {
            return false;
        };
        let synced = self.synced_at.load(Ordering::Relaxed);
        synced == i64::MIN
            || now.saturating_sub(synced) > i64::try_from(max.as_secs()).unwrap_or(i64::MAX)
    }

    pub(crate) fn status(&self) -> RevocationStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Apply a batch of events (`(type, subject, at)`) and advance to `cursor`.
    pub(crate) fn apply(&self, events: &[(String, String, i64)], cursor: i64, now: i64) {
        let mut next = DenySet::clone(&self.deny.load());
        for (event_type, subject, at) in events {
            next.apply(event_type, subject, *at);
        }
        let horizon = i64::try_from(self.horizon.as_secs()).unwrap_or(i64::MAX);
        next.prune(now.saturating_sub(horizon));
        let entries = next.len();
        self.deny.store(std::sync::Arc::new(next));
        self.synced_at.store(now, Ordering::Relaxed);
        if let Ok(mut status) = self.status.lock() {
            status.cursor = cursor;
            status.entries = entries;
            status.last_synced_at = Some(now);
            status.failures = 0;
            status.untrusted = false;
            if let Some(newest) = events.iter().map(|(_, _, at)| *at).max() {
                status.last_event_at = Some(status.last_event_at.map_or(newest, |l| l.max(newest)));
            }
        }
    }

    pub(crate) fn failed(&self) -> u64 {
        self.status.lock().map_or(0, |mut status| {
            status.failures += 1;
            status.failures
        })
    }

    /// `count` SETs of a page did not verify and were skipped.
    pub(crate) fn skipped(&self, count: u64) {
        if let Ok(mut status) = self.status.lock() {
            status.skipped += count;
        }
    }

    /// A page none of whose SETs verified: the position is kept.
    pub(crate) fn untrusted(&self) {
        if let Ok(mut status) = self.status.lock() {
            status.untrusted = true;
        }
    }
}

/// How the verifier treats the feed (set on the builder).
#[derive(Debug, Clone)]
pub(crate) struct RevocationSettings {
    #[cfg(feature = "jwks")]
    pub(crate) feed: Option<RevocationFeed>,
    pub(crate) max_staleness: Option<Duration>,
    pub(crate) fail_closed: bool,
    pub(crate) horizon: Duration,
    /// A deny set filled by the application itself.
    pub(crate) local: bool,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        Self {
            local: false,
            #[cfg(feature = "jwks")]
            feed: None,
            max_staleness: None,
            fail_closed: false,
            horizon: DEFAULT_HORIZON,
        }
    }
}

/// Where the security-event feed is and the API key that may read it
/// (scope `events:read`). `Debug` never shows the secret.
#[cfg(feature = "jwks")]
#[derive(Clone)]
pub struct RevocationFeed {
    pub(crate) url: String,
    pub(crate) client_id: String,
    pub(crate) secret: String,
    pub(crate) kind: FeedKind,
    /// How long an idle SSF stream waits before the next poll.
    pub(crate) poll_interval: Duration,
}

/// How often an idle SSF stream is polled by default (RFC 8936
/// transmitters may answer at once).
#[cfg(feature = "jwks")]
pub(crate) const SSF_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Which protocol the feed speaks.
#[cfg(feature = "jwks")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeedKind {
    /// Signet's cursor feed (`GET …?after=&wait=`): the whole current state
    /// from cursor 0, each replica at its own position.
    Cursor,
    /// An OpenID Shared Signals stream with RFC 8936 poll delivery
    /// (`POST {ack, setErrs, maxEvents}`): what is acknowledged is not sent
    /// again.
    SsfPoll,
}

#[cfg(feature = "jwks")]
impl std::fmt::Debug for RevocationFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationFeed")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("secret", &"[REDACTED]")
            .field("kind", &self.kind)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

#[cfg(feature = "jwks")]
impl RevocationFeed {
    /// The feed at `url` (e.g. `https://auth.example.com/api/v1/security-events`),
    /// read with HTTP Basic `client_id:secret`.
    pub fn new(
        url: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            client_id: client_id.into(),
            secret: secret.into(),
            kind: FeedKind::Cursor,
            poll_interval: SSF_POLL_INTERVAL,
        }
    }

    /// How long the follower waits before polling an SSF stream that had
    /// nothing (default 2 s; at least 10 ms). The cursor feed long-polls
    /// instead and ignores it.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// For a Signet API key (`sgn_<id>_<secret>`): the client id is its
    /// first two parts, the secret the whole key.
    pub fn with_api_key(url: impl Into<String>, api_key: &str) -> Self {
        let client_id = api_key.splitn(3, '_').take(2).collect::<Vec<_>>().join("_");
        Self::new(url, client_id, api_key)
    }

    /// An OpenID Shared Signals Framework stream with RFC 8936 poll delivery:
    /// `endpoint_url` is the stream's `delivery.endpoint_url`, read with HTTP
    /// Basic. Every SET that verifies is acknowledged on the next poll; one
    /// that does not is reported in `setErrs`. Acknowledged events are not
    /// sent again, so a process that restarts starts from what is still
    /// unacknowledged: give each replica its own stream, and prefer
    /// [`RevocationFeed::new`] (the whole current state at every start)
    /// where the transmitter is Signet.
    pub fn ssf_poll(
        endpoint_url: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self {
            kind: FeedKind::SsfPoll,
            ..Self::new(endpoint_url, client_id, secret)
        }
    }

    /// [`ssf_poll`](Self::ssf_poll) with a Signet API key (scope `ssf:stream`).
    pub fn ssf_poll_with_api_key(endpoint_url: impl Into<String>, api_key: &str) -> Self {
        Self {
            kind: FeedKind::SsfPoll,
            ..Self::with_api_key(endpoint_url, api_key)
        }
    }
}

/// The subject and time of each event in a verified SET.
pub(crate) fn events_of(set: &Value, issuer: Option<&str>) -> Vec<(String, String, i64)> {
    fn simple<'a>(id: &'a Value, issuer: Option<&str>) -> Option<&'a str> {
        match id.get("format").and_then(Value::as_str) {
            Some("iss_sub")
                if issuer.is_none_or(|iss| id.get("iss").and_then(Value::as_str) == Some(iss)) =>
            {
                id.get("sub").and_then(Value::as_str)
            }
            Some("opaque") => id.get("id").and_then(Value::as_str),
            _ => None,
        }
    }
    let subject = match set.get("sub_id") {
        // SSF/CAEP: a session as `complex` with its `session` (and `user`);
        // the session is what a session revocation names.
        Some(id) if id.get("format").and_then(Value::as_str) == Some("complex") => id
            .get("session")
            .and_then(|session| simple(session, issuer))
            .or_else(|| id.get("user").and_then(|user| simple(user, issuer))),
        Some(id) => simple(id, issuer),
        None => None,
    };
    let Some(subject) = subject else {
        return Vec::new();
    };
    let issued = set.get("iat").and_then(Value::as_i64).unwrap_or(0);
    set.get("events")
        .and_then(Value::as_object)
        .map(|events| {
            events
                .iter()
                .map(|(event_type, body)| {
                    let at = body
                        .get("event_timestamp")
                        .and_then(Value::as_i64)
                        .unwrap_or(issued);
                    (event_type.clone(), subject.to_owned(), at)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: Value) -> StandardClaims {
        crate::claims::parse_standard_claims(json.to_string().as_bytes())
            .expect("claims")
            .0
    }

    #[test]
    fn each_event_type_refuses_what_it_names() {
        let mut deny = DenySet::default();
        deny.apply(SESSION_REVOKED, "s1", 100);
        deny.apply(CREDENTIAL_CHANGE, "u1", 100);
        deny.apply(CLIENT_REVOKED, "sgn_a", 100);
        deny.apply(KEY_REVOKED, "k1", 100);
        deny.apply("urn:example:unknown", "x", 100);
        assert_eq!(deny.len(), 4);
        let refused = |json: Value, kid: Option<&str>| deny.refuses(&claims(json), kid);
        assert!(refused(
            serde_json::json!({"exp": 1, "sid": "s1", "iat": 500}),
            None
        ));
        assert!(!refused(
            serde_json::json!({"exp": 1, "sid": "s2", "iat": 50}),
            None
        ));
        assert!(refused(
            serde_json::json!({"exp": 1, "sub": "u1", "iat": 99}),
            None
        ));
        assert!(
            !refused(serde_json::json!({"exp": 1, "sub": "u1", "iat": 100}), None),
            "issued at the change: a new session's"
        );
        assert!(
            refused(serde_json::json!({"exp": 1, "sub": "u1"}), None),
            "no iat: treated as old"
        );
        assert!(refused(
            serde_json::json!({"exp": 1, "client_id": "sgn_a", "iat": 100}),
            None
        ));
        assert!(!refused(
            serde_json::json!({"exp": 1, "client_id": "sgn_a", "iat": 101}),
            None
        ));
        assert!(refused(serde_json::json!({"exp": 1}), Some("k1")));
        assert!(!refused(serde_json::json!({"exp": 1}), Some("k2")));
        deny.prune(101);
        assert_eq!(deny.len(), 0);
    }

    #[test]
    fn subjects_are_read_per_format_and_issuer() {
        let set = serde_json::json!({
            "iat": 7,
            "sub_id": {"format": "iss_sub", "iss": "https://auth", "sub": "u1"},
            "events": {CREDENTIAL_CHANGE: {"event_timestamp": 5}},
        });
        assert_eq!(
            events_of(&set, Some("https://auth")),
            vec![(CREDENTIAL_CHANGE.to_owned(), "u1".to_owned(), 5)]
        );
        assert!(events_of(&set, Some("https://other")).is_empty());
        let opaque = serde_json::json!({
            "iat": 7,
            "sub_id": {"format": "opaque", "id": "s1"},
            "events": {SESSION_REVOKED: {}},
        });
        assert_eq!(
            events_of(&opaque, None),
            vec![(SESSION_REVOKED.to_owned(), "s1".to_owned(), 7)]
        );
        assert!(events_of(&serde_json::json!({"events": {}}), None).is_empty());
        // SSF/CAEP: a session as a complex subject names the session.
        let complex = serde_json::json!({
            "iat": 7,
            "sub_id": {
                "format": "complex",
                "session": {"format": "opaque", "id": "s2"},
                "user": {"format": "iss_sub", "iss": "https://auth", "sub": "u1"},
            },
            "events": {SESSION_REVOKED: {"event_timestamp": 6}},
        });
        assert_eq!(
            events_of(&complex, Some("https://auth")),
            vec![(SESSION_REVOKED.to_owned(), "s2".to_owned(), 6)]
        );
    }
}

/// The background follower (feature `jwks`).
#[cfg(feature = "jwks")]
pub(crate) mod follow {
    use std::sync::{Arc, Weak};
    use std::time::Duration;

    use serde::Deserialize;
    use serde_json::Value;

    use super::{events_of, FeedKind, RevocationFeed};
    use crate::clock::unix_seconds;
    use crate::verifier::Inner;
    use crate::{Validation, Verifier};

    /// How long one read waits on the server for news.
    const LONG_POLL: Duration = Duration::from_secs(20);
    const MIN_BACKOFF: Duration = Duration::from_millis(250);
    const MAX_BACKOFF: Duration = Duration::from_secs(30);
    /// Largest feed answer read (1,000 SETs of ~1 KB, with room).
    const MAX_BYTES: usize = 4 * 1024 * 1024;
    /// SETs asked for per SSF poll.
    const SSF_MAX_EVENTS: u64 = 100;

    /// An RFC 8936 poll answer.
    #[derive(Deserialize)]
    struct SsfPage {
        sets: serde_json::Map<String, Value>,
        #[serde(rename = "moreAvailable", default)]
        more: bool,
    }

    #[derive(Deserialize)]
    struct Page {
        sets: serde_json::Map<String, Value>,
        cursor: String,
        #[serde(rename = "moreAvailable", default)]
        more: bool,
    }

    #[derive(Debug)]
    enum ReadError {
        Http(String),
        /// A page with SETs, none of which verified.
        Untrusted,
    }

    impl std::fmt::Display for ReadError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Self::Http(reason) => write!(f, "feed read failed: {reason}"),
                Self::Untrusted => {
                    f.write_str("no security event on the page verified; the feed is not trusted")
                }
            }
        }
    }

    /// Follow `feed` for as long as the verifier lives.
    pub(crate) fn spawn(verifier: &Verifier, feed: RevocationFeed, client: reqwest::Client) {
        let weak = Arc::downgrade(&verifier.inner);
        match feed.kind {
            FeedKind::Cursor => tokio::spawn(follow(weak, feed, client)),
            FeedKind::SsfPoll => tokio::spawn(follow_ssf(weak, feed, client)),
        };
    }

    /// Follow an SSF stream: poll, verify, apply, and acknowledge what was
    /// applied (or report what did not verify) with the next poll.
    async fn follow_ssf(weak: Weak<Inner>, feed: RevocationFeed, client: reqwest::Client) {
        let mut ack: Vec<String> = Vec::new();
        let mut errs = serde_json::Map::new();
        let mut backoff = MIN_BACKOFF;
        loop {
            let page = read_ssf(&client, &feed, &ack, &errs).await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let verifier = Verifier { inner };
            let outcome = match page {
                Ok(page) => verified_events(&verifier, &page.sets)
                    .await
                    .map(|checked| (checked, page.more)),
                Err(error) => Err(error),
            };
            let Some(revocations) = verifier.inner.revocations.as_ref() else {
                return;
            };
            match outcome {
                Ok((checked, more)) => {
                    let now = unix_seconds(&*verifier.inner.clock);
                    revocations.skipped(checked.failed.len() as u64);
                    revocations.apply(&checked.events, 0, now);
                    ack = checked.verified;
                    errs = checked
                        .failed
                        .into_iter()
                        .map(|jti| {
                            (
                                jti,
                                serde_json::json!({
                                    "err": "invalid_key",
                                    "description": "the SET did not verify",
                                }),
                            )
                        })
                        .collect();
                    backoff = MIN_BACKOFF;
                    if !more && ack.is_empty() && errs.is_empty() {
                        drop(verifier);
                        tokio::time::sleep(feed.poll_interval).await;
                    }
                }
                Err(error) => {
                    let failures = revocations.failed();
                    tracing::warn!(%error, failures, "security-event stream poll failed; keeping the last state");
                    // What was verified stays to be acknowledged next time;
                    // an untrusted page is acknowledged not at all.
                    if matches!(error, ReadError::Untrusted) {
                        ack.clear();
                        errs.clear();
                    }
                    drop(verifier);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn read_ssf(
        client: &reqwest::Client,
        feed: &RevocationFeed,
        ack: &[String],
        errs: &serde_json::Map<String, Value>,
    ) -> Result<SsfPage, ReadError> {
        let body = serde_json::json!({
            "ack": ack,
            "setErrs": errs,
            "maxEvents": SSF_MAX_EVENTS,
            "returnImmediately": true,
        });
        let response = client
            .post(&feed.url)
            .basic_auth(&feed.client_id, Some(&feed.secret))
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| ReadError::Http(e.without_url().to_string()))?;
        let body = bounded_body(response).await?;
        serde_json::from_slice(&body)
            .map_err(|_| ReadError::Http("answer is not an RFC 8936 poll answer".into()))
    }

    /// A successful answer's body, at most [`MAX_BYTES`].
    async fn bounded_body(mut response: reqwest::Response) -> Result<Vec<u8>, ReadError> {
        let http = |e: reqwest::Error| ReadError::Http(e.without_url().to_string());
        if !response.status().is_success() {
            return Err(ReadError::Http(format!("status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(ReadError::Http("answer too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    async fn follow(weak: Weak<Inner>, feed: RevocationFeed, client: reqwest::Client) {
        let mut cursor: i64 = 0;
        let mut backoff = MIN_BACKOFF;
        let mut first = true;
        loop {
            // The first read loads the current state at once; then long-polls.
            let wait = if first { Duration::ZERO } else { LONG_POLL };
            let page = read(&client, &feed, cursor, wait).await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let verifier = Verifier { inner };
            let outcome = match page {
                Ok(page) => apply(&verifier, page).await,
                Err(error) => Err(error),
            };
            let Some(revocations) = verifier.inner.revocations.as_ref() else {
                return;
            };
            match outcome {
                Ok((next, more)) => {
                    cursor = next;
                    first = false;
                    backoff = MIN_BACKOFF;
                    if more {
                        continue;
                    }
                }
                Err(error) => {
                    let failures = revocations.failed();
                    tracing::warn!(%error, failures, "security-event feed read failed; keeping the last state");
                    drop(verifier);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn read(
        client: &reqwest::Client,
        feed: &RevocationFeed,
        cursor: i64,
        wait: Duration,
    ) -> Result<Page, ReadError> {
        let http = |e: reqwest::Error| ReadError::Http(e.without_url().to_string());
        let mut url = url::Url::parse(&feed.url)
            .map_err(|_| ReadError::Http("the feed URL is not a URL".into()))?;
        url.query_pairs_mut()
            .append_pair("after", &cursor.to_string())
            .append_pair("wait", &wait.as_secs().to_string());
        let response = client
            .get(url)
            .basic_auth(&feed.client_id, Some(&feed.secret))
            .timeout(wait + Duration::from_secs(10))
            .send()
            .await
            .map_err(http)?;
        let body = bounded_body(response).await?;
        serde_json::from_slice(&body)
            .map_err(|_| ReadError::Http("answer is not a feed page".into()))
    }

    /// The SETs of a page that verified (their events and `jti`s) and the
    /// `jti`s of those that did not.
    struct Checked {
        events: Vec<(String, String, i64)>,
        verified: Vec<String>,
        failed: Vec<String>,
    }

    /// Verify every SET of a page; a page none of whose SETs verified is
    /// [`ReadError::Untrusted`].
    async fn verified_events(
        verifier: &Verifier,
        sets: &serde_json::Map<String, Value>,
    ) -> Result<Checked, ReadError> {
        let issuer = verifier.inner.validation.issuer().map(str::to_owned);
        let validation = {
            let mut set_validation = match issuer.as_deref() {
                Some(iss) => Validation::new(iss),
                None => Validation::without_issuer(),
            }
            .require_type(crate::revocation::SET_TYPE)
            .insecure_disable_exp_check()
            .leeway(verifier.inner.validation.leeway);
            set_validation.algorithms = verifier.inner.validation.algorithms.clone();
            set_validation
        };
        let mut checked = Checked {
            events: Vec::new(),
            verified: Vec::new(),
            failed: Vec::new(),
        };
        let mut refreshed = false;
        for (jti, set) in sets {
            let verified = match set.as_str() {
                None => Err(crate::VerifyError::Malformed("a SET is not a string")),
                Some(set) => match verifier.verify_set(set, &validation) {
                    // A key we do not hold yet: refetch once per page, then try again.
                    Err(crate::VerifyError::UnknownKid) if !refreshed => {
                        refreshed = true;
                        verifier.refresh_for_unknown_kid().await;
                        verifier.verify_set(set, &validation)
                    }
                    other => other,
                },
            };
            match verified {
                Ok(claims) => {
                    checked.events.extend(events_of(&claims, issuer.as_deref()));
                    checked.verified.push(jti.clone());
                }
                Err(error) => {
                    // The jti is the feed's own identifier, never a token.
                    tracing::warn!(jti = %jti.chars().take(64).collect::<String>(), reason = error.reason(), "security event did not verify; skipped");
                    checked.failed.push(jti.chars().take(64).collect());
                }
            }
        }
        if !checked.failed.is_empty() && checked.verified.is_empty() {
            if let Some(revocations) = &verifier.inner.revocations {
                revocations.untrusted();
            }
            return Err(ReadError::Untrusted);
        }
        Ok(checked)
    }

    /// Verify every SET of `page` and apply them; the next cursor.
    async fn apply(verifier: &Verifier, page: Page) -> Result<(i64, bool), ReadError> {
        let cursor: i64 = page
            .cursor
            .parse()
            .map_err(|_| ReadError::Http("cursor is not a number".into()))?;
        let checked = verified_events(verifier, &page.sets).await?;
        let events = checked.events;
        let skipped = checked.failed.len() as u64;
        let Some(revocations) = &verifier.inner.revocations else {
            return Ok((cursor, page.more));
        };
        revocations.skipped(skipped);
        let now = unix_seconds(&*verifier.inner.clock);
        revocations.apply(&events, cursor, now);
        Ok((cursor, page.more))
    }
}
