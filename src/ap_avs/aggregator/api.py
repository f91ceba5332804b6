"""The ``aggregator.Aggregator`` servicer: the client API, one thin method per RPC.

Methods parse the request (through ``convert``), call the use cases and build the response; they
decide nothing themselves. A method not defined here answers ``UNIMPLEMENTED``
(see ``services.py``).
"""

from __future__ import annotations


class AggregatorApi:
    """Client RPCs. Built by ``app.py`` with the use cases it needs."""
