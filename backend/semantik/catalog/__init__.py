"""The catalog: the models this installation serves, their precisions, and which one serves a collection."""
