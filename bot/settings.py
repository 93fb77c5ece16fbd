"""All settings of the app side in one place: environment variables with defaults.

Every field can be set as an environment variable of the same name in upper case (e.g.
``RASA_PORT=5006``). The README lists them. The Rasa process itself gets its part through
``endpoints.yml`` and command-line flags built from these values.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.secrets import load_secrets

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The secrets' former built-in defaults: published, so never acceptable on a non-loopback HOST.
KNOWN_DEFAULT_SECRETS: frozenset[str] = frozenset({"dev-rasa-token", "dev-admin-token", "dev-service-token"})
# Setting (field name) -> environment variable of the three secrets (see bot/secrets.py).
_SECRETS: dict[str, str] = {
    "rasa_token": "RASA_TOKEN",
    "admin_token": "ADMIN_TOKEN",
    "handoff_service_token": "HANDOFF_SERVICE_TOKEN",
}


class UnsafeSettings(RuntimeError):
    """A server would listen beyond this machine with an empty or published secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # --- paths ---
    data_dir: Path = PROJECT_ROOT / "data"
    models_dir: Path = PROJECT_ROOT / "models"
    log_dir: Path = PROJECT_ROOT / "logs"
    venv_dir: Path = PROJECT_ROOT / ".venv"

    # --- processes ---
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    hub_port: int = 8000
    startup_timeout_s: float = 240.0
    # Rasa training: the FIRST N variants per topic and language become examples of the `faq` intent
    # (a stable selection: appending variants never retrains Rasa).
    rasa_faq_examples_per_topic: int = 12
    # Rasa's HTTP API token (`rasa run --auth-token`): needed for /status, trackers and PUT /model.
    # Empty: a random one generated once in <HUB_DATA_DIR>/secrets.json (bot/secrets.py).
    rasa_token: str = ""

    # --- content pipeline (bot validate / train / eval / publish) ---
    # Bearer token of the action server's /admin/* endpoints. Empty: generated like rasa_token.
    admin_token: str = ""
    publish_timeout_s: float = 180.0  # how long publishing waits for a server to load new artifacts
    eval_drop_warn_points: float = 2.0  # `bot eval` warns when a language drops more than this
    # `bot validate`: variants of two different topics at least this similar (cosine) are an error.
    near_duplicate_similarity: float = 0.98

    # --- embedding model and FAQ index ---
    # Any sentence-transformers name or folder. The default is built offline by `bot model`.
    embedding_model: str = str(PROJECT_ROOT / "models" / "embedding" / "multilingual-e5-small")
    embedding_prefix: str = "query: "
    # Fine-tune the model on the knowledge base at `bot train` (bot/embedding/finetune.py; ~7 min on 2
    # cores); again only when more than this share of the variants are new to the tuned model.
    embedding_finetune: bool = False
    finetune_retrain_share: float = 0.1  # e5 wants this prefix on both stored and asked questions
    lexical_weight: float = 0.05  # weight of the lexical (exact term) score in the fused score
    faq_topic_pool: int = 3  # a topic's dense score is the mean of its best N variants

    # --- understanding: topic probabilities, the decision, the detectors (bot/understanding, bot/decision.py) ---
    # Chosen by `bot calibrate` on the "tune" halves of data/eval/dev.tsv and dev-wild.tsv and checked on
    # the held-out halves: see README "Quality".
    faq_temperature: float = 0.01  # p(topic) ∝ head(topic) · exp(knn(topic) / T)
    faq_answer_probability: float = 0.75  # answer when the best topic is at least this probable ...
    faq_answer_margin: float = 0.0  # ... and ahead of the runner-up by this much
    faq_clarify_probability: float = 0.1  # below: no "did you mean", a fallback
    faq_suggestion_probability: float = 0.05  # further "did you mean" buttons need at least this
    faq_none_probability: float = 0.6  # "not a knowledge question" at least this sure: no FAQ answer
    faq_max_suggestions: int = 3
    # The intent classifier says "out of scope" but the index names a topic: answer only this sure, else
    # "did you mean". Chosen on the tune halves with the real Rasa's intents (3 of 3 out-of-scope answers
    # there scored 0.97-0.98; knowledge questions the classifier mislabelled mostly score above 0.99).
    faq_out_of_scope_answer_probability: float = 0.99
    faq_min_similarity: float = 0.84  # out-of-domain guard: nearest variants at least this similar (cosine)
    # A bare keyword ("вывод") the head takes for small talk still gets "did you mean" when its nearest
    # variants are at least this similar (no greeting or thanks of the dev sets reaches 0.89).
    faq_keyword_similarity: float = 0.9
    # Detectors (probabilities of their own heads): a priority handoff, a handoff to a person.
    safer_gambling_threshold: float = 0.32
    human_request_threshold: float = 0.25

    # --- handoff hub ---
    handoff_url: str = ""  # e.g. http://127.0.0.1:8000/api/handoffs; empty: log only
    handoff_service_token: str = ""  # bot -> hub bearer token. Empty: generated like rasa_token.
    handoff_timeout_s: float = 3.0

    # --- handoff hub (handoff/) ---
    database_url: str = ""  # empty: SQLite file hub.db under HUB_DATA_DIR; or postgresql+psycopg://...
    hub_data_dir: Path = PROJECT_ROOT / "var"
    player_text_max_chars: int = 2000
    player_rate_limit_per_minute: int = 30  # messages per conversation
    conversations_per_minute_per_address: int = 20  # new conversations one address may start
    max_body_bytes: int = 262_144  # larger request bodies get 413 before anything parses them
    presence_ttl_s: float = 90.0  # an agent is "online" only while the console's heartbeat is this fresh
    login_failures_per_account: int = 5  # then the account is locked for a while (doubling each time)
    login_failures_per_address: int = 20  # per 15 minutes, from one address, over all accounts
    login_lock_s: float = 60.0  # the first lock-out; each further failure while locked doubles it (max 1 h)
    rasa_breaker_failures: int = 3  # after this many failures in a row the hub stops waiting for Rasa ...
    rasa_probe_interval_s: float = 5.0  # ... and probes its /status this often until it answers
    retention_days: int = 180  # conversations (and their Rasa trackers) older than this are purged
    retention_interval_s: float = 3600.0  # how often the purge runs
    agent_token_hours: float = 12.0
    default_wait_s: int = 120  # estimated wait when a language queue has no claim history yet
    rasa_timeout_s: float = 15.0
    demo_agent_user: str = "demo"
    demo_agent_password: str = ""  # empty: a random one, printed once by `make run`
    # Origins allowed to call the player API from a page that embeds the widget ("*": any site;
    # the player API uses bearer tokens, never cookies, so this leaks nothing).
    hub_cors_origins: str = "*"
    # The console's "Train and publish" then runs the held-out dev set through the live bot and
    # compares it with the previous release (about 30 s); false skips that step.
    editor_publish_eval: bool = True

    # --- outbox (handoff/outbox.py) ---
    # Mail (ticket confirmations, tickets for the support inbox) is stored with the ticket, then sent by
    # SMTP when SMTP_HOST is set; without it, written to the log and to <LOG_DIR>/outbox.log ("logged").
    support_inbox: str = "support@northlight.example"  # tickets left when no agent is online go here
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""  # empty: no SMTP AUTH
    smtp_password: str = ""
    smtp_starttls: bool = False  # STARTTLS (certificate verified) before AUTH and sending
    smtp_from: str = "no-reply@northlight.example"
    smtp_timeout_s: float = 10.0  # per connection attempt and per SMTP command
    outbox_max_attempts: int = 5  # then the mail is "failed", with last_error
    # Backoff after a failed attempt: this, then twice, four times... (at most an hour). With several hub
    # processes on one database, keep it above the longest send (a few times SMTP_TIMEOUT_S).
    outbox_retry_s: float = 60.0
    outbox_poll_s: float = 5.0  # how often the worker looks for mail it was not nudged about

    @field_validator("data_dir", "models_dir", "log_dir", "venv_dir", "hub_data_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        """A relative path (``VENV_DIR=.venv`` from the Makefile) is taken from where the process
        started and made absolute, so children started in another folder see the same place."""
        return path.expanduser().resolve()

    @model_validator(mode="after")
    def _fill_secrets(self) -> Settings:
        """Fill empty secrets from <HUB_DATA_DIR>/secrets.json (generated on first use), so every
        process of this machine started with the same HUB_DATA_DIR shares them."""
        empty = [field for field in _SECRETS if not getattr(self, field)]
        if empty:
            stored = load_secrets(self.hub_data_dir)
            for field in empty:
                setattr(self, field, stored[_SECRETS[field]])
        return self

    def check_exposure(self) -> None:
        """Raise ``UnsafeSettings`` when ``host`` is not a loopback address and a secret is empty or
        one of ``KNOWN_DEFAULT_SECRETS``. Called by every server before it starts listening."""
        if _is_loopback(self.host):
            return
        weak = {
            env: "empty" if not getattr(self, field) else "a published default"
            for field, env in _SECRETS.items()
            if not getattr(self, field) or getattr(self, field) in KNOWN_DEFAULT_SECRETS
        }
        if weak:
            raise UnsafeSettings(
                f"refusing to listen on HOST={self.host!r} (not a loopback address): "
                + "; ".join(f"{env} is {why}" for env, why in weak.items())
                + f". Unset {' and '.join(weak)} to use the random values generated in "
                f"{self.hub_data_dir / 'secrets.json'}, or set random ones "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))')."
            )

    @property
    def canned_dir(self) -> Path:
        return self.data_dir / "canned"

    @property
    def hub_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.hub_data_dir / 'hub.db'}"

    @property
    def faq_dir(self) -> Path:
        return self.data_dir / "faq"

    @property
    def index_dir(self) -> Path:
        return self.models_dir / "faq_index"

    @property
    def rasa_models_dir(self) -> Path:
        return self.models_dir / "rasa"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def hub_url(self) -> str:
        return f"http://{self.host}:{self.hub_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 (also as ``[::1]`` or IPv4-mapped) and ``localhost``; anything else is exposed."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name or "": it may resolve to, or mean, any interface
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


@lru_cache
def get_settings() -> Settings:
    return Settings()
