#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Aggregate decode speed of concurrent sessions, by ParallelSessions=.

For each --parallel value it starts a private dbus-daemon and unicornd
with that setting, imports --model, warms it up with one request, then
starts --clients `unicornctl run` at once (one session each, the same
greedy prompt, --tokens tokens) and reports

  aggregate t/s = generated tokens of all clients / wall time of the round

(median of --rounds rounds), with the largest max_batch_sequences the
clients' final records showed. Run as root or as the owner of the private
bus (no polkit there). Only the standard library. Example:

  tools/sessions-bench.py --build build --model ~/.cache/unicorn/models/SmolLM2-135M-Instruct.Q4_1.gguf \\
      --clients 4 --parallel 1,4

Numbers on a shared or loaded machine are noisy: report the command and
the machine with them, and compare only values of one run.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PROMPT = 'Write a long story about a lighthouse keeper and the sea.'


def start(build, tmp, parallel, backend, bus_config):
    conf = os.path.join(tmp, 'unicornd.conf')
    with open(conf, 'w') as f:
        f.write(f'AutoLoad=yes\nParallelSessions={parallel}\nBackend={backend}\nMaxSessionsPerCaller=256\n'
                'MaxRequestsPerCaller=256\n')
    # --bus-config: where dbus-daemon is unpacked outside / (the GPU machine), its session.conf is not where it looks
    bus = subprocess.Popen(['dbus-daemon', f'--config-file={bus_config}' if bus_config else '--session', '--nofork',
                            '--print-address=1'], stdout=subprocess.PIPE, text=True)
    addr = bus.stdout.readline().strip()
    state = os.path.join(tmp, 'models')
    os.makedirs(state, exist_ok=True)
    log = open(os.path.join(tmp, 'unicornd.log'), 'w')
    d = subprocess.Popen([os.path.join(build, 'daemon', 'unicornd'), f'--bus={addr}', f'--state-dir={state}',
                          f'--config={conf}'], stdout=log, stderr=subprocess.STDOUT)
    ctl = [os.path.join(build, 'client', 'unicornctl'), f'--bus={addr}']
    for _ in range(100):
        if subprocess.run(ctl + ['status'], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise RuntimeError('unicornd did not start')
    return bus, d, ctl


def run_round(ctl, clients, tokens):
    """One round: returns (aggregate t/s, largest max_batch_sequences, the clients' done records, wall s)."""
    argv = ctl + ['--stats', '-t', '0', '-n', str(tokens), 'run', 'bench', PROMPT]
    t0 = time.perf_counter()
    ps = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(clients)]
    done = []
    for p in ps:
        err = p.communicate()[1]
        if p.returncode != 0:
            raise RuntimeError('unicornctl failed: ' + err)
        done.append(json.loads(err.strip().splitlines()[-1]))
    wall = time.perf_counter() - t0
    return (sum(d['generated_tokens'] for d in done) / wall, max(d.get('max_batch_sequences', 1) for d in done),
            done, wall)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default='build')
    ap.add_argument('--model', required=True)
    ap.add_argument('--clients', type=int, default=4)
    ap.add_argument('--parallel', default='1,4', help='ParallelSessions= values, comma-separated')
    ap.add_argument('--tokens', type=int, default=64)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--backend', default='auto')
    ap.add_argument('--log', help='a folder to keep the daemon logs in (unicornd-PARALLEL.log)')
    ap.add_argument('--bus-config', help="dbus-daemon's --config-file= (default: its own session bus config)")
    a = ap.parse_args()

    print(f'model {os.path.basename(a.model)}, {a.clients} clients x {a.tokens} tokens, backend {a.backend}, '
          f'median of {a.rounds} rounds')
    for parallel in [int(x) for x in a.parallel.split(',')]:
        tmp = tempfile.mkdtemp(prefix='unicorn-sessions-bench-')
        bus = d = None
        try:
            bus, d, ctl = start(a.build, tmp, parallel, a.backend, a.bus_config)
            subprocess.run(ctl + ['import', a.model, 'bench'], check=True, capture_output=True)
            run_round(ctl, 1, 8)  # load and warm up
            rates, batch, recs = [], 0, []
            for _ in range(a.rounds):
                r, b, done, wall = run_round(ctl, a.clients, a.tokens)
                rates.append(r)
                batch = max(batch, b)
                recs.append((done, wall))
            # Where a round's time goes (the median round's records): the time to the first token (queueing
            # behind other requests, prompt), each client's generation rate after it, and what neither covers
            # (the client, OpenSession and Close, the daemon's per-request setup).
            done, wall = sorted(recs, key=lambda x: x[1])[len(recs) // 2]
            ttft = statistics.median(d['ttft_ms'] for d in done)
            per = statistics.median(d['tokens_per_second'] for d in done)
            rest = statistics.median(wall * 1e3 - d['ttft_ms'] - d['generate_ms'] for d in done)
            print(f'ParallelSessions={parallel}: {statistics.median(rates):8.1f} t/s aggregate '
                  f'(rounds: {", ".join(f"{r:.1f}" for r in rates)}), max_batch_sequences {batch}; '
                  f'median client: ttft {ttft:.1f} ms, {per:.1f} t/s generating, {rest:.1f} ms outside both',
                  flush=True)
        except Exception:
            # the temporary directory goes below: show why the daemon failed while its log is still there
            with open(os.path.join(tmp, 'unicornd.log'), errors='replace') as f:
                sys.stderr.write(''.join(f.readlines()[-20:]))
            raise
        finally:
            for p in (d, bus):
                if p and p.poll() is None:
                    p.terminate()
                    p.wait(30)
            if a.log and os.path.exists(os.path.join(tmp, 'unicornd.log')):  # after the exit: what it prints then
                shutil.copy(os.path.join(tmp, 'unicornd.log'), os.path.join(a.log, f'unicornd-{parallel}.log'))
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
