"""Search: semantic, keyword and hybrid ranking of chunks across collections."""
