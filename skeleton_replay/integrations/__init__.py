"""Integrations with test runners and web frameworks (imported on demand, never by skeleton_replay itself)."""
