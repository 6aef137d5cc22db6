"""Write trace.jsonl from a spill file, in this process or in a helper process.

`python -m skeleton_replay.events.write_trace ARGS.json` is how the pipeline runs it on
the machine's other core while this process builds the snapshot from the same spill.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from .. import native
from ..capture.records import read_chunks
from .creations import end_creations
from .decode import Decoder
from .jsonl import TraceWriter
from .types import ChunkedList, Endpoint, TraceEnd

COUNTED_CHUNK = 2048  # end-record counted entries made and written at a time (TraceWriter.record)


def end_record(
    end: dict[str, Any],
    decoder: Decoder,
    max_events: int,
    totals: list[tuple[Endpoint | None, Endpoint, int, int, str | None]] | None = None,
    endpoint_json: Callable[[Endpoint], bytes] | None = None,
) -> dict[str, Any]:
    """The end record (also the run summary the model uses): the run's end (TraceEnd.RUN_FIELDS) with
    the decoder's totals, as events/types.TraceEnd writes it. totals: decoder.counted(), if the caller has it.
    endpoint_json: an endpoint's JSON bytes (TraceWriter.endpoint_json, which the event lines already hold):
    then the counted entries' caller and callee are those bytes as orjson.Fragment, the same JSON written
    without serialising a dict per endpoint again (sqlparse's suite: 88k entries, 35 MB of the end record).
    Only for writing: such an end record is not read back as data (its endpoints are not dicts, and its
    `counted` is a types.ChunkedList: TraceWriter.record makes and writes its entries a chunk at a time)."""
    gaps = list(end.get("gaps", []))
    if decoder.dropped:
        # the hard total, or only the recording budgets within it (imports, scenario shares: the sampling gap)
        why = (
            f"event cap reached (--max-events {max_events:,})"
            if max_events and decoder.order >= max_events
            else f"recording budgets spent (within --max-events {max_events:,}; see the sampling gap)"
        )
        gaps.insert(
            0,
            {
                "kind": "cap",
                "message": f"{why}: {decoder.dropped:,} events were not written (their calls are counted on edges)",
                "count": decoder.dropped,
            },
        )
    if decoder.unmatched:
        gaps.append(
            {
                "kind": "unmatched",
                "message": "returns without a matching call (the stack was repaired)",
                "count": decoder.unmatched,
            }
        )
    # Calls the tracer counted past the cap: in the end record, so `skeleton report` can rebuild
    # the same snapshot from trace.jsonl alone.
    # One dict (or Fragment) per endpoint, shared by its entries (a callee counted in each of 540 tests): a
    # list-built end record is alive while the snapshot is built, and this halved it (sqlparse's suite: 44k
    # entries, -40 MiB peak).
    # Endpoints are the decoder's own (one object per node), alive in the list: id() keys are safe.
    as_json: dict[int, Any] = {}

    def js(ep: Endpoint) -> Any:
        d = as_json.get(id(ep))
        if d is None:
            d = as_json[id(ep)] = ep.as_json() if endpoint_json is None else orjson.Fragment(endpoint_json(ep))
        return d

    rows = decoder.counted() if totals is None else totals

    def entries(start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        known = as_json.get
        out: list[dict[str, Any]] = []
        add = out.append
        for caller, callee, n, r, scen in rows[start:stop]:
            a = None if caller is None else known(id(caller)) or js(caller)  # the cache inline: 88k lookups
            c: dict[str, Any] = {"caller": a, "callee": known(id(callee)) or js(callee), "calls": n, "raised": r}
            if scen is not None:
                c["scenario"] = scen
            add(c)
        return out

    def chunks() -> Iterator[list[dict[str, Any]]]:
        for start in range(0, len(rows), COUNTED_CHUNK):
            yield entries(start, start + COUNTED_CHUNK)

    fast = _counted_json() if endpoint_json is not None and type(rows) is list else None
    written: dict[int, bytes] = {}  # id(endpoint) -> its JSON, for the C writer (endpoints alive in rows)

    def json_chunks() -> Iterator[bytes | list[dict[str, Any]]]:
        """The same entries as their JSON, written in C (~0.15 us an entry instead of a dict and orjson's pass over
        it); a chunk the C writer leaves (an odd value) is made as dicts."""
        assert fast is not None
        for start in range(0, len(rows), COUNTED_CHUNK):
            got = fast(rows, start, start + COUNTED_CHUNK, written, endpoint_json)
            yield got if got is not None else entries(start, start + COUNTED_CHUNK)

    # Written (endpoint_json given), the entries are made a chunk at a time as TraceWriter.record writes them.
    counted: list[dict[str, Any]] | ChunkedList = (
        entries()
        if endpoint_json is None
        else ChunkedList(chunks, len(rows), json_chunks if fast is not None else None)
    )
    record = dataclasses.replace(
        TraceEnd.from_json(end),
        gaps=gaps,
        events=decoder.order,
        dropped_events=decoder.dropped,
        calls=decoder.calls,
        threads=decoder.threads(),
        counted=counted,
        scenarios=list(decoder.scenarios.values()) or None,
        boundaries=decoder.io.as_json() or None,
        creations=end_creations(decoder),  # who created whom (events/creations.py)
    )  # I/O boundary uses (events/boundaries.py), for `skeleton report`
    return record.as_json()


def _counted_json() -> Callable[..., bytes | None] | None:
    """_jsonw.counted_json where compiled and wanted (native.py), else None."""
    mod = native.load("events._jsonw")
    return getattr(mod, "counted_json", None) if mod is not None else None


def write_trace(spill: Path, trace_path: Path, header: dict[str, Any], end: dict[str, Any], max_events: int) -> Path:
    gc.disable()
    decoder = Decoder(max_events)
    writer = TraceWriter(trace_path)
    writer.record(header)
    for batch in decoder.batches(read_chunks(spill)):
        writer.write_batch(batch)
    end_json = end_record(end, decoder, max_events, endpoint_json=writer.endpoint_json)
    writer.record({"record": "end", "schema_version": header["schema_version"], **end_json})
    return writer.close()


def main(argv: list[str]) -> int:
    args = orjson.loads(Path(argv[0]).read_bytes())
    write_trace(Path(args["spill"]), Path(args["trace"]), args["header"], args["end"], args["max_events"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
