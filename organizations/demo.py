"""The demo city: a realistic Shanghai union federation for `manage.py seed_demo` and benchmarks.

The seed is a system bootstrap, not a user action, so it writes rows directly (treebeard
paths computed here, bulk inserts) instead of going through the actor-checked services.
Every row is still checked with the model's field validators and ALLOWED_CHILD_KINDS
before it is written, and tests run full_clean over everything it builds.

Idempotent: each row is looked up by a stable key before it is created — organisations by
(parent, region code | credit code | name), enterprises by credit code, officers by
(organisation, name, position), stations by (organisation, name), users by username — so a
re-run adds only what is missing. Deterministic: every random choice comes from a
`random.Random` seeded with the key of the thing being built (a street, an enterprise),
so the same scale always yields the same city, and a larger scale is a superset of a
smaller one. Work is done one district per transaction, so memory stays bounded by the
size of one district whatever the scale.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import reset_queries, transaction
from django.db.models import F

from activity.services import log_action

from .models import (
    ALLOWED_CHILD_KINDS,
    ROOT_KINDS,
    CoverageSummary,
    Enterprise,
    Officer,
    Organization,
    OrgKind,
    RoleAssignment,
    ServiceStation,
    User,
)
from .scoping import forget_reach
from .services import coverage_refresh
from .validators import CREDIT_CODE_CHARSET, credit_code_check_char

DEMO_PASSWORD = "unionportal-demo"
CITY_NAME = "上海市总工会"
CITY_CODE = "310000"
MAX_SCALE = 300
_BATCH = 500  # rows per INSERT and ids per IN (...) (well under SQLite's variable limit)
_ORG_EXCLUDE = ("path", "depth", "numchild", "merged_into")


# --- reference data -------------------------------------------------------------------


@dataclass(frozen=True)
class District:
    code: str  # GB/T 2260
    name: str
    lat: float  # rough centre, for station coordinates
    lon: float
    roads: tuple[str, ...]
    streets: tuple[str, ...]  # real street (街道) and town (镇) names


DISTRICTS: tuple[District, ...] = (
    District(
        "310101",
        "黄浦区",
        31.231,
        121.484,
        ("南京东路", "西藏中路", "淮海中路", "福州路", "河南中路", "中山南路", "复兴中路"),
        (
            "南京东路街道",
            "外滩街道",
            "瑞金二路街道",
            "打浦桥街道",
            "淮海中路街道",
            "豫园街道",
            "小东门街道",
            "老西门街道",
            "五里桥街道",
            "半淞园路街道",
        ),
    ),
    District(
        "310104",
        "徐汇区",
        31.188,
        121.437,
        ("漕溪北路", "肇嘉浜路", "虹桥路", "龙华中路", "宜山路", "天钥桥路"),
        ("天平路街道", "湖南路街道", "徐家汇街道", "枫林路街道", "漕河泾街道", "华泾镇"),
    ),
    District(
        "310105",
        "长宁区",
        31.220,
        121.424,
        ("长宁路", "延安西路", "天山路", "仙霞路", "中山西路", "愚园路"),
        ("华阳路街道", "江苏路街道", "新华路街道", "天山路街道", "虹桥街道", "新泾镇"),
    ),
    District(
        "310106",
        "静安区",
        31.246,
        121.453,
        ("南京西路", "延安中路", "共和新路", "万航渡路", "北京西路", "汶水路"),
        ("静安寺街道", "南京西路街道", "江宁路街道", "石门二路街道", "曹家渡街道", "彭浦新村街道"),
    ),
    District(
        "310107",
        "普陀区",
        31.249,
        121.397,
        ("曹杨路", "中山北路", "真北路", "金沙江路", "武宁路", "铜川路"),
        ("曹杨新村街道", "长风新村街道", "真如镇街道", "万里街道", "长征镇", "桃浦镇"),
    ),
    District(
        "310109",
        "虹口区",
        31.265,
        121.491,
        ("四川北路", "东大名路", "曲阳路", "大连西路", "广中路", "海宁路"),
        ("欧阳路街道", "曲阳路街道", "广中路街道", "嘉兴路街道", "北外滩街道", "四川北路街道"),
    ),
    District(
        "310110",
        "杨浦区",
        31.283,
        121.526,
        ("四平路", "国定路", "黄兴路", "控江路", "杨树浦路", "长阳路"),
        ("定海路街道", "平凉路街道", "江浦路街道", "控江路街道", "五角场街道", "殷行街道"),
    ),
    District(
        "310112",
        "闵行区",
        31.113,
        121.382,
        ("沪闵路", "七莘路", "莘庄路", "吴中路", "都市路", "虹井路"),
        ("江川路街道", "古美街道", "新虹街道", "莘庄镇", "七宝镇", "梅陇镇"),
    ),
    District(
        "310113",
        "宝山区",
        31.405,
        121.446,
        ("牡丹江路", "友谊路", "沪太路", "长江西路", "共富路", "同济路"),
        ("友谊路街道", "吴淞街道", "张庙街道", "大场镇", "顾村镇", "罗店镇"),
    ),
    District(
        "310114",
        "嘉定区",
        31.375,
        121.265,
        ("博乐路", "城中路", "曹安公路", "墨玉南路", "沪宜公路", "叶城路"),
        ("新成路街道", "真新街道", "嘉定镇街道", "南翔镇", "安亭镇", "江桥镇"),
    ),
    District(
        "310115",
        "浦东新区",
        31.221,
        121.544,
        ("世纪大道", "张杨路", "浦东南路", "陆家嘴环路", "张江路", "川沙路", "人民东路", "东方路"),
        ("陆家嘴街道", "潍坊新村街道", "花木街道", "张江镇", "川沙新镇", "惠南镇"),
    ),
    District(
        "310116",
        "金山区",
        30.742,
        121.342,
        ("卫零路", "龙航路", "蒙山路", "金山大道", "朱泾南圩路"),
        ("石化街道", "朱泾镇", "枫泾镇", "张堰镇", "亭林镇"),
    ),
    District(
        "310117",
        "松江区",
        31.032,
        121.228,
        ("人民北路", "中山中路", "荣乐东路", "谷阳北路", "沪亭北路"),
        ("岳阳街道", "方松街道", "九里亭街道", "泗泾镇", "九亭镇", "洞泾镇"),
    ),
    District(
        "310118",
        "青浦区",
        31.151,
        121.124,
        ("公园路", "城中东路", "淀山湖大道", "华志路", "崧泽大道"),
        ("夏阳街道", "盈浦街道", "香花桥街道", "朱家角镇", "徐泾镇", "赵巷镇"),
    ),
    District(
        "310120",
        "奉贤区",
        30.918,
        121.474,
        ("解放东路", "南亭公路", "望园路", "金海公路", "环城东路"),
        ("南桥镇", "西渡街道", "奉浦街道", "金海街道", "庄行镇", "金汇镇"),
    ),
    District(
        "310151",
        "崇明区",
        31.623,
        121.397,
        ("八一路", "人民路", "东门路", "陈海公路", "翠竹路"),
        ("城桥镇", "堡镇", "陈家镇", "新河镇", "长兴镇"),
    ),
)

# City-level industry (sector) unions with a few grassroots unions of public bodies,
# and one industry federation under the construction & transport union.
INDUSTRY_UNIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("上海市教育工会", "市教育工会", ("上海市申江职业技术学校工会", "上海市浦江实验中学工会")),
    ("上海市卫生健康工会", "市卫健工会", ("上海市申城康复医院工会", "上海市浦江护理院工会")),
    ("上海市建设交通工会", "市建交工会", ("上海申通城市建设集团有限公司工会",)),
    ("上海市金融工会", "市金融工会", ("上海浦江农村商业银行股份有限公司工会",)),
    ("上海市机电工会", "市机电工会", ("上海申江电气集团有限公司工会",)),
)
TAXI_FEDERATION = ("上海市出租汽车行业工会联合会", ("上海申城出租汽车有限公司工会", "上海锦程出租汽车有限公司工会"))

# Parks (园区/开发区总工会) under a district: (district code, name, short name, building union).
PARKS: dict[str, tuple[str, str, str]] = {
    "310115": ("上海张江高科技园区总工会", "张江科学城总工会", "张江人工智能岛楼宇工会"),
    "310104": ("上海漕河泾新兴技术开发区总工会", "漕河泾开发区总工会", "漕河泾开发区科技绿洲楼宇工会"),
    "310112": ("上海莘庄工业区总工会", "莘庄工业区总工会", ""),
}
# Industry federations (行业工会联合会) under a district: (name, industry the member firms share).
DISTRICT_FEDERATIONS: dict[str, tuple[str, str]] = {
    "310115": ("浦东新区快递行业工会联合会", "express"),
    "310106": ("静安区餐饮行业工会联合会", "catering"),
}
# Building unions and regional federations under named streets: street -> [(kind, name, parent name)].
STREET_HUBS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "陆家嘴街道": (
        (OrgKind.BUILDING, "陆家嘴金融城楼宇联合工会", ""),
        (OrgKind.REGIONAL_FEDERATION, "陆家嘴滨江区域性工会联合会", ""),
        (OrgKind.BUILDING, "陆家嘴滨江商务楼宇工会", "陆家嘴滨江区域性工会联合会"),
    ),
    "南京东路街道": (
        (OrgKind.REGIONAL_FEDERATION, "南京路步行街区域性工会联合会", ""),
        (OrgKind.BUILDING, "南京东路商圈楼宇工会", "南京路步行街区域性工会联合会"),
    ),
    "南京西路街道": ((OrgKind.BUILDING, "南京西路商务楼宇联合工会", ""),),
    "徐家汇街道": ((OrgKind.BUILDING, "徐家汇商圈楼宇工会", ""),),
}
# Streets with a union group for platform workers (food-delivery riders join here).
RIDER_STREETS = ("陆家嘴街道", "南京东路街道", "徐家汇街道", "五角场街道")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦方邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 建华 建国 志强 晓燕 海燕 文 斌 宇 浩 凯 鹏 "
    "晨 琳 婷 雪 颖 佳 俊 欣 昊 倩 蕾 立新 卫东 红梅 春燕 国庆 丽华 玉兰 建军 雯 怡 思远 子涵 梓萱 一鸣 嘉怡 振华 美玲"
).split()
BRAND_CHARS = (
    "华信宏达鑫源恒瑞嘉盛德润佳锦联泰安康明通诚远博汇丰新天海科智创星辰凯晟昊睿和美元光荣昌隆兴旭振立方正中东申沪浦江"
)

# GB/T 4754 section -> (weight in the mix, business phrases)
INDUSTRIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "C": (20, ("精密机械", "电子科技", "汽车零部件", "食品", "新材料", "生物医药", "服饰", "包装印刷")),
    "F": (14, ("商贸", "国际贸易", "百货", "超市", "医药连锁")),
    "I": (12, ("信息技术", "网络科技", "软件", "数据科技", "智能科技")),
    "L": (9, ("企业管理咨询", "人力资源", "商务咨询", "广告")),
    "G": (8, ("物流", "快递服务", "货运", "供应链管理")),
    "H": (8, ("餐饮管理", "酒店管理", "餐饮")),
    "M": (7, ("检测技术", "工程设计", "生物技术研发")),
    "E": (5, ("建设工程", "建筑装饰", "市政工程")),
    "K": (5, ("房地产开发", "物业管理")),
    "J": (3, ("融资租赁", "保险代理")),
    "O": (3, ("家政服务", "汽车维修", "保洁服务")),
    "Q": (2, ("养老服务", "门诊部")),
    "R": (2, ("文化传播", "体育发展")),
    "P": (1, ("职业技能培训",)),
    "N": (1, ("园林绿化", "环境卫生服务")),
}
_INDUSTRY_KEYS = tuple(INDUSTRIES)
_INDUSTRY_WEIGHTS = tuple(w for w, _p in INDUSTRIES.values())
OWNERSHIP_MIX = (("private", 56), ("foreign", 14), ("state", 10), ("hmt", 7), ("other", 9), ("collective", 4))
# Chance that an enterprise of each size has formed a union (about 60% overall).
UNION_CHANCE = {"large": 0.97, "medium": 0.85, "small": 0.6, "micro": 0.35}
GROUP_NAMES = ("生产一部", "生产二部", "研发中心", "销售部", "行政后勤", "质量管理部", "客户服务部", "仓储物流部")
OPENING_HOURS = (
    "周一至周五 8:30-17:00",
    "周一至周五 9:00-17:30，周六 9:00-12:00",
    "周一至周日 9:00-21:00",
)
REST_HOURS = ("全天开放", "每日 7:00-21:00", "每日 6:30-22:00")


# --- codes ----------------------------------------------------------------------------

_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code(n: int) -> str:
    """A 9-character organisation code (GB 11714 check character) unique for each n < 28 million.

    Two forms, as on real licences: newer codes "MA1" + five characters, older ones eight
    digits (a bijection of n so neighbours do not look sequential).
    """
    if n % 3:
        chars = []
        for _i in range(5):
            n, r = divmod(n, len(CREDIT_CODE_CHARSET))
            chars.append(CREDIT_CODE_CHARSET[r])
        body = "MA1" + "".join(reversed(chars))
    else:
        body = f"{(n * 7919 + 20_150_101) % 100_000_000:08d}"
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(prefix: str, region: str, n: int) -> str:
    """A valid GB 32100-2015 code: authority+category, region, organisation code, check char.

    prefix "91" is an enterprise registered with market regulation, "81" a union legal person.
    """
    first17 = prefix + region + org_code(n)
    return first17 + credit_code_check_char(first17)


# --- specs: the city as it should be --------------------------------------------------


@dataclass(eq=False)
class OrgSpec:
    """An organisation the demo wants, placed in the tree (path, pk) once reconciled."""

    name: str
    kind: str
    fields: dict = field(default_factory=dict)
    children: list[OrgSpec] = field(default_factory=list)
    officers: list[dict] = field(default_factory=list)
    stations: list[dict] = field(default_factory=list)
    path: str = ""
    depth: int = 0
    pk: int | None = None
    new: bool = False

    def add(self, name: str, kind: str, **fields) -> OrgSpec:
        child = OrgSpec(name=name, kind=kind, fields=fields)
        self.children.append(child)
        return child

    def walk(self) -> Iterator[OrgSpec]:
        yield self
        for child in self.children:
            yield from child.walk()

    def keys(self) -> list[tuple[str, str]]:
        """Lookup keys, most stable first: a renamed district is still found by its code."""
        keys = []
        if self.fields.get("region_code"):
            keys.append(("region", self.fields["region_code"]))
        if self.fields.get("credit_code"):
            keys.append(("credit", self.fields["credit_code"]))
        keys.append(("name", self.name))
        return keys


@dataclass(eq=False)
class EnterpriseSpec:
    fields: dict
    supervisor: OrgSpec
    union: OrgSpec | None


class _Gen:
    """Deterministic random choices for one keyed thing (a street, a district)."""

    def __init__(self, key: str):
        self.rng = random.Random(key)

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def date(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def phone(self) -> str:
        return f"021-{self.rng.randint(5000_0000, 6999_9999)}"

    def address(self, district: District, road: str | None = None) -> str:
        return f"上海市{district.name}{road or self.rng.choice(district.roads)}{self.rng.randint(1, 1800)}号"

    def point(self, district: District) -> tuple[Decimal, Decimal]:
        # Clamped to Shanghai's land area so every station plots inside the city.
        lat = min(max(district.lat + self.rng.uniform(-0.035, 0.035), 30.70), 31.88)
        lon = min(max(district.lon + self.rng.uniform(-0.04, 0.04), 120.90), 121.98)
        return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")

    def officers(self, kind: str) -> list[dict]:
        """Chair (and vice-chairs, committee, professional workers) for a union of `kind`."""
        rng = self.rng
        years = 5 if kind in (OrgKind.CITY, OrgKind.DISTRICT, OrgKind.STREET) else rng.choice((3, 5))
        start = self.date(dt.date(2020, 1, 1), dt.date(2024, 12, 31))
        end = dt.date(start.year + years, start.month, 1) - dt.timedelta(days=1)
        term = {"term_start": start, "term_end": end}
        if kind == OrgKind.GRASSROOTS:
            # Direct election of grassroots chairs is what the federation promotes.
            chair_election = Officer.Election.DIRECT if rng.random() < 0.6 else Officer.Election.CONGRESS
            rows = [dict(position="chair", election=chair_election, is_full_time=rng.random() < 0.2, **term)]
            if rng.random() < 0.5:
                rows.append(dict(position="vice_chair", election=chair_election, is_full_time=False, **term))
            if rng.random() < 0.3:
                rows.append(dict(position="women_committee", election=chair_election, is_full_time=False, **term))
            if rng.random() < 0.2:
                rows.append(dict(position="funds_committee", election=chair_election, is_full_time=False, **term))
        elif kind == OrgKind.UNION_GROUP:
            return []
        else:
            congress = Officer.Election.CONGRESS
            rows = [dict(position="chair", election=congress, is_full_time=True, **term)]
            vice = 2 if kind in (OrgKind.CITY, OrgKind.DISTRICT) else rng.choice((0, 1))
            rows += [dict(position="vice_chair", election=congress, is_full_time=True, **term) for _ in range(vice)]
            if kind == OrgKind.STREET:
                # Professional union workers placed in streets by public recruitment.
                hired = dict(term_start=start, term_end=None, election=Officer.Election.HIRED, is_full_time=True)
                rows += [dict(position="professional", **hired) for _ in range(rng.choice((1, 2, 3)))]
        used: set[str] = set()
        for row in rows:
            name = self.person()
            while name in used:
                name = self.person()
            used.add(name)
            row["name"] = name
        return rows


def _weighted(rng: random.Random, pairs) -> str:
    keys, weights = zip(*pairs, strict=True)
    return rng.choices(keys, weights=weights)[0]


def _size_for(employees: int) -> str:
    if employees >= 1000:
        return "large"
    if employees >= 300:
        return "medium"
    if employees >= 20:
        return "small"
    return "micro"


def _enterprise_name(gen: _Gen, industry: str, ownership: str, employees: int) -> tuple[str, str]:
    rng = gen.rng
    brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
    while brand[0] == brand[1]:
        brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
    phrase = rng.choice(INDUSTRIES[industry][1])
    form = "股份有限公司" if employees >= 1000 and rng.random() < 0.5 else "有限公司"
    if ownership in ("foreign", "hmt"):
        return f"{brand}{phrase}（上海）{form}", phrase
    if ownership == "state" and employees >= 300:
        return f"上海{brand}{phrase}（集团）有限公司", phrase
    return f"上海{brand}{phrase}{form}", phrase


def _enterprises(
    gen: _Gen,
    district: District,
    supervisor: OrgSpec,
    base_n: int,
    count: int,
    hubs: list[OrgSpec],
    names: set[str],
    express: OrgSpec | None = None,
) -> list[EnterpriseSpec]:
    """`count` enterprises supervised by `supervisor`; about 60% with a grassroots union.

    `names` holds the names already used in the district: unions of different streets
    can share a parent (the district's express federation), and siblings must differ.
    """
    rng = gen.rng
    out = []
    for i in range(count):
        industry = rng.choices(_INDUSTRY_KEYS, weights=_INDUSTRY_WEIGHTS)[0]
        ownership = _weighted(rng, OWNERSHIP_MIX)
        employees = max(3, int(rng.lognormvariate(4.2, 1.3)))
        if ownership == "state":
            employees = max(employees, 150)
        size = _size_for(employees)
        name, phrase = _enterprise_name(gen, industry, ownership, employees)
        while name in names:
            name, phrase = _enterprise_name(gen, industry, ownership, employees)
        names.add(name)
        address = gen.address(district)
        union = None
        if rng.random() < UNION_CHANCE[size]:
            parent = supervisor
            if express is not None and phrase == "快递服务":
                parent = express
            elif hubs and rng.random() < 0.4:
                parent = rng.choice(hubs)
            union = parent.add(
                f"{name}工会",
                OrgKind.GRASSROOTS,
                address=address,
                established_on=gen.date(dt.date(1995, 1, 1), dt.date(2024, 6, 30)),
            )
            union.officers = gen.officers(OrgKind.GRASSROOTS)
            if employees >= 300:
                for group in rng.sample(GROUP_NAMES, rng.choice((2, 3))):
                    union.add(f"{group}工会小组", OrgKind.UNION_GROUP)
            if employees >= 200 and rng.random() < 0.35:
                lat, lon = gen.point(district)
                union.stations.append(
                    dict(
                        name=f"{name}爱心妈咪小屋",
                        kind=ServiceStation.Kind.NURSING,
                        address=address,
                        latitude=lat,
                        longitude=lon,
                        opening_hours="工作日 9:00-17:00",
                        services="哺乳、休息、母婴用品存放",
                    )
                )
        out.append(
            EnterpriseSpec(
                fields=dict(
                    credit_code=credit_code("91", district.code, base_n + i),
                    name=name,
                    ownership=ownership,
                    size=size,
                    industry=industry,
                    employees=employees,
                    address=address,
                ),
                supervisor=supervisor,
                union=union,
            )
        )
    return out


def _street_stations(gen: _Gen, district: District, short: str) -> list[dict]:
    rng = gen.rng
    lat, lon = gen.point(district)
    rows = [
        dict(
            name=f"{short}职工服务站",
            kind=ServiceStation.Kind.STATION,
            address=gen.address(district),
            latitude=lat,
            longitude=lon,
            opening_hours=rng.choice(OPENING_HOURS),
            services="职工入会、法律咨询、困难帮扶、心理疏导、技能培训报名",
            phone=gen.phone(),
        )
    ]
    for road in rng.sample(district.roads, rng.choice((1, 2))):
        lat, lon = gen.point(district)
        rows.append(
            dict(
                name=f"{short}{road}爱心接力站",
                kind=ServiceStation.Kind.REST,
                address=gen.address(district, road),
                latitude=lat,
                longitude=lon,
                opening_hours=rng.choice(REST_HOURS),
                services="饮水、热饭、休息、手机充电、如厕，户外职工和新就业形态劳动者均可使用",
            )
        )
    if rng.random() < 0.5:
        lat, lon = gen.point(district)
        rows.append(
            dict(
                name=f"{short}职工学堂",
                kind=ServiceStation.Kind.CLASSROOM,
                address=gen.address(district),
                latitude=lat,
                longitude=lon,
                opening_hours="周二、周四 18:30-20:30",
                services="职业技能、法律常识、心理健康课程",
            )
        )
    return rows


def _street_names(district: District, scale: int) -> Iterator[tuple[int, str]]:
    """Real streets first; larger scales add synthetic "片区" after them (stable indexes)."""
    real = district.streets
    for idx in range(len(real) * scale):
        base = real[idx % len(real)]
        round_ = idx // len(real)
        yield idx, base if round_ == 0 else f"{base}第{round_ + 1}片区"


def _street_count(rng: random.Random) -> int:
    return rng.randint(5, 9)


def build_district(spec: OrgSpec, district: District, d_index: int, scale: int) -> list[EnterpriseSpec]:
    """Fill the district's spec (streets, parks, federations, unions) and return its enterprises."""
    gen = _Gen(f"district:{district.code}")
    enterprises: list[EnterpriseSpec] = []
    names: set[str] = set()
    express = None
    if district.code in DISTRICT_FEDERATIONS:
        fed_name, what = DISTRICT_FEDERATIONS[district.code]
        fed = spec.add(fed_name, OrgKind.INDUSTRY_FEDERATION, address=gen.address(district), phone=gen.phone())
        fed.officers = gen.officers(OrgKind.INDUSTRY_FEDERATION)
        if what == "express":
            express = fed
    if district.code in PARKS:
        park_name, park_short, building = PARKS[district.code]
        park = spec.add(park_name, OrgKind.PARK, short_name=park_short, address=gen.address(district))
        park.officers = gen.officers(OrgKind.PARK)
        lat, lon = gen.point(district)
        park.stations.append(
            dict(
                name=f"{park_short.removesuffix('总工会')}职工服务点",
                kind=ServiceStation.Kind.POINT,
                address=park.fields["address"],
                latitude=lat,
                longitude=lon,
                opening_hours="周一至周五 9:00-18:00",
                services="园区职工入会、法律咨询、青年交友、子女暑托班报名",
            )
        )
        hubs = []
        if building:
            hub = park.add(building, OrgKind.BUILDING, address=gen.address(district))
            hub.officers = gen.officers(OrgKind.BUILDING)
            hubs.append(hub)
        park_gen = _Gen(f"park:{district.code}")
        # Park enterprises use street index 3999 in the credit-code number space.
        enterprises += _enterprises(
            park_gen, district, park, (d_index * 4000 + 3999) * 100, min(8 * scale, 99), hubs, names
        )
    for idx, street in _street_names(district, scale):
        if idx >= 3990:
            raise ValueError("scale too large for the credit-code number space")
        sgen = _Gen(f"street:{district.code}:{idx}")
        short = street
        node = spec.add(
            f"{street}总工会",
            OrgKind.STREET,
            short_name=short,
            credit_code=credit_code("81", district.code, 1_000_000 + idx * 1009 + int(district.code[-3:])),
            address=sgen.address(district),
            phone=sgen.phone(),
            established_on=sgen.date(dt.date(1985, 1, 1), dt.date(2005, 12, 31)),
        )
        node.officers = sgen.officers(OrgKind.STREET)
        node.stations = _street_stations(sgen, district, short)
        hubs: list[OrgSpec] = []
        if idx < len(district.streets):
            by_name: dict[str, OrgSpec] = {}
            for kind, hub_name, parent_name in STREET_HUBS.get(street, ()):
                parent = by_name[parent_name] if parent_name else node
                hub = parent.add(hub_name, kind, address=sgen.address(district))
                hub.officers = sgen.officers(kind)
                by_name[hub_name] = hub
                if kind == OrgKind.BUILDING:
                    hubs.append(hub)
            if street in RIDER_STREETS:
                node.add(f"{street}外卖骑手工会小组", OrgKind.UNION_GROUP)
        enterprises += _enterprises(
            sgen,
            district,
            node,
            (d_index * 4000 + idx) * 100,
            _street_count(sgen.rng),
            hubs,
            names,
            express=express,
        )
    return enterprises


def city_spec() -> OrgSpec:
    """The root, its industry unions (with their small subtrees) and the 16 district nodes."""
    gen = _Gen("city")
    city = OrgSpec(
        name=CITY_NAME,
        kind=OrgKind.CITY,
        fields=dict(
            short_name="市总工会",
            region_code=CITY_CODE,
            credit_code=credit_code("81", CITY_CODE, 310_001),
            address="上海市黄浦区西藏中路120号",
            phone="021-12351",
            established_on=dt.date(1950, 2, 1),
        ),
    )
    city.officers = gen.officers(OrgKind.CITY)
    city.stations = [
        dict(
            name="上海市职工服务中心",
            kind=ServiceStation.Kind.CENTRE,
            address="上海市黄浦区西藏中路120号",
            latitude=Decimal("31.234100"),
            longitude=Decimal("121.477500"),
            opening_hours="周一至周五 9:00-17:00",
            services="12351 职工服务热线、法律援助、困难职工帮扶、职工入会与会员服务",
            phone="12351",
        )
    ]
    for name, short, grassroots in INDUSTRY_UNIONS:
        iu = city.add(name, OrgKind.INDUSTRY_UNION, short_name=short, phone=gen.phone())
        iu.officers = gen.officers(OrgKind.INDUSTRY_UNION)
        for union_name in grassroots:
            g = iu.add(union_name, OrgKind.GRASSROOTS)
            g.officers = gen.officers(OrgKind.GRASSROOTS)
        if name == "上海市建设交通工会":
            fed_name, unions = TAXI_FEDERATION
            fed = iu.add(fed_name, OrgKind.INDUSTRY_FEDERATION)
            fed.officers = gen.officers(OrgKind.INDUSTRY_FEDERATION)
            for union_name in unions:
                g = fed.add(union_name, OrgKind.GRASSROOTS)
                g.officers = gen.officers(OrgKind.GRASSROOTS)
    for d in DISTRICTS:
        dgen = _Gen(f"district-node:{d.code}")
        node = city.add(
            f"{d.name}总工会",
            OrgKind.DISTRICT,
            short_name=d.name,
            region_code=d.code,
            credit_code=credit_code("81", d.code, 500_000 + int(d.code[-3:]) * 13),
            address=dgen.address(d),
            phone=dgen.phone(),
            established_on=dgen.date(dt.date(1950, 1, 1), dt.date(1995, 12, 31)),
        )
        node.officers = dgen.officers(OrgKind.DISTRICT)
        lat, lon = dgen.point(d)
        node.stations = [
            dict(
                name=f"{d.name}职工服务中心",
                kind=ServiceStation.Kind.CENTRE,
                address=node.fields["address"],
                latitude=lat,
                longitude=lon,
                opening_hours="周一至周五 9:00-17:00，周六 9:00-12:00",
                services="法律援助、劳动争议调解、困难职工帮扶、职工技能培训",
                phone=node.fields["phone"],
            )
        ]
    return city


# --- writing --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    org: str  # "city", a district code, or a street name under 浦东新区
    role: str
    is_superuser: bool = False
    is_staff: bool = False


DEMO_LOGINS = (
    DemoLogin("admin", "系统管理员", "", "", is_superuser=True, is_staff=True),
    # The city admin may use the (scoped) Django admin; see organizations/admin.py.
    DemoLogin("city", "市总工会管理员", "city", "federation_admin", is_staff=True),
    DemoLogin("pudong", "浦东新区总工会经办人", "310115", "clerk"),
    DemoLogin("huangpu", "黄浦区总工会经办人", "310101", "clerk"),
    DemoLogin("street", "陆家嘴街道总工会经办人", "陆家嘴街道总工会", "clerk"),
)


def _subtree_range(path: str) -> tuple[str, str]:
    """Bounds of the paths under `path`, as a range an index serves on every backend.

    SQLite's LIKE is case-insensitive and so never uses the index for `startswith`; a
    re-run at a large scale would rescan the table once per street.
    """
    return path, path + Organization.alphabet[-1] * (255 - len(path))


def _chunks(items: list, size: int = _BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DemoBuilder:
    """Reconciles the database with the demo city, one district per transaction."""

    def __init__(self, *, scale: int = 1, reset_passwords: bool = False, log=None):
        if not 1 <= scale <= MAX_SCALE:
            raise ValueError(f"scale must be between 1 and {MAX_SCALE}")
        self.scale = scale
        self.reset_passwords = reset_passwords
        self.log = log or (lambda msg: None)
        self.created: dict[str, int] = defaultdict(int)
        self._pending: list[tuple[OrgSpec, Organization]] = []
        self._numchild_inc: dict[str, int] = defaultdict(int)

    # -- public

    def run(self) -> dict[str, int]:
        started = time.monotonic()
        with transaction.atomic():
            city = city_spec()
            self._ensure_root(city)
            self._place(city, full=False)
            districts = city.children[len(INDUSTRY_UNIONS) :]
            top_level = [city, *districts]
            for iu in city.children[: len(INDUSTRY_UNIONS)]:
                self._place(iu, full=True)
                top_level += list(iu.walk())
            self._flush(top_level, [])
        for d_index, (district, spec) in enumerate(zip(DISTRICTS, districts, strict=True)):
            with transaction.atomic():
                enterprises = build_district(spec, district, d_index, self.scale)
                self._place(spec, full=False)
                for child in spec.children:
                    self._place(child, full=True)
                # The district node's own officers and stations went with the top level.
                self._flush([s for child in spec.children for s in child.walk()], enterprises)
            self.log(f"{district.name}：完成")
            # With DEBUG on, Django keeps every SQL string; bulk inserts would pile up.
            reset_queries()
        with transaction.atomic():
            self._logins(city)
        changed = any(self.created.values())
        if changed or CoverageSummary.objects.count() != Organization.objects.count():
            coverage_refresh()
        if changed:
            log_action(
                actor=None,
                action="demo.seeded",
                target=Organization.objects.get(pk=city.pk),
                data={"scale": self.scale, "created": dict(self.created)},
            )
        self.created["seconds"] = round(time.monotonic() - started, 2)
        return dict(self.created)

    # -- organisations

    def _ensure_root(self, spec: OrgSpec) -> None:
        root = Organization.objects.filter(depth=1, kind=OrgKind.CITY, region_code=CITY_CODE).first()
        if root is None:
            root = Organization.objects.filter(depth=1, name=spec.name).first()
        if root is None:
            assert spec.kind in ROOT_KINDS
            root = Organization(name=spec.name, kind=spec.kind, **spec.fields)
            root.clean_fields(exclude=_ORG_EXCLUDE)
            root = Organization.objects.add_root(instance=root)
            spec.new = True
            self.created["organizations"] += 1
        spec.path, spec.depth, spec.pk = root.path, root.depth, root.pk

    def _place(self, spec: OrgSpec, *, full: bool) -> None:
        """Give `spec`'s children (all descendants if `full`) a path, reusing existing rows.

        `spec` itself is already placed. Existing rows are read with one query for the
        subtree (or for the children only when not `full`), never one per node.
        """
        index: dict[tuple[str, tuple[str, str]], tuple[int, str]] = {}
        maxstep: dict[str, int] = defaultdict(int)
        if not spec.new:
            qs = Organization.objects.filter(path__range=_subtree_range(spec.path)).exclude(pk=spec.pk)
            if not full:
                qs = qs.filter(depth=spec.depth + 1)
            steplen = Organization.steplen
            for pk, path, name, region, credit in qs.order_by().values_list(
                "pk", "path", "name", "region_code", "credit_code"
            ):
                parent = path[:-steplen]
                for key in (("name", name), ("region", region), ("credit", credit)):
                    if key[1]:
                        index.setdefault((parent, key), (pk, path))
                maxstep[parent] = max(maxstep[parent], Organization._str2int(path[-steplen:]))
        seen: set[tuple[str, str]] = set()
        stack = [(spec, child) for child in reversed(spec.children)]
        while stack:
            parent, child = stack.pop()
            if (parent.path, child.name) in seen:
                # Two specs would map to one row on the next run and double its officers.
                raise ValueError(f"duplicate sibling name in the demo spec: {child.name}")
            seen.add((parent.path, child.name))
            found = (
                None if parent.new else next(filter(None, (index.get((parent.path, k)) for k in child.keys())), None)
            )
            if found:
                child.pk, child.path = found
                child.depth = parent.depth + 1
                child.new = False
            else:
                self._new_org(parent, child, maxstep)
            if full:
                stack.extend((child, grandchild) for grandchild in reversed(child.children))

    def _new_org(self, parent: OrgSpec, spec: OrgSpec, maxstep: dict[str, int]) -> None:
        if spec.kind not in ALLOWED_CHILD_KINDS[parent.kind]:
            raise ValueError(f"{spec.name}: kind {spec.kind} may not sit under {parent.kind}")
        maxstep[parent.path] += 1
        spec.depth = parent.depth + 1
        spec.path = Organization._get_path(parent.path, spec.depth, maxstep[parent.path])
        spec.new = True
        org = Organization(path=spec.path, depth=spec.depth, numchild=0, name=spec.name, kind=spec.kind, **spec.fields)
        try:
            org.clean_fields(exclude=_ORG_EXCLUDE)
        except ValidationError as exc:
            raise ValueError(f"{spec.name}: {exc}") from exc
        self._pending.append((spec, org))
        self._numchild_inc[parent.path] += 1

    def _flush(self, specs: Iterable[OrgSpec], enterprises: list[EnterpriseSpec]) -> None:
        """Insert the pending organisations, then the enterprises, officers and stations."""
        pending, self._pending = self._pending, []
        by_path = {org.path: org for _spec, org in pending}
        existing_parents: dict[int, list[str]] = defaultdict(list)
        for path, inc in self._numchild_inc.items():
            if path in by_path:
                by_path[path].numchild += inc
            else:
                existing_parents[inc].append(path)
        self._numchild_inc = defaultdict(int)
        Organization.objects.bulk_create([org for _s, org in pending], batch_size=_BATCH)
        for spec, org in pending:
            spec.pk = org.pk
        missing = [spec for spec, _o in pending if spec.pk is None]
        if missing:  # backends that do not return ids from a bulk insert
            ids = dict(
                Organization.objects.filter(path__in=[s.path for s in missing]).values_list("path", "pk"),
            )
            for spec in missing:
                spec.pk = ids[spec.path]
        for inc, paths in existing_parents.items():
            for chunk in _chunks(paths):
                Organization.objects.filter(path__in=chunk).update(numchild=F("numchild") + inc)
        self.created["organizations"] += len(pending)
        self._enterprises(enterprises)
        specs = list(specs)
        self._owned(specs, Officer, "officers", ("name", "position"))
        self._owned(specs, ServiceStation, "stations", ("name",))

    def _enterprises(self, specs: list[EnterpriseSpec]) -> None:
        codes = [e.fields["credit_code"] for e in specs]
        existing: set[str] = set()
        for chunk in _chunks(codes):
            existing.update(Enterprise.objects.filter(credit_code__in=chunk).values_list("credit_code", flat=True))
        rows = []
        for e in specs:
            if e.fields["credit_code"] in existing:
                continue
            ent = Enterprise(
                supervisor_id=e.supervisor.pk,
                union_id=e.union.pk if e.union else None,
                org_path=e.supervisor.path,
                **e.fields,
            )
            try:
                ent.clean_fields(exclude=("supervisor", "union"))
            except ValidationError as exc:
                raise ValueError(f"{ent.name}: {exc}") from exc
            rows.append(ent)
        Enterprise.objects.bulk_create(rows, batch_size=_BATCH)
        self.created["enterprises"] += len(rows)

    def _owned(self, specs: list[OrgSpec], model, attr: str, key_fields: tuple[str, ...]) -> None:
        """Create the officers or stations of `specs` that are not there yet."""
        old_ids = [s.pk for s in specs if not s.new and getattr(s, attr)]
        existing: set[tuple] = set()
        for chunk in _chunks(old_ids):
            existing.update(model.objects.filter(organization_id__in=chunk).values_list("organization_id", *key_fields))
        rows = []
        for spec in specs:
            for values in getattr(spec, attr):
                if (spec.pk, *(values[f] for f in key_fields)) in existing:
                    continue
                obj = model(organization_id=spec.pk, **values)
                try:
                    obj.clean_fields(exclude=("organization",))
                except ValidationError as exc:
                    raise ValueError(f"{spec.name} / {values.get('name')}: {exc}") from exc
                rows.append(obj)
        model.objects.bulk_create(rows, batch_size=_BATCH)
        self.created[attr] += len(rows)

    # -- logins

    def _logins(self, city: OrgSpec) -> None:
        districts = {
            s.fields["region_code"]: s for s in city.children if s.kind == OrgKind.DISTRICT and s.pk is not None
        }
        pudong = districts["310115"]
        street = Organization.objects.filter(
            path__startswith=pudong.path, depth=pudong.depth + 1, name="陆家嘴街道总工会"
        ).first()
        targets = {"city": city.pk, "310115": pudong.pk, "310101": districts["310101"].pk}
        if street is not None:
            targets["陆家嘴街道总工会"] = street.pk
        password_hash = None
        users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_LOGINS])}
        for login in DEMO_LOGINS:
            user = users.get(login.username)
            if user is None or self.reset_passwords:
                # One hash for all demo logins: argon2 is slow on purpose.
                password_hash = password_hash or make_password(DEMO_PASSWORD)
            if user is None:
                user = User.objects.create(
                    username=login.username,
                    display_name=login.display_name,
                    kind=User.Kind.STAFF,
                    is_superuser=login.is_superuser,
                    is_staff=login.is_staff,
                    password=password_hash,
                )
                self.created["users"] += 1
            elif self.reset_passwords:
                user.password = password_hash
                user.is_active = True
                user.save(update_fields=["password", "is_active"])
            if login.role and login.org in targets:
                assignment, made = RoleAssignment.objects.get_or_create(
                    user=user, organization_id=targets[login.org], role=login.role
                )
                if made:
                    self.created["roles"] += 1
                    log_action(
                        actor=None,
                        action="role.assigned",
                        target=assignment,
                        organization=assignment.organization,
                        data={"user": user.username, "role": login.role, "by": "seed_demo"},
                    )
                forget_reach(user)
