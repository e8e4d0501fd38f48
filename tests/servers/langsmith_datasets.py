"""Own the datasets, examples and experiments side of `LangSmithCapture`.

`DatasetStore` keeps what the installed ``langsmith`` client (0.15) sends for datasets and
experiments, and answers in the shapes its schemas parse:

- ``POST /datasets`` (409 when the name exists, as LangSmith does), ``GET /datasets?name=``
  (a list, empty when unknown), ``GET /datasets/{id}``;
- ``POST /v1/platform/datasets/{id}/examples`` (multipart: part ``<id>`` holds created_at,
  metadata and split, ``<id>.inputs`` and ``<id>.outputs`` the rest) and ``PATCH`` on the same
  path (updates); ``POST /examples/bulk`` (the JSON path older servers offer);
  ``GET /examples?dataset=&offset=&limit=`` (paged);
- ``POST /sessions`` keeps a project's ``reference_dataset_id``, ``extra`` (metadata) and
  ``description`` so experiments can be asserted on.

Ids: a dataset's is random (the client never sends one); an example keeps the id the client
chose; a project's is ``project_id(name)``, stable across calls (see `LangSmithCapture`).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from ._http import Exchange

Record = dict[str, Any]

_PART_NAME = re.compile(rb'name="([^"]+)"')


def _now() -> str:
    return datetime.now(UTC).isoformat()


class DatasetStore:
    """Datasets, their examples and the projects created with a reference dataset."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._datasets: dict[str, Record] = {}
        self._examples: dict[str, Record] = {}
        self._projects: dict[str, Record] = {}

    # recorded state ------------------------------------------------------------------------
    @property
    def datasets(self) -> list[Record]:
        with self._lock:
            return [dict(d) for d in self._datasets.values()]

    def dataset(self, name: str) -> Record:
        """Return the dataset called `name` (KeyError when none was created)."""
        with self._lock:
            for dataset in self._datasets.values():
                if dataset["name"] == name:
                    return dict(dataset)
        raise KeyError(f"no dataset {name!r}; created: {[d['name'] for d in self.datasets]}")

    def examples(self, dataset_id: Any = None) -> list[Record]:
        """Every example received (of one dataset, if given), in arrival order."""
        with self._lock:
            return [
                dict(e)
                for e in self._examples.values()
                if dataset_id is None or e["dataset_id"] == str(dataset_id)
            ]

    @property
    def projects(self) -> list[Record]:
        """Projects created by ``POST /sessions`` (experiments among them), in arrival order."""
        with self._lock:
            return [dict(p) for p in self._projects.values()]

    def project(self, name: str) -> Record | None:
        with self._lock:
            found = next((p for p in self._projects.values() if p["name"] == name), None)
            return dict(found) if found else None

    # protocol ------------------------------------------------------------------------------
    def handle(self, ex: Exchange, parts: list[str]) -> bool:
        """Answer `ex` if it is a datasets or examples call; return whether it was."""
        match (ex.method, parts):
            case ("POST", ["datasets"]):
                self._create_dataset(ex)
            case ("GET", ["datasets"]):
                name = (ex.query.get("name") or [None])[0]
                ex.send_json(200, [d for d in self.datasets if name in (None, d["name"])])
            case ("GET", ["datasets", dataset_id]):
                found = self._find_dataset(dataset_id)
                ex.send_json(200, found) if found else ex.send_json(404, {"detail": "Not Found"})
            case ("POST" | "PATCH", ["v1", "platform", "datasets", dataset_id, "examples"]):
                self._upsert_multipart(ex, dataset_id, update=ex.method == "PATCH")
            case ("POST", ["examples", "bulk"]):
                self._bulk_examples(ex)
            case ("GET", ["examples"]):
                self._list_examples(ex)
            case _:
                return False
        return True

    def store_project(self, body: Record, base: Record) -> Record:
        """Keep a created project (``base`` carries its id and tenant); return it."""
        project = {
            **base,
            "reference_dataset_id": _str(body.get("reference_dataset_id")),
            "extra": body.get("extra") or {},
            "description": body.get("description"),
        }
        with self._lock:
            self._projects[project["id"]] = project
            if dataset := self._datasets.get(project["reference_dataset_id"] or ""):
                dataset["session_count"] = int(dataset.get("session_count") or 0) + 1
        return project

    def known_project(self, name: str | None = None, pid: str | None = None) -> Record | None:
        with self._lock:
            for project in self._projects.values():
                if project["name"] == name or project["id"] == pid:
                    return dict(project)
        return None

    def _find_dataset(self, dataset_id: str) -> Record | None:
        with self._lock:
            found = self._datasets.get(dataset_id)
            return dict(found) if found else None

    def _create_dataset(self, ex: Exchange) -> None:
        body = ex.json or {}
        name = body.get("name")
        if not name:
            ex.send_json(422, {"detail": "name is required"})
            return
        with self._lock:
            if any(d["name"] == name for d in self._datasets.values()):
                ex.send_json(409, {"detail": f"Dataset {name} already exists"})
                return
            dataset = {
                "id": str(uuid.uuid4()),
                "name": name,
                "description": body.get("description"),
                "data_type": body.get("data_type", "kv"),
                "created_at": _now(),
                "modified_at": _now(),
                "example_count": 0,
                "session_count": 0,
                "metadata": (body.get("extra") or {}).get("metadata"),
            }
            self._datasets[dataset["id"]] = dataset
        ex.send_json(200, dataset)

    def _upsert_multipart(self, ex: Exchange, dataset_id: str, *, update: bool) -> None:
        from requests_toolbelt.multipart.decoder import MultipartDecoder

        if self._find_dataset(dataset_id) is None:
            ex.send_json(404, {"detail": "Dataset not found"})
            return
        fields: dict[str, Record] = {}
        for part in MultipartDecoder(ex.body, ex.headers["content-type"]).parts:
            match = _PART_NAME.search(part.headers.get(b"Content-Disposition", b""))
            if not match:
                continue
            example_id, _, field = match.group(1).decode().partition(".")
            entry = fields.setdefault(example_id, {})
            value = json.loads(part.content) if part.content else None
            if field:
                entry[field] = value
            elif isinstance(value, dict):
                entry.update(value)
        if update and (unknown := [i for i in fields if i not in self._examples]):
            ex.send_json(404, {"detail": f"Examples not found: {unknown}"})
            return
        ids = [self._store_example(dataset_id, i, f, update=update) for i, f in fields.items()]
        ex.send_json(200, {"example_ids": ids, "count": len(ids), "as_of": _now()})

    def _bulk_examples(self, ex: Exchange) -> None:
        stored = []
        for item in ex.json or []:
            example_id = str(item.get("id") or uuid.uuid4())
            self._store_example(str(item["dataset_id"]), example_id, item, update=False)
            stored.append(self._examples[example_id])
        ex.send_json(200, stored)

    def _store_example(
        self, dataset_id: str, example_id: str, fields: Record, *, update: bool
    ) -> str:
        with self._lock:
            example = self._examples.get(example_id) if update else None
            if example is None:
                example = {"id": example_id, "dataset_id": dataset_id, "created_at": _now()}
                example |= {"inputs": {}, "outputs": None, "metadata": None}
                if dataset := self._datasets.get(dataset_id):
                    dataset["example_count"] += 1
            for key in ("inputs", "outputs", "metadata", "split"):
                if key in fields:
                    example[key] = fields[key]
            example["modified_at"] = _now()
            self._examples[example_id] = example
        return example_id

    def _list_examples(self, ex: Exchange) -> None:
        dataset = (ex.query.get("dataset") or [None])[0]
        wanted = set(ex.query.get("id") or [])
        offset = int((ex.query.get("offset") or ["0"])[0])
        limit = int((ex.query.get("limit") or ["100"])[0])
        found = [e for e in self.examples(dataset) if not wanted or e["id"] in wanted]
        ex.send_json(200, found[offset : offset + limit])


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
