"""Talecast: self-hosted story-to-audio with a voice for every character."""

__version__ = "0.1.0"
