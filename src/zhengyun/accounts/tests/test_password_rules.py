"""Password rules (GB/T 22239 level 3 身份鉴别): eight characters or more, from at least
three of four character classes — checked wherever a password is set."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from zhengyun.demo.loader import DEMO_PASSWORD


@pytest.mark.parametrize(
    "password", ["alllowercase1", "ALLUPPER2026", "Short1!", "abcdefgh", "密码密码密码密码"]
)
def test_simple_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        password_validation.validate_password(password)


@pytest.mark.parametrize("password", ["Lower-and-1", "UPPER.lower.x", "Zy2026city!", DEMO_PASSWORD])
def test_passwords_from_three_classes_pass(password):
    password_validation.validate_password(password)


def test_the_rule_is_explained_where_passwords_are_chosen():
    from zhengyun.accounts.password_validation import CharacterClassValidator

    explained = CharacterClassValidator().get_help_text()
    assert "3" in explained
    assert explained in password_validation.password_validators_help_texts()


@pytest.mark.django_db
def test_the_api_refuses_a_weak_password_and_creates_nothing(world, api_as):
    from zhengyun.accounts.models import User

    response = api_as(world.admin_a).post(
        "/api/v1/accounts/users/",
        {"username": "weakling", "password": "weakweak", "department": world.department_a.pk},
        format="json",
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"password"}
    assert not User.objects.filter(username="weakling").exists()
