"""Guided conversations declared as data, and the Chinese-text understanding they need."""
