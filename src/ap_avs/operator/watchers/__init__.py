"""Trigger watchers: interchangeable sources of :class:`~ap_avs.operator.model.TriggerFired`.

Each implements :class:`~ap_avs.operator.model.Watcher` (``watch``/``unwatch``/``run(sink)``)
for some trigger kinds: :class:`TimeWatcher` (cron, fixed time), :class:`BlockWatcher` and
:class:`EventWatcher` (chain, each behind its own :class:`ChainFollower` cursor). To add a
trigger kind, write one module here and add it to ``OperatorApp._watchers``.
"""

from ap_avs.operator.watchers._follow import ChainFollower
from ap_avs.operator.watchers.block import BlockWatcher
from ap_avs.operator.watchers.event import EventWatcher
from ap_avs.operator.watchers.time import TimeWatcher

__all__ = ["BlockWatcher", "ChainFollower", "EventWatcher", "TimeWatcher"]
