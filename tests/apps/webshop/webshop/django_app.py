"""The shop as a one-module Django project: settings are configured by the tests (configure())."""
from __future__ import annotations

from django.http import JsonResponse
from django.urls import path

from . import sync
from .services import ACCOUNTS, ORDERS, REPORTS, STOCK


def show_order(request, order_id: int):
    sync.meet(0)
    sync.meet(1)
    return JsonResponse(ORDERS.get_order(order_id))


async def show_order_async(request, order_id: int):
    return JsonResponse(ORDERS.get_order(order_id))


def show_stock(request, sku: str):
    sync.meet(0)
    level = STOCK.count_stock(sku)  # between the two rendezvous: inside the other request's trace
    sync.meet(1)
    return JsonResponse({"sku": sku, "level": level})


def show_account(request):
    return JsonResponse(ACCOUNTS.lookup_account(request.GET.get("token", ""), request.GET.get("user", "")))


def show_report(request, year: int):
    return JsonResponse(REPORTS.build_report(year))


urlpatterns = [
    path("orders/<int:order_id>", show_order),
    path("async-orders/<int:order_id>", show_order_async),
    path("stock/<str:sku>", show_stock),
    path("account", show_account),
    path("report/<int:year>", show_report),
]


def configure(trace_options: dict) -> None:
    """Configure Django once per process for these tests."""
    from django.conf import settings
    if settings.configured:
        settings.SKELETON_TRACE = trace_options
        return
    settings.configure(
        DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="not-a-secret-tests-only",
        MIDDLEWARE=["skeleton_replay.integrations.django.SkeletonMiddleware"], DATABASES={},
        INSTALLED_APPS=[], SKELETON_TRACE=trace_options, USE_TZ=True,
    )
    import django
    django.setup()
