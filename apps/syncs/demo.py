"""Demo reverse ETL: the console's own database as the warehouse, with two models."""

from apps.accounts.demo import grant_demo_capabilities
from apps.accounts.models import User

from . import services
from .models import SqlModel, Warehouse

ACCESS = {
    "Marketing Operations": [("syncs.view", 0), ("syncs.manage", 90)],
    "Lifecycle Marketing": [("syncs.view", 30)],
    "Privacy & Compliance": [("syncs.view", 0)],
}

MODELS = [
    ("Customers with orders", "user_id",
     "Signed-in customers, their orders and when they were last seen.",
     "SELECT e.user_id AS user_id,\n"
     "       SUM(CASE WHEN e.name = 'Order Completed' THEN 1 ELSE 0 END) AS orders,\n"
     "       MAX(e.received_at) AS last_seen\n"
     "FROM events_event e\n"
     "WHERE e.user_id <> ''\n"
     "GROUP BY e.user_id"),
    ("Known email addresses", "email",
     "Every email the identity graph knows, with the profile's state.",
     "SELECT i.value AS email, p.state AS profile_state, i.first_seen AS first_seen\n"
     "FROM identity_identifier i\n"
     "JOIN identity_profile p ON p.id = i.profile_id\n"
     "WHERE i.type = 'email'"),
]  # fmt: skip


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    if Warehouse.objects.exists():
        return "warehouses already loaded"
    warehouse = services.warehouse_create(
        actor=admin, name="Console database", kind="console", statement_timeout=30,
        description="The console's own tables, read-only: events, profiles, identifiers.",
    )  # fmt: skip
    for name, key, description, sql in MODELS:
        services.model_create(actor=admin, name=name, warehouse=warehouse, sql=sql,
                              primary_key=key, description=description)  # fmt: skip
    services.warehouse_test(actor=admin, warehouse=warehouse)
    return f"1 warehouse, {SqlModel.objects.count()} models"
