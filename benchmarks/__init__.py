"""octave_frames' benchmarks: every goal of issue 12 measured in one run, side by side.

    python -m benchmarks                     # everything, a few minutes on 2 cores
    python -m benchmarks --quick             # smaller sizes, under a minute
    python -m benchmarks --only rate-bound --only auto --json results.json
    python -m benchmarks --list              # the scenarios

The simulator (``octave_frames.simulator``) serves real HTTP on loopback from a child
process, so the CPU time measured (``time.process_time()`` of this process) is the
client's alone. Each network scenario runs octave_frames and, in the same run against
the same server, the ways people write it by hand: ``df.apply`` with a blocking
``httpx.post`` per row (on a small slice: it is slow), asyncio + ``httpx.AsyncClient``
+ ``Semaphore`` + ``aiolimiter``, and a raw ``aiohttp`` gather loop, the CPU floor.
Memory is the peak RSS of a fresh child process per scenario.

Modules: ``_sim`` (the child-process simulator), ``_baselines`` (the hand-written
loops), ``_network`` (scenarios over HTTP), ``_local`` (planning, the ledger, stages,
import time), ``_memory`` (peak RSS, one child per scenario), ``_table`` (results,
printing, JSON). ``bench_flatten``, ``bench_excel`` and ``bench_ratelimit`` still run
on their own (``python -m benchmarks.bench_flatten``).
"""
