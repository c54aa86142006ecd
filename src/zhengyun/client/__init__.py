"""``zhengyun cloud``: the command-line door to a department's resources (R-I1, R-I3).

A client of the platform's REST API, not of its database: it runs on any machine that can
reach the platform over HTTP(S), signs in with a personal API token, learns the resources,
their fields and actions from the platform's OpenAPI document, and speaks the platform's
language (Simplified Chinese by default, English on request). It needs nothing beyond the
Python standard library, so it works without the server's settings or dependencies.
"""
