"""The models the service answers with: per domain the newest finished retriever that
serves sessions, plus a few runs requests name explicitly.

A newer run is loaded beside the one in use and then swapped in with one assignment, so
a request in flight finishes with the model it started with and the next one gets the
new model: no request waits for a load or fails because of one. Loads happen on start,
on every poll (KGSTORE_SERVE_POLL seconds) and on POST /admin/reload. A load that fails
(a checkpoint missing from the artifact store, a stale persona run) keeps the model in
use and is reported by the reload and in the log.
"""

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from kgstore.artifacts import ArtifactStore
from kgstore.db import Database
from kgstore.errors import KgstoreError, RecsysInputError
from kgstore.graph.mapping import Domain
from kgstore.recsys.session_model import SessionModel, latest_session_model, load_session_model

PINNED_RUNS = 4
"""Explicitly named runs kept loaded (least recently used out first)."""

log = logging.getLogger("kgstore.serve")


@dataclass(frozen=True)
class Reload:
    """What a refresh did for one domain."""

    domain: str
    before: str | None
    after: str | None
    error: str | None = None


class ModelCache:
    def __init__(
        self,
        db: Database,
        store: ArtifactStore,
        on_load: Callable[[SessionModel], None] = lambda model: None,
        on_failure: Callable[[str], None] = lambda domain: None,
    ) -> None:
        self.db = db
        self.store = store
        self._on_load = on_load
        self._on_failure = on_failure
        self._latest: dict[Domain, SessionModel] = {}
        self._pinned: OrderedDict[str, SessionModel] = OrderedDict()
        self._lock = threading.Lock()  # guards the two tables, never held during a load
        self._refreshing = threading.Lock()  # one refresh at a time (poll and admin)

    def serving(self) -> dict[str, SessionModel]:
        """Each domain's model in use, by domain name."""
        return {domain.value: model for domain, model in self._latest.items()}

    def loaded(self, domain: Domain | None, run: str | None) -> SessionModel | None:
        """What `get` answers when it needs no load and no query (else None): the event
        loop may call this one."""
        if run is not None:
            model = self._held(run)
            return model if model is not None and domain in (None, model.domain) else None
        return None if domain is None else self._latest.get(domain)

    def _held(self, run: str) -> SessionModel | None:
        """`run`'s model if it is loaded, pinned (now the most recently used) or in use."""
        with self._lock:
            model = self._pinned.get(run)
            if model is not None:
                self._pinned.move_to_end(run)
        return model or next((m for m in self._latest.values() if m.run == run), None)

    def get(self, domain: Domain | None, run: str | None) -> SessionModel:
        """The model of `run` when given (loaded on first use), else `domain`'s newest."""
        if run is not None:
            return self._pinned_run(run, domain)
        if domain is None:
            raise RecsysInputError("give the session's domain (movies or books) or a run")
        model = self._latest.get(domain)
        if model is None:
            self.refresh([domain])
            model = self._latest.get(domain)
        if model is None:
            latest_session_model(self.db, domain)  # raises with the reason
            raise RecsysInputError(f"the {domain.value} retriever could not be loaded: see the log")
        return model

    def _pinned_run(self, run: str, domain: Domain | None) -> SessionModel:
        model = self._held(run)
        if model is None:
            model = load_session_model(self.db, self.store, run)
            with self._lock:
                self._pinned[run] = model
                while len(self._pinned) > PINNED_RUNS:
                    self._pinned.popitem(last=False)
        if domain is not None and model.domain is not domain:
            raise RecsysInputError(f"run {run} recommends {model.domain.value}, not {domain.value}")
        return model

    def refresh(self, domains: list[Domain] | None = None) -> list[Reload]:
        """Load each domain's newest session retriever where it is not the one in use."""
        reloads = []
        with self._refreshing:
            for domain in domains or list(Domain):
                held = self._latest.get(domain)
                before = held.run if held else None
                try:
                    newest = latest_session_model(self.db, domain)
                except RecsysInputError:
                    continue  # nothing to serve in this domain (yet)
                if newest == before:
                    continue
                try:
                    model = load_session_model(self.db, self.store, newest)
                except KgstoreError as error:
                    log.warning("%s: kept %s, %s did not load: %s", domain, before, newest, error)
                    self._on_failure(domain.value)
                    reloads.append(Reload(domain.value, before, before, str(error)))
                    continue
                with self._lock:
                    self._latest[domain] = model
                self._on_load(model)
                log.info("%s: now serving %s (was %s)", domain.value, newest, before)
                reloads.append(Reload(domain.value, before, newest))
        return reloads


class Poller:
    """Calls `refresh` every `interval` seconds on a daemon thread until stopped."""

    def __init__(self, refresh: Callable[[], object], interval: float) -> None:
        self._refresh = refresh
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-poll", daemon=True)

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._refresh()
            except Exception:  # a poll must never end the service: log and poll again
                log.exception("model poll failed")
