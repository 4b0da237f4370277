"""`python -m monitor.cli` (the tests and the benchmarks run the CLI this way)."""

from monitor.cli import main

main()
