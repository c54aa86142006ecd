"""Console pages per role: what each sees, scope switching, forms through services, and
bounded query counts on list pages."""

import pytest
from django.test import override_settings

from zhengyun.accounts.middleware import SESSION_KEY
from zhengyun.accounts.models import ApiToken, RoleAssignment
from zhengyun.accounts.roles import Role

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/organizations/tree/",
    "/organizations/departments/",
    "/accounts/users/",
    "/accounts/tokens/",
    "/organizations/providers/",
]


def menu_labels(response):
    return {item["url"] for item in response.context["menu"]}


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/organizations/departments/")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


@pytest.mark.parametrize(
    "person", ["operator", "secadmin", "auditor", "supervisor_a", "admin_a", "staff_a", "leader_a"]
)
def test_every_role_opens_every_menu_page(world, client, person):
    client.force_login(getattr(world, person))
    home = client.get("/")
    assert home.status_code == 200
    for url in menu_labels(home):
        assert client.get(url).status_code == 200, url


def test_navigation_follows_the_role(world, client):
    client.force_login(world.auditor)
    assert "/audit/events/" in menu_labels(client.get("/"))
    client.force_login(world.staff_a)
    menu = menu_labels(client.get("/"))
    assert "/audit/events/" not in menu and "/accounts/users/" not in menu


def test_home_cards_count_only_what_the_scope_shows(world, client):
    client.force_login(world.staff_a)
    cards = {c.get("url"): c["value"] for c in client.get("/").context["cards"]}
    assert cards["organizations:department-list"] == 1
    assert "audit:event-list" not in cards
    client.force_login(world.operator)
    cards = {c.get("url"): c["value"] for c in client.get("/").context["cards"]}
    assert cards["organizations:department-list"] == 2
    cards = client.get("/", HTTP_HX_REQUEST="true")
    assert cards.templates[0].name == "console/_cards.html"


def test_another_departments_page_is_404(world, client):
    client.force_login(world.staff_a)
    assert client.get(f"/organizations/departments/{world.department_b.pk}/").status_code == 404
    assert client.get(f"/accounts/users/{world.staff_b.pk}/").status_code == 404
    assert client.get(f"/organizations/tree/{world.county_b.code}/").status_code == 404


def test_staff_cannot_open_the_add_department_form(world, client):
    from zhengyun.audit.models import AuditEvent

    client.force_login(world.staff_a)
    assert client.get("/organizations/departments/add/").status_code == 403
    denial = AuditEvent.objects.get(actor=world.staff_a, result="denied")
    assert denial.action == "organizations.department.add"


def test_tree_search_by_name_and_code(world, client):
    client.force_login(world.operator)
    found = client.get("/organizations/tree/", {"q": "甲区"}).context
    assert [d.name for d in found["found_departments"]] == ["甲区公安局"]
    assert [
        r.code for r in client.get("/organizations/tree/", {"q": "9902"}).context["found_regions"]
    ] == ["990200", "990202"]


def test_tree_children_load_regions_then_departments(world, client):
    client.force_login(world.operator)
    response = client.get(f"/organizations/tree/{world.county_a.code}/")
    assert [d.name for d in response.context["departments"]] == ["甲区公安局"]
    province = client.get("/organizations/tree/990000/").context
    assert [r.code for r in province["children"]] == ["990100", "990200"]


def test_switching_scope_narrows_the_console(world, client):
    from zhengyun.accounts import services

    services.assign_role(
        actor=world.secadmin,
        user=world.staff_a,
        role=Role.SUPERVISOR,
        scope="region",
        region=world.province,
    )
    client.force_login(world.staff_a)
    wide = client.get("/organizations/departments/").context["table"].paginator.count
    staff_scope = RoleAssignment.objects.get(user=world.staff_a, role=Role.DEPARTMENT_STAFF)
    response = client.post(
        "/scope/", {"assignment": staff_scope.pk, "next": "/organizations/departments/"}
    )
    assert response["Location"] == "/organizations/departments/"
    assert client.session[SESSION_KEY] == staff_scope.pk
    narrow = client.get("/organizations/departments/").context["table"].paginator.count
    assert (wide, narrow) == (2, 1)
    client.post("/scope/", {"assignment": "", "next": "https://evil.example/"})
    assert SESSION_KEY not in client.session


def test_granting_a_role_from_the_console(world, client):
    from zhengyun.accounts import services

    newcomer = services.create_user(
        actor=world.admin_a, username="newbie", department=world.department_a
    )
    client.force_login(world.admin_a)
    response = client.post(
        f"/accounts/users/{newcomer.pk}/",
        {
            "role": Role.DEPARTMENT_LEADER,
            "scope": "department",
            "department": world.department_a.pk,
        },
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=newcomer, role=Role.DEPARTMENT_LEADER).exists()
    refused = client.post(
        f"/accounts/users/{newcomer.pk}/", {"role": Role.SYSTEM_ADMIN, "scope": "platform"}
    )
    assert refused.status_code == 403


def test_editing_a_department_from_the_console(world, client):
    client.force_login(world.admin_a)
    url = f"/organizations/departments/{world.department_a.pk}/edit/"
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(short_name="甲公安", is_active="on")
    assert client.post(url, data).status_code == 302
    world.department_a.refresh_from_db()
    assert world.department_a.short_name == "甲公安"


def test_api_token_secret_is_shown_once_and_revocable(world, client):
    client.force_login(world.staff_a)
    response = client.post("/accounts/tokens/", {"name": "脚本", "days": 30})
    secret = response.context["secret"]
    assert secret.startswith("zy_")
    assert secret not in client.get("/accounts/tokens/").content.decode()
    token = ApiToken.objects.get(user=world.staff_a)
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/organizations/tree/",
        "/organizations/departments/",
        "/accounts/users/",
        "/audit/events/",
    ],
)
def test_list_pages_make_a_bounded_number_of_queries(
    world, client, url, django_assert_max_num_queries
):
    from zhengyun.accounts import services

    for n in range(30):  # enough rows that an N+1 would show
        services.create_user(
            actor=world.admin_a, username=f"extra{n}", department=world.department_a
        )
    client.force_login(world.auditor if url.startswith("/audit") else world.operator)
    client.get(url)
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200


def test_department_admin_adds_a_colleague_from_the_console(world, client):
    from zhengyun.accounts.models import User

    client.force_login(world.admin_a)
    form = client.get("/accounts/users/add/").context["form"]
    assert form.fields["department"].initial == world.department_a.pk
    response = client.post(
        "/accounts/users/add/",
        {
            "username": "colleague",
            "display_name": "同事",
            "department": world.department_a.pk,
            "password": "Zy-colleague-2026",
        },
    )
    assert response.status_code == 302
    colleague = User.objects.get(username="colleague")
    assert colleague.department == world.department_a
    assert colleague.check_password("Zy-colleague-2026")


def test_adding_a_user_elsewhere_or_with_a_weak_password_saves_nothing(world, client):
    from zhengyun.accounts.models import User

    client.force_login(world.admin_a)
    weak = client.post(
        "/accounts/users/add/",
        {"username": "weak", "password": "123", "department": world.department_a.pk},
    )
    assert weak.status_code == 200 and weak.context["form"].errors["password"]
    elsewhere = client.post(
        "/accounts/users/add/", {"username": "spy", "department": world.department_b.pk}
    )
    assert elsewhere.status_code == 200 and elsewhere.context["form"].errors["department"]
    assert not User.objects.filter(username__in=["weak", "spy"]).exists()
    client.force_login(world.staff_a)
    assert client.get("/accounts/users/add/").status_code == 403
