//! Abuse protection: token buckets per client IP, and an exponential back-off
//! per account after repeated login failures.
//!
//! State is in memory, per replica: behind a load balancer each replica
//! enforces its own share. The account back-off is keyed by the normalised
//! email whether or not the account exists, so it reveals nothing; it is
//! capped and resets on success, so an attacker can slow an account down but
//! never lock its owner out for longer than the cap.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signet_service::config::ConfigError;

/// `N/period`, e.g. `10/1m`: a bucket of N tokens refilled evenly over the period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub period: Duration,
}

impl Rate {
    pub fn parse(variable: &'static str, raw: &str) -> Result<Self, ConfigError> {
        let (count, period) = raw.split_once('/').ok_or_else(|| {
            ConfigError::new(
                variable,
                format!("expected N/period like 10/1m, got {raw:?}"),
            )
        })?;
        let burst: u32 = count
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(variable, format!("{count:?} is not a count")))?;
        let period = signet_service::config::parse_duration(period)
            .map_err(|e| ConfigError::new(variable, e))?;
        if burst == 0 || period.is_zero() {
            return Err(ConfigError::new(
                variable,
                "count and period must be greater than zero",
            ));
        }
        Ok(Self { burst, period })
    }

    fn per_second(&self) -> f64 {
        f64::from(self.burst) / self.period.as_secs_f64()
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A set of token buckets, one per key.
pub struct Buckets {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `key`; `Err(wait)` when empty.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let per_second = self.rate.per_second();
        let burst = f64::from(self.rate.burst);
        if buckets.len() > 100_000 {
            // Forget keys whose buckets have refilled: they carry no state.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.updated).as_secs_f64() * per_second)
            .min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

struct Failures {
    count: u32,
    last: Instant,
}

/// Exponential back-off per account: after `free` failures, each further
/// failure doubles the wait (1 s, 2 s, 4 s, …) up to `cap`.
pub struct AccountBackoff {
    free: u32,
    cap: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

impl AccountBackoff {
    pub fn new(free: u32, cap: Duration) -> Self {
        Self {
            free,
            cap,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn wait_for(&self, count: u32) -> Duration {
        if count < self.free {
            return Duration::ZERO;
        }
        let exponent = (count - self.free).min(20);
        Duration::from_secs(1u64 << exponent).min(self.cap)
    }

    /// `Err(wait)` while the account is cooling down.
    pub fn check(&self, account: &str) -> Result<(), Duration> {
        let Ok(failures) = self.failures.lock() else {
            return Ok(());
        };
        match failures.get(account) {
            Some(f) => {
                let wait = self.wait_for(f.count);
                let elapsed = f.last.elapsed();
                if elapsed < wait {
                    Err(wait - elapsed)
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    /// Record a failure; `true` when this one puts the account into back-off
    /// (once per episode, so the audit trail cannot be flooded through it).
    pub fn failed(&self, account: &str) -> bool {
        let Ok(mut failures) = self.failures.lock() else {
            return false;
        };
        let now = Instant::now();
        if failures.len() > 100_000 {
            let forget = self.cap * 4;
            failures.retain(|_, f| now.duration_since(f.last) < forget);
        }
        let entry = failures.entry(account.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
        });
        // A long quiet spell forgives old failures.
        if now.duration_since(entry.last) > self.cap * 4 {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
        entry.count == self.free
    }

    pub fn succeeded(&self, account: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(account);
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub login_per_ip: Rate,
    pub signup_per_ip: Rate,
    pub token_per_ip: Rate,
    pub account_free_failures: u32,
    pub account_max_backoff: Duration,
}

/// Every limiter the server applies.
#[derive(Clone)]
pub struct Limiters {
    pub login_per_ip: Arc<Buckets>,
    pub signup_per_ip: Arc<Buckets>,
    pub token_per_ip: Arc<Buckets>,
    pub accounts: Arc<AccountBackoff>,
}

impl Limiters {
    pub fn new(limits: &Limits) -> Self {
        Self {
            login_per_ip: Arc::new(Buckets::new(limits.login_per_ip)),
            signup_per_ip: Arc::new(Buckets::new(limits.signup_per_ip)),
            token_per_ip: Arc::new(Buckets::new(limits.token_per_ip)),
            accounts: Arc::new(AccountBackoff::new(
                limits.account_free_failures,
                limits.account_max_backoff,
            )),
        }
    }
}

/// Take a token from `buckets` for `ip`, counting refusals as `limit`.
pub fn admit(
    buckets: &Buckets,
    ip: Option<IpAddr>,
    metrics: &signet_service::metrics::Metrics,
    limit: &'static str,
) -> Result<(), crate::error::ApiError> {
    buckets.take(&ip_key(ip)).map_err(|wait| {
        metrics.inc(
            "rate_limited_total",
            "Requests refused with 429, by limit.",
            &[("limit", limit)],
        );
        crate::error::ApiError::TooManyRequests(wait)
    })
}

/// The bucket key for a client: its IP, or one shared key when unknown.
pub fn ip_key(ip: Option<IpAddr>) -> String {
    ip.map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".to_owned())
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
    fn a_bucket_allows_its_burst_then_says_how_long_to_wait() {
        let buckets = Buckets::new(Rate {
            burst: 3,
            period: Duration::from_secs(60),
        });
        for _ in 0..3 {
            assert!(buckets.take("a").is_ok());
        }
        let wait = buckets.take("a").expect_err("empty");
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(buckets.take("b").is_ok(), "keys are independent");
    }

    #[test]
    fn backoff_grows_exponentially_is_capped_and_resets_on_success() {
        let backoff = AccountBackoff::new(3, Duration::from_secs(8));
        assert_eq!(backoff.wait_for(2), Duration::ZERO);
        assert_eq!(backoff.wait_for(3), Duration::from_secs(1));
        assert_eq!(backoff.wait_for(5), Duration::from_secs(4));
        assert_eq!(backoff.wait_for(50), Duration::from_secs(8));
        for _ in 0..3 {
            backoff.failed("a@example.com");
        }
        assert!(backoff.check("a@example.com").is_err());
        backoff.succeeded("a@example.com");
        assert!(backoff.check("a@example.com").is_ok());
    }
}
