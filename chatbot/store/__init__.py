"""What patients and staff tell us, kept: feedback and the question log."""
