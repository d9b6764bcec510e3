"""cgbot: an email-driven consensus and follow-up bot for a small governance committee."""

__version__ = "0.1.0"
