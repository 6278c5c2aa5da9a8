#!/usr/bin/env python3
"""Wall time of several commands measured in rounds, for bench/run.sh.

Each round runs every command once, in an order that rotates (and reverses
every other round), so load from elsewhere on the machine falls on all of
them alike; a ratio is the median of the per-round ratios to the first
command. No shell runs between this loop and a command (hyperfine 1.15 needs
one for stdin): stdin is opened from a file.

    paired.py ROUNDS CASE-FILE

CASE-FILE has one command per line, tab-separated: label, stdin file, then
the argv; leading NAME=VALUE words set the environment as env(1) does.
Output goes to /dev/null, as with hyperfine. Prints label, median in ms and
ratio, tab-separated.
"""

import os
import statistics
import sys
import time


def read_cases(path):
    cases = []
    with open(path) as f:
        for line in f:
            label, stdin, *words = line.rstrip("\n").split("\t")
            env = dict(os.environ)
            while words and "=" in words[0] and not words[0].startswith("/"):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            cases.append((label, stdin or os.devnull, words, env))
    return cases


def run(case):
    _, stdin, argv, env = case
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter_ns() - start
    if status != 0:
        sys.exit(f"paired.py: {' '.join(argv)} failed (wait status {status})")
    return elapsed


def main():
    rounds, cases = int(sys.argv[1]), read_cases(sys.argv[2])
    for case in cases:  # warm the page cache
        for _ in range(5):
            run(case)
    times = [[] for _ in cases]
    for r in range(rounds):
        order = list(range(len(cases)))
        order = order[r % len(order):] + order[: r % len(order)]
        if r % 2:
            order.reverse()
        for i in order:
            times[i].append(run(cases[i]))
    for (label, *_), ts in zip(cases, times):
        ratio = statistics.median(t / b for t, b in zip(ts, times[0]))
        print(f"{label}\t{statistics.median(ts) / 1e6:.3f}\t{ratio:.3f}")


main()
