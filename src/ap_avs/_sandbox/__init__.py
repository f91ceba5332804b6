"""Internals of :mod:`ap_avs.sandbox`; import the public names from there.

``model`` holds the value types, ``source`` prepares user code (pure), ``process`` drives one
worker process from the parent, ``worker`` is the worker's entry point (it runs in the child and
imports nothing from ``ap_avs``), ``vendor`` refreshes the vendored JavaScript libraries.
"""
