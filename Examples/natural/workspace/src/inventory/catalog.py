"""The product catalog."""

import re

_SKU = re.compile(r"^[A-Z]-\d{3}$")


def normalize_sku(raw):
    """Upper-case a SKU and strip spaces, e.g. ' w-100 ' -> 'W-100'."""
    sku = raw.strip().upper().replace(" ", "")
    if not _SKU.match(sku):
        raise ValueError(f"bad SKU: {raw!r}")
    return sku


class Catalog:
    def __init__(self):
        self._items = {}

    def add(self, sku, name, price):
        self._items[normalize_sku(sku)] = {"name": name, "price": price}

    def get(self, sku):
        return self._items.get(normalize_sku(sku))
