"""The confirmation a note naming sensitive terms asks for: offered only once a warning
named the terms, and holding only for the text warned about."""

import html

import pytest
from django.urls import reverse

from relais.audit.actions import AuditAction
from relais.audit.models import AuditEvent
from relais.persons.models import Note
from tests.persons.editing import WARNED_ABOUT

pytestmark = pytest.mark.django_db

BOX = 'name="confirm_sensitive"'


def _post(client, person, text: str, **fields):
    return client.post(
        reverse("persons:note_add", args=[person.pk]),
        {"text": text, "visibility": "structure", **fields},
    )


def _warned_about(response) -> str:
    return WARNED_ABOUT.search(response.content.decode()).group(1)


def test_the_blank_form_offers_no_box_to_tick(member_client, person):
    page = member_client.get(reverse("persons:section", args=[person.pk, "notes"]))

    assert page.status_code == 200
    assert BOX not in page.content.decode()


def test_a_box_ticked_before_any_warning_confirms_nothing(member_client, person):
    response = _post(member_client, person, "Suivi de santé à prévoir.", confirm_sensitive="on")

    body = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert "Cette note parle peut-être d'informations sensibles (santé)" in body
    assert BOX in body
    assert not Note.objects.exists()


def test_the_box_comes_with_the_warning_not_ticked(member_client, person):
    response = _post(member_client, person, "Suivi de santé à prévoir.")

    body = response.content.decode()
    assert BOX in body
    assert 'name="confirm_sensitive" checked' not in body
    assert not Note.objects.exists()


def test_a_text_changed_after_its_warning_is_warned_about_again(member_client, person):
    warned = _post(member_client, person, "Suivi de santé à prévoir.")

    changed = _post(
        member_client,
        person,
        "Suivi de santé à prévoir ; il a été hospitalisé en mars.",
        warned_about=_warned_about(warned),
        confirm_sensitive="on",
    )

    body = html.unescape(changed.content.decode())
    assert changed.status_code == 400
    assert "informations sensibles (hospitalisation, santé)" in body
    assert 'name="confirm_sensitive" checked' not in body
    assert _warned_about(changed) != _warned_about(warned)
    assert not Note.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.NOTE_ADDED).exists()


def test_the_text_warned_about_is_recorded_once_confirmed(member_client, person):
    warned = _post(member_client, person, "Suivi de santé à prévoir.")

    confirmed = _post(
        member_client,
        person,
        "Suivi de santé à prévoir.",
        warned_about=_warned_about(warned),
        confirm_sensitive="on",
    )

    assert confirmed.status_code == 302
    assert Note.objects.get().sensitive_confirmed is True


def test_a_warning_given_for_another_note_confirms_nothing(member_client, person):
    other = _post(member_client, person, "Suivi de santé à prévoir.")

    response = _post(
        member_client,
        person,
        "Elle fréquente la mosquée du quartier.",
        warned_about=_warned_about(other),
        confirm_sensitive="on",
    )

    assert response.status_code == 400
    assert not Note.objects.exists()
