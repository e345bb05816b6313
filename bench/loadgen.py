"""Load generation: `wrk` when installed (Debian's package; `make bench` installs it as
root), else a small Python generator that keeps N concurrent clients busy for a fixed
time. Both the baseline and the page under test go through the same generator in the
same run; the Python one costs more CPU itself, which understates the baseline.
"""

import http.client
import re
import shutil
import subprocess
import threading
import time
from multiprocessing import Pool

WRK = shutil.which("wrk")


def _client(host: str, port: int, path: str, cookie: str, until: float, out: list[int]) -> None:
    done = errors = 0
    headers = {"Cookie": cookie} if cookie else {}
    while time.monotonic() < until:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                done += 1
            else:
                errors += 1
        except OSError:
            errors += 1
        finally:
            connection.close()
    out.extend([done, errors])


def _process(args: tuple[str, int, str, str, float, int]) -> tuple[int, int]:
    host, port, path, cookie, seconds, threads = args
    until = time.monotonic() + seconds
    results: list[list[int]] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(target=_client, args=(host, port, path, cookie, until, results[i]))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(r[0] for r in results), sum(r[1] for r in results)


def _wrk(host: str, port: int, path: str, cookie: str, seconds: float) -> tuple[float, int]:
    command = [WRK or "wrk", "-t2", "-c8", f"-d{max(1, round(seconds))}s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, f"http://{host}:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return (float(rate.group(1)) if rate else 0.0), (int(errors.group(1)) if errors else 0)


def requests_per_second(
    host: str,
    port: int,
    path: str,
    *,
    cookie: str = "",
    seconds: float = 5.0,
    processes: int = 2,
    threads: int = 4,
) -> tuple[float, int]:
    if WRK:
        return _wrk(host, port, path, cookie, seconds)
    with Pool(processes) as pool:
        outcomes = pool.map(_process, [(host, port, path, cookie, seconds, threads)] * processes)
    done = sum(o[0] for o in outcomes)
    errors = sum(o[1] for o in outcomes)
    return done / seconds, errors
