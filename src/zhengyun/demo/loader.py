"""Builds the demo province through the same services people use, so the demo's trail,
rules and permissions are the real ones.

Everything is keyed by natural keys (division codes, credit codes, user names), so loading
twice changes nothing and a partly loaded demo is completed. ``scale`` adds copies of the
two-prefecture, four-county structure, spilling into further fictional provinces once a
province's prefecture codes run out.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from stdnum.cn import uscc

from zhengyun.accounts import services as accounts
from zhengyun.accounts.mfa import MFA_REQUIRED_ROLES
from zhengyun.accounts.models import RoleAssignment, User
from zhengyun.accounts.roles import Role, ScopeKind
from zhengyun.demo.catalog import CREDENTIALS_FILE, ensure_catalog
from zhengyun.demo.infrastructure import ensure_infrastructure, ensure_workload
from zhengyun.organizations import services as organizations
from zhengyun.organizations.choices import DepartmentKind, ProviderKind, RegionLevel
from zhengyun.organizations.models import Department, Region, ServiceProvider, VerticalLine

DEMO_PASSWORD = "Zhengyun@2026"
PROVINCE_CODE = "990000"
PROVINCE_NAME = "示范省"
COPIES_PER_PROVINCE = 49  # two prefecture codes per copy, 01–98
STAFF_PER_DEPARTMENT = 8

PREFECTURE_NAMES = ("云川", "青林")
COUNTY_NAMES = {0: (("02", "明湖区"), ("21", "东溪县")), 1: (("02", "北山区"), ("21", "南岭县"))}

# (name suffix, vertical line code or None, kind)
PROVINCE_DEPARTMENTS = [
    ("示范省发展和改革委员会", "development_reform"),
    ("示范省公安厅", "public_security"),
    ("示范省财政厅", "finance"),
    ("示范省人力资源和社会保障厅", "human_resources"),
    ("示范省大数据管理局", None),
    ("国家税务总局示范省税务局", "tax"),
]
PREFECTURE_DEPARTMENTS = [
    ("发展和改革委员会", "development_reform"),
    ("公安局", "public_security"),
    ("财政局", "finance"),
    ("人力资源和社会保障局", "human_resources"),
    ("卫生健康委员会", "health"),
    ("市场监督管理局", "market_regulation"),
]
COUNTY_DEPARTMENTS = [
    ("公安局", "public_security"),
    ("财政局", "finance"),
    ("卫生健康局", "health"),
    ("市场监督管理局", "market_regulation"),
]


@dataclass(frozen=True)
class Persona:
    """A demo sign-in printed by ``make run``."""

    username: str
    display_name: str
    role: str
    scope: str
    organisation: str  # department or provider name; "" for the platform's first accounts
    scope_target: str = ""  # region code or department name for narrower scopes


PROVIDER_CENTRE = "示范省大数据中心"
PROVIDER_VENDOR = "云川数字科技有限公司"

PERSONAS = [
    Persona("secadmin", "安全管理员 苏安", Role.SECURITY_ADMIN, ScopeKind.PLATFORM, ""),
    Persona("operator", "平台运营 欧云", Role.PLATFORM_OPERATOR, ScopeKind.PLATFORM, ""),
    Persona("sysadmin", "系统管理员 史统", Role.SYSTEM_ADMIN, ScopeKind.PLATFORM, PROVIDER_CENTRE),
    Persona("auditor", "审计管理员 沈计", Role.AUDIT_ADMIN, ScopeKind.PLATFORM, PROVIDER_CENTRE),
    Persona(
        "yc_operator",
        "云川运维 云帆",
        Role.PLATFORM_OPERATOR,
        ScopeKind.REGION,
        PROVIDER_VENDOR,
        "990100",
    ),
    Persona(
        "supervisor",
        "主管部门 郑督",
        Role.SUPERVISOR,
        ScopeKind.REGION,
        "示范省大数据管理局",
        PROVINCE_CODE,
    ),
    Persona(
        "supervisor",
        "主管部门 郑督",
        Role.DEPARTMENT_STAFF,
        ScopeKind.DEPARTMENT,
        "示范省大数据管理局",
        "示范省大数据管理局",
    ),
    Persona(
        "dept_admin",
        "公安厅管理员 龚安",
        Role.DEPARTMENT_ADMIN,
        ScopeKind.DEPARTMENT,
        "示范省公安厅",
        "示范省公安厅",
    ),
    Persona(
        "dept_leader",
        "公安厅领导 李政",
        Role.DEPARTMENT_LEADER,
        ScopeKind.DEPARTMENT,
        "示范省公安厅",
        "示范省公安厅",
    ),
    Persona(
        "dept_staff",
        "公安厅工作人员 张晓",
        Role.DEPARTMENT_STAFF,
        ScopeKind.DEPARTMENT,
        "示范省公安厅",
        "示范省公安厅",
    ),
    Persona(
        "county_admin",
        "明湖区公安局管理员 陈明",
        Role.DEPARTMENT_ADMIN,
        ScopeKind.DEPARTMENT,
        "明湖区公安局",
        "明湖区公安局",
    ),
]


def organisation_code(seq):
    """A GB 11714 organisation code (8 digits + check character) from a sequence number."""
    body = f"{seq:08d}"
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(authority_and_type, region_code, seq):
    """A valid unified social credit code (GB 32100) for the demo's sequence number."""
    head = f"{authority_and_type}{region_code}{organisation_code(seq)}"
    return head + uscc.calc_check_digit(head)


class DemoBuilder:
    """Loads the demo region; each ``ensure_*`` creates only what is missing."""

    def __init__(self, out=None):
        self.out = out or (lambda line: None)
        self.password_hash = make_password(DEMO_PASSWORD)
        self.lines = {v.code: v for v in VerticalLine.objects.all()}
        self.created = {"regions": 0, "departments": 0, "users": 0, "roles": 0}

    # -- people -------------------------------------------------------------------------
    def ensure_bootstrap(self):
        secadmin = User.objects.filter(username="secadmin").first()
        if secadmin is None:
            secadmin = accounts.bootstrap_security_admin(
                actor=None,
                username="secadmin",
                display_name=PERSONAS[0].display_name,
                password_hash=self.password_hash,
            )
            self.created["users"] += 1
        self.secadmin = secadmin
        self.operator = self.ensure_user("operator", PERSONAS[1].display_name)
        self.ensure_role(self.operator, Role.PLATFORM_OPERATOR, ScopeKind.PLATFORM)

    def ensure_user(self, username, display_name, department=None, provider=None):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = accounts.create_user(
                actor=self.secadmin,
                username=username,
                display_name=display_name,
                department=department,
                service_provider=provider,
                password_hash=self.password_hash,
            )
            self.created["users"] += 1
        return user

    def ensure_role(self, user, role, scope, region=None, department=None):
        exists = RoleAssignment.objects.filter(
            user=user, role=role, scope=scope, region=region, department=department
        ).exists()
        if not exists:
            actor = self.secadmin
            accounts.assign_role(
                actor=actor, user=user, role=role, scope=scope, region=region, department=department
            )
            self.created["roles"] += 1

    # -- organisations ------------------------------------------------------------------
    def ensure_region(self, code, name, level, parent=None):
        region = Region.objects.filter(code=code).first()
        if region is None:
            region = organizations.create_region(
                actor=self.operator, code=code, name=name, level=level, parent=parent
            )
            self.created["regions"] += 1
        return region

    def ensure_department(self, name, region, seq, line=None, parent=None, short_name=""):
        code = credit_code("11", region.code, seq)
        department = Department.objects.filter(uscc=code).first()
        if department is None:
            department = organizations.create_department(
                actor=self.operator,
                name=name,
                short_name=short_name,
                uscc=code,
                region=region,
                kind=DepartmentKind.GOVERNMENT,
                parent=parent,
                vertical_line=self.lines.get(line),
            )
            self.created["departments"] += 1
        self.ensure_department_staff(department)
        return department

    def ensure_department_staff(self, department):
        """One administrator, one leader and some staff in every department."""
        stem = department.uscc[8:16]
        roles = [(Role.DEPARTMENT_ADMIN, "管理员"), (Role.DEPARTMENT_LEADER, "领导")] + [
            (Role.DEPARTMENT_STAFF, "工作人员")
        ] * STAFF_PER_DEPARTMENT
        for i, (role, title) in enumerate(roles):
            user = self.ensure_user(
                f"u{stem}{i}",
                f"{department.short_name or department.name}{title}{i}",
                department=department,
            )
            self.ensure_role(user, role, ScopeKind.DEPARTMENT, department=department)

    def ensure_provider(self, name, kind, region, authority_and_type, seq):
        provider = ServiceProvider.objects.filter(name=name).first()
        if provider is None:
            provider = organizations.create_service_provider(
                actor=self.operator,
                name=name,
                kind=kind,
                region=region,
                uscc=credit_code(authority_and_type, region.code, seq),
            )
        return provider

    # -- the province ---------------------------------------------------------------------
    def build(self, scale=1):
        self.ensure_bootstrap()
        province = self.ensure_region(PROVINCE_CODE, PROVINCE_NAME, RegionLevel.PROVINCE)
        centre = self.ensure_provider(
            PROVIDER_CENTRE, ProviderKind.INFORMATION_CENTRE, province, "12", 90000001
        )
        if organizations.current_operator() is None:
            organizations.configure_operator(
                actor=self.operator, name="示范省政务云平台", region=province, provider=centre
            )
        for i, (name, line) in enumerate(PROVINCE_DEPARTMENTS):
            department = self.ensure_department(name, province, 10000001 + i, line)
            if name == "示范省公安厅":
                self.ensure_department(
                    "示范省公安厅交通警察总队",
                    province,
                    10000101,
                    line,
                    parent=department,
                    short_name="交警总队",
                )
        for copy in range(scale):
            self.build_copy(copy)
            if copy % 10 == 9:
                self.out(f"  {copy + 1}/{scale} copies loaded")
        self.ensure_personas()
        ensure_infrastructure(self.operator, province)
        staff = User.objects.get(username="dept_staff")
        ensure_workload(self.operator, staff)
        ensure_catalog(self.operator, staff)
        return self.created

    def build_copy(self, copy):
        """Two prefectures with two counties each, their departments and staff."""
        province_index, slot = divmod(copy, COPIES_PER_PROVINCE)
        province_code = f"{99 - province_index:02d}0000"
        if province_index == 0:
            province = Region.objects.get(code=PROVINCE_CODE)
        else:
            province = self.ensure_region(
                province_code, f"{PROVINCE_NAME}（扩展{province_index}）", RegionLevel.PROVINCE
            )
        suffix = "" if copy == 0 else str(copy)
        for p, stem in enumerate(PREFECTURE_NAMES):
            number = 2 * slot + p + 1
            pref_name = f"{stem}{suffix}市"
            prefecture = self.ensure_region(
                f"{province_code[:2]}{number:02d}00", pref_name, RegionLevel.PREFECTURE, province
            )
            for i, (dept, line) in enumerate(PREFECTURE_DEPARTMENTS):
                self.ensure_department(
                    f"{pref_name}{dept}", prefecture, _seq(prefecture.code, i), line
                )
            for county_no, county_stem in COUNTY_NAMES[p]:
                county_name = (
                    county_stem if not suffix else f"{county_stem[:-1]}{suffix}{county_stem[-1]}"
                )
                county = self.ensure_region(
                    f"{prefecture.code[:4]}{county_no}", county_name, RegionLevel.COUNTY, prefecture
                )
                for i, (dept, line) in enumerate(COUNTY_DEPARTMENTS):
                    self.ensure_department(
                        f"{county_name}{dept}", county, _seq(county.code, i), line
                    )

    def ensure_personas(self):
        centre = ServiceProvider.objects.get(name=PROVIDER_CENTRE)
        vendor = self.ensure_provider(
            PROVIDER_VENDOR,
            ProviderKind.OUTSOURCED,
            Region.objects.get(code="990100"),
            "91",
            90000002,
        )
        providers = {PROVIDER_CENTRE: centre, PROVIDER_VENDOR: vendor}
        for persona in PERSONAS[1:]:
            department = Department.objects.filter(name=persona.organisation).first()
            provider = providers.get(persona.organisation)
            user = self.ensure_user(
                persona.username, persona.display_name, department=department, provider=provider
            )
            region = department_scope = None
            if persona.scope == ScopeKind.REGION:
                region = Region.objects.get(code=persona.scope_target)
            elif persona.scope == ScopeKind.DEPARTMENT:
                department_scope = Department.objects.get(name=persona.scope_target)
            self.ensure_role(user, persona.role, persona.scope, region, department_scope)


def _seq(region_code, index):
    """A sequence number unique across the demo: the region code plus the department's index."""
    return int(region_code) * 10 + index


def load_demo(scale=1, out=None):
    """Load (or complete) the demo region in one transaction; returns what was created."""
    with transaction.atomic():
        return DemoBuilder(out).build(scale)


def sign_in_lines():
    """Lines telling a newcomer how to sign in as each role, if the demo is loaded."""
    if not User.objects.filter(username="secadmin").exists():
        return ["No demo region loaded: run `zhengyun demo` to create one."]
    lines = [f"Sign in with password {DEMO_PASSWORD} as:"]
    seen = set()
    for persona in PERSONAS:
        if persona.username in seen:
            continue
        seen.add(persona.username)
        roles = [p.role for p in PERSONAS if p.username == persona.username]
        note = " *" if MFA_REQUIRED_ROLES & set(roles) else ""
        lines.append(f"  {persona.username:<13} {' + '.join(str(r.label) for r in roles)}{note}")
    lines.append(
        "  * a second factor is required: at the first sign-in, scan the QR code shown with "
        "any TOTP authenticator app"
    )
    credentials = settings.DATA_DIR / CREDENTIALS_FILE
    if credentials.exists():
        lines.append(
            "The human resources department's application reads masked population records "
            f"through the data gateway: its credentials and two curl commands are in {credentials}"
        )
    return lines
