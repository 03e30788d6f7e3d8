"""Headless-Chromium harness for tests: open a local HTML file offline, screenshot it, and
report every image/SVG and every request the page tried to make.

Standard library only. Chromium (Debian's ``chromium-headless-shell``, or ``chromium``) is
driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands on the
child's fd 3, replies on its fd 4, NUL-terminated JSON), so no websocket client, no port
and no browser download is needed. See ``docs/design.md`` ("Report test in a browser").

Tests reach this module through the ``browser`` fixture in ``tests/conftest.py`` (the suite
runs with ``--import-mode=importlib``, so ``tests/`` is not on ``sys.path``)::

    def test_report_renders(browser, tmp_path):
        r = browser.render(report_dir / "report.html", tmp_path)
        assert r.requests == []
        assert all(i["ok"] for i in r.imgs)

Network: every request whose scheme is not ``file:``/``data:``/``blob:``/``about:`` is
recorded in ``Rendered.requests`` **and failed before it is sent** (CDP ``Fetch``
interception); on top of that every host name resolves to NOTFOUND and background
networking is off, so a rendering never reaches the network.

``python tests/browser.py`` prints the browser that would be used (exit 1 if none); the
Makefile's ``test-deps`` target uses it to decide whether to install one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BrowserError",
    "BrowserNotFoundError",
    "BrowserTimeoutError",
    "Rendered",
    "chromium_version",
    "find_chromium",
    "render",
]

#: Env var naming the browser binary to use (overrides the search).
ENV_BINARY = "HASHPIVOT_CHROMIUM"

#: Searched in this order. The real binary first: Debian's /usr/bin entries are shell wrappers.
CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",
    "chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome-stable",
    "google-chrome",
)

#: URL schemes a self-contained page may load; anything else is recorded and blocked.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

#: Taller pages are cut here in the screenshot (Chromium's texture limit is 16384 px).
MAX_SCREENSHOT_HEIGHT = 16384


class BrowserError(RuntimeError):
    """Chromium failed to start, crashed, or the page could not be loaded.

    ``pid`` is the browser's process (group) id when it had started, else 0; by the time
    the exception propagates the browser and its children have been killed.
    """

    pid: int = 0


class BrowserNotFoundError(BrowserError):
    """No Chromium binary was found (install ``chromium-headless-shell``; ``make test-deps``)."""


class BrowserTimeoutError(BrowserError):
    """A step (start, load, script, screenshot) did not finish within the timeout."""


@dataclass(frozen=True)
class Rendered:
    """What one :func:`render` saw.

    Attributes
    ----------
    screenshot
        PNG of the whole page (``width`` CSS px wide at device scale 1, as tall as the
        content up to :data:`MAX_SCREENSHOT_HEIGHT`).
    images
        One dict per ``<img>`` then one per outermost ``<svg>``, in document order within
        each kind. Keys for both: ``tag`` (``"img"``/``"svg"``), ``id``, ``label`` (alt,
        aria-label or ``<title>``), ``x``, ``y`` (page coordinates, CSS px), ``width``,
        ``height`` (rendered box, CSS px, from ``getBoundingClientRect``), ``visible``
        (non-zero box, not ``display:none``/``visibility:hidden``) and ``ok``.
        ``<img>`` adds ``src`` (first 120 characters), ``src_kind`` (URL scheme without
        the colon: ``"data"``, ``"file"``, ``"http"``, ``"https"``, …; ``"none"`` when
        empty), ``complete`` (the DOM flag: note it is also true for a *broken* image),
        ``decoded`` (``img.decode()`` resolved), ``natural_width``, ``natural_height``;
        ``ok`` = complete and decoded and natural size > 0. ``<svg>`` adds
        ``child_count`` (element children) and ``ok`` = visible and ``child_count`` > 0.
    requests
        Every URL the page tried to fetch whose scheme is not in :data:`LOCAL_SCHEMES`,
        unique, in first-seen order (images, styles, scripts, fonts, ``fetch``/XHR,
        websockets, …). All of them were blocked.
    console_errors
        ``console.error``/``console.assert`` messages, uncaught exceptions and
        browser-logged errors (e.g. ``Failed to load resource: net::ERR_BLOCKED_BY_CLIENT``
        for a blocked request), as text.
    page_width, page_height
        Size of the laid-out document (CSS px); ``page_width > width`` means horizontal
        overflow.
    width, height
        The window (viewport) size used.
    seconds
        Wall time of the whole render, browser start to exit.
    browser
        Product string reported by the browser, e.g. ``HeadlessChrome/156.0.8078.79``.
    pid
        Process id (= process group id) the browser ran as; it and its group are gone.
    """

    screenshot: Path
    images: list[dict[str, Any]]
    requests: list[str]
    console_errors: list[str]
    page_width: int
    page_height: int
    width: int
    height: int
    seconds: float
    browser: str = ""
    pid: int = 0

    @property
    def imgs(self) -> list[dict[str, Any]]:
        """The ``<img>`` entries of :attr:`images`."""
        return [i for i in self.images if i["tag"] == "img"]

    @property
    def svgs(self) -> list[dict[str, Any]]:
        """The outermost ``<svg>`` entries of :attr:`images`."""
        return [i for i in self.images if i["tag"] == "svg"]


def find_chromium() -> Path | None:
    """The Chromium binary to use: ``$HASHPIVOT_CHROMIUM`` if set, else the first of
    :data:`CANDIDATES` that exists (absolute paths) or is on ``PATH``; ``None`` if none."""
    env = os.environ.get(ENV_BINARY)
    if env:
        p = Path(env) if os.sep in env else Path(shutil.which(env) or env)
        return p if p.is_file() and os.access(p, os.X_OK) else None
    for c in CANDIDATES:
        if os.sep in c:
            if os.path.isfile(c) and os.access(c, os.X_OK):
                return Path(c)
        elif found := shutil.which(c):
            return Path(found)
    return None


def chromium_version(binary: Path | None = None) -> str:
    """``--version`` output of ``binary`` (default :func:`find_chromium`)."""
    binary = binary or _require_binary()
    out = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return (out.stdout or out.stderr).strip()


def render(
    html_path: Path | str,
    out_dir: Path | str,
    *,
    width: int = 1400,
    height: int = 900,
    timeout: float = 60.0,
    settle: float = 0.3,
    binary: Path | str | None = None,
    block_network: bool = True,
    _guards: tuple[str, ...] = ("intercept", "resolver"),
) -> Rendered:
    """Open ``html_path`` in headless Chromium with no network, screenshot the whole page
    into ``out_dir``, and report images, SVGs, attempted requests and console errors.

    Parameters
    ----------
    html_path
        A local HTML file; opened as a ``file://`` URL exactly as a user double-clicking it
        would (no ``--allow-file-access-from-files``: a report that ``fetch()``es its
        sibling files fails here as it would for the user).
    out_dir
        Created if needed; receives ``<html stem>.png`` and ``<html stem>.chromium.log``
        (the browser's stderr, for debugging).
    width, height
        Window (viewport) size in CSS px; device scale factor 1.
    timeout
        Seconds for the whole render; on expiry :class:`BrowserTimeoutError` says which step
        was waiting.
    settle
        After the load event, wait until the page has produced no protocol event for this
        many seconds (late ``fetch``, timers, image decodes), capped by ``timeout``.
    binary
        Chromium to run; default :func:`find_chromium`.
    block_network
        Keep ``True``. ``False`` turns both network guards off (requests are still
        recorded); it exists only so the harness's own tests can show that their "nothing
        left the machine" check is able to fail. (``_guards`` picks the guards one by one
        for the same tests: ``"intercept"`` = CDP Fetch interception, ``"resolver"`` =
        ``--host-resolver-rules=MAP * ~NOTFOUND``, which also covers IP literals.)

    Returns
    -------
    Rendered

    Raises
    ------
    BrowserNotFoundError
        No browser found.
    BrowserTimeoutError
        A step did not finish within ``timeout``.
    BrowserError
        The browser failed to start or crashed, or the file could not be opened.

    The browser and all its child processes are killed before this returns or raises.
    """
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise BrowserError(f"{html_path}: no such file to render")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exe = Path(binary) if binary else _require_binary()
    shot = out / f"{html_path.stem}.png"
    log_path = out / f"{html_path.stem}.chromium.log"
    t0 = time.monotonic()
    guards = frozenset(_guards if block_network else ())
    chromium = _Chromium(exe, width, height, log_path, t0 + timeout, "resolver" in guards)
    try:
        with chromium as cdp:
            page = _Page(cdp, "intercept" in guards)
            product = cdp.call("Browser.getVersion").get("product", "")
            page.open(html_path.as_uri(), width, height)
            page.settle(settle)
            images = page.collect_images()
            pw, ph = page.content_size()
            shot_h = max(1, min(ph, MAX_SCREENSHOT_HEIGHT))
            png = page.screenshot(width, shot_h)
            page.settle(0.05)  # requests triggered by the last steps
            _atomic_write(shot, png)
            requests, errors = list(page.requests), list(page.console_errors)
    except BrowserError as e:
        e.pid = chromium.pid
        raise
    return Rendered(
        screenshot=shot,
        images=images,
        requests=requests,
        console_errors=errors,
        page_width=pw,
        page_height=ph,
        width=width,
        height=height,
        seconds=time.monotonic() - t0,
        browser=product,
        pid=chromium.pid,
    )


# --------------------------------------------------------------------------------------------
# Implementation


def _require_binary() -> Path:
    b = find_chromium()
    if b is None:
        raise BrowserNotFoundError(
            "no headless Chromium found (looked for $HASHPIVOT_CHROMIUM, "
            + ", ".join(CANDIDATES)
            + "); install it with `make test-deps` "
            "(apt-get install chromium-headless-shell) or set HASHPIVOT_CHROMIUM"
        )
    return b


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _high_fd(fd: int) -> int:
    """Move ``fd`` to a number >= 10 (close-on-exec) so the child's dup2 onto 3/4 cannot
    clobber the other end."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


def _flags(width: int, height: int, profile: str, resolver_guard: bool = True) -> list[str]:
    flags = [
        "--headless",
        "--remote-debugging-pipe",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--mute-audio",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # No background traffic (page requests are failed by Fetch interception as well).
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-domain-reliability",
        "--disable-extensions",
        "--disable-sync",
        "--disable-breakpad",
        "--no-pings",
        "--no-first-run",
        "--no-default-browser-check",
        "--metrics-recording-only",
        "--webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--force-webrtc-ip-handling-policy",
        "--disable-features=Translate,OptimizationHints,MediaRouter,"
        "DialMediaRouteProvider,AutofillServerCommunication,InterestFeedContentSuggestions",
    ]
    if resolver_guard:
        # No host name and no IP literal resolves: nothing can connect anywhere, including
        # traffic the page-level interception does not see (prefetch, the browser itself).
        flags.append("--host-resolver-rules=MAP * ~NOTFOUND")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    return [*flags, "about:blank"]


class _Chromium:
    """A Chromium process with a DevTools pipe; a context manager that always kills it."""

    def __init__(
        self, exe: Path, width: int, height: int, log: Path, deadline: float, resolver_guard: bool
    ):
        self.exe, self.width, self.height, self.log_path = exe, width, height, log
        self.resolver_guard = resolver_guard
        self.deadline = deadline
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0
        self.profile = ""
        self._wfd = self._rfd = -1
        self._buf = bytearray()  # bytes received after the last complete message
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.on_event: Any = None  # callable(dict) -> None, set by _Page

    # lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> _Chromium:
        self.profile = tempfile.mkdtemp(prefix="hashpivot-chromium-")
        cmd_r, cmd_w = os.pipe()  # we write commands -> child fd 3
        rsp_r, rsp_w = os.pipe()  # child fd 4 -> we read replies
        cmd_r, rsp_w = _high_fd(cmd_r), _high_fd(rsp_w)

        def child_fds() -> None:  # runs in the child between fork and exec
            os.dup2(cmd_r, 3)  # dup2 clears close-on-exec on the new descriptor
            os.dup2(rsp_w, 4)

        try:
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    [
                        str(self.exe),
                        *_flags(self.width, self.height, self.profile, self.resolver_guard),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    close_fds=False,  # our own descriptors are close-on-exec (PEP 446)
                    preexec_fn=child_fds,
                    start_new_session=True,  # own process group: killed as a whole
                )
        except OSError as e:
            for fd in (cmd_r, cmd_w, rsp_r, rsp_w):
                os.close(fd)
            shutil.rmtree(self.profile, ignore_errors=True)
            raise BrowserError(f"cannot start {self.exe}: {e}") from e
        finally:
            if self.proc is not None:
                os.close(cmd_r)
                os.close(rsp_w)
        self._wfd, self._rfd = cmd_w, rsp_r
        self.pid = self.proc.pid
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        try:
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(OSError):
                    self._send("Browser.close", {})
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        finally:
            if proc is not None:
                # The renderer/zygote/utility children share the group; kill any left over.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
            for fd in (self._wfd, self._rfd):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._wfd = self._rfd = -1
            shutil.rmtree(self.profile, ignore_errors=True)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    # protocol --------------------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any], session: str | None = None) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._wfd, data)
            data = data[n:]
        return self._next_id

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> int:
        """Send without waiting for the reply (the reply is dropped when it arrives)."""
        try:
            return self._send(method, params or {}, session)
        except OSError as e:
            raise self._crashed(f"writing {method}") from e

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        *,
        what: str | None = None,
    ) -> dict[str, Any]:
        """Send a command and return its result, dispatching events that arrive meanwhile."""
        want = self.send(method, params, session)
        while True:
            msg = self.recv(what or method)
            if msg is None:
                continue
            if msg.get("id") == want:
                if "error" in msg:
                    raise BrowserError(f"DevTools {method} failed: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result

    def recv(self, what: str, until: float | None = None) -> dict[str, Any] | None:
        """One message; events go to ``on_event``. ``None`` if ``until`` passed first."""
        scanned = 0
        while (end := self._buf.find(b"\0", scanned)) < 0:
            scanned = len(self._buf)
            now = time.monotonic()
            if now >= self.deadline:
                raise BrowserTimeoutError(
                    f"headless Chromium timed out while waiting for {what}\n{self.log_tail()}"
                )
            wait = self.deadline - now if until is None else min(self.deadline, until) - now
            if wait <= 0:
                return None
            ready, _, _ = select.select([self._rfd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(self._rfd, 1 << 20)
            if not chunk:
                raise self._crashed(f"waiting for {what}")
            self._buf += chunk
        msg: dict[str, Any] = json.loads(self._buf[:end])
        del self._buf[: end + 1]
        if "method" in msg and self.on_event is not None:
            self.on_event(msg)
        return msg

    def _crashed(self, what: str) -> BrowserError:
        code = self.proc.poll() if self.proc else None
        return BrowserError(
            f"headless Chromium ({self.exe}) closed the DevTools pipe {what} "
            f"(exit status {code})\n{self.log_tail()}"
        )


_COLLECT_JS = r"""
(async (decodeMs) => {
  const imgs = Array.from(document.images);
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), decodeMs));
  const decoded = await Promise.all(imgs.map((im) =>
    Promise.race([im.decode().then(() => true, () => false), timeout.then(() => false)])));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const box = (el) => {
    const b = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    const visible = b.width > 0 && b.height > 0 && cs.display !== 'none'
      && cs.visibility !== 'hidden';
    return {x: b.left + scrollX, y: b.top + scrollY, width: b.width, height: b.height, visible};
  };
  const kind = (u) => {
    if (!u) return 'none';
    try { return new URL(u, document.baseURI).protocol.replace(/:$/, ''); }
    catch (e) { return 'invalid'; }
  };
  const out = [];
  imgs.forEach((im, i) => {
    const src = im.currentSrc || im.src || '';
    const e = Object.assign({tag: 'img', id: im.id || '', label: im.alt || '',
      src: src.slice(0, 120), src_kind: kind(src), complete: im.complete,
      decoded: decoded[i], natural_width: im.naturalWidth,
      natural_height: im.naturalHeight}, box(im));
    e.ok = e.complete && e.decoded && e.natural_width > 0 && e.natural_height > 0;
    out.push(e);
  });
  document.querySelectorAll('svg').forEach((s) => {
    if (s.parentElement && s.parentElement.closest('svg')) return;
    const t = s.querySelector(':scope > title');
    const e = Object.assign({tag: 'svg', id: s.id || '',
      label: s.getAttribute('aria-label') || (t ? t.textContent : '') || '',
      child_count: s.childElementCount}, box(s));
    e.ok = e.visible && e.child_count > 0;
    out.push(e);
  });
  return out;
})
"""


class _Page:
    """One tab, attached in flat mode, with network interception and event recording."""

    def __init__(self, cdp: _Chromium, block_network: bool):
        self.cdp = cdp
        self.block = block_network
        self.requests: list[str] = []
        self._seen: set[str] = set()
        self.console_errors: list[str] = []
        self.loaded = False
        self.nav_error = ""
        self.session = ""
        self.last_event = time.monotonic()
        cdp.on_event = self._on_event

    def _record(self, url: str) -> None:
        if url and not url.startswith(LOCAL_SCHEMES) and url not in self._seen:
            self._seen.add(url)
            self.requests.append(url)

    def _on_event(self, msg: dict[str, Any]) -> None:
        self.last_event = time.monotonic()
        m, p = msg["method"], msg.get("params", {})
        if m == "Fetch.requestPaused":
            url = p["request"]["url"]
            self._record(url)
            if url.startswith(LOCAL_SCHEMES) or not self.block:
                self.cdp.send("Fetch.continueRequest", {"requestId": p["requestId"]}, self.session)
            else:
                self.cdp.send(
                    "Fetch.failRequest",
                    {"requestId": p["requestId"], "errorReason": "BlockedByClient"},
                    self.session,
                )
        elif m == "Network.requestWillBeSent":
            self._record(p["request"]["url"])
        elif m == "Network.webSocketCreated":
            self._record(p["url"])
        elif m == "Page.loadEventFired":
            self.loaded = True
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            parts = [str(a.get("value", a.get("description", ""))) for a in p.get("args", [])]
            self.console_errors.append("console." + p["type"] + ": " + " ".join(parts))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.console_errors.append(f"uncaught: {text}")
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            self.console_errors.append(f"{e.get('source', 'log')}: {e.get('text', '')}")

    def open(self, url: str, width: int, height: int) -> None:
        cdp = self.cdp
        target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        s = self.session
        # Intercept everything (file: and data: are let through in _on_event).
        cdp.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, s)
        for domain in ("Page", "Network", "Runtime", "Log"):
            cdp.call(f"{domain}.enable", {}, s)
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            s,
        )
        nav = cdp.call("Page.navigate", {"url": url}, s, what=f"navigation to {url}")
        if nav.get("errorText"):
            raise BrowserError(f"{url}: Chromium could not open it: {nav['errorText']}")
        while not self.loaded:
            cdp.recv(f"the load event of {url}")

    def settle(self, quiet: float) -> None:
        self.last_event = time.monotonic()
        while True:
            until = self.last_event + quiet
            if time.monotonic() >= until:
                return
            self.cdp.recv("the page to settle", until=until)

    def evaluate(self, expression: str, what: str) -> Any:
        r = self.cdp.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            self.session,
            what=what,
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise BrowserError(f"{what}: {d.get('exception', {}).get('description', d)}")
        return r["result"].get("value")

    def collect_images(self) -> list[dict[str, Any]]:
        remaining_ms = max(100, int((self.cdp.deadline - time.monotonic()) * 500))
        images: list[dict[str, Any]] = self.evaluate(
            f"({_COLLECT_JS})({remaining_ms})", "the image/SVG inventory script"
        )
        return images

    def content_size(self) -> tuple[int, int]:
        m = self.cdp.call("Page.getLayoutMetrics", {}, self.session)
        size = m.get("cssContentSize") or m["contentSize"]
        return round(size["width"]), round(size["height"])

    def screenshot(self, width: int, height: int) -> bytes:
        import base64

        r = self.cdp.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
            self.session,
            what="the screenshot",
        )
        return base64.b64decode(r["data"])


def main() -> int:
    """``python tests/browser.py``: print the browser that would be used; exit 1 if none."""
    b = find_chromium()
    if b is None:
        print("no headless Chromium found", file=sys.stderr)
        return 1
    print(f"{b}: {chromium_version(b)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
