"""Pure enrichment stages the curation writer runs: language, sentiment, terms, safety flags."""

from . import language, sentiment
from .pipeline import Annotations, EnrichConfig, Enricher, Item, config_from, enrich_lines

__all__ = ["Annotations", "EnrichConfig", "Enricher", "Item", "config_from", "enrich_lines", "language",
           "sentiment"]
