"""Turning events into text for people (terminal replay, watch)."""
