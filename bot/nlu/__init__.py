"""Custom Rasa NLU components (referenced by their full path in ``config.yml``)."""
