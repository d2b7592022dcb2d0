"""Where the flow keeps its per-key state: shards of keys (the keyed step) and their
incremental key stores."""
