//! The browser's address, which a token is bound to: the socket's peer, or —
//! only when that peer is a trusted proxy — the right-most `X-Forwarded-For`
//! hop that is not itself a trusted proxy. Hops left of it are written by the
//! client and never believed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

use crate::error::MintError;

/// An address block such as `10.0.0.0/8` or `::1/128` (a bare address is a
/// block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a `--trusted-proxy` value is not a CIDR block.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an address or a CIDR block (e.g. 10.0.0.0/8, fd00::/8)")]
pub struct BadCidr(String);

impl FromStr for IpNet {
    type Err = BadCidr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadCidr(text.to_string());
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let addr = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl IpNet {
    /// Whether `ip` is in this block (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn masked(bits: u128, width: u32, prefix: u8) -> u128 {
            if prefix == 0 {
                0
            } else {
                bits >> (width - u32::from(prefix))
            }
        }
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix)
                    == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// The browser's address for a request from `peer` with `headers`.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Result<IpAddr, MintError> {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Ok(peer);
    }
    // Several header fields are one list, in order (RFC 9110 §5.3).
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let value = value.to_str().map_err(|_| MintError::BadForwardedFor)?;
        hops.extend(value.split(',').map(str::trim));
    }
    let mut client = peer;
    for hop in hops.iter().rev() {
        let ip = parse_hop(hop).ok_or(MintError::BadForwardedFor)?;
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Ok(client)
}

/// An address as proxies write them: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cidr_blocks_parse_and_match_both_families() {
        let net: IpNet = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")) && !net.contains(ip("10.2.0.1")));
        assert!(
            net.contains(ip("::ffff:10.1.0.9")),
            "IPv4-mapped IPv6 is IPv4"
        );
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/", "::/129"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies_and_only_up_to_the_first_untrusted_hop()
    {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let spoofed = xff(&["6.6.6.6, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(
            client_ip(ip("198.51.100.1"), &spoofed, &trusted).unwrap(),
            ip("198.51.100.1"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &spoofed, &trusted).unwrap(),
            ip("203.0.113.9"),
            "the right-most untrusted hop, not the client-written left one"
        );
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &xff(&["6.6.6.6", "203.0.113.9:4711"]),
                &trusted
            )
            .unwrap(),
            ip("203.0.113.9"),
            "several headers are one list; ports are dropped"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted).unwrap(),
            ip("10.0.0.2"),
            "no header: the proxy itself"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &xff(&["10.0.0.3"]), &trusted).unwrap(),
            ip("10.0.0.3"),
            "all hops trusted: the left-most"
        );
        assert!(client_ip(ip("10.0.0.2"), &xff(&["1.1.1.1, junk"]), &trusted).is_err());
        assert_eq!(
            client_ip(ip("10.0.0.2"), &xff(&["junk, 1.1.1.1"]), &trusted).unwrap(),
            ip("1.1.1.1"),
            "junk left of the client hop is never read"
        );
    }
}
