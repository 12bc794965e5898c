"""Ranked passages -> a grounded answer: sentence choice, danger signs, fixed texts."""
