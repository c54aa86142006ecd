"""Fixtures shared by every test directory."""

import pytest

from zhengyun.testing.world import build_world, token_client


@pytest.fixture
def world(db):
    """Two departments in two prefectures and a person for every role."""
    return build_world()


@pytest.fixture
def api_as():
    """``api_as(user)``: an API client carrying a real token of ``user``."""
    return token_client


def pytest_configure(config):
    # Argon2 is deliberately slow; tests that are not about hashing use a fast hasher.
    # (accounts' tests check that the real settings put argon2 first.)
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
