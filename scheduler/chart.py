"""The daily report's chart: the return-to-work share per township, and the trend over the days.

Drawn with matplotlib's Agg backend (no display, no pyplot) in a Chinese font found through
matplotlib's font manager — Debian's ``fonts-noto-cjk`` (Noto Sans CJK SC), or another CJK font
from a Debian package (WenQuanYi, Droid Sans Fallback, AR PL).  Without one the report goes out
as text only and a warning says which package to install: a chart of empty boxes helps nobody.

The PNG is written under ``data/charts/`` (beside the SQLite file when the database is SQLite,
or the ``charts_dir`` in the settings' extras) and attached to the report's outbox row.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import data_folder
from models.tally import Figures, Tally

log = logging.getLogger(__name__)

# Preferred first; every one ships in a Debian package (fonts-noto-cjk, fonts-wqy-microhei,
# fonts-wqy-zenhei, fonts-droid-fallback, fonts-arphic-uming).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
)
_lock = threading.Lock()  # rcParams are global: one drawing at a time
_font: list[str | None] = []  # cached lookup


def find_cjk_font() -> str | None:
    """The family name of an installed font that has Chinese glyphs, or None."""
    if _font:
        return _font[0]
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found is None:  # any other Simplified-Chinese CJK family
        found = next((n for n in sorted(installed) if "CJK SC" in n or n.endswith(" SC")), None)
    _font.append(found)
    return found


def charts_dir(settings: Any, create: bool = True) -> Path:
    """``charts_dir`` in the settings' extras, else ``charts`` beside the SQLite file, else
    ``data/charts`` (made unless ``create`` is False)."""
    folder = data_folder(settings, "charts", "charts_dir")
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_old_charts(folder: Path, now: datetime, keep: timedelta = timedelta(days=30)) -> int:
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.glob("report-*.png"):
        try:
            if datetime.fromtimestamp(path.stat().st_mtime, now.tzinfo) < now - keep:
                path.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def _pct(value: float | None) -> float:
    return 0.0 if value is None else round(100 * value, 1)


def render_chart(tally: Tally, trend: list[tuple[date, Figures]], folder: Path, *,
                 title: str, target_date: date | None = None) -> Path | None:
    """Draw the chart of ``tally`` (district level) with ``trend`` (earlier days of 全区);
    returns the PNG's path, or None when no Chinese font is installed."""
    font = find_cjk_font()
    if font is None:
        log.warning("no Chinese font found (install the Debian package fonts-noto-cjk): "
                    "the daily report goes out without its chart")
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    rows = tally.rows
    days = [d for d, _ in trend if d < tally.day] + [tally.day]
    shares = [_pct(f.share) for d, f in trend if d < tally.day] + [_pct(tally.total.figures.share)]
    rates = ([_pct(f.checkin_rate) for d, f in trend if d < tally.day]
             + [_pct(tally.total.figures.checkin_rate)])

    path = folder / f"report-{tally.day:%Y%m%d}-{uuid.uuid4().hex[:8]}.png"
    with _lock, rc_context({"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False,
                            "font.size": 11}):
        height = max(3.0, 0.34 * len(rows) + 1.2)
        fig = Figure(figsize=(7.2, height + 3.6), dpi=150, layout="constrained")
        top, bottom = fig.subplots(2, 1, height_ratios=[height, 3.0])
        fig.suptitle(title, fontsize=14, fontweight="bold")

        # Share per township, in the report's order (top to bottom).
        names = [r.area for r in rows][::-1]
        values = [_pct(r.figures.share) for r in rows][::-1]
        overall = _pct(tally.total.figures.share)
        bars = top.barh(names, values, color=["#2e7d32" if v >= overall else "#ef6c00"
                                              for v in values], height=0.65)
        for bar, row in zip(bars, rows[::-1], strict=True):
            f = row.figures
            label = f"{_pct(f.share):g}%  {f.employed}/{f.registered}" if f.registered else "未登记"
            top.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, label,
                     va="center", fontsize=9, color="#333333")
        top.axvline(overall, color="#1565c0", linestyle="--", linewidth=1)
        top.text(overall, len(rows) - 0.3, f" 全区 {overall:g}%", color="#1565c0", fontsize=9,
                 va="bottom")
        top.set_xlim(0, 118)
        top.set_xlabel("返岗就业率（%）：已返岗、本地已就业 ÷ 登记人数")
        top.set_title("各乡镇/街道返岗就业率", fontsize=12, loc="left")
        top.tick_params(axis="y", labelsize=10)
        for side in ("top", "right"):
            top.spines[side].set_visible(False)

        # The trend over the days.
        bottom.plot(days, shares, marker="o", markersize=3, color="#2e7d32", label="返岗就业率")
        bottom.plot(days, rates, marker="s", markersize=3, color="#1565c0", linewidth=1,
                    alpha=0.8, label="当日打卡率")
        bottom.annotate(f"{shares[-1]:g}%", (days[-1], shares[-1]), textcoords="offset points",
                        xytext=(4, 4), fontsize=9, color="#2e7d32")
        bottom.set_ylim(0, 105)
        bottom.set_ylabel("%")
        span = f"近{len(days)}天" if len(days) > 1 else "今天"
        bottom.set_title(f"全区走势（{span}）", fontsize=12, loc="left")
        if target_date is not None and days[0] <= target_date <= days[-1] + timedelta(days=3):
            bottom.axvline(target_date, color="#c62828", linestyle=":", linewidth=1)
        labels = [f"{d.month}/{d.day}" for d in days]
        step = max(1, len(days) // 8)
        bottom.set_xticks(days[::step], labels[::step])
        if len(days) == 1:
            bottom.set_xlim(days[0] - timedelta(days=1), days[0] + timedelta(days=1))
        bottom.grid(axis="y", alpha=0.3)
        bottom.legend(loc="lower right", fontsize=9, frameon=False)
        for side in ("top", "right"):
            bottom.spines[side].set_visible(False)
        fig.savefig(path, format="png")
    return path
