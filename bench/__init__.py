"""Benchmark of Secure Base against Rasa's own `rasa init` moodbot (`make bench`)."""
