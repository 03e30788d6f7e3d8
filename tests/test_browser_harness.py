"""The headless-browser harness (tests/browser.py) can see what the report test relies on:
images that rendered or did not, SVG sizes, a real screenshot, and every request the page
tried to make (all blocked). Each test has a case where the check must fail."""

from __future__ import annotations

import base64
import http.server
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode an (h, w, 3) uint8 array as a PNG (filter 0, no colour chunks)."""
    h, w, _ = pixels.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def chart_pixels(w: int = 37, h: int = 23) -> np.ndarray:
    """A small colourful picture with no two neighbouring pixels alike."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x * 7 + y * 13) % 256], -1).astype(
        np.uint8
    )


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    p = tmp_path / name
    p.write_text(
        "<!doctype html><html><head><meta charset=utf-8>"
        "<style>body{margin:0;background:#fff}img{display:block}</style></head>"
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return p


def screenshot_array(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def group_alive(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid`` (Linux /proc)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def assert_browser_gone(pgid: int) -> None:
    if not Path("/proc/self/stat").exists():
        return
    deadline = time.monotonic() + 10
    while (left := group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"browser processes left running: {left}"


# (a) an embedded chart ------------------------------------------------------------------------


def test_data_png_renders_at_natural_size_and_appears_in_screenshot(
    browser: ModuleType, tmp_path: Path
) -> None:
    pixels = chart_pixels()
    html = page(
        tmp_path,
        f'<h1>report</h1><img id=chart alt="fan chart" src="{data_uri(png_bytes(pixels))}">',
    )
    r = browser.render(html, tmp_path / "out", width=1400, height=700)

    assert r.requests == []
    assert r.console_errors == []
    [img] = r.imgs
    assert img["src_kind"] == "data"
    assert img["label"] == "fan chart"
    assert (img["natural_width"], img["natural_height"]) == (37, 23)
    assert (img["width"], img["height"]) == (37, 23)
    assert img["complete"]
    assert img["decoded"]
    assert img["visible"]
    assert img["ok"]

    assert r.screenshot.is_file()
    shot = screenshot_array(r.screenshot)
    assert shot.shape[1] == 1400  # the window width
    assert shot.shape[0] == r.page_height >= 700
    assert shot.std() > 1.0  # not blank
    # The chart's own pixels are in the screenshot where the harness says the image is.
    x, y = round(img["x"]), round(img["y"])
    crop = shot[y : y + 23, x : x + 37].astype(int)
    assert np.abs(crop - pixels.astype(int)).max() <= 2
    assert r.pid > 0
    assert_browser_gone(r.pid)


def test_blank_page_screenshot_is_blank(browser: ModuleType, tmp_path: Path) -> None:
    """The non-blank check above can fail: an empty page has zero pixel variance."""
    r = browser.render(page(tmp_path, ""), tmp_path / "out", width=800, height=300)
    shot = screenshot_array(r.screenshot)
    assert shot.shape[:2] == (300, 800)
    assert shot.std() == 0.0
    assert r.images == []


def test_full_page_screenshot_covers_content_below_the_window(
    browser: ModuleType, tmp_path: Path
) -> None:
    pixels = chart_pixels()
    body = f'<div style="height:1500px"></div><img src="{data_uri(png_bytes(pixels))}">'
    r = browser.render(page(tmp_path, body), tmp_path / "out", width=640, height=400)
    shot = screenshot_array(r.screenshot)
    [img] = r.imgs
    assert img["y"] == 1500
    assert shot.shape[:2] == (r.page_height, 640)
    assert np.abs(shot[1500:1523, 0:37].astype(int) - pixels.astype(int)).max() <= 2


# (b) requests are recorded and never leave ----------------------------------------------------


class _CountingServer:
    """An HTTP server on loopback that counts the requests reaching it."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(png_bytes(chart_pixels(5, 5)))

            def log_message(self, *args: object) -> None:
                pass

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def local_server() -> Iterator[_CountingServer]:
    s = _CountingServer()
    yield s
    s.close()


def leaky_page(tmp_path: Path, server: str) -> tuple[Path, list[str]]:
    pixels = chart_pixels()
    remote = [
        "http://example.invalid/x.png",
        "https://cdn.example/x.css",
        "https://api.example.com/data.json",
        f"{server}/local.png",
        f"{server}/local.json",
    ]
    body = f"""
      <link rel=stylesheet href="{remote[1]}">
      <img id=ok src="{data_uri(png_bytes(pixels))}">
      <img id=remote src="{remote[0]}">
      <img id=loopback src="{remote[3]}">
      <script>
        fetch('{remote[2]}').catch(() => {{}});
        fetch('{remote[4]}').catch(() => {{}});
      </script>"""
    return page(tmp_path, body), remote


def test_every_outside_request_is_recorded_and_blocked(
    browser: ModuleType, tmp_path: Path, local_server: _CountingServer
) -> None:
    html, remote = leaky_page(tmp_path, local_server.url)
    r = browser.render(html, tmp_path / "out")

    assert sorted(r.requests) == sorted(remote)
    assert local_server.hits == []  # nothing reached even the loopback server
    by_id = {i["id"]: i for i in r.imgs}
    assert by_id["ok"]["ok"]
    assert by_id["remote"]["src_kind"] == "http"
    assert not by_id["remote"]["ok"]
    assert not by_id["loopback"]["ok"]
    assert any("ERR_BLOCKED_BY_CLIENT" in e for e in r.console_errors)


@pytest.mark.parametrize(
    ("guards", "reached"),
    [
        (("intercept",), False),
        (("resolver",), False),
        ((), True),
    ],
)
def test_each_network_guard_blocks_on_its_own(
    browser: ModuleType,
    tmp_path: Path,
    local_server: _CountingServer,
    guards: tuple[str, ...],
    reached: bool,
) -> None:
    """Either guard alone keeps requests from leaving; with both off the loopback server is
    reached, so ``hits == []`` above is a real observation, not a server that never answers."""
    html, remote = leaky_page(tmp_path, local_server.url)
    r = browser.render(html, tmp_path / "out", _guards=guards)

    assert sorted(r.requests) == sorted(remote)  # recorded whatever the guards
    if reached:
        assert sorted(local_server.hits) == ["/local.json", "/local.png"]
        assert {i["id"]: i["ok"] for i in r.imgs}["loopback"]
    else:
        assert local_server.hits == []
        assert not {i["id"]: i["ok"] for i in r.imgs}["loopback"]


# (c) a broken chart ---------------------------------------------------------------------------


def test_broken_data_image_is_reported(browser: ModuleType, tmp_path: Path) -> None:
    good = png_bytes(chart_pixels())
    truncated = good[:30]  # signature and part of IHDR
    body = (
        f'<img id=good src="{data_uri(good)}">'
        f'<img id=truncated src="{data_uri(truncated)}">'
        '<img id=garbage src="data:image/png;base64,bm90IGEgcG5n">'
        "<img id=empty>"
    )
    r = browser.render(page(tmp_path, body), tmp_path / "out")

    by_id = {i["id"]: i for i in r.imgs}
    assert by_id["good"]["ok"]
    for bad in ("truncated", "garbage", "empty"):
        assert not by_id[bad]["ok"], by_id[bad]
        assert by_id[bad]["natural_width"] == 0
        assert not by_id[bad]["decoded"]
    assert by_id["empty"]["src_kind"] == "none"
    assert r.requests == []


# (d) inline SVG -------------------------------------------------------------------------------


def test_inline_svg_bounding_box(browser: ModuleType, tmp_path: Path) -> None:
    body = (
        '<svg id=chart width=300 height=200 aria-label="difficulty path">'
        '<rect width=300 height=200 fill="#36c"/><svg width=10 height=10></svg></svg>'
        "<svg id=empty width=120 height=80></svg>"
        '<svg id=hidden width=50 height=50 style="display:none"><rect width=5 height=5/></svg>'
    )
    r = browser.render(page(tmp_path, body), tmp_path / "out")

    by_id = {s["id"]: s for s in r.svgs}
    assert set(by_id) == {"chart", "empty", "hidden"}  # the nested <svg> is not listed
    chart = by_id["chart"]
    assert (chart["width"], chart["height"]) == (300, 200)
    assert chart["label"] == "difficulty path"
    assert chart["ok"]
    assert (by_id["empty"]["width"], by_id["empty"]["height"]) == (120, 80)
    assert not by_id["empty"]["ok"]  # no content
    assert not by_id["hidden"]["visible"]
    assert not by_id["hidden"]["ok"]
    # The blue rectangle is in the screenshot at the reported box.
    shot = screenshot_array(r.screenshot)
    x, y = round(chart["x"]), round(chart["y"])
    assert (shot[y : y + 200, x : x + 300] == [0x33, 0x66, 0xCC]).all()


# Failure modes of the harness itself ----------------------------------------------------------


def test_timeout_is_clear_and_kills_the_browser(browser: ModuleType, tmp_path: Path) -> None:
    html = page(tmp_path, "<script>for (;;) {}</script>")
    t0 = time.monotonic()
    with pytest.raises(browser.BrowserTimeoutError, match="load event") as e:
        browser.render(html, tmp_path / "out", timeout=3)
    assert time.monotonic() - t0 < 20
    assert e.value.pid > 0
    assert_browser_gone(e.value.pid)


def test_missing_file_is_an_error(browser: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(browser.BrowserError, match="no such file"):
        browser.render(tmp_path / "nope.html", tmp_path / "out")


def test_missing_browser_raises(
    browser: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HASHPIVOT_CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert browser.find_chromium() is None
    with pytest.raises(browser.BrowserNotFoundError, match="make test-deps"):
        browser.render(page(tmp_path, ""), tmp_path / "out")


@pytest.mark.parametrize(("require", "outcome"), [("0", "1 skipped"), ("1", "1 error")])
def test_no_browser_skips_only_when_allowed(
    browser: ModuleType, require: str, outcome: str
) -> None:
    """Without a browser the fixture skips, but fails under HASHPIVOT_REQUIRE_BROWSER=1
    (what ``make py-test`` sets), so CI cannot silently skip the report test."""
    env = {
        **os.environ,
        "HASHPIVOT_CHROMIUM": "/nonexistent/chromium",
        "HASHPIVOT_REQUIRE_BROWSER": require,
    }
    test = f"{Path(__file__).relative_to(ROOT)}::test_inline_svg_bounding_box"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", test],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = run.stdout + run.stderr
    assert outcome in out, out
    assert "no headless Chromium" in out
    assert (run.returncode == 0) == (require == "0")
