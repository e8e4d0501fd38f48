"""Model backends: which chat model and embedder answer, and why.

``resolve_backend`` turns the ``backend`` setting into a concrete choice (``auto`` probes Ollama);
``make_chat_model`` and ``make_embeddings`` build the LangChain objects for it. Every backend runs
through the same chain; they differ only in what these factories return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from rag.config import Settings
from rag.errors import BackendUnavailable, ConfigError

BACKENDS = ("auto", "ollama", "embedded")


@dataclass(frozen=True)
class OllamaStatus:
    """What the Ollama server said when probed."""

    host: str
    reachable: bool
    models: tuple[str, ...] = ()
    error: str = ""

    def has(self, model: str) -> bool:
        """Whether ``model`` (``name`` or ``name:latest``) is pulled on the server."""
        wanted = {model, model if ":" in model else f"{model}:latest"}
        return bool(wanted & set(self.models))


@dataclass(frozen=True)
class BackendChoice:
    """The backend that will answer, its chat model, and the reason it was chosen."""

    name: str  # "ollama" | "embedded"
    chat_model: str
    reason: str
    ollama: OllamaStatus | None = field(default=None, compare=False)


def probe_ollama(settings: Settings) -> OllamaStatus:
    """Ask the Ollama server which models it has; never raises."""
    host = settings.ollama_host.rstrip("/")
    try:
        response = httpx.get(f"{host}/api/tags", timeout=settings.ollama_probe_timeout)
        response.raise_for_status()
        models = tuple(
            str(m.get("model") or m.get("name")) for m in response.json().get("models", [])
        )
        return OllamaStatus(host, True, models)
    except (httpx.HTTPError, ValueError) as exc:
        return OllamaStatus(host, False, error=f"{type(exc).__name__}: {exc}")


def _ollama_problem(settings: Settings, status: OllamaStatus) -> str | None:
    if not status.reachable:
        return (
            f"Ollama at {status.host} is not reachable ({status.error}). Start it with "
            "`ollama serve` (or set OLLAMA_HOST)."
        )
    if not status.has(settings.ollama_model):
        return (
            f"Ollama at {status.host} does not have the model '{settings.ollama_model}'. Run "
            f"`ollama pull {settings.ollama_model}`, or set GROUNDWORK_OLLAMA_MODEL to one of: "
            f"{', '.join(status.models) or 'none pulled yet'}."
        )
    return None


def embedded_chat_model_name() -> str:
    """Name of the embedded chat model."""
    from rag.models.llm_embedded import MODEL_NAME

    return MODEL_NAME


def resolve_backend(settings: Settings) -> BackendChoice:
    """Decide which backend answers, raising ``BackendUnavailable`` with what to do."""
    match settings.backend:
        case "ollama":
            status = probe_ollama(settings)
            if problem := _ollama_problem(settings, status):
                raise BackendUnavailable(
                    f"{problem} Or use the embedded model: GROUNDWORK_BACKEND=embedded."
                )
            return BackendChoice(
                "ollama",
                settings.ollama_model,
                f"Configured to use Ollama (GROUNDWORK_BACKEND=ollama) at {status.host}.",
                status,
            )
        case "embedded":
            _check_embedded()
            return BackendChoice(
                "embedded",
                embedded_chat_model_name(),
                "Configured to use the embedded model (GROUNDWORK_BACKEND=embedded): it runs "
                "in-process on the CPU; point GROUNDWORK_BACKEND at Ollama for better answers.",
            )
        case "auto":
            status = probe_ollama(settings)
            problem = _ollama_problem(settings, status)
            if problem is None:
                return BackendChoice(
                    "ollama",
                    settings.ollama_model,
                    f"Ollama at {status.host} answered and has {settings.ollama_model}.",
                    status,
                )
            _check_embedded()
            return BackendChoice(
                "embedded",
                embedded_chat_model_name(),
                f"Using the embedded model. {problem}",
                status,
            )
        case other:
            raise ConfigError(f"Unknown backend {other!r}; choose one of: {', '.join(BACKENDS)}.")


def _check_embedded() -> None:
    from rag.models.llm_embedded import check_llama_cpp, find_model_file

    check_llama_cpp()
    find_model_file()


def make_chat_model(settings: Settings, choice: BackendChoice) -> BaseChatModel:
    """Build the chat model for ``choice``."""
    match choice.name:
        case "ollama":
            from langchain_ollama import ChatOllama

            return ChatOllama(
                base_url=settings.ollama_host,
                model=choice.chat_model,
                temperature=settings.temperature,
                num_predict=settings.max_answer_tokens,
                client_kwargs={"timeout": settings.ollama_timeout},
            )
        case "embedded":
            from rag.models.llm_embedded import EmbeddedChatModel, find_model_file

            return EmbeddedChatModel(
                model_path=str(find_model_file()),
                n_ctx=settings.embedded_context,
                n_threads=settings.embedded_threads,
                max_tokens=settings.max_answer_tokens,
                temperature=settings.temperature,
            )
        case other:
            raise ConfigError(f"Unknown chat backend {other!r}; choose 'ollama' or 'embedded'.")


def default_embedder(settings: Settings, choice: BackendChoice) -> str:
    """The embedder a new store gets: Ollama's when it has the model, else the embedded one."""
    from rag.models.embeddings import DEFAULT_EMBEDDER

    if choice.name == "ollama" and choice.ollama and choice.ollama.has(settings.ollama_embed_model):
        return f"ollama/{settings.ollama_embed_model}"
    return DEFAULT_EMBEDDER


def make_embeddings(settings: Settings, embedder: str) -> Embeddings:
    """Build the embedding model named ``embedder`` (``embedded/NAME`` or ``ollama/NAME``)."""
    kind, _, name = embedder.partition("/")
    match kind:
        case "embedded":
            from rag.models.embeddings import MODEL_NAME, MiniLMEmbeddings

            if name != MODEL_NAME:
                raise ConfigError(f"Unknown embedded embedder {name!r}; available: {MODEL_NAME}.")
            return MiniLMEmbeddings()
        case "ollama":
            status = probe_ollama(settings)
            if not status.reachable:
                raise BackendUnavailable(
                    f"The document store was built with Ollama embeddings ({name}), but Ollama at "
                    f"{status.host} is not reachable. Start Ollama, or re-index the documents "
                    "with the embedded embedder (the app offers it, or run "
                    "`python -m rag reindex`)."
                )
            if not status.has(name):
                raise BackendUnavailable(
                    f"The document store was built with Ollama embeddings ({name}), which Ollama "
                    f"at {status.host} does not have. Run `ollama pull {name}`, or re-index the "
                    "documents with the embedded embedder (`python -m rag reindex`)."
                )
            from langchain_ollama import OllamaEmbeddings

            return OllamaEmbeddings(
                base_url=settings.ollama_host,
                model=name,
                client_kwargs={"timeout": settings.ollama_timeout},
            )
        case _:
            raise ConfigError(
                f"Unknown embedder {embedder!r}; use 'embedded/NAME' or 'ollama/NAME'."
            )
