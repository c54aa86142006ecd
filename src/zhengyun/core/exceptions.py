"""Domain errors raised by services; translated to HTTP in exactly one place per door
(``core.api.problems`` for the API, the console's form handling for pages)."""

from django.utils.translation import gettext_lazy as _


class ZhengyunError(Exception):
    """Base of every domain error: a stable code, an HTTP status and a user-facing message."""

    code = "error"
    status = 400
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))

    def extra(self):
        """Members the problem document carries besides the message (RFC 9457 extensions)."""
        return None


class PermissionDenied(ZhengyunError):
    """The actor may not perform this action on this object. Audited by the service wrapper."""

    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to perform this action.")

    def __init__(self, message=None, *, action="", obj=None):
        super().__init__(message)
        self.action = action
        self.obj = obj
        self.audited = False


class NotFound(ZhengyunError):
    """The object does not exist or is outside what the actor may see (the two look the same)."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(ZhengyunError):
    """The change would break a rule about other objects (for example a protected delete)."""

    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")

    def __init__(self, message=None, *, dependents=()):
        super().__init__(message)
        self.dependents = list(dependents)

    def extra(self):
        return {"dependents": self.dependents}
