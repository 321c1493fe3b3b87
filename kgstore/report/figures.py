"""The report's charts, drawn with matplotlib (Agg: no display) and returned as PNG data
URIs, so the page carries its images inside itself."""

import base64
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DPI = 110
BASELINE_COLOUR = "#9aa5b1"
ACCENT = "#2f6fb0"
SIGNIFICANT = "#2e8b57"
WORSE = "#c0392b"
OTHER_COLOUR = "#c7c7c7"
NONE_COLOUR = "#e9e9e9"
STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
}


@contextmanager
def figure(width: float, height: float, columns: int = 1) -> Iterator[tuple[Figure, Any]]:
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, columns, figsize=(width, height), squeeze=False)
        try:
            yield fig, axes[0]
        finally:
            plt.close(fig)


def data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def palette(count: int) -> list[str]:
    """Distinct colours for `count` categories: tab10, then tab20's lighter shades, both
    without their greys (grey means `other` / `none` on the persona map)."""
    tab10 = [c for k, c in enumerate(plt.get_cmap("tab10").colors) if k != 7]
    tab20 = [c for k, c in enumerate(plt.get_cmap("tab20").colors) if k % 2 and k != 15]
    colours = [matplotlib.colors.to_hex(c) for c in (*tab10, *tab20)]
    return [colours[k % len(colours)] for k in range(count)]


def metric_bars(
    configs: Sequence[str],
    metrics: Sequence[str],
    means: Sequence[Sequence[float]],
    stds: Sequence[Sequence[float]],
    colours: Sequence[str],
    title: str,
) -> str:
    """One panel per metric: a horizontal bar per config, std over seeds as error bars."""
    height = 0.9 + 0.32 * len(configs)
    with figure(10.5, height, len(metrics)) as (fig, axes):
        for column, metric in enumerate(metrics):
            axis = axes[column]
            values = [row[column] for row in means]
            errors = [row[column] for row in stds]
            axis.barh(configs, values, xerr=errors, color=colours, capsize=3, height=0.6)
            axis.invert_yaxis()
            axis.set_title(metric)
            axis.grid(axis="y", visible=False)
            if column:
                axis.set_yticklabels([])
        fig.suptitle(title, fontsize=10)
        return data_uri(fig)


def sasrec_curves(curves: dict[str, list[dict[str, Any]]]) -> str:
    """Per grid row: the training loss per epoch and the validation metric at evaluated
    epochs, one thin line per seed, the best epoch of each seed marked."""
    with figure(10.5, 3.4, 2) as (fig, (loss_axis, valid_axis)):
        colours = palette(len(curves))
        metric = "validation"
        for colour, (row, seeds) in zip(colours, curves.items(), strict=True):
            for number, curve in enumerate(seeds):
                label = row if number == 0 else None
                epochs = np.arange(1, len(curve["loss"]) + 1)
                loss_axis.plot(epochs, curve["loss"], color=colour, lw=1.3, alpha=0.85, label=label)
                metric = curve["metric"]
                valid_axis.plot(
                    curve["validation_epochs"],
                    curve["validation"],
                    color=colour,
                    lw=1.3,
                    alpha=0.85,
                    marker="o" if len(curve["validation"]) < 25 else None,
                    ms=3,
                )
                if curve["best_epoch"] in curve["validation_epochs"]:
                    at = curve["validation_epochs"].index(curve["best_epoch"])
                    valid_axis.plot(
                        curve["best_epoch"], curve["validation"][at], "*", color=colour, ms=10
                    )
        for axis in (loss_axis, valid_axis):
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        loss_axis.set_title("SASRec training loss")
        loss_axis.set_xlabel("epoch")
        loss_axis.set_ylabel("mean loss per batch")
        valid_axis.set_title(f"validation {metric} (star: the kept epoch)")
        valid_axis.set_xlabel("epoch")
        loss_axis.legend(fontsize=8, loc="upper right")
        return data_uri(fig)


def hdgi_loss(losses: Sequence[float], best_epoch: int) -> str:
    with figure(10.5, 3.0) as (fig, (axis,)):
        epochs = np.arange(1, len(losses) + 1)
        axis.plot(epochs, losses, color=ACCENT, lw=1.5)
        if 1 <= best_epoch <= len(losses):
            axis.axvline(best_epoch, color=SIGNIFICANT, lw=1, ls="--")
            axis.annotate(
                f"kept: epoch {best_epoch}",
                (best_epoch, losses[best_epoch - 1]),
                xytext=(8, 12),
                textcoords="offset points",
                color=SIGNIFICANT,
            )
        axis.set_title("HDGI training loss (DGI objective)")
        axis.set_xlabel("epoch")
        axis.set_ylabel("loss")
        positive = [loss for loss in losses if loss > 0]
        if len(positive) == len(losses) and max(positive) > 100 * min(positive):
            axis.set_yscale("log")
            axis.set_ylabel("loss (log scale)")
        return data_uri(fig)


def attention_bars(weights: dict[str, float], labels: dict[str, str]) -> str:
    """The learned semantic-attention weight of each meta-path, largest first."""
    ordered = sorted(weights.items(), key=lambda kv: -kv[1])
    with figure(10.5, 0.9 + 0.38 * len(ordered)) as (fig, (axis,)):
        names = [labels.get(path, path) for path, _ in ordered]
        values = [value for _, value in ordered]
        axis.barh(names, values, color=ACCENT, height=0.6)
        for row, value in enumerate(values):
            axis.text(value, row, f" {value:.3f}", va="center", fontsize=8)
        axis.invert_yaxis()
        axis.set_xlim(0, max([*values, 1e-9]) * 1.15)
        axis.set_xlabel("semantic-attention weight (mean over users; sums to 1)")
        axis.grid(axis="y", visible=False)
        return data_uri(fig)


def persona_scatter(points: np.ndarray, labels: Sequence[str], order: Sequence[str]) -> str:
    """The t-SNE points coloured by category (`order` gives the legend, below the plot);
    `other` and `none` in greys, drawn first so the named categories lie on top."""
    colours = dict(zip(order, palette(len(order)), strict=True))
    colours.update({"other": OTHER_COLOUR, "none": NONE_COLOUR})
    size = 16 if len(points) < 1_000 else 5
    names = np.asarray(labels)
    with figure(5.4, 5.6) as (fig, (axis,)):
        for name in sorted(order, key=lambda n: n not in ("none", "other")):
            mask = names == name
            axis.scatter(
                points[mask, 0],
                points[mask, 1],
                s=size,
                color=colours[name],
                label=f"{name} ({int(mask.sum()):,})",
                alpha=0.8,
                linewidths=0,
            )
        handles, texts = axis.get_legend_handles_labels()
        ranked = sorted(zip(handles, texts, strict=True), key=lambda ht: order.index(_name(ht[1])))
        axis.legend(
            [h for h, _ in ranked],
            [t for _, t in ranked],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            ncol=2 if len(order) <= 8 else 3,
            fontsize=8,
            markerscale=12 / size**0.5,
            handletextpad=0.2,
            columnspacing=1.0,
        )
        axis.set_xticks([])
        axis.set_yticks([])
        axis.grid(False)
        for spine in axis.spines.values():
            spine.set_visible(False)
        axis.set_facecolor("#fbfbfd")
        return data_uri(fig)


def _name(legend_text: str) -> str:
    return legend_text.rsplit(" (", 1)[0]


@dataclass(frozen=True)
class SliceBars:
    """One slice of a table: its title, its rows' configs and each metric's mean and std
    over seeds per config (in config order)."""

    title: str
    configs: Sequence[str]
    means: dict[str, Sequence[float]]
    stds: dict[str, Sequence[float]]


def slice_bars_figure(slices: Sequence[SliceBars], metrics: Sequence[str], title: str) -> Figure:
    """A row of panels per slice, one per metric: a horizontal bar per config with the std
    over seeds as error bars. The slice's title heads its row across the full width and each
    panel is titled by its metric alone, so long slice titles are never cut at the figure's
    edge; the constrained layout keeps every label inside. The caller closes the figure."""
    height = sum(0.9 + 0.32 * len(part.configs) for part in slices) + 0.5
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(10.5, height), layout="constrained", dpi=DPI)
        rows = fig.subfigures(len(slices), 1, squeeze=False)[:, 0]
        for row, part in zip(rows, slices, strict=True):
            axes = row.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
            for axis, metric in zip(axes, metrics, strict=True):
                axis.barh(
                    part.configs,
                    part.means[metric],
                    xerr=part.stds[metric],
                    color=ACCENT,
                    capsize=3,
                    height=0.6,
                )
                axis.set_title(metric)
                axis.grid(axis="y", visible=False)
                axis.xaxis.set_major_locator(MaxNLocator(nbins=5))
            axes[0].invert_yaxis()
            row.suptitle(part.title, fontsize=10)
        fig.suptitle(title, fontsize=11)
    return fig


def write_slice_bars(
    path: Path, slices: Sequence[SliceBars], metrics: Sequence[str], title: str
) -> None:
    """`slice_bars_figure` saved as a PNG at `path`."""
    fig = slice_bars_figure(slices, metrics, title)
    try:
        fig.savefig(path, format="png", facecolor="white")
    finally:
        plt.close(fig)
