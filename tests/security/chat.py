"""Talking to the security tests' stack over the real REST channel."""

from __future__ import annotations

import requests

from tests.e2e.servers import RasaStack


def send(stack: RasaStack, sender: str, message: str) -> list[dict]:
    """One message over the real REST channel; the bot's replies."""
    answer = requests.post(
        f"{stack.base_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        headers=stack.rest_headers,
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()
