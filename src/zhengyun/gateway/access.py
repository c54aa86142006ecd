"""Who is calling and what they may read (R-D3): the application behind an OAuth2
client-credentials token, and its grant in force for a resource.

Each refusal is a ``Refusal`` with the HTTP status, a stable code for programs and a message
for people; the view logs it and answers with it.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.oauth2_backends import get_oauthlib_core

from zhengyun.accounts.models import OidcClient
from zhengyun.core import counters
from zhengyun.data_resources.choices import ShareType
from zhengyun.data_resources.models import Grant, ResourceVersion


class Refusal(Exception):
    def __init__(self, status, code, message, **context):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.context = context  # what is known of the call so far, for its log entry


def application_of(request):
    """The registered application whose client-credentials token the request carries."""
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None) if valid else None
    if token is None or token.application_id is None:
        raise Refusal(401, "invalid_token", _("Give a valid access token of your application."))
    client_id = token.application.client_id
    if token.user_id is not None:  # a person's token, issued to sign them in somewhere
        raise Refusal(
            401,
            "invalid_token",
            _("The gateway takes an application's client-credentials token."),
            client_id=client_id,
        )
    registration = (
        OidcClient.objects.filter(application_id=token.application_id)
        .select_related("application", "department")
        .first()
    )
    if registration is None or registration.department_id is None:
        raise Refusal(
            403,
            "no_department",
            _("Only a department's registered application reads data."),
            client_id=client_id,
        )
    return registration


def refuse_unless_shared(described):
    """A resource its provider has since withheld (不予共享) is served to nobody."""
    if described.share_type == ShareType.NONE:
        raise Refusal(403, "not_shared", _("The resource is no longer shared."))


def current_version(code):
    """The current published version with resource code ``code``."""
    version = (
        ResourceVersion.objects.filter(code=code, is_current=True)
        .select_related("department")
        .first()
    )
    if version is None:
        raise Refusal(404, "not_found", _("No published resource has this code."))
    return version


def grant_in_force(application, version):
    """The application's grant for the resource in force today, or the refusal saying why
    there is none (never granted, revoked, expired or not begun)."""
    today = timezone.localdate()
    grants = Grant.objects.filter(application=application, resource_id=version.resource_id)
    in_force = grants.filter(
        revoked_at__isnull=True, starts_on__lte=today, expires_on__gte=today
    ).order_by("-expires_on", "-id")
    grant = in_force.first()
    if grant is not None:
        return grant
    latest = grants.order_by("-granted_at").first()
    if latest is None:
        raise Refusal(
            403, "no_grant", _("Your application has no grant for this resource; request it.")
        )
    context = {"grant_id": latest.pk}
    if latest.revoked_at is not None:
        raise Refusal(
            403,
            "grant_revoked",
            _("The grant was revoked: %(reason)s") % {"reason": latest.revoke_reason},
            **context,
        )
    if latest.expires_on < today:
        raise Refusal(
            403,
            "grant_expired",
            _("The grant expired on %(date)s.") % {"date": latest.expires_on.isoformat()},
            **context,
        )
    raise Refusal(
        403,
        "grant_not_begun",
        _("The grant begins on %(date)s.") % {"date": latest.starts_on.isoformat()},
        **context,
    )


def throttle(grant_id):
    """Count the call against the grant's rate per minute and quota per day; a refused call
    is not counted."""
    now = timezone.localtime()
    minute = (
        f"gateway:{grant_id}:minute:{now.strftime('%Y%m%d%H%M')}",
        120,
        settings.ZHENGYUN_GATEWAY_CALLS_PER_MINUTE,
    )
    day = (
        f"gateway:{grant_id}:day:{now.strftime('%Y%m%d')}",
        86400 * 2,
        settings.ZHENGYUN_GATEWAY_CALLS_PER_DAY,
    )
    exceeded = counters.admit([minute, day])
    if exceeded is minute:
        raise Refusal(
            429,
            "rate_limited",
            _("Too many calls this minute under this grant; wait and call again."),
            grant_id=grant_id,
            retry_after=60 - now.second,
        )
    if exceeded is day:
        raise Refusal(
            429,
            "quota_exhausted",
            _("This grant's calls for today are used up."),
            grant_id=grant_id,
            retry_after=max(1, 86400 - (now.hour * 3600 + now.minute * 60 + now.second)),
        )


def refusals_over_limit(source):
    """Count a refused call from the address ``source``; how many of this minute's refusals
    from it are past ``ZHENGYUN_GATEWAY_REFUSALS_PER_MINUTE`` (0 while within)."""
    key = f"gateway-refused:{source}:{timezone.localtime().strftime('%Y%m%d%H%M')}"
    [count] = counters.count([(key, 120)])
    return max(0, count - settings.ZHENGYUN_GATEWAY_REFUSALS_PER_MINUTE)


def too_many_refusals():
    return Refusal(
        429,
        "too_many_refusals",
        _("Too many refused calls from this address; wait a minute and mend them."),
        retry_after=60 - timezone.localtime().second,
    )
