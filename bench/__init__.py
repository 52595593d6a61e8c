"""Benchmarks and the naive reference implementation they compare against."""
