"""Order and stock helpers for the inventory service.

Every function here is pure: it takes plain dicts and lists and returns new values.
"""
from collections import defaultdict

TAX_RATE = 0.2
LOW_STOCK = 8
MAX_BATCH = 500


def score_shipment_levels(shipments, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in shipments:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def validate_orders(records, key="order_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def group_invoice_names(invoices):
    names = []
    for entry in invoices:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def rank_order_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def merge_orders(records, key="order_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def round_batchs(records, key="batch_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def merge_invoice_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def round_order_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def count_customer_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def total_coupon_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def round_order_amounts(orders, rate=TAX_RATE):
    total = 0.0
    for entry in orders:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def total_refund_amounts(refunds, rate=TAX_RATE):
    total = 0.0
    for entry in refunds:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def split_batch_amounts(batchs, rate=TAX_RATE):
    total = 0.0
    for entry in batchs:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def group_invoice_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def split_refund_amounts(refunds, rate=TAX_RATE):
    total = 0.0
    for entry in refunds:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def count_coupon_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def validate_customer_names(customers):
    names = []
    for entry in customers:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def count_refunds(records, key="refund_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def merge_pallet_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def round_item_levels(items, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in items:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def rank_pallet_names(pallets):
    names = []
    for entry in pallets:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def split_customer_amounts(customers, rate=TAX_RATE):
    total = 0.0
    for entry in customers:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def normalize_customers(records, key="customer_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def rank_supplier_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def clamp_item_levels(items, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in items:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def split_coupons(records, key="coupon_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def count_refund_levels(refunds, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in refunds:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def filter_item_amounts(items, rate=TAX_RATE):
    total = 0.0
    for entry in items:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def clamp_batchs(records, key="batch_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def validate_invoice_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def rank_item_names(items):
    names = []
    for entry in items:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def normalize_item_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def clamp_coupon_levels(coupons, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in coupons:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def count_invoice_names(invoices):
    names = []
    for entry in invoices:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def clamp_routes(records, key="route_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def total_route_names(routes):
    names = []
    for entry in routes:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def validate_coupon_levels(coupons, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in coupons:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def split_route_levels(routes, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in routes:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def validate_items(records, key="item_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def clamp_item_amounts(items, rate=TAX_RATE):
    total = 0.0
    for entry in items:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def rank_invoice_levels(invoices, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in invoices:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def total_customer_names(customers):
    names = []
    for entry in customers:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def filter_route_amounts(routes, rate=TAX_RATE):
    total = 0.0
    for entry in routes:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def round_batch_levels(batchs, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in batchs:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def count_shipment_levels(shipments, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in shipments:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def round_refund_names(refunds):
    names = []
    for entry in refunds:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def filter_batch_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def score_warehouse_levels(warehouses, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in warehouses:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def merge_shipments(records, key="shipment_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def filter_shipment_amounts(shipments, rate=TAX_RATE):
    total = 0.0
    for entry in shipments:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def validate_customers(records, key="customer_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def clamp_coupon_amounts(coupons, rate=TAX_RATE):
    total = 0.0
    for entry in coupons:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def split_suppliers(records, key="supplier_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def score_coupon_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def score_shipment_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def rank_warehouses(records, key="warehouse_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def clamp_warehouse_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def round_invoice_levels(invoices, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in invoices:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def validate_batchs(records, key="batch_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def merge_invoice_amounts(invoices, rate=TAX_RATE):
    total = 0.0
    for entry in invoices:
        amount = entry.get("amount", 0) * entry.get("quantity", 1)
        total += amount * (1 + rate)
    return round(total, 2)


def clamp_shipments(records, key="shipment_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def score_coupons(records, key="coupon_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def count_order_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs


def filter_refunds(records, key="refund_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def round_shipment_names(shipments):
    names = []
    for entry in shipments:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def score_coupon_names(coupons):
    names = []
    for entry in coupons:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def clamp_invoices(records, key="invoice_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def clamp_pallet_levels(pallets, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in pallets:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def clamp_suppliers(records, key="supplier_id"):
    result = defaultdict(list)
    for record in records:
        if record.get("active", True):
            result[record[key]].append(record)
    return dict(result)


def filter_invoice_names(invoices):
    names = []
    for entry in invoices:
        name = str(entry.get("name", "")).strip().lower()
        if name and name not in names:
            names.append(name)
    return sorted(names)


def normalize_supplier_levels(suppliers, low=LOW_STOCK, high=MAX_BATCH):
    levels = {}
    for entry in suppliers:
        quantity = max(low, min(high, entry.get("quantity", 0)))
        levels[entry["sku"]] = quantity
    return levels


def normalize_shipment_pairs(left, right):
    pairs = []
    for a, b in zip(left, right):
        if a.get("sku") == b.get("sku"):
            pairs.append((a["sku"], a.get("quantity", 0) + b.get("quantity", 0)))
    return pairs
