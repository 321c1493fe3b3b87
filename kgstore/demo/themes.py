"""Persona themes of a demo catalogue and their partition into planted user groups.

A **theme** is a (relationship type, entity) pair of the catalogue's KG — a director, an
author, a literary genre, a series — with at least `min_items` items. Two themes are
**linked** by the number of items they share (a director and his usual composer).

**Groups** (`partition`): the themes are split into `groups` clusters that are coherent
in the KG, by balanced region growing on that weighted theme graph:

1. Seeds: the largest themes, each not linked to a seed already chosen (so two groups
   do not start in the same neighbourhood); the largest remaining ones when there are
   not enough such themes.
2. Growth: the group holding the fewest themes (ties: lowest number) takes the
   unassigned theme most strongly linked to it (the sum of shared items with its
   themes); a group with no linked theme left takes the largest unassigned theme,
   which starts a new region. Repeat until every theme has a group.

So each group is a set of regions of themes that share items, and the groups hold
nearly equal numbers of themes (never differing by more than one after the seeds, as
each step feeds the smallest group). Everything is sorted, so the partition depends on
the catalogue and `groups` only, not on the seed or the hash seed.
"""

import heapq
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import accumulate
from typing import NamedTuple

from kgstore.demo.catalogue import DemoItem

ANCHOR_SIZE_EXPONENT = 2


class Theme(NamedTuple):
    relation: str
    entity: str


class ThemeIndex:
    """Themes of a catalogue, their items, and how many items two themes share."""

    def __init__(self, items: Sequence[DemoItem], relations: Sequence[str], min_items: int):
        items_of: dict[Theme, list[str]] = defaultdict(list)
        for item in items:
            for relation, entity in item.facts:
                if relation in relations:
                    items_of[Theme(relation, entity)].append(item.item_id)
        self.items = {
            theme: tuple(items_of[theme])
            for theme in sorted(items_of)
            if len(items_of[theme]) >= min_items
        }
        self.all = list(self.items)
        self.links: dict[Theme, dict[Theme, int]] = {theme: {} for theme in self.all}
        for item in items:
            themes = [Theme(*fact) for fact in item.facts if fact in self.items]
            for theme in themes:
                links = self.links[theme]
                for other in themes:
                    if other != theme:
                        links[other] = links.get(other, 0) + 1


class ThemeGroups:
    """The partition of a `ThemeIndex` into groups (see the module docstring), and per
    group its themes by relation and each theme's linked themes inside its group."""

    def __init__(self, index: ThemeIndex, groups: int) -> None:
        self.all = index.all
        self.links = index.links
        self.group_of = partition(index, groups)
        self.themes: list[list[Theme]] = [[] for _ in range(groups)]
        for theme in index.all:
            self.themes[self.group_of[theme]].append(theme)
        self.items = _home_items(index, self.group_of)
        """Each theme's items at home in its group (what sessions of that theme draw)."""
        self.size_weights = [_cumulative(self.items, themes, 1) for themes in self.themes]
        """Per group, cumulative (home items) weights of its themes, for `random.choices`."""
        self.by_relation: list[dict[str, list[Theme]]] = []
        for themes in self.themes:
            by_relation: dict[str, list[Theme]] = defaultdict(list)
            for theme in themes:
                by_relation[theme.relation].append(theme)
            self.by_relation.append(dict(sorted(by_relation.items())))
        self.anchor_weights = [
            {
                relation: _cumulative(self.items, themes, ANCHOR_SIZE_EXPONENT)
                for relation, themes in by_relation.items()
            }
            for by_relation in self.by_relation
        ]
        """Per group and relation, cumulative (home items)^2 weights: a group's users
        crowd on its core themes, so two of them share themes (and items) often."""
        self.neighbours: dict[Theme, tuple[list[Theme], list[int]]] = {}
        """Each theme's linked themes inside its group, with cumulative shared-item counts."""
        for theme, group in self.group_of.items():
            links = index.links[theme]
            near = sorted(other for other in links if self.group_of[other] == group)
            self.neighbours[theme] = (near, list(accumulate(links[other] for other in near)))


def _cumulative(
    items: dict[Theme, tuple[str, ...]], themes: list[Theme], exponent: int
) -> list[int]:
    return list(accumulate(len(items[theme]) ** exponent for theme in themes))


def _home_items(index: ThemeIndex, group_of: dict[Theme, int]) -> dict[Theme, tuple[str, ...]]:
    """Each theme's items whose home group is the theme's own: an item's home is the
    group holding most of its themes (ties: the lowest number). A theme none of whose
    items is at home keeps all of them."""
    votes: dict[str, Counter[int]] = defaultdict(Counter)
    for theme, members in index.items.items():
        for item in members:
            votes[item][group_of[theme]] += 1
    home = {
        item: min(count, key=lambda group: (-count[group], group)) for item, count in votes.items()
    }
    result = {}
    for theme, members in index.items.items():
        own = tuple(item for item in members if home[item] == group_of[theme])
        result[theme] = own or members
    return result


def partition(index: ThemeIndex, groups: int) -> dict[Theme, int]:
    """Theme -> group number in `range(groups)`, every group non-empty; `groups` must not
    exceed the number of themes."""
    size = {theme: len(index.items[theme]) for theme in index.all}
    order = sorted(index.all, key=lambda theme: (-size[theme], theme))
    group_of: dict[Theme, int] = {}
    counts = [0] * groups
    affinity: list[dict[Theme, int]] = [defaultdict(int) for _ in range(groups)]
    frontier: list[list[tuple[int, Theme]]] = [[] for _ in range(groups)]

    def assign(theme: Theme, group: int) -> None:
        group_of[theme] = group
        counts[group] += 1
        for other, shared in index.links[theme].items():
            if other not in group_of:
                affinity[group][other] += shared
                heapq.heappush(frontier[group], (-affinity[group][other], other))

    for group, seed in enumerate(_seeds(order, index.links, groups)):
        assign(seed, group)
    unassigned = iter(order)
    while len(group_of) < len(order):
        group = min(range(groups), key=lambda g: (counts[g], g))
        theme = _most_linked(frontier[group], affinity[group], group_of)
        if theme is None:
            theme = next(theme for theme in unassigned if theme not in group_of)
        assign(theme, group)
    return group_of


def _seeds(order: list[Theme], links: dict[Theme, dict[Theme, int]], groups: int) -> list[Theme]:
    seeds: list[Theme] = []
    near: set[Theme] = set()
    for theme in order:
        if len(seeds) == groups:
            return seeds
        if theme not in near:
            seeds.append(theme)
            near.add(theme)
            near.update(links[theme])
    chosen = set(seeds)
    return seeds + [theme for theme in order if theme not in chosen][: groups - len(seeds)]


def _most_linked(
    frontier: list[tuple[int, Theme]], affinity: dict[Theme, int], group_of: dict[Theme, int]
) -> Theme | None:
    """Pop the frontier's unassigned theme with the highest current affinity (entries
    made stale by a later, higher affinity or by another group's claim are skipped)."""
    while frontier:
        negative, theme = heapq.heappop(frontier)
        if theme not in group_of and -negative == affinity[theme]:
            return theme
    return None
