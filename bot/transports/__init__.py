"""Platform adapters: each turns a platform's events into :class:`bot.messages.Inbound`."""
