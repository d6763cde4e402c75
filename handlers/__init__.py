"""Routing of inbound messages, slash commands and permissions."""
