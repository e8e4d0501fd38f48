"""Settings: every knob Groundwork has, with defaults that work on a fresh machine.

This is the only module that reads the environment. Variables are prefixed ``GROUNDWORK_``
(``GROUNDWORK_TOP_K=8``); a few follow the conventions of the tool they configure
(``OLLAMA_HOST``, ``CHROMA_URL``, ``LANGSMITH_*``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Backend = Literal["auto", "ollama", "embedded"]

REPO = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Groundwork configuration, read from ``GROUNDWORK_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="GROUNDWORK_", extra="ignore")

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(
        Path("data"), description="Folder for runtime state: Chroma store, SQLite database."
    )
    chroma_url: str | None = Field(
        None,
        validation_alias=AliasChoices("GROUNDWORK_CHROMA_URL", "CHROMA_URL"),
        description="URL of a `chroma run` server (e.g. http://127.0.0.1:8000; "
        "http://user:password@host:8000 sends HTTP Basic credentials, for a server behind an "
        "authenticating proxy). Unset: an embedded store under data_dir/chroma, opened by one "
        "process at a time.",
        repr=False,  # it may hold a password
    )
    collection: str = Field(
        "groundwork", min_length=3, description="Chroma collection holding document chunks."
    )

    # --- models --------------------------------------------------------------------------
    backend: Backend = Field(
        "auto",
        description="Model backend: 'ollama', 'embedded' (in-process llama.cpp), or 'auto' "
        "(Ollama when the server answers and has the chat model, else embedded).",
    )
    ollama_host: str = Field(
        "http://127.0.0.1:11434",
        validation_alias=AliasChoices("GROUNDWORK_OLLAMA_HOST", "OLLAMA_HOST"),
        description="Base URL of the Ollama server.",
    )
    ollama_model: str = Field("llama3.2:3b", description="Ollama chat model name.")
    ollama_embed_model: str = Field(
        "nomic-embed-text", description="Ollama embedding model for new stores."
    )
    ollama_timeout: float = Field(
        120.0, gt=0, description="Seconds to wait for an Ollama response before giving up."
    )
    ollama_probe_timeout: float = Field(
        1.5, gt=0, description="Seconds the 'auto' backend waits for Ollama to answer."
    )
    embedded_threads: int = Field(
        1,
        ge=1,
        description="CPU threads for the embedded chat model (1 is steadiest when "
        "other work shares the CPU).",
    )
    embedded_context: int = Field(2048, ge=512, description="Embedded model context window.")
    max_answer_tokens: int = Field(320, ge=16, description="Upper bound on answer length.")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")

    # --- retrieval and answering -----------------------------------------------------------
    top_k: int = Field(5, ge=1, le=20, description="Passages given to the model per question.")
    chunk_tokens: int = Field(
        200, ge=32, le=256, description="Target chunk size in embedder tokens (window: 256)."
    )
    unsupported: Literal["flag", "remove"] = Field(
        "flag",
        description="What to do with answer sentences the passages do not support: 'flag' shows "
        "them marked as unverified, 'remove' drops them.",
    )
    answer_mode: Literal["auto", "quote", "generate"] = Field(
        "auto",
        description="How answers start: 'quote' shows the documents' best sentences at once "
        "(no model; a generated answer is one click away), 'generate' writes an answer with the "
        "model and checks it, 'auto' quotes with the embedded model and generates with Ollama.",
    )
    refusal_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Below this probability that the passages answer the question (the refusal "
        "gate), the answer is 'not found'. Higher refuses more. When generating, the gate only "
        "refuses below half of it and the model decides the rest.",
    )
    prompt_version: str = Field(
        "v2", description="Version of the prompt files in rag/answer/prompts used to answer."
    )

    # --- ingestion limits --------------------------------------------------------------------
    max_file_mb: float = Field(50.0, gt=0, description="Largest accepted upload, in MB.")
    max_pages: int = Field(2000, ge=1, description="Most pages accepted in one document.")

    # --- guardrails -----------------------------------------------------------------------------
    pii_policy: str = Field(
        "redact",
        description="What to do with personal data found in a question, per type: 'redact' "
        "(replaced by a typed placeholder such as <EMAIL_1> before the question reaches the "
        "model, a trace or a log), 'block' (the question is refused) or 'allow'. A default "
        "action, then TYPE=ACTION overrides, comma-separated: 'redact,US_SSN=block,"
        "LOCATION=allow'. Types: PERSON, LOCATION, ADDRESS, EMAIL_ADDRESS, PHONE_NUMBER, "
        "CREDIT_CARD, US_SSN, IBAN_CODE, IP_ADDRESS.",
    )
    pii_ner: bool = Field(
        True,
        description="Find names and places with the spaCy model as well as the pattern "
        "recognisers (false: patterns only; PERSON and LOCATION are then not detected).",
    )
    pii_redact_documents: bool = Field(
        False,
        description="Redact personal data in documents before they are embedded and stored "
        "(unset: documents with personal data are only flagged in their ingestion report).",
    )
    injection_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Prompt-injection score at or above which a question or document passage is "
        "treated as an injection. Lower catches more and raises more false alarms. Unset: the "
        "threshold chosen by cross-validation when the shipped detector was fitted.",
    )
    passage_injection_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="The same for document passages at ingestion: at or above it a passage is "
        "quarantined. Unset: the threshold fitted for passages (set for very few false alarms "
        "on real documents, since each one holds back real content).",
    )
    injection_action: Literal["block", "warn"] = Field(
        "block",
        description="A question that looks like a prompt injection: 'block' refuses it, 'warn' "
        "answers it with a warning. Document passages that look like one are always "
        "quarantined until an admin releases them.",
    )
    output_action: Literal["flag", "block"] = Field(
        "flag",
        description="An answer that fails an output check (personal data the passages do not "
        "contain, the system prompt echoed, a denied term): 'flag' shows it with a warning, "
        "'block' withholds it.",
    )
    deny_terms: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Words or phrases an answer must not contain (comma-separated), added to the "
        "built-in list of abusive terms.",
    )

    # --- access -------------------------------------------------------------------------------
    allowed_users: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Who may sign in when sign-in is configured (comma-separated): "
        "'@example.org' (an email domain), 'jo@example.org' (one address), a group name from "
        "the identity provider's groups claim, or '*' (anyone the provider accepts). Empty: "
        "nobody may sign in until it is set.",
    )
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Who is an admin (same forms as allowed_users): every page, every "
        "collection, document and collection management, feedback review, evaluation.",
    )
    editors: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Who is an editor (same forms): the Documents page, for the collections "
        "they may read.",
    )
    groups_claim: str = Field(
        "groups",
        description="Name of the identity provider's claim listing a user's groups.",
    )

    # --- cost -----------------------------------------------------------------------------------
    price_file: Path | None = Field(
        None,
        description="Price table (TOML or JSON) for cost and shadow cost on the Insights page; "
        "unset: data_dir/prices.toml when it exists, else built-in defaults.",
    )

    # --- evaluation ---------------------------------------------------------------------------
    eval_dirs: Annotated[list[Path] | None, NoDecode] = Field(
        None,
        description="Folders the Evaluation page may read golden sets and documents from "
        "(separated by ':'; relative to the project root). Unset: the project's evals/ and "
        "rag/samples/, and data_dir/golden.",
    )
    eval_watch: Annotated[list[Path] | None, NoDecode] = Field(
        None,
        description="The monitoring set: golden sets about the live documents, answered from the "
        "live store when the system changes or on schedule (separated by ':'). Unset: the cases "
        "added from feedback review (data_dir/golden/feedback.jsonl).",
    )
    eval_on_change: bool = Field(
        True,
        description="Run the monitoring set when the prompt version, backend, model, embedder, "
        "index version or the set itself differs from its last run (the app checks every 5 "
        "minutes).",
    )
    eval_every_hours: float = Field(
        0.0,
        ge=0,
        description="Also run the monitoring set this many hours after its last run (0: only on "
        "change).",
    )
    drift_margin: float = Field(
        0.05,
        ge=0,
        le=1,
        description="A banner on the Insights and Evaluation pages when a metric of a series' "
        "latest run falls more than this below its baseline run (0.05 = 5 points).",
    )

    # --- tracing (LangSmith's own variables) -------------------------------------------------
    langsmith_tracing: bool = Field(
        False,
        validation_alias=AliasChoices("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"),
        description="Send traces and feedback to LangSmith.",
    )
    langsmith_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"),
        description="LangSmith API key.",
    )
    langsmith_project: str = Field(
        "groundwork",
        validation_alias=AliasChoices("LANGSMITH_PROJECT", "LANGCHAIN_PROJECT"),
        description="LangSmith project that receives traces.",
    )
    langsmith_endpoint: str = Field(
        "https://api.smith.langchain.com",
        validation_alias=AliasChoices("LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT"),
        description="LangSmith API URL (self-hosted LangSmith or a proxy).",
    )
    langsmith_timeout: float = Field(
        2.0, gt=0, description="Seconds a background LangSmith request may take."
    )
    pseudonym_secret: SecretStr | None = Field(
        None,
        description="Key of the HMAC that turns a user's email into the pseudonym traces carry "
        "(at least 16 characters). Unset: a random key kept in data_dir/pseudonym.key.",
    )

    @field_validator("deny_terms", "allowed_users", "admins", "editors", mode="before")
    @classmethod
    def _split_terms(cls, value):
        if isinstance(value, str):  # from the environment: comma-separated
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("eval_dirs", "eval_watch", mode="before")
    @classmethod
    def _split_dirs(cls, value):
        if isinstance(value, str):  # from the environment: a PATH-style list
            return [part for part in value.split(os.pathsep) if part.strip()]
        return value

    @property
    def chroma_dir(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "chroma"

    @property
    def prices_path(self) -> Path:
        """The price table file in effect."""
        return self.price_file or self.data_dir / "prices.toml"

    @property
    def db_path(self) -> Path:
        """SQLite database holding feedback, the run log and the document registry."""
        return self.data_dir / "app.db"

    @property
    def eval_roots(self) -> list[Path]:
        """The folders evaluation inputs may come from, resolved (relative to the project)."""
        dirs = self.eval_dirs
        if dirs is None:
            dirs = [REPO / "evals", REPO / "rag" / "samples", (self.data_dir / "golden").absolute()]
        return [(REPO / d.expanduser()).resolve() for d in dirs]


def settings_table() -> list[dict[str, str]]:
    """Describe every setting (name, environment variable, default, description)."""
    rows = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = (
            ", ".join(alias.choices)
            if isinstance(alias, AliasChoices)
            else f"GROUNDWORK_{name.upper()}"
        )
        rows.append(
            {
                "name": name,
                "env": env,
                "default": repr(field.default),
                "description": field.description or "",
            }
        )
    return rows
