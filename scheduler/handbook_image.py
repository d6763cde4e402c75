"""Draw the prevention handbook's picture (``dialogs/data/departure_handbook.png``), sent with the
handbook's text the day before a departure.  It is drawn once and committed; run this again
after changing :data:`ITEMS` (needs a Chinese font, as the report chart does)::

    python -m scheduler.handbook_image
"""

from __future__ import annotations

import sys
from pathlib import Path

IMAGE = Path(__file__).resolve().parent.parent / "dialogs" / "data" / "departure_handbook.png"
TITLE = "返岗路上 防护要点"
ITEMS = (
    ("全程戴口罩", "出门、候车、乘车都戴好\n湿了脏了就换"),
    ("勤洗手", "肥皂搓洗20秒\n不摸眼睛口鼻"),
    ("保持距离", "离别人1米以上\n少说话、不扎堆"),
    ("保管好票据", "车票、座位号拍照留着\n记住坐在哪里"),
    ("每天测体温", "37.3℃以上先不出发\n带好身份证、健康码"),
    ("路上不舒服", "告诉乘务员或带队人\n就近去发热门诊"),
)
FOOTER = "到了以后每天照常打卡，说一声“已到岗”"
COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#d62728", "#ff7f0e")


def draw(path: Path = IMAGE) -> Path:
    from scheduler.chart import find_cjk_font

    font = find_cjk_font()
    if font is None:
        raise SystemExit("没有中文字体：请先安装 fonts-noto-cjk")
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyBboxPatch

    with rc_context({"font.family": font}):
        fig = Figure(figsize=(6.4, 8.8), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 64)
        ax.set_ylim(0, 88)
        ax.axis("off")
        ax.add_patch(FancyBboxPatch((1, 1), 62, 86, boxstyle="round,pad=0,rounding_size=2",
                                    facecolor="#f4f8fb", edgecolor="#c9d6e3"))
        ax.text(32, 81, TITLE, ha="center", va="center", fontsize=24, weight="bold",
                color="#16324f")
        for i, ((head, body), colour) in enumerate(zip(ITEMS, COLOURS, strict=True)):
            col, row = i % 2, i // 2
            x, y = 3 + col * 30, 54 - row * 23
            ax.add_patch(FancyBboxPatch((x, y), 28, 20, boxstyle="round,pad=0,rounding_size=1.5",
                                        facecolor="white", edgecolor=colour, linewidth=2))
            ax.add_patch(Circle((x + 4.5, y + 15), 3, color=colour))
            ax.text(x + 4.5, y + 15, str(i + 1), ha="center", va="center", fontsize=16,
                    color="white", weight="bold")
            ax.text(x + 9, y + 15, head, ha="left", va="center", fontsize=15, weight="bold",
                    color=colour)
            ax.text(x + 14, y + 6.5, body, ha="center", va="center", fontsize=11,
                    color="#333333", linespacing=1.6)
        ax.text(32, 4.5, FOOTER, ha="center", va="center", fontsize=12, color="#16324f")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    return path


if __name__ == "__main__":
    print(draw(Path(sys.argv[1]) if len(sys.argv) > 1 else IMAGE))
