"""Endpoint components, one module per URI scheme, registered under ``eip.components``."""
