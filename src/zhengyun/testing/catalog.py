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
