"""Multilingual casino support assistant: Rasa components, knowledge base, FAQ index and CLI.

This package is imported by two environments: Rasa's (only ``bot.rasa_components`` and what they
import, i.e. the standard library, langdetect and spaCy) and the app environment (everything else).
Keep this module free of imports so both can load it.
"""

__version__ = "0.1.0"
