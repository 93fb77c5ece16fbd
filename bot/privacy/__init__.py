"""Privacy helpers: masking personal and payment data in player messages before they are stored or shown."""
