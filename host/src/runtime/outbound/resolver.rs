//! DNS for plugin requests: names resolve as usual, but a name that resolves
//! to a private, loopback or link-local address is refused unless the
//! plugin's manifest lists it in `private_hosts`. The connection then goes to
//! the addresses checked here, so a name cannot be re-pointed in between.

use std::collections::HashSet;
use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::origin::is_private;

/// The resolver of one plugin's HTTP client.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    /// Host names (lowercase) that may resolve to private addresses.
    pub private_hosts: HashSet<String>,
}

/// A granted name resolved to an address the plugin may not reach.
#[derive(Debug, thiserror::Error)]
#[error("`{host}` resolves to the private address {address}, which the plugin is not granted")]
pub struct PrivateAddress {
    /// The name.
    pub host: String,
    /// The address it resolved to.
    pub address: std::net::IpAddr,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let may_be_private = self.private_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !may_be_private && let Some(private) = addrs.iter().find(|a| is_private(a.ip())) {
                return Err(Box::new(PrivateAddress {
                    host,
                    address: private.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}
