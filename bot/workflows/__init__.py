"""Pure state machines, one per item kind: they take a snapshot and an event, return effects."""
