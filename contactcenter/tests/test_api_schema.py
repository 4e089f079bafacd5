"""The OpenAPI schema is valid, served to signed-in users, and describes the responses the API really sends."""

from __future__ import annotations

import copy
import re

import jsonschema
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from crm import services
from crm.choices import ConversationStatus
from crm.models import ContactIdentity
from crm.tests.factories import AccountFactory, ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    text = target.read_text()
    for path in ("/api/v1/contacts/{id}/identities/", "/api/v1/conversations/{conversation_pk}/messages/",
                 "/api/v1/cases/{id}/resolve/", "/api/v1/contacts/{contact_pk}/timeline/"):
        assert f"{path}:" in text


def test_schema_and_docs_need_a_signed_in_user(agent):
    anonymous = APIClient()
    assert anonymous.get("/api/schema/", {"format": "json"}).status_code == 401
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/")

    client = APIClient()
    client.force_login(agent)
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/schema/", {"format": "json"}).json()["info"]["title"] == "Contact Center API"


# --- Real responses against the served schema ---------------------------------------------------


def _strict(node):
    """OpenAPI 3.0 → JSON Schema: ``nullable`` becomes a null alternative, and objects
    with declared properties allow no others (a response field missing from the
    schema is a mismatch too)."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        return {"anyOf": [node, {"type": "null"}]}
    return node


class SchemaChecker:
    def __init__(self, document: dict):
        self.document = document
        self.components = _strict(copy.deepcopy(document["components"]))

    def operation(self, path: str, method: str) -> dict:
        for template, operations in self.document["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$"
            if re.match(pattern, path) and method in operations:
                return operations[method]
        raise AssertionError(f"{method.upper()} {path} is not in the schema")

    def check(self, response, path: str, method: str = "get") -> None:
        responses = self.operation(path, method)["responses"]
        status = str(response.status_code)
        assert status in responses, f"{method.upper()} {path} answered {status}, undocumented"
        schema = _strict(responses[status]["content"]["application/json"]["schema"])
        jsonschema.validate(response.json(), {**schema, "components": self.components})


@pytest.fixture
def schema(supervisor) -> SchemaChecker:
    client = APIClient()
    client.force_login(supervisor)
    return SchemaChecker(client.get("/api/schema/", {"format": "json"}).json())


@pytest.fixture
def world(supervisor, agent):
    account = AccountFactory(owner=supervisor)
    contact = ContactFactory(account=account, attributes={"loyalty": "gold"})
    ContactIdentity.objects.create(contact=contact, kind="sms", address="+14155550134")
    conversation = ConversationFactory(contact=contact, assigned_agent=agent, status=ConversationStatus.ACTIVE)
    services.message_send(conversation=conversation, sender=agent, body="Hello")
    case = services.case_create(contact=contact, subject="Speaker crackles", owner=agent, actor=agent)
    services.activity_create(actor=agent, subject="Call back", kind="phone_call", case=case)
    return {"account": account, "contact": contact, "conversation": conversation, "case": case}


def test_read_responses_match_the_schema(schema, supervisor, world):
    client = APIClient()
    client.force_login(supervisor)
    contact, conversation, case = world["contact"], world["conversation"], world["case"]
    paths = [
        "/api/v1/accounts/", f"/api/v1/accounts/{world['account'].pk}/",
        "/api/v1/contacts/", f"/api/v1/contacts/{contact.pk}/", f"/api/v1/contacts/{contact.pk}/timeline/",
        "/api/v1/cases/", f"/api/v1/cases/{case.pk}/",
        "/api/v1/conversations/", f"/api/v1/conversations/{conversation.pk}/",
        f"/api/v1/conversations/{conversation.pk}/messages/",
        "/api/v1/activities/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        schema.check(response, path)


def test_write_and_error_responses_match_the_schema(schema, agent, world):
    client = APIClient()
    client.force_login(agent)
    conversation, case, contact = world["conversation"], world["case"], world["contact"]
    messages = f"/api/v1/conversations/{conversation.pk}/messages/"

    checks = [
        (client.post(messages, {"body": "On its way"}, format="json"), messages, "post", 201),
        (client.post(messages, {"body": ""}, format="json"), messages, "post", 400),
        (client.post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution": "Replaced"}, format="json"),
         f"/api/v1/cases/{case.pk}/resolve/", "post", 200),
        (client.patch(f"/api/v1/cases/{case.pk}/", {"subject": "x"}, format="json"),
         f"/api/v1/cases/{case.pk}/", "patch", 409),
        (client.post(f"/api/v1/contacts/{contact.pk}/identities/", {"kind": "email", "address": "a@b.example"},
                     format="json"),
         f"/api/v1/contacts/{contact.pk}/identities/", "post", 201),
        (client.post("/api/v1/contacts/", {"first_name": "Ann"}, format="json"), "/api/v1/contacts/", "post", 201),
        (client.get("/api/v1/conversations/999999/"), "/api/v1/conversations/999999/", "get", 404),
        (APIClient().get("/api/v1/cases/"), "/api/v1/cases/", "get", 401),
    ]
    for response, path, method, status in checks:
        assert response.status_code == status, (method, path, response.content)
        schema.check(response, path, method)


def test_an_undeclared_field_would_fail_the_check(schema, supervisor, world):
    client = APIClient()
    client.force_login(supervisor)
    tampered = client.get("/api/v1/accounts/").json()
    tampered["results"][0]["surprise"] = 1

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            tampered,
            {**_strict(schema.operation("/api/v1/accounts/", "get")["responses"]["200"]["content"]["application/json"]
                       ["schema"]), "components": schema.components},
        )
