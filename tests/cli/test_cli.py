"""The command line: the main job on the embedded sample, the other commands, exit codes."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ferroquant.cli import main
from ferroquant.sample import load_sample

COMMANDS = ["run", "ingest", "indicators", "show", "value", "optimize", "info"]
needs_store = pytest.mark.skipif(
    importlib.util.find_spec("ferroquant.store") is None, reason="ferroquant.store is not available"
)


def test_module_entry_point_and_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ferroquant", "--help"], capture_output=True, text=True, check=True
    )
    assert "examples:" in proc.stdout
    assert all(c in proc.stdout for c in COMMANDS)
    bad = subprocess.run(
        [sys.executable, "-m", "ferroquant", "run", "--threads", "-2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "--threads" in bad.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"ferroquant {command}" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--data", "no/such/file.csv"],
        ["run", "--chunk", "0"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_unknown_indicator_set_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--db", str(tmp_path / "x.db"), "--indicators", "nope", "-q"]) == 2
    assert "standard" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ferroquant run` with no arguments, in an empty working directory."""
    cwd = tmp_path_factory.mktemp("run")
    proc = subprocess.run(
        [sys.executable, "-m", "ferroquant", "run", "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (cwd / "summary.json").write_text(proc.stdout)
    return cwd / "ferroquant.db"


@needs_store
def test_run_default_uses_the_embedded_sample(sample_db: Path) -> None:
    summary = json.loads((sample_db.parent / "summary.json").read_text())
    assert summary["totals"]["symbols"] == 99
    stages = {s["name"]: s for s in summary["stages"]}
    assert list(stages) == ["ingest", "indicators", "summary", "optimize", "report"]
    assert stages["indicators"]["items"] == int((~np.isnan(load_sample().close)).sum())
    report = sample_db.parent / "ferroquant_report.html"
    assert summary["report"] == "ferroquant_report.html" and report.exists()
    text = report.read_text()
    assert "data:image/png;base64," in text and "http" not in text.replace("http-equiv", "")


@needs_store
def test_second_run_is_incremental(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "again.db"
    shutil.copyfile(sample_db, db)
    assert main(["run", "--db", str(db), "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "99 symbols" in out and "indicators" in out and "peak RSS" in out
    assert main(["run", "--db", str(db), "--no-report", "--json"]) == 0
    stages = {s["name"]: s for s in json.loads(capsys.readouterr().out)["stages"]}
    assert stages["indicators"]["items"] == 0


@needs_store
def test_run_with_factors_adds_the_factor_stage(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "factors.db"
    shutil.copyfile(sample_db, db)
    assert main(["run", "--db", str(db), "--no-report", "--factors", "--json"]) == 0
    stages = {s["name"]: s for s in json.loads(capsys.readouterr().out)["stages"]}
    assert stages["factors"]["items"] > 0 and stages["factors"]["detail"]["factors"] == 22


@needs_store
def test_show_value_info(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "copy.db"
    shutil.copyfile(sample_db, db)
    assert main(["show", "AAPL", "--db", str(db), "--last", "3", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [b["date"] for b in shown["bars"]][-1] == "2021-04-21"
    assert shown["bars"][-1]["rsi14"] is not None and len(shown["bars"]) == 3
    assert main(["show", "AAPL", "--db", str(db)]) == 0
    assert "sma50" in capsys.readouterr().out
    assert main(["show", "NOPE", "--db", str(db)]) == 2
    assert "NOPE" in capsys.readouterr().err

    holdings = tmp_path / "h.csv"
    holdings.write_text("symbol,quantity\nAAPL,10\nAMZN,5\n")
    assert main(["value", "--db", str(db), "--holdings", str(holdings), "--json"]) == 0
    valued = json.loads(capsys.readouterr().out)
    assert {h["symbol"] for h in valued["holdings"]} == {"AAPL", "AMZN"}
    assert valued["total"] == pytest.approx(sum(h["market_value"] for h in valued["holdings"]))
    assert main(["value", "--db", str(db)]) == 0
    assert "total" in capsys.readouterr().out

    assert main(["info", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "database" in out and "profile" in out


@needs_store
def test_invalid_data_exits_1_with_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,symbol,open,high,low,close,volume\n"
        "2024-01-02,AAA,10,11,9,10.5,100\n"
        "2024-01-03,AAA,10,9,11,10.5,100\n"  # high < low
    )
    db = tmp_path / "bad.db"
    assert main(["run", "--data", str(bad), "--db", str(db), "-q"]) == 1
    err = capsys.readouterr().err
    assert "error" in err and "high" in err.lower()
    assert main(["ingest", str(bad), "--db", str(db), "-q"]) == 1
    assert main(["ingest", str(bad), "--db", str(db), "--skip-invalid", "--json"]) == 0
    ingested = json.loads(capsys.readouterr().out)
    assert ingested["totals"]["bars"] == 1 and ingested["ingest"]["detail"]["rows_skipped"] == 1
    assert main(["indicators", "--db", str(db), "-q"]) == 0
    assert main(["indicators", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no database" in capsys.readouterr().err


def test_info_without_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--db", str(tmp_path / "none.db")]) == 0
    out = capsys.readouterr().out
    assert "no database" in out and "profile" in out


def test_sample_is_real_aligned_and_split_adjusted() -> None:
    p = load_sample()
    assert p.shape == (99, 1258)
    assert not np.isnan(p.close).any()
    assert np.all(p.high >= p.low)
    raw = load_sample(adjust_splits=False)
    i = p.symbols.index("AAPL")
    # AAPL split 4:1 on 2020-08-31: raw prices drop ~75 %, adjusted ones do not.
    day = int(np.searchsorted(p.dates, np.datetime64("2020-08-31")))
    assert raw.close[i, day] / raw.close[i, day - 1] < 0.3
    assert 0.9 < p.close[i, day] / p.close[i, day - 1] < 1.1


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`ferroquant run --json | true`: no traceback when the reader has gone away."""
    import subprocess
    import sys

    code = (
        "import sys; from ferroquant.cli import main; "
        f"sys.exit(main(['run', '--db', {str(tmp_path / 'p.db')!r}, '--no-report', '--json']))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the job prints anything
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err
    assert proc.returncode in (0, 141)
