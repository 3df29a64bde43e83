"""The one settings object. It is built once at start-up (:func:`load_settings`) and passed down.

Sources, lowest to highest precedence: defaults, an optional TOML file (``--config``, else ``STREAMGATE_CONFIG``),
then environment variables. The file's entries of named maps (models, aliases, limit tiers, fallback chains, ...)
overlay the built-in entries instead of replacing the whole map; see :mod:`gateway.config_file`. Scalars use the
``STREAMGATE_`` prefix; the standard variables of Kafka, Redis and the provider SDKs (``KAFKA_BOOTSTRAP_SERVERS``,
``REDIS_URL``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``) are honoured
under their usual names. ``STREAMGATE_CONFIG`` is read by :func:`load_settings` only. Nothing else in streamgate
reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.cache_policy import CacheSettings
from gateway.catalog import DEFAULT_ALIASES, DEFAULT_MODELS, ModelSpec
from gateway.client_config import ClientSettings, ServeSettings
from gateway.config_file import OverlaySettingsSource, read_config_file
from gateway.errors import ConfigError
from gateway.event_loop import EventLoopKind
from gateway.guard_policy import GuardPolicy, TenantGuardPolicy
from gateway.kafka_security import KafkaConnection, KafkaSecurity
from gateway.limits.policy import LimitsConfig
from gateway.pricing import PricingSettings
from gateway.prompts.config import PromptSplit
from gateway.resilience.config import ResilienceSettings
from gateway.routing.config import RoutingSettings
from gateway.tenant_binding import TenantBindingSettings

CONFIG_ENV_VAR = "STREAMGATE_CONFIG"

# The document of the config file being loaded by :func:`load_settings`; a context variable because
# pydantic-settings builds its sources in a classmethod that takes no arguments of ours.
_FILE_DOCUMENT: ContextVar[Mapping[str, Any] | None] = ContextVar("streamgate_config_document", default=None)


class TopicNames(BaseModel):
    """Kafka topic names: the four public ones, the gateway's internal hops, and which topics may be reply topics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests: str = "llm.requests"
    results: str = "llm.results"
    usage: str = "llm.usage"
    dlq: str = "llm.dlq"
    alerts: str = "llm.alerts"
    admit: str = "streamgate.admit"
    settle: str = "streamgate.settle"
    reply_topics: tuple[str, ...] = Field(
        default=(), description="Topics a request's reply_to may name exactly (default: the results topic)."
    )
    reply_topic_prefix: str = Field(
        default="llm.results.", description="reply_to may also name an existing topic starting with this ('' = none)."
    )
    reply_topic_refresh_s: float = Field(
        default=5.0, gt=0, description="At most one topic-list refresh per this many seconds when reply_to is unknown."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_reply_topics(cls, data: Any) -> Any:
        # The default allow-list is the results topic, whatever it is called.
        if isinstance(data, dict) and "reply_topics" not in data:
            return {**data, "reply_topics": (data.get("results", "llm.results"),)}
        return data

    def internal(self) -> frozenset[str]:
        """The gateway's own topics by exact name: never a reply topic."""
        return frozenset({self.requests, self.usage, self.dlq, self.alerts, self.admit, self.settle})


class GuardSettings(GuardPolicy):
    """Input limits, the guards in force, and the default and per-tenant guard policy (:mod:`gateway.guard_policy`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_request_bytes: int = 256 * 1024
    max_metadata_bytes: int = Field(
        default=16 * 1024, gt=0, description="JSON bytes of a request's metadata (echoed on its result)."
    )
    max_messages: int = 200
    max_prompt_chars: int = 200_000
    stream_window_chars: int = Field(
        default=64,
        ge=16,
        le=4096,
        description="Characters of a streamed answer held back by the output guards, so that a value split across "
        "chunks never leaks (the longest value with spaces in it must fit).",
    )
    max_json_depth: int = Field(
        default=64, gt=1, description="Nesting of arrays/objects in a request event, refused at intake above this."
    )
    # PII before injection: the classifier reads placeholders, not random-looking keys and numbers.
    enabled: tuple[str, ...] = ("size", "response_format", "deny", "pii", "injection", "pii_output")
    tenants: dict[str, TenantGuardPolicy] = Field(default_factory=dict)

    def policy_for(self, tenant: str) -> GuardPolicy:
        """The policy of ``tenant``: the defaults with its overrides."""
        defaults = GuardPolicy.model_validate(self.model_dump(include=set(GuardPolicy.model_fields)))
        override = self.tenants.get(tenant)
        return defaults if override is None else override.over(defaults)


DEFAULT_STAGE_ACTORS: dict[str, int] = {"cache": 256, "validate": 256}
"""Actors (concurrent jobs) per in-process stage; ``complete`` has ``max_in_flight``, screening exactly one."""


class MetricsSettings(BaseModel):
    """Prometheus labels (``[metrics]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenants: frozenset[str] = Field(
        default=frozenset(), description="Tenants that get their own metric label; every other tenant is 'other'."
    )


class LogSettings(BaseModel):
    """Structured logs (``[logging]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    json_format: bool = Field(default=True, description="One JSON object per line (else plain text).")
    level: str = "INFO"
    debug_payloads: bool = Field(
        default=False, description="Log prompts and outputs (PII redacted) at DEBUG; never on by default."
    )


class BatchSettings(BaseModel):
    """The batch lane (``[batch]``): how requests with ``lane = "batch"`` are collected, submitted and polled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=True, description="Off: batch requests are served in the interactive lane.")
    max_size: int = Field(default=1000, ge=1, description="Submit a provider/model's job once this many wait.")
    max_age_s: float = Field(default=60.0, ge=0, description="... or once the oldest has waited this long.")
    tick_s: float = Field(default=1.0, gt=0, description="How often a worker collects, submits and polls.")
    poll_interval_s: float = Field(default=30.0, gt=0, description="How often a submitted job's status is read.")
    lease_s: float = Field(
        default=30.0, gt=0, description="A worker's hold on a job while submitting or polling (a dead one's lapses)."
    )
    min_deadline_s: float = Field(
        default=60.0, ge=0, description="A batch request whose deadline_ms is nearer than this goes interactive."
    )
    fallback_min_s: float = Field(
        default=5.0, ge=0, description="A failed or expired batch request falls back to the interactive lane only "
        "if its deadline_ms is at least this far away; else it is answered batch_failed.",
    )
    entry_ttl_s: int = Field(default=3 * 86_400, ge=60, description="How long a parked request's record is kept.")


class SimulatorSettings(BaseModel):
    """Defaults of the built-in provider simulator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = 8787
    latency_ms: float = 0.0


class Settings(BaseSettings):
    """Every setting of streamgate, frozen."""

    model_config = SettingsConfigDict(
        env_prefix="STREAMGATE_",
        env_nested_delimiter="__",
        frozen=True,
        extra="ignore",
        populate_by_name=True,
    )

    # --- infrastructure -------------------------------------------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "STREAMGATE_KAFKA_BOOTSTRAP_SERVERS"),
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL", "STREAMGATE_REDIS_URL")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "STREAMGATE_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "STREAMGATE_OPENAI_BASE_URL")
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "STREAMGATE_ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "STREAMGATE_ANTHROPIC_BASE_URL")
    )

    # --- Kafka / Faust --------------------------------------------------------------------------------------
    kafka: KafkaSecurity = Field(
        default_factory=KafkaSecurity, description="TLS and SASL of every Kafka client ([kafka]; see kafka_security)."
    )
    app_id: str = "streamgate"
    topics: TopicNames = Field(default_factory=TopicNames)
    partitions: int = Field(default=8, ge=1, description="Partitions of the internal topics and tables.")
    replication_factor: int = Field(default=1, ge=1)
    max_in_flight: int = Field(default=2048, ge=1, description="Concurrent requests per worker past screening.")
    fetch_max_wait_ms: int = Field(default=10, ge=0, description="Consumer fetch wait; Faust hard-codes 1500.")
    fetch_min_bytes: int = Field(
        default=1, ge=1, description="Bytes a fetch waits for (up to fetch_max_wait_ms) before the broker answers."
    )
    fetch_idle_wait_ms: int = Field(
        default=500,
        ge=0,
        description="Longest fetch wait of an idle worker consumer: it grows from fetch_max_wait_ms with the time "
        "since records last arrived (<= fetch_max_wait_ms: a fixed wait).",
    )
    commit_interval_s: float = Field(default=1.0, gt=0)
    upstream_commit_logic: bool = Field(
        default=False,
        description="Use faust-streaming 0.15.3's own commit logic (loses in-flight events on a crash; tests only).",
    )
    session_timeout_s: float = Field(default=6.0, gt=0)
    settle_in_place: bool = Field(
        default=True,
        description="Settle in the worker that screened a request while it owns the tenant's partition "
        "(saves the streamgate.settle hop); off: always through the settle topic.",
    )
    direct_screening: bool = Field(
        default=True,
        description="Screen requests keyed by tenant where they arrive when the request topic has `partitions` "
        "partitions (saves the streamgate.admit hop); off: every request takes the hop.",
    )
    producer_linger_ms: int = Field(default=2, ge=0)
    producer_max_batch_size: int = Field(default=1024 * 1024, gt=0)
    producer_max_request_size: int = Field(
        default=2 * 1024 * 1024,
        gt=0,
        description="Largest record batch the producer sends (aiokafka max_request_size).",
    )
    max_dead_letter_bytes: int = Field(
        default=512 * 1024,
        ge=0,
        description="Raw bytes of a bad event kept in its dead letter (base64 adds a third); the rest is cut, "
        "its size and SHA-256 kept. Must leave room under producer_max_request_size.",
    )
    shutdown_timeout_s: float = Field(
        default=15.0, gt=0, description="A stopping worker exits after this long even if Faust's stop hangs."
    )
    event_loop: EventLoopKind = Field(
        default="uvloop", description="Event loop of the worker and the simulator: uvloop (C) or asyncio."
    )
    data_dir: Path = Path(".streamgate")
    web_port: int = Field(default=6066, ge=0, description="Faust web server (metrics, status); 0 disables it.")
    web_host: str = Field(default="127.0.0.1", description="Address the web server binds (0.0.0.0 in containers).")

    # --- request handling -----------------------------------------------------------------------------------
    guards: GuardSettings = Field(default_factory=GuardSettings)
    tenant_binding: TenantBindingSettings = Field(
        default_factory=TenantBindingSettings, description="Signed requests: who published is who pays."
    )
    models: dict[str, ModelSpec] = Field(default_factory=lambda: dict(DEFAULT_MODELS))
    aliases: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ALIASES))
    default_model: str = "gpt-4o-mini"
    stages: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_STAGE_ACTORS),
        description="Actors per in-process stage (cache, validate); complete uses max_in_flight.",
    )
    cache: CacheSettings = Field(default_factory=CacheSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    prompts_dir: Path | None = Field(
        default=None, description="Directory of prompt templates, one `<name>/<version>.toml` per version."
    )
    prompts: dict[str, PromptSplit] = Field(default_factory=dict, description="A/B splits by prompt name.")
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    pricing: PricingSettings = Field(default_factory=PricingSettings)
    input_token_margin: float = Field(
        default=1.0,
        ge=1.0,
        description="Safety factor on tiktoken prompt counts when reserving (Claude tokenises differently).",
    )
    ledger_retention_s: float = Field(
        default=900.0, gt=0, description="How long a finished request's ledger record guards against replays."
    )
    completion_ttl_s: int = Field(default=86_400, ge=60, description="How long a completion is kept for redelivery.")
    batch: BatchSettings = Field(default_factory=BatchSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logging: LogSettings = Field(default_factory=LogSettings)
    client: ClientSettings = Field(default_factory=ClientSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @model_validator(mode="after")
    def _check_stages(self) -> Settings:
        if unknown := sorted(set(self.stages) - set(DEFAULT_STAGE_ACTORS)):
            raise ConfigError(f"stages: unknown stage(s) {unknown}; known: {sorted(DEFAULT_STAGE_ACTORS)}")
        if bad := {name: n for name, n in self.stages.items() if n < 1}:
            raise ConfigError(f"stages: actors must be >= 1, got {bad}")
        return self

    @model_validator(mode="after")
    def _check_record_bounds(self) -> Settings:
        # A dead letter is its raw bytes in base64 (4/3) plus a few KB of fields; a request travels whole.
        room = self.producer_max_request_size - 64 * 1024
        if self.max_dead_letter_bytes * 4 // 3 > room or self.guards.max_request_bytes > room:
            raise ConfigError(
                "max_dead_letter_bytes (x4/3) and guards.max_request_bytes must stay 64 KiB under "
                f"producer_max_request_size ({self.producer_max_request_size})"
            )
        return self

    def kafka_connection(self, bootstrap_servers: str | None = None) -> KafkaConnection:
        """How to reach Kafka: ``bootstrap_servers`` (default ``kafka_bootstrap_servers``) with ``[kafka]``'s security.

        Raises :class:`ConfigError` when neither names a broker.
        """
        servers = bootstrap_servers or self.kafka_bootstrap_servers
        if not servers:
            raise ConfigError("KAFKA_BOOTSTRAP_SERVERS is not set (use `streamgate dev` for an embedded broker)")
        return KafkaConnection(servers, self.kafka)

    def stage_actors(self, stage: str) -> int:
        """Actors of an in-process stage (the default when the config does not name it)."""
        if stage == "complete":
            return self.max_in_flight
        return self.stages.get(stage, DEFAULT_STAGE_ACTORS[stage])

    @model_validator(mode="after")
    def _check_models(self) -> Settings:
        for alias, target in self.aliases.items():
            if target not in self.models:
                raise ConfigError(f"alias {alias!r} points at unknown model {target!r}")
        if self.resolve_model_name(self.default_model) is None:
            raise ConfigError(f"default_model {self.default_model!r} is not in the model catalog")
        self.resilience.check_models(self.models.keys())
        self.routing.check_models(self.resolve_model_name, self.models.keys())
        return self

    @model_validator(mode="after")
    def _check_reply_topics(self) -> Settings:
        names = self.topics
        if internal := sorted(name for name in names.reply_topics if self.is_internal_topic(name)):
            raise ConfigError(f"topics.reply_topics names internal topics {internal}: they can never be reply topics")
        prefix = names.reply_topic_prefix
        reached = [name for name in names.internal() if name.startswith(prefix)]
        reached += [q + "*" for q in self.internal_topic_prefixes() if q.startswith(prefix) or prefix.startswith(q)]
        if prefix and reached:
            raise ConfigError(f"topics.reply_topic_prefix {prefix!r} reaches internal topics {sorted(reached)}")
        return self

    def internal_topic_prefixes(self) -> tuple[str, ...]:
        """Prefixes of topics that belong to the gateway's app (changelogs, repartitions) or to Kafka itself."""
        return (f"{self.app_id}-", "__")

    def is_internal_topic(self, name: str) -> bool:
        """Whether ``name`` is one of the gateway's own topics, a table changelog of its app, or Kafka's own."""
        return name in self.topics.internal() or name.startswith(self.internal_topic_prefixes())

    def reply_topic_allowed(self, name: str) -> bool:
        """Whether ``name`` may be a reply topic by its name alone (existence is checked separately): the results
        topic, a name in ``topics.reply_topics``, or a name starting with ``topics.reply_topic_prefix``; never an
        internal topic."""
        topics = self.topics
        if name == topics.results:
            return True
        if self.is_internal_topic(name):
            return False
        prefix = topics.reply_topic_prefix
        return name in topics.reply_topics or (bool(prefix) and name.startswith(prefix) and name != prefix)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment over the TOML file over defaults; explicit keyword arguments win over all."""
        return (init_settings, env_settings, OverlaySettingsSource(settings_cls, _FILE_DOCUMENT.get() or {}))

    def resolve_model_name(self, name: str) -> str | None:
        """Map a model name or alias to a catalog name, or ``None`` when unknown."""
        if name in self.models:
            return name
        return self.aliases.get(name)

    def model_spec(self, name: str) -> ModelSpec:
        """The catalog entry of a model name or alias; raises :class:`ConfigError` when unknown."""
        resolved = self.resolve_model_name(name)
        if resolved is None:
            raise ConfigError(f"unknown model {name!r}")
        return self.models[resolved]


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings once: defaults < config file (TOML) < environment < ``overrides``.

    The config file is ``config_file``, else the file named by ``STREAMGATE_CONFIG``, else none. Every problem
    with the file or the values (malformed TOML, an unknown key, a value out of range) is one
    :class:`ConfigError` line.
    """
    path = config_file if config_file is not None else config_file_from_environment()
    document = read_config_file(path, Settings.model_fields.keys()) if path is not None else {}
    token = _FILE_DOCUMENT.set(document)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        where = f" (config file {path} or environment)" if path is not None else ""
        raise ConfigError(f"invalid settings{where}: {_describe(exc)}") from exc
    finally:
        _FILE_DOCUMENT.reset(token)


def config_file_from_environment() -> Path | None:
    """The config file named by ``STREAMGATE_CONFIG`` (unset or empty: none)."""
    value = os.environ.get(CONFIG_ENV_VAR, "")
    return Path(value) if value else None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(problems)
