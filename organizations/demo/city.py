"""The demo city as it should be: specs of organisations, enterprises, officers, stations.

Nothing here touches the database. Every random choice comes from a `random.Random`
seeded with the key of the thing being built (a district, a street, a park), so a spec
is the same on every run, and a larger scale only adds streets after the real ones.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from organizations.models import Officer, OrgKind, ServiceStation
from organizations.validators import CREDIT_CODE_CHARSET, credit_code_check_char

from .data import (
    BRAND_CHARS,
    CITY_CODE,
    CITY_NAME,
    DISTRICT_FEDERATIONS,
    DISTRICTS,
    GIVEN,
    GROUP_NAMES,
    INDUSTRIES,
    INDUSTRY_UNIONS,
    OPENING_HOURS,
    OWNERSHIP_MIX,
    PARKS,
    REST_HOURS,
    RIDER_STREETS,
    STREET_HUBS,
    SURNAMES,
    TAXI_FEDERATION,
    UNION_CHANCE,
    District,
)

_INDUSTRY_KEYS = tuple(INDUSTRIES)
_INDUSTRY_WEIGHTS = tuple(w for w, _p in INDUSTRIES.values())


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
    """`count` enterprises supervised by `supervisor`; about 70% with a grassroots union.

    `names` holds the names already used in the district: unions of different streets
    can share a parent (the district's express federation), and siblings must differ.
    """
    rng = gen.rng
    out = []
    for i in range(count):
        industry = rng.choices(_INDUSTRY_KEYS, weights=_INDUSTRY_WEIGHTS)[0]
        ownership = _weighted(rng, OWNERSHIP_MIX)
        # Median about 30 employees, a long tail to a few thousand: a city's mix of small
        # firms and large ones, at a size whose members the demo can seed in seconds.
        employees = max(3, int(rng.lognormvariate(3.4, 1.2)))
        if ownership == "state":
            employees = max(employees, 120)
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
