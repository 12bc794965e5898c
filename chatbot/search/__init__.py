"""Index -> ranked passages: BM25, the glossary bridge, fused retrieval."""
