"""Creating a file, saving a section and merging two files as a professional does: post
the creation form; open a section's form, then post it with the state the page carries;
post the two numbers of a merge, then confirm the two files the page shows."""

import re

from django.urls import reverse

STATE = re.compile(r'name="state" value="([0-9a-f]{64})"')
# The text a note's author was warned about, which a confirmation must carry.
WARNED_ABOUT = re.compile(r'name="warned_about" value="([0-9a-f]{64})"')
# The two files a merge's confirmation page shows, signed.
MERGE_PAIR = re.compile(r'name="paire" value="([^"]+)"')


def opened_state(client, person_id: int, category: str) -> str:
    page = client.get(reverse("persons:section_edit", args=[person_id, category]))
    found = STATE.search(page.content.decode())
    assert found, "the edit page carries no state"
    return found.group(1)


def save_section(client, person_id: int, category: str, data: dict, state: str | None = None):
    state = state or opened_state(client, person_id, category)
    url = reverse("persons:section_edit", args=[person_id, category])
    return client.post(url, {**data, "state": state})


def create_file(client, **overrides):
    data = {
        "first_names": "Léa",
        "birth_name": "Dupré-Lefèvre",
        "birth_date": "1990-04-12",
        "nir": "",
        "categories": ["identite", "famille", "ressources", "notes"],
        "purpose": "Accompagnement social",
        "duration": "6m",
        "method": "signe",
    } | overrides
    return client.post(reverse("persons:create"), data)


def merge_files(client, keep_id: int, absorb_id: int):
    """Post the two numbers, then confirm the two files shown: the confirmation's answer,
    or the first step's when it shows no confirmation."""
    shown = client.post(reverse("persons:merge"), {"keep": keep_id, "absorb": absorb_id})
    found = MERGE_PAIR.search(shown.content.decode())
    if found is None:
        return shown
    return client.post(reverse("persons:merge"), {"paire": found.group(1), "same_person": "on"})
