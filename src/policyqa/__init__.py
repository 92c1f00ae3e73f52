"""policyqa: answers citizens' questions only from official policy text, with citations."""

__version__ = "0.1.0"
