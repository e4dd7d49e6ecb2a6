"""Public input channels (REST, socket.io, Telegram), each wrapped in the fail-safe.

Every channel passes user messages through :func:`bot.channels.failsafe.handle_message`.
Importing this package (Rasa does, for the channels in credentials.yml) also makes the Rasa
server check the action server's answers with a prepared validator (:mod:`bot.action_results`).
"""

from bot import action_results

action_results.install()
