"""Commands of the `skeleton` CLI that live in their own module: pure helpers, a thin click command at the bottom."""
