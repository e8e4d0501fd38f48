"""Loopback fakes that speak the real Ollama and LangSmith protocols, for tests.

Nothing here talks to the outside world: every server binds 127.0.0.1 on an ephemeral port.
Fixtures live in `tests.servers.fixtures` (``fake_ollama``, ``langsmith_capture``).
"""

from ._http import RecordedRequest, closed_port
from .langsmith import LangSmithCapture, project_id, reset_langsmith_caches
from .ollama import FakeOllama, echo_reply, hashed_embedding

__all__ = [
    "FakeOllama",
    "LangSmithCapture",
    "RecordedRequest",
    "closed_port",
    "echo_reply",
    "hashed_embedding",
    "project_id",
    "reset_langsmith_caches",
]
