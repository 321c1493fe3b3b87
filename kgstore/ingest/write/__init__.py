"""Writing into the graph: Writer interface, online and bulk writers, their queries, undo."""
