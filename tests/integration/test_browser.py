"""Neo4j Browser of the managed server: served over HTTP, and usable from a real browser.

The second test drives headless Chromium over the DevTools protocol (``websocket-client``, in the
dev extras), logs in as neo4j with the managed password and saves a screenshot to
artifacts/browser.png (docs/img/browser-connected.png is a copy of one such run).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "artifacts" / "browser.png"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--window-size=1400,900",
]


def _chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_browser_page_is_served(managed_server):
    with urllib.request.urlopen(managed_server.browser_url, timeout=30) as response:
        status = response.status
        content_type = response.headers.get("Content-Type", "")
        html = response.read().decode("utf-8", "replace")
    assert status == 200
    assert "text/html" in content_type
    assert "<title>Neo4j Browser" in html
    assert "Neo4j Browser" in html


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands, JS evaluation, waiting."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:  # events in between are not needed
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def js(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.25)
        text = self.js("document.body ? document.body.innerText.slice(0, 1500) : ''")
        raise AssertionError(f"timed out waiting for {what}; the page shows:\n{text}")

    def text(self) -> str:
        return self.js("document.body ? document.body.innerText : ''") or ""

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def devtools(tmp_path) -> Iterator[DevTools]:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: `apt-get install chromium`); "
                    "the Browser rendering test needs /usr/bin/chromium")
    pytest.importorskip("websocket", reason="websocket-client is missing: pip install -e '.[dev]'")
    profile = tmp_path / "chromium-profile"
    log = (tmp_path / "chromium.log").open("w")
    proc = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    tools = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, f"Chromium exited: {(tmp_path / 'chromium.log').read_text()}"
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(t for t in targets if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Emulation.setDeviceMetricsOverride", width=1400, height=900,
                   deviceScaleFactor=1, mobile=False)
        yield tools
    finally:
        if tools is not None:
            tools.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_browser_logs_in_to_the_managed_server(managed_server, devtools):
    bolt_port = managed_server.settings.bolt_port
    password = managed_server.password()
    url = f"{managed_server.browser_url}?dbms=bolt://neo4j@127.0.0.1:{bolt_port}"
    devtools.call("Page.navigate", url=url)

    # The connect form, prefilled from the URL: not connected yet, password empty.
    devtools.wait_for(
        "the connect form", lambda: devtools.js("!!document.querySelector('[data-testid=password]')")
    )
    assert devtools.js("document.querySelector('[data-testid=boltaddress]').value") == (
        f"127.0.0.1:{bolt_port}"
    )
    assert devtools.js("document.querySelector('[data-testid=username]').value") == "neo4j"
    assert devtools.js("document.querySelector('[data-testid=password]').value") == ""
    assert "You are connected as user" not in devtools.text()

    # Type the password as a user would and press Connect.
    devtools.js("document.querySelector('[data-testid=password]').focus()")
    devtools.call("Input.insertText", text=password)
    devtools.js("document.querySelector('[data-testid=connect]').click()")
    devtools.wait_for("the connected message", lambda: "You are connected as user" in devtools.text())
    text = devtools.text()
    assert "Connected to Neo4j" in text
    assert re.search(r"You are connected as user\s+neo4j", text)
    assert f"bolt://127.0.0.1:{bolt_port}" in text

    # The database sidebar lists what the server reports about itself.
    devtools.js("document.querySelector('button[name=DBMS]').click()")
    devtools.wait_for("the database sidebar", lambda: "Connected as" in devtools.text())

    def sidebar_with_version() -> str | None:
        text = devtools.text()
        return text if re.search(r"Version:\s+5\.26\.\d+", text) else None

    sidebar = devtools.wait_for("the server version in the sidebar", sidebar_with_version)
    assert re.search(r"Username:\s+neo4j", sidebar)
    assert "Community" in sidebar
    devtools.wait_for(
        "database neo4j selected in the sidebar",
        lambda: devtools.js(
            "Array.from(document.querySelectorAll('select option'))"
            ".some(o => o.selected && o.value === 'neo4j')"
        ),
    )

    assert password not in devtools.text()
    assert password not in devtools.js("location.href")
    time.sleep(1)  # let the sidebar's slide-in animation finish before the picture
    devtools.screenshot(SCREENSHOT)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SCREENSHOT.stat().st_size > 20_000
