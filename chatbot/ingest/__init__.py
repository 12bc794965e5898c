"""Documents in: reading files, cleaning site chrome, cutting passages, language of a text."""
