"""All Kafka client code: connection options (security.py), the producer
(producer.py), group-less consumers and history (consumer.py, history.py),
topic creation (admin.py), consumer-group status (groups.py), the silences
topic (silences.py), one backoff (backoff.py), the aiokafka reconnect patch
(patch.py) and the embedded local broker (local/)."""
