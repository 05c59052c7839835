"""The README and docs/ hold together: links resolve, the commands shown exist, nothing points outside the repository.

No process is started: `--help` goes through the CLI's entry function in this process."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from bench_pipeline.cli import commands as cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_SPAN = re.compile(r"`[^`\n]+`")
# [text](target): the target up to the first space or closing parenthesis.
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
_COMMAND = re.compile(r"bench-pipeline\s+([a-z][a-z0-9-]*)")


def _without_code(text: str) -> str:
    """The page without fenced blocks and code spans: links inside code are not links."""
    return _SPAN.sub("", _FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but hyphens and spaces dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor on a page (a repeated heading gets -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    out = set()
    for heading in _HEADING.findall(_FENCE.sub("", page.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(page: Path) -> list[str]:
    return _LINK.findall(_without_code(page.read_text()))


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in links(page):
        if re.match(r"^(https?:|mailto:)", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: {path} does not exist")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading with anchor #{anchor} in {file.name}")
    return broken


def test_the_slug_is_githubs():
    assert slug("The verdict") == "the-verdict"
    assert slug("Pointing the same assets at an existing cluster (Dataproc, YARN, Kubernetes)") == \
        "pointing-the-same-assets-at-an-existing-cluster-dataproc-yarn-kubernetes"
    assert slug("SQL, DataFrame code and validation") == "sql-dataframe-code-and-validation"
    assert slug("The grid (`bench-pipeline run`)") == "the-grid-bench-pipeline-run"


def test_the_docs_pages_exist_and_the_readme_links_each():
    pages = {p.name for p in PAGES[1:]}
    assert {"commands.md", "measurement.md", "contract.md", "suites.md", "workloads.md", "state.md",
            "troubleshooting.md", "figures.md", "development.md"} <= pages
    linked = {Path(t.partition("#")[0]).name for t in links(README) if t.startswith("docs/")}
    assert pages <= linked, f"not linked from the README: {sorted(pages - linked)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# A heading\n\ntext\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#a-heading) [file](missing.md) [anchor](other.md#no-such) "
                    "[web](https://example.org/x) `[code](missing.md)`\n")
    assert [b.split(":")[0] for b in broken_links(page)] == ["missing.md", "other.md#no-such"]


def readme_commands() -> set[str]:
    """The commands of every `bench-pipeline <command>` in the README's code spans and blocks."""
    text = README.read_text()
    code = [*_FENCE.findall(text), *_SPAN.findall(_FENCE.sub("", text))]
    return {m for block in code for m in _COMMAND.findall(block)}


def test_the_readme_shows_the_main_commands():
    commands = readme_commands()
    assert {"run", "calibrate"} <= commands


@pytest.fixture
def sigterm_kept():
    """cli.main installs its own SIGTERM handler: the test process gets its own back."""
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


@pytest.mark.parametrize("command", sorted(readme_commands()))
def test_every_command_the_readme_shows_has_a_help(command, capsys, sigterm_kept):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"bench-pipeline {command}" in out


_OUTSIDE = re.compile(r"SPEC §|\.\./shared")


def test_nothing_points_outside_the_repository():
    files = [*PAGES, *(ROOT / "bench_pipeline").rglob("*.py"), *(ROOT / "bench_pipeline").rglob("*.j2")]
    found = [f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
             for f in files for n, line in enumerate(f.read_text().splitlines(), 1) if _OUTSIDE.search(line)]
    assert found == []
