"""Calls to the platform's API with a personal token; problems come back as exceptions
carrying the server's localised problem document."""

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

from zhengyun.client.i18n import _


class ClientError(Exception):
    """Something the person must fix before a request is worth sending; exit status 2."""


class Unreachable(Exception):
    """The platform did not answer; exit status 3."""


class ApiError(Exception):
    """The platform answered with a problem document (RFC 9457); exit status 1."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem
        super().__init__(problem.get("detail") or problem.get("title") or str(status))


class Api:
    def __init__(self, url, token, language, ca_file=None, timeout=30):
        if not url:
            raise ClientError(_("say where the platform is: --url or ZHENGYUN_URL"))
        if not token:
            raise ClientError(_("give a personal API token: --token-file or ZHENGYUN_TOKEN"))
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ClientError(_("the platform's address must start with https:// or http://"))
        self.base = url.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, application/problem+json",
            "Accept-Language": language,
        }
        self.context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.timeout = timeout

    def call(self, method, path, body=None, query=None):
        """The decoded JSON answer (None when empty); ApiError or Unreachable otherwise."""
        url = self.base + path
        if path.startswith(("http://", "https://")):  # a page link the platform gave
            given, ours = urllib.parse.urlsplit(path), urllib.parse.urlsplit(self.base)
            if (given.scheme, given.netloc) != (ours.scheme, ours.netloc):
                # The token goes to the platform named by --url, nowhere else.
                raise Unreachable(_("the platform pointed elsewhere: %(url)s") % {"url": path})
            url = path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(  # noqa: S310 - scheme checked above
                request, timeout=self.timeout, context=self.context
            ) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, _problem(error)) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(
                _("the platform at %(url)s did not answer: %(reason)s")
                % {
                    "url": self.base,
                    "reason": reason,
                }
            ) from None
        return json.loads(payload) if payload else None


def _problem(error):
    try:
        problem = json.loads(error.read() or b"{}")
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    problem.setdefault("title", error.reason)
    return problem
