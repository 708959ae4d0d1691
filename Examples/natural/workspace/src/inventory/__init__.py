"""Inventory service: catalog, stock levels and supplier prices."""
