//! Abuse protection: token buckets per client IP, and an exponential back-off
//! per account after repeated login failures.
//!
//! Every limit is kept in this replica's memory, and on PostgreSQL also in
//! the database ([`Shared`]), so several replicas behind a load balancer
//! allow the configured rate in all, not once each. The local state stays
//! in front as a pre-check (a flood is refused before it reaches the
//! database) and as the fallback when the database cannot answer (never
//! "no limit"). Only the hashing quota ([`InFlight`]) is per replica by
//! design: it guards this process's own queue. The account back-off is
//! keyed by the normalised email whether or not the account exists, so it
//! reveals nothing; it is capped and resets on success, so an attacker can
//! slow an account down but never lock its owner out for longer than the cap.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hashlink::LruCache;

pub use crate::config::{Limits, Rate};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};

/// What every map below is keyed by: 16 bytes, whatever the client sent.
///
/// An IP address is its IPv4-mapped or IPv6 form, with IPv6 cut to its /64
/// (one subscriber's allocation: per-/128 limits cost an IPv6 attacker
/// nothing). Anything else (an email address) is a SHA-256 prefix, so a
/// 64 KiB "email" costs 16 bytes of memory like any other.
pub type Key = [u8; 16];

/// Entries kept per map at most; the least recently touched is forgotten first.
/// About 100 bytes an entry: a full map is ~10 MB.
pub const MAX_TRACKED: usize = 100_000;

pub fn ip_key(ip: Option<IpAddr>) -> Key {
    match ip {
        None => [0; 16],
        Some(IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
        Some(IpAddr::V6(v6)) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4.to_ipv6_mapped().octets();
            }
            let mut octets = v6.octets();
            octets[8..].fill(0);
            octets
        }
    }
}

pub fn text_key(domain: &str, text: &str) -> Key {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(domain.as_bytes())
        .chain_update([0])
        .chain_update(text.as_bytes())
        .finalize();
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// The key of (account, client): one pair's failures do not slow down another.
fn pair_key(account: &str, ip: Option<IpAddr>) -> Key {
    let ip = ip_key(ip);
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"pair\0")
        .chain_update(ip)
        .chain_update(account.as_bytes())
        .finalize();
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// governor's state store, bounded: sixteen LRU shards of at most
/// `capacity / 16` keys each. governor's own keyed stores grow with every
/// new key until swept, and an IPv6 attacker has keys to spare (one per /64);
/// here the least recently seen key is forgotten first, and a shard's lock is
/// held only for one key's update.
pub struct BoundedStore {
    shards: Vec<Mutex<LruCache<Key, Nanos>>>,
}

const SHARDS: usize = 16;

impl BoundedStore {
    fn new(capacity: usize) -> Self {
        let per_shard = (capacity / SHARDS).max(1);
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
        }
    }

    fn shard(&self, key: &Key) -> &Mutex<LruCache<Key, Nanos>> {
        // Keys are addresses or hash prefixes: fold every byte, so the
        // constant ::ffff: prefix of IPv4 keys does not pick the shard.
        let index = key.iter().fold(0u8, |acc, b| acc ^ b) as usize % SHARDS;
        &self.shards[index]
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map(|s| s.len()).unwrap_or(0))
            .sum()
    }
}

impl StateStore for BoundedStore {
    type Key = Key;

    fn measure_and_replace<T, F, E>(&self, key: &Key, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // A poisoned shard (a panic mid-update) still holds valid entries.
        let mut shard = self
            .shard(key)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (outcome, state) = f(shard.get(key).copied())?;
        shard.insert(*key, state);
        Ok(outcome)
    }
}

/// Token buckets per key (GCRA, by governor): `rate.burst` at once, refilled
/// over `rate.period`; at most [`MAX_TRACKED`] keys remembered.
pub struct Buckets<C: Clock = DefaultClock> {
    limiter: RateLimiter<Key, BoundedStore, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl Buckets {
    pub fn new(rate: Rate) -> Self {
        Self::with_clock(rate, MAX_TRACKED, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Buckets<C> {
    fn with_clock(rate: Rate, capacity: usize, clock: C) -> Self {
        let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(rate.period / burst.get())
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::new(quota, BoundedStore::new(capacity), clock.clone()),
            clock,
        }
    }

    /// Take one token for `key`; `Err(wait)` when empty.
    pub fn take(&self, key: Key) -> Result<(), Duration> {
        self.limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

struct Failures {
    count: u32,
    last: DateTime<Utc>,
}

/// Exponential back-off per key: after `free` failures, each further
/// failure doubles the wait (1 s, 2 s, 4 s, …) up to `cap`.
pub struct AccountBackoff {
    free: u32,
    cap: Duration,
    failures: Mutex<LruCache<Key, Failures>>,
}

impl AccountBackoff {
    pub fn new(free: u32, cap: Duration) -> Self {
        Self {
            free,
            cap,
            failures: Mutex::new(LruCache::new(MAX_TRACKED)),
        }
    }

    fn wait_for(&self, count: u32) -> Duration {
        if count < self.free {
            return Duration::ZERO;
        }
        let exponent = (count - self.free).min(20);
        Duration::from_secs(1u64 << exponent).min(self.cap)
    }

    /// `Err(wait)` while the key is cooling down, as of `now`.
    pub fn check(&self, key: &Key, now: DateTime<Utc>) -> Result<(), Duration> {
        let Ok(failures) = self.failures.lock() else {
            return Ok(());
        };
        match failures.peek(key) {
            Some(f) => self.wait_remaining(f.count, f.last, now),
            None => Ok(()),
        }
    }

    /// `Err(wait)` while `count` failures, the last at `last`, still hold
    /// the key back at `now`.
    fn wait_remaining(
        &self,
        count: u32,
        last: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), Duration> {
        let wait = self.wait_for(count);
        let elapsed = (now - last).to_std().unwrap_or_default();
        if elapsed < wait {
            Err(wait - elapsed)
        } else {
            Ok(())
        }
    }

    /// Record a failure; `true` when this one puts the key into back-off
    /// (once per episode, so the audit trail cannot be flooded through it).
    pub fn failed(&self, key: Key, now: DateTime<Utc>) -> bool {
        let Ok(mut failures) = self.failures.lock() else {
            return false;
        };
        let entry = match failures.get_mut(&key) {
            Some(entry) => entry,
            None => {
                failures.insert(
                    key,
                    Failures {
                        count: 0,
                        last: now,
                    },
                );
                failures.get_mut(&key).expect("just inserted")
            }
        };
        // A long quiet spell forgives old failures.
        if (now - entry.last).to_std().unwrap_or_default() > self.cap * 4 {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        entry.count == self.free
    }

    pub fn succeeded(&self, key: &Key) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }
}

/// How many password hashes one key (a client IP, an account) may have queued
/// or running at once, so that one client cannot fill the hashing queue and
/// starve everyone else's logins. Entries live only while requests are in
/// flight, so the map is bounded by the number of concurrent requests.
pub struct InFlight {
    max: usize,
    counts: Mutex<HashMap<Key, usize>>,
}

/// Held while a request hashes; released on drop.
pub struct InFlightGuard {
    owner: Arc<InFlight>,
    keys: Vec<Key>,
}

impl InFlight {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// Enter for every key at once, or for none: `None` when any is at its limit.
    pub fn enter(self: &Arc<Self>, keys: &[Key]) -> Option<InFlightGuard> {
        let Ok(mut counts) = self.counts.lock() else {
            return None;
        };
        if keys
            .iter()
            .any(|key| counts.get(key).copied().unwrap_or(0) >= self.max)
        {
            return None;
        }
        for key in keys {
            *counts.entry(*key).or_insert(0) += 1;
        }
        Some(InFlightGuard {
            owner: self.clone(),
            keys: keys.to_vec(),
        })
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.owner.counts.lock() {
            for key in &self.keys {
                if let Some(count) = counts.get_mut(key) {
                    *count -= 1;
                    if *count == 0 {
                        counts.remove(key);
                    }
                }
            }
        }
    }
}

/// State every replica shares (PostgreSQL): rows of `rate_limit_states`,
/// one per (bucket, key), each checked and moved in one statement.
///
/// - A token bucket row holds its GCRA state, the theoretical arrival time
///   (`tat`); a `tat` in the past is a full bucket, as good as no row.
/// - A back-off row holds the failures and the last one's time; its `tat`
///   is when the failures are forgiven.
///
/// Either way a row whose `tat` is past says nothing and may be deleted:
/// [`Shared::sweep`] does, and keeps at most [`MAX_SHARED_ROWS`].
pub struct Shared {
    db: sea_orm::DatabaseConnection,
    /// How long a shared check may take before this replica's limiter
    /// decides alone ([`SHARED_TIMEOUT`]).
    timeout: Duration,
    /// When the last fallback was logged (Unix seconds): one WARN line per
    /// [`WARN_EVERY`] while the database fails, the metric counts each.
    last_warned: std::sync::atomic::AtomicI64,
}

/// A shared check that takes longer than this is abandoned: a slow database
/// leaves this replica's limiter in charge, as a failing one does.
pub const SHARED_TIMEOUT: Duration = Duration::from_millis(500);

/// At most one fallback WARN line this often.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// Why the shared state gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("{0}")]
    Store(#[from] sea_orm::DbErr),
    #[error("no answer within {0:?}")]
    Slow(Duration),
}

/// Rows kept in `rate_limit_states` at most, whatever the spray of
/// addresses: about 150 bytes a row with its indexes, so ~75 MB. Beyond
/// it the sweep forgets the rows nearest to forgotten (earliest `tat`):
/// the fullest buckets, the oldest failures.
pub const MAX_SHARED_ROWS: u64 = 500_000;

/// How often each replica sweeps the shared rows.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

fn hex(key: &Key) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

fn micros(span: Duration) -> i64 {
    i64::try_from(span.as_micros()).unwrap_or(i64::MAX)
}

impl Shared {
    pub fn new(db: sea_orm::DatabaseConnection) -> Self {
        Self::with_timeout(db, SHARED_TIMEOUT)
    }

    /// With another bound on each check than [`SHARED_TIMEOUT`] (tests).
    pub fn with_timeout(db: sea_orm::DatabaseConnection, timeout: Duration) -> Self {
        Self {
            db,
            timeout,
            last_warned: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }

    /// `work`, given at most the timeout.
    async fn within<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, sea_orm::DbErr>>,
    ) -> Result<T, SharedError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(done) => Ok(done?),
            Err(_) => Err(SharedError::Slow(self.timeout)),
        }
    }

    /// Count a fallback, and log it unless one was logged within [`WARN_EVERY`].
    fn fell_back(
        &self,
        metrics: &signet_service::metrics::Metrics,
        limit: &str,
        error: &SharedError,
        now: DateTime<Utc>,
    ) {
        use std::sync::atomic::Ordering;
        metrics
            .counter(
                &crate::app::metrics::RATE_LIMIT_FALLBACK,
                &[("limit", limit)],
            )
            .increment(1);
        let last = self.last_warned.load(Ordering::Relaxed);
        let every = i64::try_from(WARN_EVERY.as_secs()).unwrap_or(i64::MAX);
        if now.timestamp().saturating_sub(last) >= every
            && self
                .last_warned
                .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(%error, limit, "a shared rate limit cannot be read; this replica's alone applies (logged once per 10 s, counted in rate_limit_shared_fallbacks_total)");
        }
    }

    fn statement(sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(sea_orm::DatabaseBackend::Postgres, sql, values)
    }

    /// Take one token of `rate` for `key` in `bucket` as of `now`:
    /// `Ok(Err(wait))` when the bucket is empty across all replicas.
    pub async fn take(
        &self,
        bucket: &str,
        key: &Key,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Duration>, SharedError> {
        use sea_orm::ConnectionTrait as _;
        let burst = rate.burst.max(1);
        let interval = rate.period / burst;
        // Allowed when the new arrival time stays within one period of now
        // (at most `burst` tokens ahead); else no row comes back.
        let taken = self
            .within(self.db.query_one_raw(Self::statement(
                "INSERT INTO rate_limit_states AS s (bucket, key, tat) \
                 VALUES ($1, $2, $3 + make_interval(secs => $4::float8 / 1e6)) \
                 ON CONFLICT (bucket, key) DO UPDATE \
                 SET tat = GREATEST(s.tat, $3) + make_interval(secs => $4::float8 / 1e6) \
                 WHERE GREATEST(s.tat, $3) + make_interval(secs => $4::float8 / 1e6) \
                       <= $3 + make_interval(secs => $5::float8 / 1e6) \
                 RETURNING tat",
                vec![
                    bucket.into(),
                    hex(key).into(),
                    now.into(),
                    micros(interval).into(),
                    micros(rate.period).into(),
                ],
            )))
            .await?;
        Ok(match taken {
            Some(_) => Ok(()),
            None => Err(interval),
        })
    }

    /// The failures recorded for each `(bucket, key)` of `wanted` (same
    /// order), as `(count, last)`; `None` for one without (or with forgiven)
    /// failures. One statement for all.
    pub async fn failures(
        &self,
        wanted: &[(&str, &Key)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<(u32, DateTime<Utc>)>>, SharedError> {
        use sea_orm::ConnectionTrait as _;
        let buckets: Vec<String> = wanted.iter().map(|(b, _)| (*b).to_owned()).collect();
        let keys: Vec<String> = wanted.iter().map(|(_, k)| hex(k)).collect();
        let rows = self
            .within(self.db.query_all_raw(Self::statement(
                "SELECT s.bucket, s.key, s.failures, s.last_failure_at \
                 FROM rate_limit_states s \
                 JOIN unnest($1::text[], $2::text[]) AS w(bucket, key) \
                   ON s.bucket = w.bucket AND s.key = w.key \
                 WHERE s.tat >= $3 AND s.failures IS NOT NULL",
                vec![buckets.clone().into(), keys.clone().into(), now.into()],
            )))
            .await?;
        let mut found = vec![None; wanted.len()];
        for row in rows {
            let bucket: String = row.try_get("", "bucket").map_err(SharedError::Store)?;
            let key: String = row.try_get("", "key").map_err(SharedError::Store)?;
            let count: i32 = row.try_get("", "failures").map_err(SharedError::Store)?;
            let last: DateTime<Utc> = row
                .try_get("", "last_failure_at")
                .map_err(SharedError::Store)?;
            if let Some(index) = (0..wanted.len()).find(|&i| buckets[i] == bucket && keys[i] == key)
            {
                found[index] = Some((u32::try_from(count).unwrap_or(0), last));
            }
        }
        Ok(found)
    }

    /// Count one failure for `key` as of `now` (forgiving the earlier ones
    /// after `forget` without any): the count after this one.
    pub async fn fail(
        &self,
        bucket: &str,
        key: &Key,
        forget: Duration,
        now: DateTime<Utc>,
    ) -> Result<u32, SharedError> {
        use sea_orm::ConnectionTrait as _;
        let row = self
            .within(self.db.query_one_raw(Self::statement(
                "INSERT INTO rate_limit_states AS s (bucket, key, tat, failures, last_failure_at) \
                 VALUES ($1, $2, $3 + make_interval(secs => $4::float8 / 1e6), 1, $3) \
                 ON CONFLICT (bucket, key) DO UPDATE \
                 SET failures = CASE WHEN s.tat < $3 OR s.failures IS NULL THEN 1 \
                                     ELSE s.failures + 1 END, \
                     last_failure_at = $3, \
                     tat = $3 + make_interval(secs => $4::float8 / 1e6) \
                 RETURNING failures",
                vec![
                    bucket.into(),
                    hex(key).into(),
                    now.into(),
                    micros(forget).into(),
                ],
            )))
            .await?;
        Ok(row
            .map(|row| row.try_get_by_index::<i32>(0))
            .transpose()
            .map_err(SharedError::Store)?
            .map_or(1, |count| u32::try_from(count).unwrap_or(1)))
    }

    /// Forget `key`'s failures.
    pub async fn forgive(&self, bucket: &str, key: &Key) -> Result<(), SharedError> {
        use sea_orm::ConnectionTrait as _;
        self.within(self.db.execute_raw(Self::statement(
            "DELETE FROM rate_limit_states WHERE bucket = $1 AND key = $2",
            vec![bucket.into(), hex(key).into()],
        )))
        .await?;
        Ok(())
    }

    /// Delete the rows that say nothing any more as of `now`, then the
    /// earliest-expiring beyond `max_rows`: the rows deleted. One replica
    /// at a time (an advisory lock; the others skip this round), and the
    /// second step, which orders the table, only when the planner's row
    /// estimate says the table may be near the cap.
    pub async fn sweep(&self, now: DateTime<Utc>, max_rows: u64) -> Result<u64, sea_orm::DbErr> {
        use sea_orm::ConnectionTrait as _;
        let txn = signet_service::db::begin_write(&self.db).await?;
        let locked = txn
            .query_one_raw(Self::statement(
                "SELECT pg_try_advisory_xact_lock($1)",
                vec![signet_service::db::lock_id("auth-server:rate-limit-sweep").into()],
            ))
            .await?
            .map(|row| row.try_get_by_index::<bool>(0))
            .transpose()?
            .unwrap_or(false);
        if !locked {
            return Ok(0);
        }
        let expired = txn
            .execute_raw(Self::statement(
                "DELETE FROM rate_limit_states WHERE tat < $1",
                vec![now.into()],
            ))
            .await?
            .rows_affected();
        // -1 until the table is first analysed: then look.
        let estimate = txn
            .query_one_raw(Self::statement(
                "SELECT reltuples::float8 FROM pg_class WHERE oid = 'rate_limit_states'::regclass",
                vec![],
            ))
            .await?
            .map(|row| row.try_get_by_index::<f64>(0))
            .transpose()?
            .unwrap_or(-1.0);
        let max = i64::try_from(max_rows).unwrap_or(i64::MAX);
        let beyond = if estimate < 0.0 || estimate - expired as f64 > max_rows as f64 * 0.9 {
            txn.execute_raw(Self::statement(
                "DELETE FROM rate_limit_states WHERE (bucket, key) IN ( \
                     SELECT bucket, key FROM rate_limit_states \
                     ORDER BY tat DESC OFFSET $1)",
                vec![max.into()],
            ))
            .await?
            .rows_affected()
        } else {
            0
        };
        txn.commit().await?;
        Ok(expired + beyond)
    }

    /// Sweep every [`SWEEP_EVERY`] until `stop` turns true.
    pub fn spawn_sweeper(
        self: &Arc<Self>,
        clock: crate::app::clock::Clock,
        metrics: signet_service::metrics::Metrics,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let shared = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                match shared.sweep(clock.now(), MAX_SHARED_ROWS).await {
                    Ok(swept) => metrics
                        .counter(
                            &signet_service::metrics::RETENTION_PURGED,
                            &[("table", "rate_limit_states")],
                        )
                        .increment(swept),
                    Err(error) => tracing::warn!(%error, "cannot sweep the shared rate limits"),
                }
            }
        });
    }
}

/// One rate limit: this replica's buckets in front (a flood is refused
/// before it reaches the database), and on PostgreSQL the replicas' shared
/// bucket behind them, so N replicas allow the rate once, not N times. A
/// database that cannot answer leaves the local bucket in charge (never
/// "no limit"), with `rate_limit_shared_fallbacks_total` and a log line.
pub struct Limit {
    /// The bucket's name in `rate_limit_states`.
    name: &'static str,
    rate: Rate,
    local: Buckets,
    shared: Option<Arc<Shared>>,
}

impl Limit {
    pub fn new(name: &'static str, rate: Rate, shared: Option<Arc<Shared>>) -> Self {
        Self {
            name,
            rate,
            local: Buckets::new(rate),
            shared,
        }
    }

    /// Take one token for `key` as of `now`, a refusal counted under the
    /// limit's name (`{name}_shared` when the shared bucket refused).
    pub async fn admit(
        &self,
        key: Key,
        metrics: &signet_service::metrics::Metrics,
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        self.admit_counted_as(key, metrics, self.name, now).await
    }

    /// [`Limit::admit`] keyed by a client address.
    pub async fn admit_ip(
        &self,
        ip: Option<IpAddr>,
        metrics: &signet_service::metrics::Metrics,
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        self.admit(ip_key(ip), metrics, now).await
    }

    /// [`Limit::admit`], a refusal counted as `label`: for a bucket two
    /// endpoints share (revocation and introspection).
    pub async fn admit_counted_as(
        &self,
        key: Key,
        metrics: &signet_service::metrics::Metrics,
        label: &'static str,
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        admit_key(&self.local, key, metrics, label)?;
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        match shared.take(self.name, &key, self.rate, now).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(wait)) => {
                metrics
                    .counter(
                        &crate::app::metrics::RATE_LIMITED,
                        &[("limit", &format!("{label}_shared"))],
                    )
                    .increment(1);
                Err(Refused { retry_after: wait })
            }
            Err(error) => {
                shared.fell_back(metrics, self.name, &error, now);
                Ok(())
            }
        }
    }
}

/// The account back-off of one scope (per (account, client), or per
/// account): this replica's count in front, the replicas' shared count
/// behind it on PostgreSQL. Both are checked (the longer wait wins) and
/// both are counted; the local one alone applies when the database cannot
/// answer.
pub struct SharedBackoff {
    name: &'static str,
    local: AccountBackoff,
    shared: Option<Arc<Shared>>,
}

impl SharedBackoff {
    pub fn new(name: &'static str, local: AccountBackoff, shared: Option<Arc<Shared>>) -> Self {
        Self {
            name,
            local,
            shared,
        }
    }

    /// Failures are forgiven after this long without one.
    fn forget_after(&self) -> Duration {
        self.local.cap * 4
    }

    /// `Err(wait)` while `key` is cooling down by this replica's count or
    /// by the shared one (`shared`: what the store holds for it, read
    /// beforehand); `Ok(known)`, where `known` says whether it holds any.
    fn check(
        &self,
        key: &Key,
        shared: Option<(u32, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Result<bool, Duration> {
        self.local.check(key, now)?;
        match shared {
            Some((count, last)) => {
                self.local.wait_remaining(count, last, now)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Count a failure: `true` when it starts a back-off episode.
    async fn failed(
        &self,
        key: Key,
        metrics: &signet_service::metrics::Metrics,
        now: DateTime<Utc>,
    ) -> bool {
        let locally = self.local.failed(key, now);
        let Some(shared) = &self.shared else {
            return locally;
        };
        match shared.fail(self.name, &key, self.forget_after(), now).await {
            Ok(count) => count == self.local.free,
            Err(error) => {
                shared.fell_back(metrics, self.name, &error, now);
                locally
            }
        }
    }

    async fn succeeded(
        &self,
        key: &Key,
        known: bool,
        metrics: &signet_service::metrics::Metrics,
        now: DateTime<Utc>,
    ) {
        self.local.succeeded(key);
        if let (true, Some(shared)) = (known, &self.shared) {
            if let Err(error) = shared.forgive(self.name, key).await {
                shared.fell_back(metrics, self.name, &error, now);
            }
        }
    }
}

/// Every limiter the server applies.
#[derive(Clone)]
pub struct Limiters {
    /// Sign-in attempts per client IP (password checks, passkey ceremonies).
    pub login_per_ip: Arc<Limit>,
    pub signup_per_ip: Arc<Limit>,
    pub token_per_ip: Arc<Limit>,
    /// Revocation and introspection, keyed by (client, client IP).
    pub revoke_per_client: Arc<Limit>,
    /// Mails strangers can cause to one address (sign-up, reset request).
    pub mail_per_address: Arc<Limit>,
    /// Password-reset requests per client IP.
    pub reset_per_ip: Arc<Limit>,
    /// Keyed by (account, client IP).
    pub account_per_client: Arc<SharedBackoff>,
    /// Keyed by account alone, with the higher ceiling.
    pub accounts: Arc<SharedBackoff>,
    /// Per replica by design: it guards this process's hashing queue.
    pub hashing: Arc<InFlight>,
    /// The replicas' shared state (PostgreSQL); `None`: this process alone.
    pub shared: Option<Arc<Shared>>,
}

impl Limiters {
    /// The limits of `limits`; shared through `shared` (PostgreSQL) when given.
    pub fn new(limits: &Limits, shared: Option<Arc<Shared>>) -> Self {
        let limit = |name, rate| Arc::new(Limit::new(name, rate, shared.clone()));
        let backoff = |name, free| {
            Arc::new(SharedBackoff::new(
                name,
                AccountBackoff::new(free, limits.account_max_backoff),
                shared.clone(),
            ))
        };
        Self {
            login_per_ip: limit("login_per_ip", limits.login_per_ip),
            signup_per_ip: limit("signup_per_ip", limits.signup_per_ip),
            token_per_ip: limit("token_per_ip", limits.token_per_ip),
            revoke_per_client: limit("revoke_per_client", limits.revoke_per_client),
            mail_per_address: limit("mail_per_address", limits.mail_per_address),
            reset_per_ip: limit("password_reset_per_ip", limits.reset_per_ip),
            account_per_client: backoff("account_backoff", limits.account_free_failures),
            accounts: backoff("account_ceiling", limits.account_ceiling_failures),
            hashing: InFlight::new(limits.hashes_in_flight_per_client),
            shared,
        }
    }

    /// Everything that must hold before a password is checked for `account`
    /// from `ip` (login, password change, re-authentication, a second
    /// factor). The same for unknown accounts, so it reveals nothing.
    pub async fn begin_password_check(
        &self,
        account: &str,
        ip: Option<IpAddr>,
        metrics: &signet_service::metrics::Metrics,
        now: DateTime<Utc>,
    ) -> Result<PasswordCheck, Refused> {
        let refuse = |limit: &'static str, wait: Duration| {
            metrics
                .counter(&crate::app::metrics::RATE_LIMITED, &[("limit", limit)])
                .increment(1);
            Refused { retry_after: wait }
        };
        let pair = pair_key(account, ip);
        let account_key = text_key("account", account);
        // Both back-offs' shared counts in one statement.
        let (shared_pair, shared_account) = match &self.shared {
            None => (None, None),
            Some(shared) => match shared
                .failures(
                    &[
                        (self.account_per_client.name, &pair),
                        (self.accounts.name, &account_key),
                    ],
                    now,
                )
                .await
            {
                Ok(found) => (found[0], found[1]),
                Err(error) => {
                    shared.fell_back(metrics, self.account_per_client.name, &error, now);
                    (None, None)
                }
            },
        };
        let pair_known = self
            .account_per_client
            .check(&pair, shared_pair, now)
            .map_err(|wait| refuse("account_backoff", wait))?;
        self.accounts
            .check(&account_key, shared_account, now)
            .map_err(|wait| refuse("account_ceiling", wait))?;
        let guard = self
            .hashing
            .enter(&[ip_key(ip), account_key])
            .ok_or_else(|| refuse("hashing_per_client", Duration::from_secs(1)))?;
        Ok(PasswordCheck {
            limiters: self.clone(),
            pair,
            pair_known,
            account: account_key,
            now,
            _in_flight: guard,
        })
    }

    /// A sign-in attempt from `ip` (a password check, a passkey ceremony).
    pub async fn admit_sign_in(
        &self,
        ip: Option<IpAddr>,
        metrics: &signet_service::metrics::Metrics,
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        self.login_per_ip.admit_ip(ip, metrics, now).await
    }
}

/// One password check in progress; say how it ended.
pub struct PasswordCheck {
    limiters: Limiters,
    pair: Key,
    /// The shared store held failures for the pair when the check began.
    pair_known: bool,
    account: Key,
    now: DateTime<Utc>,
    _in_flight: InFlightGuard,
}

/// Which back-offs a failure started (each once per episode, for the audit trail).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub client: bool,
    pub account: bool,
}

impl PasswordCheck {
    pub async fn failed(self, metrics: &signet_service::metrics::Metrics) -> Throttled {
        Throttled {
            client: self
                .limiters
                .account_per_client
                .failed(self.pair, metrics, self.now)
                .await,
            account: self
                .limiters
                .accounts
                .failed(self.account, metrics, self.now)
                .await,
        }
    }

    /// The owner proved the password from this client: its pair starts afresh.
    /// The account-wide count is left alone, so one success in between does
    /// not reset a distributed attack's progress.
    pub async fn succeeded(self, metrics: &signet_service::metrics::Metrics) {
        self.limiters
            .account_per_client
            .succeeded(&self.pair, self.pair_known, metrics, self.now)
            .await;
    }
}

/// The key of (client, client IP) for limits on client-authenticated
/// endpoints (revocation, introspection): one client's flood does not slow
/// another's, and one address cannot hide behind many client ids for long
/// (each id's bucket is small). `None`: the first-party client.
pub fn client_key(client_id: Option<&str>, ip: Option<IpAddr>) -> Key {
    pair_key(&format!("client\0{}", client_id.unwrap_or_default()), ip)
}

/// Take one token for `key` from `buckets`, counting a refusal under `limit`.
pub fn admit_key(
    buckets: &Buckets,
    key: Key,
    metrics: &signet_service::metrics::Metrics,
    limit: &'static str,
) -> Result<(), Refused> {
    buckets.take(key).map_err(|wait| {
        metrics
            .counter(&crate::app::metrics::RATE_LIMITED, &[("limit", limit)])
            .increment(1);
        Refused { retry_after: wait }
    })
}

/// A limit said no: try again after `retry_after` (429 at the edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests; retry after {retry_after:?}")]
pub struct Refused {
    pub retry_after: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_from_n_per_period() {
        assert_eq!(
            Rate::parse("X", "10/1m").expect("ok"),
            Rate {
                burst: 10,
                period: Duration::from_secs(60)
            }
        );
        assert!(Rate::parse("X", "10").is_err());
        assert!(Rate::parse("X", "0/1m").is_err());
        assert!(Rate::parse("X", "ten/1m").is_err());
    }

    #[test]
    fn a_bucket_allows_its_burst_then_says_how_long_to_wait_and_refills() {
        let clock = governor::clock::FakeRelativeClock::default();
        let buckets = Buckets::with_clock(
            Rate {
                burst: 3,
                period: Duration::from_secs(60),
            },
            MAX_TRACKED,
            clock.clone(),
        );
        let (a, b) = (text_key("t", "a"), text_key("t", "b"));
        for _ in 0..3 {
            assert!(buckets.take(a).is_ok());
        }
        let wait = buckets.take(a).expect_err("empty");
        assert_eq!(wait, Duration::from_secs(20), "one token per 60 s / 3");
        assert!(buckets.take(b).is_ok(), "keys are independent");
        clock.advance(Duration::from_secs(20));
        assert!(buckets.take(a).is_ok(), "refilled one token");
        assert!(buckets.take(a).is_err());
    }

    #[test]
    fn backoff_grows_exponentially_is_capped_and_resets_on_success() {
        let backoff = AccountBackoff::new(3, Duration::from_secs(8));
        assert_eq!(backoff.wait_for(2), Duration::ZERO);
        assert_eq!(backoff.wait_for(3), Duration::from_secs(1));
        assert_eq!(backoff.wait_for(5), Duration::from_secs(4));
        assert_eq!(backoff.wait_for(50), Duration::from_secs(8));
        let key = text_key("account", "a@example.com");
        let now = Utc::now();
        for _ in 0..3 {
            backoff.failed(key, now);
        }
        assert!(backoff.check(&key, now).is_err());
        assert!(
            backoff
                .check(&key, now + chrono::Duration::seconds(2))
                .is_ok(),
            "one second of back-off after three failures"
        );
        backoff.succeeded(&key);
        assert!(backoff.check(&key, now).is_ok());
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_and_ipv4_per_address() {
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(ip_key(Some(a)), ip_key(Some(b)));
        assert_ne!(ip_key(Some(a)), ip_key(Some(other)));
        let v4: IpAddr = "192.0.2.1".parse().expect("ip");
        let v4_next: IpAddr = "192.0.2.2".parse().expect("ip");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_ne!(ip_key(Some(v4)), ip_key(Some(v4_next)));
        assert_eq!(ip_key(Some(v4)), ip_key(Some(mapped)));
    }

    #[test]
    fn bucket_maps_stay_bounded_whatever_the_keys() {
        let buckets = Buckets::with_clock(
            Rate {
                burst: 1,
                period: Duration::from_secs(3600),
            },
            160,
            governor::clock::FakeRelativeClock::default(),
        );
        for i in 0..10_000 {
            let _ = buckets.take(text_key("t", &i.to_string()));
        }
        let tracked = buckets.limiter.into_state_store().len();
        assert!(tracked <= 160 && tracked > 100, "{tracked}");
    }

    #[test]
    fn a_huge_account_name_costs_a_fixed_size_key() {
        // Two 64 KiB names that differ only in their last byte are still told
        // apart, and each is remembered as 16 bytes.
        let huge = "x".repeat(64 * 1024);
        let other = format!("{}y", "x".repeat(64 * 1024 - 1));
        assert_ne!(text_key("account", &huge), text_key("account", &other));
        assert_ne!(text_key("account", &huge), text_key("account", "x"));
        assert_ne!(
            text_key("account", "a"),
            text_key("ip", "a"),
            "domains separate"
        );
    }

    #[test]
    fn in_flight_entries_are_limited_per_key_and_released_on_drop() {
        let in_flight = InFlight::new(2);
        let (ip, account) = (text_key("t", "ip"), text_key("t", "account"));
        let first = in_flight.enter(&[ip, account]).expect("first");
        let second = in_flight.enter(&[ip]).expect("second");
        assert!(in_flight.enter(&[ip]).is_none(), "third for one ip");
        assert!(
            in_flight.enter(&[text_key("t", "other"), ip]).is_none(),
            "all keys or none"
        );
        let other = in_flight.enter(&[text_key("t", "other")]);
        assert!(other.is_some(), "other clients are not affected");
        drop(first);
        assert!(in_flight.enter(&[ip]).is_some(), "released");
        drop(other);
        drop(second);
        assert!(in_flight.counts.lock().expect("lock").is_empty());
    }
}
