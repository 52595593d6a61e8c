"""The ``r2k`` command line: parse, call one workflow, render."""
