"""Embedding and reranking models: export, serving through NVIDIA Triton, and the clients that call them."""
