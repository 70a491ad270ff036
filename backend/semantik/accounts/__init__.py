"""Accounts: log-in with JWT access and refresh tokens, and the first administrator."""
