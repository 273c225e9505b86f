use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::{BigUint, RsaPublicKey};
use sha2::Sha256;

use crate::helpers::backend_tests;
use crate::helpers::{json_body, Backend, TestApp};

async fn jwks_publishes_the_signing_key_with_cache_control(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/.well-known/jwks.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response.headers()["cache-control"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(cache, "public, max-age=300");
    let body = json_body(response).await;
    let keys = body["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    for (field, expected) in [("kty", "RSA"), ("alg", "RS256"), ("use", "sig")] {
        assert_eq!(key[field], expected);
    }
    assert_eq!(key["kid"], app.state.keys.ring().active().kid.as_str());
    assert!(
        key.get("d").is_none() && key.get("p").is_none(),
        "private parts must never be published"
    );
}

async fn kid_is_the_rfc_7638_thumbprint_of_the_published_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = &json_body(app.get("/.well-known/jwks.json").await).await["keys"][0];
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        key["e"].as_str().expect("e"),
        key["n"].as_str().expect("n")
    );
    use sha2::Digest as _;
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    assert_eq!(key["kid"], thumbprint.as_str());
}

async fn discovery_document_points_at_the_jwks_and_token_endpoint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(body["issuer"], app.address.as_str());
    assert_eq!(
        body["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.address)
    );
    assert_eq!(
        body["token_endpoint"],
        format!("{}/oauth/token", app.address)
    );
    assert!(body["grant_types_supported"].is_array());
    // The code flow, PKCE S256 only, RFC 9207 `iss`; no implicit flow.
    assert_eq!(
        body["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        body["authorization_endpoint"],
        format!("{}/oauth/authorize", app.address)
    );
    assert_eq!(
        body["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(body["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        body["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        body["revocation_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    assert_eq!(
        body["userinfo_endpoint"],
        format!("{}/oauth/userinfo", app.address)
    );
    assert_eq!(
        body["end_session_endpoint"],
        format!("{}/oauth/logout", app.address)
    );
    // RFC 8414's path serves the same metadata.
    let rfc8414 = json_body(app.get("/.well-known/oauth-authorization-server").await).await;
    assert_eq!(rfc8414, body);
}

/// The token is checked with the `rsa` crate's PKCS#1 v1.5 verifier, fed only
/// what the JWKS URL publishes: no code shared with the signing path.
async fn issued_token_verifies_independently_from_the_jwks_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("indie@example.com").await;
    let jwks = json_body(app.get("/.well-known/jwks.json").await).await;
    let (signing_input, signature) = user.token.rsplit_once('.').expect("three segments");
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(signing_input.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's kid is published");
    let n = BigUint::from_bytes_be(
        &URL_SAFE_NO_PAD
            .decode(jwk["n"].as_str().expect("n"))
            .expect("b64"),
    );
    let e = BigUint::from_bytes_be(
        &URL_SAFE_NO_PAD
            .decode(jwk["e"].as_str().expect("e"))
            .expect("b64"),
    );
    let verifying_key = VerifyingKey::<Sha256>::new(RsaPublicKey::new(n, e).expect("public key"));
    let signature = Signature::try_from(URL_SAFE_NO_PAD.decode(signature).expect("b64").as_slice())
        .expect("signature");
    verifying_key
        .verify(signing_input.as_bytes(), &signature)
        .expect("signature verifies with the published key");

    let mut tampered = signing_input.to_owned();
    tampered.push('A');
    assert!(verifying_key
        .verify(tampered.as_bytes(), &signature)
        .is_err());
}

backend_tests!(
    jwks_publishes_the_signing_key_with_cache_control,
    kid_is_the_rfc_7638_thumbprint_of_the_published_key,
    discovery_document_points_at_the_jwks_and_token_endpoint,
    issued_token_verifies_independently_from_the_jwks_alone,
);
