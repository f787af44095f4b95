"""A real headless browser for the page tests: Debian's Chromium, driven over the
DevTools protocol with aiohttp's websocket client (which the bot has already), so the
tests need no new Python package and no browser download of their own.

`ensure_chromium()` installs the Debian package on first use when it is missing (as
tests/support/synapse_server.py brings its homeserver), so CI runs these tests rather
than skipping them; `make install-test` installs it up front.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

NAMES = ("chromium", "chromium-browser")
START_TIMEOUT = 30.0
STEP_TIMEOUT = 15.0


def ensure_chromium() -> str:
    """The path of Chromium; installs Debian's package when there is none."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]
    if subprocess.run(apt, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=True)
        subprocess.run(apt, capture_output=True, check=True)
    found = shutil.which("chromium")
    assert found, "chromium is not installed and could not be installed with apt-get"
    return found


class Tab:
    """One page of the browser, attached over a flat DevTools session."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, session_id: str) -> None:
        self._ws = ws
        self._session = session_id
        self._ids = itertools.count(1000)
        self.events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        message = {"id": ident, "method": method, "params": params, "sessionId": self._session}
        await self._ws.send_str(json.dumps(message))
        while True:
            reply = await self._receive()
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    async def _receive(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self._ws.receive(), STEP_TIMEOUT)
        assert raw.type == aiohttp.WSMsgType.TEXT, raw
        data: dict[str, Any] = json.loads(raw.data)
        if "method" in data:
            self.events.append(data)
        return data

    async def wait_for(self, method: str) -> dict[str, Any]:
        """The next event `method` (one already seen since the last wait counts)."""
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    del self.events[: i + 1]
                    return event
            await self._receive()

    async def open(self, url: str) -> None:
        self.events.clear()
        await self.send("Page.navigate", url=url)
        await self.wait_for("Page.loadEventFired")

    async def evaluate(self, expression: str) -> Any:
        """What a script in the page would see (DevTools runs it; the page's CSP forbids
        scripts of its own)."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def text(self) -> str:
        return str(await self.evaluate("document.body.innerText"))

    async def click(self, selector: str) -> None:
        """Click an element like a person: a real mouse press at its middle."""
        found = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = found
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def screenshot(self, path: Path) -> None:
        """The whole page at the current width, as PNG."""
        height = int(await self.evaluate("document.documentElement.scrollHeight"))
        shot = await self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": 390, "height": height, "scale": 1},
        )
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))


@asynccontextmanager
async def phone() -> AsyncIterator[Tab]:
    """Headless Chromium with one tab the size of a phone (390 × 844 CSS pixels)."""
    binary = ensure_chromium()
    # Chromium's helper processes may still write into the profile as it is removed.
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helpers end with it (the whole process group)
        )
        try:
            ws_url = await _devtools_url(Path(profile) / "DevToolsActivePort")
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(ws_url, max_msg_size=64 * 1024 * 1024) as ws,
            ):
                yield await _tab(ws)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


async def _devtools_url(port_file: Path) -> str:
    """Chromium writes its port and the browser's DevTools path into the profile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    while loop.time() < deadline:
        lines = await asyncio.to_thread(_lines, port_file)
        if len(lines) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        await asyncio.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


async def _tab(ws: aiohttp.ClientWebSocketResponse) -> Tab:
    target = await _browser_call(ws, "Target.createTarget", url="about:blank")
    attached = await _browser_call(
        ws, "Target.attachToTarget", targetId=target["targetId"], flatten=True
    )
    tab = Tab(ws, attached["sessionId"])
    await tab.send("Page.enable")
    await tab.send("Log.enable")
    await tab.send(
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=1,
        mobile=True,
    )
    return tab


async def _browser_call(
    ws: aiohttp.ClientWebSocketResponse, method: str, **params: Any
) -> dict[str, Any]:
    ident = next(_BROWSER_IDS)
    await ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
    while True:
        raw = await asyncio.wait_for(ws.receive(), STEP_TIMEOUT)
        data = json.loads(raw.data)
        if data.get("id") == ident:
            if "error" in data:
                raise RuntimeError(f"{method}: {data['error']}")
            result: dict[str, Any] = data.get("result", {})
            return result


_BROWSER_IDS = itertools.count(1)
