//! An opt-in cache of verified tokens (like Envoy's `jwt_cache_size`): a token
//! seen before skips the RSA operation.
//!
//! It can never accept a token the uncached path would reject:
//! - the key is the whole token string, so any other token (another signature,
//!   a tampered byte) misses and is verified in full;
//! - a hit is honoured only while the token is inside `exp` + leeway, the same
//!   rule the full path applies (entries never outlive it);
//! - a hit also needs the very key object that verified the token to still be
//!   in the current key set: a refresh, a rotation or a removal swaps the set
//!   and turns every entry into a miss.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use crate::keys::VerifyKey;
use crate::VerifiedToken;

const SHARDS: usize = 16;

struct Entry {
    verified: VerifiedToken,
    key: Arc<VerifyKey>,
    /// `exp` + leeway: after this the full path would say `Expired`.
    valid_until: i64,
}

pub(crate) struct TokenCache {
    shards: Vec<Mutex<HashMap<Box<str>, Entry>>>,
    per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    fn shard(&self, token: &str) -> &Mutex<HashMap<Box<str>, Entry>> {
        &self.shards[(self.hasher.hash_one(token) as usize) % SHARDS]
    }

    /// A cached verification still valid at `now` with key `current` for its kid.
    pub(crate) fn get(
        &self,
        token: &str,
        now: i64,
        current: impl FnOnce(&VerifyKey) -> bool,
    ) -> Option<VerifiedToken> {
        let Ok(mut shard) = self.shard(token).lock() else {
            return None;
        };
        let entry = shard.get(token)?;
        if now <= entry.valid_until && current(&entry.key) {
            return Some(entry.verified.clone());
        }
        shard.remove(token);
        None
    }

    pub(crate) fn insert(
        &self,
        token: &str,
        verified: VerifiedToken,
        key: Arc<VerifyKey>,
        valid_until: i64,
        now: i64,
    ) {
        let Ok(mut shard) = self.shard(token).lock() else {
            return;
        };
        if shard.len() >= self.per_shard {
            shard.retain(|_, entry| entry.valid_until >= now);
            if shard.len() >= self.per_shard {
                // Still full of live tokens: drop an arbitrary one (bounded memory first).
                if let Some(victim) = shard.keys().next().cloned() {
                    shard.remove(&victim);
                }
            }
        }
        shard.insert(
            token.into(),
            Entry {
                verified,
                key,
                valid_until,
            },
        );
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.lock().ok())
            .map(|s| s.len())
            .sum()
    }
}
