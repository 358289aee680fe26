#!/usr/bin/env python3
"""probe_throughput.py - the measuring half of bench/probe_throughput.sh.

Run by probe_throughput.sh once nginx is up (it owns certificates, nginx
and cleanup). For HTTP and HTTPS, and for each of the bare libcurl-multi
reference, prometheus-blackbox-exporter and yardstick, one steady run
(BENCH_RATE probes/s for BENCH_STEADY_S) and one saturated run
(BENCH_SAT_S), one process at a time so that they never compete for CPU.
Then a 10,000-check yardstick run and bench_store_bytes.

How each figure is taken (docs/internals/benchmarks.md says more):
- CPU: utime+stime of the measured process only, from wait4() after it
  exits (microsecond resolution). blackbox_exporter: minus its CPU when it
  became ready (/proc/PID/stat), so its start-up is not charged to probes.
  yardstick: the whole process life, including start-up and the final flush
  of results to SQLite (storing is part of a yardstick probe).
- probes done: reference: its own count; blackbox: /probe answers counted by
  the driver; yardstick: rows in its store.
- peak RSS: VmHWM from /proc/PID/status just before SIGTERM (ru_maxrss for
  the reference, which exits by itself).
- lateness P99: reference: its own figure; yardstick: the "sched: ..." line
  it logs on SIGTERM; blackbox: n/a (it has no schedule; Prometheus has).
Only processes started here are signalled, by PID.
"""
import argparse
import concurrent.futures
import glob
import json
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

ENV = os.environ
STEADY_S = float(ENV.get("BENCH_STEADY_S", "20"))
SAT_S = float(ENV.get("BENCH_SAT_S", "10"))
BIG_S = float(ENV.get("BENCH_BIG_S", "65"))
RATE = float(ENV.get("BENCH_RATE", "100"))
SAT_CONC = int(ENV.get("BENCH_SAT_CONC", "16"))
BIG_CHECKS = int(ENV.get("BENCH_BIG_CHECKS", "10000"))
HIGH_RATE = int(ENV.get("BENCH_HIGH_RATE", "1000"))
ONLY = set(ENV.get("BENCH_ONLY", "ref blackbox yardstick big store").split())
BUILD = ENV["YS_BENCH_BUILD"]
YARDSTICK = ENV.get("YARDSTICK", os.path.join(BUILD, "yardstick"))
BLACKBOX = ENV.get("BLACKBOX", "/usr/bin/prometheus-blackbox-exporter")
WRITTEN_RE = re.compile(r"store: stopped: (\d+) results written")
CLK_TCK = os.sysconf("SC_CLK_TCK")
SCHED_RE = re.compile(r"sched: probes=(\d+) skipped=(\d+)(?: throttled=\d+)? lateness_p50_ms=([0-9.]+)"
                      r" lateness_p99_ms=([0-9.]+)(?: lateness_max_ms=([0-9.]+))?")

children = []  # Popen objects started here, for the last-resort cleanup


def log(msg):
    print(msg, flush=True)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def kv(line):
    """Parses 'word k=v k=v ...' into a dict of strings."""
    return dict(tok.split("=", 1) for tok in line.split() if "=" in tok)


def stat_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def vmhwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def start(cmd, stdout, stderr):
    p = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
    children.append(p)
    return p


def reap(p, timeout):
    """wait4 with a deadline (then SIGKILL). Returns (cpu_s, maxrss_kb)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            children.remove(p)
            return ru.ru_utime + ru.ru_stime, ru.ru_maxrss
        if time.monotonic() > deadline:
            log(f"  (pid {p.pid} did not exit in {timeout:.0f}s: SIGKILL)")
            p.kill()
            deadline = time.monotonic() + 10
        time.sleep(0.05)


def stop(p, timeout=30):
    p.send_signal(signal.SIGTERM)
    return reap(p, timeout)


def wait_http(url, deadline_s=10):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def row(proto, mode, tool, **fig):
    fig.update(proto=proto, mode=mode, tool=tool)
    return fig


# --- the reference -----------------------------------------------------------

def run_ref(proto, url, ca, mode, arg, seconds):
    cmd = [os.path.join(BUILD, "bench_ref_curl_multi"), "-u", url, "-t", str(seconds)]
    cmd += ["-r", str(arg)] if mode == "steady" else ["-c", str(arg)]
    if proto == "https":
        cmd += ["-a", ca]
    p = start(cmd, subprocess.PIPE, None)
    out = p.stdout.read().decode()
    cpu_s, rss_kb = reap(p, seconds + 30)
    f = kv(out.strip().splitlines()[-1]) if out.strip() else {}
    done = int(f.get("done", 0))
    return row(proto, mode, "reference", sched=RATE if mode == "steady" else None,
               achieved=float(f.get("achieved_per_s", 0)), done=done,
               ok=int(f.get("ok", 0)), cpu_us=cpu_s * 1e6 / done if done else None,
               late_p99=float(f["lateness_p99_ms"]) if mode == "steady" else None,
               rss_kb=rss_kb)


# --- blackbox_exporter -------------------------------------------------------

def run_blackbox(tmp, proto, url, ca, mode, arg, seconds):
    d = os.path.join(tmp, "blackbox")
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "blackbox.yml")
    with open(cfg, "w") as f:
        f.write("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n"
                "    http:\n      preferred_ip_protocol: ip4\n"
                f"      tls_config:\n        ca_file: {ca}\n"
                "        insecure_skip_verify: false\n")
    port = free_port()
    with open(os.path.join(d, f"{proto}-{mode}.log"), "w") as errf:
        p = start([BLACKBOX, f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{port}",
                   "--log.level=warn"], subprocess.DEVNULL, errf)
        try:
            if not wait_http(f"http://127.0.0.1:{port}/-/healthy"):
                raise RuntimeError("blackbox_exporter did not come up")
            cpu_ready = stat_cpu_s(p.pid)
            probe = (f"http://127.0.0.1:{port}/probe?module=http_2xx&target="
                     + urllib.request.quote(url, safe=""))
            cmd = [os.path.join(BUILD, "bench_drive_blackbox"), "-u", probe, "-t", str(seconds)]
            cmd += ["-r", str(arg)] if mode == "steady" else ["-c", str(arg)]
            drv = start(cmd, subprocess.PIPE, None)
            out = drv.stdout.read().decode()
            reap(drv, seconds + 60)
            rss = vmhwm_kb(p.pid)
        finally:
            cpu_total, _ = stop(p)
    f = kv(out.strip().splitlines()[-1]) if out.strip() else {}
    done = int(f.get("done", 0))
    cpu = cpu_total - cpu_ready
    return row(proto, mode, "blackbox", sched=RATE if mode == "steady" else None,
               achieved=float(f.get("achieved_per_s", 0)), done=done, ok=int(f.get("ok", 0)),
               cpu_us=cpu * 1e6 / done if done else None, late_p99=None, rss_kb=rss)


# --- yardstick ---------------------------------------------------------------

def ys_config(path, db, url, ca, n, interval, prefix="c"):
    tls = f"    tls: {{ ca_file: {ca} }}\n" if url.startswith("https") else ""
    with open(path, "w") as f:
        f.write(f"storage:\n  path: {db}\nchecks:\n")
        for i in range(n):
            f.write(f"  - name: {prefix}{i:05d}\n    kind: http\n    url: {url}\n"
                    f"    interval: {interval}\n    timeout: 5s\n{tls}")
    return [f"{prefix}{i:05d}" for i in range(n)]


def count_sqlite(db):
    """Rows in the raw results table, if the store's schema names one we
    recognise (see docs/internals/store.md); None otherwise."""
    sql = ENV.get("BENCH_COUNT_SQL")
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            if not sql:
                names = [r[0] for r in con.execute(
                    "select name from sqlite_master where type='table'")]
                if "chunk" in names and "rollup" in names:
                    # Raw results are packed in per-check chunks of n results;
                    # ok counts come from the hour rollups (res 2).
                    sql = ("select (select sum(n) from chunk),"
                           " (select sum(ok) from rollup where res = 2)")
                else:
                    raw = [n for n in names if n in ("results", "result", "raw_results")]
                    if not raw:
                        return None
                    sql = f"select count(*), sum(ok) from {raw[0]}"
            r = con.execute(sql).fetchone()
            return int(r[0] or 0), (int(r[1]) if len(r) > 1 and r[1] is not None else None)
        finally:
            con.close()
    except sqlite3.Error as e:
        log(f"  (sqlite count failed: {e})")
        return None


def crosscheck(db, cfg, name):
    """Compares the store's count for one check with what `yardstick history`
    returns, so that a schema change cannot silently skew the figures."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            n = con.execute("select sum(n) from chunk join checks on checks.id = chunk.check_id"
                            " where checks.name = ?", (name,)).fetchone()[0] or 0
        finally:
            con.close()
        h, _ = count_history(cfg, [name])
    except (sqlite3.Error, RuntimeError, ValueError, subprocess.SubprocessError) as e:
        log(f"  (cross-check skipped: {e})")
        return
    if n != h:
        log(f"  WARNING: store says {n} results for {name}, history says {h}")


def count_history(cfg, names):
    def one(name):
        r = subprocess.run([YARDSTICK, "history", name, "-c", cfg, "--since", "1h",
                            "--format", "json"], capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"yardstick history {name}: {r.stderr.decode()[:300]}")
        rows = json.loads(r.stdout or b"[]")
        return len(rows), sum(1 for x in rows if x.get("ok"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        res = list(ex.map(one, names))
    return sum(a for a, _ in res), sum(b for _, b in res)


def run_yardstick(tmp, proto, url, ca, mode, n, seconds, interval_ms=1000, count=True):
    d = os.path.join(tmp, f"ys-{proto}-{mode}".replace("/", "-per-s"))
    os.makedirs(d, exist_ok=True)
    cfg, db = os.path.join(d, "yardstick.yaml"), os.path.join(d, "yardstick.db")
    names = ys_config(cfg, db, url, ca, n, f"{interval_ms}ms")
    errlog = os.path.join(d, "stderr.log")
    with open(errlog, "w") as errf:
        p = start([YARDSTICK, "run", "-c", cfg, "--log-level", "info"],
                  subprocess.DEVNULL, errf)
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < seconds:
                if p.poll() is not None:
                    raise RuntimeError(f"yardstick exited early (see {errlog})")
                time.sleep(0.1)
            rss = vmhwm_kb(p.pid)
            cpu_before_term = stat_cpu_s(p.pid)
            elapsed = time.monotonic() - t0
        finally:
            cpu_total, _ = stop(p)
    with open(errlog) as f:
        text = f.read()
    m = SCHED_RE.search(text)
    late_p99 = float(m.group(4)) if m else None
    done = ok = None
    if count:
        c = count_sqlite(db)
        if c:
            crosscheck(db, cfg, names[0])
        done, ok = c if c else count_history(cfg, names)
        w = WRITTEN_RE.search(text)
        if w and int(w.group(1)) != done:
            log(f"  WARNING: yardstick logged {w.group(1)} results written, the store holds {done}")
    elif m:
        done = int(m.group(1))
    return row(proto, mode, "yardstick", sched=n * 1000.0 / interval_ms, checks=n,
               interval_ms=interval_ms,
               achieved=(done / elapsed) if done else 0.0, done=done, ok=ok,
               cpu_us=cpu_total * 1e6 / done if done else None,
               cpu_us_to_term=cpu_before_term * 1e6 / done if done else None,
               late_p99=late_p99, late_p50=float(m.group(3)) if m else None,
               skipped=int(m.group(2)) if m else None, rss_kb=rss)


# --- report ------------------------------------------------------------------

def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def print_row(r):
    sched = fmt(r.get("sched"), ".0f") if r.get("sched") else "max"
    okpct = (100.0 * r["ok"] / r["done"]) if r.get("done") and r.get("ok") is not None else None
    log(f"{r['proto']:<6} {r['mode']:<10} {r['tool']:<10} {sched:>7} "
        f"{fmt(r.get('achieved'), '.1f'):>9} {fmt(okpct, '.1f'):>6} "
        f"{fmt(r.get('cpu_us'), '.1f'):>10} {fmt(r.get('late_p99'), '.2f'):>10} "
        f"{fmt(r['rss_kb'] / 1024 if r.get('rss_kb') else None, '.1f'):>9}")


HEADER = (f"{'proto':<6} {'mode':<10} {'tool':<10} {'sched/s':>7} {'achieved':>9} "
          f"{'ok%':>6} {'cpu_us/pr':>10} {'late_p99':>10} {'rss_MiB':>9}")


def ratios(rows):
    log("\nCPU per probe ratios (target in brackets):")
    for proto in ("http", "https"):
        for mode in ("steady", "saturated"):
            got = {r["tool"]: r.get("cpu_us") for r in rows
                   if r["proto"] == proto and r["mode"] == mode}
            ys, bb, ref = got.get("yardstick"), got.get("blackbox"), got.get("reference")
            t_bb = "<= 0.20" if proto == "http" else "<= 0.80"
            t_ref = "<= 1.50" if proto == "http" else "-"
            log(f"  {proto:<6} {mode:<10} yardstick/blackbox "
                f"{fmt(ys / bb if ys and bb else None, '.2f'):>5} [{t_bb}]   "
                f"yardstick/reference {fmt(ys / ref if ys and ref else None, '.2f'):>5} [{t_ref}]"
                f"   blackbox/reference {fmt(bb / ref if bb and ref else None, '.2f'):>5}")


def run_ys_row(rows, a, proto, url, mode, n, secs, interval_ms):
    try:
        rows.append(run_yardstick(a.tmp, proto, url, a.ca, mode, n, secs, interval_ms))
        print_row(rows[-1])
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        log(f"{proto:<6} {mode:<10} yardstick  failed: {e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--http-url", required=True)
    ap.add_argument("--https-url", required=True)
    a = ap.parse_args()
    have_ys = os.access(YARDSTICK, os.X_OK)
    if not have_ys and ("yardstick" in ONLY or "big" in ONLY):
        log(f"bench: {YARDSTICK} is not built: yardstick rows are skipped")
    log(f"bench: steady {RATE:.0f}/s for {STEADY_S:.0f}s, saturated for {SAT_S:.0f}s "
        f"(reference and blackbox: {SAT_CONC} in flight)\n")
    log(HEADER)
    rows = []
    for proto, url in (("http", a.http_url), ("https", a.https_url)):
        ref_sat = None
        for mode in ("steady", "saturated"):
            secs = STEADY_S if mode == "steady" else SAT_S
            arg = RATE if mode == "steady" else SAT_CONC
            if "ref" in ONLY:
                rows.append(run_ref(proto, url, a.ca, mode, arg, secs))
                print_row(rows[-1])
                if mode == "saturated":
                    ref_sat = rows[-1]["achieved"]
            if "blackbox" in ONLY:
                rows.append(run_blackbox(a.tmp, proto, url, a.ca, mode, arg, secs))
                print_row(rows[-1])
            if "yardstick" in ONLY and have_ys:
                if mode == "steady":
                    n, ivl = int(RATE), 1000
                else:
                    # Offer 1.5x what the bare loop managed, from checks at
                    # the shortest interval the config allows (100ms), so
                    # that at most n probes are in flight (one per check).
                    ivl = 100
                    n = min(20000, max(16, int(math.ceil((ref_sat or 2000) * 1.5 * ivl / 1000))))
                run_ys_row(rows, a, proto, url, mode, n, secs, ivl)
                if proto == "http" and mode == "steady" and HIGH_RATE > 0:
                    # The issue's target: 1,000 probes/s, P99 lateness < 100 ms.
                    run_ys_row(rows, a, proto, url, f"{HIGH_RATE}/s", HIGH_RATE, STEADY_S, 1000)
    ratios(rows)
    for r in rows:
        if r["tool"] == "yardstick":
            log(f"  yardstick {r['proto']} {r['mode']}: {r['checks']} checks at "
                f"{r['interval_ms']}ms, skipped="
                f"{fmt(r.get('skipped'), 'd')}, lateness p50={fmt(r.get('late_p50'), '.2f')} ms,"
                f" cpu/probe up to SIGTERM {fmt(r.get('cpu_us_to_term'), '.1f')} us")

    if "big" in ONLY and have_ys:
        log(f"\n{BIG_CHECKS} HTTPS checks at interval 60s for {BIG_S:.0f}s:")
        try:
            r = run_yardstick(a.tmp, "https", a.https_url, a.ca, "big", BIG_CHECKS, BIG_S,
                              interval_ms=60000)
            log(f"  peak RSS {fmt(r['rss_kb'] / 1024 if r.get('rss_kb') else None, '.1f')} MiB"
                f" [target < 64], lateness p50 {fmt(r.get('late_p50'), '.2f')} ms, p99 "
                f"{fmt(r.get('late_p99'), '.2f')} ms, probes stored {fmt(r.get('done'), 'd')},"
                f" cpu/probe {fmt(r.get('cpu_us'), '.1f')} us")
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            log(f"  failed: {e}")

    if "store" in ONLY:
        sb = os.path.join(BUILD, "bench_store_bytes")
        log("\nStore bytes per result (bench_store_bytes):")
        if os.access(sb, os.X_OK):
            try:
                # The database goes in our temporary folder, removed on exit.
                r = subprocess.run([sb, os.path.join(a.tmp, "store-bytes.db")], cwd=a.tmp,
                                   capture_output=True, timeout=240)
                log("  " + r.stdout.decode().strip().replace("\n", "\n  "))
                if r.returncode != 0:
                    log(f"  (exit {r.returncode}: {r.stderr.decode()[-300:]})")
            except subprocess.TimeoutExpired:
                log("  timed out after 240 s")
        else:
            log(f"  n/a ({sb} is not built)")

    log("\nSummary")
    log(HEADER)
    for r in rows:
        print_row(r)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in list(children):
            if p.poll() is None:
                p.kill()
                p.wait()
