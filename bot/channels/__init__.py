"""Public input channels (REST, socket.io, Telegram), each wrapped in the fail-safe.

Every channel passes user messages through :func:`bot.channels.failsafe.handle_message`.
"""
