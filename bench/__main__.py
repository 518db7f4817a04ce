"""``make bench``: run the benchmark sections and print one table.

    python -m bench                       every available section
    python -m bench reviews               only the named sections
    python -m bench reviews --db sqlite   only some databases (sections that measure per database)

A section is a module ``bench/<name>.py``. If it has ``run_section(databases)`` returning a
``harness.SectionResult``, its rows join the table; otherwise it is run as
``python -m bench.<name>`` and its own report is printed as it is. A section whose module
does not exist yet is listed as not available.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import subprocess
import sys
import time

from .harness import DATABASE_KINDS, ROOT, SectionResult

# In the order they run. Each name is a module of this package.
SECTIONS = {
    "reviews": "review callbacks per second and latency, beside a one-insert floor (issue 2)",
    "launches": "complete LTI launches beside a floor of as many one-row round trips plus RS256 sign+verify (issue 3)",
    "queue": "the staff review queue with 1,000,000 reviews (admin)",
    "acs": "ACS actions per second beside a floor of one RS256 token check plus one conditional UPDATE (issue 11)",
    "deliveries": "webhook deliveries per second with 1 and 4 workers (PostgreSQL), beside plain POSTs (issue 8)",
}


def run_section(name: str, databases: tuple[str, ...]) -> SectionResult:
    if importlib.util.find_spec(f"bench.{name}") is None:
        return SectionResult(name=name, title=SECTIONS[name], notes=["not available yet: bench/"
                                                                      f"{name}.py does not exist"])
    module = importlib.import_module(f"bench.{name}")
    run = getattr(module, "run_section", None)
    if callable(run):
        return run(databases=databases)
    # A section with its own command-line entry point: run it as it runs alone, report as it reports.
    completed = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, capture_output=True, text=True)
    text = completed.stdout + (f"\n(exit code {completed.returncode})\n{completed.stderr}"
                               if completed.returncode else "")
    return SectionResult(name=name, title=SECTIONS[name], text=text)


def table(results: list[SectionResult]) -> str:
    header = ("section", "database", "clients", "rate/s", "p50 ms", "p99 ms",
              "floor/s", "floor p50", "floor p99", "ratio")
    lines = [header]
    for result in results:
        for row in result.rows:
            lines.append((row.section, row.database, str(row.clients),
                          f"{row.subject.rate:.0f}", f"{row.subject.p50_ms:.1f}", f"{row.subject.p99_ms:.1f}",
                          f"{row.floor.rate:.0f}", f"{row.floor.p50_ms:.1f}", f"{row.floor.p99_ms:.1f}",
                          f"{row.ratio:.2f}x"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = []
    for index, line in enumerate(lines):
        rendered.append("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                                  for i, (cell, w) in enumerate(zip(line, widths, strict=True))))
        if index == 0:
            rendered.append("  ".join("-" * w for w in widths))
    return "\n".join(rendered)


def report(results: list[SectionResult], seconds: float) -> str:
    out = []
    if any(result.rows for result in results):
        out += [table(results), ""]
    for result in results:
        if not (result.checks or result.notes or result.text):
            continue
        out.append(f"{result.name}: {result.title}")
        out += [f"  [{'met' if c.met else 'MISSED'}] {c.description}: {c.detail}" for c in result.checks]
        out += [f"  {note}" for note in result.notes]
        if result.text:
            out += ["  " + line for line in result.text.rstrip().splitlines()]
        out.append("")
    checks = [c for result in results for c in result.checks]
    missed = [c for c in checks if not c.met]
    own = [result.name for result in results if result.text]
    out.append(f"{len(checks) - len(missed)} of {len(checks)} targets met"
               + (f" (not counting {', '.join(own)}, which reports its own)" if own else "")
               + f"; {seconds:.0f} s in all.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"sections to run (default: all): {', '.join(SECTIONS)}")
    parser.add_argument("--db", action="append", choices=DATABASE_KINDS, dest="databases",
                        help="databases to measure on (default: all); may be repeated")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    names = args.sections or list(SECTIONS)
    databases = tuple(args.databases or DATABASE_KINDS)

    began = time.perf_counter()
    results = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append(run_section(name, databases))
    print(report(results, time.perf_counter() - began))
    missed = any(not c.met for result in results for c in result.checks)
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
