"""Custom actions run by the Rasa SDK action server (app environment)."""
