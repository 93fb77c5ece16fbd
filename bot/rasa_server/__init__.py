"""Code the Rasa SERVER loads (not training): kept apart from ``bot.rasa_components`` so that it is
not part of the Rasa model's fingerprint."""
