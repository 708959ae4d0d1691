DISCOUNTS = {"WELCOME10": 0.10, "VIP25": 0.25}


def apply_discount(amount, code):
    if code is None:
        return amount
    rate = DISCOUNTS.get(code, 0.0)
    return round(amount * (1 - rate), 2)


def format_price(amount, currency="EUR"):
    return f"{amount:.2f} {currency}"
