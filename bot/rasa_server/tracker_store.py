"""Rasa's in-memory tracker store, shared by every agent of the process.

``PUT /model`` builds a new agent with a new tracker store from ``endpoints.yml``; with Rasa's own
``InMemoryTrackerStore`` every conversation would be forgotten at each model swap (language, paused
state after a handoff, fallback streak). This one keeps its trackers in a class attribute, so a new
model continues the same conversations. Like the default store it is lost on a restart of Rasa.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain


class SharedInMemoryTrackerStore(InMemoryTrackerStore):
    _trackers: dict[str, str] = {}

    def __init__(self, domain: Domain, event_broker: Any = None, **kwargs: Any) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url; there is none
        super().__init__(domain, event_broker, **kwargs)
        self.store = SharedInMemoryTrackerStore._trackers
