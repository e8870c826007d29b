"""The plan of a synthetic city: its organisation tree, enterprises and how many members each union holds.

Pure Python and deterministic: the same (members, seed) always yields the same plan, so
a benchmark database can be rebuilt bit for bit. The shape follows the domain: the city
federation with its industry unions; the 16 real Shanghai districts (names, GB/T 2260
codes and real street names from organizations.demo); under each district its streets
and towns (synthetic "片区" once the real names run out), an industrial park and an
industry federation where the demo has them, building unions and regional federations
under busy streets; grassroots unions (about one per 100 members) each with its
enterprise; union groups under large grassroots unions; and a platform-workers' union
group under some streets (riders and couriers join there).

The domains' rows (hardship files, dispute cases, service projects) come from their own
modules (bench/gen_*.py), run by generate.py after the city: see DOMAIN_HOOKS.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from organizations.demo import credit_code
from organizations.demo.data import (
    BRAND_CHARS,
    DISTRICT_FEDERATIONS,
    DISTRICTS,
    INDUSTRIES,
    INDUSTRY_UNIONS,
    OWNERSHIP_MIX,
    PARKS,
    RIDER_STREETS,
    SURNAMES,
    TAXI_FEDERATION,
    District,
)
from organizations.models import ALLOWED_CHILD_KINDS, Organization, OrgKind

K = OrgKind
# Rough share of the city's union members per district (by employment), summing to 100.
DISTRICT_WEIGHTS = {
    "310101": 4.0,  # 黄浦
    "310104": 6.0,  # 徐汇
    "310105": 4.0,  # 长宁
    "310106": 6.0,  # 静安
    "310107": 5.0,  # 普陀
    "310109": 3.5,  # 虹口
    "310110": 5.0,  # 杨浦
    "310112": 9.0,  # 闵行
    "310113": 6.0,  # 宝山
    "310114": 7.0,  # 嘉定
    "310115": 20.0,  # 浦东
    "310116": 3.0,  # 金山
    "310117": 7.0,  # 松江
    "310118": 5.0,  # 青浦
    "310120": 5.0,  # 奉贤
    "310151": 4.5,  # 崇明
}
MEMBERS_PER_GRASSROOTS = 100
INDUSTRY_SHARE = 0.04  # grassroots unions of public bodies under the city's industry unions
PLATFORM_SHARE = 0.03  # members held by streets' platform-worker union groups
STREET_DIRECT_SHARE = 0.01  # flexible workers held directly by a street union
GROUP_SHARE = 0.2  # of a large grassroots union's members, held by its union groups
GRASSROOTS_PER_STREET = 250
UNIONIZED_SHARE = 0.65  # formation rate the generator aims at (enterprises with a union)
SUPERVISOR_KINDS = frozenset({K.STREET, K.PARK, K.DISTRICT, K.REGIONAL_FEDERATION})
GROUP_NAMES = ("生产一部", "生产二部", "研发中心", "销售部", "行政后勤", "质量管理部", "客户服务部", "仓储物流部")
PUBLIC_BODIES = {
    "上海市教育工会": ("中学", "小学", "职业技术学校", "幼儿园"),
    "上海市卫生健康工会": ("医院", "社区卫生服务中心", "护理院"),
    "上海市建设交通工会": ("公交有限公司", "轨道交通运营公司", "市政养护公司"),
    "上海市金融工会": ("银行支行", "证券营业部", "保险分公司"),
    "上海市机电工会": ("电气有限公司", "机械厂", "仪表厂"),
}


@dataclass(slots=True, eq=False)
class Org:
    """An organisation of the plan, already placed (id, treebeard path and depth)."""

    id: int
    path: str
    depth: int
    name: str
    kind: str
    parent: Org | None
    region: str  # region code of the nearest district (or the city): member-number prefix
    short_name: str = ""
    region_code: str = ""
    credit_code: str = ""
    address: str = ""
    phone: str = ""
    established_on: dt.date | None = None
    numchild: int = 0
    members: int = 0  # held directly (not counting the subtree)
    enterprise: Ent | None = None  # for grassroots unions: their employer
    children: list[Org] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Ent:
    id: int
    credit_code: str
    name: str
    ownership: str
    size: str
    industry: str
    employees: int
    address: str
    supervisor: Org
    union: Org | None


@dataclass(frozen=True, slots=True)
class Holder:
    """A union holding members directly: what a member-generation worker needs to know."""

    org_id: int
    path: str
    count: int
    number_prefix: str  # 6-digit region code + 7-digit union id, as members.services does
    employer_id: int | None
    employer_name: str
    platform: bool  # platform workers (riders, couriers, drivers)


class CityPlan:
    """Builds the plan for `members` members; read .orgs, .enterprises and .holders()."""

    def __init__(self, *, members: int, seed: int = 1):
        if members < 1:
            raise ValueError("members must be at least 1")
        self.members = members
        self.seed = seed
        self.rng = random.Random(f"city:{seed}:{members}")
        self.orgs: list[Org] = []
        self.enterprises: list[Ent] = []
        self._ent_names: dict[str, str] = {}  # name -> industry section
        self._build()

    # -- tree

    def _add(self, parent: Org | None, name: str, kind: str, **fields) -> Org:
        if parent is None:
            assert kind == K.CITY
            depth, path = 1, Organization._get_path("", 1, 1)
            region = fields.get("region_code", "")
        else:
            if kind not in ALLOWED_CHILD_KINDS[parent.kind]:
                raise ValueError(f"{name}: kind {kind} may not sit under {parent.kind}")
            parent.numchild += 1
            depth = parent.depth + 1
            path = Organization._get_path(parent.path, depth, parent.numchild)
            region = fields.get("region_code") or parent.region
        org = Org(id=len(self.orgs) + 1, path=path, depth=depth, name=name, kind=kind, parent=parent, region=region)
        for key, value in fields.items():
            setattr(org, key, value)
        if parent is not None:
            parent.children.append(org)
        self.orgs.append(org)
        return org

    def _phone(self) -> str:
        return f"021-{self.rng.randint(5000_0000, 6999_9999)}"

    def _address(self, district: District | None) -> str:
        if district is None:
            return f"上海市黄浦区西藏中路{self.rng.randint(1, 400)}号"
        return f"上海市{district.name}{self.rng.choice(district.roads)}{self.rng.randint(1, 1800)}号"

    def _date(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def _build(self) -> None:
        rng = self.rng
        grassroots_total = max(len(DISTRICTS), round(self.members / MEMBERS_PER_GRASSROOTS))
        city = self._add(
            None,
            "上海市总工会",
            K.CITY,
            short_name="市总工会",
            region_code="310000",
            credit_code=credit_code("81", "310000", 310_001),
            address="上海市黄浦区西藏中路120号",
            phone="021-12351",
            established_on=dt.date(1950, 2, 1),
        )
        self.city = city
        # Industry unions: public bodies (schools, hospitals, transport) as their grassroots unions.
        industry_g = max(len(INDUSTRY_UNIONS), round(grassroots_total * INDUSTRY_SHARE))
        per_iu = _split(industry_g, [1.0] * len(INDUSTRY_UNIONS))
        self.grassroots: list[Org] = []
        for (name, short, _names), n in zip(INDUSTRY_UNIONS, per_iu, strict=True):
            iu = self._add(city, name, K.INDUSTRY_UNION, short_name=short, phone=self._phone())
            parent = iu
            if name == "上海市建设交通工会":
                parent = self._add(iu, TAXI_FEDERATION[0], K.INDUSTRY_FEDERATION)
            kinds = PUBLIC_BODIES[name]
            for i in range(n):
                body = f"上海市第{i + 1}{kinds[i % len(kinds)]}"
                self.grassroots.append(self._add(parent if i % 2 else iu, f"{body}工会", K.GRASSROOTS))
        district_g = _split(grassroots_total - industry_g, [DISTRICT_WEIGHTS[d.code] for d in DISTRICTS])
        self.districts: list[Org] = []
        for d_index, (district, g) in enumerate(zip(DISTRICTS, district_g, strict=True)):
            node = self._add(
                city,
                f"{district.name}总工会",
                K.DISTRICT,
                short_name=district.name,
                region_code=district.code,
                credit_code=credit_code("81", district.code, 500_000 + int(district.code[-3:]) * 13),
                address=self._address(district),
                phone=self._phone(),
                established_on=self._date(dt.date(1950, 1, 1), dt.date(1995, 12, 31)),
            )
            self.districts.append(node)
            self._district(node, district, d_index, g)
        # Members: a few in platform groups and directly at streets, the rest in grassroots
        # unions by a skewed size distribution (many small unions, a few very large ones).
        platform = [o for o in self.orgs if o.kind == K.UNION_GROUP and o.name.endswith("新就业形态工会小组")]
        streets = [o for o in self.orgs if o.kind == K.STREET]
        n_platform = round(self.members * PLATFORM_SHARE) if platform else 0
        n_street = round(self.members * STREET_DIRECT_SHARE)
        n_grassroots = self.members - n_platform - n_street
        for org, n in zip(platform, _split(n_platform, [1.0] * len(platform)), strict=True):
            org.members = n
        for org, n in zip(streets, _split(n_street, [1.0] * len(streets)), strict=True):
            org.members = n
        weights = [rng.lognormvariate(0, 1.1) for _ in self.grassroots]
        for org, n in zip(self.grassroots, _split(n_grassroots, weights), strict=True):
            org.members = n
        # Union groups under large grassroots unions hold part of their members.
        for union in list(self.grassroots):
            if union.members >= 300:
                names = rng.sample(GROUP_NAMES, rng.choice((2, 3)))
                groups = [self._add(union, f"{g}工会小组", K.UNION_GROUP) for g in names]
                moved = _split(round(union.members * GROUP_SHARE), [1.0] * len(groups))
                for group, n in zip(groups, moved, strict=True):
                    group.members = n
                    union.members -= n
        self._enterprises_for_unions()
        for street in streets:
            self._unorganised_enterprises(street)

    def _district(self, node: Org, district: District, d_index: int, g: int) -> None:
        slots: list[tuple[Org, float]] = []  # where this district's grassroots unions go
        if district.code in PARKS:
            park_name, park_short, building = PARKS[district.code]
            park = self._add(node, park_name, K.PARK, short_name=park_short, address=self._address(district))
            slots.append((park, 0.06))
            if building:
                slots.append((self._add(park, building, K.BUILDING, address=self._address(district)), 0.02))
        if district.code in DISTRICT_FEDERATIONS:
            fed_name, _what = DISTRICT_FEDERATIONS[district.code]
            fed = self._add(node, fed_name, K.INDUSTRY_FEDERATION, address=self._address(district))
            slots.append((fed, 0.03))
        real = district.streets
        n_streets = max(len(real), math.ceil(g / GRASSROOTS_PER_STREET)) if g >= len(real) else max(1, g)
        street_share = (1.0 - sum(w for _o, w in slots)) / n_streets
        for idx in range(n_streets):
            base = real[idx % len(real)]
            round_ = idx // len(real)
            short = base if round_ == 0 else f"{base}第{round_ + 1}片区"
            street = self._add(
                node,
                f"{short}总工会",
                K.STREET,
                short_name=short,
                credit_code=credit_code("81", district.code, 1_000_000 + (d_index * 4000 + idx) * 7 + 3),
                address=self._address(district),
                phone=self._phone(),
                established_on=self._date(dt.date(1985, 1, 1), dt.date(2005, 12, 31)),
            )
            expected = g * street_share
            own = street_share
            if expected >= 50:
                regional = self._add(street, f"{short}区域性工会联合会", K.REGIONAL_FEDERATION)
                slots.append((regional, street_share * 0.1))
                own -= street_share * 0.1
            if expected >= 20:
                building = self._add(street, f"{short}商务楼宇联合工会", K.BUILDING, address=self._address(district))
                slots.append((building, street_share * 0.15))
                own -= street_share * 0.15
            slots.append((street, own))
            if base in RIDER_STREETS or idx % 5 == 2:
                self._add(street, f"{short}新就业形态工会小组", K.UNION_GROUP)
        counts = _split(g, [w for _o, w in slots])
        for (parent, _w), n in zip(slots, counts, strict=True):
            for _ in range(n):
                name = self._enterprise_name()
                union = self._add(
                    parent,
                    f"{name}工会",
                    K.GRASSROOTS,
                    address=self._address(district),
                    established_on=self._date(dt.date(1995, 1, 1), dt.date(2024, 6, 30)),
                )
                self.grassroots.append(union)

    # -- enterprises

    def _enterprise_name(self) -> str:
        """A unique enterprise name; its GB/T 4754 section is remembered for the registry row."""
        rng = self.rng
        while True:
            brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
            if brand[0] == brand[1]:
                continue
            industry = rng.choices(_INDUSTRY_KEYS, weights=_INDUSTRY_WEIGHTS)[0]
            phrase = rng.choice(INDUSTRIES[industry][1])
            tail = rng.choice(("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"))
            name = f"上海{brand}{phrase}{tail}"
            if name in self._ent_names:
                # Large cities reuse brands: number the second one, as registries do.
                name = f"上海{brand}{phrase}{rng.choice(SURNAMES)}记{tail}"
            if name not in self._ent_names:
                self._ent_names[name] = industry
                return name

    def _new_enterprise(self, *, name: str, employees: int, supervisor: Org, union: Org | None) -> Ent:
        rng = self.rng
        ownership = _weighted(rng, OWNERSHIP_MIX)
        industry = self._ent_names.get(name, "C")
        district = supervisor if supervisor.kind == K.DISTRICT else _ancestor(supervisor, K.DISTRICT)
        ent = Ent(
            id=len(self.enterprises) + 1,
            credit_code=credit_code("91", district.region_code, 2_000_000 + len(self.enterprises)),
            name=name,
            ownership=ownership,
            size=_size_for(employees),
            industry=industry,
            employees=employees,
            address=union.address if union is not None else "",
            supervisor=supervisor,
            union=union,
        )
        self.enterprises.append(ent)
        return ent

    def _enterprises_for_unions(self) -> None:
        rng = self.rng
        for union in self.grassroots:
            supervisor = _supervisor_of(union)
            if supervisor is None:  # public bodies under industry unions are not in the registry
                continue
            total = union.members + sum(c.members for c in union.children)
            employees = max(3, math.ceil(total / rng.uniform(0.7, 0.97)))
            union.enterprise = self._new_enterprise(
                name=union.name.removesuffix("工会"), employees=employees, supervisor=supervisor, union=union
            )

    def _unorganised_enterprises(self, street: Org) -> None:
        """Enterprises without a union under a street, so the formation rate is about 65%."""
        rng = self.rng
        organised = sum(1 for o in _walk(street) if o.kind == K.GRASSROOTS and o.enterprise is not None)
        for _ in range(round(max(organised, 1) * (1 - UNIONIZED_SHARE) / UNIONIZED_SHARE)):
            employees = max(3, int(rng.lognormvariate(3.0, 1.0)))
            self._new_enterprise(name=self._enterprise_name(), employees=employees, supervisor=street, union=None)

    # -- members

    def holders(self) -> list[Holder]:
        """Unions holding members directly, in a seeded random order (the order rolls were loaded in)."""
        out = []
        for org in self.orgs:
            if org.members <= 0:
                continue
            ent = org.enterprise or (org.parent.enterprise if org.kind == K.UNION_GROUP and org.parent else None)
            out.append(
                Holder(
                    org_id=org.id,
                    path=org.path,
                    count=org.members,
                    number_prefix=f"{org.region or '000000'}{org.id:07d}",
                    employer_id=ent.id if ent is not None else None,
                    employer_name=ent.name if ent is not None else "",
                    platform=org.kind == K.UNION_GROUP and org.name.endswith("新就业形态工会小组"),
                )
            )
        random.Random(f"holders:{self.seed}:{self.members}").shuffle(out)
        return out

    def chunks(self, size: int = 20_000) -> Iterator[tuple[int, int, list[Holder]]]:
        """(chunk number, first member id, holders) with about `size` members each.

        Each union lies in exactly one chunk, so member numbers are drawn chunk-locally.
        """
        batch: list[Holder] = []
        n = 0
        first = 1
        number = 0
        for holder in self.holders():
            batch.append(holder)
            n += holder.count
            if n >= size:
                yield number, first, batch
                number += 1
                first += n
                batch, n = [], 0
        if batch:
            yield number, first, batch

    def check(self) -> None:
        """Sanity of the plan itself (the database is checked again after loading)."""
        assert sum(o.members for o in self.orgs) == self.members
        assert len({o.path for o in self.orgs}) == len(self.orgs)
        for org in self.orgs:
            assert org.numchild == len(org.children)


def _walk(org: Org) -> Iterator[Org]:
    yield org
    for child in org.children:
        yield from _walk(child)


def _ancestor(org: Org, kind: str) -> Org | None:
    while org is not None and org.kind != kind:
        org = org.parent
    return org


def _supervisor_of(union: Org) -> Org | None:
    """The street, park, regional federation or district a grassroots union's employer answers to."""
    node = union.parent
    while node is not None:
        if node.kind in SUPERVISOR_KINDS:
            return node
        if node.kind in (K.INDUSTRY_UNION, K.CITY):
            return None
        node = node.parent
    return None


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder: exact sum, deterministic)."""
    if not weights:
        return []
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[:rest]:
        out[i] += 1
    return out


def _size_for(employees: int) -> str:
    """Enterprise size by headcount (the registry's large/medium/small/micro bands)."""
    if employees >= 1000:
        return "large"
    if employees >= 300:
        return "medium"
    if employees >= 20:
        return "small"
    return "micro"


def _weighted(rng: random.Random, pairs) -> str:
    keys, weights = zip(*pairs, strict=True)
    return rng.choices(keys, weights=weights)[0]


_INDUSTRY_KEYS = tuple(INDUSTRIES)
_INDUSTRY_WEIGHTS = tuple(w for w, _p in INDUSTRIES.values())

# --- domains ----------------------------------------------------------------------------
# Every domain's rows are generated now, each by its own module (bench/gen_aid.py,
# bench/gen_disputes.py, bench/gen_projects.py) run by generate.py after the city. A new
# domain not generated yet is listed here as (app label, model name, rows per 10,000
# members, what the generator should produce); the city's meta reports it.
DOMAIN_HOOKS: tuple[tuple[str, str, float, str], ...] = ()
