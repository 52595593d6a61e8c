"""Readers of real source formats into canonical frames."""
