//! DPoP (RFC 9449) at a resource server: every way a bound token or its
//! proof can be misused is crafted and refused, with the RFC's answers.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use common::{claims, jwks, key, now, validation};
use jwt_verify::dpop::{token_hash, ProofClaimsOut};
use jwt_verify::{DpopKey, DpopSettings, JwtAuthLayer, KeySet, KeySource, Verifier};
use serde_json::{json, Value};
use tower::ServiceExt as _;

const ORIGIN: &str = "https://blog.test";

async fn verifier(settings: Option<DpopSettings>) -> Verifier {
    let keys = KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks");
    let mut builder = Verifier::builder(KeySource::Static(keys), validation());
    if let Some(settings) = settings {
        builder = builder.dpop(settings);
    }
    builder.build().await.expect("verifier")
}

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/posts", post(|| async { "created" }))
        .route("/me", get(|| async { "me" }))
        .layer(JwtAuthLayer::new(verifier).realm("blog"))
}

/// A user token bound to `dpop_key`.
fn bound_token(dpop_key: &DpopKey) -> String {
    let mut claims = claims();
    claims["cnf"] = json!({ "jkt": dpop_key.thumbprint() });
    key(0).sign(&claims)
}

struct Call<'a> {
    scheme: &'a str,
    token: &'a str,
    proofs: Vec<String>,
    method: &'a str,
    path: &'a str,
}

async fn send(app: &Router, call: Call<'_>) -> (StatusCode, Vec<String>, Value, Option<String>) {
    let mut request = Request::builder()
        .method(call.method)
        .uri(call.path)
        .header(
            header::AUTHORIZATION,
            format!("{} {}", call.scheme, call.token),
        );
    for proof in &call.proofs {
        request = request.header("dpop", proof);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let challenges = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    let nonce = response
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, challenges, body, nonce)
}

/// A crafted request: name, scheme, token, proofs, method, expected `error`.
type Case<'a> = (&'a str, &'a str, &'a str, Vec<String>, &'a str, &'a str);

fn proof(dpop_key: &DpopKey, htm: &str, htu: &str, token: &str, iat: i64, jti: &str) -> String {
    dpop_key
        .proof_with(&ProofClaimsOut {
            jti,
            htm,
            htu,
            iat,
            ath: Some(&token_hash(token)),
            nonce: None,
        })
        .expect("proof")
}

#[tokio::test]
async fn a_bound_token_with_a_fresh_proof_for_this_request_is_accepted() {
    let app = app(verifier(Some(DpopSettings::new([ORIGIN]))).await);
    let dpop_key = DpopKey::generate().expect("key");
    let token = bound_token(&dpop_key);
    let (status, ..) = send(
        &app,
        Call {
            scheme: "DPoP",
            token: &token,
            proofs: vec![dpop_key
                .proof(
                    "POST",
                    "https://BLOG.test:443/posts?draft=1",
                    Some(&token),
                    None,
                )
                .expect("proof")],
            method: "POST",
            path: "/posts",
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// One crafted misuse per row: what was sent, and the `error` of the answer.
#[tokio::test]
async fn every_misuse_of_a_bound_token_or_its_proof_is_refused_with_the_dpop_challenge() {
    let app = app(verifier(Some(DpopSettings::new([ORIGIN]))).await);
    let holder = DpopKey::generate().expect("key");
    let thief = DpopKey::generate().expect("key");
    let token = bound_token(&holder);
    let other_token = {
        let mut claims = claims();
        claims["cnf"] = json!({ "jkt": holder.thumbprint() });
        claims["jti"] = json!("another");
        key(0).sign(&claims)
    };
    let unbound = key(0).sign(&claims());
    let url = format!("{ORIGIN}/posts");
    let t = now();
    let good = |jti: &str| proof(&holder, "POST", &url, &token, t, jti);
    let replayed = good("used-once");
    let first = send(
        &app,
        Call {
            scheme: "DPoP",
            token: &token,
            proofs: vec![replayed.clone()],
            method: "POST",
            path: "/posts",
        },
    )
    .await;
    assert_eq!(first.0, StatusCode::OK, "the first use of a proof passes");

    let header = |_: &str| {
        format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
            holder.public_jwk()
        )
    };
    let payload =
        json!({ "jti": "x", "htm": "POST", "htu": url, "iat": t, "ath": token_hash(&token) })
            .to_string();
    let private_jwk = holder.public_jwk().replace('}', r#","d":"AAAA"}"#);
    // One signature character changed, well inside the last segment.
    let mut tampered = good("tampered").into_bytes();
    let at = tampered.len() - 10;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");

    let cases: Vec<Case<'_>> = vec![
        (
            "bound token presented as Bearer",
            "Bearer",
            &token,
            vec![],
            "POST",
            "invalid_token",
        ),
        (
            "bound token without a proof",
            "DPoP",
            &token,
            vec![],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "proof for another method",
            "DPoP",
            &token,
            vec![proof(&holder, "GET", &url, &token, t, "m")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "proof for another path",
            "DPoP",
            &token,
            vec![proof(
                &holder,
                "POST",
                &format!("{ORIGIN}/admin"),
                &token,
                t,
                "p",
            )],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "proof for another origin",
            "DPoP",
            &token,
            vec![proof(
                &holder,
                "POST",
                "https://evil.test/posts",
                &token,
                t,
                "o",
            )],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "proof for a look-alike origin",
            "DPoP",
            &token,
            vec![proof(
                &holder,
                "POST",
                "https://blog.test.evil/posts",
                &token,
                t,
                "o2",
            )],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "replayed jti",
            "DPoP",
            &token,
            vec![replayed],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "iat two minutes old",
            "DPoP",
            &token,
            vec![proof(&holder, "POST", &url, &token, t - 120, "old")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "iat a minute ahead",
            "DPoP",
            &token,
            vec![proof(&holder, "POST", &url, &token, t + 60, "future")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "ath of another token",
            "DPoP",
            &token,
            vec![proof(&holder, "POST", &url, &other_token, t, "ath")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "proof signed by another key",
            "DPoP",
            &token,
            vec![proof(&thief, "POST", &url, &token, t, "thief")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "unbound token with a proof",
            "DPoP",
            &unbound,
            vec![proof(&holder, "POST", &url, &unbound, t, "unbound")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "two proofs",
            "DPoP",
            &token,
            vec![good("two-a"), good("two-b")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "typ JWT",
            "DPoP",
            &token,
            vec![holder
                .sign_compact(&header("").replace("dpop+jwt", "JWT"), &payload)
                .expect("sign")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "alg none",
            "DPoP",
            &token,
            vec![holder
                .sign_compact(&header("").replace("ES256", "none"), &payload)
                .expect("sign")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "alg HS256",
            "DPoP",
            &token,
            vec![holder
                .sign_compact(&header("").replace("ES256", "HS256"), &payload)
                .expect("sign")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "private key in the header",
            "DPoP",
            &token,
            vec![holder
                .sign_compact(
                    &format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{private_jwk}}}"#),
                    &payload,
                )
                .expect("sign")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "no key in the header",
            "DPoP",
            &token,
            vec![holder
                .sign_compact(r#"{"typ":"dpop+jwt","alg":"ES256"}"#, &payload)
                .expect("sign")],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "tampered signature",
            "DPoP",
            &token,
            vec![tampered],
            "POST",
            "invalid_dpop_proof",
        ),
        (
            "proof that is not a JWT",
            "DPoP",
            &token,
            vec!["not-a-jwt".into()],
            "POST",
            "invalid_dpop_proof",
        ),
    ];
    for (name, scheme, presented, proofs, method, error) in cases {
        let (status, challenges, body, _) = send(
            &app,
            Call {
                scheme,
                token: presented,
                proofs,
                method,
                path: "/posts",
            },
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(body["error"], error, "{name}");
        assert!(
            challenges[0].starts_with("DPoP ")
                && challenges[0].contains(&format!(r#"error="{error}""#))
                && challenges[0].contains(r#"algs="ES256 EdDSA PS256 RS256""#),
            "{name}: {challenges:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_token_is_challenged_with_both_schemes() {
    let app = app(verifier(Some(DpopSettings::new([ORIGIN]))).await);
    let response = app
        .oneshot(
            Request::builder()
                .uri("/me")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    assert_eq!(
        challenges,
        [
            r#"Bearer realm="blog""#,
            r#"DPoP realm="blog", algs="ES256 EdDSA PS256 RS256""#
        ]
    );
}

#[tokio::test]
async fn a_verifier_without_dpop_settings_refuses_bound_tokens_and_ignores_the_dpop_scheme() {
    let app = app(verifier(None).await);
    let holder = DpopKey::generate().expect("key");
    let token = bound_token(&holder);
    let url = format!("{ORIGIN}/me");
    let (status, challenges, body, _) = send(
        &app,
        Call {
            scheme: "Bearer",
            token: &token,
            proofs: vec![],
            method: "GET",
            path: "/me",
        },
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");
    assert!(challenges[0].starts_with("DPoP "), "{challenges:?}");
    // The DPoP scheme is unknown here: as if no token came.
    let (status, challenges, ..) = send(
        &app,
        Call {
            scheme: "DPoP",
            token: &token,
            proofs: vec![proof(&holder, "GET", &url, &token, now(), "n")],
            method: "GET",
            path: "/me",
        },
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenges, [r#"Bearer realm="blog""#]);
}

#[tokio::test]
async fn a_required_nonce_is_handed_out_with_use_dpop_nonce_and_then_accepted() {
    let settings = DpopSettings::new([ORIGIN]).require_nonce([42; 32], Duration::from_secs(300));
    let app = app(verifier(Some(settings)).await);
    let holder = DpopKey::generate().expect("key");
    let token = bound_token(&holder);
    let url = format!("{ORIGIN}/me");
    let (status, challenges, body, nonce) = send(
        &app,
        Call {
            scheme: "DPoP",
            token: &token,
            proofs: vec![holder
                .proof("GET", &url, Some(&token), None)
                .expect("proof")],
            method: "GET",
            path: "/me",
        },
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "use_dpop_nonce");
    assert!(challenges[0].contains(r#"error="use_dpop_nonce""#));
    let nonce = nonce.expect("DPoP-Nonce header");
    let wrong = send(
        &app,
        Call {
            scheme: "DPoP",
            token: &token,
            proofs: vec![holder
                .proof("GET", &url, Some(&token), Some("forged-nonce"))
                .expect("proof")],
            method: "GET",
            path: "/me",
        },
    )
    .await;
    assert_eq!(wrong.2["error"], "use_dpop_nonce");
    let (status, ..) = send(
        &app,
        Call {
            scheme: "DPoP",
            token: &token,
            proofs: vec![holder
                .proof("GET", &url, Some(&token), Some(&nonce))
                .expect("proof")],
            method: "GET",
            path: "/me",
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn verify_dpop_serves_callers_outside_tower_and_inspect_reads_bound_tokens() {
    let verifier = verifier(Some(DpopSettings::new([ORIGIN]))).await;
    let holder = DpopKey::generate().expect("key");
    let token = bound_token(&holder);
    let proof = holder
        .proof("GET", &format!("{ORIGIN}/feed"), Some(&token), None)
        .expect("proof");
    let verified = verifier
        .verify_dpop(&token, Some(&proof), "GET", "/feed")
        .await
        .expect("verified");
    assert_eq!(
        verified.claims().cnf.as_ref().map(|c| c.jkt.as_str()),
        Some(holder.thumbprint())
    );
    assert_eq!(
        verifier.verify(&token).await.map(|_| ()),
        Err(jwt_verify::VerifyError::DpopProofRequired)
    );
    assert!(verifier.inspect(&token).is_ok());
}
