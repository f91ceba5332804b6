"""Node runners: one module per node kind, each a ``Runner`` (see ``base.py``).

``engine/registry.py`` maps node kinds to runners; adding a kind is one module and one line.
"""
