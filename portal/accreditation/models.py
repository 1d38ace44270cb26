"""Models for the accreditation domain."""
