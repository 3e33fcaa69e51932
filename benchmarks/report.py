"""What the figures, the animation and report.html cost as training grows longer.

    python benchmarks/report.py [--epochs 100,1000,10000] [--write]

Trains the post's experiment for each number of epochs, writes its run directory (figures,
GIF, MP4 when imageio-ffmpeg is installed, report.html) and prints one row per run: the
seconds spent training and drawing, the frames of the animation and the sizes of the GIF
and the report. The frame count is bounded, so the animation's cost and size stay flat
while training grows by a factor of 100. A first, untimed run warms up the imports.
With --write the table replaces the '## Report and animation' section of
docs/performance.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from PIL import Image

from neurona.face import experiment
from neurona.show.report_html import render_run
from performance_doc import put_section  # noqa: E402 (benchmarks/)

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
HEADING = "## Report and animation"


def measure(epochs: int, root: Path) -> dict:
    config = experiment.make_config(epochs=epochs)
    start = time.perf_counter()
    result = experiment.run(config)
    trained = time.perf_counter() - start
    directory = root / f"e{epochs}"
    start = time.perf_counter()
    render_run(result, directory, config=experiment.recorded_config(result), animation=False)
    figures = time.perf_counter() - start
    start = time.perf_counter()
    render_run(result, directory, config=experiment.recorded_config(result), animation=True)
    total = time.perf_counter() - start
    gif = directory / "figures" / "training.gif"
    with Image.open(gif) as im:
        frames = im.n_frames
    return {"epochs": epochs, "train_s": trained, "figures_s": figures,
            "animation_s": total - figures, "frames": frames,
            "gif_kib": gif.stat().st_size / 1024,
            "html_kib": (directory / "report.html").stat().st_size / 1024}


def table(rows: list[dict]) -> str:
    lines = ["| epochs | training (s) | figures (s) | animation (s) | frames | GIF (KiB) "
             "| report.html (KiB) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['epochs']} | {r['train_s']:.2f} | {r['figures_s']:.2f} | "
                     f"{r['animation_s']:.2f} | {r['frames']} | {r['gif_kib']:.0f} | "
                     f"{r['html_kib']:.0f} |")
    return "\n".join(lines)


def write_section(text: str) -> None:
    section = (f"{HEADING}\n\nMeasured by `python benchmarks/report.py --write`: the post's "
               f"experiment, one run per row, on a shared 2-core machine (seconds are "
               f"indicative). Drawing time and file sizes do not grow with the epochs: the "
               f"animation keeps at most 48 frames and the report's history table at most "
               f"1000 rows; drawing each frame re-renders only the moving parts over a "
               f"saved background.\n\n{text}\n")
    put_section(section, HEADING, DOC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default="100,1000,10000",
                        help="comma-separated epoch counts (default: %(default)s)")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        measure(5, Path(root))  # warm-up: imports, font cache
        rows = [measure(int(e), Path(root)) for e in args.epochs.split(",")]
    text = table(rows)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
