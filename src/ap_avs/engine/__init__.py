"""Use cases: what the aggregator does for a caller, between the API edge and the store."""
