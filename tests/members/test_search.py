"""Name and initials search ordered like its index: (column, org_path, id), text in byte order.

Paged by keyset to the end, a search returns exactly the matching members in reach, each
once, in that order; an exact lookup keeps the list's order; on PostgreSQL the query is one
ordered range read of the (column, org_path, id) index (members/0006), no sort.
"""

import re

import pytest
from django.db import connection
from django.urls import reverse

from core.pages import keyset_page_by
from members.models import Member
from members.selectors import SEARCH_KEYS, member_search, member_search_keys, members_for_user
from tests.factories import make_member, nth_name

from .pages_helpers import body

# Surnames whose initials share a prefix across both districts and several unions.
PEOPLE = [
    ("pd_union", "张三"),
    ("pd_union", "张顺"),
    ("hp_union", "张山"),
    ("pd_union", "赵四"),
    ("pd_street_union", "张三丰"),
    ("pd_street_union", "周树"),
    ("hp_union", "周三"),
    ("pd_union", "王五"),
    ("pd_street_union", "张三"),
]


@pytest.fixture
def people(tree, owner):
    from organizations.models import OrgKind
    from tests.factories import add_org

    unions = {
        **tree,
        "pd_street_union": add_org(tree["lujiazui"], name="浦东第二测试公司工会", kind=OrgKind.GRASSROOTS),
    }
    return [make_member(unions[u], actor=owner, name=name).member for u, name in PEOPLE]


def _expected(members, user, field, prefix):
    in_reach = set(members_for_user(user).values_list("pk", flat=True))
    found = [m for m in members if m.pk in in_reach and getattr(m, field).startswith(prefix)]
    return sorted(found, key=lambda m: (getattr(m, field).encode(), m.org_path.encode(), m.pk))


def _all_pages(user, query, size):
    qs = member_search(members_for_user(user), query)
    keys = member_search_keys(query)
    rows, cursor, pages = [], "", 0
    while True:
        page = keyset_page_by(qs, keys=keys, cursor=cursor, size=size)
        rows += page.rows
        pages += 1
        if not page.next_cursor:
            return rows, pages
        cursor = page.next_cursor


@pytest.mark.parametrize(
    ("query", "field", "prefix"),
    [("z", "name_initials", "z"), ("ZS", "name_initials", "zs"), ("张", "name", "张"), ("张三", "name", "张三")],
)
@pytest.mark.parametrize("size", [1, 2, 50])
def test_it_pages_a_search_to_the_end_in_index_order_within_reach(people, clerk, owner, query, field, prefix, size):
    for user in (clerk, owner):
        rows, pages = _all_pages(user, query, size)
        expected = _expected(people, user, field, prefix)
        assert [m.pk for m in rows] == [m.pk for m in expected], (user, query)
        assert pages == max(1, -(-len(expected) // size)), (user, query)


def test_it_keeps_a_search_inside_the_clerks_district(tree, people, clerk, outsider):
    pudong = {m.pk for m in people if m.org_path.startswith(tree["pudong"].path)}
    huangpu = {m.pk for m in people} - pudong
    for query in ("z", "zs", "张", "周"):
        for user, own, other in ((clerk, pudong, huangpu), (outsider, huangpu, pudong)):
            rows, _pages = _all_pages(user, query, 2)
            found = {m.pk for m in rows}
            assert found and found <= own and not found & other, (user, query)


def test_the_search_orders_by_the_searched_column_then_the_union_then_id(people, owner):
    rows, _pages = _all_pages(owner, "张三", 50)
    assert [m.name for m in rows] == ["张三", "张三", "张三丰"]
    # Two 张三 in two unions: the union's path decides, not who registered first.
    assert rows[0].org_path < rows[1].org_path


def test_exact_lookups_keep_the_lists_order_and_have_no_search_keys(people, owner):
    member = people[0]
    assert member_search_keys("") is None
    assert member_search_keys("13800001111") is None
    assert member_search_keys(member.current_membership.member_number) is None
    assert member_search_keys("zs") == SEARCH_KEYS["name_initials"]
    assert member_search_keys(" 张 ") == SEARCH_KEYS["name"]
    qs = member_search(members_for_user(owner).order_by("-id"), member.current_membership.member_number)
    assert list(qs) == [member]


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "WzEsMiwzXQ",
        "WyJ6cyIsIjAwMDEiLCJ4Il0",
        "W1tdLCIiLDFd",
        "WyJ6IiwiMDAwMSIsMTAwMDAwMDAwMDAwMDAwMDAwMDAwXQ",
    ],
)
def test_a_hand_edited_search_cursor_starts_over_instead_of_failing(client, people, owner, cursor):
    client.force_login(owner)
    response = client.get(reverse("member-list"), {"q": "z", "cursor": cursor})
    assert response.status_code == 200
    assert "张三" in body(response)


def test_the_roll_page_pages_a_search_by_its_next_links(client, tree, owner, monkeypatch):
    import members.views.roll as roll

    for i in range(5):
        make_member(tree["pd_union" if i % 2 else "hp_union"], actor=owner, name=nth_name("搜页", i))
    make_member(tree["pd_union"], actor=owner, name="别的")
    monkeypatch.setattr(roll, "PAGE_SIZE", 2)
    client.force_login(owner)
    seen, cursor = [], None
    for _ in range(5):
        page = body(client.get(reverse("member-list"), {"q": "搜页", **({"cursor": cursor} if cursor else {})}))
        seen += re.findall(r"搜页[甲乙丙丁戊]", page)
        found = re.search(r'href="[^"]*[?&]cursor=([^"&]+)[^"]*" rel="next"', page)
        if not found:
            break
        cursor = found.group(1)
    names = [nth_name("搜页", i) for i in range(5)]
    by_key = sorted(Member.objects.filter(name__in=names), key=lambda m: (m.name.encode(), m.org_path.encode(), m.pk))
    assert seen == [m.name for m in by_key] and "别的" not in seen


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the byte-order indexes are PostgreSQL's (members/0006)")
@pytest.mark.parametrize(("query", "index"), [("zs", "member_initials_path_idx"), ("张", "member_name_path_idx")])
def test_on_postgresql_a_search_page_is_one_ordered_index_range(people, clerk, query, index):
    from django.db import connection as conn

    qs = member_search(members_for_user(clerk), query)
    page = keyset_page_by(qs, keys=member_search_keys(query), cursor="", size=1)
    later = member_search(members_for_user(clerk), query)
    with conn.cursor() as cur:
        # A tiny test table would be scanned whole; forbid that to see whether the index *can*
        # serve the query as written (collation, expressions and order must all match it).
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_sort = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        for built in (qs[:51], keyset_page_by_query(later, query, page.next_cursor)):
            sql, params = built.query.sql_with_params()
            cur.execute("EXPLAIN " + sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
            assert f"Index Scan using {index} on members_member" in plan, plan
            assert "Sort Key" not in plan, plan
            # The district is an index condition (checked on the entries), not a filter on rows.
            assert any("Index Cond" in line and "org_path" in line for line in plan.splitlines()), plan


def keyset_page_by_query(qs, query, cursor):
    """The queryset keyset_page_by runs for the page after `cursor` (to EXPLAIN it)."""
    from core.pages import RowAfter, _decode_keys, byte_order

    keys = member_search_keys(query)
    columns = [byte_order(qs, k) for k in keys]
    return qs.order_by(*columns).filter(RowAfter(columns, _decode_keys(qs, keys, cursor)))[:51]


def test_the_api_pages_a_search_in_the_same_order_by_its_next_links(people, clerk, outsider):
    from tests.conftest import client_for

    for user in (clerk, outsider):
        api = client_for(user)
        expected = _expected(people, user, "name_initials", "z")
        seen, url, params = [], reverse("api:member-list"), {"q": "z", "page_size": 1}
        for _ in range(len(people) + 1):
            response = api.get(url, params)
            assert response.status_code == 200, response.content
            data = response.json()
            assert data["previous"] is None
            seen += [row["id"] for row in data["results"]]
            if not data["next"]:
                break
            url, params = data["next"], None
        assert seen == [m.pk for m in expected] and seen


def test_the_api_keeps_newest_first_for_the_plain_list_and_exact_lookups(people, owner):
    from tests.conftest import client_for

    api = client_for(owner)
    ids = [row["id"] for row in api.get(reverse("api:member-list")).json()["results"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(people)
    number = people[0].current_membership.member_number
    assert [row["id"] for row in api.get(reverse("api:member-list"), {"q": number}).json()["results"]] == [people[0].pk]
