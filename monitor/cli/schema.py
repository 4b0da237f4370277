"""`newsmon schema MODEL`: the JSON Schema of a topic's messages. A new
message type is one entry in TOPIC_MODELS."""

from __future__ import annotations

import json

import click
from pydantic import BaseModel

from monitor.dashboard.view import Ack
from monitor.models import Alert, Article, RawArticle, StoryRecord

TOPIC_MODELS: dict[str, type[BaseModel]] = {
    "raw": RawArticle, "article": Article, "alert": Alert, "story": StoryRecord, "ack": Ack,
}


@click.command("schema")
@click.argument("model", type=click.Choice(list(TOPIC_MODELS)))
def schema(model) -> None:
    """Print the JSON Schema of a topic's messages (news.raw, news.articles,
    news.alerts, news.stories, news.acks)."""
    click.echo(json.dumps(TOPIC_MODELS[model].model_json_schema(), indent=2))
