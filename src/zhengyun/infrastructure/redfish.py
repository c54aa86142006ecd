"""Redfish, the DMTF's HTTP interface to a server's baseboard management controller (BMC):
the platform reads a host's power state and powers it down and on again (R-G3, R-I4).

Only the system resource an operator names is used: its ``PowerState`` and its
``#ComputerSystem.Reset`` action, whose allowed reset types the BMC itself says. The BMC's
credentials go to the address the operator gave and nowhere else: only over HTTPS, with the
certificate verified against the system's authorities or ``ZHENGYUN_BMC_CA_FILE``; never
through a proxy; redirects are refused, and an action target on another scheme, host or
port is not followed.
"""

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from zhengyun.infrastructure.drivers.base import DriverError

RESET = "#ComputerSystem.Reset"
MAX_ANSWER_BYTES = 1 << 20


class BmcError(DriverError):
    """The BMC could not be reached, refused the request or answered something else;
    ``status`` is the HTTP status it answered with, if any."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx is raised as an HTTPError


@dataclass(frozen=True)
class Bmc:
    """The Redfish system resource of one host and the credentials to reach it."""

    url: str
    username: str
    password: str = field(repr=False)

    @classmethod
    def of(cls, host):
        return cls(host.bmc_url, host.bmc_username, host.bmc_password)

    def power_state(self):
        """``"On"``, ``"Off"``, or what the BMC reports in between (``"PoweringOn"`` …)."""
        state = self._request("GET", self.url).get("PowerState")
        if not isinstance(state, str):
            raise BmcError(_("The BMC at %(url)s did not report a power state.") % self._named())
        return state

    def reset(self, reset_type):
        """Ask the system for ``reset_type`` (``"On"``, ``"GracefulShutdown"`` …)."""
        action = self._request("GET", self.url).get("Actions", {}).get(RESET)
        if not isinstance(action, dict) or not isinstance(action.get("target"), str):
            raise BmcError(_("The BMC at %(url)s offers no reset action.") % self._named())
        allowed = action.get("ResetType@Redfish.AllowableValues")
        if isinstance(allowed, list) and reset_type not in allowed:
            raise BmcError(
                _("The BMC at %(url)s does not allow %(reset)s.")
                % {**self._named(), "reset": reset_type}
            )
        target = urllib.parse.urljoin(self.url, action["target"])
        if _origin(target) != _origin(self.url):
            raise BmcError(_("The BMC at %(url)s points its reset elsewhere.") % self._named())
        self._request("POST", target, {"ResetType": reset_type})

    def _request(self, method, url, body=None):
        headers = {"Accept": "application/json"}
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if urllib.parse.urlsplit(url).scheme != "https":
            raise BmcError(_("The BMC at %(url)s is not reached over HTTPS.") % self._named())
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 (scheme checked)
        try:
            with _opener().open(request, timeout=settings.ZHENGYUN_BMC_TIMEOUT_SECONDS) as answer:
                payload = answer.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                message = _("The BMC at %(url)s refused this user name and password.")
            else:
                message = _("The BMC at %(url)s answered %(status)d.")
            raise BmcError(message % {**self._named(), "status": exc.code}, exc.code) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise BmcError(
                _("The BMC at %(url)s cannot be reached: %(error)s")
                % {**self._named(), "error": getattr(exc, "reason", exc)}
            ) from exc
        if not payload:
            return {}
        try:
            answer = json.loads(payload)
        except ValueError as exc:
            raise BmcError(_("The BMC at %(url)s did not answer in JSON.") % self._named()) from exc
        return answer if isinstance(answer, dict) else {}

    def _named(self):
        return {"url": self.url}


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _opener():
    context = ssl.create_default_context(cafile=settings.ZHENGYUN_BMC_CA_FILE or None)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=context),
        _NoRedirects,
    )
