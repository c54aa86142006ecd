"""Audit: the append-only record of every state change and every refused attempt
(R-X4 accountability; hash chaining and SM2 signing come with the identity issue)."""
