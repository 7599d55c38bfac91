"""Render the digest and the weekly report to PNG in headless Chromium, for docs/screenshots/.

    .venv/bin/python scripts/render_screenshots.py [--out docs/screenshots] [--language sv]

Uses the made-up data of ``inboxwarden.demo.samples`` and the shipped (or, with
``--templates DIR``, your own) templates, at a desktop width (1280 px) and a phone
width (390 px, rendered at 2× like a phone screen). Chromium comes from Debian's
``chromium`` package (``apt-get install chromium``). Each run uses a fresh profile and
no network, so the pictures show exactly what a mail client without remote content
shows. The pictures are cut below the message's last pixel.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

from inboxwarden.reports.digest_job import render_digest
from inboxwarden.demo.samples import STOCKHOLM, sample_digest, sample_report
from inboxwarden.reports.templating import Templates
from inboxwarden.reports.weekly_job import chart_png, render_report

WIDTHS = {"desktop": (1280, 1), "phone": (390, 2)}
_HEIGHT = 4000  # tall enough for the whole message; the empty rest is cut off
_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str:
    """The Chromium binary, or exit with how to install it."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("render_screenshots: Chromium not found; install it with `apt-get install chromium`")


def pages(templates: Templates, language: str) -> dict[str, str]:
    """The HTML of each sample message, the report's chart embedded as a data: URI."""
    digest = sample_digest(language)  # type: ignore[arg-type]
    report = sample_report(language)  # type: ignore[arg-type]
    chart = "data:image/png;base64," + base64.b64encode(chart_png(report, STOCKHOLM)).decode()
    return {
        "digest": render_digest(digest, templates, STOCKHOLM).html,
        "report": render_report(report, templates, STOCKHOLM, chart).html,
    }


def screenshot(chromium: str, html: Path, png: Path, width: int, scale: int) -> None:
    """One page at one width, cut below its content."""
    with tempfile.TemporaryDirectory(prefix="iw-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                *_CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--force-device-scale-factor={scale}",
                f"--window-size={width},{_HEIGHT}",
                f"--screenshot={png}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    trim(png)


def trim(png: Path, margin: int = 24) -> None:
    """Cut the page's empty bottom, keeping a margin of the background colour."""
    image = Image.open(png).convert("RGB")
    width, height = image.size
    background = Image.new("RGB", image.size, image.getpixel((0, height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    if box is not None:
        image = image.crop((0, 0, width, min(height, box[3] + margin)))
    image.save(png, optimize=True)


def main() -> None:
    """Render every sample message at every width into the output folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--language", choices=("sv", "en"), default="sv")
    parser.add_argument("--templates", type=Path, help="your template overrides")
    args = parser.parse_args()
    chromium = find_chromium()
    args.out.mkdir(parents=True, exist_ok=True)
    templates = Templates(args.templates)
    with tempfile.TemporaryDirectory(prefix="iw-pages-") as tmp:
        for name, html in pages(templates, args.language).items():
            page = Path(tmp) / f"{name}.html"
            page.write_text(html, encoding="utf-8")
            for label, (width, scale) in WIDTHS.items():
                png = args.out / f"{name}-{args.language}-{label}.png"
                screenshot(chromium, page, png, width, scale)
                print(png)


if __name__ == "__main__":
    main()
