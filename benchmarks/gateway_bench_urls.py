"""The platform's URLs plus ``/bench/static-records``: a 20-record answer shaped like the
gateway's, built once, served through the same middleware (the gateway benchmark's
baseline)."""

import uuid

from django.http import JsonResponse
from django.urls import path

from zhengyun.urls import handler404, handler500, urlpatterns  # noqa: F401

BODY = {
    "request_id": uuid.uuid4().hex,
    "resource": "101001/000001",
    "version": 1,
    "items": ["姓名", "公民身份号码", "出生日期"],
    "page": 1,
    "page_size": 20,
    "count": 200,
    "records": [
        {"姓名": "居****", "公民身份号码": f"110101********{n:04d}", "出生日期": "1990-03-07"}
        for n in range(20)
    ],
}


def static_records(request):
    return JsonResponse(BODY, json_dumps_params={"ensure_ascii": False})


urlpatterns = [*urlpatterns, path("bench/static-records", static_records)]
