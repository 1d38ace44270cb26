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


class AdminOnly(PermissionDenied):
    """Only the organisation's administrators may do this.

    The page shown says who they are (names only) so the person knows whom to ask.
    """

    def __init__(self, action, admin_names=()):
        super().__init__(f"Only your organisation's administrators can {action}.")
        self.action = action
        self.admin_names = list(admin_names)
