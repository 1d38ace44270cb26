"""Models for the pipeline domain."""
