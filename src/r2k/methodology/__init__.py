"""Rules as data.

Rule sets (TOML files in ``rules/``) and the reconstitution and quarterly schedules.
"""
