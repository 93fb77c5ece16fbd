"""All settings of the app side in one place: environment variables with defaults.

Every field can be set as an environment variable of the same name in upper case (e.g.
``RASA_PORT=5006``). The README lists them. The Rasa process itself gets its part through
``endpoints.yml`` and command-line flags built from these values.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    # Empty: Rasa's API runs without authentication. Change it in production.
    rasa_token: str = "dev-rasa-token"

    # --- content pipeline (bot validate / train / eval / publish) ---
    # Bearer token of the action server's POST /admin/reload; empty disables the admin endpoints.
    admin_token: str = "dev-admin-token"
    publish_timeout_s: float = 180.0  # how long publishing waits for a server to load new artifacts
    eval_drop_warn_points: float = 2.0  # `bot eval` warns when a language drops more than this
    # `bot validate`: variants of two different topics at least this similar (cosine) are an error.
    near_duplicate_similarity: float = 0.98

    # --- embedding model and FAQ index ---
    # Any sentence-transformers name or folder. The default is built offline by `bot model`.
    embedding_model: str = str(PROJECT_ROOT / "models" / "embedding" / "multilingual-e5-small")
    embedding_prefix: str = "query: "  # e5 wants this prefix on both stored and asked questions
    lexical_weight: float = 0.05  # weight of the lexical (exact term) score in the fused score
    faq_topic_pool: int = 3  # a topic's dense score is the mean of its best N variants

    # --- FAQ decision thresholds, on the fused score ---
    # Chosen by `bot calibrate` on the "tune" half of data/eval/dev.tsv (grid search; a wrong answer
    # costs twice a right one) and checked on the held-out half: see README "Quality".
    faq_answer_score: float = 0.875
    faq_answer_margin: float = 0.01
    faq_clarify_score: float = 0.855
    faq_max_suggestions: int = 3
    # A safer-gambling topic in the suggestions above this score is treated as the answer.
    faq_priority_score: float = 0.84

    # --- handoff hub ---
    handoff_url: str = ""  # e.g. http://127.0.0.1:8000/api/handoffs; empty: log only
    handoff_service_token: str = "dev-service-token"
    handoff_timeout_s: float = 3.0

    # --- handoff hub (handoff/) ---
    database_url: str = ""  # empty: SQLite file hub.db under HUB_DATA_DIR; or postgresql+psycopg://...
    hub_data_dir: Path = PROJECT_ROOT / "var"
    player_text_max_chars: int = 2000
    player_rate_limit_per_minute: int = 30  # messages per conversation
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
