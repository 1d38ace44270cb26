"""Benchmarks: speed and quality measured on generated or benchmark data, never in timed
tests. Each is a `flask bench` command (see cli.py)."""
