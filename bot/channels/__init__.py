"""Public input channels (REST, socket.io, Telegram), each wrapped in the fail-safe.

Every channel passes user messages through :func:`bot.channels.failsafe.handle_message`. Rasa
builds each channel of credentials.yml with ``from_credentials`` before it loads the model; ours
install the project's overrides of Rasa there (:func:`bot.rasa_overrides.install`: the model
loads without a training step, the action server's answers are checked with a prepared
validator). Importing this package changes nothing in Rasa.
"""
