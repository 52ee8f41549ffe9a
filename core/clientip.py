"""The visitor's real address behind the configured reverse proxies, and nothing a visitor can forge.

``TRUSTED_PROXIES`` lists the proxies' addresses or networks. Only when the direct peer is one of them are
``X-Forwarded-For`` (read right to left, skipping trusted hops) and ``X-Forwarded-Proto`` believed; from anyone
else the forwarded headers are dropped before any view, throttle or cache sees them.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
MAX_HOPS = 20


@lru_cache(maxsize=8)
def _networks(entries):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_networks():
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _parse(value):
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_trusted(address, networks=None):
    networks = trusted_networks() if networks is None else networks
    return address is not None and any(address in network for network in networks)


def resolve(meta):
    """(client address, whether the forwarded headers came from a trusted proxy)."""
    networks = trusted_networks()
    peer = _parse(meta.get("REMOTE_ADDR", ""))
    if not is_trusted(peer, networks):
        return (str(peer) if peer else ""), False
    hops = [h for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()][-MAX_HOPS:]
    client = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break  # garbage in the chain: stop at the last address a trusted proxy vouched for
        client = address
        if not is_trusted(address, networks):
            break
    return str(client), True


def client_ip(request):
    return getattr(request, "client_ip", None) or resolve(request.META)[0] or "unknown"


class TrustedProxyMiddleware:
    """First in the chain: REMOTE_ADDR becomes the real client, untrusted forwarded headers are removed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        address, trusted = resolve(request.META)
        if not trusted:
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        request.META["REMOTE_ADDR"] = address
        request.client_ip = address or "unknown"
        return self.get_response(request)
