"""Files on disk: JSON documents and JSON-lines record streams."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator


class FileStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        return self.root / name

    def write_json(self, name: str, document: Any) -> Path:
        target = self.path(name)
        target.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
        return target

    def read_json(self, name: str) -> Any:
        return json.loads(self.path(name).read_text(encoding="utf-8"))

    def write_lines(self, name: str, lines: Iterable[str]) -> int:
        """Write lines as they come (the iterable may be a generator)."""
        count = 0
        with self.path(name).open("w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line + "\n")
                count += 1
        return count

    def append_record(self, name: str, record: dict) -> None:
        with self._lock, self.path(name).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")

    def iter_records(self, name: str) -> Iterator[dict]:
        """Yield one decoded JSON-lines record at a time, never the whole file."""
        with self.path(name).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)
