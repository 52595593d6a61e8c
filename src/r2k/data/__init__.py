"""The only layer that reads or writes files.

The data directory, the source readers (``sources/``) and the store.
"""
