"""``zhengyun bench scheduler``: the issue's figures as one JSON object keyed by policy (R-I4,
R-G3). A small trace keeps it quick; the full run, and pack against every peer, is in
docs/benchmarks.md."""

import json

from django.core.management import call_command

PEERS = {
    "pack",
    "spread",
    "nova_stack",
    "nova_spread",
    "k8s_least_allocated",
    "k8s_most_allocated",
    "k8s_balanced_allocation",
    "cloudstack_firstfit",
    "cloudstack_firstfitleastconsumed",
    "ffd",
}
FIGURES = {
    "active_hosts_ratio_to_lower_bound",
    "energy_kwh",
    "decisions_per_s",
    "p99_decision_ms",
    "fragmentation",
}


def test_the_command_prints_every_policy_with_its_figures(capsys):
    call_command(
        "bench", "scheduler", "--hosts", "40", "--arrivals", "400", "--seed", "1", "--json"
    )
    results = json.loads(capsys.readouterr().out)
    assert set(results) == PEERS
    for name, figures in results.items():
        assert set(figures) >= FIGURES, name
        # Nobody packs below the lower bound.
        assert figures["active_hosts_ratio_to_lower_bound"] >= 1.0, name
    # Spreading keeps more hosts running than packing, whatever the trace.
    assert (
        results["spread"]["active_hosts_ratio_to_lower_bound"]
        > results["pack"]["active_hosts_ratio_to_lower_bound"]
    )
