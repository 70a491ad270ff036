"""The embedded service stack: PostgreSQL, Valkey and Triton as child processes for development and tests."""
