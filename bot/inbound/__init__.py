"""The pure inbound core: parse, classify, match and read a message. No I/O here."""
