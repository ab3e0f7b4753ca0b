"""Digests by e-mail (docs/digests.md): a wall's figures of a day or a week, sent over SMTP to the addresses
in its [walls.W.digest] table by one leased job per wall, once per period."""
