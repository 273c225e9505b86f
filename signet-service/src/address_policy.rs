//! Which addresses an outbound request may reach when someone else chose
//! the URL: scraper-svc's redirect hops (a hostile feed could otherwise make
//! it read `127.0.0.1:<port>` or the cloud metadata service and publish the
//! page), and auth-server's fetches of client metadata documents (a
//! `client_id` anyone can type). Such requests may only reach public
//! addresses, unless an address is listed by the operator.
//!
//! The check is made on the addresses the connection will use: names are
//! resolved by [`PolicyResolver`], which hands the HTTP client only the
//! addresses that pass, so a name that resolves to a public address for the
//! check and to a private one for the connection (DNS rebinding) gets
//! nowhere. An IP literal in a URL is connected to without resolution:
//! callers check it with [`AddressPolicy::permits_host`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a hop was not made; shown to admins as is (it names no port or address).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("refused by address policy")]
pub struct PolicyRefused;

/// Addresses no redirect may reach, except those allowed by configuration.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Whether a URL's host may be connected to as far as can be told
    /// before resolution: an IP literal must be permitted; a name is
    /// checked by [`PolicyResolver`] on what it resolves to.
    pub fn permits_host(&self, host: &url::Host<&str>) -> bool {
        match host {
            url::Host::Ipv4(ip) => self.permits(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => self.permits(IpAddr::V6(*ip)),
            url::Host::Domain(_) => true,
        }
    }
}

/// Whether `ip` is an ordinary public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local() // 169.254/16, the cloud metadata service
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || (a == 198 && (18..20).contains(&b)) // benchmarking (RFC 2544)
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local, incl. fd00:ec2::254
                || (first & 0xffc0) == 0xfe80 // link local
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64 onto any IPv4
        }
    }
}

/// Resolves names and keeps only the addresses the policy permits.
pub struct PolicyResolver {
    policy: Arc<AddressPolicy>,
}

impl PolicyResolver {
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|addr| policy.permits(addr.ip()))
                .collect();
            if resolved.is_empty() {
                return Err(Box::new(PolicyRefused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(resolved.into_iter()) as Addrs)
        })
    }
}

/// Whether `error` (anywhere in its chain) is a policy refusal.
pub fn refused_by_policy(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<PolicyRefused>() {
            return true;
        }
        current = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_and_special_addresses_are_not_public() {
        for raw in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(raw.parse().expect("ip")), "{raw}");
        }
        for raw in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "1.1.1.1",
        ] {
            assert!(is_public(raw.parse().expect("ip")), "{raw}");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_names() {
        let policy = AddressPolicy::new(vec!["10.0.5.0/24".parse().expect("net")]);
        assert!(policy.permits("10.0.5.9".parse().expect("ip")));
        assert!(!policy.permits("10.0.6.9".parse().expect("ip")));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        let resolver = PolicyResolver::new(Arc::new(AddressPolicy::default()));
        let name: Name = "localhost".parse().expect("name");
        let error = resolver.resolve(name).await.err().expect("refused");
        assert!(refused_by_policy(error.as_ref()));
    }
}
