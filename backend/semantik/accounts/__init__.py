"""Accounts: registration, JWT log-in, API keys with scopes, rate limits, and the first administrator."""
