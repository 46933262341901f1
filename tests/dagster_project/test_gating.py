"""A failed gate stops everything downstream: defects injected into a generated demo, the whole job run
in-process, and the run's event log shows no mart (nor export, nor serving copy) materialized while the
serving copy of the previous good run stays current.

The baseline is the session's ``refreshed_demo`` (tests/helpers/refreshed_demo.py: a 200-person demo run
cleanly once: marts built, serving published); each test copies that data directory, lands one defective
export and runs ``refresh_all`` again on the copy (in an in-memory Dagster instance). Defects arrive as
files, the way a merchant would send them:

(a) a Tmall file with the same order id twice (different contents) — the raw suite's one-row-per-order-
    per-file rule fails (staging would silently keep one of the two);
(a') a WeChat Pay bill line without 商户订单号, run through the pipeline *without* the raw gates — dbt's
    error-severity ``not_null`` test on ``stg_wechat_pay__transactions.out_trade_no`` (the line key's
    not-null: the key is null exactly when 商户订单号 is) fails the dbt step, and dbt skips everything downstream of it (defence in depth: the dbt tests block on their own);
(b) a WeChat Pay bill line with no payer (用户标识 empty) — a null customer key: the raw suite's
    ``not null openid`` fails;
(c) a Tmall file whose 订单编号 column is renamed — the file is rejected; a rejected file still in landing
    fails the gate (the marts would silently miss its orders);
(d) a Tmall file whose 买家实际支付金额 is text — every row is quarantined (unreadable money), and a file
    that quarantines more than half its rows blocks the raw gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterEventType, Definitions

from core.paths import DATA_DIR_ENV, DataPaths
from tests.helpers.refreshed_demo import RefreshedDemo, copy_data_dir, ephemeral_instance

pytestmark = pytest.mark.e2e

DOWNSTREAM_SCHEMAS = {"marts", "exports", "serving"}
TMALL_HEADER = (
    "订单编号,买家会员名,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,买家留言,收货人姓名,"
    "收货地址,联系手机,订单创建时间,订单付款时间,宝贝标题,宝贝总数量,店铺名称,退款金额,订单关闭原因"
)
WECHAT_PAY_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def _tmall_row(order_id: str, paid: str, *, nick: str = "gate_test_buyer") -> str:
    return (
        f"{order_id},{nick},{paid},0,{paid},{paid},交易成功,,王测试,上海 上海市 浦东新区 测试路1号,"
        f"138****5678,2026-10-30 10:00:00,2026-10-30 10:05:00,测试商品,1,沐光官方旗舰店,0,"
    )


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _wechat_pay_bill(*, out_trade_no: str, openid: str) -> list[str]:
    """A one-payment bill (100.00 paid, fee 0.60) whose summary line reconciles with its detail line."""
    cells = [
        "2026-10-31 23:10:00", "wx8a3c5f2e1b7d9046", "1900012345", "0", "", "4200099999202610319999999999",
        out_trade_no, openid, "JSAPI", "SUCCESS", "CMB_DEBIT", "CNY", "100.00", "0.00", "", "", "0.00",
        "0.00", "", "", "测试商品", "", "0.60", "0.60%", "100.00", "0.00", "",
    ]  # fmt: skip
    summary_header = (
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    )
    return [
        WECHAT_PAY_HEADER,
        ",".join(f"`{cell}" for cell in cells),
        summary_header,
        "`1,`100.00,`0.00,`0.00,`0.60,`100.00,`0.00",
    ]


@dataclass
class GatedRun:
    success: bool
    materialized: set[AssetKey]
    checks: dict[tuple[str, str], tuple[bool, str, dict]]  # (asset, check) -> (passed, severity, metadata)
    failed_steps: dict[str, str]
    paths: DataPaths


@pytest.fixture(scope="module")
def baseline(refreshed_demo: RefreshedDemo) -> RefreshedDemo:
    """The clean run every defect starts from: it succeeded, passed every check and published."""
    assert refreshed_demo.outcome.success, refreshed_demo.outcome.failed_steps
    assert not refreshed_demo.outcome.checks_failed, refreshed_demo.outcome.checks_failed
    assert refreshed_demo.serving_version is not None
    return refreshed_demo


@pytest.fixture
def copy(baseline: RefreshedDemo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    paths = copy_data_dir(baseline, tmp_path / "data")
    monkeypatch.setenv(DATA_DIR_ENV, str(paths.root))
    return paths


def _run(
    paths: DataPaths, tmp_path: Path, defs: Definitions | None = None, selection: AssetSelection | None = None
) -> GatedRun:
    """Run ``refresh_all`` (of ``defs``, default the project's; all of it, or the assets of ``selection``
    with their checks) the way the CLI does."""
    from dagster_project import runner

    with ephemeral_instance() as instance:
        outcome = runner.run_refresh_all(instance, out=lambda _line: None, selection=selection, defs=defs)
        materialized = set()
        checks = {}
        for record in instance.get_records_for_run(outcome.run_id).records:
            event = record.event_log_entry.dagster_event
            if event is None:
                continue
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                materialized.add(event.asset_key)
            elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                metadata = {key: getattr(value, "value", value) for key, value in evaluation.metadata.items()}
                checks[(evaluation.asset_key.to_user_string(), evaluation.check_name)] = (
                    evaluation.passed,
                    evaluation.severity.value,
                    metadata,
                )
    return GatedRun(outcome.success, materialized, checks, outcome.failed_steps, paths)


def _assert_nothing_downstream(run: GatedRun, baseline: RefreshedDemo) -> None:
    from serving.publish import current_version, list_versions

    assert not run.success
    downstream = sorted(k.to_user_string() for k in run.materialized if k.path[0] in DOWNSTREAM_SCHEMAS)
    assert downstream == []
    # The serving copy BI tools read is still the baseline's.
    assert current_version(run.paths.serving) == baseline.serving_version
    assert list_versions(run.paths.serving) == baseline.serving_versions


def _assert_gx_blocked(run: GatedRun, source: str) -> dict:
    passed, severity, metadata = run.checks[(f"raw/{source}", f"gx_raw__{source}")]
    assert (passed, severity) == (False, "ERROR")
    # The raw table itself was loaded; nothing of dbt ran after the blocking check failed.
    assert AssetKey(["raw", source]) in run.materialized
    assert [k for k in run.materialized if k.path[0] not in ("raw",)] == []
    assert any(step.startswith(f"raw__{source}_gx_raw__{source}") for step in run.failed_steps), (
        run.failed_steps
    )
    return metadata


def test_duplicate_order_id_in_one_file_is_quarantined_and_the_run_goes_on(
    copy: DataPaths, baseline: RefreshedDemo, tmp_path: Path
) -> None:
    """One order twice with different amounts is a row problem, not a stop: both copies are quarantined
    with a reason naming both rows, the file's other orders load, and the marts and serving copy refresh.

    The run is the part of ``refresh_all`` that shows it: ``fct_orders`` and ``dim_customers`` (whose
    relationship tests the identity models have) with everything upstream of them (every source's load and
    raw gate, the dbt models and their tests) and the serving copy."""
    from serving.publish import current_version

    name = "tmall_orders_2026-10-30_extra.csv"
    _write(
        copy.landing / "tmall" / name,
        [
            TMALL_HEADER,
            _tmall_row("9900000000000000001", "199.00"),
            _tmall_row("9900000000000000001", "299.00"),
            *(_tmall_row(f"99000000000000000{n:02d}", "50.00") for n in range(2, 7)),
        ],
    )
    fct_orders, dim_customers = AssetKey(["marts", "fct_orders"]), AssetKey(["marts", "dim_customers"])
    selection = AssetSelection.assets(fct_orders, dim_customers).upstream() | AssetSelection.assets(
        AssetKey(["serving", "marts"])
    )
    run = _run(copy, tmp_path, selection=selection)
    assert run.success, run.failed_steps
    passed, _severity, _metadata = run.checks[("raw/tmall", "gx_raw__tmall")]
    assert passed
    assert {fct_orders, AssetKey(["serving", "marts"])} <= run.materialized
    assert AssetKey(["marts", "kpi_monthly"]) not in run.materialized  # outside the selection: not run
    assert current_version(run.paths.serving) != baseline.serving_version  # a new version was published
    con = duckdb.connect(str(copy.warehouse), read_only=True)
    try:
        reasons = con.execute(
            "select row_number, reason from raw._quarantine where file_name = ? order by row_number",
            [f"tmall/{name}"],
        ).fetchall()
        loaded = con.execute("select count(*) from raw.tmall where _file_name = ?", [f"tmall/{name}"]).fetchone()
        orders = con.execute(
            "select order_key, net_amount from marts.fct_orders where order_key like 'tmall:99000000000000000%'"
            " order by order_key"
        ).fetchall()
    finally:
        con.close()
    assert [row for row, _reason in reasons] == [2, 3]
    assert all("rows 2, 3" in reason for _row, reason in reasons), reasons
    assert loaded == (5,)
    # The five clean orders reached the marts; neither copy of the duplicated one did.
    assert orders == [(f"tmall:99000000000000000{n:02d}", 50) for n in range(2, 7)]


def test_failed_dbt_key_test_stops_the_marts_without_raw_gates(
    copy: DataPaths, baseline: RefreshedDemo, tmp_path: Path
) -> None:
    from dagster_project import definitions

    name = "wechatpay_bill_1900012345_2026-10-31_no_trade_no.csv"
    _write(
        copy.landing / "wechat_pay" / name,
        _wechat_pay_bill(out_trade_no="", openid="oXk3GateTestOpenid000001"),
    )
    without_gates = Definitions(
        assets=definitions.all_assets,
        jobs=[definitions.refresh_all_job],
        resources=definitions.defs.resources,
        executor=definitions.defs.executor,
    )
    run = _run(copy, tmp_path, defs=without_gates)
    _assert_nothing_downstream(run, baseline)
    assert not any(check.startswith("gx_") for _, check in run.checks)
    passed, severity, _ = run.checks[
        ("staging/stg_wechat_pay__transactions", "not_null_stg_wechat_pay__transactions_out_trade_no")
    ]
    assert (passed, severity) == (False, "ERROR")
    assert "dbt_models" in run.failed_steps
    # dbt built the view under test, then skipped everything downstream of the failed test.
    staged = AssetKey(["staging", "stg_wechat_pay__transactions"])
    below = AssetSelection.assets(staged).downstream().resolve(without_gates.resolve_asset_graph())
    assert AssetKey(["marts", "fct_orders"]) in below
    assert (below - {staged}) & run.materialized == set()
    assert staged in run.materialized


def test_null_customer_key_fails_the_raw_gate(copy: DataPaths, baseline: RefreshedDemo, tmp_path: Path) -> None:
    name = "wechatpay_bill_1900012345_2026-10-31_extra.csv"
    _write(
        copy.landing / "wechat_pay" / name, _wechat_pay_bill(out_trade_no="MG202610319999999999", openid="")
    )
    run = _run(copy, tmp_path)
    _assert_nothing_downstream(run, baseline)
    metadata = _assert_gx_blocked(run, "wechat_pay")
    assert "| critical | expect_column_values_to_not_be_null | openid |" in metadata["failed expectations"]
    assert f"wechat_pay/{name} row 2: null" in metadata["failed expectations"]


def test_rejected_file_blocks_the_marts(copy: DataPaths, baseline: RefreshedDemo, tmp_path: Path) -> None:
    header = TMALL_HEADER.replace("订单编号", "订单识别码")
    name = "tmall_orders_2026-10-30_renamed.csv"
    _write(copy.landing / "tmall" / name, [header, _tmall_row("9900000000000000002", "88.00")])
    run = _run(copy, tmp_path)
    _assert_nothing_downstream(run, baseline)
    metadata = _assert_gx_blocked(run, "tmall")
    assert metadata["expectations failed"] == 0  # the table is fine: the file never reached it
    assert f"tmall/{name}" in metadata["rejected files in landing"]
    assert "1 rejected file(s) still in landing/tmall/" in metadata["blocking problems"]
    # The ingestion asset's own (non-blocking) check says the same.
    assert run.checks[("raw/tmall", "no_rejected_files")][:2] == (False, "WARN")
    with duckdb.connect(str(copy.warehouse), read_only=True) as con:
        [(status,)] = con.execute(
            "select status from raw._files where file_name = ?", [f"tmall/{name}"]
        ).fetchall()
    assert status == "rejected"


def test_money_of_text_fails_the_raw_gate(copy: DataPaths, baseline: RefreshedDemo, tmp_path: Path) -> None:
    name = "tmall_orders_2026-10-30_text_money.csv"
    rows = [_tmall_row("9900000000000000003", "99.00"), _tmall_row("9900000000000000004", "59.00", nick="b2")]
    rows = [
        row.replace(",99.00,交易成功", ",待确认,交易成功").replace(",59.00,交易成功", ",待确认,交易成功")
        for row in rows
    ]
    _write(copy.landing / "tmall" / name, [TMALL_HEADER, *rows])
    run = _run(copy, tmp_path)
    _assert_nothing_downstream(run, baseline)
    metadata = _assert_gx_blocked(run, "tmall")
    problems = metadata["blocking problems"]
    assert f"tmall/{name}: 2 of 2 rows quarantined" in problems
    assert "quarantined 2 (买家实际支付金额: unparseable money ×2)" in problems
