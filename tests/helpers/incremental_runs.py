"""Shared by the incremental-model tests: hand-made native exports (POS CSV, WeChat Pay bill with its
summary block), loading the landing folder, and ``dbt run`` / ``dbt test`` (through
``transform.dbt.run_dbt``) on the test's data dir ($REPURCHASE_DATA_DIR)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from core.paths import DataPaths
from ingestion.loader import load_landing
from transform.dbt import EXCLUDED_RESOURCE_TYPES, run_dbt

POS_HEADER = "单据号,单据类型,原单据号,门店编码,门店名称,收银员,销售时间,会员卡号,会员手机,商品编码,商品名称,数量,单价,折扣金额,实收金额,支付方式"
WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
WECHAT_SUMMARY_HEADER = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)


def write_pos(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join([POS_HEADER, *lines]) + "\n", encoding="utf-8")


def write_wechat(path: Path, bill: tuple[list[str], list[str]]) -> None:
    """A WeChat Pay bill: its detail lines (fields) and the summary block, every value `-prefixed."""
    detail, summary = bill
    lines = [WECHAT_HEADER, ",".join(f"`{v}" for v in detail), WECHAT_SUMMARY_HEADER,
             ",".join(f"`{v}" for v in summary)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def deliver_day_2(
    data_dir: DataPaths,
    held_back: list[tuple[Path, Path]],
    pos_lines: list[str],
    bill: tuple[list[str], list[str]],
) -> set[str]:
    """Day 2: the held-back exports (held, landing) go back to landing beside a hand-made POS export and
    WeChat Pay bill; returns the new files' raw `_file_name`s."""
    for held, landing in held_back:
        shutil.move(held, landing)
    write_pos(data_dir.landing / "pos" / "pos_handmade_day2.csv", pos_lines)
    write_wechat(data_dir.landing / "wechat_pay" / "wechatpay_bill_handmade_day2.csv", bill)
    new_files = {f"{landing.parent.name}/{landing.name}" for _, landing in held_back}
    return new_files | {"pos/pos_handmade_day2.csv", "wechat_pay/wechatpay_bill_handmade_day2.csv"}


def load_raw(paths: DataPaths, *, expect_handmade: bool = False) -> None:
    """Load the landing folder; the hand-made exports (names containing 'handmade') must load whole (no
    rejected file, no quarantined row) and, with ``expect_handmade``, be there."""
    con = duckdb.connect(str(paths.warehouse))
    try:
        reports = load_landing(con, paths.landing)
    finally:
        con.close()
    handmade = [
        f for r in reports for f in r.files if "handmade" in f.file_name and f.status != "already_loaded"
    ]
    assert not expect_handmade or handmade
    assert all(f.status == "loaded" and f.rows_quarantined == 0 for f in handmade), [
        f.message for f in handmade
    ]


def dbt_run(*args: str, succeeds: bool = True) -> str:
    """``dbt run <args>`` on the project; asserts it succeeds (or fails, with ``succeeds=False``)."""
    run = run_dbt(["run", *args], check=False)
    assert run.success == succeeds, run.output[-4000:]
    return run.output


def dbt_test(*args: str) -> None:
    """``dbt test <args>`` (data tests only, as the pipeline runs them); asserts every test passes."""
    excluded = [arg for kind in EXCLUDED_RESOURCE_TYPES for arg in ("--exclude-resource-type", kind)]
    run = run_dbt(["test", *excluded, *args], check=False)
    assert run.success, "\n".join(run.failures()) or run.output[-4000:]
