"""Latency of long player messages through the hub (not a test: it prints figures).

Starts Rasa, the action server and the hub on free ports (SQLite in a temp folder) and sends
messages of three sentences or more, the way players write them (the dev-wild lines with several
sentences, and dev questions wrapped in a greeting and a complaint), each through the hub's player
API as a fresh conversation's first message, then reports p50/p95/max.
Usage: .venv/app/bin/python bench/long_messages.py [--messages 150]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency import percentile  # noqa: E402
from bench.scratch_stack import scratch_stack_settings  # noqa: E402
from bot.build import build_all  # noqa: E402
from bot.evaluation.dataset import load_cases  # noqa: E402
from bot.services import start_stack, stop_stack  # noqa: E402
from bot.settings import PROJECT_ROOT  # noqa: E402
from bot.understanding.understand import sentences  # noqa: E402

WRAPS = {
    "fi": ("Moi, nopea kysymys.", "Tää alkaa jo ärsyttää, kiitos etukäteen!"),
    "sv": ("Hej, en snabb fråga.", "Det här börjar bli irriterande, tack på förhand!"),
    "ru": ("Привет, быстрый вопрос.", "Это уже начинает бесить, заранее спасибо!"),
    "tr": ("Merhaba, kısa bir sorum var.", "Artık sinir oldum, şimdiden teşekkürler!"),
    "en": ("Hi, quick question.", "This is getting ridiculous, thanks in advance!"),
}


def long_messages(limit: int) -> list[tuple[str, str]]:
    wild = [c for c in load_cases(PROJECT_ROOT / "data" / "eval" / "dev-wild.tsv") if c.is_topic]
    dev = [c for c in load_cases(PROJECT_ROOT / "data" / "eval" / "dev.tsv") if c.is_topic]
    out = [(c.language, c.text) for c in wild if len(sentences(c.text)) >= 3]
    out += [(c.language, f"{WRAPS[c.language][0]} {c.text}? {WRAPS[c.language][1]}") for c in dev]
    return out[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=150)
    args = parser.parse_args()
    settings = scratch_stack_settings(conversations_per_minute_per_address=100_000)
    messages = long_messages(args.messages)
    services = start_stack(settings, build_all(settings), hub=True)
    try:
        hub = settings.hub_url
        latencies = []
        for i, (language, text) in enumerate(messages + messages[:5]):
            created = requests.post(f"{hub}/api/conversations", json={"locale": language}, timeout=10).json()
            auth = {"Authorization": f"Bearer {created['token']}"}
            started = time.perf_counter()
            requests.post(
                f"{hub}/api/conversations/{created['conversation_id']}/messages",
                json={"text": text},
                headers=auth,
                timeout=60,
            ).raise_for_status()
            if i >= 5:  # the first few warm up the model's caches
                latencies.append((time.perf_counter() - started) * 1000)
        words = sum(len(t.split()) for _, t in messages) / len(messages)
        print(f"long messages through the hub: {len(latencies)} (avg {words:.0f} words, 3+ sentences)")
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        print(f"  p50 {p50:.0f} ms  p95 {p95:.0f} ms  max {max(latencies):.0f} ms")
    finally:
        stop_stack(services)
    return 0


if __name__ == "__main__":
    sys.exit(main())
