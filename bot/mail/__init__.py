"""The I/O edge: IMAP and Maildir sources, SMTP and folder transports, the outbox sender."""
