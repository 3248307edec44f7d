"""The embedded demo's access: roles, trainings, birthright rules, requests and a review
for the demo people of ``apps.accounts.demo``; other apps give the roles their
capabilities through ``grant_demo_capabilities``."""

import datetime as dt

from django.utils import timezone

from apps.accounts.demo import DEMO_DOMAIN
from apps.accounts.models import User

from . import services as svc
from .models import AccessRequest, ReviewCampaign, Role, Training, TrainingCompletion


def load() -> str:
    """Roles with tenure and training rules, birthright rules, requests and a review."""
    by_local = {
        person.email.split("@")[0]: person
        for person in User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
    }
    admin = by_local["ops.admin"]
    today = timezone.localdate()
    trainings = {}
    for name, days, description in [
        ("Access management basics", 365, "Least privilege, time-bound access and reviews."),
        (
            "Data protection essentials",
            365,
            "GDPR and CCPA for marketers: consent, purposes, erasure.",
        ),
        ("Production sends", 180, "Sending to production lists safely: seeds, tests and sign-off."),
    ]:
        trainings[name] = Training.objects.filter(name=name).first() or svc.training_create(
            actor=admin, name=name, description=description, validity_days=days, owner=admin
        )
    if Role.objects.exists():
        return "access already loaded"
    roles = {
        "Access Administrator": (
            "ops.admin",
            "Runs access for the console: people, roles, trainings and reviews.",
            [
                ("accounts.manage_access", 90, ["Access management basics"]),
                ("accounts.view_access", 0, []),
                ("audit.view", 0, []),
            ],
            [],
        ),
        "Marketing Operations": (
            "dana.whitfield",
            "Everyone in Marketing Operations: the change history of the stack.",
            [("audit.view", 30, [])],
            [("Marketing Operations", "")],
        ),
        "Lifecycle Marketing": (
            "sam.okafor",
            "Lifecycle marketers: the stack's change history once they have settled in.",
            [("audit.view", 30, [])],
            [("Lifecycle Marketing", "")],
        ),
        "Privacy & Compliance": (
            "fatima.haddad",
            "Privacy officers: every change, and everyone's access.",
            [("audit.view", 0, ["Data protection essentials"]), ("accounts.view_access", 0, [])],
            [("Privacy & Legal", "")],
        ),
        "Growth": (
            "ana.costa",
            "The growth team: the event stream and attribution, once they have settled in.",
            [],
            [("Growth", "")],
        ),
        "Data Engineering": (
            "marcus.lee",
            "Analytics engineers: the warehouses, their models and what lands in them.",
            [],
            [("Data Engineering", "")],
        ),
        "Team Lead": (
            "ops.admin",
            "Leads and managers see their teams' access and the audit log.",
            [("accounts.view_access", 180, []), ("audit.view", 180, [])],
            [("", "Lead"), ("", "Head of"), ("", "Manager")],
        ),
    }
    for name, (owner, description, capabilities, rules) in roles.items():
        role = svc.role_create(
            actor=admin, name=name, description=description, owner=by_local[owner]
        )
        for code, tenure, needs in capabilities:
            svc.role_capability_set(
                actor=admin,
                role=role,
                capability=code,
                min_tenure_days=tenure,
                trainings=[trainings[t] for t in needs],
            )
        for team, title in rules:
            svc.birthright_rule_add(actor=admin, role=role, team=team, job_title_contains=title)
    completions = [
        ("dana.whitfield", "Access management basics", 200),
        ("fatima.haddad", "Data protection essentials", 90),
        ("leo.martins", "Data protection essentials", 400),
        ("sam.okafor", "Production sends", 60),
        ("mei.tanaka", "Production sends", 20),
    ]
    for local, training, days_ago in completions:
        if not TrainingCompletion.objects.filter(
            user=by_local[local], training=trainings[training]
        ).exists():
            svc.training_completion_record(
                actor=admin,
                user=by_local[local],
                training=trainings[training],
                completed_on=today - dt.timedelta(days=days_ago),
            )
    svc.role_assign(
        actor=admin,
        user=by_local["dana.whitfield"],
        role=Role.objects.get(name="Access Administrator"),
    )
    if not AccessRequest.objects.exists():
        svc.access_request_create(
            requester=by_local["jonas.berg"],
            capability="audit.view",
            duration_days=14,
            justification="Checking who changed the onboarding journey settings last week.",
        )
        svc.access_request_create(
            requester=by_local["chloe.dubois"],
            role=Role.objects.get(name="Marketing Operations"),
            duration_days=30,
            justification="Covering Leo's reporting while he is on leave.",
        )
        # Approved early: it waits, shown as upcoming on Chloé's My access, until she has
        # the tenure and the training every role sets for audit.view.
        approved = svc.access_request_create(
            requester=by_local["chloe.dubois"],
            capability="audit.view",
            duration_days=180,
            justification="Reviewing changes to the paid-social syncs for the growth reports.",
        )
        svc.access_request_approve(
            actor=by_local["ana.costa"],
            request=approved,
            note="Starts once you have the tenure and the data protection training.",
        )
    if not ReviewCampaign.objects.exists():
        campaign = svc.review_campaign_create(
            actor=admin,
            name="Q4 2026 access review",
            description="Quarterly check of who can manage access and read the audit log.",
            roles=[Role.objects.get(name="Access Administrator")],
            capabilities=["audit.view"],
            deadline=timezone.now() + dt.timedelta(days=10),
            unreviewed_policy="keep",
        )
        for item in campaign.items.select_related("reviewer")[:2]:
            if item.reviewer and item.reviewer.pk != item.user_id:
                svc.review_item_decide(
                    actor=item.reviewer, item=item, decision="keep", note="Still needed."
                )
    return f"{Role.objects.count()} roles, {len(trainings)} trainings, requests and a review"


def grant_demo_capabilities(admin, rules: dict[str, list[tuple[str, int]]]) -> None:
    """Give the demo roles an app's capabilities (role name -> [(capability, tenure)])."""
    for role_name, entries in rules.items():
        role = Role.objects.filter(name=role_name).first()
        if role is None:
            continue
        existing = set(role.capability_rules.values_list("capability", flat=True))
        for capability, tenure in entries:
            if capability not in existing:
                svc.role_capability_set(
                    actor=admin, role=role, capability=capability, min_tenure_days=tenure
                )
