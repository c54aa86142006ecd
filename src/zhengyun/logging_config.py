"""JSON logs through structlog, each line carrying the request id (issue: observability)."""

import structlog


def request_id_from_record(logger, method_name, event_dict):
    """Django logs a request's outcome after the middleware has returned, with the request
    attached to the record: take the id from there when the context no longer has it."""
    record = event_dict.get("_record")
    request_id = getattr(getattr(record, "request", None), "request_id", None)
    if request_id and "request_id" not in event_dict:
        event_dict["request_id"] = request_id
    return event_dict


_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def logging_settings(level):
    """Return Django's LOGGING dict; also configures structlog to share the same pipeline."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(ensure_ascii=False),
                ],
                "foreign_pre_chain": [*_SHARED, request_id_from_record],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            # Waitress warns once per request while all its threads are busy: under load that
            # is a line per request, and formatting them slows the very requests it counts.
            "waitress.queue": {"level": "ERROR"},
            # A handler of our own stops Huey's worker from adding its plain-text one.
            "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
