//! The authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core
//! §3.1.2.1, OAuth 2.1 rules), checked before anyone is asked to sign in.
//!
//! Two kinds of failure: while the client or its redirect URI cannot be
//! trusted, the error is shown to the user and nobody is redirected
//! ([`AuthorizeError::Page`]); once they can, every other error goes back to
//! the client's redirect URI with `error`, `state` and `iss`
//! ([`AuthorizeError::Redirect`], RFC 6749 §4.1.2.1, RFC 9207).

use std::collections::HashMap;

use crate::clients::entity as client;
use crate::oauth::codes::challenge_is_valid;

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: client::Model,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// `acr_values` (Core §3.1.2.1) asks for `mfa`: a browser signed in
    /// with one factor is asked for its second (a step-up).
    pub wants_mfa: bool,
    /// RFC 8707 `resource` (or `audience`): the one service the tokens are
    /// for, checked against what the client may ask by the caller.
    pub resource: Option<String>,
    /// RFC 9126: the pushed request these parameters came from (set by
    /// the caller, who spends it when the code is issued).
    pub request_uri: Option<String>,
}

/// OpenID Connect `prompt` (only one value at a time is supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    #[default]
    Default,
    /// Never show a page: fail with `login_required`/`consent_required`.
    None,
    /// Ask for the password even with a live browser session.
    Login,
    /// Ask for consent even if it was given before.
    Consent,
}

#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown on an error page: the client or redirect URI is not trusted
    /// (the catalogue key of the message).
    Page(&'static str),
    /// Sent back to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: &'static str,
        state: Option<String>,
    },
}

/// The longest accepted `state`, `nonce` or `login_hint`.
const MAX_PARAM: usize = 512;

/// Check `params` against the registered `client` (already looked up by
/// `client_id`; `None` when unknown).
pub fn check(
    params: &HashMap<String, String>,
    client: Option<client::Model>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let client = client.ok_or(AuthorizeError::Page("authorize-unknown-client"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .filter(|uri| client.has_redirect_uri(uri))
        .cloned()
        .ok_or(AuthorizeError::Page("authorize-unknown-redirect"))?;
    let state = params.get("state").cloned();
    let redirect = |error: &'static str, description: &'static str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description,
        state: state.clone().filter(|s| s.len() <= MAX_PARAM),
    };
    if state.as_ref().is_some_and(|s| s.len() > MAX_PARAM) {
        return Err(redirect("invalid_request", "state is too long"));
    }
    match params.get("response_type").map(String::as_str) {
        Some("code") => {}
        None => return Err(redirect("invalid_request", "response_type is required")),
        Some(_) => {
            return Err(redirect(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
    }
    if !client
        .grant_type_list()
        .iter()
        .any(|g| g == "authorization_code")
    {
        return Err(redirect(
            "unauthorized_client",
            "this client may not use the code flow",
        ));
    }
    match params.get("code_challenge_method").map(String::as_str) {
        Some("S256") => {}
        Some(_) => {
            return Err(redirect(
                "invalid_request",
                "code_challenge_method must be S256",
            ))
        }
        None => {
            return Err(redirect(
                "invalid_request",
                "PKCE is required: code_challenge_method=S256",
            ))
        }
    }
    let code_challenge = params
        .get("code_challenge")
        .filter(|c| challenge_is_valid(c))
        .cloned()
        .ok_or_else(|| {
            redirect(
                "invalid_request",
                "code_challenge must be an S256 challenge",
            )
        })?;
    let requested = params.get("scope").map(String::as_str).unwrap_or("openid");
    let scope = granted_scope(requested, &client).map_err(|why| redirect("invalid_scope", why))?;
    let prompt = match params.get("prompt").map(String::as_str) {
        None | Some("") => Prompt::Default,
        Some("none") => Prompt::None,
        Some("login") => Prompt::Login,
        Some("consent") => Prompt::Consent,
        Some(_) => {
            return Err(redirect(
                "invalid_request",
                "prompt must be none, login or consent",
            ))
        }
    };
    let max_age = match params.get("max_age") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u64>()
                .map_err(|_| redirect("invalid_request", "max_age must be a number of seconds"))?,
        ),
    };
    // Voluntary claims (Core §5.5.1.1): values this server does not know
    // are ignored; only `mfa` changes what the sign-in asks for.
    let wants_mfa = params.get("acr_values").is_some_and(|values| {
        values
            .split_ascii_whitespace()
            .any(|v| v == crate::sessions::methods::ACR_MFA)
    });
    let resource = match (params.get("resource"), params.get("audience")) {
        (Some(a), Some(b)) if a != b => {
            return Err(redirect(
                "invalid_request",
                "resource and audience name different targets",
            ))
        }
        (resource, audience) => resource.or(audience).filter(|r| !r.is_empty()).cloned(),
    };
    if resource.as_ref().is_some_and(|r| r.len() > MAX_PARAM) {
        return Err(redirect("invalid_target", "resource is too long"));
    }
    let nonce = params.get("nonce").cloned();
    let login_hint = params.get("login_hint").cloned();
    if nonce
        .iter()
        .chain(login_hint.iter())
        .any(|v| v.len() > MAX_PARAM)
    {
        return Err(redirect(
            "invalid_request",
            "nonce or login_hint is too long",
        ));
    }
    Ok(AuthorizationRequest {
        client,
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        wants_mfa,
        resource,
        request_uri: None,
    })
}

/// The scope a request for `requested` (space-separated) gets: each
/// scope once, every one among the client's; else why not (`invalid_scope`).
pub fn granted_scope(requested: &str, client: &client::Model) -> Result<String, &'static str> {
    let allowed = client.scope_list();
    let mut scope: Vec<&str> = Vec::new();
    for name in requested.split(' ').filter(|s| !s.is_empty()) {
        if !allowed.iter().any(|a| a == name) {
            return Err("a requested scope is not allowed for this client");
        }
        if !scope.contains(&name) {
            scope.push(name);
        }
    }
    if scope.is_empty() {
        return Err("scope is empty");
    }
    Ok(scope.join(" "))
}

/// The redirect back to the client: `code` or `error`, with `state` and
/// `iss` (RFC 9207), added to the registered URI's own query.
pub fn redirect_to(
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.to_string()
}
