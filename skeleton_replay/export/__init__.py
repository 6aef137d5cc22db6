"""`skeleton export`: a run as a diagram (Mermaid, DOT, PlantUML) or a timeline (Chrome trace-event
JSON for Perfetto and chrome://tracing). Pure functions; docs/export.md.

select.py   which calls: the whole run, one test (--scenario), an event window (--window)
graph.py    calls folded to a level (modules, classes, methods) and capped at --max-nodes
escape.py   program-derived text made inert for each diagram language
diagrams.py the three diagram writers
perfetto.py the timeline
"""
