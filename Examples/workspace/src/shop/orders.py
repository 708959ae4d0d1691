import json
from datetime import datetime

from .pricing import format_price


def load_orders(path):
    with open(path) as f:
        return json.load(f)


def summarize(order):
    placed = datetime.fromisoformat(order["placed"])
    return f"#{order['id']} on {placed:%Y-%m-%d}: {format_price(order['total'])}"
