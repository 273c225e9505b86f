//! An unmodified, widely used OpenID Connect relying-party library (the
//! `openidconnect` crate) drives the whole code flow against the real server:
//! discovery, authorize with PKCE, the sign-in form, the code exchange,
//! ID-token validation (signature, issuer, audience, nonce, `at_hash`),
//! userinfo, refresh, and RP-initiated logout. The library only gets an HTTP
//! transport; everything it checks, it checks its own way.

use openidconnect::core::{CoreClient, CoreGenderClaim, CoreResponseType};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EmptyAdditionalClaims, HttpRequest, HttpResponse, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse as _, UserInfoClaims,
};
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};

const REDIRECT: &str = "http://127.0.0.1:8081/auth/callback";
const AFTER_LOGOUT: &str = "http://127.0.0.1:8081/";

/// The library's transport: one request, no redirects followed (the library
/// itself forbids them for the back channel).
async fn transport(
    client: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let response = client.execute(reqwest::Request::try_from(request)?).await?;
    let mut builder = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).expect("a response the server sent"))
}

/// The browser's part: open the authorization URL, fill in the sign-in form,
/// and return where the server sends it back to.
async fn browser_signs_in(app: &TestApp, authorize: &url::Url, email: &str) -> url::Url {
    let page = app
        .client
        .get(authorize.as_str())
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let cookies: Vec<String> = page
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect();
    let mut form = signet_service::testing::hidden_inputs(&page.text().await.expect("html"));
    form.push(("email".into(), email.into()));
    form.push(("password".into(), PASSWORD.into()));
    let response = app
        .client
        .post(app.url("/oauth/authorize"))
        .header("cookie", cookies.join("; "))
        .header("origin", app.address.as_str())
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    url::Url::parse(response.headers()[LOCATION].to_str().expect("location")).expect("absolute")
}

async fn an_oidc_library_completes_the_code_flow_unmodified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("rp@example.com").await;
    let registered =
        auth_server::testing::oidc_client(&app.state, "Library RP", &[REDIRECT], &[AFTER_LOGOUT])
            .await
            .expect("registered");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let http = |request| transport(&http, request);

    // Discovery, with the end-session endpoint (RP-Initiated Logout 1.0).
    let issuer = IssuerUrl::new(app.address.clone()).expect("issuer");
    let metadata = ProviderMetadataWithLogout::discover_async(issuer, &http)
        .await
        .expect("discovery document accepted by the library");
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint advertised");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client_id.clone()),
        Some(ClientSecret::new(registered.secret.expect("secret"))),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("redirect"));

    // Authorize with PKCE S256, a state and a nonce.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = browser_signs_in(&app, &authorize, &user.email).await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(&query["state"], state.secret(), "state round trip");
    assert_eq!(query["iss"], app.address, "RFC 9207 iss");

    // The code exchange, with the verifier; the library authenticates with
    // client_secret_basic, the first method the server advertises.
    let tokens = client
        .exchange_code(AuthorizationCode::new(query["code"].clone()))
        .expect("token endpoint known")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchanged");

    // The ID token: signature over the JWKS, iss, aud, exp, nonce, at_hash.
    let id_token = tokens.id_token().expect("an ID token for openid");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("the library accepts the ID token");
    assert_eq!(claims.subject().as_str(), user.id);
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some(user.email.as_str())
    );
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(&actual, expected_hash, "at_hash matches the access token");
    assert!(
        id_token
            .claims(&verifier, &Nonce::new("another".into()))
            .is_err(),
        "a nonce mismatch is caught"
    );

    // userinfo with the access token.
    let info: UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim> = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .expect("userinfo endpoint known")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some(user.email.as_str()));

    // Refresh: a rotated refresh token and a new access token.
    let refresh = tokens
        .refresh_token()
        .expect("offline_access: refresh token");
    let refreshed = client
        .exchange_refresh_token(refresh)
        .expect("token endpoint known")
        .request_async(&http)
        .await
        .expect("refreshed");
    assert_ne!(
        refreshed.refresh_token().map(|t| t.secret()),
        Some(refresh.secret()),
        "rotated"
    );
    // A retry inside the reuse grace window (a lost response) gets the same
    // successor, not a second family.
    let retried = client
        .exchange_refresh_token(refresh)
        .expect("known")
        .request_async(&http)
        .await
        .expect("retry inside the grace window");
    assert_eq!(
        retried.refresh_token().map(|t| t.secret()),
        refreshed.refresh_token().map(|t| t.secret())
    );

    // RP-initiated logout, followed by the browser.
    let logout = LogoutRequest::from(end_session)
        .set_id_token_hint(id_token)
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(AFTER_LOGOUT.into()).expect("url"))
        .set_state(CsrfToken::new("bye".into()))
        .http_get_url();
    let out = app
        .client
        .get(logout.as_str())
        .send()
        .await
        .expect("logout");
    assert!(out.status().is_redirection(), "{}", out.status());
    assert_eq!(
        out.headers()[LOCATION].to_str().expect("location"),
        format!("{AFTER_LOGOUT}?state=bye")
    );
    // The session is over: its access token no longer reads userinfo.
    let after: Result<UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim>, _> = client
        .user_info(tokens.access_token().clone(), None)
        .expect("known")
        .request_async(&http)
        .await;
    assert!(after.is_err(), "userinfo refuses the ended session's token");
}

backend_tests!(an_oidc_library_completes_the_code_flow_unmodified);
