"""HTTP clients for the admin side of the running stack: Rasa's HTTP API and the action server's.

Rasa authenticates its API (and our model swap channel) with ``?token=`` (``rasa run
--auth-token``, ``RASA_TOKEN``); the action server's admin
endpoints with ``Authorization: Bearer``. Both raise ``StackError`` with a readable message.
"""

from __future__ import annotations

import requests

from bot.settings import Settings


class StackError(RuntimeError):
    """A server of the running stack did not do what was asked (down, wrong token, failed load)."""


def _check(response: requests.Response, what: str) -> requests.Response:
    if response.status_code in (401, 403):
        raise StackError(f"{what}: refused ({response.status_code}): check the token setting")
    if response.status_code >= 400:
        raise StackError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    return response


class RasaApi:
    def __init__(self, settings: Settings) -> None:
        self.url = settings.rasa_url
        self.params = {"token": settings.rasa_token} if settings.rasa_token else {}

    def status(self, timeout: float = 10) -> dict:
        try:
            response = requests.get(f"{self.url}/status", params=self.params, timeout=timeout)
        except requests.RequestException as exc:
            raise StackError(f"Rasa at {self.url} does not answer: {exc}") from exc
        return _check(response, "Rasa GET /status").json()

    def load_model(self, model_file: str, timeout: float) -> dict:
        """Load a model and swap it in while the old one keeps answering (``bot.rasa_server.model_swap``).

        Rasa's own ``PUT /model`` would do the same but pauses every conversation while it loads.
        """
        try:
            response = requests.post(
                f"{self.url}/webhooks/model_swap/load",
                params=self.params,
                json={"model_file": model_file},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            raise StackError(f"Rasa at {self.url} did not load {model_file}: {exc}") from exc
        return _check(response, "Rasa POST /webhooks/model_swap/load").json()


class ActionAdminApi:
    def __init__(self, settings: Settings) -> None:
        self.url = settings.action_url
        self.headers = {"Authorization": f"Bearer {settings.admin_token}"}

    def status(self, timeout: float = 10) -> dict:
        try:
            response = requests.get(f"{self.url}/admin/status", headers=self.headers, timeout=timeout)
        except requests.RequestException as exc:
            raise StackError(f"the action server at {self.url} does not answer: {exc}") from exc
        return _check(response, "action server GET /admin/status").json()

    def reload(self, index_version: str, timeout: float) -> dict:
        try:
            response = requests.post(
                f"{self.url}/admin/reload",
                headers=self.headers,
                json={"index_version": index_version},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            raise StackError(f"the action server at {self.url} did not reload: {exc}") from exc
        return _check(response, "action server POST /admin/reload").json()
