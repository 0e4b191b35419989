"""The one settings schema: declarations, Fanvil config codec, persistent store."""
