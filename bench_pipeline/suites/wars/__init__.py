"""The Engine Wars suite: the article's workloads on their own generated data.

Core code (no Dagster import). `data` generates the events table, the sales
CSV and the images; `server` serves the images on 127.0.0.1; `workloads` is the
catalogue (answers, references, validation); `engines/` holds each engine's
implementation of the workloads; `runner` measures a workload on an engine with
the project's harness (fresh worker process, cold + warm runs, process-tree
peak memory, statuses); `analysis` turns the store's rows into tables and plots.
"""
