"""Passages -> vectors -> an index directory (manifest, FAISS files, embedding cache)."""
