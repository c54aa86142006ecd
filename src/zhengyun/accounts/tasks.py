"""Periodic jobs of the accounts app."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task
from oauth2_provider.models import clear_expired

from zhengyun.accounts import lockout
from zhengyun.accounts.services import expire_api_tokens, maintain_oidc_keys
from zhengyun.jobs.runner import tracked


@db_periodic_task(crontab(minute="*/5"))
@tracked
def expire_api_tokens_task():
    """Every five minutes: mark API tokens past their expiry."""
    return expire_api_tokens()


@db_periodic_task(crontab(minute="*/10"))
@tracked
def prune_sign_in_failures_task():
    """Every ten minutes: forget failed sign-ins and locks too old to matter."""
    lockout.prune()


@db_periodic_task(crontab(minute="7", hour="*"))
@tracked
def clear_expired_oidc_tokens_task():
    """Every hour: delete OIDC tokens and codes past their expiry."""
    clear_expired()


@db_periodic_task(crontab(minute="17", hour="*"))
@tracked
def maintain_oidc_keys_task():
    """Every hour: rotate the ID-token signing key when due, withdraw keys past overlap."""
    added, withdrawn = maintain_oidc_keys()
    return added + withdrawn
