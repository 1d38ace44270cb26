"""Models for the matching domain."""
