"""The operator daemon (``ap-avs operator``): watches triggers and reports them to the aggregator.

``app.py`` wires it; ``client.py`` speaks gRPC; ``roster.py`` holds the assigned workflows;
``watchers/`` produce firings; ``checkpoint.py`` persists cursors. Re-exports the entry point.
"""

from ap_avs.operator.app import OperatorApp

__all__ = ["OperatorApp"]
