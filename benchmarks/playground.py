"""The playground's server under load: updates per second, time per update, tabs held.

    python benchmarks/playground.py [--quick] [--browser] [--write] [--check] [--json PATH]

Starts ``neurona playground --no-browser --port 0`` as a child process (stopped at the
end, whatever happens) and drives it over its WebSocket with Python clients, each one a
browser tab as far as the server can tell: the token, its own Origin, one socket, one
session. Every tab trains the post's experiment (blobs, full batch: one optimizer update
per epoch) for 5000 epochs at the fastest speed (10 updates per frame, no pause), and
starts again from its initial weights when it finishes. It measures

- **frames per second** delivered to each tab (a frame is one message the page draws:
  the weights, the scores, the new curve rows and the 60 x 60 probability field) and the
  optimizer **updates per second** they carry;
- the **server's time per update**: the gap between a lone tab's frames (the play loop
  is serial: advance, build the frame, send it, go again), the server process's CPU
  seconds per frame (``/proc/PID/stat``), and the same session code timed in this
  process, part by part (``Session.advance``, ``Session.frame``, the JSON);
- **how many tabs it holds**: 1, 2, 4, ... tabs playing at once, until the rule fails. A
  level holds when its slowest tab still gets at least ``--min-fps`` frames per second
  (10: the page still moves) and one more tab, idle, gets its answer to "one update" in
  at most ``--max-latency-ms`` (500 ms: a click still feels answered), 95th percentile.

The clients run in this process, on the same cores as the server: what they spend is
reported too. The table goes to stdout, the figures to ``--json``
(docs/playground_benchmark.json) and, with ``--write``, under ``## Playground`` in
docs/performance.md. ``--browser`` adds one real Chromium tab (headless, through
Playwright), counting the frames the page shows. ``--quick`` measures 1, 2 and 4 tabs for a short while; ``--check``
reads the JSON back and fails unless it is well formed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from performance_doc import put_section  # noqa: E402 (benchmarks/)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "performance.md"
JSON_OUT = ROOT / "docs" / "playground_benchmark.json"
HEADING = "## Playground"

#: What every tab trains: the post's experiment, long enough to keep playing.
SETTINGS = {"epochs": 5000}
#: The fastest speed of the page's slider (10 updates per frame, no pause).
FASTEST = 5
LEVELS_FULL = (1, 2, 4, 8, 12, 16, 24, 32, 48, 62)  # uvicorn takes at most 64 connections
LEVELS_QUICK = (1, 2, 4)


# --- the server ---------------------------------------------------------------------------

@contextlib.contextmanager
def playground():
    """``neurona playground`` in a child process: yields (pid, port, token); always stopped."""
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen(
        [sys.executable, "-m", "neurona.face.cli", "playground", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
        if not found:
            rest = process.stdout.read() if process.poll() is not None else ""
            raise SystemExit(f"neurona playground did not start: {line}{rest}")
        yield process.pid, int(found[1]), found[2]
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- one tab ------------------------------------------------------------------------------

class Tab:
    """One WebSocket session: configures, plays at full speed, records each frame's arrival."""

    def __init__(self, port: int, token: str):
        self.url = f"ws://127.0.0.1:{port}/ws?token={token}"
        self.origin = f"http://127.0.0.1:{port}"
        self.frames: list[tuple[float, int, int]] = []  # (arrival, step, bytes)
        self.replies: asyncio.Queue = asyncio.Queue()
        self.keep_playing = False
        self.configure_s = math.nan

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, origin=self.origin, max_size=2**22, open_timeout=30)
        self.reader = asyncio.create_task(self.read())
        start = time.perf_counter()
        await self.ws.send(json.dumps({"cmd": "configure", "settings": SETTINGS}))
        message = await asyncio.wait_for(self.replies.get(), 60)
        if message.get("type") != "start":
            raise SystemExit(f"the playground refused the settings: {message}")
        self.configure_s = time.perf_counter() - start
        await self.ws.send(json.dumps({"cmd": "speed", "value": FASTEST}))

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for text in self.ws:
                now = time.perf_counter()
                message = json.loads(text)
                kind = message.get("type")
                if kind == "frame":
                    self.frames.append((now, message["step"], len(text)))
                    if self.keep_playing:
                        continue  # a playing tab's frames are only counted
                if kind == "stopped" and self.keep_playing:
                    # the run finished: start it again from the same weights
                    await self.ws.send(json.dumps({"cmd": "reset"}))
                    await self.ws.send(json.dumps({"cmd": "play"}))
                elif kind == "error":
                    raise SystemExit(f"the playground answered an error: {message['message']}")
                else:
                    self.replies.put_nowait(message)
        except ConnectionClosed:
            pass

    async def play(self) -> None:
        self.keep_playing = True
        await self.ws.send(json.dumps({"cmd": "play"}))

    async def step(self) -> float:
        """Seconds from sending "one update" to its frame (for an idle tab)."""
        while not self.replies.empty():
            self.replies.get_nowait()
        start = time.perf_counter()
        await self.ws.send(json.dumps({"cmd": "step"}))
        while True:
            message = await asyncio.wait_for(self.replies.get(), 120)
            if message.get("type") == "frame":
                return time.perf_counter() - start

    async def close(self) -> None:
        self.keep_playing = False
        with contextlib.suppress(Exception):
            await self.ws.close()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self.reader, 10)

    def window(self, t0: float, t1: float) -> dict:
        """Frames, updates and gaps between arrivals within [t0, t1]."""
        before = [f for f in self.frames if f[0] < t0]
        inside = [f for f in self.frames if t0 <= f[0] <= t1]
        seconds = t1 - t0
        updates, previous = 0, (before[-1][1] if before else None)
        for _, step, _ in inside:
            if previous is not None and step > previous:
                updates += step - previous
            previous = step
        times = [t0] + [f[0] for f in inside] + [t1]
        gaps = [b - a for a, b in zip(times, times[1:])]
        return {"fps": len(inside) / seconds, "ups": updates / seconds,
                "gap_p95_ms": 1e3 * percentile(gaps, 95), "gap_max_ms": 1e3 * max(gaps),
                "bytes": statistics.mean(f[2] for f in inside) if inside else 0.0,
                "frames": len(inside), "updates": updates}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


# --- one level of load --------------------------------------------------------------------

async def level(pid: int, port: int, token: str, n_tabs: int, seconds: float,
                warmup: float, min_fps: float, max_latency_ms: float) -> dict:
    """``n_tabs`` tabs playing at once for ``seconds`` (after ``warmup``), and a probe tab."""
    tabs = [Tab(port, token) for _ in range(n_tabs)]
    probe = Tab(port, token)
    try:
        for tab in tabs + [probe]:  # one after another: the server builds each session
            await tab.open()
        for tab in tabs:
            await tab.play()
        await asyncio.sleep(warmup)
        cpu0, own0, t0 = cpu_seconds(pid), own_cpu_seconds(), time.perf_counter()
        latencies = []
        while time.perf_counter() - t0 < seconds:
            latencies.append(await probe.step())
            await asyncio.sleep(0.2)
        t1, cpu1, own1 = time.perf_counter(), cpu_seconds(pid), own_cpu_seconds()
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs + [probe]))
    per_tab = [tab.window(t0, t1) for tab in tabs]
    frames = sum(w["frames"] for w in per_tab)
    updates = sum(w["ups"] for w in per_tab) * (t1 - t0)
    latency_p95 = 1e3 * percentile(latencies, 95)
    slowest = min(w["fps"] for w in per_tab)
    return {
        "tabs": n_tabs, "seconds": t1 - t0,
        "fps_per_tab_min": slowest,
        "fps_per_tab_median": statistics.median(w["fps"] for w in per_tab),
        "fps_total": frames / (t1 - t0),
        "updates_per_s_total": updates / (t1 - t0),
        "gap_p95_ms_max": max(w["gap_p95_ms"] for w in per_tab),
        "step_latency_ms_median": 1e3 * statistics.median(latencies),
        "step_latency_ms_p95": latency_p95, "step_probes": len(latencies),
        "server_cpu_per_s": (cpu1 - cpu0) / (t1 - t0),
        "server_cpu_ms_per_frame": 1e3 * (cpu1 - cpu0) / frames if frames else None,
        "client_cpu_per_s": (own1 - own0) / (t1 - t0),
        "frame_kib": statistics.mean(w["bytes"] for w in per_tab) / 1024,
        "configure_ms_median": 1e3 * statistics.median(t.configure_s for t in tabs),
        "holds": slowest >= min_fps and latency_p95 <= max_latency_ms,
    }


# --- the session code, in this process ----------------------------------------------------

def in_process(seconds: float) -> dict:
    """Median milliseconds of ``advance(10)``, ``frame()`` and the JSON, timed here."""
    sys.path.insert(0, str(SRC))
    from neurona.face.playground import dumps
    from neurona.face.playground_session import Session

    made = time.perf_counter()
    session = Session(SETTINGS)
    session.start()
    made = time.perf_counter() - made
    parts = {"advance": [], "frame": [], "json": []}
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if session.done:
            session.reset()
        t0 = time.perf_counter()
        session.advance(10)
        t1 = time.perf_counter()
        frame = session.frame(fresh=False)  # as the play loop asks for it
        t2 = time.perf_counter()
        dumps(frame)
        t3 = time.perf_counter()
        for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
            parts[key].append(value)
    out = {f"{k}_ms": 1e3 * statistics.median(v) for k, v in parts.items()}
    out["session_ms"] = 1e3 * made
    out["rounds"] = len(parts["frame"])
    return out


# --- one real page -----------------------------------------------------------------------

CHROMIUM = os.environ.get("NEURONA_CHROMIUM", "/usr/bin/chromium")
#: Counts, in the page, every frame it shows: the time and the step it displays.
OBSERVE = """() => {
  window.__shown = [];
  const el = document.getElementById("step-now");
  new MutationObserver(() => window.__shown.push([performance.now(), Number(el.dataset.value)]))
    .observe(el, {attributes: true, attributeFilter: ["data-value"]});
}"""


def in_chromium(port: int, token: str, seconds: float) -> dict:
    """Frames per second one Chromium tab receives and draws while playing at full speed."""
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{port}/?token={token}#epochs={SETTINGS['epochs']}"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM,
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1320, "height": 880})
            page.goto(url)
            page.wait_for_selector("#formula:not(:empty)")
            page.fill("#speed", str(FASTEST))
            page.dispatch_event("#speed", "input")
            page.evaluate(OBSERVE)
            page.click("#play")
            page.wait_for_timeout(1000 * seconds)
            shown = page.evaluate("window.__shown")
        finally:
            browser.close()
    shown = [s for s in shown if s[1] > 0]
    if len(shown) < 2:
        raise SystemExit("the page showed no frames while playing")
    elapsed = (shown[-1][0] - shown[0][0]) / 1e3
    updates = sum(max(0, b[1] - a[1]) for a, b in zip(shown, shown[1:]))
    gaps = [(b[0] - a[0]) for a, b in zip(shown, shown[1:])]
    return {"fps": (len(shown) - 1) / elapsed, "updates_per_s": updates / elapsed,
            "gap_p95_ms": percentile(gaps, 95), "frames": len(shown), "seconds": elapsed}


# --- output -------------------------------------------------------------------------------

def table(levels: list[dict]) -> str:
    lines = ["| tabs | frames/s per tab (slowest, median) | frames/s in all | updates/s in all "
             "| worst tab's p95 gap (ms) | one update, idle tab: median, p95 (ms) "
             "| server CPU (cores) | client CPU (cores) | holds |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in levels:
        lines.append(
            f"| {r['tabs']} | {r['fps_per_tab_min']:.1f}, {r['fps_per_tab_median']:.1f} | "
            f"{r['fps_total']:.0f} | {r['updates_per_s_total']:.0f} | "
            f"{r['gap_p95_ms_max']:.0f} | {r['step_latency_ms_median']:.0f}, "
            f"{r['step_latency_ms_p95']:.0f} | {r['server_cpu_per_s']:.2f} | "
            f"{r['client_cpu_per_s']:.2f} | {'yes' if r['holds'] else 'no'} |")
    return "\n".join(lines)


def held(levels: list[dict]) -> int:
    """The most tabs of a level that holds, with every smaller level holding too."""
    most = 0
    for r in levels:
        if not r["holds"]:
            break
        most = r["tabs"]
    return most


def summary(result: dict) -> str:
    one = result["levels"][0]
    parts = result["in_process"]
    ms_per_frame = 1e3 / one["fps_per_tab_median"] if one["fps_per_tab_median"] else math.nan
    rule = result["rule"]
    last = result["levels"][-1]
    busiest = max(result["levels"], key=lambda r: r["fps_total"])
    limit = ("it held every level measured" if last["holds"] else
             f"at {last['tabs']} tabs (the next level measured) the slowest got "
             f"{last['fps_per_tab_min']:.1f} frames/s and one update took "
             f"{last['step_latency_ms_p95']:.0f} ms (p95)")
    return (
        f"One tab playing at full speed gets **{one['fps_per_tab_median']:.0f} frames/s**, "
        f"**{one['updates_per_s_total']:.0f} optimizer updates/s** (10 a frame; a frame is "
        f"{one['frame_kib']:.1f} KiB of JSON: the weights, the scores, the new curve rows and "
        f"the 60 x 60 field). The server's time per frame is {ms_per_frame:.1f} ms between a "
        f"lone tab's frames, that is {ms_per_frame / 10:.2f} ms per update, and "
        f"{one['server_cpu_ms_per_frame']:.1f} ms of the server's CPU per frame. Timed in one "
        f"process, the same session code spends {parts['advance_ms']:.2f} ms on 10 updates, "
        f"{parts['frame_ms']:.2f} ms building the frame (the field and the test scores) and "
        f"{parts['json_ms']:.2f} ms writing its JSON: drawing the page's frame costs more "
        f"than the training it shows; the rest of the gap (about "
        f"{ms_per_frame - parts['advance_ms'] - parts['frame_ms'] - parts['json_ms']:.1f} ms) "
        f"is the play loop's hops to a worker thread and back, the socket and the event "
        f"loop. A new session (the settings applied, the data made, "
        f"the first frame) answers in {one['configure_ms_median']:.0f} ms.\n\n"
        f"**Tabs held: {result['tabs_held']}.** The rule: a level of tabs holds when its "
        f"slowest tab still gets at least {rule['min_fps']:g} frames/s and an idle tab's "
        f"\"one update\" is answered within {rule['max_latency_ms']:g} ms (95th percentile); "
        f"{limit}. In all the server sends at most {busiest['fps_total']:.0f} frames/s "
        + (f"(to one tab), " if busiest["tabs"] == 1 else
           f"({busiest['tabs']} tabs) against {one['fps_total']:.0f} for one tab, ")
        + f"using "
        f"{max(r['server_cpu_per_s'] for r in result['levels']):.2f} cores at most: the play "
        f"loops take turns in one Python process (the GIL), so the tabs share about one "
        f"core's worth of frames."
        + (f"\n\nIn one real Chromium tab (headless, Playwright, the page drawing every "
           f"frame), playing at full speed: **{result['chromium']['fps']:.0f} frames/s** "
           f"shown, {result['chromium']['updates_per_s']:.0f} updates/s, 95% of the gaps "
           f"between shown frames under {result['chromium']['gap_p95_ms']:.0f} ms."
           if result.get("chromium") else ""))


def write_section(result: dict, command: str) -> None:
    m = result["machine"]
    section = (
        f"{HEADING}\n\nMeasured by `{command}` on {result['date']}: {m['cpus']} cores "
        f"(`nproc`), {m['cpu']}, Python {m['python']}, uvicorn {m['uvicorn']}, Starlette "
        f"{m['starlette']}, websockets {m['websockets']}; one-minute load average "
        f"{m['load_before']:.1f} at the start and {m['load_after']:.1f} at the end"
        f"{' (other work shared the cores: the figures are an order of magnitude)' if max(m['load_before'], m['load_after']) > 1 else ''}. The "
        f"server is `neurona playground --no-browser --port 0` in a child process; each tab "
        f"is a Python WebSocket client in the benchmark's process (on the same cores: its "
        f"CPU is in the table) that trains the post's experiment for 5000 epochs at the "
        f"fastest speed and starts again when it finishes. Each level plays "
        f"{result['warmup_s']:g} s, then is measured for {result['seconds']:g} s. Figures "
        f"in `docs/playground_benchmark.json`.\n\n{summary(result)}\n\n"
        f"{table(result['levels'])}\n")
    put_section(section, HEADING, DOC)


def check(path: Path) -> None:
    """Fail unless ``path`` holds a well-formed result with finite, positive figures."""
    result = json.loads(path.read_text())
    for key in ("date", "machine", "rule", "levels", "in_process", "tabs_held"):
        if key not in result:
            raise SystemExit(f"{path}: no {key!r} in the result")
    if not result["levels"] or result["levels"][0]["tabs"] != 1:
        raise SystemExit(f"{path}: the levels must start with one tab")
    for r in result["levels"]:
        for key in ("fps_per_tab_min", "fps_total", "updates_per_s_total",
                    "step_latency_ms_p95", "frame_kib"):
            if not (isinstance(r[key], (int, float)) and math.isfinite(r[key])):
                raise SystemExit(f"{path}: {key} of {r['tabs']} tabs is {r[key]!r}")
    one = result["levels"][0]
    if one["fps_total"] <= 0 or one["updates_per_s_total"] <= 0:
        raise SystemExit(f"{path}: one tab received no frames")
    print(f"{path}: well formed ({len(result['levels'])} levels)")


def versions() -> dict:
    from importlib.metadata import version

    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), **{p: version(p) for p in
                                                 ("uvicorn", "starlette", "websockets")}}


async def measure_all(pid, port, token, levels, seconds, warmup, min_fps, max_latency_ms):
    first = Tab(port, token)  # the server's first session pays for its imports: not timed
    await first.open()
    await first.close()
    out = []
    for n in levels:
        r = await level(pid, port, token, n, seconds, warmup, min_fps, max_latency_ms)
        print(f"{n} tabs: slowest {r['fps_per_tab_min']:.1f} frames/s, "
              f"{r['updates_per_s_total']:.0f} updates/s in all, one update "
              f"{r['step_latency_ms_p95']:.0f} ms p95", file=sys.stderr, flush=True)
        out.append(r)
        if not r["holds"]:
            break
        await asyncio.sleep(0.5)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1, 2 and 4 tabs, short windows")
    parser.add_argument("--seconds", type=float, default=None,
                        help="measured seconds per level (default 6, quick 1.5)")
    parser.add_argument("--min-fps", type=float, default=10.0,
                        help="frames/s the slowest tab needs (default %(default)s)")
    parser.add_argument("--max-latency-ms", type=float, default=500.0,
                        help="p95 ms an idle tab's one update may take (default %(default)s)")
    parser.add_argument("--browser", action="store_true",
                        help="also one real Chromium tab (Playwright, $NEURONA_CHROMIUM)")
    parser.add_argument("--json", type=Path, default=JSON_OUT, help="where the figures go")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--check", action="store_true",
                        help="read the JSON back and fail unless it is well formed")
    args = parser.parse_args(argv)
    seconds = args.seconds or (1.5 if args.quick else 6.0)
    warmup = 0.5 if args.quick else 1.5
    levels = LEVELS_QUICK if args.quick else LEVELS_FULL

    load_before = os.getloadavg()[0]
    parts = in_process(1.0 if args.quick else 3.0)
    with playground() as (pid, port, token):
        measured = asyncio.run(measure_all(pid, port, token, levels, seconds, warmup,
                                           args.min_fps, args.max_latency_ms))
        chromium = in_chromium(port, token, min(seconds, 3.0)) if args.browser else None
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "quick": args.quick,
        "settings": SETTINGS, "speed": FASTEST, "seconds": seconds, "warmup_s": warmup,
        "rule": {"min_fps": args.min_fps, "max_latency_ms": args.max_latency_ms},
        "machine": {**versions(), "load_before": load_before,
                    "load_after": os.getloadavg()[0]},
        "in_process": parts, "levels": measured, "tabs_held": held(measured),
        "chromium": chromium,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    print(table(measured))
    print()
    print(summary(result))
    if args.write:
        command = "python benchmarks/playground.py" + (" --quick" if args.quick else "") \
            + (" --browser" if args.browser else "")
        write_section(result, command + " --write")
    if args.check:
        check(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
