"""Seeded synthetic sources.

A universe for one rank day, and a daily market with corporate actions and IPOs.
"""
