"""neurona serve under load: requests per second and latency, against two other servers.

    python benchmarks/serving.py [--quick] [--write] [--check] [--json PATH]

The same data, the post's two blobs (``make_blobs(n_samples=500, centers=2,
cluster_std=2.5, random_state=1)``), answered by three servers, each a child process
on a free loopback port, all on uvicorn (h11) with the same settings:

- **hello**: a bare Starlette route on the same ASGI server, which reads the request's
  body and answers ``{"hello": "world"}``: what HTTP, uvicorn and Starlette cost alone;
- **neurona**: ``neurona serve model.json``, the neuron ``neurona train`` writes for that
  data, asked on ``POST /invocations`` (``dataframe_split``: probabilities and labels);
- **scikit-learn**: a ``LogisticRegression`` fitted on the same rows, served the way
  users commonly do: a small FastAPI app whose route takes the same JSON (a pydantic
  model), builds a pandas DataFrame and answers ``predict_proba`` and ``predict``.
  MLflow's ``mlflow models serve`` would be the first choice, but no release of mlflow
  installs beside the pyarrow neurona pins (mlflow 3 requires ``pyarrow < 26``).

Each server answers requests of 1 row and of 1,000 rows, the same body for all three;
the three run side by side and take turns, a few rounds, each figure the median over them.
Two measurements per server and size, by asyncio clients in this process (keep-alive
connections, each request written in one piece): **latency**, one client sending one
request after another (median and 99th percentile); **throughput**, 8 clients at once
for a few seconds (requests per second, and their median and 99th percentile). The
clients share the machine's cores with the server: what they cost is part of every
figure, alike for the three servers.

The goals: neurona's latency within 1.5x the hello route's, and its throughput at
least 3x scikit-learn's. The table goes to stdout, the figures to ``--json``
(docs/serving_benchmark.json) and, with ``--write``, under ``## Serving`` in
docs/performance.md. ``--check`` reads the JSON back and fails unless it is well formed.
"""


import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from performance_doc import put_section  # noqa: E402 (benchmarks/)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "performance.md"
JSON_OUT = ROOT / "docs" / "serving_benchmark.json"
HEADING = "## Serving"
SERVERS = ("hello", "neurona", "scikit-learn")
SIZES = (1, 1000)
CONNECTIONS = 8
#: The goals, as ratios.
LATENCY_GOAL, THROUGHPUT_GOAL = 1.5, 3.0


def blobs():
    from sklearn.datasets import make_blobs

    return make_blobs(n_samples=500, centers=2, cluster_std=2.5, random_state=1)


# --- the servers (each runs as `python benchmarks/serving.py --server NAME --port P`) ---------

def uvicorn_config(app, port: int):
    """The one uvicorn configuration of all three servers (what ``neurona serve`` uses)."""
    import uvicorn

    return uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                          access_log=False, server_header=False, backlog=2048,
                          h11_max_incomplete_event_size=64 * 1024, http="h11")


def hello_app():
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def hello(request):
        await request.body()
        return Response(b'{"hello":"world"}', media_type="application/json")

    return Starlette(routes=[Route("/hello", hello, methods=["POST"])])


def sklearn_app():
    import pandas as pd
    from fastapi import FastAPI
    from pydantic import BaseModel
    from sklearn.linear_model import LogisticRegression

    X, y = blobs()
    model = LogisticRegression().fit(pd.DataFrame(X, columns=["x0", "x1"]), y)

    class Split(BaseModel):
        columns: list[str]
        data: list[list[float]]

    class Request(BaseModel):
        dataframe_split: Split

    app = FastAPI()

    @app.post("/invocations")
    def invocations(request: Request):
        frame = pd.DataFrame(request.dataframe_split.data,
                             columns=request.dataframe_split.columns)
        probability = model.predict_proba(frame)[:, 1]
        labels = model.predict(frame)
        return {"predictions": [{"probability": p, "label": int(lab)}
                                for p, lab in zip(probability.tolist(), labels.tolist())]}

    return app


def run_server(name: str, port: int) -> None:
    import uvicorn

    app = hello_app() if name == "hello" else sklearn_app()
    config = uvicorn_config(app, port)
    print("ready", flush=True)
    uvicorn.Server(config).run()


@contextlib.contextmanager
def child(name: str, model: Path):
    """A server as a child process: ``(pid, port, path)``, stopped at the end."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    if name == "neurona":
        argv = [sys.executable, "-m", "neurona", "serve", str(model), "--port", "0",
                "--reload-interval", "0"]
    else:
        argv = [sys.executable, __file__, "--server", name, "--port", str(free_port())]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        if name == "neurona":
            port = int(re.search(r":(\d+) ", line)[1])
            path = "/invocations"
        else:
            port, path = int(argv[-1]), "/hello" if name == "hello" else "/invocations"
        wait_until_open(port)
        yield process.pid, port, path
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_open(port: int, seconds: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# --- the clients ------------------------------------------------------------------------

def request_bytes(port: int, path: str, rows) -> bytes:
    body = json.dumps({"dataframe_split": {"columns": ["x0", "x1"],
                                           "data": rows.tolist()}}).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
            f"application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def client(port: int, request: bytes, until: float, count: int | None, latencies: list,
                 check=None) -> None:
    """One keep-alive connection: send ``request`` again and again (``count`` times, or
    until ``until``), timing each answer."""
    import socket

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    done = 0
    try:
        while (count is None or done < count) and time.perf_counter() < until:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: *(\d+)", head, re.I)[1])
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"the server answered {head[:40]!r}: {body[:200]!r}")
            if check is not None and done == 0:
                check(body)
            done += 1
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


async def measure(pid: int, port: int, request: bytes, n_sequential: int, seconds: float,
                  check) -> dict:
    warm: list = []
    await client(port, request, time.perf_counter() + 0.5, None, warm, check)
    sequential: list = []
    await client(port, request, time.perf_counter() + 60, n_sequential, sequential)
    loaded: list = []
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    until = t0 + seconds
    await asyncio.gather(*(client(port, request, until, None, loaded)
                           for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - t0
    return {"latency_ms_p50": statistics.median(sequential) * 1e3,
            "latency_ms_p99": percentile(sequential, 99) * 1e3,
            "requests_per_s": len(loaded) / elapsed,
            "loaded_ms_p50": statistics.median(loaded) * 1e3,
            "loaded_ms_p99": percentile(loaded, 99) * 1e3,
            "server_cpu_cores": (cpu_seconds(pid) - cpu0) / elapsed,
            "n_sequential": len(sequential), "n_loaded": len(loaded)}


def checker(name: str, rows, expected):
    """A check of a server's first answer: the probabilities it should give."""
    import numpy as np

    def check(body: bytes) -> None:
        if name == "hello":
            return
        got = [p["probability"] for p in json.loads(body)["predictions"]]
        if len(got) != len(rows) or not np.allclose(got, expected[name], rtol=0, atol=1e-6):
            raise SystemExit(f"{name} answered other probabilities than its model's")

    return check


def run(quick: bool) -> dict:
    import numpy as np

    import neurona
    from neurona.face.cli import main as neurona_main

    X, y = blobs()
    folder = Path(tempfile.mkdtemp(prefix="neurona-serving-bench-"))
    if neurona_main(["train", "--out", str(folder / "run"), "--quiet", "--no-plots"]) != 0:
        raise SystemExit("neurona train failed")
    model = folder / "run" / "model.json"
    rng = np.random.default_rng(0)
    rows = {n: X[rng.integers(0, len(X), n)] for n in SIZES}
    from sklearn.linear_model import LogisticRegression
    import pandas as pd

    reference = LogisticRegression().fit(pd.DataFrame(X, columns=["x0", "x1"]), y)
    expected = {n: {"neurona": neurona.load(model).predict_proba(rows[n]),
                    "scikit-learn": reference.predict_proba(
                        pd.DataFrame(rows[n], columns=["x0", "x1"]))[:, 1]} for n in SIZES}
    seconds = 1.5 if quick else 3.0
    rounds = 1 if quick else 3
    results = {name: {} for name in SERVERS}
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(child(name, model)) for name in SERVERS}
        for n in SIZES:
            sequential = (400 if quick else 1500) if n == 1 else (100 if quick else 300)
            runs = {name: [] for name in SERVERS}
            # The servers take turns, round after round, so that other work on the machine
            # weighs on the three alike; each figure is the median over the rounds.
            for _ in range(rounds):
                for name in SERVERS:
                    pid, port, path = servers[name]
                    request = request_bytes(port, path, rows[n])
                    runs[name].append(asyncio.run(measure(
                        pid, port, request, sequential, seconds,
                        checker(name, rows[n], expected[n]))))
            for name in SERVERS:
                r = {key: statistics.median(run[key] for run in runs[name])
                     for key in runs[name][0]}
                r["rounds"] = rounds
                r["request_kib"] = len(request_bytes(0, "/invocations", rows[n])) / 1024
                results[name][str(n)] = r
                print(f"{name}, {n} row(s): p50 {r['latency_ms_p50']:.2f} ms, "
                      f"{r['requests_per_s']:.0f} requests/s", file=sys.stderr, flush=True)
    steps = {str(n): in_process(model, rows[n]) for n in SIZES}
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    return results, steps


def in_process(model: Path, rows, repeats: int = 300) -> dict:
    """Microseconds per step of one ``/invocations`` answer, timed in this process (medians):
    what the server does besides HTTP."""
    from neurona.face import serving_codec as codec
    from neurona.face.served_model import ServedModel

    served = ServedModel("m", model)
    body = json.dumps({"dataframe_split": {"columns": ["x0", "x1"],
                                           "data": rows.tolist()}}).encode()
    names = ("parse_json", "rows", "types", "features", "model", "answer_json")
    times = {name: [] for name in names}
    for k in range(repeats + 20):
        t = [time.perf_counter()]
        doc = codec.loads(body)
        t.append(time.perf_counter())
        found = codec.json_rows(doc)
        t.append(time.perf_counter())
        columns = codec.typed_columns(found, served.encoding, 10**6)
        t.append(time.perf_counter())
        X = served.features(columns)
        t.append(time.perf_counter())
        answer = served.answer(X)
        t.append(time.perf_counter())
        codec.invocations_body(served, answer)
        t.append(time.perf_counter())
        if k >= 20:
            for name, a, b in zip(names, t, t[1:]):
                times[name].append((b - a) * 1e6)
    return {name: statistics.median(v) for name, v in times.items()}


# --- the report -------------------------------------------------------------------------

def goals(results: dict) -> dict:
    out = {}
    for n in SIZES:
        hello, ours, sk = (results[s][str(n)] for s in SERVERS)
        out[str(n)] = {
            "latency_vs_hello": ours["latency_ms_p50"] / hello["latency_ms_p50"],
            "throughput_vs_sklearn": ours["requests_per_s"] / sk["requests_per_s"]}
        out[str(n)]["latency_met"] = out[str(n)]["latency_vs_hello"] <= LATENCY_GOAL
        out[str(n)]["throughput_met"] = out[str(n)]["throughput_vs_sklearn"] >= THROUGHPUT_GOAL
    return out


LABELS = {"hello": "hello route (Starlette, same server)", "neurona": "neurona serve",
          "scikit-learn": "scikit-learn LogisticRegression (FastAPI)"}


def table(results: dict) -> str:
    lines = ["| server | rows per request | latency p50 (ms) | latency p99 (ms) | "
             "requests/s (8 clients) | p50, p99 under load (ms) | server CPU (cores) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for n in SIZES:
        for name in SERVERS:
            r = results[name][str(n)]
            lines.append(f"| {LABELS[name]} | {n} | {r['latency_ms_p50']:.2f} | "
                         f"{r['latency_ms_p99']:.2f} | {r['requests_per_s']:.0f} | "
                         f"{r['loaded_ms_p50']:.2f}, {r['loaded_ms_p99']:.2f} | "
                         f"{r['server_cpu_cores']:.2f} |")
    return "\n".join(lines)


def summary(result: dict) -> str:
    parts = []
    for n in SIZES:
        g = result["goals"][str(n)]
        parts.append(
            f"{n} row{'s' if n > 1 else ''} per request: neurona's median latency is "
            f"**{g['latency_vs_hello']:.2f}x** the hello route's (goal: at most "
            f"{LATENCY_GOAL:g}x, {'met' if g['latency_met'] else 'missed'}) and its "
            f"throughput **{g['throughput_vs_sklearn']:.1f}x** scikit-learn's (goal: at "
            f"least {THROUGHPUT_GOAL:g}x, {'met' if g['throughput_met'] else 'missed'}).")
    return " ".join(parts)


def breakdown(result: dict) -> str:
    """Where neurona's time goes besides HTTP, from the in-process timings."""
    parts = []
    for n in SIZES:
        us = result["in_process_us"][str(n)]
        total = sum(us.values())
        parts.append(
            f"{n} row{'s' if n > 1 else ''}: {total:.0f} µs in all, {us['parse_json']:.0f} "
            f"reading the JSON, {us['rows'] + us['types']:.0f} taking its rows apart and "
            f"checking each value's type, {us['features'] + us['model']:.0f} computing, "
            f"{us['answer_json']:.0f} writing the answer")
    return ("Timed in one process, an answer past HTTP takes " + "; ".join(parts) + ". The "
            "hello route reads the same body but parses nothing and writes 17 bytes: for "
            "1,000 rows, reading 1,000 rows of JSON, checking their types and writing 1,000 "
            "answers cost more than HTTP itself, which puts that latency goal out of reach "
            "for a server that answers in JSON.")


def versions() -> dict:
    from importlib.metadata import version

    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            **{p: version(p) for p in ("uvicorn", "starlette", "fastapi", "orjson",
                                       "scikit-learn")}}


def write_section(result: dict, command: str) -> None:
    m = result["machine"]
    busy = max(m["load_before"], m["load_after"]) > 1
    section = (
        f"{HEADING}\n\nMeasured by `{command}` on {result['date']}: {m['cpus']} cores "
        f"(`nproc`), {m['cpu']}, Python {m['python']}, uvicorn {m['uvicorn']} (h11), "
        f"Starlette {m['starlette']}, FastAPI {m['fastapi']}, orjson {m['orjson']}, "
        f"scikit-learn {m['scikit-learn']}; one-minute load average {m['load_before']:.1f} "
        f"at the start and {m['load_after']:.1f} at the end"
        f"{' (other work shared the cores: the figures are an order of magnitude)' if busy else ''}. "
        f"Three servers answer the post's blobs, each a child process on loopback: a bare "
        f"Starlette route that reads the body and answers hello (HTTP and the framework "
        f"alone), `neurona serve model.json` on `POST /invocations`, and a scikit-learn "
        f"`LogisticRegression` fitted on the same rows in a minimal FastAPI app (a pydantic "
        f"body, a pandas DataFrame, `predict_proba` and `predict`), since mlflow's server "
        f"does not install beside the pinned pyarrow. Every request is the same "
        f"`dataframe_split` JSON; latency is one client's requests one after another, "
        f"throughput is {CONNECTIONS} keep-alive clients at once for "
        f"{result['seconds']:g} s; the clients run on the same cores. The three servers run "
        f"side by side and take turns, {result['rounds']} rounds, each figure the median "
        f"over the rounds. Figures in "
        f"`docs/serving_benchmark.json`.\n\n{summary(result)} {breakdown(result)}\n\n"
        f"{table(result['results'])}\n")
    put_section(section, HEADING, DOC)


def check(path: Path) -> None:
    """Fail unless ``path`` holds a well-formed result with finite, positive figures."""
    result = json.loads(path.read_text())
    for key in ("date", "machine", "results", "goals", "seconds"):
        if key not in result:
            raise SystemExit(f"{path}: no {key!r} in the result")
    for name in SERVERS:
        for n in SIZES:
            r = result["results"][name][str(n)]
            for key in ("latency_ms_p50", "latency_ms_p99", "requests_per_s"):
                if not (isinstance(r[key], (int, float)) and math.isfinite(r[key])
                        and r[key] > 0):
                    raise SystemExit(f"{path}: {key} of {name}, {n} rows is {r[key]!r}")
    print(f"{path}: well formed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows")
    parser.add_argument("--json", type=Path, default=JSON_OUT, help="where the figures go")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--check", action="store_true",
                        help="read the JSON back and fail unless it is well formed")
    parser.add_argument("--server", choices=("hello", "scikit-learn"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.server:
        run_server(args.server, args.port)
        return 0
    if (sys.argv[1:] if argv is None else argv) == ["--check"]:
        check(args.json)
        return 0
    load_before = os.getloadavg()[0]
    results, steps = run(args.quick)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "quick": args.quick,
              "seconds": 1.5 if args.quick else 3.0, "rounds": 1 if args.quick else 3,
              "connections": CONNECTIONS,
              "machine": {**versions(), "load_before": load_before,
                          "load_after": os.getloadavg()[0]},
              "results": results, "in_process_us": steps}
    result["goals"] = goals(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    print(table(results))
    print()
    print(summary(result))
    if args.write:
        write_section(result, "python benchmarks/serving.py" + (" --quick" if args.quick else "")
                      + " --write")
    if args.check:
        check(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
