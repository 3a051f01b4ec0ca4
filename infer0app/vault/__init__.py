"""Envelope encryption for provider keys; the key-encryption keys live in a keyring file."""
