"""Which network addresses feedhub may connect to when it fetches a source.

A source URL comes from a person, and every redirect comes from a server: either can
point at the machine feedhub runs on, its network, or a cloud metadata service
(server-side request forgery). ``refusal`` says why an address is refused; only
globally routable unicast addresses pass. The tables are written out here, from the
IANA special-purpose address registries (RFC 6890 and its updates), rather than taken
from ``ipaddress.is_global``, whose answers depend on the Python release (CPython
issue 113171) and which lets NAT64, 6to4 and IPv4-compatible addresses through.

Pure: text in, answers out. Resolving names and connecting is ``fetch``'s job; it
checks the addresses a name resolves to, so every spelling of an address (``127.1``,
``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) is judged by what it is.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv4 blocks that are not globally reachable unicast, with the reason shown to people.
_IPV4_REFUSED: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "a 'this network' address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),  # also Alibaba's metadata service
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),  # the cloud metadata service lives here
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol address"),  # Oracle's metadata service lives here
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),  # includes 255.255.255.255
    )
)

# IPv6: only global unicast (2000::/3) may pass, which leaves out loopback, unspecified,
# IPv4-mapped and -compatible (::/8), NAT64 (64:ff9b::/96 and 64:ff9b:1::/48),
# discard (100::/64), unique-local (fc00::/7, AWS metadata among them), link-local
# and site-local (fe80::/10, fec0::/10) and multicast (ff00::/8). Within it:
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_IPV6_REFUSED: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(network), reason)
    for network, reason in (
        ("2001::/23", "an IETF protocol address"),  # Teredo, benchmarking, ORCHID
        ("2001:db8::/32", "a documentation address"),
        ("2002::/16", "a 6to4 address"),  # embeds an IPv4 address, reached through a relay
        ("3fff::/20", "a documentation address"),
    )
)


_NAT64 = ipaddress.IPv6Network("64:ff9b::/32")  # 64:ff9b::/96 and 64:ff9b:1::/48
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")


def parse_address(text: str) -> IPAddress:
    """An IP address from ``getaddrinfo``'s text form (an IPv6 zone, ``%eth0``, dropped)."""
    return ipaddress.ip_address(text.split("%", 1)[0])


def refusal(address: str | IPAddress) -> str | None:
    """Why feedhub must not connect to ``address`` (e.g. "a loopback address"), or None
    when it is a globally routable unicast address."""
    ip = parse_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv4Address):
        return next((reason for network, reason in _IPV4_REFUSED if ip in network), None)
    if ip.ipv4_mapped is not None:
        return "an IPv4-mapped address"
    if ip not in _IPV6_GLOBAL_UNICAST:
        return _outside_global_unicast(ip)
    return next((reason for network, reason in _IPV6_REFUSED if ip in network), None)


def _outside_global_unicast(ip: ipaddress.IPv6Address) -> str:
    """The reason shown for an IPv6 address outside 2000::/3 (all of them are refused)."""
    if ip.is_loopback:
        return "a loopback address"
    if ip in _NAT64:
        return "a NAT64 address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_site_local:
        return "a site-local address"
    if ip in _UNIQUE_LOCAL:
        return "a unique-local address"
    if ip.is_multicast:
        return "a multicast address"
    return "a reserved address"


@dataclass(frozen=True)
class AddressPolicy:
    """Where fetching may go: public addresses always; private ones only when
    ``allow_private_networks`` is on (the demo, emulator-based tests) or the URL's host
    is one the admin listed in ``allowed_hosts`` (``FEEDHUB_ALLOWED_HOSTS``)."""

    allow_private_networks: bool = False
    allowed_hosts: frozenset[str] = frozenset()

    def refusal(self, host: str, addresses: list[str]) -> str | None:
        """Why ``host``, which resolved to ``addresses``, must not be connected to; None if
        it may. Every address must pass, not just the first: the connection is pinned
        to the first, but a refused one among them shows the name is not what it seems."""
        if self.allow_private_networks or host_key(host) in self.allowed_hosts:
            return None
        if not addresses:
            return f"{host} has no address"
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                shown = host if host == address else f"{host} ({address})"
                return f"{shown} is {reason}, which feedhub does not connect to"
        return None


def host_key(host: str) -> str:
    """How a host is compared with the allow-list: as written in the URL, lower case,
    IPv6 brackets removed. No other normalisation: ``127.1`` does not match
    ``127.0.0.1``, so an entry allows exactly what the admin wrote and nothing else."""
    return host.strip().strip("[]").lower()
