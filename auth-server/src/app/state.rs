//! What every handler can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::accounts::password::PasswordHasher;
use crate::api_keys::LastUsedTracker;
use crate::config::Config;
use crate::keys::Keys;
use crate::oauth::tokens::TokenIssuer;

#[derive(Clone)]
pub struct AppState {
    /// Time for the rules that depend on it; tests move it forward.
    pub clock: crate::app::clock::Clock,
    pub db: DatabaseConnection,
    /// The signing ring, this server's own verifier (the same rules any
    /// service using jwt-verify applies) and, in database mode, the rotation.
    pub keys: Keys,
    pub tokens: TokenIssuer,
    pub hasher: PasswordHasher,
    pub config: Arc<Config>,
    pub last_used: LastUsedTracker,
    pub limiters: crate::app::rate_limit::Limiters,
    pub metrics: signet_service::metrics::Metrics,
    /// Wakes long-polling readers of the security-event feed.
    pub events: crate::events::EventsHub,
    /// Outgoing mail: queued in transactions, delivered by the sender task.
    pub mail: crate::mail::MailQueue,
    /// Upstream OpenID providers and their discovery state.
    pub upstreams: crate::upstream::Upstreams,
    /// The pages' name, stylesheet and logo (`BRAND_*`).
    pub brand: Arc<crate::web::brand::Brand>,
    /// Seals authenticator-app secrets (`None`: no key, no apps).
    pub factor_seal: Option<Arc<crate::mfa::FactorSeal>>,
    /// The passkey relying party (`None`: passkeys are off).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Clients known by the URL of their metadata document, fetched and cached.
    pub client_documents: Arc<crate::clients::documents::ClientDocuments>,
}

impl AppState {
    /// What the account mail flows need: the queue, the links' base URL and
    /// the per-address mail limit.
    pub fn outgoing(&self) -> crate::accounts::email::Outgoing<'_> {
        crate::accounts::email::Outgoing {
            queue: &self.mail,
            links: crate::accounts::email::Links {
                base: &self.config.issuer,
            },
            mail_limit: &self.limiters.mail_per_address,
            metrics: &self.metrics,
        }
    }

    /// What completing a sign-in with its second factor needs.
    pub fn second_factor(&self) -> crate::sessions::sign_in::SecondFactorDeps<'_> {
        crate::sessions::sign_in::SecondFactorDeps {
            gate: self.password_gate(),
            seal: self.factor_seal.as_deref(),
            outgoing: self.outgoing(),
            policy: &self.config.sessions,
            webauthn: self.webauthn.as_deref(),
        }
    }

    /// The abuse-limited password check, for the domain functions that need one.
    pub fn password_gate(&self) -> crate::accounts::PasswordGate<'_> {
        crate::accounts::PasswordGate {
            limiters: &self.limiters,
            hasher: &self.hasher,
            metrics: &self.metrics,
            limits: &self.config.limits,
        }
    }
}
