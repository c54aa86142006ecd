"""``zhengyun bench scheduler [--hosts N] [--arrivals M] [--population P] [--seed S] [--json]``:
replay a seeded placement trace with the platform's scheduler and the peers' policies and
print the table, or one JSON object keyed by policy (``scheduler.bench``)."""

import argparse

from django.core.management.base import BaseCommand

from zhengyun.infrastructure.scheduler import bench


class Command(BaseCommand):
    help = "Run a benchmark: scheduler (placement against the peers' policies)."

    def add_arguments(self, parser):
        parser.add_argument("benchmark", choices=["scheduler"])
        parser.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own")

    def handle(self, *args, benchmark, options, **ignored):
        bench.main(options)
