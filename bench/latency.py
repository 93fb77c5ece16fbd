"""Latency and memory of the running bot (not a test: it prints figures).

Starts Rasa and the action server on free ports, sends FAQ questions from data/eval/dev.tsv
through Rasa's REST webhook (20 conversations, 10 messages each, one after another), and
reports p50/p95 per message, the understanding of a message alone, and the resident memory of both
servers. Usage: .venv/app/bin/python bench/latency.py [--messages 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.build import build_all  # noqa: E402
from bot.evaluation.cli import free_port  # noqa: E402
from bot.evaluation.dataset import load_cases  # noqa: E402
from bot.services import start_stack, stop_stack  # noqa: E402
from bot.settings import PROJECT_ROOT, get_settings  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids += [int(c) for c in children]
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            continue
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    settings = get_settings().model_copy(update={"rasa_port": free_port(), "action_port": free_port()})
    questions = [c for c in load_cases(PROJECT_ROOT / "data" / "eval" / "dev.tsv") if c.is_topic]
    model = build_all(settings)
    started = time.perf_counter()
    services = start_stack(settings, model)
    print(f"stack up in {time.perf_counter() - started:.1f} s")
    try:
        url = f"{settings.rasa_url}/webhooks/rest/webhook"
        for case in questions[:5]:  # warm-up
            requests.post(url, json={"sender": "warmup", "message": case.text}, timeout=60)
        latencies = []
        sender = ""
        for i in range(args.messages):
            if i % 10 == 0:
                sender = f"bench-{uuid.uuid4().hex}"
            case = questions[i % len(questions)]
            t0 = time.perf_counter()
            response = requests.post(url, json={"sender": sender, "message": case.text}, timeout=60)
            latencies.append((time.perf_counter() - t0) * 1000)
            response.raise_for_status()
        memory = {s.name: rss_mb(s.process.pid) for s in services if s.process}
    finally:
        stop_stack(services)

    from bot.embedding.model import load_embedder
    from bot.index.faq_index import FaqIndex
    from bot.understanding.understand import understand

    index = FaqIndex.load_current(
        settings.index_dir,
        load_embedder(settings.embedding_model, settings.embedding_prefix),
        settings.lexical_weight,
        settings.faq_topic_pool,
    )
    query_times = []
    for i in range(args.messages):
        case = questions[i % len(questions)]
        t0 = time.perf_counter()
        understand(index, case.text, case.language, settings.faq_temperature)
        query_times.append((time.perf_counter() - t0) * 1000)

    print(f"cores: {os.cpu_count()}  messages: {len(latencies)}  index vectors: {index.manifest.vectors}")
    print(
        f"REST webhook, FAQ question: p50 {percentile(latencies, 50):.1f} ms  p95 {percentile(latencies, 95):.1f} ms"
        f"  mean {statistics.mean(latencies):.1f} ms"
    )
    p50, p95 = percentile(query_times, 50), percentile(query_times, 95)
    print(f"understanding alone (embed + FAISS + head + detectors): p50 {p50:.1f} ms  p95 {p95:.1f} ms")
    total = sum(memory.values())
    print("RSS: " + "  ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items()) + f"  together {total:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
