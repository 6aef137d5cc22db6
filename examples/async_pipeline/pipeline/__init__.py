"""An asyncio ETL pipeline: an async source, concurrent stages, a sink."""
