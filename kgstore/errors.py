"""Exceptions raised by kgstore.

Every error a user can cause carries a message that says what went wrong and what
to do next; the CLI prints that message as it is and exits non-zero.
"""


class KgstoreError(Exception):
    """Base class for errors with a user-facing message; `exit_code` is what kgctl exits with."""

    exit_code = 2


class SettingsError(KgstoreError):
    """A setting is missing or malformed; the message names the variable."""


class ServiceError(KgstoreError):
    """A local service could not be provisioned, started, reached or stopped."""


class Neo4jUnavailable(ServiceError):
    """Neo4j does not answer on the configured URI."""


class Neo4jAuthFailed(ServiceError):
    """Neo4j refused the configured credentials."""
