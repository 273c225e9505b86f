//! The client's IP address, for rate limits and the audit trail.
//!
//! `X-Forwarded-For` is trusted only when the TCP peer is a configured proxy
//! (`TRUSTED_PROXIES`); otherwise anyone could choose their own address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::app::state::AppState;

#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    pub(crate) fn to_string_opt(self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

/// The rightmost `X-Forwarded-For` entry that is not a trusted proxy.
pub(crate) fn resolve(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else {
        return Some(peer);
    };
    let mut last_trusted = peer;
    for entry in header.rsplit(',') {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            // Malformed: stop at the last address we could vouch for.
            return Some(last_trusted);
        };
        if !trusted.contains(&ip) {
            return Some(ip);
        }
        last_trusted = ip;
    }
    Some(last_trusted)
}

/// Every `X-Forwarded-For` line, joined in order (RFC 9110 §5.3): a proxy
/// that appends a line of its own instead of extending the client's must not
/// let the client's line stand for the whole list. A line that is not text
/// makes the list unusable (`resolve` then stops at the peer's last hop).
fn forwarded_for(headers: &axum::http::HeaderMap) -> Option<String> {
    let mut joined: Option<String> = None;
    for line in headers.get_all("x-forwarded-for") {
        let text = line.to_str().unwrap_or("unreadable");
        match &mut joined {
            None => joined = Some(text.to_owned()),
            Some(list) => {
                list.push(',');
                list.push_str(text);
            }
        }
    }
    joined
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = forwarded_for(&parts.headers);
        Ok(Self(resolve(
            peer,
            forwarded.as_deref(),
            &state.config.trusted_proxies,
        )))
    }
}

/// The `User-Agent` a session records (truncated where it is stored).
pub(crate) fn user_agent(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn every_forwarded_for_line_counts_in_order() {
        let trusted = [ip("127.0.0.1")];
        let mut headers = axum::http::HeaderMap::new();
        // The client's own line first; the proxy appended a line of its own.
        headers.append("x-forwarded-for", "6.6.6.6".parse().expect("value"));
        headers.append("x-forwarded-for", "198.51.100.7".parse().expect("value"));
        let joined = forwarded_for(&headers);
        assert_eq!(joined.as_deref(), Some("6.6.6.6,198.51.100.7"));
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), joined.as_deref(), &trusted),
            Some(ip("198.51.100.7")),
            "the proxy's line names the client, not the client's own line"
        );
        assert_eq!(forwarded_for(&axum::http::HeaderMap::new()), None);
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        assert_eq!(
            resolve(Some(ip("203.0.113.9")), Some("1.2.3.4"), &[]),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        assert_eq!(
            resolve(
                Some(ip("127.0.0.1")),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.2"),
                &trusted
            ),
            Some(ip("198.51.100.7")),
            "a client-supplied leftmost entry is not believed"
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), None, &trusted),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), Some("garbage"), &trusted),
            Some(ip("127.0.0.1"))
        );
    }
}
