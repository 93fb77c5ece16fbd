"""Language handling shared by the Rasa components and the app: names, folding, detection.

Imports only the standard library and langdetect, so both environments can use it.
"""
