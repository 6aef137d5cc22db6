from __future__ import annotations

import asyncio
from typing import AsyncIterator, Iterable


async def read_lines(lines: Iterable[str], batch: int = 3) -> AsyncIterator[str]:
    """Async generator: yields raw lines, giving the loop a turn every `batch` lines
    (as a socket or file reader would while waiting for the next chunk)."""
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        yield line
        if number % batch == 0:
            await asyncio.sleep(0)
