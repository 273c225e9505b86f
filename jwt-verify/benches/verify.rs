//! Our full verification path against a bare `jsonwebtoken::decode` with the
//! same key, token and checks, measured in the same run. The ratio between the
//! two is the figure that matters (RSA verify dominates both).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use jwt_verify::{KeySet, Validation, Verifier};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::json;

struct Key {
    pem: String,
    n: Vec<u8>,
    e: Vec<u8>,
    kid: String,
}

fn generate() -> Key {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("keygen");
    let n = private.n().to_bytes_be();
    let e = private.e().to_bytes_be();
    Key {
        pem: private
            .to_pkcs8_pem(LineEnding::LF)
            .expect("pem")
            .to_string(),
        kid: jwt_verify::rsa_thumbprint(&n, &e),
        n,
        e,
    }
}

fn jwks(keys: &[Key]) -> String {
    let entries: Vec<_> = keys
        .iter()
        .map(|k| {
            json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
                    "n": URL_SAFE_NO_PAD.encode(&k.n), "e": URL_SAFE_NO_PAD.encode(&k.e) })
        })
        .collect();
    json!({ "keys": entries }).to_string()
}

fn token(key: &Key) -> String {
    token_with(key, json!({}))
}

/// A user token signed by `key`, with `extra` claims added (or replaced).
fn token_with(key: &Key, extra: serde_json::Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".into());
    let mut claims = json!({
        "iss": "https://auth.bench", "sub": "0190a5f1-0000-7000-8000-000000000001", "aud": "blog",
        "exp": now + 3600, "iat": now, "nbf": now, "jti": "4c1a", "client_id": "signet",
        "scope": "openid profile email", "roles": ["editor"], "email": "ada@example.com",
    });
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(key.pem.as_bytes()).expect("key"),
    )
    .expect("sign")
}

fn verify(c: &mut Criterion) {
    let keys: Vec<Key> = (0..100).map(|_| generate()).collect();
    let signer = &keys[0];
    let token = token(signer);

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));

    let bare_key = DecodingKey::from_rsa_raw_components(&signer.n, &signer.e);
    let mut bare_validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    bare_validation.set_issuer(&["https://auth.bench"]);
    bare_validation.set_audience(&["blog"]);
    group.bench_function("bare_jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(&token, &bare_key, &bare_validation)
                .expect("valid")
        })
    });

    for count in [1usize, 10, 100] {
        let verifier = Verifier::from_key_set(
            KeySet::from_jwks_json(&jwks(&keys[..count])).expect("jwks"),
            Validation::new("https://auth.bench")
                .audience("blog")
                .require_type("at+jwt"),
        );
        group.bench_with_input(
            BenchmarkId::new("jwt_verify_full_path", format!("{count}_keys")),
            &count,
            |b, _| b.iter(|| verifier.verify_with_current_keys(&token).expect("valid")),
        );
    }
    let cached = Verifier::from_key_set(
        KeySet::from_jwks_json(&jwks(&keys[..1])).expect("jwks"),
        Validation::new("https://auth.bench")
            .audience("blog")
            .require_type("at+jwt"),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let cached = runtime
        .block_on(
            Verifier::builder(
                jwt_verify::KeySource::Static(cached.keys().as_ref().clone()),
                Validation::new("https://auth.bench")
                    .audience("blog")
                    .require_type("at+jwt"),
            )
            .token_cache(10_000)
            .build(),
        )
        .expect("cached verifier");
    cached.verify_with_current_keys(&token).expect("valid");
    group.bench_function("jwt_verify_cache_hit", |b| {
        b.iter(|| cached.verify_with_current_keys(&token).expect("valid"))
    });
    group.finish();
}

/// What following the revocation feed costs each verification: the same
/// token through a verifier without a feed and through one whose deny set
/// holds 100,000 revoked sessions (not this token's), full path and cache hit.
fn revocation(c: &mut Criterion) {
    let key = generate();
    let token = token(&key);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let keys = KeySet::from_jwks_json(&jwks(std::slice::from_ref(&key))).expect("jwks");
    let build = |feed: bool, cache: usize| {
        let mut builder = Verifier::builder(
            jwt_verify::KeySource::Static(keys.clone()),
            Validation::new("https://auth.bench")
                .audience("blog")
                .require_type("at+jwt"),
        )
        .token_cache(cache);
        if feed {
            // Nothing listens there: the deny set keeps what is loaded below.
            builder = builder.revocation_feed(jwt_verify::RevocationFeed::new(
                "http://127.0.0.1:9/api/v1/security-events",
                "sgn_bench",
                "sgn_bench_secret",
            ));
        }
        let verifier = runtime.block_on(builder.build()).expect("verifier");
        verifier.load_revoked_sessions_for_benchmarks(if feed { 100_000 } else { 0 });
        verifier
    };
    let mut group = c.benchmark_group("revocation");
    group.throughput(Throughput::Elements(1));
    for (name, feed, cache) in [
        ("feed_off", false, 0),
        ("feed_on_100k", true, 0),
        ("feed_off_cache_hit", false, 1000),
        ("feed_on_100k_cache_hit", true, 1000),
    ] {
        let verifier = build(feed, cache);
        if feed {
            assert_eq!(
                verifier.revocation_status().map(|s| s.entries),
                Some(100_000)
            );
        }
        verifier.verify_with_current_keys(&token).expect("valid");
        group.bench_function(name, |b| {
            b.iter(|| verifier.verify_with_current_keys(&token).expect("valid"))
        });
    }
    group.finish();
}

/// A DPoP-bound token with a fresh ES256 proof per request against the
/// same token as a bearer token (RFC 9449): the proof's signature check,
/// URL normalisation and replay cache are the difference. Proofs are made
/// outside the timed part.
fn dpop(c: &mut Criterion) {
    let key = generate();
    let holder = jwt_verify::DpopKey::generate().expect("dpop key");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let keys = KeySet::from_jwks_json(&jwks(std::slice::from_ref(&key))).expect("jwks");
    let verifier = runtime
        .block_on(
            Verifier::builder(
                jwt_verify::KeySource::Static(keys),
                Validation::new("https://auth.bench")
                    .audience("blog")
                    .require_type("at+jwt"),
            )
            .dpop(jwt_verify::DpopSettings::new(["https://blog.bench"]).replay_capacity(10_000_000))
            .build(),
        )
        .expect("verifier");
    let bearer = token(&key);
    // The same token, bound to the holder's key.
    let bound = token_with(
        &key,
        json!({ "jti": "4c1b", "cnf": { "jkt": holder.thumbprint() } }),
    );
    let url = "https://blog.bench/api/v1/posts";
    let mut group = c.benchmark_group("dpop");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bearer", |b| {
        b.iter(|| runtime.block_on(verifier.verify(&bearer)).expect("valid"))
    });
    group.bench_function("dpop_bound_with_proof", |b| {
        b.iter_batched(
            || {
                holder
                    .proof("POST", url, Some(&bound), None)
                    .expect("proof")
            },
            |proof| {
                runtime
                    .block_on(verifier.verify_dpop(&bound, Some(&proof), "POST", "/api/v1/posts"))
                    .expect("valid")
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, verify, revocation, dpop);
criterion_main!(benches);
