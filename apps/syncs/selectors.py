"""Reads of warehouses and models, restricted by ``syncs.view``."""

from django.db.models import Count, QuerySet

from apps.accounts.access import user_can
from martech.common.errors import NotFoundError

from .models import SqlModel, Warehouse


def warehouse_list(*, user) -> QuerySet[Warehouse]:
    if user is None or not user_can(user, "syncs.view"):
        return Warehouse.objects.none()
    return Warehouse.objects.annotate(model_count=Count("models"))


def warehouse_get(*, user, pk) -> Warehouse:
    found = warehouse_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such warehouse.")
    return found


def model_list(*, user) -> QuerySet[SqlModel]:
    if user is None or not user_can(user, "syncs.view"):
        return SqlModel.objects.none()
    return SqlModel.objects.select_related("warehouse", "owner")


def model_get(*, user, pk) -> SqlModel:
    found = model_list(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFoundError("No such model.")
    return found
