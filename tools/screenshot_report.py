"""Take the README's screenshot of a report: tools/screenshot_report.py RUN_DIR OUT.png

Opens RUN_DIR/report.html in Debian's headless Chromium (tools/ensure-chromium installs
it), shoots the top of the page and the decision boundary beside the animation, and saves
a small palette PNG. Needs the browser extra: pip install -e '.[browser]'.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("NEURONA_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def main(run_dir: str, out: str, width: int = 1300, height: int = 1500) -> None:
    url = (Path(run_dir) / "report.html").resolve().as_uri()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url, wait_until="load")
        shot = page.screenshot(animations="disabled")
        browser.close()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    image = image.resize((width * 2 // 3, height * 2 // 3), Image.Resampling.LANCZOS)
    image.quantize(colors=256, method=Image.Quantize.MAXCOVERAGE).save(out, optimize=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[0])
    main(sys.argv[1], sys.argv[2])
