"""Search: embedding the query once per model and ranking chunks across collections."""
