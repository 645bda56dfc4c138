"""One typed settings object: environment variables ``BANKML_*`` over an optional ``bankml.toml``.

Nothing else in bankml reads the environment. The settings fail closed: a config file named
by ``BANKML_CONFIG`` that does not exist is an error (not a silent fall back to development
defaults), and outside development they refuse a placeholder or low-entropy secret key, because
the key protects every PII token bankml issues.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bankml.core.errors import ConfigError

__all__ = [
    "MIN_SECRET_BITS",
    "MIN_SECRET_UNIQUE_CHARS",
    "PLACEHOLDER_SECRET",
    "Settings",
    "estimate_entropy_bits",
    "get_settings",
    "load_settings",
]

PLACEHOLDER_SECRET = "changethis-dev-only"
_CONFIG_FILE_ENV = "BANKML_CONFIG"
MIN_SECRET_BITS = 100  # a 32-character hex string from secrets.token_hex(16) holds ~115
MIN_SECRET_UNIQUE_CHARS = 10
ERR_MISSING_CONFIG = "BANKML_CONFIG names {path}, which does not exist (or is not a file)"


def estimate_entropy_bits(secret: str) -> float:
    """A rough, conservative estimate of the bits in ``secret``: length x empirical Shannon
    entropy per character, and zero for a value that repeats a short pattern ("abab...").

    It cannot prove a secret random (no estimate can); it refuses the obvious non-secrets
    (32 spaces, 32 x "a", "password" repeated) that a length check lets through.
    """
    n = len(secret)
    if n == 0:
        return 0.0
    for period in range(1, n // 2 + 1):
        if n % period == 0 and secret[:period] * (n // period) == secret:
            return 0.0
    per_char = -sum(c / n * math.log2(c / n) for c in Counter(secret).values())
    return n * per_char


class Settings(BaseSettings):
    """Every knob bankml has. Read once at start; pass it down, never re-read the environment."""

    model_config = SettingsConfigDict(env_prefix="BANKML_", extra="forbid", frozen=True)

    env: Literal["dev", "test", "prod"] = "dev"
    home: Path = Field(default=Path(".bankml"), description="Where embedded state lives.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to a SQLite file in home."
    )
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    mlflow_tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "mlflow_tracking_uri", "BANKML_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"
        ),
        description="MLflow tracking/registry URI; defaults to a SQLite store in home.",
    )
    mlflow_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Per-request timeout to a tracking server; an unreachable one fails fast.",
    )
    mlflow_max_retries: int = Field(
        default=1, ge=0, le=10, description="Retries of a failed request to a tracking server."
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="The CLI's credential (BANKML_API_KEY); overrides `bankml login`.",
    )
    credentials_file: Path | None = Field(
        default=None,
        description="Where `bankml login` keeps API keys (default: ~/.config/bankml/credentials"
        ".json, readable only by its owner).",
    )
    online_store: Literal["memory", "redis"] = Field(
        default="memory",
        description="Where online fraud features live: in each process (embedded default) or "
        "in a shared Redis, so API replicas are stateless and agree.",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="The shared online store's Redis (used when online_store is 'redis').",
    )
    score_threads: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="Scoring requests computed at once per API worker, in threads off the event "
        "loop (features, TreeSHAP, ledger commit; concurrent commits share one transaction). "
        "0 computes inline on the event loop (in-process store only; with Redis it means 1). "
        "Unset: inline on SQLite with the in-process store, where nothing waits on a network, "
        "4 threads on PostgreSQL or with Redis.",
    )
    policy_dir: Path = Field(
        default=Path("policies"),
        description="Where each model's official gate policy NAME.toml lives (versioned).",
    )
    policy_retrieval: Literal["auto", "hybrid", "bm25"] = Field(
        default="auto",
        description="Policy search: BM25 + embeddings (hybrid), BM25 alone, or auto (hybrid "
        "when the embedding model is installed, else BM25 with a warning).",
    )
    policy_generator_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (…/v1) that writes policy answers; unset: the "
        "built-in extractive answerer. Every generated answer still passes the grounding check.",
    )
    policy_generator_model: str = Field(default="default", description="Model name to request.")
    policy_generator_api_key: SecretStr | None = Field(
        default=None, description="Bearer key for the generator endpoint, if it needs one."
    )
    policy_generator_timeout_s: float = Field(default=30.0, gt=0, le=600)
    monitoring_rules: Path | None = Field(
        default=None,
        description="Monitoring alert rules (TOML); defaults to <policy_dir>/monitoring.toml.",
    )
    monitoring_webhook_url: str | None = Field(
        default=None, description="Where monitoring alerts are POSTed as JSON (off when unset)."
    )
    log_level: str = "WARNING"
    log_json: bool = False
    anchor_dir: Path | None = Field(
        default=None,
        description="Append-only directory for signed ledger checkpoints (outside the database).",
    )
    anchor_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM, mode 0600) that signs checkpoints.",
    )
    anchor_every_appends: int = Field(
        default=1000, description="The service checkpoints after this many appends (0: off)."
    )
    anchor_every_seconds: float = Field(
        default=300.0, description="... or when this many seconds passed with appends (0: off)."
    )
    verify_workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Worker processes `audit verify` re-hashes the ledger in, each over its own "
        "range of entries (ledgers of 50,000 entries or more); unset: one per CPU, at most 4; "
        "1: the single walk in the calling process.",
    )
    # Hostile input at the HTTP boundary (issue 9 item 5).
    max_request_bytes: int = Field(
        default=1_000_000,
        ge=1_024,
        le=100_000_000,
        description="Largest request body the HTTP service reads; larger ones get 413.",
    )
    max_amount: float = Field(
        default=1_000_000.0,
        gt=0,
        le=1e15,
        description="Largest amount a scoring request may carry (422 above it).",
    )
    earliest_event_year: int = Field(
        default=2000,
        ge=1970,
        le=2100,
        description="Events stamped before 1 January of this year (UTC) are refused.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        named = os.environ.get(_CONFIG_FILE_ENV)
        toml_path = Path(named) if named is not None else Path("bankml.toml")
        if named is not None and not toml_path.is_file():
            # Fail closed: a typo in the path must not start the service with dev defaults.
            raise ConfigError(ERR_MISSING_CONFIG.format(path=named or "''"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    @model_validator(mode="after")
    def _refuse_unsafe_values(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.env != "dev" and key == PLACEHOLDER_SECRET:
            raise ValueError(
                "BANKML_SECRET_KEY is the development placeholder; set a real secret "
                f"(at least 32 characters) before running with BANKML_ENV={self.env}"
            )
        if self.env != "dev" and len(key) < 32:
            raise ValueError("BANKML_SECRET_KEY must be at least 32 characters outside dev")
        if self.env != "dev" and (
            len(set(key)) < MIN_SECRET_UNIQUE_CHARS or estimate_entropy_bits(key) < MIN_SECRET_BITS
        ):
            raise ValueError(
                "BANKML_SECRET_KEY has too little entropy outside dev (about "
                f"{estimate_entropy_bits(key):.0f} bits, {len(set(key))} distinct characters; "
                f"need {MIN_SECRET_BITS} bits and {MIN_SECRET_UNIQUE_CHARS} distinct); generate "
                "one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if self.anchor_every_appends < 0 or self.anchor_every_seconds < 0:
            raise ValueError("anchor schedules must be >= 0 (0 turns that trigger off)")
        url = self.monitoring_webhook_url
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("BANKML_MONITORING_WEBHOOK_URL must be an http:// or https:// URL")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<home>/bankml.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'bankml.db').resolve()}"

    @property
    def resolved_mlflow_uri(self) -> str:
        """The MLflow tracking URI, defaulting to ``sqlite:///<home>/mlflow.db``."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def resolved_credentials_file(self) -> Path:
        """The CLI credentials file: the setting, else ``$XDG_CONFIG_HOME/bankml``."""
        if self.credentials_file is not None:
            return self.credentials_file
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "bankml" / "credentials.json"

    @property
    def resolved_monitoring_rules(self) -> Path:
        """The monitoring rules file, defaulting to ``<policy_dir>/monitoring.toml``."""
        return self.monitoring_rules or self.policy_dir / "monitoring.toml"

    @property
    def secret_bytes(self) -> bytes:
        """The secret key as bytes, for HMAC."""
        return self.secret_key.get_secret_value().encode("utf-8")


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation failures into one readable ConfigError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates the kwargs
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {where}: {msg}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests build their own with ``load_settings``."""
    return load_settings()
