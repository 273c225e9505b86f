//! OpenID Connect Back-Channel Logout 1.0: when a session of a client with
//! a `backchannel_logout_uri` ends (its user signs out here, ends it on the
//! account page, changes the password, is disabled by an admin, or the
//! browser session it came from ends), the client is told with a signed
//! logout token POSTed to that URI.
//!
//! The notice goes through the mail outbox (`mail_outbox`, kind
//! [`KIND`]): written in the transaction that ends the session, so it
//! exists exactly when the end does; delivered off the request path by the
//! same sender, with the same lease, back-off (30 s doubling to 1 h) and
//! bound (15 attempts, `mail::MAX_ATTEMPTS`), surviving a restart. The token is
//! signed at delivery (its two minutes of life start then), with the key
//! active at that moment.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clients::entity as client;
use crate::mail::entity as outbox;
use crate::mail::transport::DeliveryError;
use crate::sessions::entity as session;

/// The outbox rows of this kind are logout notices, not mail.
pub const KIND: &str = "backchannel_logout";
/// How long a client has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// What a notice names; the token is made from it at delivery.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    sub: String,
    sid: String,
}

/// Queue a notice, in `txn`, for each of `ended` whose client asked for
/// them.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    ended: &[session::Model],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut client_ids: Vec<&str> = ended
        .iter()
        .filter_map(|s| s.client_id.as_deref())
        .collect();
    client_ids.sort_unstable();
    client_ids.dedup();
    if client_ids.is_empty() {
        return Ok(());
    }
    let listening = client::Entity::find()
        .filter(client::Column::ClientId.is_in(client_ids))
        .filter(client::Column::BackchannelLogoutUri.is_not_null())
        .all(txn)
        .await?;
    for session in ended {
        let Some(client) = listening
            .iter()
            .find(|c| Some(c.client_id.as_str()) == session.client_id.as_deref())
        else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let notice = Notice {
            sub: session.user_id.to_string(),
            sid: session.id.to_string(),
        };
        outbox::waiting(
            Uuid::now_v7(),
            uri,
            client.client_id.clone(),
            serde_json::to_string(&notice).unwrap_or_default(),
            KIND,
            now,
        )
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// Delivers logout notices for the mail sender.
pub struct Notifier {
    pub keys: crate::keys::Keys,
    pub tokens: crate::oauth::tokens::TokenIssuer,
    pub http: reqwest::Client,
}

impl Notifier {
    pub fn new(
        keys: crate::keys::Keys,
        tokens: crate::oauth::tokens::TokenIssuer,
    ) -> reqwest::Result<Self> {
        Ok(Self {
            keys,
            tokens,
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("signet-auth-server/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }

    /// POST the logout token of `row` (§2.5). 2xx: done. 4xx: the client
    /// refused this token, and another attempt would not change that
    /// (given up). Anything else: tried again later.
    pub async fn deliver(
        &self,
        row: &outbox::Model,
        now: DateTime<Utc>,
    ) -> Result<(), DeliveryError> {
        let notice: Notice = serde_json::from_str(&row.body)
            .map_err(|_| DeliveryError::Message("the notice is not readable".into()))?;
        let token = self
            .tokens
            .issue_logout_token(
                &self.keys.ring(),
                &row.subject,
                &notice.sub,
                &notice.sid,
                now,
            )
            .map_err(|error| DeliveryError::Http(format!("signing failed: {error}")))?;
        let response = self
            .http
            .post(&row.recipient)
            .header(reqwest::header::CACHE_CONTROL, "no-store")
            .form(&[("logout_token", token.as_str())])
            .send()
            .await
            .map_err(|error| {
                DeliveryError::Http(if error.is_timeout() {
                    "the client did not answer in time".to_owned()
                } else {
                    "the client could not be reached".to_owned()
                })
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() {
            Err(DeliveryError::Message(format!(
                "the client refused it: {status}"
            )))
        } else {
            Err(DeliveryError::Http(format!("the client answered {status}")))
        }
    }
}
