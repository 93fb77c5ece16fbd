"""Settings for a benchmark's own stack: free ports, a hub on a scratch SQLite file and log folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.evaluation.cli import free_port
from bot.services import with_hub
from bot.settings import Settings, get_settings


def scratch_stack_settings(**overrides: object) -> Settings:
    """Rasa, the action server and the hub on free ports, SQLite and logs in temp folders."""
    update = {
        "rasa_port": free_port(),
        "action_port": free_port(),
        "hub_port": free_port(),
        "hub_data_dir": Path(tempfile.mkdtemp(prefix="hub-bench-")),
        "log_dir": Path(tempfile.mkdtemp(prefix="hub-bench-logs-")),
        "database_url": "",
        **overrides,
    }
    return with_hub(get_settings().model_copy(update=update))
