"""Command-line option types and the parent parsers the suite commands share (no engine or Dagster import)."""

from __future__ import annotations

import argparse
import math

from bench_pipeline.engines import ENGINE_NAMES


class UsageError(Exception):
    """A bad argument: printed as one line, exit code 2."""


def number(kind: type, minimum: float, inclusive: bool):
    """An argparse type: a number of `kind` above (or at, if inclusive) `minimum`."""
    what = "a whole number" if kind is int else "a number"
    bound = f"{minimum:g} or more" if inclusive else f"greater than {minimum:g}"

    def conv(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value:g}")
        return value

    return conv


positive_int = number(int, 0, inclusive=False)
# A headline median needs at least 3 warm runs (`query` alone may ask for fewer).
warm_runs = number(int, 3, inclusive=True)
non_negative_int = number(int, 0, inclusive=True)
positive_float = number(float, 0, inclusive=False)


_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600}


def duration(text: str) -> float:
    """Seconds from '900', '900s', '15m' or '1.5h': a positive, finite length of time."""
    t = text.strip().lower()
    unit = next((u for u in ("min", "s", "m", "h") if t.endswith(u)), "")
    try:
        value = float(t[: len(t) - len(unit)]) * _UNITS[unit]
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive length of time such as 900, 900s, 15m or 1h, "
                                         f"got {text!r}")
    return value


def choice_list(choices: tuple[str, ...], what: str):
    def conv(text: str) -> tuple[str, ...]:
        items = tuple(t.strip() for t in text.split(",") if t.strip())
        bad = [i for i in items if i not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, bad)) or repr(text)}; choose from {', '.join(choices)}"
            )
        return items

    return conv


def int_list(text: str) -> tuple[int, ...]:
    items = tuple(positive_int(t.strip()) for t in text.split(",") if t.strip())
    if not items:
        raise argparse.ArgumentTypeError("needs at least one value")
    return items


engine_list = choice_list(ENGINE_NAMES, "engine")


def _measure(repeats_default: str = "3", timeout_default: str = "600") -> argparse.ArgumentParser:
    """Options every measuring command shares: warm runs, timeout, memory budget."""
    m = argparse.ArgumentParser(add_help=False)
    m.add_argument("--repeats", type=warm_runs, default=None,
                   help=f"the least number of warm runs per query, when they fit in the query budget (default: "
                        f"{repeats_default})")
    m.add_argument("--timeout", dest="timeout_s", type=positive_float, default=None,
                   help=f"seconds a run may take before it ends as `timeout` (default: {timeout_default})")
    m.add_argument("--budget-mib", type=positive_int, default=None,
                   help="memory budget of a query's whole process tree in MiB; over it the run ends as `oom` "
                        "(default: none)")
    return m


def _data() -> argparse.ArgumentParser:
    """The posts data a suite measures on (default: the main settings')."""
    d = argparse.ArgumentParser(add_help=False)
    d.add_argument("--rows", type=positive_int, default=None, help="posts rows (default: 5,000,000, the lab's)")
    d.add_argument("--seed", type=non_negative_int, default=None, help="data generator seed (default: 42)")
    return d


def _budget() -> argparse.ArgumentParser:
    """How long a measuring command may take, and the most processes a query gets (every suite: one instrument).
    Each suite's command says its own default and how it spends the budget (cli.build_parser)."""
    b = argparse.ArgumentParser(add_help=False)
    b.add_argument("--time-budget", dest="time_budget_s", type=duration, default=None,
                   help="how long the command may take, data included: 900, 900s, 15m or 1h")
    b.add_argument("--max-processes", type=positive_int, default=None,
                   help="the most fresh processes per query while a comparison is open, 1 to 20 (default: 20)")
    return b


def _json() -> argparse.ArgumentParser:
    j = argparse.ArgumentParser(add_help=False)
    j.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
    return j


# Parent parsers by name, as a suite's descriptor lists them.
PARENTS = {"measure": _measure, "budget": _budget, "data": _data, "json": _json}


def main_settings_from(args: argparse.Namespace, **explicit):
    """The main settings in force, with whichever of them this command has options for (an option's dest is the
    setting's name) and `explicit` values over those."""
    from bench_pipeline.config.settings import Settings  # keeps pydantic, pydantic_settings off the import path

    given = {name: getattr(args, name, None) for name in Settings.model_fields if name != "home"}
    return Settings.from_env(**{**given, **explicit})
