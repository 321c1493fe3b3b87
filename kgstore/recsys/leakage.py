"""Are a grid's inputs made from the split it evaluates on? Two checks, run on the real
inputs before anything trains:

- **Leakage** (always an error): a persona run's exported graph holding a validation or
  test interaction (`LeaveOneOut.held_out_pairs`) or a user held out of that run, or a
  user's preference keywords made from an item the user only has held out. A model
  trained on those has seen what it is tested on; no flag lets it through.
- **Staleness** (an error unless allowed, then a label on the table): the persona run or
  the keywords were made from other training interactions than the split has now (new
  interactions ingested since), so they describe another data set.

What each input was made from is recorded when it is made: the persona run's snapshot
holds its training pairs (`GraphSnapshot.rated`), and `kgctl generate keywords` stores the
training items each user's keywords came from (`preferenceKeywords<Label>Items`). Item and
entity text embeddings are made from titles, descriptions and KG facts, never from
interactions, so the split cannot make them stale.
"""

from collections import defaultdict
from dataclasses import dataclass

from kgstore.errors import RecsysInputError
from kgstore.export.snapshot import GraphSnapshot
from kgstore.graph.split import LeaveOneOut


@dataclass(frozen=True)
class InputCheck:
    """What one input (`what`, e.g. "persona run 1a2b") holds that it must not (`leaks`)
    and which users' training items changed since it was made (`stale`), each a sorted
    list of examples for the message."""

    what: str
    refresh: str
    """The command that makes the input again from the current split."""
    leaks: list[str]
    stale: list[str]

    def raise_on_leak(self) -> None:
        if self.leaks:
            raise RecsysInputError(
                f"leakage: {self.what} saw {len(self.leaks):,} validation/test "
                f"interactions of this split (first: {', '.join(self.leaks[:3])}); "
                f"make it again from training interactions only: {self.refresh}"
            )

    def stale_note(self) -> str | None:
        if not self.stale:
            return None
        return (
            f"STALE: {self.what}, made before the training interactions of "
            f"{len(self.stale):,} users changed (first: {', '.join(self.stale[:3])})"
        )

    def raise_on_stale(self) -> None:
        note = self.stale_note()
        if note is not None:
            raise RecsysInputError(
                f"{note}: run `{self.refresh}` to refresh it (`kgctl evaluate`, `kgctl "
                "recommend` and `kgctl train retriever` also take --allow-stale: run "
                "anyway, labelled stale)"
            )


def persona_check(snapshot: GraphSnapshot, split: LeaveOneOut, run: str) -> InputCheck:
    """The persona run's exported graph against the current split."""
    exported: dict[str, set[str]] = defaultdict(set)
    for user, item in snapshot.rated.T.tolist():
        exported[snapshot.users[user]].add(snapshot.items[item])
    held_out = split.held_out_pairs()
    held_out_users = set(snapshot.held_out_users)
    leaks = [
        f"{user} -> {item}"
        for user, items in sorted(exported.items())
        for item in sorted(items)
        if (user, item) in held_out or user in held_out_users
    ]
    stale = [
        user
        for user, items in exported.items()
        if user in split.train and items != set(split.train[user])
    ]
    # Users the run never saw and did not hold out arrived after it: also another split.
    known = set(snapshot.users) | held_out_users
    stale += [user for user in split.train if user not in known]
    return InputCheck(
        f"persona run {run}",
        f"kgctl train hdgi --domain {snapshot.domain}",
        leaks,
        sorted(stale),
    )


def keyword_check(
    made_from: dict[str, list[str] | None], split: LeaveOneOut, domain: str
) -> InputCheck:
    """Each user's keywords against the current split: `made_from` maps a user to the
    training items its keywords were made from (None: keywords made before this was
    recorded, which counts as stale)."""
    held_out = split.held_out_pairs()
    leaks, stale = [], []
    for user, items in sorted(made_from.items()):
        if items is None:
            stale.append(user)
            continue
        leaks += [f"{user} -> {item}" for item in sorted(set(items)) if (user, item) in held_out]
        if user in split.train and items != split.train[user]:
            stale.append(user)
    return InputCheck(
        f"the {domain} preference keywords",
        f"kgctl generate keywords --domain {domain}",
        leaks,
        stale,
    )


def checked(checks: list[InputCheck], allow_stale: bool) -> list[str]:
    """Refuse any leak; refuse stale inputs unless `allow_stale`, else return their labels."""
    for check in checks:
        check.raise_on_leak()
    if not allow_stale:
        for check in checks:
            check.raise_on_stale()
    return [note for check in checks if (note := check.stale_note()) is not None]
