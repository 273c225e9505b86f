//! How a client authenticates at a back-channel endpoint (its own file, so
//! the OAuth parsing and the client registry share it without a cycle).

/// How a client authenticated at a back-channel endpoint.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A public client: its `client_id` alone (PKCE proves it).
    None,
    /// `client_secret_basic` or `client_secret_post`.
    Secret(String),
    /// `private_key_jwt` (RFC 7523 §2.2): a JWT signed by the client.
    Assertion(String),
}
