"""Every URL pattern of the project, walked from the resolver, filled with real ids.

- An anonymous visitor is sent to the login page everywhere but the public pages.
- Every person-scoped URL (its pattern has `person_id`) answers 404 to a verified
  professional of another organisation, on GET and on POST, and writes nothing. A new
  person-scoped URL is swept without touching this file.
- The same URLs do reach the file for the professional who has the person's consent, so
  the outsider's 404 is the access rule speaking, not a badly filled URL.
"""

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern
from PIL import Image

from relais.audit.context import SYSTEM, Actor
from relais.audit.models import AuditEvent
from relais.consent.models import Block, Consent
from relais.documents.models import Document, DocumentVersion
from relais.documents.services import document_upload
from relais.organisations.models import Invitation, OrganisationKind
from relais.persons.models import HouseholdMember, MonthlyResource, Note
from relais.procedures.models import Procedure, ProcedureStep, ProcedureTransition
from relais.procedures.services import procedure_open
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.persons.factories import (
    ConsentFactory,
    HouseholdMemberFactory,
    MonthlyResourceFactory,
    PersonFactory,
    ReferentFactory,
)
from tests.procedures.factories import ProcedureTypeFactory
from tests.urlwalk import walk

pytestmark = pytest.mark.django_db

# Pages an anonymous visitor may open.
PUBLIC = {
    "www:accessibility",
    "www:legal",
    "www:privacy",
    "www:health",
    "accounts:login",
    "accounts:logout",
    "accounts:invitation",
    "accounts:password_reset",
    "accounts:password_reset_sent",
    "accounts:password_reset_choose",
    "accounts:password_reset_confirm",
}
# Person-scoped views that accept POST only: a GET is refused with 405 before anything is
# looked up (the same answer for any id, so it tells nothing about the file). Every other
# person-scoped URL, including any added later, must answer 404 to both methods.
POST_ONLY = {
    "persons:nir_reveal",
    "persons:member_add",
    "persons:member_remove",
    "persons:resource_add",
    "persons:resource_remove",
    "persons:note_add",
    "persons:referents",
    "persons:consent_code",
    "persons:consent_revoke",
    "persons:blocks",
    "persons:break_glass_preference",
    "documents:upload",
    "person_account:update",
    "person_account:invite",
    "person_account:close",
    "procedures:open",
    "procedures:transition",
    "procedures:update",
    "procedures:step",
    "procedures:link",
    "procedures:not_applicable",
}
# The person's own space has its own login: its login pages are open to anyone, and its
# other pages send an anonymous visitor to the person's login page (portal:login), never
# to the professionals' one.
PORTAL_PUBLIC = {
    "portal:login",
    "portal:login_code",
    "portal:login_code_check",
    "portal:login_password",
    "portal:login_card",
    "portal:activate",
    "portal:logout",
    "portal:language",
    "portal:export_schema",
}

_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")
_SLOT = re.compile(r"\{(?P<name>\w+):(?P<converter>\w+)\}")


def _template(pattern) -> str:
    """The pattern's text with each parameter as a `{name:converter}` slot."""
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RegexPattern):

        def group(match: re.Match[str]) -> str:
            # An alternation of plain words (the admin's app labels): take the first one.
            first = match["body"].split("|")[0]
            if re.fullmatch(r"\w+", first):
                return first
            return "{" + match["name"] + ":regex}"

        return _NAMED_GROUP.sub(group, text).lstrip("^").rstrip("$").replace("\\", "")
    return _CONVERTER.sub(lambda m: "{" + m["name"] + ":" + (m["converter"] or "str") + "}", text)


ALL_PATTERNS = list(walk(get_resolver().url_patterns, _template))
PERSON_SCOPED = [
    (ident, template, callback)
    for ident, template, callback in ALL_PATTERNS
    if "{person_id:" in template
]


def _params(patterns):
    return [
        pytest.param(ident, template, callback, id=ident) for ident, template, callback in patterns
    ]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def world():
    """A person followed by a CCAS, with something in each part of the file, and the
    objects whose ids the URLs need."""
    home = OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Calais")
    referent = MembershipFactory(organisation=home)
    manager = MembershipFactory(organisation=home, manager=True)
    person = PersonFactory(first_names="Léa", birth_name="Dupré")
    consent = ConsentFactory(person=person, organisation=home)
    ReferentFactory(person=person, organisation=home, professional=referent.user)
    member = HouseholdMemberFactory(person=person)
    resource = MonthlyResourceFactory(person=person, member=member)
    document = document_upload(
        person=person,
        kind="rib",
        title="",
        issued_on=None,
        expires_on=None,
        files=[SimpleUploadedFile("rib.png", _png(), content_type="image/png")],
        uploaded_by_id=referent.user_id,
        by=SYSTEM,
    )
    procedure = procedure_open(
        person=person,
        procedure_type=ProcedureTypeFactory(),
        organisation=home,
        by=Actor(user_id=referent.user_id, label="Référente", organisation_id=home.pk),
    )
    invitation = Invitation.objects.create(
        organisation=home,
        email="nouvelle@exemple.test",
        first_name="Nina",
        last_name="Nouvelle",
        role="professionnel",
        profession="ass",
        token_hash="0" * 64,
        nonce="n" * 32,
        invited_by=manager.user,
        expires_at=consent.expires_at,
    )
    return {
        "home": home,
        "referent": referent,
        "person": person,
        "consent": consent,
        "member": member,
        "resource": resource,
        "ids": {
            "person_id": person.pk,
            "consent_id": consent.pk,
            "membership_id": referent.pk,
            "organisation_id": home.pk,
            "invitation_id": invitation.pk,
            "document_id": document.pk,
            "procedure_id": procedure.pk,
            "requirement_id": procedure.checklist.first().pk,
        },
    }


def _fill(ident: str, template: str, world) -> str:
    def value(match: re.Match[str]) -> str:
        name, converter = match["name"], match["converter"]
        if name == "item_id":
            item = world["resource"] if ident == "persons:resource_remove" else world["member"]
            return str(item.pk)
        if converter in ("id", "int"):
            return str(world["ids"].get(name, 1))
        if name == "category":
            # A section edited as one object, so that the edit page reaches the rule.
            return "logement" if ident == "persons:section_edit" else "famille"
        if name == "token":
            return "jeton-inconnu"
        return "1" if name.endswith("id") else "x"

    return _SLOT.sub(value, template)


def _snapshot(person):
    return {
        "journal": AuditEvent.objects.filter(person_id=person.pk).count(),
        "live_consents": Consent.objects.live().filter(person=person).count(),
        "blocks": Block.objects.filter(person=person).count(),
        "members": HouseholdMember.objects.filter(person=person).count(),
        "resources": MonthlyResource.objects.filter(person=person).count(),
        "notes": Note.objects.filter(person=person).count(),
        "documents": Document.objects.present().filter(person=person).count(),
        "versions": DocumentVersion.objects.filter(document__person=person).count(),
        "procedures": list(
            Procedure.objects.filter(person=person).values_list("pk", "status", "due_on")
        ),
        "transitions": ProcedureTransition.objects.filter(procedure__person=person).count(),
        "steps": ProcedureStep.objects.filter(procedure__person=person).count(),
    }


def test_it_walks_every_url_pattern_of_the_project():
    idents = {ident for ident, _, _ in ALL_PATTERNS}
    assert len(ALL_PATTERNS) > 50
    assert {"admin:index", "journal:list", "persons:file", "persons:consent_revoke"} <= idents
    assert idents >= PUBLIC | PORTAL_PUBLIC
    assert {ident for ident, _, _ in PERSON_SCOPED} >= POST_ONLY


def test_it_finds_the_person_scoped_urls():
    scoped = {ident for ident, _, _ in PERSON_SCOPED}
    assert scoped >= POST_ONLY | {
        "persons:file",
        "persons:section",
        "persons:section_edit",
        "persons:history",
        "persons:consents",
        "persons:consent_attestation",
    }


def test_it_names_the_person_parameter_person_id_in_every_file_url():
    """A person-scoped URL is recognised by its `person_id`: a file URL that named it
    otherwise would escape the sweep."""
    for ident, template, _ in ALL_PATTERNS:
        if template.startswith("/personnes/") and "{" in template:
            assert template.startswith("/personnes/{person_id:id}/"), ident


@pytest.mark.parametrize(("ident", "template", "callback"), _params(ALL_PATTERNS))
def test_it_sends_anonymous_visitors_to_the_login_page(client, world, ident, template, callback):
    path = _fill(ident, template, world)
    assert resolve(path).func == callback

    response = client.get(path)

    if ident in PUBLIC:
        target = urlparse(response.url).path if response.status_code == 302 else ""
        assert not (target == reverse("accounts:login") and "next=" in response.url)
        return
    if ident.startswith("portal:"):
        if ident in PORTAL_PUBLIC:
            assert response.status_code in {200, 302, 405}
            if response.status_code == 302:
                assert urlparse(response.url).path != reverse("accounts:login")
        else:
            assert response.status_code == 302
            assert urlparse(response.url).path == reverse("portal:login")
        return
    assert response.status_code == 302
    target = urlparse(response.url)
    assert parse_qs(target.query)["next"] == [path]
    if target.path == reverse("admin:login"):
        # The administration sends to its own login page, which hands over to Relais's.
        response = client.get(response.url)
        assert response.status_code == 302
        target = urlparse(response.url)
    assert target.path == reverse("accounts:login")


@pytest.mark.parametrize(("ident", "template", "callback"), _params(PERSON_SCOPED))
def test_it_sends_an_anonymous_post_to_the_login_page(client, world, ident, template, callback):
    path = _fill(ident, template, world)
    before = _snapshot(world["person"])

    response = client.post(path, {"organisation": world["home"].pk})

    assert response.status_code == 302
    assert urlparse(response.url).path == reverse("accounts:login")
    assert _snapshot(world["person"]) == before


@pytest.mark.parametrize(("ident", "template", "callback"), _params(PERSON_SCOPED))
def test_it_answers_404_to_a_professional_of_another_organisation(
    client, world, ident, template, callback
):
    outsider = MembershipFactory(
        organisation=OrganisationFactory(kind=OrganisationKind.CCAS, name="CCAS de Boulogne"),
        manager=True,
    )
    log_in(client, outsider.user, outsider)
    path = _fill(ident, template, world)
    assert resolve(path).func == callback
    before = _snapshot(world["person"])

    got = client.get(path)
    posted = client.post(
        path,
        {
            "organisation": outsider.organisation_id,
            "refuse": "oui",
            "relation": "enfant",
            "first_names": "Noé",
            "birth_date": "2016-09-01",
            "text": "Note écrite par une autre structure.",
            "visibility": "partagee",
        },
    )

    assert posted.status_code == 404
    if ident in POST_ONLY:
        assert got.status_code == 405
    else:
        assert got.status_code == 404
    assert _snapshot(world["person"]) == before
    assert not AuditEvent.objects.filter(
        person_id=world["person"].pk, actor_id=outsider.user_id
    ).exists()


_CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _unmasked(content: bytes) -> bytes:
    return _CSRF_FIELD.sub(b'name="csrfmiddlewaretoken" value=""', content)


@pytest.mark.parametrize(("ident", "template", "callback"), _params(PERSON_SCOPED))
def test_it_answers_the_same_404_for_a_file_that_does_not_exist(
    client, world, ident, template, callback
):
    outsider = MembershipFactory(manager=True)
    log_in(client, outsider.user, outsider)
    real = client.post(_fill(ident, template, world))
    world["ids"]["person_id"] = world["person"].pk + 1000
    missing = client.post(_fill(ident, template, world))

    assert real.status_code == missing.status_code == 404
    # Byte for byte, but for the CSRF field of the logout button: masked anew on each page.
    assert _unmasked(real.content) == _unmasked(missing.content)


NUMBERED = [pattern for pattern in ALL_PATTERNS if "{" in pattern[1] and ":id}" in pattern[1]]


@pytest.mark.parametrize(("ident", "template", "callback"), _params(NUMBERED))
def test_it_answers_404_to_a_number_beyond_the_databases_keys(
    member_client, world, ident, template, callback
):
    """A number no 64-bit key can hold is no row's: 404, never a database error."""
    path = _SLOT.sub(lambda match: "9" * 25 if match["converter"] == "id" else "x", template)

    assert member_client.get(path).status_code == 404
    assert member_client.post(path).status_code == 404


@pytest.mark.parametrize(("ident", "template", "callback"), _params(PERSON_SCOPED))
def test_it_reaches_the_file_for_the_professional_with_consent(
    client, world, ident, template, callback
):
    log_in(client, world["referent"].user, world["referent"])
    path = _fill(ident, template, world)

    got = client.get(path)
    posted = client.post(path, {"organisation": world["home"].pk, "refuse": "non"})

    assert got.status_code in ({405} if ident in POST_ONLY else {200, 302})
    assert posted.status_code in {200, 302, 400}


def test_it_answers_404_to_an_outsider_with_a_verified_session_and_no_organisation_rights(
    client, world
):
    """A pilot acts for no organisation: the files stay closed to them too."""
    log_in(client, UserFactory(pilot=True))

    response = client.get(reverse("persons:file", args=[world["person"].pk]))

    assert response.status_code == 404
