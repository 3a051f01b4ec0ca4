"""Errors services raise. Each carries a message fit to show a person (never a secret)."""


class ServiceError(Exception):
    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(ServiceError):
    """The input is not acceptable; `field` names the offending input."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass

