"""Public input channels (REST, socket.io, Telegram), each wrapped in the fail-safe.

Every channel passes user messages through :func:`bot.channels.failsafe.handle_message`.
Importing this package (Rasa does, for the channels in credentials.yml, before it loads the model)
also makes the Rasa server load its model without a training step (:mod:`bot.model_loading`) and
check the action server's answers with a prepared validator (:mod:`bot.action_results`).
"""

from bot import action_results, model_loading

action_results.install()
model_loading.install()
