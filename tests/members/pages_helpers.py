"""Constants and helpers shared by the member page tests (fixtures: tests/members/conftest.py).

The subject is `pd_member`, an active member of a 浦东 grassroots union: the owner and
the 浦东 clerk see it; the 黄浦 clerk (outsider) must get 404 on anything about it and
never find it in a list, a search or an export; workers are sent to their own pages and
anonymous users to the login page.
"""

from django.urls import reverse

from members import services
from tests.factories import make_id_number

ACTORS = ("owner", "clerk", "outsider", "worker", "anonymous")
PD_NAME = "浦东甲会员"
HP_NAME = "黄浦乙会员"
PD_ID = make_id_number(region="310115")
HP_ID = make_id_number(region="310101")
PD_MOBILE = "13811112222"


def login_as(client, request, actor):
    if actor != "anonymous":
        client.force_login(request.getfixturevalue(actor))
    return client


def assert_staff_outcome(response, actor, *, staff=200, outsider=404):
    """The five-actor rule for staff pages."""
    if actor == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif actor == "worker":
        assert response.status_code == 302
        assert response["Location"] == reverse("selfservice-home")
    elif actor == "outsider":
        assert response.status_code == outsider, response.status_code
    else:
        assert response.status_code == staff, response.status_code


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def submit_application(code, *, name="申请人甲", id_number=None, mobile="13900001111", password="Join-pass-2024"):
    return services.join_application_submit(
        code=services.join_code_public(code),
        name=name,
        id_number=id_number or make_id_number(region="310115"),
        mobile=mobile,
        employment_form="rider",
        employer_name="某外卖平台",
        consent=True,
        password=password,
    )
