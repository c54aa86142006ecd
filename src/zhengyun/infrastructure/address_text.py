"""Addresses and ranges as people type them, read strictly."""

import ipaddress


def plain_network(text, strict=True):
    """``ipaddress.ip_network`` without IPv6 zone ids (``fd00::%eth0/64``), which Python
    accepts and no firewall rule or NAT table does."""
    text = str(text).strip()
    if "%" in text:
        raise ValueError(f"{text!r} names a zone")
    return ipaddress.ip_network(text, strict=strict)


def plain_address(text):
    """``ipaddress.ip_address`` without IPv6 zone ids."""
    text = str(text).strip()
    if "%" in text:
        raise ValueError(f"{text!r} names a zone")
    return ipaddress.ip_address(text)
