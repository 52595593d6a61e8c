"""Packaged rule sets (TOML)."""
