"""Edit -> live, with the real stack serving players throughout (not a test: it prints figures).

On a scratch copy of data/ and models/ (the repository is not touched), starts Rasa and the action
server on free ports, keeps a thread posting player messages to Rasa's REST webhook, and measures:

1. FAQ-only edit (one new variant) -> the running bot answers it with its topic. Train and publish
   run in this process with the embedding model already loaded, as the hub's editor will call
   them; the first-run cost of loading the model in a fresh ``bot train`` process is printed apart.
2. NLU edit (one new example in data/nlu) -> a new Rasa model trained, published and live.

Usage: .venv/app/bin/python bench/publish.py [--skip-nlu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.evaluation.stream import MessageStream  # noqa: E402
from bot.services import start_stack, stop_stack  # noqa: E402
from bot.settings import get_settings  # noqa: E402
from tests.conftest import Bot, custom_of, free_port  # noqa: E402

FAQ_TOPIC = "payment_fees"
FAQ_VARIANT = "do you guys skim anything off when I move money in or out"
NLU_INTENT = "greet"
NLU_EXAMPLE = "ahoy there casino friend"
STREAM = ["how long does a withdrawal take", "kauanko kotiutus kestää", "hej", "şifremi unuttum", "спасибо"]


def append_variant(path: Path, topic: str, text: str) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["topics"][topic]["questions"].append(text)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")


def append_example(path: Path, intent: str, text: str) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    block = next(b for b in data["nlu"] if b["intent"] == intent)
    block["examples"] += f"- {text}\n"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")


def wait_until(check, timeout: float) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("not live in time")
        time.sleep(0.1)
    return time.perf_counter() - started


def faq_answered(bot: Bot) -> bool:
    meta = custom_of(bot.say(bot.new_sender(), FAQ_VARIANT, {"locale": "en"}))
    return meta.get("outcome") == "answer" and meta.get("faq_id") == FAQ_TOPIC


def intent_of(bot: Bot, text: str) -> str | None:
    sender = bot.new_sender()
    bot.say(sender, text, {"locale": "en"})
    return ((bot.tracker(sender).get("latest_message") or {}).get("intent") or {}).get("name")


def report(title: str, figures: dict, stream) -> None:
    print(f"\n{title}")
    for key, value in figures.items():
        print(f"  {key:<34} {value}")
    print(f"  {'messages during it':<34} {stream.figures.sent} sent, {stream.figures.failed} failed")
    print(f"  {'slowest answer during it':<34} {stream.figures.max_ms / 1000:.2f} s")
    for failure in stream.figures.failures[:5]:
        print(f"    failed: {failure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-nlu", action="store_true", help="only the FAQ edit (the NLU edit trains ~4 min)")
    args = parser.parse_args()
    from bot.embedding.model import load_embedder
    from bot.pipeline import publish, train
    from bot.workspace import make_workspace

    base = get_settings()
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        workspace = make_workspace(base, Path(tmp), rasa_cache=not args.skip_nlu)
        s = workspace.model_copy(
            update={"rasa_port": free_port(), "action_port": free_port(), "log_dir": Path(tmp) / "logs"}
        )
        t0 = time.perf_counter()
        load_embedder(s.embedding_model, s.embedding_prefix)
        embedder_load = time.perf_counter() - t0
        services = start_stack(s, train(s).rasa_model)
        bot = Bot(s.rasa_url, s.rasa_token)
        try:
            assert not faq_answered(bot), "the variant must not be answered before the edit"
            with MessageStream(s.rasa_url, STREAM) as stream:
                time.sleep(2)
                started = time.perf_counter()
                append_variant(s.faq_dir / "en.yml", FAQ_TOPIC, FAQ_VARIANT)
                trained = train(s)
                t_train = time.perf_counter() - started
                published = publish(s)
                t_publish = time.perf_counter() - started - t_train
                wait_until(lambda: faq_answered(bot), 30)
                t_live = time.perf_counter() - started
                time.sleep(2)
            report(
                "FAQ-only edit (one new English variant) -> answered live",
                {
                    "edit -> live": f"{t_live:.2f} s (target <= 10 s)",
                    "  train (index only)": f"{t_train:.2f} s, {trained.index_embedded} variant embedded, "
                    f"Rasa retrained: {trained.rasa_retrained}",
                    "  publish (action server swap)": f"{t_publish:.2f} s (reload {published.index_seconds:.2f} s)",
                    "embedding model load (cold process)": f"{embedder_load:.1f} s, once per process",
                },
                stream,
            )
            if args.skip_nlu:
                return 0
            print(f"\nintent of {NLU_EXAMPLE!r} before the NLU edit: {intent_of(bot, NLU_EXAMPLE)}")
            with MessageStream(s.rasa_url, STREAM) as stream:
                started = time.perf_counter()
                append_example(s.data_dir / "nlu" / "en.yml", NLU_INTENT, NLU_EXAMPLE)
                trained = train(s)
                t_train = time.perf_counter() - started
                published = publish(s)
                t_live = time.perf_counter() - started
                time.sleep(2)
            intent = intent_of(bot, NLU_EXAMPLE)
            report(
                "NLU edit (one new greet example) -> new Rasa model live",
                {
                    "edit -> live": f"{t_live:.1f} s",
                    "  train (Rasa)": f"{t_train:.1f} s, retrained: {trained.rasa_retrained}, "
                    f"index rebuilt: {trained.index_rebuilt}",
                    "  publish (background model swap)": f"{published.rasa_seconds:.1f} s",
                    "intent of the new example after": intent,
                },
                stream,
            )
        finally:
            stop_stack(services)
    return 0


if __name__ == "__main__":
    sys.exit(main())
