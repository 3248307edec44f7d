"""Every checkbox and radio group in the console renders as Bootstrap checks: a fieldset named
by its legend, each option a form-check with the input's own label, and the group's errors
inside the fieldset. No wrapper is styled as a control and no label points nowhere."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django import forms

from apps.consent.defaults import ensure_default_purposes
from apps.destinations.forms import DestinationForm
from apps.intake import services as intake
from apps.intake.forms import SystemForm
from apps.tools.forms import ToolForm
from apps.tools.services import tool_create
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.text: list[str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def words(self) -> str:
        return " ".join(
            " ".join(t.strip() for t in node.text if t.strip()) for node in self.walk()
        ).strip()

    def ancestor(self, tag: str) -> "Node | None":
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.root = Node("#root", {}, None)
        self.stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].text.append(data)

    def all(self, tag: str | None = None):
        return [n for n in self.root.walk() if tag is None or n.tag == tag]


def _groups(form_class) -> dict[str, str]:
    """The form's checkbox and radio groups: field name -> label."""
    return {
        name: field.label or name.replace("_", " ").capitalize()
        for name, field in form_class.base_fields.items()
        if isinstance(field.widget, forms.RadioSelect)
    }


def _assert_groups_render_as_checks(html: str, groups: dict[str, str]) -> None:
    page = Page(html)
    for name, label in groups.items():
        inputs = [n for n in page.all("input") if n.attrs.get("name") == name]
        assert len(inputs) >= 2, name
        fieldset = inputs[0].ancestor("fieldset")
        assert fieldset is not None, name
        legends = [c for c in fieldset.children if c.tag == "legend"]
        assert [legend.words() for legend in legends] == [label], name
        for box in inputs:
            assert "form-check-input" in box.classes, (name, box.attrs)
            assert box.ancestor("fieldset") is fieldset
            check = box.parent
            assert check.tag == "div", (name, box.attrs)
            assert "form-check" in check.classes, (name, box.attrs)
            labels = [c for c in check.children if c.tag == "label"]
            assert len(labels) == 1, name
            assert "form-check-label" in labels[0].classes, name
            assert labels[0].attrs.get("for") == box.attrs["id"], name
            assert labels[0].words(), name
    for node in page.all():
        if node.tag not in ("input", "select"):
            assert not node.classes & {"form-check-input", "form-select"}, (node.tag, node.attrs)
        if node.tag == "label":
            assert node.attrs.get("for") != "", node.words()


def _intake_at_system(actor):
    request = intake.intake_create(
        actor=actor,
        title="Push without engineers",
        problem_statement="Push campaigns need an engineer for every change.",
        who_suffers="Lifecycle marketers.",
        cost_hours_per_month=Decimal("24"),
        evidence="14 tickets in October.",
    )
    request = intake.intake_advance(actor=actor, request=request)
    approver = AdminFactory(full_name="Alice Approver")
    intake.stakeholder_add(actor=actor, request=request, person=approver, part="approver")
    return intake.intake_advance(actor=actor, request=request)


def test_tool_create_and_edit_pages_render_their_groups_as_checks(admin_client, admin):
    # given
    tool = tool_create(
        actor=admin, name="Braze", vendor="Braze", category="x", capabilities=["crm"]
    )
    groups = _groups(ToolForm)
    assert set(groups) == {"capabilities", "data_categories"}

    # when
    create = admin_client.get("/tools/new/")
    edit = admin_client.get(f"/tools/{tool.pk}/edit/")

    # then
    _assert_groups_render_as_checks(create.content.decode(), groups)
    _assert_groups_render_as_checks(edit.content.decode(), groups)
    ticked = [
        n.attrs["value"]
        for n in Page(edit.content.decode()).all("input")
        if n.attrs.get("name") == "capabilities" and "checked" in n.attrs
    ]
    assert ticked == ["crm"]


def test_intake_system_stage_renders_radios_and_checkboxes_as_checks(admin_client, admin):
    # given
    request = _intake_at_system(admin)

    # when
    response = admin_client.get(f"/intake/{request.pk}/system/")

    # then
    assert response.status_code == 200
    _assert_groups_render_as_checks(response.content.decode(), _groups(SystemForm))
    page = Page(response.content.decode())
    radios = [n for n in page.all("input") if n.attrs.get("name") == "approach"]
    assert {r.attrs["type"] for r in radios} == {"radio"}


def test_destination_form_renders_its_purposes_as_checks(admin_client):
    # given
    ensure_default_purposes()

    # when
    response = admin_client.get("/destinations/new/")

    # then
    assert response.status_code == 200
    _assert_groups_render_as_checks(response.content.decode(), _groups(DestinationForm))


def test_a_group_error_shows_inside_its_fieldset_under_the_options(admin_client, admin):
    # given
    request = _intake_at_system(admin)

    # when: the System stage is saved with no approach and no capability
    response = admin_client.post(f"/intake/{request.pk}/system/", {"system_design": "x"})

    # then: each group's own fieldset says what is missing, after its options
    assert response.status_code == 400
    page = Page(response.content.decode())
    for name in ("approach", "proposed_capabilities"):
        box = next(n for n in page.all("input") if n.attrs.get("name") == name)
        assert "is-invalid" in box.classes
        fieldset = box.ancestor("fieldset")
        kinds = [
            "choices" if "console-choices" in c.classes else "error"
            for c in fieldset.children
            if c.classes & {"console-choices", "invalid-feedback"}
        ]
        assert kinds == ["choices", "error"], name
        error = next(c for c in fieldset.children if "invalid-feedback" in c.classes)
        assert error.words() == "This field is required."
