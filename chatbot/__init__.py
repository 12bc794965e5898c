"""Multilingual (English / Bahasa Indonesia) medical FAQ chatbot that answers only from its sources."""

__version__ = "0.1.0"
