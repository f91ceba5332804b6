"""The ``aggregator.Node`` servicer: the API operators call.

A method not defined here answers ``UNIMPLEMENTED`` (see ``services.py``).
"""

from __future__ import annotations


class NodeApi:
    """Operator RPCs. Built by ``app.py``."""
