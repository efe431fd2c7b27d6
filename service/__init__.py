"""The HTTP API and the canonical store of the media asset service."""
