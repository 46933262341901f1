"""The blocking asset check ``gx_raw__<source>`` in-process on tiny hand-written files (touches, tmall,
wechat_members), and ``repurchase gx-docs``. Freshness is judged on when files arrived: a test makes a
file old by moving its ``raw._files.loaded_at`` back, or by naming it with an old export time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from dagster import AssetCheckSeverity, materialize

from core.paths import DataPaths
from dagster_project.assets.ingestion import build_ingestion_asset
from dagster_project.assets.raw_gates import build_raw_gate, gate_check_name
from dagster_project.resources import WarehouseResource

HEADER = "campaign_id,campaign_name,channel,variant,recipient_type,recipient,event_type,event_time\n"
# 4 good rows; newest event 2026-10-03 09:00.
GOOD = HEADER + (
    "C1,双十一,sms,A,phone,13812345678,sent,2026-10-01 10:00:00\n"
    "C1,双十一,sms,A,phone,13812345678,delivered,2026-10-01 10:00:05\n"
    "C1,双十一,sms,B,phone,13912345678,sent,2026-10-02 10:00:00\n"
    "C1,双十一,wecom,A,openid,oABC,clicked,2026-10-03 09:00:00\n"
)
# A channel no touch platform of the merchant has (the adapter keeps it, noted in _extra).
BAD_CHANNEL = HEADER + "C2,周年庆,fax,A,phone,13812345678,sent,2026-10-03 10:00:00\n"
# No event_time column at all: the whole file is rejected.
NO_TIME = "campaign_id,channel,recipient_type,recipient,event_type\nC3,sms,phone,13812345678,sent\n"
# Two Tmall orders (the required columns only).
TMALL = (
    "订单编号,买家会员名,总金额,买家实际支付金额,订单状态,订单创建时间\n"
    "9900000000000000001,t**1,99.00,99.00,交易成功,2026-10-30 10:00:00\n"
    "9900000000000000002,b2,59.00,59.00,交易成功,2026-10-31 11:00:00\n"
)
# A member list whose newest registration is over a year old.
MEMBERS = (
    "openid,手机号,注册时间,关注状态\n"
    "oA1,13812345678,2025-11-01 10:00:00,关注\n"
    "oA2,,2025-10-01 09:00:00,关注\n"
)


def _write(paths: DataPaths, name: str, text: str, source: str = "touches") -> None:
    path = paths.landing_for(source) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _gate(paths: DataPaths, source: str = "touches", **config):
    check = gate_check_name(source)
    result = materialize(
        [build_ingestion_asset(source), build_raw_gate(source)],
        resources={"warehouse": WarehouseResource(data_dir=str(paths.root))},
        run_config={"ops": {f"raw__{source}_{check}": {"config": config}}} if config else None,
        raise_on_error=False,
    )
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == check]
    metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
    return result, evaluation, metadata


def _arrived_days_ago(paths: DataPaths, file_name: str, days: float) -> None:
    """Move a loaded file's arrival (raw._files.loaded_at) ``days`` back."""
    with duckdb.connect(str(paths.warehouse)) as con:
        con.execute(
            "update raw._files set loaded_at = loaded_at - to_milliseconds(?) where file_name = ?",
            [int(days * 86_400_000), file_name],
        )


def test_clean_file_passes(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    result, evaluation, metadata = _gate(data_dir)
    assert result.success and evaluation.passed
    assert metadata["table rows"] == metadata["manifest rows loaded"] == metadata["validated rows"] == 4
    assert metadata["sampled"] is False
    assert metadata["freshness verdict"] == "fresh"
    row = metadata["freshness"].splitlines()[2]
    assert (
        "| touches/touches_good.csv | loaded_at (when the loader first saw it) | 0.0 | 30 days | off "
        "| fresh |"
        in row
    )
    # The newest business event is information only (2026-10-03 is months old, the file arrived now).
    assert metadata["newest event_time (information)"] == "2026-10-03 09:00:00"
    assert metadata["expectations failed"] == 0
    assert metadata["blocking problems"] == metadata["warnings"] == "none"


def test_failed_gate_fails_the_step_and_names_the_row_and_the_remedy(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    _write(data_dir, "touches_bad_channel.csv", BAD_CHANNEL)
    result, evaluation, metadata = _gate(data_dir)
    assert not result.success  # the blocking check failed its step
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.ERROR)
    assert "touches/touches_bad_channel.csv row 2: 'fax'" in metadata["failed expectations"]
    [problem] = metadata["blocking problems"].splitlines()
    assert problem.startswith("- expect_column_values_to_be_in_set on channel: 1 of 5 rows fail")
    assert "first failing rows: touches/touches_bad_channel.csv row 2: 'fax'" in problem
    assert problem.endswith(
        "Remedy: correct the export and replace landing/touches/touches_bad_channel.csv with it, or set the "
        'file aside: `repurchase set-aside touches/touches_bad_channel.csv --reason "<why>"`; then '
        "`repurchase run`"
    )


def test_rejected_file_in_landing_blocks_until_removed(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    _write(data_dir, "touches_no_time.csv", NO_TIME)
    result, evaluation, metadata = _gate(data_dir)
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.ERROR)
    assert metadata["expectations failed"] == 0
    assert metadata["rejected files in landing"].startswith("- touches/touches_no_time.csv: ")
    [problem] = metadata["blocking problems"].splitlines()
    assert problem.startswith(
        "- 1 rejected file(s) still in landing/touches/ (nothing of them reached raw.touches): "
        "touches/touches_no_time.csv: "
    )
    assert problem.endswith(
        'or set the file aside: `repurchase set-aside touches/touches_no_time.csv --reason "<why>"`; then '
        "`repurchase run`"
    )
    # Removing the broken export lets the next run through.
    (data_dir.landing_for("touches") / "touches_no_time.csv").unlink()
    result, evaluation, _ = _gate(data_dir)
    assert result.success and evaluation.passed


def test_sampled_table_checks_the_row_count_exactly(data_dir: DataPaths) -> None:
    _write(data_dir, "touches_good.csv", GOOD)
    _, evaluation, metadata = _gate(data_dir, max_rows=2)
    assert evaluation.passed
    assert (metadata["sampled"], metadata["validated rows"], metadata["table rows"]) == (True, 2, 4)
    with duckdb.connect(str(data_dir.warehouse)) as con:  # a row deleted behind the loader's back
        con.execute("delete from raw.touches where _row_number = 5")
    _, evaluation, metadata = _gate(data_dir, max_rows=2)
    assert not evaluation.passed
    assert "raw.touches has 3 rows, the manifest says 4 loaded" in metadata["blocking problems"]


def test_empty_source_passes(data_dir: DataPaths) -> None:
    _, evaluation, metadata = _gate(data_dir)
    assert evaluation.passed and metadata["table rows"] == 0
    assert metadata["freshness verdict"] == "no file loaded yet"


# ------------------------------------------------------------------------------------- freshness
def test_member_export_with_year_old_registrations_arriving_today_passes(data_dir: DataPaths) -> None:
    _write(data_dir, "members.csv", MEMBERS, source="wechat_members")
    result, evaluation, metadata = _gate(data_dir, "wechat_members")
    assert result.success and evaluation.passed
    assert metadata["freshness verdict"] == "fresh"
    assert metadata["newest registered_at (information)"] == "2025-11-01 10:00:00"


def test_source_whose_last_file_arrived_40_days_ago_blocks(data_dir: DataPaths) -> None:
    _write(data_dir, "tmall_2026-10.csv", TMALL, source="tmall")
    result, evaluation, _ = _gate(data_dir, "tmall")
    assert result.success and evaluation.passed
    _arrived_days_ago(data_dir, "tmall/tmall_2026-10.csv", 40)
    result, evaluation, metadata = _gate(data_dir, "tmall")
    assert not result.success
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.ERROR)
    assert metadata["freshness verdict"] == "error"
    [problem] = metadata["blocking problems"].splitlines()
    assert problem.startswith(
        "- tmall: no new file for 40.0 days: the newest, tmall/tmall_2026-10.csv, arrived "
    )
    assert "more than error_after_days = 35 (core/sources.py)" in problem
    assert problem.endswith(
        "Remedy: drop a fresh tmall export into landing/tmall/, then run `repurchase run`"
    )
    assert (
        "| tmall/tmall_2026-10.csv | loaded_at (when the loader first saw it) | 40.0 | 3 days | 35 days "
        "| error |"
        in (metadata["freshness"])
    )


def test_three_and_a_half_days_only_warn(data_dir: DataPaths) -> None:
    _write(data_dir, "tmall_2026-11.csv", TMALL, source="tmall")
    _gate(data_dir, "tmall")
    _arrived_days_ago(data_dir, "tmall/tmall_2026-11.csv", 3.5)  # warn after 3, error after 35
    result, evaluation, metadata = _gate(data_dir, "tmall")
    assert result.success  # a warning does not block
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.WARN)
    assert metadata["blocking problems"] == "none"
    assert "tmall: no new file for 3.5 days" in metadata["warnings"]
    assert "a warning only; it blocks after 35 days" in metadata["warnings"]


def test_export_time_in_the_file_name_is_used(data_dir: DataPaths) -> None:
    # Exported 40 days ago (Beijing time in the name), dropped into landing just now.
    exported = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=8) - dt.timedelta(days=40)
    name = f"ExportOrderList{exported:%Y%m%d%H%M%S}.csv"
    _write(data_dir, name, TMALL, source="tmall")
    result, evaluation, metadata = _gate(data_dir, "tmall")
    assert not result.success and evaluation.severity == AssetCheckSeverity.ERROR
    assert f"| tmall/{name} | export time in the file name | 40.0 |" in metadata["freshness"]
    assert f"the newest, tmall/{name}, arrived" in metadata["blocking problems"]


def test_far_future_row_in_pos_changes_nothing_for_tmall(data_dir: DataPaths) -> None:
    _write(data_dir, "tmall_2026-11.csv", TMALL, source="tmall")
    _, _, before = _gate(data_dir, "tmall")
    with duckdb.connect(str(data_dir.warehouse)) as con:  # a POS sale dated 2099 (hand-made raw row)
        con.execute(
            "insert into raw.pos (receipt_no, receipt_type, store_code, sold_at, sku_code, quantity, "
            "paid_amount, _file_sha256, _file_name, _row_number, _loaded_at) values ('R9', '销售', 'S1', "
            "'2099-01-01 10:00:00', 'K1', 1, 10, 'p', 'pos/pos_2099.csv', 2, now()::timestamp)"
        )
        con.execute(
            "insert into raw._files (source, file_name, sha256, rows_in, rows_loaded, rows_quarantined, "
            "status, message, loaded_at) values ('pos', 'pos/pos_2099.csv', 'p', 1, 1, 0, 'loaded', '', "
            "now()::timestamp)"
        )
    result, evaluation, after = _gate(data_dir, "tmall")
    assert result.success and evaluation.passed
    assert after["freshness verdict"] == before["freshness verdict"] == "fresh"


def test_gx_docs_command_builds_the_site(data_dir: DataPaths, capsys) -> None:
    from dagster_project.cli import main

    assert main(["gx-docs"]) == 0
    index = data_dir.root / "gx" / "data_docs" / "index.html"
    assert index.is_file()
    assert str(index) in capsys.readouterr().out
    assert Path(index.parent / "expectations" / "raw__pos.html").is_file()


def test_old_validation_results_are_pruned(data_dir: DataPaths, monkeypatch) -> None:
    from quality import context as gx_context

    _write(data_dir, "touches_good.csv", GOOD)
    monkeypatch.setattr(gx_context, "KEEP_VALIDATION_RUNS", 2)
    suite_dir = gx_context.runtime_dir(data_dir) / "validations" / "raw__touches"
    runs = []
    for _ in range(3):
        _gate(data_dir)
        runs.append({p.name for p in suite_dir.glob("*/*") if p.is_dir()})
    assert [len(r) for r in runs] == [1, 2, 2]
    oldest = min(runs[1])
    assert oldest not in runs[2] and max(runs[1]) in runs[2]  # the oldest run went, the newer stayed
