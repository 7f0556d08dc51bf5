"""API key management for the command line (see :mod:`talecast.accounts`)."""

from talecast.accounts import KeyInfo, create_key, hash_key, list_keys, revoke_key

__all__ = ["KeyInfo", "create_key", "hash_key", "list_keys", "revoke_key"]
