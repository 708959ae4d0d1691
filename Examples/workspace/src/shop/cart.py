from .pricing import apply_discount


class Cart:
    def __init__(self):
        self.items = []

    def add(self, name, price, quantity=1):
        self.items.append((name, price, quantity))

    def total(self, discount_code=None):
        subtotal = sum(price * quantity for _, price, quantity in self.items)
        return apply_discount(subtotal, discount_code)
