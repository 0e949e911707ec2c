"""Server-side request forgery: feedhub fetches URLs that people and servers give it,
and must never be turned against the machine it runs on or the networks behind it.

- every spelling of loopback, private, link-local, metadata and translated addresses is
  refused, fetched directly and as a redirect target, with no request reaching the
  listener behind it (``Canary``);
- the address classifier, property-tested across the IPv4 and IPv6 special ranges;
- the connection goes to the address that was checked (pinned), with the original
  host in ``Host``; proxies, ``.netrc`` and cookies are not picked up.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
from collections import namedtuple

import pytest
from flask import Flask, Response, request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedhub.addresses import AddressPolicy, refusal
from feedhub.emulator.server import serve_in_thread
from feedhub.fetch import FetchPolicy, Fetcher, Outcome

from .canary import Canary
from .conftest import start_emulator

# The special-purpose registries (RFC 6890 and updates), written out again here from the
# RFCs, independently of feedhub.addresses: an address in any of these is refused.
IPV4_SPECIAL = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
]
IPV6_SPECIAL = [
    "::/128", "::1/128", "::ffff:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
    "2001::/32", "2001:2::/48", "2001:10::/28", "2001:20::/28", "2001:db8::/32", "2002::/16",
    "3fff::/20", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
]
_V4 = [ipaddress.IPv4Network(n) for n in IPV4_SPECIAL]
_V6 = [ipaddress.IPv6Network(n) for n in IPV6_SPECIAL]
STRICT = FetchPolicy(allow_private_networks=False, connect_timeout=1, read_timeout=1, total_timeout=3)

# Loopback in the spellings that reach it through getaddrinfo, as URL hosts. The
# canary listens on 127.0.0.1, so each of these would reach it if allowed.
LOOPBACK_SPELLINGS = [
    "127.1", "127.0.1", "2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "0177.1", "127.000.000.001",
    "localhost", "LOCALHOST", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]", "0", "0.0.0.0",
]
# Other places a URL must not lead to (nothing listens there; refused before connecting).
OTHER_TARGETS = [
    "169.254.169.254", "[fd00:ec2::254]", "100.100.100.200", "192.0.0.192", "10.0.0.1", "172.16.5.4", "192.168.1.1",
    "[::1]", "[fe80::1]", "[fc00::1]", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::]", "[::a9fe:a9fe]", "224.0.0.1",
    "255.255.255.255",
]


def _in_special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in (_V4 if address.version == 4 else _V6))


@pytest.fixture(scope="module")
def canary():
    listener = Canary()
    yield listener
    listener.stop()


@pytest.fixture(scope="module")
def emulator():
    emulated, server = start_emulator()
    yield emulated
    server.stop()


@pytest.fixture
def strict():
    fetcher = Fetcher(STRICT)
    yield fetcher
    fetcher.close()


@pytest.fixture
def allowing_the_emulator():
    """Private networks off; only the emulator's own host, exactly as written, allowed."""
    fetcher = Fetcher(FetchPolicy(allow_private_networks=False, allowed_hosts=frozenset({"127.0.0.1"}), connect_timeout=1, read_timeout=1, total_timeout=3))
    yield fetcher
    fetcher.close()


# -- every spelling, fetched and redirected to ---------------------------------------------


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS + OTHER_TARGETS)
def test_refused_when_fetched(strict, canary, host):
    canary.reset()
    result = strict.fetch(f"http://{host}:{canary.port}/latest/meta-data/?token=SSRFSECRET1")
    assert result.outcome is Outcome.BLOCKED_ADDRESS, result.message
    assert "SSRFSECRET1" not in result.message
    assert canary.hits == []


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS + OTHER_TARGETS)
def test_refused_as_a_redirect_target(allowing_the_emulator, emulator, canary, host):
    canary.reset()
    emulator.clear_faults()
    emulator.add_fault("rental_history", status=302, location=f"http://{host}:{canary.port}/internal")
    url = emulator.feed_url(emulator.base_url, 0, "watched")
    result = allowing_the_emulator.fetch(url)
    assert result.outcome is Outcome.BLOCKED_ADDRESS, result.message
    assert canary.hits == []
    emulator.clear_faults()


def test_the_allow_list_lets_through_exactly_what_it_names(allowing_the_emulator, emulator, canary):
    emulator.clear_faults()
    assert allowing_the_emulator.fetch(emulator.feed_url(emulator.base_url, 0, "watched")).outcome is Outcome.OK
    canary.reset()
    assert allowing_the_emulator.fetch(f"http://127.0.0.1:{canary.port}/").outcome is Outcome.OK
    assert len(canary.hits) == 1  # the named host is reached; its other spellings are not (above)


def test_a_permanent_redirect_to_a_private_address_is_never_adopted(allowing_the_emulator, emulator, canary):
    emulator.clear_faults()
    emulator.add_fault("rental_history", status=301, location=f"http://10.0.0.7:{canary.port}/feed")
    result = allowing_the_emulator.fetch(emulator.feed_url(emulator.base_url, 0, "watched"))
    assert result.outcome is Outcome.BLOCKED_ADDRESS and result.permanent_redirect is None
    emulator.clear_faults()


# -- the classifier, property-tested -------------------------------------------------------


def _inside(networks):
    return st.sampled_from(networks).flatmap(
        lambda n: st.integers(0, n.num_addresses - 1).map(lambda i: n.network_address + i)
    )


# No example database: the tests leave nothing behind in the working tree.
EXAMPLES = settings(database=None, max_examples=300)


@EXAMPLES
@given(_inside(_V4))
def test_every_ipv4_special_address_is_refused(address):
    assert refusal(str(address)) is not None


@EXAMPLES
@given(_inside(_V6))
def test_every_ipv6_special_address_is_refused(address):
    assert refusal(str(address)) is not None


@EXAMPLES
@given(st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_an_ipv4_address_is_refused_exactly_when_it_is_special(address):
    assert (refusal(str(address)) is not None) == _in_special(address)


@EXAMPLES
@given(st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_ipv4_addresses_wrapped_in_ipv6_are_refused_whatever_they_hold(address):
    # IPv4-mapped, IPv4-compatible, NAT64 (well-known and local-use) and 6to4 forms.
    wrapped = [
        ipaddress.IPv6Address(f"::ffff:{address}"),
        ipaddress.IPv6Address(int(address)),
        ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) + int(address)),
        ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b:1::")) + int(address)),
        ipaddress.IPv6Address(int(ipaddress.IPv6Address("2002::")) + (int(address) << 80)),
    ]
    assert all(refusal(str(a)) is not None for a in wrapped)


@EXAMPLES
@given(st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address))
def test_an_ipv6_address_passes_only_as_global_unicast_outside_the_special_ranges(address):
    public = address in ipaddress.IPv6Network("2000::/3") and not _in_special(address)
    assert (refusal(str(address)) is None) == public


@EXAMPLES
@given(st.integers(0, 2**32 - 1), st.sampled_from(["dotted", "decimal", "hex", "octal", "short2", "short3", "hexparts"]))
def test_every_numeric_spelling_resolves_to_the_same_verdict(value, form):
    """What getaddrinfo makes of each numeric spelling (inet_aton's forms) is what is
    judged, so no spelling can slip past."""
    a, b, c, d = ipaddress.IPv4Address(value).packed
    spelling = {
        "dotted": f"{a}.{b}.{c}.{d}",
        "decimal": str(value),
        "hex": hex(value),
        "octal": f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",
        "short2": f"{a}.{value & 0xFFFFFF}",
        "short3": f"{a}.{b}.{(c << 8) | d}",
        "hexparts": f"{a:#x}.{b:#x}.{c:#x}.{d:#x}",
    }[form]
    resolved = [info[4][0] for info in socket.getaddrinfo(spelling, 80, type=socket.SOCK_STREAM)]
    assert resolved == [str(ipaddress.IPv4Address(value))]
    verdict = AddressPolicy().refusal(spelling, resolved)
    assert (verdict is None) == (not _in_special(ipaddress.IPv4Address(value)))


@settings(database=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(max_size=60))
def test_fetching_any_text_as_a_url_never_raises_nor_echoes_it(strict, text):
    url = f"http://{text}/?token=ANYSECRET9"
    result = strict.fetch(url)
    assert isinstance(result.outcome, Outcome) and not result.outcome.healthy
    assert "ANYSECRET9" not in result.message


# -- where the connection goes ---------------------------------------------------------------


class _Recorder:
    """An origin that records the requests it gets, and sets a cookie."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        app = Flask("recorder")

        @app.get("/<path:path>")
        def any_path(path: str) -> Response:
            self.requests.append({k.lower(): v for k, v in request.headers.items()})
            response = Response(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>', content_type="application/atom+xml")
            response.set_cookie("session", "ORIGINSESSION1")
            return response

        self.server = serve_in_thread(app)


@pytest.fixture
def recorder():
    made = _Recorder()
    yield made
    made.server.stop()


def test_the_connection_is_pinned_to_the_checked_address_with_the_host_kept(recorder):
    """The name resolves once per hop; the connection goes to that address whatever the
    resolver would say next (DNS rebinding), and the server sees the name in Host."""
    calls: list[str] = []
    answers = iter([["127.0.0.1"]] + [["10.9.9.9"]] * 10)

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    fetcher = Fetcher(FetchPolicy(allowed_hosts=frozenset({"feeds.example"})), resolver=rebinding)
    try:
        result = fetcher.fetch(f"http://feeds.example:{recorder.server.port}/feed")
    finally:
        fetcher.close()
    assert result.outcome is Outcome.OK
    assert calls == ["feeds.example"]
    assert recorder.requests[-1]["host"] == f"feeds.example:{recorder.server.port}"


def test_a_name_resolving_to_loopback_is_refused_after_resolution(recorder):
    fetcher = Fetcher(STRICT, resolver=lambda host, port: ["93.184.216.34", "127.0.0.1"])
    try:
        result = fetcher.fetch(f"http://innocent.example:{recorder.server.port}/feed")
    finally:
        fetcher.close()
    assert result.outcome is Outcome.BLOCKED_ADDRESS and "127.0.0.1" in result.message
    assert recorder.requests == []


def test_proxies_netrc_and_cookies_from_elsewhere_are_not_used(recorder, canary, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password NETRCSECRET1\n")
    netrc.chmod(0o600)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, canary.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("NETRC", str(netrc))
    canary.reset()
    fetcher = Fetcher(FetchPolicy(allow_private_networks=True))
    try:
        first = fetcher.fetch(recorder.server.url + "a")
        second = fetcher.fetch(recorder.server.url + "b")
    finally:
        fetcher.close()
    assert first.outcome is Outcome.OK and second.outcome is Outcome.OK
    assert canary.hits == []  # no proxy
    assert "authorization" not in recorder.requests[0]  # no .netrc
    assert "cookie" not in recorder.requests[1]  # the first answer's cookie was not kept


def test_concurrent_fetches_keep_their_own_deadlines(recorder):
    """Deadlines are per fetch: many threads fetching at once all finish normally."""
    fetcher = Fetcher(FetchPolicy(allow_private_networks=True, total_timeout=5))
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def fetch() -> None:
        result = fetcher.fetch(recorder.server.url + "feed")
        with lock:
            outcomes.append(result.outcome)

    threads = [threading.Thread(target=fetch) for _ in range(16)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        fetcher.close()
    assert outcomes == [Outcome.OK] * 16


# -- pinned over TLS: SNI and the certificate still name the host ---------------------------


def _certificate(tmp_path, host: str):
    """A self-signed certificate for ``host`` (and its key), as PEM files."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{host}.pem", tmp_path / f"{host}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file


class _TLSOrigin:
    """An HTTPS server on 127.0.0.1 with a certificate for one host name; it records the
    SNI name and the Host header of each request."""

    def __init__(self, cert_file, key_file) -> None:
        import ssl

        self.sni: list[str | None] = []
        self.hosts: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        context.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self.port = self._socket.getsockname()[1]
        threading.Thread(target=self._serve, args=(context,), daemon=True).start()

    def _serve(self, context) -> None:
        while True:
            try:
                plain, _ = self._socket.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(plain, server_side=True) as tls:
                    head = tls.recv(4096).decode("latin-1")
                    self.hosts += [line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("host:")]
                    body = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>tls</title></feed>'
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            except OSError:
                continue  # a client that refused the certificate

    def stop(self) -> None:
        self._socket.close()


def test_over_tls_the_pinned_connection_still_checks_the_hosts_certificate(tmp_path):
    cert_file, key_file = _certificate(tmp_path, "feeds.example")
    origin = _TLSOrigin(cert_file, key_file)
    fetcher = Fetcher(
        FetchPolicy(allowed_hosts=frozenset({"feeds.example", "impostor.example"})),
        resolver=lambda host, port: ["127.0.0.1"],
        ca_file=str(cert_file),  # trust this one self-signed certificate, for the test only
    )
    try:
        good = fetcher.fetch(f"https://feeds.example:{origin.port}/feed")
        # The same server, reached as another name: its certificate does not name it.
        bad = fetcher.fetch(f"https://impostor.example:{origin.port}/feed")
    finally:
        fetcher.close()
        origin.stop()
    assert good.outcome is Outcome.OK, good.message
    assert origin.sni[0] == "feeds.example" and origin.hosts == [f"feeds.example:{origin.port}"]
    assert bad.outcome is Outcome.CONNECTION_ERROR and "SSLError" in bad.message


def test_curl_may_open_a_socket_to_the_pinned_address_only():
    """The second check: whatever curl made of a URL, it connects to the checked address
    or nowhere (its open-socket callback refuses any other)."""
    import pycurl

    from feedhub import fetch as fetch_module

    address = namedtuple("address", "family socktype protocol addr")
    fetcher = Fetcher(STRICT)
    transfer = fetch_module._Transfer(fetch_module.Request(None, "http://feeds.example/"), fetcher)
    transfer.address = "2001:db8::1"
    elsewhere = address(socket.AF_INET, socket.SOCK_STREAM, 0, ("10.0.0.1", 80))
    assert transfer._open_socket(pycurl.SOCKTYPE_IPCXN, elsewhere) == pycurl.SOCKET_BAD
    pinned = address(socket.AF_INET6, socket.SOCK_STREAM, 0, ("2001:0db8:0::1", 80, 0, 0))  # another spelling of it
    made = transfer._open_socket(pycurl.SOCKTYPE_IPCXN, pinned)
    assert isinstance(made, socket.socket)
    made.close()
    fetcher.close()
