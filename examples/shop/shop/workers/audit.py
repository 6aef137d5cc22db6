"""A background thread that writes audit events to disk, fed by a queue."""

from __future__ import annotations

import itertools
import queue
import threading

from shop.adapters import FileStorage

_STOP = object()


class AuditLogger(threading.Thread):
    def __init__(self, storage: FileStorage, filename: str = "audit.jsonl") -> None:
        super().__init__(name="audit-logger")
        self.storage = storage
        self.filename = filename
        self._queue: queue.Queue = queue.Queue()
        self._seq = itertools.count(1)
        self.written = 0

    def record(self, event: str, **fields) -> None:
        """Called from any thread; returns at once."""
        self._queue.put({"seq": next(self._seq), "event": event, **fields})

    def run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                self.storage.append_record(self.filename, item)
                self.written += 1
            finally:
                self._queue.task_done()

    def stop(self) -> None:
        """Flush what is queued, then end the thread."""
        self._queue.put(_STOP)
        self.join()
