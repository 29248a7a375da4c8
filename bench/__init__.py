"""gittrack's benchmark: ``python -m bench`` (``--quick`` for a smoke run).

Every figure is printed next to a baseline measured in the same run, as a ratio, with the
target from issue 2 (issue 3 for artifacts) and PASS/MISS. Each measurement runs in a fresh
subprocess (``python -m bench.worker``) so imports, threads and memory of one never affect
another.

Modules: ``common`` (metric values, temp repos, subprocesses, formatting), ``log_overhead``
(the timed ``log()`` loop, gittrack and the JSON-lines floor), ``competitors`` (wandb, MLflow,
DVCLive), ``size`` (bytes in git), ``memory`` (peak RSS), ``read`` (``gittrack runs`` and
``history()``), ``artifacts`` (put and get of artifacts: local folder and S3 on moto, beside
the ``sha256sum`` + ``age`` + ``cp`` floor and DVC), ``worker`` (the subprocess entry point).
"""
