"""Operations: durable state machines for long work on a collection, with progress and heartbeat."""
