from inventory.catalog import Catalog, normalize_sku


def test_normalize():
    assert normalize_sku(" w-100 ") == "W-100"


def test_add_and_get():
    c = Catalog()
    c.add("g-200", "gadget", 7.25)
    assert c.get("G-200")["name"] == "gadget"
