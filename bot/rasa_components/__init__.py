"""Custom Rasa 3.6 NLU components. Imported by the Rasa environment: standard library, langdetect,
spaCy 3.4 and Rasa only."""
