"""Rendezvous points the tests use to make two requests truly overlap (unset: no waiting)."""
from __future__ import annotations

import asyncio
import threading

BARRIERS: list[threading.Barrier] = []  # phase i waits on BARRIERS[i]
ASYNC_BARRIERS: list["AsyncBarrier"] = []


def meet(phase: int) -> None:
    if BARRIERS:
        BARRIERS[phase].wait(timeout=20)


class AsyncBarrier:
    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.event = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self.event.set()
        await asyncio.wait_for(self.event.wait(), 20)


async def ameet(phase: int) -> None:
    if ASYNC_BARRIERS:
        await ASYNC_BARRIERS[phase].wait()


def reset(parties: int = 0) -> None:
    BARRIERS[:] = [threading.Barrier(parties) for _ in range(2)] if parties else []
    ASYNC_BARRIERS[:] = [AsyncBarrier(parties) for _ in range(2)] if parties else []
