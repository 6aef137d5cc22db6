"""Renderers: trace-derived artifacts for people and tools (workflow.md, report.html, session.json)."""
