"""Dialogue policies of Secure Base (Rasa graph components)."""
