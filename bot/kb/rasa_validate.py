"""``rasa data validate`` on the generated training inputs, exactly as ``bot train`` feeds Rasa.

Runs in the Rasa environment (a subprocess; ~20 s, mostly importing TensorFlow). Rasa 3.6 exits 0
even for an intent used in a rule but missing from the domain, so every Rasa ``UserWarning`` is an
error here, except "utterance … is not used in any story or rule" for our texts: every text is a
response so that actions and rules share one source, and most are uttered by actions, not rules.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from bot.settings import Settings

WARNING = re.compile(r"UserWarning: (.*)")
ERROR = re.compile(r"\b(?:ERROR|CRITICAL)\b\s+\S+\s+-\s+(.*)")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d ")
UNUSED_UTTERANCE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rasa_messages(output: str) -> tuple[list[str], list[str]]:
    """(warnings, errors) in Rasa's output; a warning may continue on the lines after it."""
    warnings: list[str] = []
    errors: list[str] = []
    current: list[str] | None = None
    for line in output.splitlines():
        if match := WARNING.search(line):
            current = [match.group(1).strip()]
            warnings.append("")
        elif match := ERROR.search(line):
            errors.append(match.group(1).strip())
            current = None
        elif current is not None and line.strip() and not line[0].isspace() and not TIMESTAMP.match(line):
            if "Warning:" in line:
                current = None
                continue
            current.append(line.strip())
        else:
            current = None
        if current is not None:
            warnings[-1] = " ".join(current)
    return warnings, errors


def rasa_data_validate(settings: Settings) -> tuple[list[str], list[str]]:
    """(errors, notes) from Rasa's own validator (no notes today: see the module docstring)."""
    from bot.build import rasa_data_args, rasa_executable, run_rasa, write_training_inputs
    from bot.kb.texts import load_texts

    with tempfile.TemporaryDirectory(prefix="rasa-validate-") as tmp:
        domain_dir, nlu_dir = write_training_inputs(settings, Path(tmp))
        command = [str(rasa_executable(settings)), "data", "validate", *rasa_data_args(settings, domain_dir, nlu_dir)]
        log = Path(tmp) / "validate.log"
        code = run_rasa(command, settings, log)
        output = ANSI.sub("", log.read_text(encoding="utf-8", errors="replace"))
    texts = set(load_texts(settings.data_dir / "texts").keys()) | {"utter_default"}
    warnings, failures = rasa_messages(output)
    errors = [f"rasa data validate: {message}" for message in failures]
    for message in warnings:
        unused = UNUSED_UTTERANCE.search(message)
        if not (unused and unused.group(1) in texts):
            errors.append(f"rasa data validate: {message}")
    if code != 0 and not errors:
        tail = " | ".join(line.strip() for line in output.splitlines()[-5:] if line.strip())
        errors.append(f"rasa data validate failed (exit {code}): {tail}")
    return errors, []
