"""The platform's settings with the gateway benchmark's extra URL (its static baseline)."""

from zhengyun.settings import *  # noqa: F403

ROOT_URLCONF = "gateway_bench_urls"
