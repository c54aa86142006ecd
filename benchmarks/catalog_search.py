"""Catalog search at scale (R-D1, R-S3): a fixed set of Chinese queries against a generated
catalog of ``--records`` published resources, through the platform's search engine (FTS5 on
SQLite, full-text search on PostgreSQL), each answer with its page, total and facets.

    python benchmarks/catalog_search.py [--records 1000000] [--rounds 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/catalog_bench python benchmarks/...

The records are made the way a province's catalog reads: names that join a scope, a
subject and a kind of record (全市 + 不动产 + 登记信息), abstracts that name the provider,
the items and the purpose, from about 120 subjects drawn with a Zipf-like skew, across 300
provider departments of 30 regions. Each record's words are jieba's, cut once per distinct
phrase and joined, and only the search documents are inserted — with the database's foreign
key checks off, as their versions' rows are not made: searching reads the documents alone.
On PostgreSQL the named database (its name must contain "bench") is created afresh and
dropped at the end.

The query set mixes common subjects (tens of thousands of matches), rare ones, several
words, resource codes and their beginnings, facet filters and a later page. Each query runs
once to warm up and then ``--rounds`` times; the table gives percentiles of all timed runs
and the slowest query. Alongside, for three queries, the scan a plain catalog makes instead
(``LIKE '%…%'`` over names and abstracts) as the baseline, in the same run.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from scratch_database import scratch_database  # noqa: E402


def listed(text):
    """The words of a space-separated list."""
    return text.split()


SCOPES = ["全省", "全市", "本区", "各县区", "城区", "农村", "年度", "季度", "月度", "历年"]
SUBJECTS = listed(
    "户籍人口 流动人口 人口死亡 出生医学证明 婚姻登记 收养登记 低保对象 特困人员 残疾人 "
    "退役军人 企业法人 个体工商户 社会组织 事业单位 营业执照 食品经营许可 药品经营许可 "
    "医疗器械 医疗机构 执业医师 护士执业 不动产登记 土地出让 房屋交易 房屋租赁 住房公积金 "
    "建设工程规划 施工许可 竣工验收 排污许可 环境监测 空气质量 水质监测 地质灾害 气象预警 "
    "水文监测 机动车 驾驶证 交通违法 公交线路 出租汽车 道路运输 税务登记 纳税信用 "
    "发票信息 行政处罚 行政许可 信用评价 失信被执行人 专利授权 商标注册 文物保护 旅游景区 "
    "农业补贴 耕地保护 林权登记 渔船登记 粮食储备 价格监测 安全生产 特种设备 危险化学品 "
    "应急物资 消防检查 人民调解 法律援助 公证 律师执业 司法鉴定 社区矫正 宗教活动场所 "
    "档案查阅 统计调查 审计结果 财政预算 政府采购 国有资产 招标投标 公共资源交易 "
    "政务服务事项 电子证照 电子印章 养老保险 失业保险 工伤保险 医疗保险 生育保险 "
    "就业登记 职业技能 学籍 教师资格 学校 幼儿园 图书馆 体育场馆 疫苗接种 传染病 "
    "计划生育 老年人 儿童福利 殡葬服务 地名 行政区划 人口普查 经济普查 农业普查 "
    "城市管理 市容环境 垃圾分类 供水 供电 燃气 供热 通信基站 广播电视"
)
KINDS = listed(
    "基本信息 登记信息 变更信息 注销信息 许可信息 审批信息 监测数据 统计数据 名录 台账 "
    "明细 汇总 核验信息 备案信息 年报信息 检查记录 处罚信息 奖励信息 评价结果 目录"
)
ITEMS = listed(
    "姓名 公民身份号码 性别 出生日期 民族 住址 联系电话 统一社会信用代码 企业名称 法定代表人 "
    "注册资本 成立日期 登记机关 经营范围 证照编号 有效期限 发证机关 不动产单元号 坐落 面积 "
    "用途 权利人 号牌号码 车辆类型 决定书文号 违法事实 处罚结果 金额 缴费基数 参保状态 "
    "监测时间 监测值 经度 纬度 审批日期 办理结果 检查日期 检查结果"
)
PURPOSES = [
    "政务服务事项办理",
    "身份核验",
    "资格审查",
    "监管执法",
    "统计分析",
    "信用评价",
    "应急处置",
]
BUREAUS = listed(
    "公安局 民政局 人力资源和社会保障局 市场监督管理局 自然资源局 住房和城乡建设局 交通运输局 "
    "卫生健康委员会 教育局 生态环境局 税务局 司法局"
)
CYCLES = ["real_time", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly"]
FORMATS = ["database", "spreadsheet", "document", "self_describing", "image"]
SHARES = ["unconditional"] * 3 + ["conditional"] * 5 + ["none"] * 2
REGIONS = 30
DEPARTMENTS = REGIONS * 10

QUERIES = [
    ("人口", {}),
    ("不动产登记", {}),
    ("营业执照", {}),
    ("行政处罚 企业", {}),
    ("户籍人口 住址", {}),
    ("养老保险", {"share_type": "conditional"}),
    ("交通违法", {"region": "990100"}),
    ("渔船登记", {}),
    ("司法鉴定 名录", {}),
    ("广播电视", {}),
    ("危险化学品 许可信息", {}),
    ("统一社会信用代码", {}),
    ("身份核验", {"format": "database"}),
    ("101", {}),
    ("307012", {}),
    ("不存在的词语", {}),
    ("", {"share_type": "unconditional", "update_cycle": "daily"}),
    ("医疗机构", {"classification": "203"}),
]
PAGE_QUERY = ("人口", {}, 40)  # the third page of a common query


def zipf_choice(rng, values, s=1.1):
    weights = [1 / (rank**s) for rank in range(1, len(values) + 1)]
    return rng.choices(values, weights)[0]


class Corpus:
    """Generated records' search documents, as rows for the documents table."""

    def __init__(self, seed):
        from zhengyun.data_resources.search.segment import index_terms

        self.rng = random.Random(seed)
        self.terms = {}
        self.cut = index_terms

    def words(self, phrase):
        found = self.terms.get(phrase)
        if found is None:
            found = self.terms[phrase] = self.cut(phrase)
        return found

    def rows(self, count, region_codes):
        rng = self.rng
        sequences = {}
        for number in range(1, count + 1):
            subject_number = SUBJECTS.index(zipf_choice(rng, SUBJECTS, 0.8))
            subject = SUBJECTS[subject_number]
            scope, kind = rng.choice(SCOPES), rng.choice(KINDS)
            catalog_type = rng.choice("1233")
            classification = f"{catalog_type}{subject_number % 12 + 1:02d}"
            category = f"{rng.randrange(1, 40):03d}"
            key = classification + category
            sequences[key] = sequences.get(key, 0) + 1
            code = f"{key}/{sequences[key]:06d}"
            department = rng.randrange(1, DEPARTMENTS + 1)
            bureau = BUREAUS[department % len(BUREAUS)]
            items = rng.sample(ITEMS, 4)
            body = " ".join(
                [
                    self.words(scope),
                    self.words(subject),
                    self.words(kind),
                    self.words("包括"),
                    *(self.words(item) for item in items),
                    self.words(f"等信息项由{bureau}提供用于"),
                    self.words(rng.choice(PURPOSES)),
                ]
            )
            yield (
                number,
                number,
                code,
                department,
                region_codes[department % len(region_codes)],
                catalog_type,
                classification,
                rng.choice(SHARES),
                rng.choice(FORMATS),
                rng.choice(CYCLES),
                " ".join((self.words(scope), self.words(subject), self.words(kind))),
                " ".join(code.split("/")),
                body,
                f"{scope}{subject}{kind}",
                body.replace(" ", ""),
            )


def load(corpus, records, batch=20_000):
    """Insert the documents; the names and abstracts also into a plain table for the scan
    baseline."""
    from django.db import connection, transaction

    from zhengyun.data_resources.models import SearchDocument

    table = SearchDocument._meta.db_table
    columns = (
        "version_id, resource_id, code, department_id, region_code, catalog_type, "
        "classification, share_type, format, update_cycle, title_terms, code_terms, body_terms, "
        "open_to_public"
    )
    regions = [
        f"99{prefecture:02d}{county:02d}" for prefecture in range(1, 7) for county in range(1, 6)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE plain_catalog (id integer PRIMARY KEY, name text, abstract text)"
        )
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys = OFF")
        else:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers
    rows = corpus.rows(records, regions)
    placeholders = ", ".join(["%s"] * 14)
    while True:
        chunk = [row for _, row in zip(range(batch), rows, strict=False)]
        if not chunk:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                [(*row[:13], False) for row in chunk],  # none open to the public
            )
            cursor.executemany(
                "INSERT INTO plain_catalog (id, name, abstract) VALUES (%s, %s, %s)",
                [(row[0], row[13], row[14]) for row in chunk],
            )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("ANALYZE")
        else:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("VACUUM ANALYZE")


def timed(fn, rounds):
    fn()  # warm
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return times, result


def scan(text):
    """The plain catalog's search: every name and abstract scanned for the text."""
    from django.db import connection

    pattern = f"%{text}%"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM plain_catalog WHERE name LIKE %s OR abstract LIKE %s "
            "ORDER BY id LIMIT 20",
            [pattern, pattern],
        )
        ids = cursor.fetchall()
        cursor.execute(
            "SELECT COUNT(*) FROM plain_catalog WHERE name LIKE %s OR abstract LIKE %s",
            [pattern, pattern],
        )
        return ids, cursor.fetchone()[0]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with scratch_database("search") as connection:
        from zhengyun.data_resources import search

        started = time.perf_counter()
        corpus = Corpus(args.seed)
        load(corpus, args.records)
        loaded = time.perf_counter() - started

        times, per_query = [], []
        for text, filters, *offset in [*QUERIES, PAGE_QUERY]:
            query = search.SearchQuery(
                text=text, filters=filters, offset=offset[0] if offset else 0
            )
            runs, found = timed(lambda query=query: search.search(query), args.rounds)
            label = " ".join(
                part
                for part in (
                    text or "(all)",
                    " ".join(f"{k}={v}" for k, v in filters.items()),
                    "page 3" if offset else "",
                )
                if part
            )
            matches = f"{found.total:,}" + ("" if found.exact else "+")
            per_query.append((label, matches, statistics.median(runs)))
            times.extend(runs)
        baseline = []
        for text in ("人口", "营业执照", "渔船登记"):
            scans, (_, scanned) = timed(lambda text=text: scan(text), max(1, args.rounds // 2))
            searches, found = timed(
                lambda text=text: search.search(search.SearchQuery(text=text, facets=False)),
                args.rounds,
            )
            baseline.append((text, scanned, statistics.median(scans), statistics.median(searches)))

        if connection.vendor == "postgresql":
            database = f"postgresql {connection.pg_version // 10000}"
        else:
            database = f"sqlite {connection.Database.sqlite_version}"
        print(
            f"{database}; {args.records:,} records loaded in {loaded:.0f} s; "
            f"{len(per_query)} queries, each warmed once then timed {args.rounds} times; "
            f"load {os.getloadavg()[0]:.2f}"
        )
        print()
        print("| query | matches | median ms (page, total and facets) |")
        print("|---|---|---|")
        for label, matches, median in per_query:
            print(f"| {label} | {matches} | {median * 1000:.1f} |")
        print()
        print("| scan baseline | matches | LIKE scan ms | search ms (no facets) | ratio |")
        print("|---|---|---|---|---|")
        for text, scanned, scan_s, search_s in baseline:
            print(
                f"| {text} | {scanned:,} | {scan_s * 1000:.0f} | {search_s * 1000:.1f} "
                f"| {scan_s / search_s:,.0f}× |"
            )
        print()
        print("| database | records | timed queries | p50 ms | p95 ms | p99 ms |")
        print("|---|---|---|---|---|---|")
        print(
            f"| {database} | {args.records:,} | {len(times)} | {percentile(times, 0.5) * 1000:.1f} "
            f"| {percentile(times, 0.95) * 1000:.1f} | {percentile(times, 0.99) * 1000:.1f} |"
        )


if __name__ == "__main__":
    main()
