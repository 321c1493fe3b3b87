"""Requests that arrive together are scored together: one thread takes every waiting
/recommend request (up to MAX_BATCH), infers their personas in one call and ranks each.

Why: a persona is most of a request's cost (the HDGI encoder's pass over the session's
meta-path partners), and inferring N sessions at once costs far less than N single
inferences; a session's persona is the same alone or among others (to 1e-6, tested in
kgstore.personas.infer), so batching changes no answer. One compute thread also keeps
requests from fighting over the interpreter lock, which on two cores cost more than it
gave (8 clients were served slower than one).
"""

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from kgstore.recsys.session_model import SessionModel

MAX_BATCH = 64
log = logging.getLogger("kgstore.serve")

Ranked = tuple[list[tuple[str, float]], np.ndarray | None]


@dataclass
class Pending:
    model: SessionModel
    session: list[str]
    k: int
    exclude_session: bool
    answer: Future = field(default_factory=Future)


class SessionBatcher:
    def __init__(self) -> None:
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="session-batcher", daemon=True)
        self._thread.start()

    def submit(self, model: SessionModel, session: list[str], k: int, exclude: bool) -> Future:
        """A future of `model.top(session, k, exclude)`; the session must pass `check`."""
        model.check(session)
        pending = Pending(model, session, k, exclude)
        self._queue.put(pending)
        return pending.answer

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            for model in {id(p.model): p.model for p in batch}.values():
                _answer(model, [p for p in batch if p.model is model])


def _answer(model: SessionModel, batch: list[Pending]) -> None:
    """Rank every request of one model, each future getting its answer or its error; a
    batch whose persona call fails is answered request by request, so one bad session
    cannot fail the others."""
    try:
        personas = model.personas([p.session for p in batch])
    except Exception:
        personas = None
        if len(batch) > 1:
            for pending in batch:
                _answer(model, [pending])
            return
    for number, pending in enumerate(batch):
        if not pending.answer.set_running_or_notify_cancel():
            continue
        try:
            persona = None if personas is None else personas[number]
            pending.answer.set_result(
                model.top(pending.session, pending.k, pending.exclude_session, persona)
            )
        except Exception as error:  # the request's own error, answered as its 4xx/5xx
            log.debug("request failed: %s", error)
            pending.answer.set_exception(error)
