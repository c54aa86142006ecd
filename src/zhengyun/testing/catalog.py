"""Catalog records for tests: a conditional population resource with sensitive items."""


def resource_fields(**overrides):
    """Fields of a valid conditional resource of the base population catalog (类 1 项 01)."""
    fields = {
        "catalog_type": "1",
        "subject_code": "01",
        "category_code": "001",
        "detail_code": "",
        "name": "户籍人口基本信息",
        "abstract": "本区常住户籍人口的姓名、公民身份号码、联系电话和住址。",
        "format": "database",
        "format_detail": "KingbaseES",
        "share_type": "conditional",
        "share_conditions": "仅用于政务服务事项办理中的身份核验。",
        "share_methods": ["interface"],
        "legal_basis": "",
        "open_to_public": False,
        "open_conditions": "",
        "update_cycle": "daily",
        "related_codes": [],
        "maintainer": "王芳",
        "maintainer_phone": "0571-88880000",
        "items": [
            item("姓名", "C", 50, sensitivity="personal", masking="name"),
            item("公民身份号码", "C", 18, sensitivity="personal", masking="resident_id"),
            item("联系电话", "C", 20, sensitivity="personal", masking="mobile"),
            item("住址", "C", 200, sensitivity="sensitive", masking="address"),
            item("出生日期", "D", None),
        ],
    }
    fields.update(overrides)
    return fields


def item(name, data_type, length, **overrides):
    return {
        "name": name,
        "data_type": data_type,
        "length": length,
        "sensitivity": "ordinary",
        "share_type": "conditional",
        "legal_basis": "",
        "masking": "none",
        **overrides,
    }


def published_resource(world, department, author, reviewer=None, **overrides):
    """A resource of ``department`` drafted by ``author`` and published by the operator."""
    from zhengyun.data_resources import catalog

    resource = catalog.create_resource(
        actor=author, department=department, **resource_fields(**overrides)
    )
    catalog.submit_resource(resource, actor=author)
    return catalog.approve_resource(resource, actor=reviewer or world.operator)


def open_licences(world):
    """Department B's business licence resource, open to the public, with one withheld
    item (a legal representative's ID number)."""
    return published_resource(
        world,
        world.department_b,
        world.staff_b,
        subject_code="02",
        name="企业法人营业执照登记信息",
        abstract="市场主体的名称、统一社会信用代码和登记机关。",
        share_type="unconditional",
        share_conditions="",
        open_to_public=True,
        open_conditions="注明数据来源。",
        items=[
            item("企业名称", "C", 200, share_type="unconditional"),
            item("统一社会信用代码", "C", 18, share_type="unconditional"),
            item(
                "法定代表人证件号码", "C", 18, share_type="none", legal_basis="《个人信息保护法》"
            ),
        ],
    )


def consumer_application(user, name="乙区户籍核验系统"):
    """A service-to-service application registered by ``user``'s department (its admin)."""
    from zhengyun.accounts import services as accounts

    client, _secret = accounts.register_oidc_client(
        actor=user, name=name, grant="client-credentials"
    )
    return client


def ask(world, resource, application, items=None, actor=None, **overrides):
    """Department B's staff (or ``actor``) asks for ``items`` of ``resource`` for a year
    from today."""
    import datetime

    from django.utils import timezone

    from zhengyun.data_resources import sharing

    today = timezone.localdate()
    fields = {
        "application": application,
        "items": ["姓名", "公民身份号码", "联系电话"] if items is None else items,
        "purpose": "户籍迁入业务办理时核验申请人身份。",
        "scope": "乙区公安局户政窗口",
        "starts_on": today,
        "ends_on": today + datetime.timedelta(days=365),
        **overrides,
    }
    return sharing.request_sharing(resource, actor=actor or world.staff_b, **fields)


def sharing_beside_a(world):
    """A sharing request approved between department B (provider) and a third department
    of B's county (consumer), which nobody of department A takes part in."""
    from zhengyun.accounts import services as accounts
    from zhengyun.accounts.roles import Role, ScopeKind
    from zhengyun.data_resources import sharing
    from zhengyun.demo.loader import credit_code
    from zhengyun.organizations import services as organizations
    from zhengyun.organizations.choices import DepartmentKind
    from zhengyun.testing.world import PASSWORD

    third = organizations.create_department(
        actor=world.operator,
        name="乙区民政局",
        uscc=credit_code("11", world.county_b.code, 7),
        region=world.county_b,
        kind=DepartmentKind.GOVERNMENT,
    )
    asker = accounts.create_user(
        actor=world.secadmin, username="staff_c", password=PASSWORD, department=third
    )
    accounts.assign_role(
        actor=world.secadmin,
        user=asker,
        role=Role.DEPARTMENT_STAFF,
        scope=ScopeKind.DEPARTMENT,
        department=third,
    )
    client, _secret = accounts.register_oidc_client(
        actor=world.operator, name="乙区低保核验系统", grant="client-credentials", department=third
    )
    resource = published_resource(world, world.department_b, world.staff_b)
    request = ask(world, resource, client, actor=asker)
    return sharing.approve_sharing(request, actor=world.admin_b)


POPULATION_ROWS = [
    ("张三", "110101199003071234", "13812345678", "示范省甲市甲区人民路1号", "1990-03-07"),
    ("欧阳娜娜", "110101198512120021", "13987654321", "示范省甲市甲区解放路22号", "1985-12-12"),
    ("李四", "11010120000101003X", "", "示范省乙市乙区中山路3号", "2000-01-01"),
]


def population_csv(encoding="utf-8", rows=POPULATION_ROWS):
    """The population resource's data as a CSV file in ``encoding``."""
    lines = ["姓名,公民身份号码,联系电话,住址,出生日期"]
    lines += [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
