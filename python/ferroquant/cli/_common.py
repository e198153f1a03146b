"""Pieces every command shares: common options, console output, progress, error → exit code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "EXIT_DATA",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "add_db",
    "add_output",
    "console",
    "print_json",
    "progress_for",
]

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A bad argument found after parsing (a missing file, an unknown name): exit code 2."""


def add_db(parser: argparse.ArgumentParser) -> None:
    """``--db PATH`` (default ``ferroquant.db`` in the working directory)."""
    parser.add_argument(
        "--db",
        type=Path,
        default=Path("ferroquant.db"),
        metavar="PATH",
        help="SQLite database (default: ./ferroquant.db)",
    )


def add_output(parser: argparse.ArgumentParser, *, progress: bool = True) -> None:
    """``--quiet`` and ``--json``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing but errors" + (" (no progress)" if progress else ""),
    )
    group.add_argument(
        "--json", action="store_true", help="print a machine-readable JSON summary on stdout"
    )


def add_threads(parser: argparse.ArgumentParser) -> None:
    """``--threads N``."""
    parser.add_argument(
        "--threads",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="worker threads (default 0: all cores)",
    )


def console(stderr: bool = False) -> Any:
    """A rich console (plain text when the stream is not a terminal)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal (a pipe, a log file): rich would wrap at 80 columns; tables need more.
    width = None if stream.isatty() else 120
    return Console(file=stream, highlight=False, soft_wrap=False, width=width)


def print_json(payload: Any) -> None:
    """One JSON document on stdout."""
    json.dump(payload, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


class _RichTask:
    def __init__(self, progress: Any, description: str, total: int | None) -> None:
        self._progress = progress
        self._id = progress.add_task(description, total=total)

    def update(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self._progress.update(self._id, completed=done, total=total)
        else:
            self._progress.update(self._id, completed=done)


class _RichProgress:
    def __init__(self, progress: Any) -> None:
        self._progress = progress

    def task(self, description: str, total: int | None) -> _RichTask:
        return _RichTask(self._progress, description, total)


@contextmanager
def progress_for(args: argparse.Namespace) -> Iterator[Any]:
    """A rich progress display on stderr, or ``None`` (not a terminal, ``--quiet``, ``--json``)."""
    if getattr(args, "quiet", False) or getattr(args, "json", False) or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as progress:
        yield _RichProgress(progress)


@contextmanager
def threads_for(args: argparse.Namespace) -> Iterator[None]:
    """Run the block on ``--threads`` worker threads (all cores when 0)."""
    n = getattr(args, "threads", 0)
    if not n:
        yield
        return
    import ferroquant as fq

    with fq.threads(n):
        yield


def guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Map the package's errors to exit codes: usage problems 2, data problems 1 (with the
    validation report on stderr)."""

    def wrapper(args: argparse.Namespace) -> int:
        from ferroquant.errors import (
            FerroquantError,
            InfeasibleError,
            InvalidParameterError,
            UnknownSymbolError,
            ValidationError,
        )

        try:
            return func(args)
        except ValidationError as exc:
            _error(str(exc))
            report = getattr(exc, "report", None)
            if report is not None and str(report) not in str(exc):
                print(str(report), file=sys.stderr)
            return EXIT_DATA
        except (
            UsageError,
            UnknownSymbolError,
            InvalidParameterError,
            InfeasibleError,
            FileNotFoundError,
        ) as exc:
            _error(str(exc))
            return EXIT_USAGE
        except FerroquantError as exc:
            _error(str(exc))
            return EXIT_DATA

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _error(message: str) -> None:
    print(f"ferroquant: error: {message}", file=sys.stderr)


def existing_file(text: str) -> Path:
    """argparse type: a path that must exist (else exit code 2 with a clear message)."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {text}")
    return path


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (0: all cores), got {value}")
    return value


def existing_db(path: Path) -> Path:
    """``path`` when a database is there; else a usage error telling how to create one."""
    if not path.exists():
        raise UsageError(f"no database at {path}: create it with `ferroquant run` or `ingest`")
    return path
