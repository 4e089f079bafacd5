"""Benchmarks: run with `make bench`; each prints one line per figure."""
