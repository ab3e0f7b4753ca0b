"""The media proxy: safe fetching, image re-encoding, an on-disk cache and signed URLs."""
