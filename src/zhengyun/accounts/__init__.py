"""Accounts: users, scoped role assignments, the restriction helper's rules and personal API
tokens (R-X4 — deepened by the identity issue)."""
