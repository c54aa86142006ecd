"""Calling the data gateway in tests as a registered application."""

import base64


def token_for(client, registration, secret):
    """An access token of ``registration`` from the token endpoint (client credentials)."""
    basic = base64.b64encode(f"{registration.application.client_id}:{secret}".encode()).decode()
    answer = client.post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]
