"""Documents and their sources: scanning folders, extracting text, chunking, embedding, storing."""
