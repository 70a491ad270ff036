"""Pytest plugins and fixtures that start real components for the test suite."""
