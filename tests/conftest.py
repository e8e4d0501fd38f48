"""Shared fixtures: a network guard, isolated settings, and small sample files."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from rag.config import Settings

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):
    def connect(self, address):
        if not _is_local(address):
            raise OSError(f"test tried to reach {address!r}: tests never leave this machine")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse any connection that leaves the machine."""
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Keep the developer's own configuration out of tests."""
    import os

    for name in list(os.environ):
        if name.startswith(("GROUNDWORK_", "LANGSMITH_", "LANGCHAIN_")) or name in (
            "OLLAMA_HOST",
            "CHROMA_URL",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings with all state under a temp dir and the embedded backend."""
    return Settings(data_dir=tmp_path / "data", backend="embedded")
