"""The three links of an event: audience, screen, moderator (key in the URL fragment)."""

from __future__ import annotations

import ipaddress
import socket

from flask import current_app, request

LAN_URL = "qa.lan_url"  # app.extensions: http://<LAN address>:<port>, set by serve/demo on 0.0.0.0
VIRTUAL = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "podman", "cni")


def base_url() -> str:
    """The public base URL: QA_PUBLIC_URL, else the request's host (a trusted one: the host
    guard of qa_app.hosts refuses any other before a view runs), else localhost. A page opened
    as localhost on a server listening on every address gets the machine's LAN address instead,
    so that the screen's QR code and the printed links work on phones in the hall."""
    configured = current_app.config.get("QA_PUBLIC_URL")
    if configured:
        return configured
    if request:
        lan = current_app.extensions.get(LAN_URL)
        if lan and _is_loopback(request.host):
            return lan
        return request.host_url.rstrip("/")
    return "http://localhost:5000"


def _is_loopback(host: str) -> bool:
    """Whether a Host header (name and port) names this machine's loopback."""
    host = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """This machine's IPv4 address on its network (the one its default route leaves from; else
    the first address of an interface that is up and not loopback, link-local or a container
    bridge); None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))  # UDP: picks a route, sends nothing
            address = probe.getsockname()[0]
        except OSError:
            address = None
    if address and _usable(address):
        return address
    import psutil

    stats = psutil.net_if_stats()
    for name, addresses in psutil.net_if_addrs().items():
        if name.startswith(VIRTUAL) or not (name in stats and stats[name].isup):
            continue
        for entry in addresses:
            if entry.family == socket.AF_INET and _usable(entry.address):
                return entry.address
    return None


def _usable(address: str) -> bool:
    """An address a phone on the same network could open."""
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def event_links(code: str, moderator_key: str | None = None, base: str | None = None) -> dict:
    """Audience, screen and moderator links of an event."""
    root = (base or base_url()).rstrip("/")
    moderator = f"{root}/e/{code}/moderate"
    if moderator_key:
        moderator += f"#key={moderator_key}"
    return {
        "audience": f"{root}/e/{code}",
        "screen": f"{root}/e/{code}/screen",
        "moderator": moderator,
    }
