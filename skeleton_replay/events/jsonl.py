"""trace.jsonl: write typed events as JSON lines, and read them back.

Line 1 is the header record, then one line per recorded event, then an end record.
A trace without an end record was cut short (the process was killed).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from .. import native, safefiles
from .types import CALL, EVENT_TYPE, EXCEPTION, FORMAT_VERSION, RESUME, RETURN, YIELD, ChunkedList, Endpoint, Event

Fragment = orjson.Fragment
_DETAIL_KEY = {CALL: "args", RETURN: "return_value", EXCEPTION: "exception", YIELD: "value", RESUME: "exception"}


class TraceWriter:
    """Streams events into trace.jsonl (opened as .partial, renamed when complete).

    The event lines come from the C extension events/_jsonw.c where it was compiled (native.py), else
    from this module's loop: the same bytes either way (tests/test_jsonw_native.py). The C writer hands
    every event it does not handle (an odd type in a summary, a malformed event) to _line, so the rare
    cases and their errors are this module's.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._f: IO[bytes] = safefiles.open_new(self.partial)  # private; a planted link is replaced
        self._json: dict[str, bytes] = {}  # node_id -> the endpoint's JSON, written as is on every event
        self._fragments: dict[str, orjson.Fragment] = {}  # the same, wrapped for orjson.dumps
        self._native = native.load("events._jsonw")
        self._cache = self._native.cache() if self._native is not None else None  # the C writer's, across batches
        self.lines = 0

    def _endpoint_json(self, ep: Endpoint) -> bytes:
        js = self._json.get(ep.node_id)
        if js is None:
            # a copy: orjson's result keeps a 4 KiB buffer however short the JSON is (bytes() would not copy)
            js = self._json[ep.node_id] = b"".join((orjson.dumps(ep.as_json()), b""))
        return js

    def endpoint_json(self, ep: Endpoint) -> bytes:
        """An endpoint's JSON as the event lines have it (cached per node): for the end record's counted calls."""
        js = self._json.get(ep.node_id)
        return js if js is not None else self._endpoint_json(ep)

    def _fragment(self, ep: Endpoint) -> orjson.Fragment:
        frag = self._fragments.get(ep.node_id)
        if frag is None:
            frag = self._fragments[ep.node_id] = orjson.Fragment(self._endpoint_json(ep))
        return frag

    def record(self, data: dict[str, Any]) -> None:
        """One record line (the header, the end). A top-level ChunkedList value is written a chunk at a time,
        spliced where a one-off marker stands for it: the bytes orjson.dumps(data) would give."""
        chunked = [k for k, v in data.items() if type(v) is ChunkedList]
        if len(chunked) == 1:
            (key,) = chunked
            value: ChunkedList = data[key]
            marker = b'"\\u0000' + os.urandom(16).hex().encode() + b'"'  # no string orjson writes is this
            before, found, after = orjson.dumps({**data, key: Fragment(marker)}).partition(marker)
            if found and marker not in after:
                write = self._f.write
                write(before)
                sep = b"["
                for chunk in value.json_chunks():
                    if chunk:
                        write(sep)
                        if type(chunk) is bytes:  # its items' JSON, joined (write_trace.py: _jsonw.counted_json)
                            write(chunk)
                        else:
                            write(memoryview(orjson.dumps(chunk))[1:-1])  # (a view: no copy of the chunk's JSON)
                        sep = b","
                write(b"[]" if sep == b"[" else b"]")
                write(after)
                write(b"\n")
                self.lines += 1
                return
        if chunked:
            data = {k: v.as_list() if type(v) is ChunkedList else v for k, v in data.items()}
        self._f.write(orjson.dumps(data))  # not joined to its newline: a pytest run's end record is 35 MB
        self._f.write(b"\n")
        self.lines += 1

    def write_batch(self, events: list[Event]) -> None:
        """Recorded events (order >= 0) as JSON lines."""
        if self._native is not None:
            self.lines += self._native.write_batch(
                events, self._f.write, self._json, self._endpoint_json, self._line, FORMAT_VERSION, self._cache
            )
            return
        lines: list[bytes] = []
        append = lines.append
        line = self._line
        for e in events:
            text = line(e)
            if text is not None:
                append(text)
                if len(lines) >= 256:  # each orjson result holds 4 KiB until freed: write them soon
                    self._write_lines(lines)
        if lines:
            self._write_lines(lines)

    def _line(self, e: Event) -> bytes | None:
        """One event's line without its newline (None for an event past the cap): the format of trace.jsonl."""
        order, kind, call_id, t_ns, depth, thread, caller, callee, detail, skipped, thread_name, ns, scenario = e
        if order < 0:
            return None
        frags = self._fragments
        callee_json = frags.get(callee.node_id)
        if callee_json is None:
            callee_json = self._fragment(callee)
        caller_json = None
        if caller is not None:
            caller_json = frags.get(caller.node_id)
            if caller_json is None:
                caller_json = self._fragment(caller)
        d = {
            "schema_version": FORMAT_VERSION,
            "event_type": EVENT_TYPE[kind],
            "order": order,
            "call_id": call_id,
            "timestamp": t_ns / 1e9,
            "depth": depth,
            "thread": thread,
            "caller": caller_json,
            "callee": callee_json,
        }
        if thread_name is not None:
            d["thread_name"] = thread_name
        if scenario is not None:
            d["scenario"] = scenario
        if detail is not None:  # JSON bytes (a recording's summary, written as is), or a value read back
            d[_DETAIL_KEY[kind]] = Fragment(detail) if type(detail) is bytes else detail
        elif skipped:
            d["summary_skipped"] = True
        if kind in (RETURN, EXCEPTION):
            d["duration_ns"] = ns
        return orjson.dumps(d)

    def _write_lines(self, lines: list[bytes]) -> None:
        self._f.write(b"\n".join(lines) + b"\n")
        self.lines += len(lines)
        lines.clear()

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> Path:
        self._cache = None  # its references to the endpoints
        self._f.close()
        os.replace(self.partial, self.path)
        return self.path


class TraceFormatError(ValueError):
    pass


@dataclass
class TraceContents:
    header: dict[str, Any]
    end: dict[str, Any] | None = None
    truncated_line: int | None = None  # 1-based line number of an unreadable last line
    warnings: list[str] = field(default_factory=list)


def read_trace(
    path: str | os.PathLike[str], contents: TraceContents | None = None
) -> tuple[TraceContents, Generator[Event, None, None]]:
    """Header first, then the events (a generator: close() it to stop early). The end record lands in contents.end."""
    path = Path(path)
    f = open(path, "rb")  # noqa: SIM115  # closed below on a bad header, else by _events (it owns f)
    first = f.readline()
    try:
        header = orjson.loads(first)
    except orjson.JSONDecodeError:
        f.close()
        raise TraceFormatError(f"{path}:1: not a Skeleton trace (the first line is not JSON)") from None
    if not isinstance(header, dict) or header.get("record") != "header":
        f.close()
        raise TraceFormatError(f"{path}:1: not a Skeleton trace (no header record)")
    if header.get("schema_version", 0) > FORMAT_VERSION:
        f.close()
        raise TraceFormatError(
            f"{path}: trace format {header.get('schema_version')} is newer than this Skeleton "
            f"reads ({FORMAT_VERSION}); upgrade skeleton-replay"
        )
    out = TraceContents(header)
    return out, _events(f, path, out)


def _events(f: IO[bytes], path: Path, out: TraceContents) -> Generator[Event, None, None]:
    endpoints: dict[str, Endpoint] = {}

    def endpoint(d: dict[str, Any]) -> Endpoint:
        ep = endpoints.get(d["node_id"])
        if ep is None:
            ep = endpoints[d["node_id"]] = Endpoint.from_json(d)
        return ep

    lineno = 1
    with f:
        for raw in f:
            lineno += 1
            try:
                d = orjson.loads(raw)
            except orjson.JSONDecodeError:
                if not raw.endswith(b"\n"):
                    out.truncated_line = lineno
                    out.warnings.append(
                        f"{path.name}:{lineno}: the last line is cut short (the run was killed?); "
                        f"using the {lineno - 2} events before it"
                    )
                    return
                raise TraceFormatError(f"{path}:{lineno}: not valid JSON") from None
            rec = d.get("record")
            if rec == "end":
                out.end = d
                continue
            if rec is not None:
                continue
            try:
                et = d["event_type"]
                if et == "call":
                    kind, detail = CALL, d.get("args")
                elif et == "return":
                    if "exception" in d:
                        kind, detail = EXCEPTION, d["exception"]
                    else:
                        kind, detail = RETURN, d.get("return_value")
                elif et == "yield":
                    kind, detail = YIELD, d.get("value")
                elif et == "resume":
                    kind, detail = RESUME, d.get("exception")
                else:
                    raise KeyError(et)
                caller = d["caller"]
                yield Event(
                    d["order"],
                    kind,
                    d["call_id"],
                    round(d["timestamp"] * 1e9),
                    d["depth"],
                    d["thread"],
                    endpoint(caller) if caller is not None else None,
                    endpoint(d["callee"]),
                    detail,
                    bool(d.get("summary_skipped")),
                    d.get("thread_name"),
                    d.get("duration_ns", 0),
                    d.get("scenario"),
                )
            except (KeyError, TypeError) as exc:
                raise TraceFormatError(f"{path}:{lineno}: not a trace event (missing or bad {exc})") from None
