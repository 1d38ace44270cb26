"""Domain exceptions. Services raise these; views and error handlers turn them into responses."""


class DomainError(Exception):
    """A rule of the domain was broken; the message is safe to show to the user."""

    status_code = 400

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409
