//! Who sent a request and over which scheme: the TCP peer, or — only when that peer is one of
//! `server.trusted_proxies` — what the reverse proxy in front says (`Forwarded`, RFC 7239, or
//! `X-Forwarded-For` / `X-Forwarded-Proto`).
//!
//! Anyone can write those headers, so believing them from any peer would let a client choose the
//! address in the logs (and hide behind another's) or pass for HTTPS over plain HTTP. The layer
//! [`believe`], installed by [`crate::server`] around the whole router, therefore decides once per
//! request and leaves the request as the rest of the service should see it:
//! - a [`Client`] extension with the client's address and whether it came over HTTPS;
//! - the forwarded headers removed, and `X-Forwarded-Proto` set to the believed scheme (`https` or
//!   `http`), which is what [`crate::web::cookies::is_tls`] reads to mark cookies `Secure`;
//! - a tracing span `client{ip=…}` around the request, so every log line of it names the client.
//!
//! The client of a chain `X-Forwarded-For: a, b, c` seen from trusted peer `p` is the right-most
//! address that is not itself a trusted proxy (a client can prepend anything, but each trusted proxy
//! appends the address it saw). Default: trust nobody.

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// What the service believes about a request's origin (a request extension set by [`believe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the peer's, or the one a trusted proxy forwarded; `None` when the
    /// request did not come through a socket the service accepted (an in-process call).
    pub ip: Option<IpAddr>,
    /// Whether the client's request reached us over HTTPS (our own TLS, or a trusted proxy's).
    pub https: bool,
}

/// Marks a request that arrived over the service's own TLS listener (set by [`crate::server`]).
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// The proxies whose forwarded headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    /// Parses `server.trusted_proxies` entries (`10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| IpNet::from_str(entry.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| TrustedProxies(Arc::new(nets)))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(ip))
    }
}

/// An address or a network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    address: IpAddr,
    prefix_bits: u8,
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address = IpAddr::from_str(address)
            .map_err(|_| format!("{text:?} is not an IP address or a network such as 10.0.0.0/8"))?
            .to_canonical();
        let max_bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix_bits = match prefix {
            None => max_bits,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|bits| *bits <= max_bits)
                .ok_or_else(|| format!("{text:?}: the prefix must be 0 to {max_bits}"))?,
        };
        Ok(IpNet {
            address,
            prefix_bits,
        })
    }
}

impl IpNet {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_bits))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_bits))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The headers a proxy uses to say who the client was; removed once read.
const FORWARDED_HEADERS: [&str; 5] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
];

/// The layer: decides the [`Client`] of the request (see the module documentation).
pub async fn believe(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_canonical());
    let over_tls = request.extensions().get::<OverTls>().is_some();
    let client = decide(&trusted, peer, over_tls, request.headers());
    let headers = request.headers_mut();
    for name in FORWARDED_HEADERS {
        headers.remove(name);
    }
    headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static(if client.https { "https" } else { "http" }),
    );
    request.extensions_mut().insert(client);
    let ip = client
        .ip
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "-".into());
    let mut response = next
        .run(request)
        .instrument(tracing::info_span!("client", ip = %ip))
        .await;
    if over_tls {
        // Our own TLS: browsers then refuse plain HTTP to this host for a year (a proxy that
        // terminates TLS sets its own).
        response
            .headers_mut()
            .entry(axum::http::header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// The client of a request from `peer` with `headers` (pure, for the layer and its tests).
pub fn decide(
    trusted: &TrustedProxies,
    peer: Option<IpAddr>,
    over_tls: bool,
    headers: &HeaderMap,
) -> Client {
    let direct = Client {
        ip: peer,
        https: over_tls,
    };
    let Some(peer_ip) = peer else {
        return direct;
    };
    if !trusted.contains(peer_ip) {
        return direct;
    }
    let (chain, proto) = match forwarded_elements(headers) {
        Some(elements) => elements,
        None => (
            header_list(headers, "x-forwarded-for")
                .into_iter()
                .map(|text| parse_node(&text))
                .collect(),
            header_list(headers, "x-forwarded-proto").pop(),
        ),
    };
    // Walk from the nearest hop outwards while the hops are our own proxies.
    let mut client_ip = peer_ip;
    for hop in chain.iter().rev() {
        if !trusted.contains(client_ip) {
            break;
        }
        match hop {
            Some(ip) => client_ip = *ip,
            // `unknown`, an obfuscated name or garbage: the last proxy is all we know.
            None => break,
        }
    }
    let https = match proto {
        Some(proto) => proto.eq_ignore_ascii_case("https"),
        None => over_tls,
    };
    Client {
        ip: Some(client_ip),
        https,
    }
}

/// The comma-separated values of every `name` header, in order.
fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.trim().to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

/// The `for=` chain and the nearest `proto=` of RFC 7239 `Forwarded` headers; `None` when absent.
#[allow(clippy::type_complexity)]
fn forwarded_elements(headers: &HeaderMap) -> Option<(Vec<Option<IpAddr>>, Option<String>)> {
    let elements = header_list(headers, "forwarded");
    if elements.is_empty() {
        return None;
    }
    let mut chain = Vec::new();
    let mut proto = None;
    for element in elements {
        let mut node = None;
        for pair in element.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            if key.trim().eq_ignore_ascii_case("for") {
                node = Some(parse_node(value));
            } else if key.trim().eq_ignore_ascii_case("proto") {
                proto = Some(value.to_string());
            }
        }
        chain.push(node.flatten());
    }
    Some((chain, proto))
}

/// An address from `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = IpAddr::from_str(text) {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest
            .split_once(']')
            .and_then(|(ip, _)| IpAddr::from_str(ip).ok())
            .map(|ip| ip.to_canonical());
    }
    text.rsplit_once(':')
        .and_then(|(ip, _port)| IpAddr::from_str(ip).ok())
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn networks_parse_and_match() {
        let trusted =
            TrustedProxies::parse(&["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"]).unwrap();
        assert!(trusted.contains(ip("10.20.30.40")));
        assert!(trusted.contains(ip("192.168.1.7")));
        assert!(!trusted.contains(ip("192.168.1.8")));
        assert!(trusted.contains(ip("fd12::1")));
        assert!(trusted.contains(ip("::1")));
        assert!(!trusted.contains(ip("127.0.0.1")));
        // An IPv4 peer seen on a dual-stack socket.
        assert!(trusted.contains(ip("::ffff:10.1.2.3")));
        assert!(TrustedProxies::parse(&["0.0.0.0/0"])
            .unwrap()
            .contains(ip("203.0.113.9")));
        for wrong in ["10.0.0.0/33", "proxy.local", "10.0.0/8", "::1/129", ""] {
            assert!(TrustedProxies::parse(&[wrong]).is_err(), "{wrong}");
        }
    }

    #[test]
    fn nobody_is_trusted_by_default() {
        let none = TrustedProxies::default();
        let client = decide(
            &none,
            Some(ip("203.0.113.9")),
            false,
            &headers(&[
                ("x-forwarded-for", "198.51.100.1"),
                ("x-forwarded-proto", "https"),
            ]),
        );
        assert_eq!(
            client,
            Client {
                ip: Some(ip("203.0.113.9")),
                https: false
            }
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_the_scheme() {
        let trusted = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let from_proxy = |pairs| decide(&trusted, Some(ip("127.0.0.1")), false, &headers(pairs));
        // A client-supplied first entry is ignored: the right-most untrusted hop is the client.
        let client = from_proxy(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.1, 10.1.1.1"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(client.ip, Some(ip("198.51.100.1")));
        assert!(client.https);
        // RFC 7239 wins over X-Forwarded-*; quoted IPv6 with a port.
        let client = from_proxy(&[
            ("forwarded", "for=\"[2001:db8::7]:4711\";proto=https"),
            ("x-forwarded-for", "6.6.6.6"),
        ]);
        assert_eq!(client.ip, Some(ip("2001:db8::7")));
        assert!(client.https);
        // An obfuscated hop: the proxy's own address is the best we know.
        let client = from_proxy(&[("forwarded", "for=_hidden;proto=http")]);
        assert_eq!(client.ip, Some(ip("127.0.0.1")));
        assert!(!client.https);
        // No forwarded headers at all: the peer, over what it used.
        let client = decide(&trusted, Some(ip("127.0.0.1")), true, &HeaderMap::new());
        assert_eq!(client.ip, Some(ip("127.0.0.1")));
        assert!(client.https);
    }
}
