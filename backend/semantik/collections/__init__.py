"""Collections: a named set of documents embedded with one model and searched together."""
