"""Comparisons with the real index: reconstitution membership and daily tracking."""
