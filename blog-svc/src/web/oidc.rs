//! The blog as an OpenID Connect relying party (a confidential client of the
//! auth server), through the `openidconnect` crate: discovery, the
//! authorization URL with PKCE S256, `state` and `nonce`, the code exchange,
//! ID-token validation (signature over the published keys, `iss`, `aud`,
//! `exp`, `nonce`, `at_hash`), refresh, and the RP-initiated logout URL.
//!
//! Discovery (with the JWKS) is cached for [`PROVIDER_TTL`] and fetched
//! again after it, or at once when an ID token names a key the cached set
//! lacks (the auth server rotated). While the auth server is unreachable,
//! sign-in answers 503 and reading the blog is unaffected.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreClient, CoreIdToken, CoreResponseType};
use openidconnect::{
    AccessTokenHash, AsyncHttpClient, AuthenticationContextClass, AuthenticationFlow,
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RefreshToken, Scope, TokenResponse as _,
};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// How long discovery and the JWKS are trusted before they are fetched again.
pub const PROVIDER_TTL: Duration = Duration::from_secs(300);
/// What the blog asks for: who you are, your name, and a refresh token so a
/// session outlives one access token.
/// Besides `openid`: the name and email shown, a refresh token, and
/// `posts:write`, which every write of the blog's API needs.
const SCOPES: [&str; 4] = ["profile", "email", "offline_access", "posts:write"];

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Provider {
    client: Client,
    end_session: Option<EndSessionUrl>,
    fetched: Instant,
}

/// Why a step of the flow failed. Messages are fixed: nothing the auth
/// server or the browser sent is echoed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the auth server is unreachable or its discovery document is unusable")]
    Unavailable,
    #[error("the auth server refused the grant")]
    Refused,
    #[error("the ID token is invalid")]
    InvalidIdToken,
}

/// What a sign-in in progress must remember until the callback.
#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    pub nonce: String,
    pub verifier: String,
    /// A path on this blog to return to.
    pub return_to: String,
    /// The `acr` asked for (`mfa`: a step-up), so that a sign-in that did
    /// not reach it is not sent back to the page that asked (a loop).
    #[serde(default)]
    pub acr: Option<String>,
}

/// The tokens a session holds (never sent to the browser).
#[derive(Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// For `id_token_hint` at sign-out.
    pub id_token: String,
    /// Seconds the access token lives, as the token endpoint said.
    pub expires_in: Option<u64>,
}

/// A verified sign-in.
pub struct SignedIn {
    pub sub: String,
    pub display_name: String,
    pub tokens: Tokens,
    /// How the user signed in (the ID token's `acr`).
    pub acr: Option<String>,
    /// The auth-server session its tokens belong to (the ID token's `sid`).
    pub sid: Option<String>,
}

/// What a verified logout token names.
pub struct Logout {
    pub sid: Option<String>,
    pub sub: Option<String>,
}

/// A logout token that is not a valid one for this client (never says why:
/// the answer is the same `400` whatever is wrong).
#[derive(Debug, thiserror::Error)]
#[error("not a valid logout token for this client")]
pub struct LogoutRefused;

pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: secrecy::SecretString,
    redirect_uri: RedirectUrl,
    post_logout: Option<PostLogoutRedirectUrl>,
    http: Transport,
    provider: Mutex<Option<Arc<Provider>>>,
}

impl Oidc {
    pub fn new(
        issuer: &str,
        sign_in: &crate::config::WebSignIn,
        public_url: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            issuer: IssuerUrl::new(issuer.to_owned())?,
            client_id: ClientId::new(sign_in.client_id.clone()),
            client_secret: sign_in.client_secret.clone(),
            redirect_uri: RedirectUrl::new(format!("{public_url}/auth/callback"))?,
            post_logout: PostLogoutRedirectUrl::new(format!("{public_url}/")).ok(),
            // The back channel never follows redirects (SSRF), and gives up
            // rather than hang a page.
            http: Transport(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(10))
                    .build()?,
            ),
            provider: Mutex::new(None),
        })
    }

    /// The key that seals sign-ins in progress into their cookie: derived
    /// from the client secret (auth-server stores only a plain SHA-256 of
    /// it, from which this cannot be computed), so no new secret to manage.
    pub fn login_key(&self) -> [u8; 32] {
        use secrecy::ExposeSecret as _;
        use sha2::{Digest as _, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(b"blog-svc sign-in cookie v1\0");
        hasher.update(self.client_secret.expose_secret().as_bytes());
        hasher.finalize().into()
    }

    async fn provider(&self, force: bool) -> Result<Arc<Provider>, OidcError> {
        let mut cached = self.provider.lock().await;
        if let Some(provider) = cached.as_ref() {
            if !force && provider.fetched.elapsed() < PROVIDER_TTL {
                return Ok(provider.clone());
            }
        }
        match self.discover().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *cached = Some(fresh.clone());
                Ok(fresh)
            }
            // An outage: keep using what we had (its endpoints still apply).
            Err(error) => cached.clone().ok_or(error),
        }
    }

    async fn discover(&self) -> Result<Provider, OidcError> {
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "OIDC discovery failed");
                OidcError::Unavailable
            })?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            Some(ClientSecret::new(
                self.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(self.redirect_uri.clone());
        Ok(Provider {
            client,
            end_session,
            fetched: Instant::now(),
        })
    }

    /// Where to send the browser, and what to remember until it comes back.
    /// `acr`: the class to ask for (`acr_values`, OpenID Connect Core
    /// §3.1.2.1), for a page that needs a stronger sign-in.
    pub async fn begin(
        &self,
        return_to: String,
        acr: Option<&str>,
    ) -> Result<(url::Url, String, Pending), OidcError> {
        let provider = self.provider(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider.client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        if let Some(acr) = acr {
            request =
                request.add_auth_context_value(AuthenticationContextClass::new(acr.to_owned()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url,
            state.into_secret(),
            Pending {
                nonce: nonce.secret().clone(),
                verifier: verifier.into_secret(),
                return_to,
                acr: acr.map(str::to_owned),
            },
        ))
    }

    /// Redeem the code and verify the ID token.
    pub async fn finish(&self, code: String, pending: &Pending) -> Result<SignedIn, OidcError> {
        let provider = self.provider(false).await?;
        let response = provider
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|_| OidcError::Unavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|error| {
                tracing::info!(error = %error, "code exchange refused");
                OidcError::Refused
            })?;
        let id_token = response.id_token().ok_or(OidcError::InvalidIdToken)?;
        let nonce = Nonce::new(pending.nonce.clone());
        // A key the cached JWKS lacks: the auth server rotated; look again once.
        let known_key = id_token
            .claims(&provider.client.id_token_verifier(), &nonce)
            .is_ok();
        let provider = if known_key {
            provider
        } else {
            self.provider(true).await?
        };
        let verifier = provider.client.id_token_verifier();
        let claims = id_token.claims(&verifier, &nonce).map_err(|error| {
            tracing::warn!(error = %error, "ID token rejected");
            OidcError::InvalidIdToken
        })?;
        let expected = claims
            .access_token_hash()
            .ok_or(OidcError::InvalidIdToken)?;
        let actual = AccessTokenHash::from_token(
            response.access_token(),
            id_token
                .signing_alg()
                .map_err(|_| OidcError::InvalidIdToken)?,
            id_token
                .signing_key(&verifier)
                .map_err(|_| OidcError::InvalidIdToken)?,
        )
        .map_err(|_| OidcError::InvalidIdToken)?;
        if &actual != expected {
            return Err(OidcError::InvalidIdToken);
        }
        let sub = claims.subject().to_string();
        let acr = claims.auth_context_ref().map(|acr| acr.as_str().to_owned());
        // `sid` is not among the library's claims: read it from the payload
        // the library has just verified.
        let sid = id_token
            .to_string()
            .split('.')
            .nth(1)
            .and_then(|payload| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .ok()
            })
            .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
            .and_then(|claims| claims["sid"].as_str().map(str::to_owned))
            .filter(|sid| sid.len() <= 64);
        let display_name = claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.to_string())
            .or_else(|| {
                claims
                    .email()
                    .and_then(|email| email.split('@').next().map(str::to_owned))
            })
            .unwrap_or_else(|| sub.clone());
        Ok(SignedIn {
            sub,
            display_name: display_name.chars().take(100).collect(),
            tokens: Tokens {
                access_token: response.access_token().secret().clone(),
                refresh_token: response.refresh_token().map(|t| t.secret().clone()),
                id_token: id_token.to_string(),
                expires_in: response.expires_in().map(|d| d.as_secs()),
            },
            acr,
            sid,
        })
    }

    /// OpenID Connect Back-Channel Logout 1.0 §2.6: a logout token is this
    /// issuer's (a key `keys` holds), for this client, `typ` `logout+jwt`,
    /// fresh, with the back-channel logout event, a `sid` or a `sub`, and no
    /// `nonce`. What it names.
    pub fn verify_logout_token(
        &self,
        keys: &jwt_verify::Verifier,
        token: &str,
    ) -> Result<Logout, LogoutRefused> {
        let validation = jwt_verify::Validation::new(self.issuer.as_str())
            .audience(self.client_id.as_str())
            .require_type("logout+jwt")
            .max_token_lifetime(Duration::from_secs(600));
        let verified = jwt_verify::Verifier::from_key_set((*keys.keys()).clone(), validation)
            .verify_with_current_keys(token)
            .map_err(|_| LogoutRefused)?;
        #[derive(serde::Deserialize)]
        struct LogoutClaims {
            sid: Option<String>,
            sub: Option<String>,
            nonce: Option<serde_json::Value>,
            events: serde_json::Map<String, serde_json::Value>,
        }
        let claims: LogoutClaims = verified.deserialize().map_err(|_| LogoutRefused)?;
        let event = claims
            .events
            .get("http://schemas.openid.net/event/backchannel-logout")
            .is_some_and(serde_json::Value::is_object);
        if !event || claims.nonce.is_some() || (claims.sid.is_none() && claims.sub.is_none()) {
            return Err(LogoutRefused);
        }
        Ok(Logout {
            sid: claims.sid,
            sub: claims.sub,
        })
    }

    /// A new access token (and rotated refresh token) for a session.
    pub async fn refresh(&self, tokens: &Tokens) -> Result<Tokens, OidcError> {
        let refresh = tokens.refresh_token.clone().ok_or(OidcError::Refused)?;
        let provider = self.provider(false).await?;
        let response = provider
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh))
            .map_err(|_| OidcError::Unavailable)?
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                openidconnect::RequestTokenError::ServerResponse(_) => OidcError::Refused,
                _ => OidcError::Unavailable,
            })?;
        Ok(Tokens {
            access_token: response.access_token().secret().clone(),
            refresh_token: response
                .refresh_token()
                .map(|t| t.secret().clone())
                .or_else(|| tokens.refresh_token.clone()),
            id_token: tokens.id_token.clone(),
            expires_in: response.expires_in().map(|d| d.as_secs()),
        })
    }

    /// Where to send the browser to end its auth-server session too, and
    /// come back to the blog's front page. `None` when the provider has no
    /// end-session endpoint (or cannot be reached): the blog session still ends.
    pub async fn logout_url(&self, id_token: &str) -> Option<url::Url> {
        let provider = self.provider(false).await.ok()?;
        let endpoint = provider.end_session.clone()?;
        let hint: CoreIdToken = id_token.parse().ok()?;
        let mut request = LogoutRequest::from(endpoint)
            .set_id_token_hint(&hint)
            .set_client_id(self.client_id.clone());
        if let Some(back) = &self.post_logout {
            request = request.set_post_logout_redirect_uri(back.clone());
        }
        Some(request.http_get_url())
    }
}

/// The library's transport: this client's reqwest (the library's own
/// reqwest feature would pull a second, older reqwest into the build).
struct Transport(reqwest::Client);

type Sending<'c> = Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>>;

impl<'c> AsyncHttpClient<'c> for Transport {
    type Error = reqwest::Error;
    type Future = Sending<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

async fn send(
    http: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let response = http.execute(reqwest::Request::try_from(request)?).await?;
    let mut builder = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    // Status and headers came from a parsed response: they are valid.
    Ok(builder
        .body(body)
        .unwrap_or_else(|_| openidconnect::http::Response::new(Vec::new())))
}
