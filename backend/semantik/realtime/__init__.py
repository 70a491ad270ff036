"""Realtime: the WebSocket at /api/v2/ws and the typed events workers send through it."""
