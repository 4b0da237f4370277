"""Stories: which articles report the same event (see ``clusterer`` for how).

Public API: ``StoryClusterer`` (``from_stores``, ``assign``, ``place``,
``expire``, ``record``), ``StoryConfig``, and ``story_record``, the pure
function that turns story state into the ``StoryRecord`` of ``news.stories``.
"""

from monitor.stories.clusterer import StoryClusterer, StoryConfig
from monitor.stories.record import story_record

__all__ = ["StoryClusterer", "StoryConfig", "story_record"]
