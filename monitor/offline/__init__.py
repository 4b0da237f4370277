"""Without Kafka, over files: `newsmon scan` (scan.py), the rule backtest
(backtest.py) and the inline rule tests (selftest.py). Above the pipeline,
which they run as the daemon does."""
