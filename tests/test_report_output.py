"""`compare --output DIR` never deletes what hashpivot did not write.

A folder is replaced only when it is new, empty, or an earlier hashpivot report (its
``manifest.json`` parses and says ``"tool": "hashpivot"``) that holds nothing but the files its
manifest lists. Everything else is refused with :class:`OutputError` and left exactly as is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hashpivot import compare as cmpmod
from hashpivot import config, report
from hashpivot.exceptions import OutputError

SMALL = {"paths": 20, "years": 1.0, "seed": 3}


@pytest.fixture(scope="module")
def result() -> cmpmod.Comparison:
    return cmpmod.compare(config.load_site().with_run(**SMALL))  # type: ignore[arg-type]


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (relative, posix) → its bytes (None for folders)."""
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        out[p.relative_to(root).as_posix()] = None if p.is_dir() else p.read_bytes()
    return out


def _webapp(root: Path) -> Path:
    app = root / "webapp"
    (app / "src").mkdir(parents=True)
    (app / "manifest.json").write_text('{"name":"My PWA"}\n')
    (app / "index.html").write_text("x\n")
    (app / "src" / "app.js").write_text("y\n")
    return app


def _no_temp_left(parent: Path) -> None:
    left = [p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert left == []


def _hashpivot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "hashpivot"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hashpivot"]
    env = {**os.environ, "HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("HASHPIVOT_DEBUG", None)
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


# --------------------------------------------------------------------------- foreign manifest


def test_foreign_manifest_json_is_not_a_report(result: cmpmod.Comparison, tmp_path: Path) -> None:
    app = _webapp(tmp_path)
    before = _tree(app)
    with pytest.raises(OutputError, match="not a hashpivot report") as e:
        report.write_report(result, app)
    msg = str(e.value)
    assert str(app) in msg
    assert '"tool": "hashpivot"' in msg  # why it is not a report
    assert "--output" in msg  # the fix
    assert _tree(app) == before  # nothing deleted, nothing added
    _no_temp_left(tmp_path)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json {", "not valid JSON"),
        ('["tool", "hashpivot"]', '"tool": "hashpivot"'),
        ('{"tool": "somethingelse", "files": []}', '"tool": "hashpivot"'),
        ('{"tool": "hashpivot"}', '"files"'),
        ('{"tool": "hashpivot", "files": "report.html"}', '"files"'),
    ],
)
def test_manifest_that_does_not_identify_hashpivot_is_refused(
    tmp_path: Path, text: str, why: str
) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "manifest.json").write_text(text)
    with pytest.raises(OutputError, match="not a hashpivot report") as e:
        report.check_target(dest)
    assert why in str(e.value)
    assert [p.name for p in dest.iterdir()] == ["manifest.json"]


def test_cli_refuses_a_web_app_folder_and_deletes_nothing(tmp_path: Path) -> None:
    app = _webapp(tmp_path)
    before = _tree(app)
    p = _hashpivot("compare", "--paths", "20", "--years", "1", "--output", "webapp", cwd=tmp_path)
    assert p.returncode == 4, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("hashpivot: error: cannot write output: webapp")
    assert "not a hashpivot report" in lines[0]
    assert "Traceback" not in p.stderr
    assert p.stdout == ""
    assert _tree(app) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["webapp"]


# --------------------------------------------------------------------------- earlier reports


def test_file_added_to_an_earlier_report_is_refused(
    result: cmpmod.Comparison, tmp_path: Path
) -> None:
    dest = tmp_path / "rep"
    report.write_report(result, dest)
    (dest / "notes.txt").write_text("mine")
    before = _tree(dest)
    with pytest.raises(OutputError, match=re.escape("notes.txt")) as e:
        report.write_report(result, dest)
    msg = str(e.value)
    assert str(dest) in msg
    assert "move it out, or pass another --output" in msg
    assert _tree(dest) == before
    _no_temp_left(tmp_path)


def test_folder_added_to_an_earlier_report_is_refused(
    result: cmpmod.Comparison, tmp_path: Path
) -> None:
    dest = tmp_path / "rep"
    report.write_report(result, dest)
    (dest / "extra" / "deep").mkdir(parents=True)
    (dest / "extra" / "deep" / "keep.csv").write_text("1,2\n")
    before = _tree(dest)
    with pytest.raises(OutputError, match=re.escape("extra/deep/keep.csv")) as e:
        report.check_target(dest)
    assert "move it out, or pass another --output" in str(e.value)
    with pytest.raises(OutputError, match=re.escape("extra/deep/keep.csv")):
        report.write_report(result, dest)
    assert _tree(dest) == before
    _no_temp_left(tmp_path)


def test_folder_in_place_of_a_listed_file_is_refused(
    result: cmpmod.Comparison, tmp_path: Path
) -> None:
    dest = tmp_path / "rep"
    report.write_report(result, dest)
    (dest / "decision.csv").unlink()
    (dest / "decision.csv").mkdir()
    (dest / "decision.csv" / "mine.txt").write_text("x")
    with pytest.raises(OutputError, match=re.escape("decision.csv/mine.txt")):
        report.write_report(result, dest)
    assert (dest / "decision.csv" / "mine.txt").read_text() == "x"


def test_cli_refuses_an_earlier_report_with_a_notes_file(
    result: cmpmod.Comparison, tmp_path: Path
) -> None:
    dest = tmp_path / "rep"
    report.write_report(result, dest)
    (dest / "notes.txt").write_text("mine")
    before = _tree(dest)
    p = _hashpivot("compare", "--paths", "20", "--years", "1", "--output", "rep", cwd=tmp_path)
    assert p.returncode == 4, (p.stdout, p.stderr)
    assert "notes.txt" in p.stderr
    assert "move it out, or pass another --output" in p.stderr
    assert "Traceback" not in p.stderr
    assert _tree(dest) == before


def test_clean_earlier_report_is_replaced(result: cmpmod.Comparison, tmp_path: Path) -> None:
    dest = tmp_path / "rep"
    first = report.write_report(result, dest)
    (dest / "report.html").write_text("edited")  # listed files are the report's to replace
    (dest / "decision.csv").unlink()  # a missing listed file is fine too
    second = report.write_report(result, dest)
    assert second.files == first.files
    assert sorted(p.name for p in dest.iterdir()) == sorted(second.files)
    assert "edited" not in (dest / "report.html").read_text(encoding="utf-8")
    manifest = json.loads((dest / report.MANIFEST).read_text())
    assert manifest["tool"] == "hashpivot"
    assert sorted(manifest["files"]) == sorted(f for f in second.files if f != report.MANIFEST)
    _no_temp_left(tmp_path)


def test_file_added_while_the_report_is_built_is_kept(
    result: cmpmod.Comparison, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "rep"
    report.write_report(result, dest)
    real = report.render_charts

    def slow(cmp: cmpmod.Comparison) -> tuple[dict[str, bytes], list[str]]:
        (dest / "late.txt").write_text("written during the run")
        return real(cmp)

    monkeypatch.setattr(report, "render_charts", slow)
    with pytest.raises(OutputError, match=re.escape("late.txt")):
        report.write_report(result, dest)
    assert (dest / "late.txt").read_text() == "written during the run"
    assert (dest / report.MANIFEST).is_file()
    _no_temp_left(tmp_path)


# --------------------------------------------------------------------------- parents


def test_parent_that_is_a_file_is_named_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    for dest in (tmp_path / "afile" / "sub", tmp_path / "afile" / "a" / "b"):
        with pytest.raises(OutputError) as e:
            report.check_target(dest)
        msg = str(e.value)
        assert f"{tmp_path / 'afile'} is a file, not a folder" in msg
        assert "does not exist" not in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_missing_parent_still_says_create_it(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist; create it first"):
        report.check_target(tmp_path / "nope" / "sub")


def test_cli_output_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    p = _hashpivot(
        "compare", "--paths", "20", "--years", "1", "--output", "afile/sub", cwd=tmp_path
    )
    assert p.returncode == 4, (p.stdout, p.stderr)
    assert "afile is a file, not a folder" in p.stderr
    assert "does not exist" not in p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["afile"]
