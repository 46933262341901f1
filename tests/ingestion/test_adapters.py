"""Adapters: native exports (tiny, hand-written) → canonical frame + quarantine with reasons."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ingestion.adapters import get_adapter
from ingestion.errors import FileRejected
from ingestion.schemas import CANONICAL, LINEAGE


def parse(source: str, path: Path):
    return get_adapter(source).parse(path, relative_name=f"{source}/{path.name}")


def columns_of(source: str) -> list[str]:
    return [*CANONICAL[source], *[c for c in LINEAGE if c != "_loaded_at"]]


# ---------------------------------------------------------------------------------------------- pos
POS_GBK = (
    "销售明细报表\n"  # 1
    "导出日期：2025-03-02\n"  # 2
    "单据号,单据类型,原单据号,门店编码,门店名称,收银员,销售时间,会员卡号,会员手机,商品编码,商品名称,数量,单价,折扣金额,实收金额,支付方式,备注\n"  # 3
    '="202503010001",销售,,="0012",徐汇店,张三,2025/3/1 12:00,VIP001,+86 138 1234 5678,SKU1,洗发水,2,"￥1,299.00",0,"￥2,598.00",微信,\n'  # 4
    "\t202503010002,退货,202503010001,0012,徐汇店,张三,2025年3月2日 09:30,,,SKU1,洗发水,-1,1299,0,(1299.00),现金,顾客退货\n"  # 5
    "1.23457E+18,销售,,0012,徐汇店,李四,2025-03-02 10:00:00,,13800000000,SKU2,毛巾,1,１２．５,0,１２．５０,支付宝,\n"  # 6
    "'202503010004,销售,,0012,徐汇店,李四,not a time,,138****5678,SKU2,毛巾,1,12.5,0,12.5,支付宝,\n"  # 7
    "202503010005,销售,,0012,徐汇店,李四,2025-03-02T11:00:00,,138-1234-9999,SKU3,牙刷,3,5,1.5,13.5元,储值卡,\n"  # 8
    "202503010006,销售,,0012,徐汇店,李四,2025-03-02 11:05,,021-5555,SKU3,牙刷,1,5,0,abc,现金,\n"  # 9
    "合计,,,,,,,,,,,8,,,,,\n"  # 10
    "\n"  # 11
)


def test_pos_gbk_export(tmp_path: Path) -> None:
    path = tmp_path / "pos_2025-03.csv"
    path.write_bytes(POS_GBK.encode("gbk"))
    res = parse("pos", path)
    f = res.frame
    assert list(f.columns) == columns_of("pos")
    assert res.rows_in == 6 and len(f) == 3 and len(res.rejects) == 3
    assert f["receipt_no"].tolist() == ["202503010001", "202503010002", "202503010005"]
    assert f["_row_number"].tolist() == [4, 5, 8]
    assert f["store_code"].tolist() == ["0012", "0012", "0012"]  # leading zeros kept
    assert f["receipt_type"].tolist() == ["销售", "退货", "销售"]
    assert f["original_receipt_no"].tolist()[1] == "202503010001"
    assert f["sold_at"].tolist() == [pd.Timestamp("2025-03-01 12:00"), pd.Timestamp("2025-03-02 09:30"),
                                     pd.Timestamp("2025-03-02 11:00")]
    assert f["paid_amount"].tolist() == [2598.00, -1299.00, 13.50]
    assert f["unit_price"].tolist() == [1299.00, 1299.00, 5.00]
    assert f["quantity"].tolist() == [2.0, -1.0, 3.0]
    assert f["phone"].tolist()[0] == "13812345678"
    assert pd.isna(f["phone"].iloc[1]) and pd.isna(f["phone_issue"].iloc[1])  # walk-in: empty, no issue
    assert f["phone"].iloc[2] == "13812349999"
    assert f["_file_name"].iloc[0] == "pos/pos_2025-03.csv"
    assert json.loads(f["_extra"].iloc[1]) == {"备注": "顾客退货"}
    assert pd.isna(f["_extra"].iloc[0])

    rejects = res.rejects.set_index("row_number")
    assert rejects.loc[6, "reason"] == "单据号: id destroyed by Excel (1.23457E+18), cannot be repaired"
    assert rejects.loc[7, "reason"] == "销售时间: unparseable time (not a time)"
    assert rejects.loc[9, "reason"] == "实收金额: unparseable money (abc)"
    raw = json.loads(rejects.loc[6, "raw_row"])
    assert raw["单据号"] == "1.23457E+18" and raw["会员手机"] == "13800000000" and raw["备注"] == ""


def test_big_files_parsed_in_row_chunks_give_the_same_result(tmp_path: Path) -> None:
    """Row chunks normalised in parallel (for speed at 1M lines) must give exactly the one-pass result:
    same rows in the same order, same quarantine rows and reasons, same row numbers."""
    path = tmp_path / "pos_2025-03.csv"
    path.write_bytes(POS_GBK.encode("gbk"))
    whole = parse("pos", path)
    chunked_adapter = type(get_adapter("pos"))()  # a fresh instance: the shared one stays untouched
    chunked_adapter.chunk_rows = 2  # 6 data rows → 3 chunks
    chunked = chunked_adapter.parse(path, relative_name="pos/pos_2025-03.csv")
    assert chunked.rows_in == whole.rows_in == 6
    pd.testing.assert_frame_equal(
        chunked.frame.astype(object).reset_index(drop=True), whole.frame.astype(object).reset_index(drop=True)
    )
    assert chunked.rejects["row_number"].tolist() == [6, 7, 9]
    assert chunked.rejects["reason"].tolist() == whole.rejects["reason"].tolist()
    assert chunked.notes == whole.notes


def test_pos_alias_headers_and_xlsx_dates(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["小票号", "交易时间", "收款金额", "手机号", "数量"])
    ws.append(["R1", dt.datetime(2025, 3, 1, 8, 15), 99.9, "13912345678", 1])
    ws.append(["R2", 45717.75, "1,000.00", "13888888888", 2])
    path = tmp_path / "pos.xls"  # an xlsx with the old extension
    wb.save(path)
    res = parse("pos", path)
    f = res.frame
    assert f["receipt_no"].tolist() == ["R1", "R2"]
    assert f["sold_at"].tolist() == [pd.Timestamp("2025-03-01 08:15"), pd.Timestamp("2025-03-01 18:00")]
    assert f["paid_amount"].tolist() == [99.9, 1000.0]
    assert f["phone"].iloc[0] == "13912345678"
    assert pd.isna(f["phone"].iloc[1]) and f["phone_issue"].iloc[1] == "placeholder"
    assert json.loads(f["_extra"].iloc[1]) == {"_issues": ["手机号: placeholder (13888888888)"]}
    assert f["_row_number"].tolist() == [2, 3]


POS_HTML_XLS = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<style>td {mso-number-format:"\\@";}</style></head><body>
<table border="1">
<tr><td colspan="5">销售明细报表</td></tr>
<tr><th>单据号</th><th>销售时间</th><th>实收金额</th><th>会员手机号</th><th>备注</th></tr>
<tr><td>202503010001</td><td>2025-03-01 10:00:00</td><td>1,299.00</td><td>13812345678</td><td>A &amp; B<br>第二行</td></tr>
<tr>
  <td>
    202503010002
  </td><td>2025/3/1 下午 3:05</td><td>&yen;12.50</td><td>&nbsp;</td><td></td></tr>
<tr><td>合计</td><td></td><td>1311.50</td><td></td><td></td></tr>
</table></body></html>
"""


FIXTURES = Path(__file__).parent / "fixtures" / "exports"


def test_pos_legacy_excel_97_2003_xls() -> None:
    """An Excel 97-2003 (BIFF8) .xls, as older POS and ERP systems export: read like an xlsx (title row,
    a date cell, a number cell for the phone, a 12-hour text time, a total row). The fixture (5.6 KB) was
    written once with xlwt 1.3.0, which is not a dependency: sheet 销售明细, row 1 销售明细报表, row 2 the
    header 单据号 销售时间 实收金额 会员手机号 数量, row 3 "202503010001", the date 2025-03-01 15:05:07,
    1299.0, the number 13812345678, 2; row 4 "202503010002", "2025/3/1 下午 3:06", "¥12.50",
    "138 1234 5679", 1; row 5 合计 with 1311.5 under 实收金额."""
    res = parse("pos", FIXTURES / "pos_legacy_biff8.xls")
    f = res.frame
    assert f["receipt_no"].tolist() == ["202503010001", "202503010002"]
    assert f["sold_at"].tolist() == [pd.Timestamp("2025-03-01 15:05:07"), pd.Timestamp("2025-03-01 15:06:00")]
    assert f["paid_amount"].tolist() == [1299.0, 12.5]
    assert f["phone"].tolist() == ["13812345678", "13812345679"]
    assert f["quantity"].tolist() == [2.0, 1.0]
    assert f["_row_number"].tolist() == [3, 4]
    assert res.rejects.empty
    assert "total row (line 5) reconciled with the 2 lines: 实收金额 1311.50" in res.notes


POS_XML_SPREADSHEET = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="说明"><Table><Row><Cell><Data ss:Type="String">导出说明</Data></Cell></Row></Table></Worksheet>
 <Worksheet ss:Name="销售明细">
  <Table>
   <Row><Cell ss:MergeAcross="3"><Data ss:Type="String">销售明细报表</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">单据号</Data></Cell><Cell><Data ss:Type="String">销售时间</Data></Cell>
    <Cell><Data ss:Type="String">实收金额</Data></Cell><Cell><Data ss:Type="String">会员手机号</Data></Cell></Row>
   <Row><Cell><Data ss:Type="String">202503010001</Data></Cell>
    <Cell><Data ss:Type="DateTime">2025-03-01T15:05:07.000</Data></Cell>
    <Cell><Data ss:Type="Number">1299</Data></Cell><Cell><Data ss:Type="Number">13812345678</Data></Cell></Row>
   <Row ss:Index="5"><Cell><Data ss:Type="String">202503010002</Data></Cell>
    <Cell><Data ss:Type="String">2025/3/1 下午 3:06</Data></Cell>
    <Cell ss:Index="4"><Data ss:Type="String">13812345679</Data></Cell></Row>
  </Table>
 </Worksheet>
</Workbook>
"""


def test_pos_excel_2003_xml_spreadsheet_saved_as_xls(tmp_path: Path) -> None:
    """An "export to Excel" that wrote an Excel 2003 XML spreadsheet under .xls: the sheet with the header
    is read (the 说明 sheet before it skipped), MergeAcross and the row / cell ss:Index kept in place, a
    DateTime cell parsed; the row whose 实收金额 cell is missing is quarantined under its sheet row (5)."""
    path = tmp_path / "pos_2025-03.xls"
    path.write_bytes(POS_XML_SPREADSHEET.encode("utf-8"))
    res = parse("pos", path)
    f = res.frame
    assert f["receipt_no"].tolist() == ["202503010001"]
    assert f["sold_at"].tolist() == [pd.Timestamp("2025-03-01 15:05:07")]
    assert f["paid_amount"].tolist() == [1299.0] and f["phone"].tolist() == ["13812345678"]
    assert f["_row_number"].tolist() == [3]
    assert res.rejects["row_number"].tolist() == [5]
    assert res.rejects["reason"].tolist() == ["实收金额: empty"]
    assert "named .xls but is an Excel 2003 XML spreadsheet (an export to Excel writes that): read as such" in res.notes
    assert "read sheet '销售明细' (sheet 2); skipped sheet(s) '说明' (no header row)" in res.notes


def test_pos_html_table_saved_as_xls(tmp_path: Path) -> None:
    """A POS / ERP "export to Excel" that is an HTML table in GBK named .xls: read like a sheet (title row
    skipped, total row reconciled, table row numbers), with a note saying what the file really is."""
    path = tmp_path / "pos_2025-03.xls"
    path.write_bytes(POS_HTML_XLS.encode("gbk"))
    res = parse("pos", path)
    f = res.frame
    assert f["receipt_no"].tolist() == ["202503010001", "202503010002"]
    assert f["sold_at"].tolist() == [pd.Timestamp("2025-03-01 10:00:00"), pd.Timestamp("2025-03-01 15:05:00")]
    assert f["paid_amount"].tolist() == [1299.0, 12.5]
    assert f["phone"].iloc[0] == "13812345678" and pd.isna(f["phone"].iloc[1])
    assert f["_row_number"].tolist() == [3, 4]
    assert json.loads(f["_extra"].iloc[0]) == {"备注": "A & B\n第二行"}
    assert res.rejects.empty
    assert "named .xls but is an HTML table (an export to Excel writes that): read as such" in res.notes
    assert any(note.startswith("total row (line 5) reconciled") for note in res.notes), res.notes


def test_pos_excel_resaved_twelve_hour_times_and_float_phones(tmp_path: Path) -> None:
    """A POS export opened and saved again in Excel / WPS on a Chinese-locale PC: times in the locale's
    12-hour form (上午 / 下午), the phone column turned into numbers written as floats (.0)."""
    path = tmp_path / "pos_resaved.csv"
    path.write_bytes(
        (
            "单据号,销售时间,实收金额,会员手机\n"
            "A1,2025/3/1 下午 3:05:07,10,13812345678.0\n"
            "A2,2025/3/1 上午 12:30:00,10,1381234567.0\n"
            "A3,2025/3/1 上午 13:05:00,10,13912345678\n"
        ).encode("utf-8-sig")
    )
    res = parse("pos", path)
    f = res.frame
    assert f["receipt_no"].tolist() == ["A1", "A2"]
    assert f["sold_at"].tolist() == [pd.Timestamp("2025-03-01 15:05:07"), pd.Timestamp("2025-03-01 00:30:00")]
    assert f["phone"].tolist()[0] == "13812345678"
    # ten digits and a ".0" is not a phone (dropping the point would have made 13812345670)
    assert pd.isna(f["phone"].iloc[1]) and f["phone_issue"].iloc[1] == "invalid"
    assert res.rejects["reason"].tolist() == ["销售时间: unparseable time (2025/3/1 上午 13:05:00)"]


def test_pos_phone_masked_and_invalid_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(
        "单据号,销售时间,实收金额,会员手机号\nA,2025-03-01,1,138****5678\nB,2025-03-01,1,021-5555\n".encode()
    )
    f = parse("pos", path).frame
    assert f["phone_masked"].tolist() == [True, False]
    assert f["phone_issue"].tolist() == ["masked", "invalid"]
    assert f["phone"].isna().all()


def test_missing_required_column_rejects_file(tmp_path: Path) -> None:
    path = tmp_path / "pos.csv"
    path.write_bytes("单据号,销售时间,商品名称\nA,2025-03-01,x\n".encode("gbk"))
    with pytest.raises(FileRejected) as err:
        parse("pos", path)
    msg = err.value.message
    assert msg.startswith("pos/pos.csv: missing required column(s) 实收金额 (paid_amount)")
    assert "headers found (row 1): 单据号, 销售时间, 商品名称" in msg


# -------------------------------------------------------------------------------------------- tmall
def test_tmall_masked_nick_statuses_and_aliases(tmp_path: Path) -> None:
    text = (
        "订单号,买家昵称,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,联系手机,订单创建时间,订单付款时间,宝贝总数量,退款金额,OAID\n"
        "=\"3321000011112222333\",t**1,100.00,0.00,100.00,100.00,交易成功,138****0001,2025-03-01 10:00:00,2025-03-01 10:01:00,2,0.00,OA1\n"
        "3321000011112222334,buyer_b,50,10,60,60,买家已付款，等待卖家发货,,2025-03-02 10:00:00,2025-03-02 10:05:00,1,,\n"
        "3321000011112222335,buyer_c,50,0,50,,等待买家付款,,2025-03-03 10:00:00,,1,,\n"
        "3321000011112222336,buyer_d,50,0,50,50,神秘状态,,2025-03-04 10:00:00,2025-03-04 10:00:00,x,,\n"
        "3321000011112222337,buyer_e,50,0,50,50,交易成功,,,,1,,\n"
    )
    path = tmp_path / "tmall.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    res = parse("tmall", path)
    f = res.frame
    assert res.rows_in == 5 and len(f) == 4
    assert f["order_id"].tolist() == ["3321000011112222333", "3321000011112222334", "3321000011112222335",
                                      "3321000011112222336"]
    assert pd.isna(f["buyer_nick"].iloc[0]) and f["buyer_nick_masked"].tolist() == [True, False, False, False]
    assert f["buyer_nick"].iloc[1] == "buyer_b"
    assert f["phone_masked"].iloc[0] and f["phone_issue"].iloc[0] == "masked"
    assert f["order_status"].tolist()[:3] == ["交易成功", "买家已付款，等待卖家发货", "等待买家付款"]
    assert f["total_amount"].tolist() == [100.0, 60.0, 50.0, 50.0]
    assert pd.isna(f["paid_at"].iloc[2])
    assert f["oaid"].iloc[0] == "OA1"
    extra = json.loads(f["_extra"].iloc[3])
    # issues listed in canonical column order: order_status comes before item_count
    assert extra == {"_issues": ["订单状态: unknown value (神秘状态)", "宝贝总数量: unparseable number (x)"]}
    assert res.rejects["reason"].tolist() == ["订单创建时间: empty"]
    assert res.rejects["row_number"].tolist() == [6]


def test_tmall_dash_and_slash_mean_no_value(tmp_path: Path) -> None:
    """A sheet edited by hand types —— or / for "none" (no refund, not yet paid, no phone): the cells are
    empty, the orders load, nothing is quarantined."""
    text = (
        "订单编号,买家会员名,总金额,买家实际支付金额,订单状态,联系手机,订单创建时间,订单付款时间,退款金额\n"
        "3321000011112222401,buyer_a,80.00,80.00,交易成功,／,2025-03-01 10:00:00,2025-03-01 10:01:00,——\n"
        "3321000011112222402,buyer_b,50.00,—,等待买家付款,-,2025-03-02 10:00:00,/,/\n"
    )
    path = tmp_path / "tmall_edited.csv"
    path.write_bytes(text.encode("utf-8"))
    res = parse("tmall", path)
    assert res.rejects.empty, res.rejects["reason"].tolist()
    f = res.frame
    assert f["order_id"].tolist() == ["3321000011112222401", "3321000011112222402"]
    assert f["paid_amount"].iloc[0] == 80.0 and pd.isna(f["paid_amount"].iloc[1])
    assert f["refund_amount"].isna().all() and f["paid_at"].isna().tolist() == [False, True]
    assert f["phone"].isna().all() and f["phone_issue"].isna().all()


# ----------------------------------------------------------------------------------------------- jd
def test_jd_lines(tmp_path: Path) -> None:
    text = (
        "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,结算金额,应付金额,订单状态,订单类型,下单账号,客户姓名,客户地址,联系电话,付款确认时间,订单完成时间\n"
        "280000000001,100001,洗衣液,2,在线支付,2025-03-01 09:00:00,39.90,99.80,99.80,99.80,完成,普通订单,jd_****abc,张*,上海市****,138****1234,2025-03-01 09:01:00,2025-03-03 18:00:00\n"
        "280000000001,100002,柔顺剂,1,在线支付,2025-03-01 09:00:00,20.00,99.80,99.80,99.80,完成,普通订单,jd_****abc,张*,上海市****,138****1234,2025-03-01 09:01:00,2025-03-03 18:00:00\n"
        "280000000002,100001,洗衣液,1,在线支付,2025/3/5 20:00,39.90,39.90,0,39.90,已取消,普通订单,jdbuyer,李*,,,,\n"
    )
    path = tmp_path / "jd.csv"
    path.write_bytes(text.encode("gbk"))
    f = parse("jd", path).frame
    assert f["order_id"].tolist() == ["280000000001", "280000000001", "280000000002"]
    assert f["quantity"].tolist() == [2, 1, 1]
    assert f["order_amount"].tolist() == [99.8, 99.8, 39.9]  # order-level, repeated per line
    assert f["account"].isna().tolist() == [True, True, False]
    assert f["account_masked"].tolist() == [True, True, False]
    assert f["account"].iloc[2] == "jdbuyer"
    assert f["order_status"].tolist() == ["完成", "完成", "已取消"]
    assert f["ordered_at"].iloc[2] == pd.Timestamp("2025-03-05 20:00")
    assert f["completed_at"].iloc[0] == pd.Timestamp("2025-03-03 18:00")
    assert f["_row_number"].tolist() == [2, 3, 4]


def test_unreadable_money_or_payment_time_quarantines_the_row(tmp_path: Path) -> None:
    """A garbled amount must not become a silent null in revenue: the row is quarantined with the column
    and value named; an empty amount (an unpaid order) stays null and loads."""
    text = (
        "订单编号,买家会员名,买家实际支付金额,退款金额,订单状态,订单创建时间,订单付款时间\n"
        '="100000000000000001",alice,待确认,0,交易成功,2025-03-01 12:00:00,2025-03-01 12:01:00\n'  # 2
        '="100000000000000002",bob,12.50,,交易成功,2025-03-01 12:00:00,2025-03-01 12:01:00\n'  # 3
        '="100000000000000003",carol,,,等待买家付款,2025-03-01 12:00:00,\n'  # 4
        '="100000000000000004",dave,8,0,交易成功,2025-03-01 12:00:00,昨天\n'  # 5
    )
    path = tmp_path / "tmall.csv"
    path.write_bytes(text.encode("utf-8-sig"))
    res = parse("tmall", path)
    assert res.rows_in == 4
    assert res.frame["order_id"].tolist() == ["100000000000000002", "100000000000000003"]
    assert res.frame["paid_amount"].tolist()[0] == 12.5 and pd.isna(res.frame["paid_amount"].iloc[1])
    reasons = dict(zip(res.rejects["row_number"].tolist(), res.rejects["reason"].tolist(), strict=True))
    assert set(reasons) == {2, 5}
    assert "买家实际支付金额" in reasons[2] and "待确认" in reasons[2]
    assert "订单付款时间" in reasons[5] and "昨天" in reasons[5]


# ----------------------------------------------------------------------------------- wechat_members
def test_wechat_members(tmp_path: Path) -> None:
    text = (
        "OpenID,UnionID,昵称,绑定手机,邮箱,性别,城市,注册时间,关注状态,取消关注时间,会员卡号,会员等级,积分,标签,营销短信授权,企微好友\n"
        "oA1,uA1,小明,13912345678,  Ming@Example.com ,男,上海,2024-01-05 10:00:00,关注,,VIP001,金卡,1200,高价值 复购,是,Y\n"
        "oA2,,小红,,,女,北京,2024/2/1,取消关注,2024-06-01,,,0,,否,0\n"
        ",uX,无名,,,,,,关注,,,,,,,\n"
    )
    path = tmp_path / "members.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    res = parse("wechat_members", path)
    f = res.frame
    assert f["openid"].tolist() == ["oA1", "oA2"]
    assert f["unionid"].iloc[0] == "uA1" and pd.isna(f["unionid"].iloc[1])
    assert f["phone"].iloc[0] == "13912345678"
    assert f["email"].iloc[0] == "ming@example.com"
    assert f["tags"].iloc[0] == "高价值,复购"
    assert f["points"].tolist() == [1200, 0]
    assert f["sms_consent"].tolist() == [True, False]
    assert f["wecom_friend"].tolist() == [True, False]
    assert f["follow_status"].tolist() == ["关注", "取消关注"]
    assert f["registered_at"].tolist() == [pd.Timestamp("2024-01-05 10:00"), pd.Timestamp("2024-02-01")]
    assert res.rejects["reason"].tolist() == ["OpenID: empty"]
    assert res.rejects["row_number"].tolist() == [4]
    assert f["birth_month_day"].isna().all() and f["birth_year"].isna().all()  # no 生日 column


def test_wechat_members_birthday_forms(tmp_path: Path) -> None:
    # FORMATS.md: 生日 as 1990-05-17, 05-17 when the year is withheld, or empty; a non-date loads as null
    # with the value noted in _extra._issues (an optional field: the member row stays)
    text = (
        "openid,注册时间,生日\n"
        "o1,2024-01-05,1990-05-17\n"
        "o2,2024-01-05,05-17\n"
        "o3,2024-01-05,\n"
        "o4,2024-01-05,1988年2月9日\n"
        "o5,2024-01-05,02-29\n"
        "o6,2024-01-05,1990-02-30\n"
        "o7,2024-01-05,13-01\n"
        "o8,2024-01-05,１９９２/１２/０１\n"
    )
    path = tmp_path / "members.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    res = parse("wechat_members", path)
    f = res.frame
    assert res.rejects.empty
    days = [None if pd.isna(x) else x for x in f["birth_month_day"]]
    years = [None if pd.isna(x) else int(x) for x in f["birth_year"]]
    assert days == ["05-17", "05-17", None, "02-09", "02-29", None, None, "12-01"]
    assert years == [1990, None, None, 1988, None, None, None, 1992]
    assert "生日: not a date (1990-02-30)" in f["_extra"].iloc[5]
    assert "生日: not a date (13-01)" in f["_extra"].iloc[6]


# ------------------------------------------------------------------------------------------- wechat_pay
PAY_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
              "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
              "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
PAY_SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def _bt(*fields: str) -> str:
    return ",".join("`" + f for f in fields)


PAY_LINES = [
    _bt("2025-03-01 12:00:01", "wx2421b1c4370ec43b", "1900000001", "0", "", "4200000001", "M001", "oUser1",
        "JSAPI", "SUCCESS", "CMB_DEBIT", "CNY", "100.00", "0.00", "0", "0", "0.00", "0.00", "", "", "商品A", "",
        "0.60000", "0.60%", "100.00", "0.00", ""),
    _bt("2025-03-01 13:00:00", "wx2421b1c4370ec43b", "1900000001", "0", "", "4200000002", "M002", "oUser2",
        "NATIVE", "SUCCESS", "OTHERS", "CNY", "50.50", "0.00", "0", "0", "0.00", "0.00", "", "", "商品B", "",
        "0.30300", "0.60%", "50.50", "0.00", ""),
    _bt("2025-03-02 09:00:00", "wx2421b1c4370ec43b", "1900000001", "0", "", "4200000001", "M001", "oUser1",
        "JSAPI", "REFUND", "CMB_DEBIT", "CNY", "0.00", "0.00", "5000000001", "R001", "20.00", "0.00",
        "ORIGINAL", "SUCCESS", "商品A", "", "-0.12000", "0.60%", "0.00", "20.00", ""),
]
# By hand: 3 lines; 应结 100.00 + 50.50 + 0 = 150.50; 退款 20.00; 手续费 0.6 + 0.303 - 0.12 = 0.783 → 0.78.
PAY_SUMMARY_OK = _bt("3", "150.50", "20.00", "0.00", "0.78", "150.50", "20.00")


def test_wechat_pay_backticks_and_reconciled_summary(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    path.write_bytes(("\n".join([PAY_HEADER, *PAY_LINES, PAY_SUMMARY_HEADER, PAY_SUMMARY_OK]) + "\n").encode())
    res = parse("wechat_pay", path)
    f = res.frame
    assert list(f.columns) == columns_of("wechat_pay")
    assert res.rows_in == 3 and res.rejects.empty
    assert f["traded_at"].tolist()[0] == pd.Timestamp("2025-03-01 12:00:01")
    assert f["transaction_id"].tolist() == ["4200000001", "4200000002", "4200000001"]
    assert f["openid"].tolist() == ["oUser1", "oUser2", "oUser1"]
    assert f["trade_state"].tolist() == ["SUCCESS", "SUCCESS", "REFUND"]
    assert f["settlement_amount"].tolist() == [100.0, 50.5, 0.0]
    assert f["refund_amount"].tolist() == [0.0, 0.0, 20.0]
    assert f["fee"].tolist() == [0.6, 0.3, -0.12]
    assert f["fee_rate"].iloc[0] == "0.60%"
    assert f["_row_number"].tolist() == [2, 3, 4]
    assert any("summary reconciled" in n for n in res.notes)


def test_wechat_pay_summary_mismatch_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    bad = _bt("4", "200.50", "20.00", "0.00", "0.78", "150.50", "20.00")
    path.write_bytes(("\n".join([PAY_HEADER, *PAY_LINES, PAY_SUMMARY_HEADER, bad]) + "\n").encode())
    with pytest.raises(FileRejected) as err:
        parse("wechat_pay", path)
    msg = err.value.message
    assert msg.startswith("wechat_pay/bill.csv: the bill's details do not match its summary")
    assert "总交易单数 4 in the summary but 3 detail lines in the file" in msg
    assert "应结订单总金额 200.50 in the summary but the details sum to 150.50" in msg
    assert "退款总金额" not in msg


def test_wechat_pay_truncated_without_summary_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    path.write_bytes(("\n".join([PAY_HEADER, *PAY_LINES[:2]]) + "\n").encode())
    with pytest.raises(FileRejected, match=r"wechat_pay/bill.csv: no summary block .* truncated"):
        parse("wechat_pay", path)


# ---------------------------------------------------------------------------------------------- touches
def test_touches_recipients_and_event_types(tmp_path: Path) -> None:
    text = (
        "campaign_id,campaign_name,channel,variant,recipient_type,recipient,event_type,event_time\n"
        "C1,春季唤醒,sms,A,phone,+86 139-1234-5678,sent,2025-03-01 10:00:00\n"  # 2
        "C1,春季唤醒,sms,B,phone,139****5678,delivered,2025-03-01 10:00:05\n"  # 3
        "C1,春季唤醒,email,A,email, Li@Example.COM ,opened,2025-03-01 11:00:00\n"  # 4
        "C1,春季唤醒,wecom,A,openid,=\"oA1\",clicked,2025-03-01 12:00:00\n"  # 5
        "C1,春季唤醒,sms,control,phone,13912345678,holdout,2025-03-01 10:00:00\n"  # 6
        "C1,春季唤醒,sms,A,phone,13912345678,forwarded,2025-03-01 10:00:00\n"  # 7
        "C1,春季唤醒,sms,A,fax,12345,sent,2025-03-01 10:00:00\n"  # 8
        "C1,春季唤醒,app_push,A,member_card,,sent,2025-03-01 10:00:00\n"  # 9
    )
    path = tmp_path / "touches.csv"
    path.write_bytes(text.encode())
    res = parse("touches", path)
    f = res.frame
    assert f["_row_number"].tolist() == [2, 3, 4, 5, 6, 9]
    assert f["recipient"].tolist()[0] == "13912345678"
    assert pd.isna(f["recipient"].iloc[1]) and f["recipient_issue"].iloc[1] == "masked"
    assert f["recipient"].iloc[2] == "li@example.com"
    assert f["recipient"].iloc[3] == "oA1"
    assert f["variant"].iloc[4] == "control" and f["event_type"].iloc[4] == "holdout"
    assert pd.isna(f["recipient"].iloc[5]) and f["recipient_issue"].iloc[5] == "missing"
    assert f["recipient_issue"].iloc[[0, 2, 3, 4]].isna().all()
    assert f["event_type"].tolist()[:4] == ["sent", "delivered", "opened", "clicked"]
    rejects = res.rejects.set_index("row_number")["reason"].to_dict()
    assert rejects == {7: "event_type: unknown event type (forwarded)", 8: "recipient_type: unknown recipient type (fax)"}


def test_touches_delivery_and_consent_events_load(tmp_path: Path) -> None:
    # FORMATS.md: failed, bounced, unsubscribed, complained feed the suppression list; native spellings
    text = (
        "campaign_id,channel,variant,recipient_type,recipient,event_type,event_time\n"
        "C1,sms,A,phone,13912345678,退订,2025-03-01 10:00:00\n"
        "C1,sms,A,phone,13912345679,发送失败,2025-03-01 10:00:00\n"
        "C1,email,A,email,a@b.cn,Bounced,2025-03-01 10:00:00\n"
        "C1,email,A,email,c@d.cn,complaint,2025-03-01 10:00:00\n"
        "C1,email,A,email,e@f.cn,unsubscribed,2025-03-01 10:00:00\n"
    )
    path = tmp_path / "touches.csv"
    path.write_bytes(text.encode())
    res = parse("touches", path)
    assert res.rejects.empty
    assert res.frame["event_type"].tolist() == ["unsubscribed", "failed", "bounced", "complained", "unsubscribed"]


def test_extra_json_escapes_every_character(tmp_path: Path) -> None:
    from ingestion.adapters.base import json_objects

    values = ['say "hi"', "back\\slash", "tab\there", "line\nbreak", "bell\x07", "", "中文，全角"]
    out = json_objects([("备注 \"x\"", pd.Series(values, dtype="str"))], len(values), keep_empty=False,
                       issues=[pd.Series([None, None, "数量: bad (1\"2)", None, None, None, None], dtype="str")])
    parsed = [None if pd.isna(v) else json.loads(v) for v in out]
    key = '备注 "x"'
    assert parsed[0] == {key: 'say "hi"'}
    assert parsed[1] == {key: "back\\slash"}
    assert parsed[2] == {key: "tab\there", "_issues": ['数量: bad (1"2)']}
    assert parsed[3] == {key: "line\nbreak"}
    assert parsed[4] == {key: "bell "}  # other control characters become spaces
    assert parsed[5] is None
    assert parsed[6] == {key: "中文，全角"}
