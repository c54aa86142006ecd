"""A real network edge: the NAT table as an nftables ruleset (R-I2).

The ruleset replaces the table ``inet zhengyun_nat`` as a whole — created empty if missing,
deleted and made again in one atomic ``nft -f`` transaction — so applying the same rules
twice leaves the same table. Every ruleset is checked by ``nft -c -f`` (no change to the
kernel, but it reads netfilter's state over netlink and so needs CAP_NET_ADMIN) before it
is kept; a refused one leaves the previous file and table in place.

URI: ``nftables:///state/dir`` keeps the checked ruleset (``zhengyun_nat.nft``) and the
table it came from (``rules.json``) there; with ``?load=1`` the ruleset is also loaded into
the kernel.
"""

import ipaddress
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .base import DriverError
from .edge_base import EdgeDriver, EgressRule, NatPair, NatRules

TABLE = "zhengyun_nat"
RULESET = "zhengyun_nat.nft"
STATE = "rules.json"
TIMEOUT_S = 30


def _family(address):
    return "ip6" if ipaddress.ip_address(address).version == 6 else "ip"


def render(rules: NatRules) -> str:
    """The nftables ruleset carrying ``rules``: DNAT for every pair in prerouting, SNAT in
    postrouting — pairs first, so a port's own address wins over its network's egress, and
    egress ranges narrowest first."""
    try:
        prerouting = [
            f"{_family(p.external)} daddr {p.external} dnat {_family(p.internal)} to {p.internal}"
            for p in rules.pairs
        ]
        postrouting = [
            f"{_family(p.internal)} saddr {p.internal} snat {_family(p.external)} to {p.external}"
            for p in rules.pairs
        ]
        egress = sorted(rules.egress, key=lambda r: (-ipaddress.ip_network(r.source).prefixlen, r))
        postrouting += [
            f"{_family(r.address)} saddr {ipaddress.ip_network(r.source)} "
            f"snat {_family(r.address)} to {r.address}"
            for r in egress
        ]
    except ValueError as exc:
        raise DriverError(f"The edge refuses the table: {exc}") from None

    def chain(name, hook, priority, lines):
        body = "".join(f"\t\t{line}\n" for line in lines)
        return (
            f"\tchain {name} {{\n"
            f"\t\ttype nat hook {hook} priority {priority}; policy accept;\n"
            f"{body}\t}}\n"
        )

    return (
        f"table inet {TABLE}\n"
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n"
        + chain("prerouting", "prerouting", "dstnat", prerouting)
        + chain("postrouting", "postrouting", "srcnat", postrouting)
        + "}\n"
    )


class NftablesEdgeDriver(EdgeDriver):
    """An edge host's NAT, written as an nftables ruleset and checked by ``nft``."""

    def __init__(self, uri: str):
        super().__init__(uri)
        parts = urlsplit(uri)
        if parts.scheme != "nftables" or not parts.path.startswith("/"):
            raise DriverError(f"Not an nftables edge URI: {uri!r}.")
        self.directory = Path(parts.path)
        self.load = parse_qs(parts.query).get("load", ["0"])[0] == "1"
        self.nft = shutil.which("nft") or "/usr/sbin/nft"

    def apply(self, rules):
        text = render(rules)
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.directory, suffix=".nft", delete=False
        ) as draft:
            draft.write(text)
        try:
            self._nft("-c", "-f", draft.name)
            if self.load:
                self._nft("-f", draft.name)
            os.replace(draft.name, self.directory / RULESET)
        finally:
            Path(draft.name).unlink(missing_ok=True)
        state = self.directory / STATE
        state.with_suffix(".tmp").write_text(json.dumps(asdict(rules)))
        os.replace(state.with_suffix(".tmp"), state)

    def rules(self):
        try:
            data = json.loads((self.directory / STATE).read_text())
        except FileNotFoundError:
            return NatRules()
        return NatRules(
            pairs=tuple(NatPair(**p) for p in data["pairs"]),
            egress=tuple(EgressRule(**e) for e in data["egress"]),
        )

    def _nft(self, *args):
        try:
            done = subprocess.run(
                [self.nft, *args], capture_output=True, text=True, timeout=TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DriverError(f"nft could not be run: {exc}") from None
        if done.returncode != 0:
            raise DriverError(f"nft refused the ruleset: {done.stderr.strip()[:500]}")
