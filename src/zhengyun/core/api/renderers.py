"""JSON renderers; problem documents are JSON too, so clients may ask for either type."""

from rest_framework.renderers import JSONRenderer


class ProblemJSONRenderer(JSONRenderer):
    """Lets a client send ``Accept: application/problem+json`` without a 406."""

    media_type = "application/problem+json"
