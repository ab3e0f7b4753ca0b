"""A person's data on the wall: retention (retention.py) and erasure on request (erasure.py)."""
