"""Ingestion: corpus files -> parsed :class:`Policy` objects -> retrieval chunks."""
