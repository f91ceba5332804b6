"""The pure core of ap-avs: values and decisions, with no I/O.

Modules here only compute. They never import ``grpc``, ``web3``, ``httpx`` or ``lmdb``, never
read a clock (callers pass the time in) and never touch the network, the disk or a store, so every
function can be tested with a table of inputs and outputs. Errors are raised from
:mod:`ap_avs.errors`.
"""
