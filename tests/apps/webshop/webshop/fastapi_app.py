"""The shop as a FastAPI app (async endpoints, one sync endpoint run in the thread pool)."""
from __future__ import annotations

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from . import sync
from .services import ACCOUNTS, ORDERS, REPORTS, STOCK


async def show_order(order_id: int):
    await sync.ameet(0)
    await sync.ameet(1)
    return await fetch_order(order_id)


async def fetch_order(order_id: int) -> dict:
    task = asyncio.create_task(price_later(order_id))  # a child task inherits the request's context
    row = ORDERS.get_order(order_id)
    row["later"] = await task
    return row


async def price_later(order_id: int) -> int:
    await asyncio.sleep(0)
    return ORDERS.price(order_id)


async def show_stock(sku: str):
    await sync.ameet(0)
    level = STOCK.count_stock(sku)  # between the two rendezvous: inside the other request's trace
    await sync.ameet(1)
    return {"sku": sku, "level": level}


def show_order_in_thread(order_id: int):
    return ORDERS.get_order(order_id)


async def show_account(token: str = "", user: str = ""):
    return ACCOUNTS.lookup_account(token, user)


async def show_report(year: int):
    return REPORTS.build_report(year)


async def stream_numbers():
    async def numbers():
        for i in range(3):
            yield f"{ORDERS.price(i)}\n"
    return StreamingResponse(numbers(), media_type="text/plain")


def create_app() -> FastAPI:
    """A fresh app per test: middleware cannot be added once an app has served a request."""
    app = FastAPI()
    app.get("/orders/{order_id}")(show_order)
    app.get("/stock/{sku}")(show_stock)
    app.get("/sync-order/{order_id}")(show_order_in_thread)
    app.get("/account")(show_account)
    app.get("/report/{year}")(show_report)
    app.get("/stream")(stream_numbers)
    return app
