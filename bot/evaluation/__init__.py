"""``bot eval``: run a TSV of player messages through the real bot and report per language."""
