//! Granted origins (scheme, host, port) and which addresses count as
//! private: a granted host name that resolves to a loopback, private or
//! link-local address is refused unless the manifest says it may.

use std::net::IpAddr;

/// One granted origin: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or address, lowercase.
    pub host: String,
    /// Port (the scheme's default when not given).
    pub port: u16,
}

/// The port of `scheme` when a URL gives none.
pub fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

impl AllowedOrigin {
    /// Parse `https://host[:port]` or `http://host[:port]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: http::Uri = text
            .parse()
            .map_err(|e| format!("`{text}` is not an origin URL: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some("http") => "http",
            Some("https") => "https",
            _ => return Err(format!("`{text}`: the scheme must be http or https")),
        };
        let host = uri
            .host()
            .ok_or_else(|| format!("`{text}`: no host"))?
            .to_ascii_lowercase();
        if uri
            .path_and_query()
            .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
        {
            return Err(format!(
                "`{text}`: give an origin (scheme, host, port) without a path"
            ));
        }
        let port = uri.port_u16().unwrap_or(default_port(scheme));
        Ok(Self {
            scheme: scheme.to_owned(),
            host,
            port,
        })
    }

    /// Whether `uri` is on this origin.
    pub fn matches(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else { return false };
        let port = uri.port_u16().unwrap_or(default_port(scheme));
        self.scheme == scheme && self.host.eq_ignore_ascii_case(host) && self.port == port
    }

    /// The host as an address, when it is one (`[::1]` included).
    pub fn literal_ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }
}

/// Whether `ip` is reachable only inside a host or a private network:
/// loopback, private ranges, link-local, carrier-grade NAT, unique-local,
/// unspecified, or an IPv4-mapped IPv6 form of one of these.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "151.101.1.1", "2606:4700::1111"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn origins_with_paths_or_other_schemes_are_refused() {
        assert!(AllowedOrigin::parse("ftp://x").is_err());
        assert!(AllowedOrigin::parse("https://x/some/path").is_err());
        let o = AllowedOrigin::parse("http://127.0.0.1:8081").unwrap();
        assert_eq!(o.literal_ip(), Some("127.0.0.1".parse().unwrap()));
        assert!(
            AllowedOrigin::parse("https://api.example.com")
                .unwrap()
                .literal_ip()
                .is_none()
        );
    }
}
