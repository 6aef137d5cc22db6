"""The shop as a Flask app (one fresh app per test: create_app())."""
from __future__ import annotations

from flask import Flask, jsonify, request

from . import sync
from .services import ACCOUNTS, ORDERS, REPORTS, STOCK


def show_order(order_id: int):
    sync.meet(0)
    sync.meet(1)
    return jsonify(ORDERS.get_order(order_id))


def show_stock(sku: str):
    sync.meet(0)
    level = STOCK.count_stock(sku)  # between the two rendezvous: inside the other request's trace
    sync.meet(1)
    return jsonify({"sku": sku, "level": level})


def show_account():
    return jsonify(ACCOUNTS.lookup_account(request.args.get("token", ""), request.args.get("user", "")))


def show_report(year: int):
    return jsonify(REPORTS.build_report(year))


def stream_numbers():
    def numbers():
        for i in range(3):
            yield f"{ORDERS.price(i)}\n"
    return Flask.response_class(numbers(), mimetype="text/plain")


def create_app() -> Flask:
    app = Flask(__name__)
    app.get("/orders/<int:order_id>")(show_order)
    app.get("/stock/<sku>")(show_stock)
    app.get("/account")(show_account)
    app.get("/report/<int:year>")(show_report)
    app.get("/stream")(stream_numbers)
    return app
