"""The curation writer: the one process that decides and writes each wall's display stream."""
