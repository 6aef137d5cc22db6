"""The step columns (model/steps.py): values past a column's range are clamped, never wrapped."""
from __future__ import annotations

from skeleton_replay.events.types import CALL, RETURN, Endpoint, Event
from skeleton_replay.model.steps import StepColumns, decode


def _event(order: int, kind: int, t_ns: int, depth: int, thread: int) -> Event:
    ep = Endpoint("fn:m:f", "m", None, "f", "f", "m.py", 1, "function", None)
    return Event(order, kind, order, t_ns, depth, thread, None, ep, None, False)


def test_columns_clamp_thread_depth_and_time():
    cols = StepColumns()
    big_t = (2**32 + 5) * 1000  # past the u32 column in microseconds
    events = [_event(0, CALL, 1000, 1, 7), _event(1, RETURN, big_t, 70_000, 70_000), _event(2, CALL, 3000, 2, 65_535)]
    cols.extend(events, [1, 1, 2], [0, -1, 3])
    data = cols.as_json(("call", "return"))
    c = {name: list(decode(col)) for name, col in data["columns"].items()}
    assert data["count"] == 3
    assert c["kind"] == [CALL, RETURN, CALL]
    assert c["thread"] == [7, 65_535, 65_535]
    assert c["depth"] == [1, 65_535, 2]
    assert c["t"] == [1, 2**32 - 1, 3]
    assert c["call_id"] == [0, 1, 2] and c["node"] == [1, 1, 2] and c["edge"] == [0, -1, 3]
