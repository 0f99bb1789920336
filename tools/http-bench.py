#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Measures unicorn-http against unicornctl (issue 5's report).

1. Decode speed seen by the client: the same greedy prompt through HTTP
   streaming (/v1/chat/completions, SSE) and through `unicornctl run`,
   tokens/s = (tokens - 1) / (last chunk - first chunk), median of --runs.
2. Time to first token through HTTP at 1 and 16 concurrent clients
   (p50/p99 over --ttft-requests requests per level).

Needs a running unicornd and unicorn-http; only the standard library.
  tools/http-bench.py --url http://127.0.0.1:11434 \\
      --unicornctl 'build/client/unicornctl --bus=unix:path=...'
Numbers on a shared or loaded machine are noisy: report the command and
the machine with them.
"""

import argparse
import http.client
import json
import shlex
import statistics
import subprocess
import threading
import time
import urllib.parse

PROMPT = 'Write a short story about a lighthouse keeper.'


def http_stream(url, model, prompt, max_tokens):
    """Returns (ttft, chunk times, completion tokens)."""
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = {'model': model, 'messages': [{'role': 'user', 'content': prompt}], 'temperature': 0,
            'max_tokens': max_tokens, 'stream': True, 'stream_options': {'include_usage': True}}
    t0 = time.perf_counter()
    c.request('POST', '/v1/chat/completions', body=json.dumps(body), headers={'Content-Type': 'application/json'})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError(f'HTTP {r.status}: {r.read()[:200]}')
    times, tokens = [], 0
    for line in r:
        line = line.strip()
        if not line.startswith(b'data: ') or line == b'data: [DONE]':
            continue
        ch = json.loads(line[6:])
        if ch.get('usage'):
            tokens = ch['usage']['completion_tokens']
        if any(x['delta'].get('content') for x in ch['choices']):
            times.append(time.perf_counter())
    c.close()
    return (times[0] - t0 if times else None), times, tokens


def ctl_stream(cmd, model, prompt, max_tokens):
    """Runs unicornctl run; timestamps what it writes (it flushes each delta)."""
    argv = shlex.split(cmd) + ['--stats', '-t', '0', '-n', str(max_tokens), 'run', model, prompt]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    times = []
    while True:
        b = p.stdout.read1(65536) if hasattr(p.stdout, 'read1') else p.stdout.read(1)
        if not b:
            break
        times.append(time.perf_counter())
    err = p.stderr.read().decode()
    p.wait()
    done = json.loads(err.strip().splitlines()[-1])
    return times, done['generated_tokens'], (times[0] - t0 if times else None), done.get('ttft_ms')


def rate(times, tokens):
    if len(times) < 2 or tokens < 2:
        return None
    return (tokens - 1) / (times[-1] - times[0])


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--url', default='http://127.0.0.1:11434')
    ap.add_argument('--model', default='smollm2-135m')
    ap.add_argument('--unicornctl', default='unicornctl')
    ap.add_argument('--max-tokens', type=int, default=128)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--ttft-requests', type=int, default=48)
    ap.add_argument('--concurrency', default='1,16')
    a = ap.parse_args()

    http_rates, ctl_rates, http_ttft, ctl_ttft, daemon_ttft = [], [], [], [], []
    http_stream(a.url, a.model, 'Hi', 4)  # warm: the model is loaded
    for _ in range(a.runs):
        t, times, tokens = http_stream(a.url, a.model, PROMPT, a.max_tokens)
        http_rates.append(rate(times, tokens))
        http_ttft.append(1000 * t)
        times, tokens, t, d = ctl_stream(a.unicornctl, a.model, PROMPT, a.max_tokens)
        ctl_rates.append(rate(times, tokens))
        ctl_ttft.append(1000 * t)
        daemon_ttft.append(d)
    h, c = statistics.median(http_rates), statistics.median(ctl_rates)
    print(f'decode, client-side, median of {a.runs} ({a.max_tokens} tokens, greedy):')
    print(f'  HTTP SSE      {h:7.1f} tok/s  (runs: {", ".join(f"{x:.1f}" for x in http_rates)})')
    print(f'  unicornctl    {c:7.1f} tok/s  (runs: {", ".join(f"{x:.1f}" for x in ctl_rates)})')
    print(f'  HTTP / unicornctl = {100 * h / c:.1f}%')
    print(f'first token, same runs (median): HTTP {statistics.median(http_ttft):.0f} ms, unicornctl '
          f'{statistics.median(ctl_ttft):.0f} ms (incl. process start), daemon-side '
          f'{statistics.median(daemon_ttft):.0f} ms')

    for n in [int(x) for x in a.concurrency.split(',')]:
        ttfts, lock = [], threading.Lock()
        per = max(1, a.ttft_requests // n)

        def worker(i):
            for k in range(per):
                prompt = ('What is the capital of France? Answer in one word.' if (i + k) % 2 == 0
                          else 'Name the capital of Japan.')
                t, _, _ = http_stream(a.url, a.model, prompt, 16)
                with lock:
                    ttfts.append(t)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ms = [1000 * t for t in ttfts if t is not None]
        print(f'TTFT at {n:2d} concurrent clients ({len(ms)} requests, {time.perf_counter() - t0:.1f} s): '
              f'p50 {pct(ms, 50):.0f} ms, p99 {pct(ms, 99):.0f} ms')


if __name__ == '__main__':
    main()
