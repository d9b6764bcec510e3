"""Plain value types every layer may import: people, items, responses, messages, effects."""
