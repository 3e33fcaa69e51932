"""The command-line servers the tests start as child processes, stopped the same way."""

import subprocess


def stop(process: subprocess.Popen, seconds: float = 10.0) -> None:
    """Stop ``process`` if it still runs: SIGTERM, then SIGKILL after ``seconds``; close its
    standard output."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
