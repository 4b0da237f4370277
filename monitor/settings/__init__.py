"""newsmon's configuration: `Settings` (environment over newsmon.yaml), the
Kafka connection it extends, topic names and the sinks' config models. Pure
data and validation: nothing here connects to anything."""

from monitor.settings.connection import KafkaConnection
from monitor.settings.model import REPO_ROOT, Settings, load_settings
from monitor.settings.topics import Topics

__all__ = ["REPO_ROOT", "KafkaConnection", "Settings", "Topics", "load_settings"]
