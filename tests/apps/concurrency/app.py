import asyncio
import threading


class Counter:
    def __init__(self):
        self.total = 0

    def add(self, n):
        self.total += n
        return self.total


def work(counter, n):
    for i in range(n):
        counter.add(i)


async def ticker(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def consume(name, n):
    seen = []
    async for i in ticker(n):
        seen.append(i)
    return name, len(seen)


async def failing():
    await asyncio.sleep(0)
    raise ValueError("task failed")


async def orchestrate():
    results = await asyncio.gather(consume("a", 3), consume("b", 2), failing(), return_exceptions=True)
    return [r if not isinstance(r, Exception) else type(r).__name__ for r in results]


def main():
    counters = [Counter(), Counter()]
    threads = [threading.Thread(target=work, args=(c, 5), name=f"worker-{i}") for i, c in enumerate(counters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("totals", [c.total for c in counters])
    print("async", asyncio.run(orchestrate()))


if __name__ == "__main__":
    main()
