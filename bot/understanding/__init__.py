"""Understanding a player's message beyond the intent: which topic (with a calibrated probability),
whether it shows signs of a gambling problem, whether the player wants a person, and which
sentence carries the question."""
