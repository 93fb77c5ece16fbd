"""The evaluation report on disk: ``chart.png``, ``report.html`` (self-contained) and ``summary.json``."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from bot.evaluation.compare import METRICS, Drop

CHART_METRICS = ["faq_top1", "faq_answered_right", "oos_rejection", "human_recall"]


def chart_png(summary: dict, previous: dict | None = None) -> bytes:
    """Grouped bars per language for the main metrics; the previous release's FAQ top-1 as markers."""
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in threads of a server
    import matplotlib.pyplot as plt

    languages = [*summary["per_language"], "all"]
    rows = {**summary["per_language"], "all": summary["overall"]}
    width = 0.8 / len(CHART_METRICS)
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=100)
    for i, metric in enumerate(CHART_METRICS):
        values = [(rows[lang].get(metric) or 0) * 100 for lang in languages]
        xs = [x + (i - (len(CHART_METRICS) - 1) / 2) * width for x in range(len(languages))]
        ax.bar(xs, values, width, label=METRICS[metric])
    if previous:
        before = {**previous.get("per_language", {}), "all": previous.get("overall", {})}
        xs = [x - 1.5 * width for x in range(len(languages))]
        ys = [(before.get(lang, {}).get("faq_top1") or float("nan")) * 100 for lang in languages]
        ax.scatter(xs, ys, marker="_", s=300, color="black", label="FAQ top-1, previous release", zorder=3)
    ax.set_xticks(range(len(languages)), languages)
    ax.set_ylim(50, 100)
    ax.set_ylabel("%")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Evaluation per language")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def render_html(summary: dict, png: bytes, release_id: str, previous_id: str | None, found: list[Drop]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(title)}</th>" for title in METRICS.values())
    rows = []
    for lang, figures in [*summary["per_language"].items(), ("all", summary["overall"])]:
        cells = "".join(f"<td>{_pct(figures.get(metric))}</td>" for metric in METRICS)
        rows.append(f"<tr><th>{esc(lang)}</th><td>{figures.get('cases', '')}</td>{cells}</tr>")
    confusions = "".join(
        f"<tr><td>{c['count']}</td><td>{esc(c['expected'])}</td><td>{esc(str(c['got']))}</td></tr>"
        for c in summary["confusions"]
    )
    warnings = "".join(f"<li>{esc(str(d))}</li>" for d in found)
    comparison = (
        f"<p class=warn>Compared with release {esc(previous_id or '')}:</p><ul class=warn>{warnings}</ul>"
        if found
        else f"<p>Compared with release {esc(previous_id)}: no language dropped.</p>"
        if previous_id
        else "<p>No earlier release with figures to compare with.</p>"
    )
    image = base64.b64encode(png).decode()
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>Evaluation {esc(release_id)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}.warn{{color:#a00;font-weight:bold}}</style>
</head><body>
<h1>Evaluation of release {esc(release_id)}</h1>
<p>{esc(summary.get("file", ""))} ({esc(summary.get("split", ""))}, {summary["overall"]["cases"]} lines,
{summary.get("seconds", "?")} s)</p>
{comparison}
<img alt="figures per language" src="data:image/png;base64,{image}">
<h2>Per language</h2>
<table><tr><th>lang</th><th>cases</th>{head}</tr>{"".join(rows)}</table>
<h2>Most confused topics (expected &rarr; got)</h2>
<table><tr><th>count</th><th>expected</th><th>got</th></tr>{confusions}</table>
</body></html>
"""


def write_report(
    folder: Path, summary: dict, release_id: str, previous: dict | None, previous_id: str | None, found: list[Drop]
) -> Path:
    """Write chart.png, report.html and summary.json into ``folder``; return the HTML path."""
    folder.mkdir(parents=True, exist_ok=True)
    png = chart_png(summary, previous)
    (folder / "chart.png").write_bytes(png)
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    page = folder / "report.html"
    page.write_text(render_html(summary, png, release_id, previous_id, found), encoding="utf-8")
    return page
