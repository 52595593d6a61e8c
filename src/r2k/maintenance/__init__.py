"""Between reconstitutions: corporate actions, the engine and the levels.

The calculation engine runs in batch and incremental mode on one code path.
"""
