"""`python -m bench_pipeline.cli`: the same commands as `bench-pipeline`."""

from bench_pipeline.cli.commands import main

raise SystemExit(main())
