"""Shared foundations: request context, domain errors, the restriction helper, API conventions,
health and metrics (R-A1)."""
