"""CKAN's errors as its clients expect them: an HTTP status and an ``error`` object whose
``__type`` names the kind (the ``ckanapi`` library turns each kind back into its exception)."""

from django.utils.translation import gettext as _


class ActionError(Exception):
    """A call refused: ``status`` and the ``error`` object of the answer."""

    status = 400
    kind = "Bad Request"

    def __init__(self, message=None):
        super().__init__(message)
        self.message = message

    def error(self):
        return {"__type": self.kind, "message": str(self.message)}


class BadRequest(ActionError):
    """The call itself could not be read (an unknown action, a body that is not JSON)."""

    def error(self):
        return {"__type": self.kind, "message": _("Bad request - %(why)s") % {"why": self.message}}


class NotFound(ActionError):
    status = 404
    kind = "Not Found Error"

    def __init__(self, message=None):
        super().__init__(message or _("Not found"))


class ValidationFailed(ActionError):
    """Parameters refused, each with its messages: ``{"rows": ["…"]}``."""

    status = 409
    kind = "Validation Error"

    def __init__(self, fields):
        super().__init__(fields)
        self.fields = fields

    def error(self):
        return {"__type": self.kind, **self.fields}


class SearchQueryError(ActionError):
    kind = "Search Query Error"

    def error(self):
        return {
            "__type": self.kind,
            "message": _("Search Query is invalid: %(why)s") % {"why": self.message},
        }
