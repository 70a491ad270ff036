"""Embedding model export, serving through NVIDIA Triton, and the clients that call it."""
