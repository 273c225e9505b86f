use sea_orm::entity::prelude::*;

/// A registered OpenID Connect client (relying party). A confidential
/// client's secret is stored as SHA-256 only; a public client has none.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `sgc_<16 characters>`: what the client sends as `client_id`.
    #[sea_orm(unique)]
    pub client_id: String,
    pub name: String,
    /// A public client (a browser or native app) authenticates with PKCE alone.
    pub public: bool,
    /// Lower-case hex SHA-256 of the secret (confidential clients).
    pub secret_hash: Option<String>,
    /// Space-separated, each matched exactly (URIs hold no spaces).
    pub redirect_uris: String,
    /// Space-separated, each matched exactly.
    pub post_logout_redirect_uris: String,
    /// Space-separated scopes the client may request.
    pub scopes: String,
    /// Space-separated grant types the client may use.
    pub grant_types: String,
    /// First-party clients skip the consent page.
    pub first_party: bool,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    /// DPoP policy (RFC 9449): `allowed` or `required`.
    pub dpop: String,
    /// Space-separated resources (audiences) the client may ask tokens for;
    /// empty: every configured audience for a first-party client, none for
    /// a third-party one.
    pub resources: String,
    /// RFC 9126 §6: its authorization requests must be pushed first
    /// (`/oauth/par`); a plain one is refused.
    pub require_par: bool,
    /// OpenID Connect Back-Channel Logout 1.0: where its sessions' ends are
    /// told, with a signed logout token.
    pub backchannel_logout_uri: Option<String>,
}

fn words(text: &str) -> Vec<String> {
    text.split_ascii_whitespace().map(str::to_owned).collect()
}

impl Model {
    pub fn redirect_uri_list(&self) -> Vec<String> {
        words(&self.redirect_uris)
    }

    pub fn post_logout_redirect_uri_list(&self) -> Vec<String> {
        words(&self.post_logout_redirect_uris)
    }

    pub fn scope_list(&self) -> Vec<String> {
        words(&self.scopes)
    }

    pub fn dpop_policy(&self) -> crate::dpop_policy::DpopPolicy {
        crate::dpop_policy::DpopPolicy::from_column(&self.dpop)
    }

    pub fn resource_list(&self) -> Vec<String> {
        words(&self.resources)
    }

    pub fn grant_type_list(&self) -> Vec<String> {
        words(&self.grant_types)
    }

    /// Whether `uri` is registered, compared as exact strings (OAuth 2.1
    /// §2.3.1: no prefix, no wildcard, no normalisation).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .split_ascii_whitespace()
            .any(|r| r == uri)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
