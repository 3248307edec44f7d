"""Demo intake: requests at every stage, from a fresh problem to an approved tool."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apps.access.demo import grant_demo_capabilities
from apps.accounts.models import User

from . import services
from .models import IntakeRequest

ACCESS = {
    "Marketing Operations": [("intake.submit", 0), ("intake.decide", 180)],
    "Lifecycle Marketing": [("intake.submit", 30)],
    "Team Lead": [("intake.submit", 0), ("intake.decide", 180)],
    "Privacy & Compliance": [("intake.submit", 0), ("intake.decide", 0)],
}

# Each request: requester, problem, then how far it goes.
REQUESTS = [
    {
        "requester": "leo.martins",
        "title": "Webinar leads reach sales two days late",
        "problem_statement": (
            "Webinar registrants are exported from the webinar tool and uploaded to "
            "Salesforce by hand twice a week, so sales calls them two days after the event."
        ),
        "who_suffers": "Account executives in EMEA and the marketing-ops analyst who uploads.",
        "cost_hours_per_month": Decimal("16"),
        "evidence": "",
        "stage": "problem",
    },
    {
        "requester": "sam.okafor",
        "title": "The same segments are rebuilt in three tools",
        "problem_statement": (
            "Lifecycle builds 'active trial, no project yet' in Braze, Customer.io and HubSpot "
            "separately; the three counts never agree."
        ),
        "who_suffers": "Lifecycle marketers, and customers who get two versions of one email.",
        "cost_hours_per_month": Decimal("30"),
        "evidence": "Last quarter's audit found 11% of trial users in one segment but not another.",
        "stage": "people",
        "people": [
            ("ops.admin", "approver", "Owns the stack budget"),
            ("marcus.lee", "consulted", "Warehouse models"),
        ],
    },
    {
        "requester": "mei.tanaka",
        "title": "Every push campaign needs an engineer",
        "problem_statement": (
            "Mobile push is sent from a script in the app backend; each campaign needs an "
            "engineer to change copy and audience."
        ),
        "who_suffers": "Lifecycle marketers (waiting) and the mobile team (interrupted).",
        "cost_hours_per_month": Decimal("24"),
        "cost_money_per_month": Decimal("3600"),
        "evidence": "14 push tickets in the mobile backlog in October; median wait 6 days.",
        "stage": "system",
        "people": [
            ("ops.admin", "approver", ""),
            ("sam.okafor", "approver", "Lifecycle lead"),
            ("jonas.berg", "needs_training", "Will run weekly pushes"),
            ("marcus.lee", "informed", ""),
        ],
        "system": {
            "approach": "buy",
            "proposed_capabilities": ["push_sms", "email_lifecycle"],
            "system_design": "Marketers schedule pushes from segments synced from the warehouse.",
        },
        "candidates": [
            ("Braze", "Braze", None, "Already under contract: check the push add-on."),
            ("OneSignal", "OneSignal", Decimal("18000"), "Push only; cheap, but one more tool."),
        ],
    },
    {
        "requester": "ravi.patel",
        "title": "Paid social conversions never reach the CRM",
        "problem_statement": (
            "Paid social leads arrive in Salesforce without click ids or campaign, so "
            "pipeline cannot be attributed to spend."
        ),
        "who_suffers": "Growth (budget decisions) and finance (CAC reporting).",
        "cost_money_per_month": Decimal("12000"),
        "evidence": "62% of Q3 opportunities have no first-touch source.",
        "stage": "decision",
        "people": [
            ("ana.costa", "approver", "Head of Growth"),
            ("ops.admin", "approver", ""),
            ("fatima.haddad", "consulted", "Click ids are personal data"),
        ],
        "system": {
            "approach": "both",
            "proposed_capabilities": ["attribution"],
            "system_design": (
                "Capture UTMs and click ids first-party at collection; a mobile attribution "
                "SDK for the app; sync first touch to Salesforce by reverse ETL."
            ),
        },
        "candidates": [
            ("Northbeam", "Northbeam", Decimal("42000"), "Multi-touch attribution."),
            ("Rockerbox", "Rockerbox", Decimal("36000"), ""),
        ],
        "votes": [("ana.costa", "approve", "Yes: we cannot defend the paid budget without it.")],
    },
    {
        "requester": "dana.whitfield",
        "title": "Checkout drop-off cannot be seen, only counted",
        "problem_statement": (
            "Amplitude shows that 38% of visitors leave at the shipping step, but not what "
            "they were doing when they left."
        ),
        "who_suffers": "Growth analysts, and the web team guessing at fixes.",
        "cost_hours_per_month": Decimal("12"),
        "cost_money_per_month": Decimal("5000"),
        "evidence": "Three checkout redesigns in 2026 moved conversion by less than 0.5 points.",
        "stage": "approved",
        "people": [
            ("ops.admin", "approver", ""),
            ("ana.costa", "approver", "Head of Growth"),
            ("fatima.haddad", "consulted", "Session recordings are personal data"),
            ("leo.martins", "needs_training", "Will set up masking rules"),
        ],
        "system": {
            "approach": "buy",
            "proposed_capabilities": ["product_analytics"],
            "system_design": "Session replay on checkout only, with form fields masked.",
        },
        "candidates": [("Hotjar", "Contentsquare", Decimal("12000"), "Replay and heatmaps.")],
        "votes": [
            ("ops.admin", "approve", "Approved for a pilot: Amplitude cannot replay sessions."),
            ("ana.costa", "approve", "Yes, once the DPA is signed and masking is on."),
        ],
        "ticked": 2,
    },
    {
        "requester": "ana.costa",
        "title": "No A/B tests on the pricing page",
        "problem_statement": "Pricing changes ship without a test; we cannot tell what helped.",
        "who_suffers": "Growth and product marketing.",
        "cost_money_per_month": Decimal("8000"),
        "evidence": "Two pricing changes this year were rolled back on gut feeling.",
        "stage": "deferred",
        "people": [("ops.admin", "approver", "")],
        "system": {
            "approach": "buy",
            "proposed_capabilities": ["personalization"],
            "system_design": "A client-side experimentation tool on the marketing site.",
        },
        "candidates": [("VWO", "Wingify", Decimal("24000"), "")],
        "defer": (45, "Revisit after the site moves to the new CMS in Q1."),
    },
    {
        "requester": "leo.martins",
        "title": "EMEA wants its own newsletter tool",
        "problem_statement": "The EMEA team cannot schedule newsletters in local time zones.",
        "who_suffers": "EMEA field marketing.",
        "cost_hours_per_month": Decimal("6"),
        "evidence": "Requests from three EMEA marketers since July.",
        "stage": "rejected",
        "people": [("ops.admin", "approver", "")],
        "system": {
            "approach": "buy",
            "proposed_capabilities": ["email_lifecycle"],
            "system_design": "A separate newsletter tool for EMEA.",
        },
        "candidates": [("Mailchimp", "Intuit", Decimal("9000"), "")],
        "reject": (
            "ops.admin",
            "Customer.io sends in the recipient's time zone already; let's train EMEA on it.",
        ),
    },
]


def load() -> str:
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return "no administrator to act as"
    grant_demo_capabilities(admin, ACCESS)
    if IntakeRequest.objects.exists():
        return "intake already loaded"
    people = {u.email.split("@")[0]: u for u in User.objects.all()}
    for spec in REQUESTS:
        _load_one(spec, people)
    return f"{len(REQUESTS)} intake requests"


def _load_one(spec: dict, people: dict) -> None:
    requester = people[spec["requester"]]
    problem = {
        k: spec[k]
        for k in (
            "problem_statement",
            "who_suffers",
            "cost_hours_per_month",
            "cost_money_per_month",
            "evidence",
        )
        if k in spec
    }
    req = services.intake_create(actor=requester, title=spec["title"], **problem)
    if spec["stage"] == "problem":
        return
    req = services.intake_advance(actor=requester, request=req)
    for local, part, note in spec.get("people", []):
        services.stakeholder_add(
            actor=requester, request=req, person=people[local], part=part, note=note
        )
    if spec["stage"] == "people":
        return
    req = services.intake_advance(actor=requester, request=req)
    req = services.intake_update(actor=requester, request=req, **spec["system"])
    for name, vendor, cost, notes in spec.get("candidates", []):
        services.candidate_add(
            actor=requester,
            request=req,
            name=name,
            vendor=vendor,
            estimated_annual_cost=cost,
            notes=notes,
        )
    if spec["stage"] == "system":
        return
    req = services.intake_advance(actor=requester, request=req)
    for local, verdict, comment in spec.get("votes", []):
        services.intake_vote(actor=people[local], request=req, verdict=verdict, comment=comment)
    if "defer" in spec:
        days, comment = spec["defer"]
        services.intake_defer(
            actor=people["ops.admin"],
            request=req,
            revisit_on=timezone.localdate() + dt.timedelta(days=days),
            comment=comment,
        )
    if "reject" in spec:
        local, comment = spec["reject"]
        services.intake_vote(actor=people[local], request=req, verdict="reject", comment=comment)
    for task in list(req.onboarding_tasks.all())[: spec.get("ticked", 0)]:
        services.onboarding_task_set(actor=requester, task=task, done=True)
