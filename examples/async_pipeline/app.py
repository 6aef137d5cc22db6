"""Async pipeline demo: an async generator feeds a queue, workers convert
payments to USD concurrently, bad records are caught inside their task.

Run with:  python examples/async_pipeline/app.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from pipeline.sink import Ledger  # noqa: E402
from pipeline.sources import read_lines  # noqa: E402
from pipeline.stages import MalformedRecord, RateService, parse, to_usd  # noqa: E402

RAW = """\
# user, amount, currency
alice, 12.50, usd
bob, 20.00, eur
carol, 7.25, gbp
alice, 3.10, eur
dave, twelve, usd
bob, 5.00, jpy
carol, 1.00, usd
erin, 40
erin, 40.00, gbp
"""

WORKERS = 3
_DONE = None


async def produce(queue: asyncio.Queue) -> int:
    count = 0
    async for line in read_lines(RAW.splitlines()):
        await queue.put(line)
        count += 1
    for _ in range(WORKERS):
        await queue.put(_DONE)
    return count


async def work(queue: asyncio.Queue, rates: RateService, ledger: Ledger) -> int:
    handled = 0
    while (line := await queue.get()) is not _DONE:
        try:
            payment = parse(line)
            ledger.add(payment.user, await to_usd(payment, rates))
            handled += 1
        except (MalformedRecord, LookupError) as exc:  # caught inside the task
            ledger.reject(str(exc))
    return handled


async def warm_up(rates: RateService, currencies: list[str]) -> list[str]:
    """Fetch rates concurrently; gather returns failures instead of raising."""
    results = await asyncio.gather(*(rates.rate(c) for c in currencies), return_exceptions=True)
    return [c for c, r in zip(currencies, results) if isinstance(r, Exception)]


async def main() -> None:
    rates, ledger = RateService(), Ledger()
    missing = await warm_up(rates, ["USD", "EUR", "CHF"])
    queue: asyncio.Queue = asyncio.Queue(maxsize=2)
    workers = [asyncio.create_task(work(queue, rates, ledger), name=f"worker-{n}")
               for n in range(WORKERS)]
    produced, *handled = await asyncio.gather(produce(queue), *workers)

    print(f"Async pipeline: {produced} records, {sum(handled)} converted by {WORKERS} workers")
    print(f"  rate lookups: {rates.calls} (warm-up could not fetch: {', '.join(missing)})")
    for user in sorted(ledger.totals):
        print(f"  {user:<6} ${ledger.totals[user]:>7}")
    print(f"  total  ${ledger.grand_total():>7}")
    for reason in sorted(ledger.rejected):
        print(f"  rejected: {reason}")


if __name__ == "__main__":
    asyncio.run(main())
