"""The console in a real browser: sign in with a second factor, read the figures, walk the
region tree, switch to English — and take a screenshot (the README's is refreshed with
`make screenshot`); sign in with a USB key's adapter; register an application and sign into
it through OIDC.

Uses Debian's Chromium (``scripts/install-browser.sh`` installs it and a CJK font).
Without it the test is skipped locally and fails on CI, so a CI run never silently
drops the only end-to-end check of the console.
"""

import base64
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.urls import reverse
from django_otp.oath import TOTP

from zhengyun.accounts import services as accounts
from zhengyun.crypto import gm
from zhengyun.testing.catalog import consumer_application
from zhengyun.testing.world import PASSWORD, build_world

CHROMIUM = Path("/usr/bin/chromium")
# Test runs write under test-results/; `make screenshot` refreshes the README's image.
SCREENSHOT = Path(
    os.environ.get("ZHENGYUN_SCREENSHOT")
    or Path(__file__).resolve().parent.parent / "test-results" / "console.png"
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def _require_chromium():
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing; run scripts/install-browser.sh to install Chromium"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (the browser test may not be skipped on CI)", pytrace=False)
    pytest.skip(message)


def _off_the_loop(work):
    """Run database ``work`` in a thread of its own: Django refuses it inside Playwright's
    event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def current_totp(secret):
    """The code an authenticator app shows now for the base-32 ``secret``."""
    return f"{TOTP(base64.b32decode(secret)).token():06d}"


def new_page(browser):
    """A page in Chinese, as the console's users see it, with the tests' timeout."""
    page = browser.new_page(locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    return page


def sign_in(page, live_server, user):
    """Fill the sign-in form as ``user`` and submit it."""
    page.goto(live_server.url + reverse("console:login"))
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")


def sign_in_enrolling_a_factor(page, live_server, user):
    """Sign in as ``user`` the first time, when the console makes them enrol an
    authenticator (operators and the three administrators), and keep the recovery codes."""
    sign_in(page, live_server, user)
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.locator("#id_code").fill(current_totp(secret))
    page.locator("#id_code").press("Enter")
    page.get_by_role("link", name="我已妥善保存").click()


@pytest.fixture
def live_world(transactional_db):
    """The test world, committed so that the live server's thread sees it."""
    return build_world()


@pytest.mark.browser
def test_console_in_a_browser(live_server, live_world):
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            page.set_default_timeout(TIMEOUT_MS)

            # Sign in; Chinese is the default language.
            page.goto(live_server.url + reverse("console:login"))
            expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
            username = page.locator("#id_username")
            expect(username).to_be_focused()  # autofocus: typing can start at once
            username.fill(live_world.operator.username)
            page.locator("#id_password").fill(PASSWORD)
            page.locator("#id_password").press("Enter")  # submit with the keyboard

            # The operator must have a second factor: enrol an authenticator as a phone app
            # would, from the key shown beside the QR code, then keep the recovery codes.
            expect(page).to_have_url(live_server.url + reverse("console:login-enrol"))
            expect(page.get_by_role("img", name=re.compile("二维码"))).to_be_visible()
            secret = page.get_by_test_id("totp-secret").inner_text()
            page.locator("#id_code").fill(current_totp(secret))
            page.locator("#id_code").press("Enter")
            expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
            page.get_by_role("link", name="我已妥善保存").click()

            # Home page with its figure cards.
            expect(page).to_have_url(live_server.url + reverse("console:home"))
            cards = page.locator("ul.cards li.figure")
            expect(cards.first).to_be_visible()
            expect(page.get_by_test_id("card-value").first).to_have_text(re.compile(r"^\d+$"))

            # The tree from the side navigation.
            tree_url = reverse("organizations:tree")
            page.locator(f'nav.side a[href="{tree_url}"]').click()
            expect(page).to_have_url(live_server.url + tree_url)
            tree = page.get_by_test_id("tree")
            province = tree.locator("details").filter(
                has=page.locator("summary", has_text=live_world.province.name)
            )

            # Expand the province with the keyboard: focus its summary, press Enter; htmx
            # loads the prefectures on the toggle.
            summary = province.locator("> summary")
            summary.focus()
            expect(summary).to_be_focused()
            page.keyboard.press("Enter")
            expect(province).to_have_attribute("open", "")
            children = province.locator("> .children")
            expect(children).to_contain_text(live_world.prefecture_a.name)
            expect(children).to_contain_text(live_world.prefecture_b.name)

            # Switch to English with the header button.
            page.get_by_test_id("language-en").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page).to_have_url(live_server.url + tree_url)
            expect(page.locator("main h1")).to_have_text("Regions and departments")
            expect(page.get_by_test_id("language-zh-hans")).to_be_visible()

            # Open the tree down to a department for the screenshot.
            province.locator("> summary").click()
            prefecture = province.locator("details").filter(
                has=page.locator("summary", has_text=live_world.prefecture_a.name)
            )
            prefecture.locator("> summary").click()
            county = prefecture.locator("details").filter(
                has=page.locator("summary", has_text=live_world.county_a.name)
            )
            county.locator("> summary").click()
            expect(county.locator(".dept")).to_contain_text(live_world.department_a.name)
            page.mouse.move(0, 0)  # no hover highlight in the picture

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()


@pytest.mark.browser
def test_a_usb_key_adapter_signs_the_sign_in_challenge(live_server, live_world):
    """A USB key's browser adapter (here a stand-in holding an SM2 key) is offered the
    challenge through ``window.zhengyunSm2Signer`` and its signature signs the person in."""
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    key = gm.sm2_generate_key()

    def sign(challenge):
        return base64.b64encode(gm.sm2_sign(key, challenge.encode())).decode()

    accounts.register_sm2_key(
        actor=live_world.staff_a,
        name="UKey",
        public_key=gm.public_key_to_pem(key.public_key()).decode(),
        challenge="registration",
        signature=sign("registration"),
    )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(locale="zh-CN")
            signed = []
            context.expose_function(
                "zhengyunSm2Signer", lambda challenge: signed.append(challenge) or sign(challenge)
            )
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            sign_in(page, live_server, live_world.staff_a)
            expect(page).to_have_url(live_server.url + reverse("console:login-verify"))
            page.get_by_role("button", name="使用 USB Key 签名").click()
            expect(page).to_have_url(live_server.url + reverse("console:home"))
            assert signed and signed[0].startswith("zhengyun-sm2-v1|sign-in|")
        finally:
            browser.close()


@pytest.mark.browser
def test_a_department_registers_an_application_and_signs_into_it(live_server, live_world):
    """The OIDC round trip in a real browser: a department administrator registers an
    application in the console, then signs into it with their platform account."""
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    callback = "http://127.0.0.1:9/callback"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = new_page(browser)
            sign_in(page, live_server, live_world.admin_a)
            expect(page).to_have_url(live_server.url + reverse("console:home"))

            page.goto(live_server.url + reverse("accounts:oidc-clients"))
            page.get_by_label("应用名称").fill("甲区公安局办案系统")
            page.get_by_label("回调地址").fill(callback)
            page.get_by_role("button", name="登记").click()
            client_id = page.get_by_test_id("client-id").inner_text()
            secret = page.get_by_test_id("client-secret").inner_text()

            # The application sends the person to the platform; the browser comes back to
            # the application's address, which the test answers in its place.
            returned = []
            page.route(
                "http://127.0.0.1:9/**",
                lambda route: (
                    returned.append(route.request.url)
                    or route.fulfill(status=200, body="signed in")
                ),
            )
            client = OAuth2Session(
                client_id, secret, scope="openid profile department roles",
                redirect_uri=callback, code_challenge_method="S256",
            )  # fmt: skip
            verifier = generate_token(48)
            url, _ = client.create_authorization_url(
                live_server.url + "/o/authorize/", code_verifier=verifier
            )
            page.goto(url)
            expect(page.get_by_test_id("consent")).to_contain_text("甲区公安局办案系统")
            page.get_by_role("button", name="允许").click()
            expect(page.locator("body")).to_have_text("signed in")
            token = client.fetch_token(
                live_server.url + "/o/token/",
                authorization_response=returned[0],
                code_verifier=verifier,
            )
            info = client.get(live_server.url + "/o/userinfo/").json()
            assert token["id_token"] and info["preferred_username"] == "admin_a"
            assert info["department"]["uscc"] == live_world.department_a.uscc
        finally:
            browser.close()


def test_a_department_builds_a_network_an_instance_and_a_volume(live_server, live_world):
    """R-I2, R-I3 in a real browser: a department member makes a network and a subnet,
    orders an instance into it and sees its address, resizes it (a size no host fits is
    refused with the reason), stops and starts it, then orders a volume for it."""
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    from zhengyun.infrastructure import lifecycle, power_lifecycle, resize_lifecycle, services
    from zhengyun.infrastructure.models import Instance, InstanceResize, Volume
    from zhengyun.infrastructure.volume_lifecycle import advance_volume
    from zhengyun.testing.machine_room import build_machine_room

    build_machine_room(live_world)
    services.create_flavour(
        actor=live_world.operator, name="s4.large", vcpus=4, memory_mb=8192, disk_gb=40
    )
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = new_page(browser)
            sign_in(page, live_server, live_world.staff_a)
            expect(page).to_have_url(live_server.url + reverse("console:home"))

            page.goto(live_server.url + reverse("infrastructure:network-list"))
            network_form = page.locator("form", has=page.get_by_role("button", name="创建网络"))
            network_form.get_by_label("名称").fill("办公网")
            network_form.get_by_label("网络区域").select_option(label="政务外网")
            network_form.get_by_role("button", name="创建网络").click()
            subnet_form = page.locator("form", has=page.get_by_role("button", name="创建子网"))
            subnet_form.get_by_label("网络").select_option(label="办公网")
            subnet_form.get_by_label("名称").fill("业务段")
            subnet_form.get_by_label("地址段（CIDR）").fill("10.20.1.0/24")
            subnet_form.get_by_role("button", name="创建子网").click()
            expect(page.get_by_test_id("networks")).to_contain_text("10.20.1.0/24")

            page.goto(live_server.url + reverse("infrastructure:instance-add"))
            page.get_by_label("名称").fill("oa-1")
            page.get_by_label("规格").select_option(label="s2.medium")
            page.get_by_label("镜像").select_option(label="openEuler 22.03")
            page.get_by_label("子网").select_option(label="业务段 (10.20.1.0/24)")
            page.get_by_role("button", name="申请").click()
            expect(page.get_by_test_id("addresses")).to_contain_text("10.20.1.2")
            # The worker's steps, run off the browser's event loop as a worker would.
            _off_the_loop(lambda: lifecycle.build(Instance.objects.get(name="oa-1").pk))

            # Grown to the large flavour from its page, then carried out by the worker.
            page.reload()
            page.get_by_label("新规格").select_option(label="m16.huge")
            page.get_by_role("button", name="调整规格").click()
            expect(page.get_by_role("status")).to_contain_text("没有宿主机能容纳新规格")
            page.get_by_label("新规格").select_option(label="s4.large")
            page.get_by_role("button", name="调整规格").click()
            expect(page.locator("[data-status]")).to_contain_text("调整规格中")
            _off_the_loop(lambda: resize_lifecycle.advance_resize(InstanceResize.objects.get().pk))
            page.reload()
            expect(page.locator("[data-status]")).to_contain_text("运行中")
            expect(page.get_by_test_id("moves")).to_contain_text("s2.medium → s4.large")

            # Stopped and started again from its page, each carried out by the worker.
            oa = _off_the_loop(lambda: Instance.objects.get(name="oa-1").pk)
            page.get_by_role("button", name="停止", exact=True).click()
            expect(page.locator("[data-status]")).to_contain_text("正在停止")
            _off_the_loop(lambda: power_lifecycle.advance(oa))
            page.reload()
            expect(page.locator("[data-status]")).to_contain_text("已停止")
            page.get_by_role("button", name="启动", exact=True).click()
            _off_the_loop(lambda: power_lifecycle.advance(oa))
            page.reload()
            expect(page.locator("[data-status]")).to_contain_text("运行中")

            page.goto(live_server.url + reverse("infrastructure:volume-list"))
            page.get_by_label("名称").fill("oa-data")
            page.get_by_label("容量（GB）").fill("20")
            page.get_by_label("挂载到云主机").select_option(label="oa-1")
            page.get_by_role("button", name="申请云硬盘").click()
            _off_the_loop(lambda: advance_volume(Volume.objects.get(name="oa-data").pk))
            page.reload()
            expect(page.locator('[data-volume="oa-data"]')).to_contain_text("使用中")
        finally:
            browser.close()


@pytest.mark.browser
def test_a_department_puts_a_load_balancer_in_front_of_two_instances(
    live_server, live_world, settings
):
    """R-I3 in a real browser: a department member orders a load balancer with a listener,
    two of its instances as members and an HTTP check, and sees its VIP and members'
    health."""
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    from zhengyun.infrastructure import balancer_lifecycle, connections, lifecycle
    from zhengyun.infrastructure import services as infrastructure
    from zhengyun.infrastructure.models import LoadBalancer
    from zhengyun.testing.machine_room import build_machine_room

    settings.ZHENGYUN_BALANCER_URI = "sim://memory"
    connections._balancer_for.cache_clear()
    room = build_machine_room(live_world)
    staff = live_world.staff_a
    network = infrastructure.create_network(
        actor=staff, department=live_world.department_a, name="办公网", reach="gov_extranet"
    )
    subnet = infrastructure.create_subnet(
        actor=staff, network=network, name="业务段", cidr="10.20.1.0/24"
    )
    for name in ("oa-1", "oa-2"):
        made = infrastructure.create_instance(
            actor=staff,
            department=live_world.department_a,
            name=name,
            flavour=room.small,
            image=room.image,
            subnet=subnet,
        )
        lifecycle.build(made.pk)
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = new_page(browser)
            sign_in(page, live_server, staff)
            expect(page).to_have_url(live_server.url + reverse("console:home"))

            page.get_by_role("link", name="负载均衡").click()
            page.get_by_label("名称").fill("oa-front")
            page.get_by_label("子网").select_option(label="业务段 (10.20.1.0/24)")
            page.get_by_label("协议").select_option(label="HTTP")
            page.get_by_label("监听端口").fill("80")
            page.get_by_label("oa-1").check()
            page.get_by_label("oa-2").check()
            page.get_by_label("成员端口").fill("8080")
            page.get_by_label("健康检查").select_option(label="HTTP 请求")
            page.get_by_label("HTTP 路径").fill("/health")
            page.get_by_role("button", name="申请负载均衡").click()
            balancer = page.locator('[data-balancer="oa-front"]')
            expect(balancer.get_by_test_id("vip")).to_have_text("10.20.1.4")

            def work():
                pk = LoadBalancer.objects.get(name="oa-front").pk
                balancer_lifecycle.advance(pk)
                balancer_lifecycle.read_health(pk)

            _off_the_loop(work)
            page.reload()
            expect(balancer.locator('[data-member="oa-1"]')).to_contain_text("在线")
            expect(balancer.locator('[data-member="oa-2"]')).to_contain_text("在线")
            expect(balancer.locator("[data-status]").first).to_contain_text("有效")
        finally:
            browser.close()


@pytest.mark.browser
def test_an_operator_adds_a_pool_changes_its_overcommit_and_sets_a_power_curve(
    live_server, live_world
):
    """R-I3, R-I4 in a real browser: an operator adds a pool, raises its vCPU overcommit
    and gives a host a measured power curve, and sees each on the pools page."""
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    from zhengyun.testing.machine_room import build_machine_room

    build_machine_room(live_world)
    curve = ["110", "150", "180", "205", "225", "243", "260", "275", "290", "302", "315"]
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = new_page(browser)
            sign_in_enrolling_a_factor(page, live_server, live_world.operator)

            page.get_by_role("link", name="资源池与宿主机").click()
            page.get_by_role("link", name="新增资源池").click()
            page.get_by_label("可用区").select_option(label="主机房")
            page.get_by_label("名称").fill("测试池")
            page.get_by_label("政务外网").check()
            page.get_by_role("button", name="新增资源池").click()
            pool = page.locator('[data-pool="测试池"]')
            expect(pool.get_by_test_id("overcommit")).to_contain_text("vCPU ×4.0")

            pool.get_by_role("link", name="编辑").click()
            page.get_by_label("vCPU 超分比").fill("6")
            page.get_by_role("button", name="保存").click()
            expect(page.get_by_role("status")).to_contain_text("的设置已保存")
            expect(pool.get_by_test_id("overcommit")).to_contain_text("vCPU ×6.0")

            host = page.get_by_test_id("hosts").locator("tbody tr").first
            host.get_by_role("link", name="修改").click()
            for load, watts in zip(range(0, 101, 10), curve, strict=True):
                page.get_by_label(f"负载 {load}% 时的功率（W）").fill(watts)
            page.get_by_role("button", name="保存").click()
            expect(host.get_by_test_id("power")).to_contain_text(" · ".join(curve))
        finally:
            browser.close()


def test_a_notice_waits_in_the_inbox_and_opening_it_goes_where_it_points(live_server, live_world):
    """A department member sees the unread count in the header, opens the inbox, and opening
    a notice marks it read and goes to the page it is about."""
    _require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    from zhengyun.notifications.models import Notification

    for pool in ("外网池", "内网三级池"):
        Notification.objects.create(
            recipient=live_world.staff_a,
            kind="consolidation.proposed",
            params={"pool": pool, "moves": 2, "released": 1},
            link=reverse("notifications:inbox") + "?unread=1",
        )
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = new_page(browser)
            sign_in(page, live_server, live_world.staff_a)
            inbox = page.get_by_test_id("inbox")
            expect(inbox.locator(".badge")).to_have_text("2")
            inbox.click()
            notices = page.get_by_test_id("notifications")
            expect(notices.locator("tr.unread")).to_have_count(2)
            expect(notices).to_contain_text("资源池 外网池 的整合计划待审批")
            notices.locator("tr.unread").first.get_by_role("button", name="打开").click()
            # The link kept only unread notices: the one just opened is gone from it.
            expect(page).to_have_url(re.compile(r"/notifications/\?unread=1$"))
            expect(notices.locator("tr.unread")).to_have_count(1)
            expect(page.get_by_test_id("inbox").locator(".badge")).to_have_text("1")
        finally:
            browser.close()


@pytest.mark.browser
def test_a_resource_is_registered_published_and_found_by_a_chinese_query(live_server, live_world):
    """R-D1, R-D2 in a real browser: a department registers a conditional resource with a
    masked item on one page, submits it; the operator publishes it; another department finds
    it by a Chinese word, narrows by share type, reads its items and asks for two of them;
    the provider grants one."""
    _require_chromium()
    consumer_application(live_world.admin_b)
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = new_page(browser)
            sign_in(page, live_server, live_world.staff_a)
            page.get_by_role("link", name="目录编制").click()
            page.get_by_role("link", name="登记资源").click()
            page.get_by_label("资源属性分类（类）").select_option(label="基础信息资源")
            page.get_by_label("项代码").fill("01")
            page.locator("#id_category_code").fill("001")
            page.get_by_label("名称").fill("户籍人口基本信息")
            page.get_by_label("信息资源摘要").fill("本区户籍人口的姓名和公民身份号码。")
            page.get_by_label("信息资源格式").select_option(label="数据库")
            page.get_by_label("共享类型").select_option(label="有条件共享")
            page.get_by_label("共享条件").fill("仅用于身份核验。")
            page.get_by_label("接口").check()
            page.get_by_label("更新周期").select_option(label="每日")
            page.locator("#id_maintainer").fill("王芳")
            page.get_by_label("维护人电话").fill("0571-88880000")
            for row, (name, length, masking) in enumerate(
                [("姓名", "50", "姓名"), ("公民身份号码", "18", "身份证号")]
            ):
                page.locator(f'[name="items-{row}-name"]').fill(name)
                page.locator(f'[name="items-{row}-data_type"]').select_option(label="字符型 C")
                page.locator(f'[name="items-{row}-length"]').fill(length)
                page.locator(f'[name="items-{row}-sensitivity"]').select_option(label="个人信息")
                page.locator(f'[name="items-{row}-share_type"]').select_option(label="有条件共享")
                page.locator(f'[name="items-{row}-masking"]').select_option(label=masking)
            page.get_by_role("button", name="保存为草稿").click()
            expect(page.get_by_role("status")).to_contain_text("已保存为草稿")
            expect(page.get_by_test_id("items")).to_contain_text("身份证号")
            page.get_by_role("button", name="提交审核").click()
            expect(page.locator("[data-status]")).to_contain_text("审核中")
            record_url = page.url

            operator = new_page(browser)
            sign_in_enrolling_a_factor(operator, live_server, live_world.operator)
            operator.goto(record_url)
            operator.get_by_role("button", name="审核通过并发布").click()
            expect(operator.locator("[data-status]")).to_contain_text("已发布")

            other = new_page(browser)
            sign_in(other, live_server, live_world.staff_b)
            other.get_by_role("link", name="资源目录").click()
            other.get_by_label("名称、关键词或资源代码").fill("户籍")
            other.get_by_role("button", name="搜索").click()
            expect(other.get_by_test_id("total")).to_contain_text("找到 1 个资源")
            other.get_by_test_id("facets").get_by_role("link", name="有条件共享").click()
            expect(other.get_by_test_id("catalog")).to_contain_text("101001/000001")
            other.get_by_role("link", name="户籍人口基本信息").click()
            expect(other.get_by_test_id("items")).to_contain_text("公民身份号码")
            expect(other.get_by_test_id("metadata")).to_contain_text("仅用于身份核验")

            # R-D2: B asks for both items for its application; A's administrator grants one.
            other.get_by_role("link", name="申请共享").click()
            other.get_by_label("应用").select_option(label="乙区户籍核验系统")
            other.get_by_label("姓名").check()
            other.get_by_label("公民身份号码").check()
            other.get_by_label("用途").fill("户籍迁入业务办理时核验申请人身份。")
            other.get_by_label("使用范围").fill("乙区公安局户政窗口")
            other.get_by_role("button", name="提交申请").click()
            expect(other.get_by_role("status")).to_contain_text("提供部门应于")
            expect(other.get_by_test_id("request")).to_contain_text("等待提供方答复")
            request_url = other.url

            provider = new_page(browser)
            sign_in(provider, live_server, live_world.admin_a)
            provider.get_by_role("link", name="数据共享").click()
            expect(provider.locator('[data-side="provider"] [data-count="pending"]')).to_have_text(
                "1"
            )
            provider.goto(request_url)
            provider.get_by_test_id("approve").get_by_label("公民身份号码").uncheck()
            provider.get_by_role("button", name="批准").click()
            expect(provider.get_by_test_id("items-granted")).to_have_text("姓名")
            other.reload()
            expect(other.get_by_test_id("grant")).to_contain_text("生效中")
        finally:
            browser.close()
