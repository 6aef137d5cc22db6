"""Build snapshot.json from a stream of events (pure; one pass; bounded memory).

Ownership: packages > modules > {functions, instances > methods, class actors > methods}.
Instances live in the module that defines their runtime class. Root calls come from
the scenario node. Edges are aggregated per caller node -> callee node.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import __version__
from ..events.types import CALL, EVENT_KINDS, EXCEPTION, RETURN, YIELD, Endpoint, Event, closed, summary
from ..native import load
from . import boundaries, creations
from .steps import StepColumns
from .version import SNAPSHOT_FORMAT_VERSION

SCENARIO_ID = "scenario:run"
# The records of snapshot.json as built here: JSON objects whose fields follow schema/snapshot.schema.json
Node = dict[str, Any]  # `nodes`
Edge = dict[str, Any]  # `edges` and `module_edges`
Record = dict[str, Any]  # any other object: the header, an example call, a scenario, the snapshot itself

NODE_EXAMPLES = 3  # example calls (arguments, return or exception) kept per node
EDGE_EXAMPLES = 5  # event ids kept per edge
EDGE_SUMMARIES = 3  # example calls kept per edge


def _closed(detail: Any) -> bool:
    """The exception summary of a close (GeneratorExit): not a failure."""
    return closed(detail)


class SnapshotBuilder:
    def __init__(self, header: Record, duration_s: float | None = None) -> None:
        self.header = header
        self.nodes: list[Node] = []
        self.index: dict[str, int] = {}
        self.edges: list[Edge] = []
        self.edge_index: dict[tuple[int, int], int] = {}
        self.module_edges: dict[tuple[str, str], Edge] = {}
        # The time unit of the step list needs the run's length up front (None: assume < 71 min)
        self.steps = StepColumns(int((duration_s or 0) * 1e9))
        # The per-event loop in C (model/_aggregate.c) when compiled: its counters live there until _fold()
        native = load("model._aggregate")
        self._c: Any = None
        if native is not None:
            self._c = native.Aggregator(NODE_EXAMPLES, EDGE_EXAMPLES, EDGE_SUMMARIES, self.steps.time_unit_ns)
        self._open: dict[int | None, tuple[int, Record | None]] = {}  # call_id -> (edge, example); null finds none
        self._top_module: list[str] = []  # node index -> module shell id for roll-ups
        self._last_seen: dict[int, int] = {}  # node index -> last event (containers derived at the end)
        self.events = self.recorded = self.calls = 0
        self.counted_calls = self.counted_in_scenarios = 0  # calls past the budgets (stats.sampling.counted)
        self.max_depth = 0
        self.last_t = 0
        # Scenarios (pytest tests, traced blocks): name -> index, and per index its stats;
        # which scenarios exercised each edge (parallel to edges) and each callable node.
        self._scen: dict[str, int] = {}
        self._scen_stats: list[Record] = []
        self._edge_sc: list[list[int]] = []
        self._node_sc: dict[int, list[int]] = {}
        scen = self._add(
            {
                "id": SCENARIO_ID,
                "kind": "scenario",
                "label": header.get("app_name", "run"),
                "parent": None,
                "module": "",
                "qualified_name": header.get("app_name", "run"),
                "file": None,
                "line": None,
            },
            SCENARIO_ID,
        )
        self.scenario = scen

    # -- nodes ---------------------------------------------------------------
    def _add(self, node: Node, module_shell: str) -> int:
        node.setdefault("first_seen", None)
        node.setdefault("last_seen", None)
        node.setdefault("call_count", 0)
        node.setdefault("internal", False)
        i = len(self.nodes)
        self.nodes.append(node)
        self.index[node["id"]] = i
        self._top_module.append(module_shell)
        return i

    def _module(self, name: str) -> int:
        mid = "mod:" + name
        i = self.index.get(mid)
        if i is not None:
            return i
        parent = None
        if "." in name:
            parent = self.nodes[self._module(name.rsplit(".", 1)[0])]["id"]
        return self._add(
            {
                "id": mid,
                "kind": "package",
                "label": name.rsplit(".", 1)[-1],
                "parent": parent,
                "module": name,
                "qualified_name": name,
                "file": None,
                "line": None,
            },
            mid,
        )

    def _as_module(self, name: str) -> int:
        i = self._module(name)
        self.nodes[i]["kind"] = "module"
        return i

    def _callee(self, ep: Endpoint) -> int:
        i = self.index.get(ep.node_id)
        if i is None:
            i = self._new_callable(ep)
        return i

    def _new_callable(self, ep: Endpoint) -> int:
        if ep.instance_node:
            holder = self.index.get(ep.instance_node)
            if holder is None:
                holder = self._new_holder(ep)
            parent = self.nodes[holder]
            shell = self._top_module[holder]
            kind = "method"
        else:
            parent = self.nodes[self._as_module(ep.module)]
            shell = parent["id"]
            kind = "function"
        label = ep.function
        if ep.class_name and ep.class_name != ep.qualified_name.rpartition(".")[0]:
            label = ep.qualified_name  # inherited or reached by super(): `Command.invoke` inside a Group instance
        node = {
            "id": ep.node_id,
            "kind": kind,
            "label": label,
            "parent": parent["id"],
            "module": ep.module,
            "qualified_name": ep.qualified_name,
            "file": ep.file,
            "line": ep.line,
            "internal": ep.internal,
            "callable_kind": ep.callable_kind,
            "total_ns": 0,
            "max_ns": 0,
            "raised": 0,
            "examples": [],
        }
        if ep.role:
            node["role"] = ep.role
            if parent["module"] == ep.module and parent["kind"] != "package":  # its module or its instance/class
                parent["role"] = ep.role
        if ep.class_name:
            node["class_name"] = ep.class_name
        if ep.instance_id is not None:
            node["instance_id"] = ep.instance_id
        return self._add(node, shell)

    def _new_holder(self, ep: Endpoint) -> int:
        hid = ep.instance_node
        assert hid is not None
        # inst:<module>.<Class.qualname>#n or cls:<module>.<Class.qualname>; the class module is the longest
        # known module prefix
        instance = hid.startswith("inst:")
        module, qualname = _split_class_path(hid[5:].rsplit("#", 1)[0] if instance else hid[4:], ep)
        mod = self._as_module(module)
        node: Node = {
            "id": hid,
            "kind": "instance" if instance else "class",
            "label": ep.instance_label or (hid if instance else qualname),
            "parent": self.nodes[mod]["id"],
            "module": module,
            "qualified_name": f"{module}.{qualname}",
            "file": ep.file if module == ep.module else None,
            "line": None,
            "class_name": qualname,
        }
        if instance and ep.instance_id is not None:
            node["instance_id"] = ep.instance_id
        return self._add(node, self.nodes[mod]["id"])

    def _first_seen(self, i: int, order: int) -> None:
        """First sighting of node i: mark it and every ancestor not yet seen."""
        nodes = self.nodes
        index = self.index
        while True:
            node = nodes[i]
            if node["first_seen"] is not None:
                return
            node["first_seen"] = order
            parent = node["parent"]
            if parent is None:
                return
            i = index[parent]

    # -- edges ---------------------------------------------------------------
    def _edge(self, src: int, dst: int, order: int) -> int:
        key = (src, dst)
        e = self.edge_index.get(key)
        if e is None:
            e = self.edge_index[key] = len(self.edges)
            s, d = self.nodes[src]["id"], self.nodes[dst]["id"]
            self.edges.append(
                {
                    "id": f"{s}->{d}",
                    "source": s,
                    "target": d,
                    "kind": "call",
                    "count": 0,
                    "first_seen": None,
                    "last_seen": None,
                    "total_ns": 0,
                    "max_ns": 0,
                    "raised": 0,
                    "example_events": [],
                    "examples": [],
                }
            )
            self._edge_sc.append([])
            ms, md = self._top_module[src], self._top_module[dst]
            if ms != md:
                me = self.module_edges.get((ms, md))
                if me is None:
                    self.module_edges[(ms, md)] = {
                        "source": ms,
                        "target": md,
                        "count": 0,
                        "first_seen": order if order >= 0 else None,
                    }
        return e

    # -- the pass ------------------------------------------------------------
    def add_batch(self, batch: list[Event]) -> None:
        """One batch of events, in C (model/_aggregate.c) or in Python (_add_batch_py): the same state."""
        if self._c is not None:
            done = self._c.add_batch(self, batch)
            if done is not None:
                calls, self.max_depth, recorded, last_t, columns = done
                self.events += len(batch)
                self.calls += calls
                if recorded:
                    self.recorded += recorded
                    self.steps.extend_columns(recorded, columns)
                    self.last_t = last_t
                return
            self._to_python()  # an event the C loop does not take as Python would (a hand-edited trace)
        self._add_batch_py(batch)

    def _fold(self) -> None:
        """The C loop's counters into the node, edge and scenario dicts (before anything reads them)."""
        if self._c is not None:
            self._c.fold(self)

    def _to_python(self) -> None:
        """The rest of the run in Python: the C loop's state handed over."""
        self._fold()
        self._open = self._c.open_calls()
        self._c = None

    def _raised_past_cap(self, callee: int, caller: Endpoint | None) -> None:
        """An exception past the cap: credit the node, and the edge from the frame below if it was recorded."""
        self.nodes[callee]["raised"] += 1
        src = self.scenario if caller is None else self.index.get(caller.node_id, self.scenario)
        dropped_ei = self.edge_index.get((src, callee))
        if dropped_ei is not None:
            self.edges[dropped_ei]["raised"] += 1

    def _add_batch_py(self, batch: list[Event]) -> None:
        """The per-event loop: everything it touches is a local."""
        index_get = self.index.get
        edge_get = self.edge_index.get
        nodes, edges, top = self.nodes, self.edges, self._top_module
        medges, opened_calls = self.module_edges, self._open
        new_callable, edge_of, first_seen = self._new_callable, self._edge, self._first_seen
        scenario = self.scenario
        last_seen = self._last_seen
        node_col: list[int] = []
        edge_col: list[int] = []
        recorded_events: list[Event] = []
        add_node, add_edge, add_event = node_col.append, edge_col.append, recorded_events.append
        calls = 0
        max_depth = self.max_depth
        edge_sc, node_sc = self._edge_sc, self._node_sc
        cur_name = None  # the scenario of the previous event, its index and stats
        cur = -1
        cur_stats: Record = {}
        for e in batch:
            order, kind, call_id, _t, depth, _thread, caller, callee_ep, detail, skipped, _tn, ns, sname = e
            if sname != cur_name:
                cur_name = sname
                if sname is not None:
                    cur = self._scenario(sname)
                    cur_stats = self._scen_stats[cur]
            callee = index_get(callee_ep.node_id)
            if callee is None:
                callee = new_callable(callee_ep)
            if kind == CALL:
                calls += 1
                if caller is None:
                    src = scenario
                else:
                    found = index_get(caller.node_id)
                    src = found if found is not None else new_callable(caller)
                ei = edge_get((src, callee))
                if ei is None:
                    ei = edge_of(src, callee, order)
                edge = edges[ei]
                edge["count"] += 1
                node = nodes[callee]
                node["call_count"] += 1
                ms, md = top[src], top[callee]
                if ms != md:
                    medges[(ms, md)]["count"] += 1
                if depth >= max_depth:
                    max_depth = depth + 1
                if sname is not None:
                    cur_stats["calls"] += 1
                    sl = edge_sc[ei]
                    if not sl or sl[-1] != cur:
                        sl.append(cur)
                    nl = node_sc.get(callee)
                    if nl is None:
                        node_sc[callee] = [cur]
                    elif nl[-1] != cur:
                        nl.append(cur)
                if order < 0:
                    continue
                if edge["first_seen"] is None:
                    edge["first_seen"] = order
                edge["last_seen"] = order
                ex = edge["example_events"]
                if len(ex) < EDGE_EXAMPLES:
                    ex.append(order)
                if node["first_seen"] is None:
                    first_seen(callee, order)
                    if src == scenario and nodes[src]["first_seen"] is None:
                        first_seen(src, order)
                example = None
                if not skipped:  # the arguments were summarised (or there are none)
                    want_node = len(node["examples"]) < NODE_EXAMPLES
                    want_edge = len(edge["examples"]) < EDGE_SUMMARIES
                    if want_node or want_edge:
                        example = {"event": order, "args": summary(detail) or {}}
                        if want_node:
                            node["examples"].append(example)
                        if want_edge:
                            edge["examples"].append(example)
                opened_calls[order] = (ei, example)
            elif order < 0:
                if kind == EXCEPTION and not _closed(detail):  # past the cap: credit the edge from the frame below
                    nodes[callee]["raised"] += 1
                    src = scenario if caller is None else index_get(caller.node_id, scenario)
                    dropped_ei = edge_get((src, callee))
                    if dropped_ei is not None:
                        edges[dropped_ei]["raised"] += 1
                continue
            else:
                opened = opened_calls.get(call_id)
                ei = -1
                node = nodes[callee]
                if opened is not None:
                    ei, example = opened
                    if kind in (RETURN, EXCEPTION):
                        del opened_calls[call_id]
                        edge = edges[ei]
                        edge["total_ns"] += ns
                        node["total_ns"] += ns
                        if ns > edge["max_ns"]:
                            edge["max_ns"] = ns
                        if ns > node["max_ns"]:
                            node["max_ns"] = ns
                        if kind == EXCEPTION:
                            self._raised(edge, node, call_id, detail, example)
                        elif example is not None and detail is not None:
                            example["return_value"] = summary(detail)
                    elif kind == YIELD and example is not None:
                        example["yields"] = example.get("yields", 0) + 1
                if node["first_seen"] is None:
                    first_seen(callee, order)
            last_seen[callee] = order
            if sname is not None:
                if cur_stats["first_event"] is None:
                    cur_stats["first_event"] = order
                cur_stats["last_event"] = order
            add_node(callee)
            add_edge(ei)
            add_event(e)
        self.events += len(batch)
        self.calls += calls
        self.max_depth = max_depth
        if recorded_events:
            self.recorded += len(recorded_events)
            self.steps.extend(recorded_events, node_col, edge_col)
            self.last_t = recorded_events[-1].t_ns

    @staticmethod
    def _raised(edge: Edge, node: Node, call_id: int | None, detail: Any, example: Record | None) -> None:
        """A recorded call that raised: counted, and kept as an example (a few more than other calls).

        GeneratorExit (a generator, coroutine or async generator closed) is the normal end of such a
        frame: its summary is kept on the call's example, but the call is not counted as raised.
        """
        if _closed(detail):
            if example is not None:
                example["exception"] = summary(detail)
            return
        edge["raised"] += 1
        node["raised"] += 1
        if example is None:
            example = {"event": call_id}
            if len(node["examples"]) < NODE_EXAMPLES + 3:
                node["examples"].append(example)
            if len(edge["examples"]) < EDGE_SUMMARIES + 3:
                edge["examples"].append(example)
        example["exception"] = summary(detail) or {"type": "?", "message": {"type": "str", "value": ""}}

    def add_counted(
        self, caller: Endpoint | None, callee: Endpoint, count: int, raised: int, scenario: str | None = None
    ) -> None:
        """Calls past the event cap: counted, never recorded as events (caller None: the run itself)."""
        self.add_counted_all([(caller, callee, count, raised, scenario)])

    def add_counted_all(self, rows: Iterable[tuple[Endpoint | None, Endpoint, int, int, str | None]]) -> None:
        """add_counted for each (caller, callee, calls, raised, scenario), in order: one loop with locals (a
        real suite has tens of thousands: a callee counted in each of 540 tests). Known nodes, edges and the
        previous row's scenario are looked up inline; only what is new goes through _new_callable/_edge.
        In C (model/_aggregate.c add_counted) when compiled and rows is a list it takes: the same state."""
        if self._c is not None and type(rows) is list:
            done = self._c.add_counted(self, rows)
            if done is not None:
                counted, in_scenarios, calls = done
                self.counted_calls += counted
                self.counted_in_scenarios += in_scenarios
                self.calls += calls
                self.events += 2 * calls
                return
        self._fold()
        index_get, edge_get, scen_get = self.index.get, self.edge_index.get, self._scen.get
        new_callable, edge_of, scenario_of = self._new_callable, self._edge, self._scenario
        edges, nodes, top, medges = self.edges, self.nodes, self._top_module, self.module_edges
        edge_sc, node_sc, scen_stats = self._edge_sc, self._node_sc, self._scen_stats
        run = self.scenario
        # the scenarios already in each list touched here (snapshot() sorts the lists: their order is free)
        edge_members: dict[int, set[int]] = {}
        node_members: dict[int, set[int]] = {}
        last_scenario: str | None = None
        si = -1
        stats: Record = {}
        calls = counted = in_scenarios = 0
        try:
            for caller, callee, count, raised, scenario in rows:
                dst = index_get(callee.node_id)  # callee first: the order add_batch creates nodes in
                if dst is None:
                    dst = new_callable(callee)
                if caller is None:
                    src = run
                else:
                    found = index_get(caller.node_id)
                    src = found if found is not None else new_callable(caller)
                ei = edge_get((src, dst))
                if ei is None:
                    ei = edge_of(src, dst, -1)
                counted += count
                if scenario is not None and count:
                    in_scenarios += count
                    if scenario != last_scenario:
                        known = scen_get(scenario)
                        si = known if known is not None else scenario_of(scenario)
                        stats = scen_stats[si]
                        last_scenario = scenario
                    stats["calls"] += count
                    seen = edge_members.get(ei)
                    if seen is None:
                        seen = edge_members[ei] = set(edge_sc[ei])
                    if si not in seen:
                        seen.add(si)
                        edge_sc[ei].append(si)
                    seen = node_members.get(dst)
                    if seen is None:
                        sl = node_sc.get(dst)
                        if sl is None:
                            sl = node_sc[dst] = []
                        seen = node_members[dst] = set(sl)
                    if si not in seen:
                        seen.add(si)
                        node_sc[dst].append(si)
                edge = edges[ei]
                edge["count"] += count
                edge["raised"] += raised
                node = nodes[dst]
                node["call_count"] += count
                node["raised"] += raised
                calls += count
                ms, md = top[src], top[dst]
                if ms != md:
                    medges[(ms, md)]["count"] += count
        finally:
            self.counted_calls += counted
            self.counted_in_scenarios += in_scenarios
            self.calls += calls
            self.events += 2 * calls

    def _scenario(self, name: str) -> int:
        i = self._scen.get(name)
        if i is None:
            i = self._scen[name] = len(self._scen_stats)
            self._scen_stats.append({"first_event": None, "last_event": None, "calls": 0})
        return i

    def _scenarios(self, infos: list[Record]) -> list[Record]:
        """The scenario list in the order they ran; renumbers the ids held by nodes and edges to match."""
        names = [i["name"] for i in infos]
        known = set(names)
        names += [n for n in self._scen if n not in known]
        new = {n: k for k, n in enumerate(names)}
        remap = {old: new[n] for n, old in self._scen.items()}
        by_name = {i["name"]: i for i in infos}
        out = []
        for k, name in enumerate(names):
            info = by_name.get(name, {})
            old = self._scen.get(name)
            st = self._scen_stats[old] if old is not None else {"first_event": None, "last_event": None, "calls": 0}
            out.append(
                {
                    "id": k,
                    "name": name,
                    "kind": info.get("kind", "test"),
                    "outcome": info.get("outcome"),
                    "duration_s": info.get("duration_s"),
                    "message": info.get("message"),
                    "file": info.get("file"),
                    "line": info.get("line"),
                    **st,
                }
            )
        edges, nodes = self.edges, self.nodes
        if all(old == k for old, k in remap.items()):  # met in the order they ran (as a rule): ids unchanged
            for ei, sl in enumerate(self._edge_sc):
                if sl:
                    edges[ei]["scenarios"] = sorted(sl)
            for ni, sl in self._node_sc.items():
                if sl:
                    nodes[ni]["scenarios"] = sorted(sl)
            return out
        to_new = remap.__getitem__  # map() over a bound method: no generator per list (55k lists on a real suite)
        for ei, sl in enumerate(self._edge_sc):
            if sl:
                edges[ei]["scenarios"] = sorted(map(to_new, sl))
        for ni, sl in self._node_sc.items():
            if sl:
                nodes[ni]["scenarios"] = sorted(map(to_new, sl))
        return out

    # -- result --------------------------------------------------------------
    def snapshot(self, end: Record | None, threads: list[Record], gaps: list[Record], dropped: int) -> Record:
        self._fold()
        h = self.header
        end = end or {}
        io = boundaries.collect(end.get("boundaries"), self._callee, lambda i: self.nodes[i]["id"], self._as_module)
        made = creations.collect(end.get("creations"), self._callee, self._as_module, self.nodes, self.index)
        if self.recorded:
            self._last_seen[self.scenario] = self.recorded - 1
        for i, last in self._last_seen.items():  # containers: the last event of anything inside
            n: Node | None = self.nodes[i]
            while n is not None:
                if n["last_seen"] is None or n["last_seen"] < last:
                    n["last_seen"] = last
                n = self.nodes[self.index[n["parent"]]] if n["parent"] is not None else None
        for n in self.nodes:  # containers count the calls of everything inside them
            if n["kind"] in ("function", "method") and n["call_count"]:
                p = n["parent"]
                while p is not None:
                    pn = self.nodes[self.index[p]]
                    pn["call_count"] += n["call_count"]
                    p = pn["parent"]
        run = {
            "app_name": h.get("app_name", "run"),
            "command": h.get("command", []),
            "target": h.get("target", {"kind": "script", "path": "", "args": []}),
            "project_root": h.get("project_root", ""),
            "python_version": h.get("python_version", ""),
            "backend": h.get("backend", "sysmon"),
            "backend_reason": h.get("backend_reason", ""),
            "started_at": h.get("started_at", ""),
            "duration_s": end.get("duration_s", self.last_t / 1e9),
            "exit_code": end.get("exit_code"),
            "status": end.get("status", "incomplete"),
            "error": end.get("error"),
        }
        if "request" in h:  # one traced web request (skeleton_replay.integrations)
            run["request"] = h["request"]
        stats = {
            # recorded + not recorded (decoded past the cap, or counted: capture/counting.py), exactly
            "events": self.recorded + dropped if dropped else self.events,
            "recorded_events": self.recorded,
            "dropped_events": dropped,
            "calls": self.calls,
            "max_depth": self.max_depth,
            "threads": threads,
            "gaps": gaps,
            "nodes": len(self.nodes),
            "edges": len(self.edges),
        }
        if end.get("sampling"):  # the recording budgets' account (capture/budget.py)
            # and what was only counted, in scenarios and outside them (the report's Recording panel)
            counted = {"calls": self.counted_calls, "in_scenarios": self.counted_in_scenarios}
            stats["sampling"] = {**end["sampling"], "counted": counted}
        snap: Record = {
            "format_version": SNAPSHOT_FORMAT_VERSION,
            "skeleton_version": __version__,
            "run": run,
            "stats": stats,
            "nodes": self.nodes,
            "edges": self.edges,
            "module_edges": sorted(
                self.module_edges.values(),
                key=lambda m: (m["first_seen"] is None, m["first_seen"] or 0, m["source"], m["target"]),
            ),
            "steps": self.steps.as_json(EVENT_KINDS),
        }
        if self._scen or end.get("scenarios"):
            snap["scenarios"] = self._scenarios(end.get("scenarios") or [])
        # I/O boundaries and the callables that touched them (model/boundaries.py); [] when none
        snap["boundaries"] = boundaries.finish(io, snap.get("scenarios"))
        if made:  # who created whom (model/creations.py)
            snap["creations"] = made
        return snap


def _split_class_path(path: str, ep: Endpoint) -> tuple[str, str]:
    """Split 'pkg.mod.Outer.Inner' into (module, class qualname) using the endpoint's class name."""
    cls = ep.class_name or ""
    if cls and path.endswith("." + cls):
        return path[: -len(cls) - 1], cls
    module, _, qualname = path.rpartition(".")
    return module or path, qualname or path
