"""The demo region's information resource catalog (R-D1): the provincial public security
department's conditional population resource with its sensitive items, the human resources
department's pension records and the big data bureau's list of government services (open to
the public), all reviewed and published by the operator, and a vehicle register the public
security department has submitted for review. Then sharing (R-D2): the human resources
department asks for three items of the population resource for its pension eligibility
checks and the public security department grants two; the finance department's request
waits for an answer. The population resource serves a few made-up records through the
gateway (R-D3); the human resources application's credentials are left in the data
directory for trying it. Once only."""

import datetime
import os

from django.conf import settings
from django.utils import timezone

from zhengyun.accounts import services as accounts
from zhengyun.accounts.models import RoleAssignment
from zhengyun.accounts.roles import Role
from zhengyun.data_resources import catalog, datasets, sharing
from zhengyun.data_resources.models import CatalogResource
from zhengyun.organizations.models import Department


def item(name, data_type, length, **more):
    return {
        "name": name,
        "data_type": data_type,
        "length": length,
        "sensitivity": "ordinary",
        "share_type": "conditional",
        "legal_basis": "",
        "masking": "none",
        **more,
    }


def record(name, subject, category, abstract, items, **more):
    return {
        "catalog_type": "1",
        "subject_code": subject,
        "category_code": category,
        "detail_code": "",
        "name": name,
        "abstract": abstract,
        "format": "database",
        "format_detail": "",
        "share_type": "conditional",
        "share_conditions": "",
        "share_methods": ["interface"],
        "legal_basis": "",
        "open_to_public": False,
        "open_conditions": "",
        "update_cycle": "daily",
        "related_codes": [],
        "maintainer": "",
        "maintainer_phone": "0999-12345678",
        "items": items,
        **more,
    }


POPULATION = record(
    "户籍人口基本信息",
    "01",
    "001",
    "全省户籍人口的姓名、公民身份号码、性别、出生日期、住址和联系电话，按日更新，"
    "供政务服务事项办理中核验身份。",
    [
        item("姓名", "C", 50, sensitivity="personal", masking="name"),
        item("公民身份号码", "C", 18, sensitivity="personal", masking="resident_id"),
        item("性别", "C", 2),
        item("出生日期", "D", None),
        item("住址", "C", 200, sensitivity="sensitive", masking="address"),
        item("联系电话", "C", 20, sensitivity="personal", masking="mobile"),
        item(
            "指纹信息",
            "G",
            1024,
            sensitivity="personal",
            share_type="none",
            legal_basis="《中华人民共和国居民身份证法》第十九条",
        ),
    ],
    format_detail="KingbaseES",
    share_conditions="仅用于政务服务事项办理中的身份核验，不得用于其他目的。",
    maintainer="张晓",
)
PENSIONS = record(
    "城乡居民养老保险参保信息",
    "03",
    "002",
    "全省城乡居民基本养老保险的参保人、参保状态和缴费档次，按月更新，供社会救助资格审查使用。",
    [
        item("姓名", "C", 50, sensitivity="personal", masking="name"),
        item("公民身份号码", "C", 18, sensitivity="personal", masking="resident_id"),
        item("参保状态", "C", 10),
        item("缴费档次", "N", 6),
    ],
    catalog_type="2",
    update_cycle="monthly",
    share_conditions="用于社会救助、社会保险资格审查。",
    maintainer="人社厅信息中心",
)
SERVICES = record(
    "政务服务事项目录",
    "01",
    "003",
    "全省政务服务事项的名称、实施主体、办理时限和收费标准，向社会开放。",
    [
        item("事项名称", "C", 200, share_type="unconditional"),
        item("实施主体", "C", 100, share_type="unconditional"),
        item("法定办结时限", "N", 4, share_type="unconditional"),
        item("收费标准", "C", 500, share_type="unconditional"),
    ],
    catalog_type="2",
    format="spreadsheet",
    format_detail="xlsx",
    share_type="unconditional",
    open_to_public=True,
    open_conditions="使用时注明数据来源。",
    update_cycle="weekly",
    maintainer="大数据管理局数据处",
)
VEHICLES = record(
    "机动车登记信息",
    "01",
    "004",
    "全省机动车的号牌号码、车辆类型、所有人和登记日期。",
    [
        item("号牌号码", "C", 15),
        item("车辆类型", "C", 20),
        item("所有人", "C", 100, sensitivity="personal", masking="name"),
        item("登记日期", "D", None),
    ],
    catalog_type="3",
    subject_code="07",
    share_conditions="用于交通管理和政务服务事项办理。",
    maintainer="张晓",
)


def ensure_catalog(operator, police):
    """The catalog's first records; ``police`` drafts the public security department's."""
    if CatalogResource.objects.exists():
        return
    pensions = _person_of("示范省人力资源和社会保障厅")
    big_data = _person_of("示范省大数据管理局")
    published = {}
    for author, fields, publish in (
        (police, POPULATION, True),
        (pensions, PENSIONS, True),
        (big_data, SERVICES, True),
        (police, VEHICLES, False),
    ):
        resource = catalog.create_resource(actor=author, department=author.department, **fields)
        catalog.submit_resource(resource, actor=author)
        if publish:
            published[fields["name"]] = catalog.approve_resource(resource, actor=operator)
    population = published["户籍人口基本信息"]
    datasets.load_dataset(
        population, actor=police, name="户籍人口样例.csv", content=POPULATION_SAMPLE.encode("gbk")
    )
    _share(population, pensions, police)


# Made-up people: the codes are well-formed, nobody real has them.
POPULATION_SAMPLE = (
    "姓名,公民身份号码,性别,出生日期,住址,联系电话\r\n"
    "张伟,990102198803150011,男,1988-03-15,示范省甲市甲区人民路12号,13800000001\r\n"
    "王秀英,990102197512240026,女,1975-12-24,示范省甲市甲区解放路8号,13900000002\r\n"
    "欧阳明,990202200102070035,男,2001-02-07,示范省乙市乙区中山路3号,13700000003\r\n"
)
CREDENTIALS_FILE = "demo-gateway-client.txt"


def _share(population, pensions, police):
    today = timezone.localdate()
    period = {"starts_on": today, "ends_on": today + datetime.timedelta(days=365)}
    application, secret = _application(pensions.department, "社会保险资格核验系统")
    _leave_credentials(application, secret, population.code)
    granted = sharing.request_sharing(
        population,
        actor=pensions,
        application=application,
        items=["姓名", "公民身份号码", "联系电话"],
        purpose="城乡居民养老保险参保登记时核验参保人身份。",
        scope="省人社厅社会保险经办窗口及网上办事大厅",
        **period,
    )
    sharing.approve_sharing(
        granted,
        actor=_person_of(police.department.name, Role.DEPARTMENT_ADMIN),
        items=["姓名", "公民身份号码"],
        answer="核验身份只需姓名和公民身份号码，联系电话不予提供。",
    )
    finance = _person_of("示范省财政厅")
    sharing.request_sharing(
        population,
        actor=finance,
        application=_application(finance.department, "惠民惠农补贴发放系统")[0],
        items=["姓名", "公民身份号码", "住址"],
        purpose="惠民惠农财政补贴发放前核对补贴对象身份和户籍地。",
        scope="省财政厅补贴发放业务",
        **period,
    )


def _application(department, name):
    """A service-to-service application registered by ``department``'s administrator, and
    its secret."""
    admin = _person_of(department.name, Role.DEPARTMENT_ADMIN)
    return accounts.register_oidc_client(actor=admin, name=name, grant="client-credentials")


def _leave_credentials(application, secret, code):
    """How to call the gateway as the human resources application, for the newcomer only
    (owner-readable, in the data directory)."""
    path = settings.DATA_DIR / CREDENTIALS_FILE
    client_id = application.application.client_id
    text = (
        f"client_id={client_id}\nclient_secret={secret}\n\n"
        'curl -s -u "$client_id:$client_secret" -d grant_type=client_credentials '
        "http://127.0.0.1:8000/o/token/\n"
        'curl -s -H "Authorization: Bearer <access_token>" '
        f"http://127.0.0.1:8000/gateway/v1/resources/{code}/records\n"
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _person_of(name, role=Role.DEPARTMENT_STAFF):
    department = Department.objects.get(name=name)
    return (
        RoleAssignment.objects.filter(department=department, role=role)
        .select_related("user__department")
        .order_by("id")
        .first()
        .user
    )
