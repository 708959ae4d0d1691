"""Stock levels per warehouse."""

LOW_STOCK_THRESHOLD = 8


def is_low(quantity):
    return quantity < LOW_STOCK_THRESHOLD


def reorder_amount(quantity, target=40):
    """How many units to order to get back to the target level."""
    return max(0, target - quantity)
