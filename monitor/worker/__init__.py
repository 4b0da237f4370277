"""The stream worker: faust wiring (app.py), the two agents (agents.py),
/healthz, /readyz and /metrics (http.py), the replay fence (replay.py) and
the silences follower (silences.py)."""
