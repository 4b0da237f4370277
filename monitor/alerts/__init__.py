"""Alerts as a subscriber sees them: which ones it wants (filter.py) and the
`newsmon alerts tail` printer (tail.py)."""
