"""Privacy: what the wall keeps about people, for how long, and a person's data on request."""
