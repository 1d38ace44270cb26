from portal.matching import bp  # noqa: F401
