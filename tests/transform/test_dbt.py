"""Preparing the dbt manifest: paths from the package, a clear error when dbt parse fails, a parse only
when the manifest is missing, stale or forced; run_dbt's result of a failed command."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from transform import dbt as project
from transform.dbt import AS_OF_ENV, split_as_of


def _fake_dbt(tmp_path: Path, script: str) -> str:
    exe = tmp_path / "dbt"
    exe.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


def test_dbt_project_resolves_from_the_package_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    assert (project.DBT_PROJECT_DIR / "dbt_project.yml").is_file()
    assert project.dbt_manifest_path() == project.DBT_PROJECT_DIR / "target" / "manifest.json"
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "t"))
    assert project.dbt_manifest_path() == tmp_path / "t" / "manifest.json"


def test_failed_parse_raises_with_dbt_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    exe = _fake_dbt(tmp_path, 'echo "Compilation Error in model broken (models/broken.sql)"\nexit 2\n')
    monkeypatch.setattr(project, "dbt_executable", lambda: exe)
    with pytest.raises(project.DbtManifestError) as raised:
        project.prepare_dbt_manifest()
    message = str(raised.value)
    assert "exit code 2" in message
    assert "Compilation Error in model broken" in message
    assert str(tmp_path / "target" / "manifest.json") in message


def test_existing_manifest_is_kept_unless_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    # A dbt that records being called and writes a new manifest.
    calls = tmp_path / "calls"
    exe = _fake_dbt(tmp_path, f'echo called >> "{calls}"\necho "{{\\"v\\": 2}}" > "{target}/manifest.json"\n')
    monkeypatch.setattr(project, "dbt_executable", lambda: exe)

    # Newer than every file of the dbt project (even one edited while the test runs).
    future = project.project_files_newest_mtime() + 3600
    os.utime(target / "manifest.json", (future, future))

    project.prepare_dbt_manifest()
    assert not calls.exists()
    assert (target / "manifest.json").read_text(encoding="utf-8") == "{}"

    project.prepare_dbt_manifest(force=True)
    assert calls.read_text(encoding="utf-8").count("called") == 1
    assert (target / "manifest.json").read_text(encoding="utf-8").strip() == '{"v": 2}'


def test_manifest_older_than_the_project_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text("{}", encoding="utf-8")
    os.utime(target / "manifest.json", (0, 0))  # older than any file of the dbt project
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    exe = _fake_dbt(tmp_path, f'echo "{{\\"v\\": 3}}" > "{target}/manifest.json"\n')
    monkeypatch.setattr(project, "dbt_executable", lambda: exe)

    assert project.manifest_is_stale()
    project.prepare_dbt_manifest()
    assert (target / "manifest.json").read_text(encoding="utf-8").strip() == '{"v": 3}'
    assert not project.manifest_is_stale()


def test_run_dbt_reports_a_failed_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = _fake_dbt(tmp_path, 'echo "Database Error in model broken"\nexit 1\n')
    monkeypatch.setattr(project, "dbt_executable", lambda: exe)
    target = tmp_path / "run"

    run = project.run_dbt(["build"], data_dir=tmp_path / "data", target_path=target, check=False)
    assert not run.success and run.returncode == 1
    assert "Database Error in model broken" in run.output
    assert run.results() == [] and run.failures() == []
    with pytest.raises(project.DbtCommandError, match="Database Error in model broken"):
        project.run_dbt(["build"], data_dir=tmp_path / "data", target_path=target)


def test_as_of_leaves_the_vars_for_the_environment() -> None:
    assert split_as_of(["build", "--vars", '{"as_of": "2026-06-30", "x": 1}', "--full-refresh"]) == (
        ["build", "--vars", '{"x": 1}', "--full-refresh"],
        {AS_OF_ENV: "2026-06-30"},
    )
    # YAML as people type it, a date YAML reads as a date, and as_of alone leaves no --vars behind.
    assert split_as_of(["run", "--vars", "{as_of: '2025-01-14'}"]) == (["run"], {AS_OF_ENV: "2025-01-14"})
    assert split_as_of(["run", "--vars", "{as_of: 2025-01-14}"]) == (["run"], {AS_OF_ENV: "2025-01-14"})
    # No as_of: the variable is set empty, so a value in the caller's environment cannot leak in.
    assert split_as_of(["run", "--vars", '{"x": 1}']) == (["run", "--vars", '{"x": 1}'], {AS_OF_ENV: ""})
    assert split_as_of(["parse"]) == (["parse"], {AS_OF_ENV: ""})


def test_static_docs_are_generated_once_per_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "target"
    target.mkdir()
    manifest = target / "manifest.json"
    manifest.write_text('{"v": 1}', encoding="utf-8")
    future = project.project_files_newest_mtime() + 3600  # fresh: no parse
    os.utime(manifest, (future, future))
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    calls = tmp_path / "calls"
    # A dbt that counts its calls and writes the page into the --target-path it was given.
    exe = _fake_dbt(
        tmp_path,
        'while [ $# -gt 0 ]; do [ "$1" = "--target-path" ] && t="$2"; shift; done\n'
        f'echo called >> "{calls}"\n'
        f'echo "<html>docs $(wc -l < "{calls}")</html>" > "$t/static_index.html"\n',
    )
    monkeypatch.setattr(project, "dbt_executable", lambda: exe)

    first = project.write_static_docs(tmp_path / "a.html", data_dir=tmp_path / "data")
    second = project.write_static_docs(tmp_path / "b.html", data_dir=tmp_path / "data")
    assert calls.read_text(encoding="utf-8").count("called") == 1  # the second publish copied the page
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8") == "<html>docs 1</html>\n"

    manifest.write_text('{"v": 2}', encoding="utf-8")  # the project changed: dbt writes the page again
    os.utime(manifest, (future, future))
    third = project.write_static_docs(tmp_path / "c.html", data_dir=tmp_path / "data")
    assert calls.read_text(encoding="utf-8").count("called") == 2
    assert third.read_text(encoding="utf-8") == "<html>docs 2</html>\n"
    assert len(list((target / "static_docs").glob("*.html"))) == 1  # the old manifest's page is gone
