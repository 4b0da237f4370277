"""The floor for the end-to-end benchmark: a faust agent that only consumes
and produces (``python -m bench.passthrough SRC DST``), configured like the
worker (same broker, serializers, commit and fetch settings), doing nothing
with the bytes. No design that reads news.raw and writes a result through
faust can beat it on this machine.
"""

from __future__ import annotations

import os
import sys

import faust


def main(src: str, dst: str) -> None:
    app = faust.App(
        os.environ["NEWSMON_APP_ID"],
        broker=f"kafka://{os.environ['KAFKA_BOOTSTRAP_SERVERS']}",
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        topic_partitions=1,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        web_enabled=False,
        producer_max_request_size=8 * 1024 * 1024,
        consumer_max_fetch_size=64 * 1024 * 1024,
        datadir=os.environ.get("NEWSMON_DATA_DIR", ".passthrough"),
    )
    source = app.topic(src, value_serializer="raw", key_serializer="raw")
    sink = app.topic(dst, value_serializer="raw", key_serializer="raw")

    @app.agent(source, name="passthrough")
    async def passthrough(stream):
        async for event in stream.events():
            await sink.send(key=event.key, value=event.value)

    faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
