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


class GuideError(ServiceError):
    """The Browser guide cannot be built: its template names a Cypher file that is missing."""


class SourceFileError(KgstoreError):
    """A source file is missing or unreadable as a whole."""


class CorruptSource(SourceFileError):
    """A source file is cut or corrupt (a broken compressed stream, a last record cut
    short): the ingest stops instead of storing a silently shortened file."""


class DomainConflict(KgstoreError):
    """A file's items are already in the graph under another domain (a wrong --domain);
    refused before anything is written."""


class TooManyRejects(KgstoreError):
    """More records were rejected than the threshold allows (the run's writes are
    removed again); `report` is the run's report, for the CLI to print before the error."""

    exit_code = 3

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class UndoRefused(KgstoreError):
    """An ingest run cannot be taken out of the graph exactly (a later run wrote over
    it, it kept no undo records, ...); the message names what, and nothing was changed."""


class BulkImportError(KgstoreError):
    """The collected graph cannot be written as import files, or the import failed."""


class BackupError(KgstoreError):
    """A backup cannot be written or restored (`kgctl db dump` / `db load`): the folder
    exists, its manifest, dump or artifact files are missing or damaged, the database
    holds data, or the restored graph's counts differ from the manifest's. Raised before
    anything is changed wherever it can be known beforehand; the message says what was."""


class QueryFailed(KgstoreError):
    """A SPARQL query that failed on every attempt; `query` is its full text."""

    def __init__(self, reason: str, query: str) -> None:
        super().__init__(reason)
        self.query = query


class SequenceReadError(KgstoreError):
    """The stored RATED positions do not form one sequence per user."""


class ArtifactNotFound(KgstoreError):
    """No artifact with that key in the store."""


class ConfigError(KgstoreError):
    """A model or training config file is unreadable, has an unknown key or a bad value;
    the message names the file and the key. Raised before any training starts."""


class ExportError(KgstoreError):
    """The stored graph cannot be exported for persona learning (no users, vectors
    missing); raised before anything is written."""


class PersonaError(KgstoreError):
    """Personas asked of a run or user that has none."""


class RecsysInputError(KgstoreError):
    """The stored graph lacks what a recommender run needs (too few users, item vectors,
    keywords); raised before any model trains, naming the command that makes it."""


class UnknownItems(RecsysInputError):
    """Items a request names that the model (or the graph) does not hold: the service
    answers 404 with their ids."""


class ModelDiverged(KgstoreError):
    """A model scored an evaluated positive (or any candidate) NaN or +inf: its metrics would
    be meaningless (a NaN positive used to count as rank 1). The message names the
    evaluation row and, from the training loop, the grid row, seed and epoch."""

    row: int | None = None
    """The first offending row of the batch that was being ranked, when known."""


class GenerationError(KgstoreError):
    """The text generator (GENERATOR_URL) failed, timed out or answered something that is
    not a chat completion; the message names the URL and the setting to check. Batches
    stored before it stay, complete; the same command resumes."""


class DemoConfigError(KgstoreError):
    """A demo or scale-generator configuration that cannot be generated (more
    interactions per user than items, more groups than themes, …); refused before any
    user is drawn."""


# Record-level problems: a reader catches them and quarantines the record (ValueError,
# so they travel with the other parse errors).


class InvalidResponse(ValueError):
    """The endpoint answered 200 with something that is not a SPARQL JSON result."""


class UnsafeIri(ValueError):
    """An IRI that cannot be written as `<…>` in a query without changing its meaning."""


PYDANTIC_PREFIX = "Value error, "
"""What pydantic puts before the message of a ValueError its validators raise (the
settings' checks, and typer's parsing of option values underneath), e.g. "Value error,
'music' is not one of 'movies', 'books'."."""


def plain_message(message: str) -> str:
    """A validation message as kgctl prints it: the message alone, without pydantic's
    prefix."""
    return message.removeprefix(PYDANTIC_PREFIX)


def stopped_by_user(exc: BaseException) -> bool:
    """`exc` is a Ctrl-C or a stop the user asked for, or an error raised while handling
    one (a Ctrl-C inside a driver call can break its cleanup, which then raises): either
    way the user stopped the run, nothing failed by itself."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt | StopRequested):
            return True
        seen = seen.__context__
    return False


class StopRequested(Exception):
    """The user stopped the run from the command following it in a worker (Ctrl-C there):
    raised in the worker at the task's next progress step, so the run ends as
    `interrupted` like a Ctrl-C in the command's own process. An Exception, not a
    KeyboardInterrupt: Celery would let that end the worker itself."""
