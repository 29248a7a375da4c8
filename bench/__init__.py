"""gittrack's benchmark: ``python -m bench`` (``--quick`` for a smoke run).

Every figure is printed next to a baseline measured in the same run, as a ratio, with the
target from issue 2 (issue 3 for artifacts) and PASS/MISS. Each measurement runs in a fresh
subprocess (``python -m bench.worker``) so imports, threads and memory of one never affect
another.

Sections (``--only NAME``), each a module whose one entry point is ``run(ctx)``: ``log_overhead``
(the timed ``log()`` loop, gittrack and the JSON-lines floor; ``competitors``: wandb, MLflow,
DVCLive), ``size`` (bytes in git), ``memory`` (peak RSS), ``runs`` (``gittrack runs``),
``history`` (``history()``), ``wide`` (a 10,000-key run), ``artifacts`` (put and get of
artifacts: local folder and S3 on moto, beside the ``sha256sum`` + ``age`` + ``cp`` floor and
DVC; its worker side in ``artifacts_worker`` and ``artifacts_floor``, its data in
``artifacts_data``, its tables and targets in ``artifacts_results``), ``sync`` (push and pull).
``common`` holds what they share: metric values, temp repos, running processes and workers,
timing, formatting; ``worker`` is the subprocess entry point.
"""
