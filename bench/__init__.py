"""Benchmark harness for newsmon's processing core. Run: ``python -m bench``.

Speed lives here only: nothing in this package asserts on time.
"""
