"""infer0: bring-your-own-provider AI inference over OAuth 2.0, in one binary."""

__version__ = "0.1.0"
