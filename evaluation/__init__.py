"""Labelled question sets and the scripts that measure the chatbot on them."""
