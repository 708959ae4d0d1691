"""Prices from the supplier API."""

import json
import urllib.request


def fetch_prices(supplier_id, base_url, timeout=15, retries=2):
    """Return {sku: price} for one supplier, retrying on timeouts."""
    url = f"{base_url}/suppliers/{supplier_id}/prices"
    last_error = None
    for _ in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return json.load(response)
        except TimeoutError as error:
            last_error = error
    raise last_error
