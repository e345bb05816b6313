"""The shipped catalogue says its alternatives and its situations in its structure, not in
words the code would have to compare: every pair of identity papers, every paper offered
in place of another, every paper asked only in a situation. Each procedure of the
catalogue, opened for a person the file tells nothing of, counts every group once and
no paper of a situation as missing, and lets a professional say the person not concerned
only by a paper some situations need."""

import re

import pytest
from django.core.exceptions import ValidationError

from relais.audit.models import AuditAction, AuditEvent
from relais.procedures.catalogue import check_catalogue, load_catalogue
from relais.procedures.measures import completeness, missing_in_plain_words
from relais.procedures.models import ProcedureType
from relais.procedures.services import checklist_mark_not_applicable, procedure_open
from tests.persons.factories import PersonFactory
from tests.procedures.factories import DocumentFactory

ENTRIES = [entry.values for entry in check_catalogue()]
IDS = [entry["slug"] for entry in ENTRIES]
FRENCH = re.compile(r"(êtes|est) de nationalité française")
NOT_FRENCH = re.compile(r"n'(êtes|est) pas de nationalité française")
# « de moins de 6 mois », « de moins de 1 an », « datant de moins de 3 mois », « récent ».
SAYS_RECENT = re.compile(r"de moins de (\d+) (mois|ans?)\b|récent")
# « si … », « seulement si … », « …, si … » — not « s'il … ».
SAYS_IF = re.compile(r"(^|[ ,:])si ")


def _groups(entry):
    groups: dict[str, list[dict]] = {}
    for piece in entry["required_documents"]:
        if piece.get("group"):
            groups.setdefault(piece["group"], []).append(piece)
    return groups


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_each_paper_of_one_nationality_is_grouped_with_the_paper_of_the_other(entry):
    groups = _groups(entry)
    for piece in entry["required_documents"]:
        condition = piece["condition"]
        if not FRENCH.search(condition) and not NOT_FRENCH.search(condition):
            continue
        assert piece.get("group"), piece
        members = [member["condition"] for member in groups[piece["group"]]]
        assert any(NOT_FRENCH.search(member) for member in members), members
        assert any(FRENCH.search(member) and not NOT_FRENCH.search(member) for member in members), (
            members
        )


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_each_freshness_rule_is_a_number_of_months_the_words_say(entry):
    """The lines judge a paper's age from `fresh_months`, never from the words."""
    for piece in entry["required_documents"]:
        said = SAYS_RECENT.search(piece["condition"])
        if said is None:
            assert "fresh_months" not in piece, piece
            continue
        assert said.group(1), piece
        months = int(said.group(1)) * (12 if said.group(2).startswith("an") else 1)
        assert piece.get("fresh_months") == months, piece


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_a_paper_always_asked_offers_no_other_in_its_words(entry):
    """« carte d'identité, ou votre passeport » is a group of two pieces: written in one,
    the passport could not be linked and the line would count as missing."""
    offering = [
        piece
        for piece in entry["required_documents"]
        if piece["condition"].startswith("ou ") and not piece.get("conditional")
    ]

    assert offering == []


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_a_paper_asked_if_something_is_asked_in_a_situation_or_is_one_of_a_group(entry):
    unmarked = [
        piece
        for piece in entry["required_documents"]
        if SAYS_IF.search(piece["condition"])
        and not piece.get("conditional")
        and not piece.get("group")
    ]

    assert unmarked == []


@pytest.fixture
def catalogue(db):
    load_catalogue()


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("entry", [e for e in ENTRIES if _groups(e)], ids=lambda e: e["slug"])
def test_every_alternative_of_the_catalogue_is_recognised(entry, actor, organisation):
    procedure_type = ProcedureType.objects.get(slug=entry["slug"])
    procedure = procedure_open(
        person=PersonFactory(nationality=""),
        procedure_type=procedure_type,
        organisation=organisation,
        by=actor,
    )
    lines = list(procedure.checklist.all())
    groups = {line.group for line in lines if line.group}
    asked_always = [line for line in lines if not line.group and not line.conditional]

    nothing = completeness(procedure)
    sentences = missing_in_plain_words(nothing)
    for group in groups:
        last = [line for line in lines if line.group == group][-1]
        last.document = DocumentFactory(person=procedure.person, kind=last.kind)
        last.save()
    one_each = completeness(procedure)

    assert nothing.total == len(groups) + len(asked_always)
    assert sum("pièces suffit" in sentence for sentence in sentences) == len(groups)
    assert one_each.satisfied == len(groups)
    assert not {line.pk for line in one_each.missing} & {line.pk for line in lines if line.group}


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_no_paper_of_a_situation_is_missing_for_a_person_the_file_tells_nothing_of(
    entry, actor, organisation
):
    procedure = procedure_open(
        person=PersonFactory(nationality=""),
        procedure_type=ProcedureType.objects.get(slug=entry["slug"]),
        organisation=organisation,
        by=actor,
    )

    result = completeness(procedure)

    assert not [line for line in result.missing if line.conditional]
    assert {line.pk for line in result.conditional} == {
        line.pk for line in procedure.checklist.all() if line.conditional
    }


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_only_a_paper_some_situations_need_may_be_marked_not_concerned(entry, actor, organisation):
    """« si vous en avez un » may not concern the person; « le certificat pour la MDPH, de
    moins de 1 an » or « celui de vos parents » is asked of everyone; of a group's
    alternatives, all may be set aside but one."""
    procedure = procedure_open(
        person=PersonFactory(nationality=""),
        procedure_type=ProcedureType.objects.get(slug=entry["slug"]),
        organisation=organisation,
        by=actor,
    )
    lines = list(procedure.checklist.all())
    counted = completeness(procedure).total
    marked = []
    for line in lines:
        try:
            checklist_mark_not_applicable(item=line, not_applicable=True, by=actor)
        except ValidationError as refusal:
            assert "ne peut pas" in refusal.messages[0], refusal
        else:
            marked.append(line.pk)
    kept = {line.pk: line for line in procedure.checklist.all() if not line.not_applicable}

    assert {line.pk for line in lines if line.conditional} <= set(marked)
    for line in lines:
        if not line.conditional and (not line.group or line.someone_else):
            assert line.pk in kept, line.condition
    for group in {line.group for line in lines if line.group}:
        assert len([line for line in kept.values() if line.group == group]) == 1, group
    assert completeness(procedure).total == counted
    assert AuditEvent.objects.filter(action=AuditAction.PROCEDURE_UPDATED).count() == len(marked)
