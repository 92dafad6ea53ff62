"""``agent-strace server``: the collector (event batches and OTLP in, the same
store format on disk) and the web dashboard over that store."""
