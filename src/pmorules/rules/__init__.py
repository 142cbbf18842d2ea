"""Rule files: their format, loading and layering, and compilation to durable_rules."""
