"""Rank day to membership, in pure functions.

Security types, universe, screens, companies, ranking, banding, float factors and
the reconstitution itself.
"""
