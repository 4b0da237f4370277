"""The analyst dashboard: a web page over the Kafka topics.

Kept apart from the core (models/enrich/rules/pipeline never import it): it is a
reader of `news.alerts`, `news.stories`, `news.silences` and `news.acks`, and a
writer of silences and acknowledgements only. All Kafka access is in
`topics.py`; `view.py` is the pure materialised view; `server.py` serves it.
"""
