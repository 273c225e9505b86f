//! OAuth 2.0 Protected Resource Metadata (RFC 9728): what a service tells a
//! client that arrives with nothing but its URL. The service publishes its
//! resource identifier, the authorization servers that issue its tokens, the
//! scopes it understands and how it takes tokens; the layer's challenges
//! point at that document (`resource_metadata="…"`, §5.1).

use serde_json::{json, Value};

/// RFC 9728 §3: the well-known path, inserted between the host and the
/// resource's own path.
pub(crate) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// A service's protected-resource metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedResource {
    resource: url::Url,
    authorization_servers: Vec<String>,
    scopes: Vec<String>,
    dpop: bool,
    name: Option<String>,
}

/// The resource identifier is not an absolute `http(s)` URL without a
/// fragment (RFC 9728 §2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a protected resource is named by an absolute https (or http) URL without a fragment")]
pub struct InvalidResource;

impl ProtectedResource {
    /// The resource `resource` (its URL), whose tokens `authorization_server`
    /// (an issuer URL) issues.
    pub fn new(
        resource: &str,
        authorization_server: impl Into<String>,
    ) -> Result<Self, InvalidResource> {
        let resource = url::Url::parse(resource).map_err(|_| InvalidResource)?;
        if !matches!(resource.scheme(), "https" | "http")
            || resource.fragment().is_some()
            || resource.host().is_none()
        {
            return Err(InvalidResource);
        }
        Ok(Self {
            resource,
            authorization_servers: vec![authorization_server.into()],
            scopes: Vec::new(),
            dpop: false,
            name: None,
        })
    }

    /// The scopes the service's routes ask for (`scopes_supported`).
    pub fn scopes<I, T>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The service accepts DPoP-bound tokens (`dpop_signing_alg_values_supported`).
    pub fn dpop(mut self, accepted: bool) -> Self {
        self.dpop = accepted;
        self
    }

    /// A name for people (`resource_name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The resource identifier, as the document states it.
    pub fn resource(&self) -> &str {
        self.resource.as_str().trim_end_matches('/')
    }

    /// The path the document is served at: the well-known path, followed by
    /// the resource's path when it has one (§3.1).
    pub fn metadata_path(&self) -> String {
        let path = self.resource.path().trim_end_matches('/');
        format!("{WELL_KNOWN}{path}")
    }

    /// Where the document is: for the layer's challenges.
    pub fn metadata_url(&self) -> String {
        format!(
            "{}{}",
            self.resource.origin().ascii_serialization(),
            self.metadata_path()
        )
    }

    /// The metadata document (§2).
    pub fn document(&self) -> Value {
        let mut document = json!({
            "resource": self.resource(),
            "authorization_servers": self.authorization_servers,
            "bearer_methods_supported": ["header"],
        });
        if !self.scopes.is_empty() {
            document["scopes_supported"] = json!(self.scopes);
        }
        if self.dpop {
            document["dpop_signing_alg_values_supported"] = json!(crate::dpop::DPOP_ALGORITHMS);
        }
        if let Some(name) = &self.name {
            document["resource_name"] = json!(name);
        }
        document
    }

    /// A router serving the document at [`metadata_path`](Self::metadata_path)
    /// (and at the bare well-known path, for clients that look there), with
    /// `Cache-Control: public, max-age=3600`. Merge it into the service's
    /// router, outside any token layer: it is public.
    #[cfg(feature = "axum")]
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        use axum::http::header;
        let body = self.document().to_string();
        let answer = move || {
            let body = body.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    body,
                )
            }
        };
        let mut router = axum::Router::new().route(WELL_KNOWN, axum::routing::get(answer.clone()));
        let path = self.metadata_path();
        if path != WELL_KNOWN {
            router = router.route(&path, axum::routing::get(answer));
        }
        router
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_the_resource_its_servers_scopes_and_methods() {
        let resource =
            ProtectedResource::new("https://blog.example.com", "https://auth.example.com")
                .expect("a resource")
                .scopes(["posts:write"])
                .dpop(true)
                .name("Blog");
        assert_eq!(
            resource.metadata_url(),
            "https://blog.example.com/.well-known/oauth-protected-resource"
        );
        let document = resource.document();
        assert_eq!(document["resource"], "https://blog.example.com");
        assert_eq!(
            document["authorization_servers"],
            json!(["https://auth.example.com"])
        );
        assert_eq!(document["scopes_supported"], json!(["posts:write"]));
        assert_eq!(document["bearer_methods_supported"], json!(["header"]));
        assert_eq!(document["dpop_signing_alg_values_supported"][0], "ES256");
        assert_eq!(document["resource_name"], "Blog");
        let plain = ProtectedResource::new("https://api.example.com", "https://auth.example.com")
            .expect("a resource")
            .document();
        assert!(
            plain.get("scopes_supported").is_none()
                && plain.get("dpop_signing_alg_values_supported").is_none()
        );
    }

    #[test]
    fn a_resource_with_a_path_has_its_document_under_the_path_suffixed_name() {
        let resource =
            ProtectedResource::new("https://api.example.com/blog/", "https://auth.example.com")
                .expect("a resource");
        assert_eq!(
            resource.metadata_path(),
            "/.well-known/oauth-protected-resource/blog"
        );
        assert_eq!(
            resource.metadata_url(),
            "https://api.example.com/.well-known/oauth-protected-resource/blog"
        );
        assert_eq!(
            resource.document()["resource"],
            "https://api.example.com/blog"
        );
    }

    #[test]
    fn a_resource_must_be_an_absolute_web_url_without_a_fragment() {
        for bad in [
            "blog",
            "urn:example:blog",
            "https://x.example/#f",
            "ftp://x.example",
            "https://",
        ] {
            assert_eq!(
                ProtectedResource::new(bad, "https://auth.example.com"),
                Err(InvalidResource),
                "{bad}"
            );
        }
    }
}
