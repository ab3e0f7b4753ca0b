"""A person's data on the wall: retention, erasure and export on request."""
