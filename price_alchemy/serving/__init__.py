"""The HTTP service that answers price suggestions with the champion model."""
