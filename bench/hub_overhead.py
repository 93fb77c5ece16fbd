"""What the hub adds per player message (not a test: it prints figures).

Starts Rasa, the action server and the hub on free ports (SQLite in a temp folder), then sends the
same FAQ questions (a) straight to Rasa's REST webhook and (b) through the hub's player API, and
reports p50/p95 of both and of the difference. Usage: .venv/app/bin/python bench/hub_overhead.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency import percentile  # noqa: E402
from bench.scratch_stack import scratch_stack_settings  # noqa: E402
from bot.build import build_all  # noqa: E402
from bot.evaluation.dataset import load_cases  # noqa: E402
from bot.services import start_stack, stop_stack  # noqa: E402
from bot.settings import PROJECT_ROOT  # noqa: E402


def timed_post(url: str, **kwargs) -> float:
    t0 = time.perf_counter()
    requests.post(url, timeout=60, **kwargs).raise_for_status()
    return (time.perf_counter() - t0) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    settings = scratch_stack_settings(player_rate_limit_per_minute=10_000)
    questions = [c for c in load_cases(PROJECT_ROOT / "data" / "eval" / "dev.tsv") if c.is_topic]
    services = start_stack(settings, build_all(settings), hub=True)
    try:
        rasa_url = f"{settings.rasa_url}/webhooks/rest/webhook"
        direct, through_hub = [], []
        conversation = auth = None
        sender = ""
        for i in range(args.messages + 5):
            if i % 10 == 0:
                created = requests.post(f"{settings.hub_url}/api/conversations", json={}, timeout=10).json()
                conversation = created["conversation_id"]
                auth = {"Authorization": f"Bearer {created['token']}"}
                sender = f"bench-{uuid.uuid4().hex}"
            text = questions[i % len(questions)].text
            d = timed_post(rasa_url, json={"sender": sender, "message": text})
            h = timed_post(
                f"{settings.hub_url}/api/conversations/{conversation}/messages", json={"text": text}, headers=auth
            )
            if i >= 5:  # warm-up
                direct.append(d)
                through_hub.append(h)
    finally:
        stop_stack(services)
    overhead = [h - d for h, d in zip(through_hub, direct, strict=True)]
    for name, values in (("Rasa direct", direct), ("through hub", through_hub), ("hub overhead", overhead)):
        print(
            f"{name:13s} p50 {percentile(values, 50):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"
            f"  mean {statistics.mean(values):6.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
