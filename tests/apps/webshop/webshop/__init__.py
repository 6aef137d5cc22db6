"""A small shop served by Flask, FastAPI and Django in the web integration tests."""
