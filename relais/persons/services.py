"""Writes on a person's file. Each call is one transaction with its journal row."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Concat, Replace
from django.utils import timezone
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir

from relais import crypto
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.services import Event, audit_record, audit_record_many
from relais.persons.categories import DataCategory
from relais.persons.models import (
    HouseholdMember,
    MonthlyResource,
    Note,
    Person,
    PersonQuerySet,
    Referent,
    Relation,
    Sex,
)
from relais.persons.normalisation import name_key
from relais.persons.sensitive import sensitive_terms_in

NIR_PURPOSE = "nir"
# Ids listed at most in a journal row or an operator's message.
SHOWN_IDS = 100


class NoteNeedsConfirmation(Exception):
    def __init__(self, terms: list[str]) -> None:
        super().__init__(", ".join(terms))
        self.terms = terms


def record_on_file(action: AuditAction, *, person: Person, by: Actor, **fields: Any) -> None:
    """Write a journal row about one person's file."""
    audit_record(
        action=action, by=by, person_id=person.pk, person_label=person.journal_label, **fields
    )


def duplicates_signalled(person_ids: Iterable[int], *, by: Actor) -> None:
    """Journal, on each of these files, that a professional who may not open it was told
    it exists (a possible duplicate at a file's creation, a NIR already its own): the
    person sees in their history which structure learnt that they have a file. The row
    names the file by its number only: the journal of the professional's organisation,
    which its manager reads, must not tell them whose file it is."""
    audit_record_many(
        [Event(AuditAction.DUPLICATE_SIGNALLED, person_id=pk) for pk in person_ids], by=by
    )


def nir_clean(value: str) -> str:
    compact = value.replace(" ", "").replace(".", "").upper()
    try:
        return str(stdnum_nir.validate(compact))
    except StdnumError:
        raise ValidationError(
            {
                "nir": "Ce numéro de sécurité sociale n'est pas valide : vérifiez les 13 "
                "chiffres et la clé à 2 chiffres (carte Vitale ou attestation de droits)."
            },
            code="nir_invalid",
        ) from None


# The NIR's first digit for a man and for a woman, as the INSEE writes it from the civil
# registry. A provisional number (7 or 8, 3 or 4 in older ones), given to a person born
# abroad while their registration is pending, is built from what they declared and is
# replaced once it is made: the file is not held to its first digit.
_NIR_SEX = {"1": (Sex.MALE, "d'un homme"), "2": (Sex.FEMALE, "d'une femme")}


def _nir_disagreement(nir: str, *, birth_date: date | None, sex: str) -> dict[str, str]:
    """Why a valid NIR, as nir_clean writes it, cannot be this person's, by the field of
    the file it contradicts: its first digit, 1 or 2, is the sex (a change of the sex in
    the civil registry gives a new number); its year, and its month when it writes one
    (01 to 12; other values stand for a month unknown to the civil registry), are those
    of the birth. A key only catches some typing mistakes; a digit typed for another is
    often the birth's. Empty when they agree; an empty sex or birth date agrees."""
    disagreements = {}
    nir_sex, whose = _NIR_SEX.get(nir[0], ("", ""))
    if sex and nir_sex and nir_sex != sex:
        disagreements["sex"] = (
            f"Ce numéro de sécurité sociale est celui {whose} (1er chiffre « {nir[0]} »), et "
            f"le dossier dit « {Sex(sex).label} » : vérifiez le numéro ou le sexe."
        )
    if birth_date is None:
        return disagreements
    year, month = nir[1:3], nir[3:5]
    if int(year) != birth_date.year % 100:
        disagreements["birth_date"] = (
            f"Ce numéro de sécurité sociale est celui d'une personne née en « {year} » "
            f"(2e et 3e chiffres), et le dossier dit {birth_date.year} : vérifiez le numéro "
            "ou la date de naissance."
        )
    elif 1 <= int(month) <= 12 and int(month) != birth_date.month:
        disagreements["birth_date"] = (
            f"Ce numéro de sécurité sociale est celui d'une personne née le mois « {month} » "
            f"(4e et 5e chiffres), et le dossier dit {birth_date:%m/%Y} : vérifiez le numéro ou "
            "la date de naissance."
        )
    return disagreements


def nir_masked(person: Person) -> str:
    return "• ••• •• •• ••• ••• ••" if person.has_nir else ""


def _nir_associated_data(person: Person) -> bytes:
    return f"person-nir:{person.pk}".encode()


def _set_keys(person: Person) -> None:
    person.birth_name_key = name_key(person.birth_name)
    person.usage_name_key = name_key(person.usage_name)
    person.first_names_key = name_key(person.first_names)


def _store_nir(person: Person, nir: str) -> None:
    person.nir_encrypted = crypto.encrypt(
        nir.encode(), associated_data=_nir_associated_data(person)
    )
    person.nir_digest = crypto.lookup_digest(nir, purpose=NIR_PURPOSE)


# The words of a name whose shorter forms are looked for: 63 forms of a six-word name.
_NAME_WORDS_SHORTENED = 6


def _shorter_names(key: str) -> set[str]:
    """The names made of some of the words of the name `key`, in their order."""
    words = key.split(" ")[:_NAME_WORDS_SHORTENED]
    return {" ".join(kept) for count in range(1, len(words)) for kept in combinations(words, count)}


def _same_name(field: str, names: set[str], *, variants: bool) -> models.Q:
    """`field`, a name key, holds one of `names`; with `variants`, also written with or
    without its spaces (« Ndiaye » for « N'Diaye », « Legoff » for « Le Goff ») or with
    words left out or added (« Dupré » for « Dupré-Lefèvre », and the reverse): all the
    words of one are among the other's."""
    if not variants:
        return models.Q(**{f"{field}__in": names})
    match = models.Q(**{f"{field}__in": set().union(names, *map(_shorter_names, names))})
    match |= models.Q(**{f"{field}_joined__in": {name.replace(" ", "") for name in names}})
    for name in names:
        match |= models.Q(
            *(models.Q(**{f"{field}_spaced__contains": f" {word} "}) for word in name.split())
        )
    return match


def _day_and_month_swapped(day: date) -> set[date]:
    """`day` read with its day and month swapped (02/11 typed for 11/02, or a date picker
    set to another country's order), when that is a date: the 13th of a month is none."""
    if day.day > 12:
        return set()
    return {day.replace(month=day.day, day=day.month)}


def duplicates_of(
    *,
    birth_name: str,
    usage_name: str,
    first_names: str,
    birth_date: date,
    nir: str = "",
    name_variants: bool = False,
) -> PersonQuerySet:
    """Files that are probably the same person: same birth date and same first first-name
    under the birth or usage name — with `name_variants`, that name written otherwise
    (see _same_name) and the birth date with its day and month swapped, the typing slips
    a file's creation looks for but not an exceptional access, given the exact identity
    — or the same NIR. One query."""
    names = {key for key in (name_key(birth_name), name_key(usage_name)) if key}
    first = name_key(first_names).split(" ")[0] if first_names.strip() else ""
    births = {birth_date} | (_day_and_month_swapped(birth_date) if name_variants else set())
    match = models.Q(pk__in=[])
    if names and first:
        match |= (
            models.Q(birth_date__in=births)
            & (
                _same_name("birth_name_key", names, variants=name_variants)
                | _same_name("usage_name_key", names, variants=name_variants)
            )
            & (models.Q(first_names_key=first) | models.Q(first_names_key__startswith=first + " "))
        )
    if nir:
        match |= models.Q(nir_digest__in=crypto.lookup_digests(nir, purpose=NIR_PURPOSE))
    persons = Person.objects.active()
    if name_variants:
        # Compared only among the files of these birth dates, which its index selects.
        persons = persons.alias(
            **{
                f"{field}_{form}": expression
                for field in ("birth_name_key", "usage_name_key")
                for form, expression in (
                    ("joined", Replace(models.F(field), models.Value(" "), models.Value(""))),
                    ("spaced", Concat(models.Value(" "), models.F(field), models.Value(" "))),
                )
            }
        )
    return persons.filter(match)


def person_create(*, identity: dict[str, Any], nir: str, organisation_id: int, by: Actor) -> Person:
    """Create the file. Call it inside the transaction that records the first consent."""
    person = Person(**identity, created_by_organisation_id=organisation_id)
    _set_keys(person)
    person.full_clean(exclude=["created_by_organisation"])
    with transaction.atomic():
        person.save()
        if nir:
            _save_nir(person, nir)
        record_on_file(
            AuditAction.PERSON_CREATED,
            person=person,
            by=by,
            category=DataCategory.IDENTITY,
        )
    return person


def contact_record(person_id: int) -> datetime:
    """A contact with the person keeps the file active: retention counts from the last one
    (see retention.py)."""
    now = timezone.now()
    Person.objects.filter(pk=person_id).update(last_contact_at=now)
    return now


def _touch(person: Person) -> None:
    person.last_contact_at = contact_record(person.pk)


_NAME_KEYS = ["birth_name_key", "usage_name_key", "first_names_key"]


def _lock_active(person: Person) -> None:
    """Lock the file's row until the caller's transaction ends, so that two writes on
    the file check what the other wrote; refused if the file was merged or archived
    since the page read it."""
    if not Person.objects.lock_if_active(person.pk):
        raise ValidationError(
            "Ce dossier n'est plus actif : il a été fusionné ou archivé pendant que "
            "vous le modifiiez. La modification n'est pas enregistrée."
        )


def _record_update(person: Person, category: DataCategory, saved: models.Model, by: Actor) -> None:
    """The journal row of one object of a section saved on the file."""
    record_on_file(
        AuditAction.SECTION_UPDATED,
        person=person,
        by=by,
        category=category,
        object_type=saved._meta.model_name or "",
        object_id=saved.pk,
    )


class SavedMeanwhile(ValidationError):
    """The file's one object of a section (housing…) was created by someone else while
    the page offered to fill it in."""

    def __init__(self) -> None:
        super().__init__(
            "Quelqu'un a enregistré cette rubrique pendant que vous la remplissiez. Ouvrez-la "
            "de nouveau dans un autre onglet pour voir ce qui a été enregistré : si vous "
            "enregistrez encore ce formulaire, il le remplacera.",
            code="saved_meanwhile",
        )


def section_save(
    *,
    person: Person,
    category: DataCategory,
    instance: models.Model,
    by: Actor,
    fields: Collection[str] = (),
) -> None:
    """Save a section held in one object: the person itself for IDENTITY, of which only
    `fields` (those the form edits) are written, or the file's one housing, employment…;
    SavedMeanwhile if someone else created that one since the page read the file."""
    if isinstance(instance, Person):
        _set_keys(instance)
        instance.full_clean(exclude=["created_by_organisation"])
    else:
        # Whether the file has one already is checked below, under the file's lock.
        instance.full_clean(exclude=["person"])
    with transaction.atomic():
        # The page read the file while it was active: what it saves would bring back a
        # file merged or archived since, or be lost on it.
        _lock_active(person)
        if isinstance(instance, Person):
            _check_identity_against_nir(instance, fields)
            # The rest of the row may have been written since the page read it: a NIR
            # recorded, a refusal of exceptional access.
            instance.last_contact_at = timezone.now()
            instance.save(update_fields=[*fields, *_NAME_KEYS, "last_contact_at"])
        else:
            if (
                instance._state.adding
                and type(instance)._default_manager.filter(person=person).exists()
            ):
                raise SavedMeanwhile
            instance.save()
            _touch(person)
        _record_update(person, category, instance, by)


# What the identity page says when the sex or the birth date it saves contradicts the
# NIR recorded: it names no digit of the number, which is shown only when revealed.
_AGAINST_NIR = {
    "sex": "Le sexe indiqué ne correspond pas au numéro de sécurité sociale du dossier (1er "
    "chiffre) : vérifiez l'un ou l'autre.",
    "birth_date": "Cette date de naissance ne correspond pas au numéro de sécurité sociale du "
    "dossier (année ou mois de naissance) : vérifiez l'une ou l'autre.",
}


def _check_identity_against_nir(person: Person, fields: Collection[str]) -> None:
    """The sex or birth date saved, among `fields`, must still agree with the NIR
    recorded, perhaps meanwhile (read under the file's lock)."""
    checked = _AGAINST_NIR.keys() & set(fields)
    if not checked:
        return
    encrypted = Person.objects.filter(pk=person.pk).values_list("nir_encrypted", flat=True).get()
    if not encrypted:
        return
    nir = crypto.decrypt(bytes(encrypted), associated_data=_nir_associated_data(person))
    disagreements = _nir_disagreement(nir.decode(), birth_date=person.birth_date, sex=person.sex)
    if refused := {field: _AGAINST_NIR[field] for field in checked if field in disagreements}:
        raise ValidationError(refused, code="identity_not_nir")


def household_member_add(*, person: Person, member: HouseholdMember, by: Actor) -> None:
    """Add a member to the household; refused if they are in it already (the form sent
    twice, say), also when both forms are saved at the same moment: the file's row,
    locked, makes the second wait for the first and see its member. Counted twice, they
    would count twice in the household's rights."""
    member.person = person
    member.full_clean()
    key = name_key(member.first_names)
    if key == name_key(person.first_names) and member.birth_date == person.birth_date:
        # Counted among the household, the person would count twice in its rights.
        raise ValidationError(
            f"{member.first_names}, né(e) le {member.birth_date:%d/%m/%Y}, est la personne "
            "elle-même : le foyer ne compte que les personnes qui vivent avec elle."
        )
    with transaction.atomic():
        _lock_active(person)
        if member.relation == Relation.SPOUSE:
            spouse = (
                HouseholdMember.objects.filter(person=person, relation=Relation.SPOUSE)
                .values_list("first_names", flat=True)
                .first()
            )
            if spouse is not None:
                # One couple per household: a second spouse is a typing mistake, or the
                # first one left and stays counted.
                raise ValidationError(
                    {
                        "relation": f"Le foyer compte déjà un(e) conjoint(e) : {spouse}. Si "
                        "la personne vit avec quelqu'un d'autre, retirez d'abord "
                        f"{spouse} du foyer."
                    }
                )
        namesakes = HouseholdMember.objects.filter(person=person, birth_date=member.birth_date)
        if any(name_key(first) == key for first in namesakes.values_list("first_names", flat=True)):
            raise ValidationError(
                f"{member.first_names}, né(e) le {member.birth_date:%d/%m/%Y}, fait déjà "
                "partie du foyer."
            )
        member.save()
        _touch(person)
        _record_update(person, DataCategory.FAMILY, member, by)


def resource_add(*, person: Person, resource: MonthlyResource, by: Actor) -> None:
    """Add a month's resource; refused if the same one is recorded already (the form sent
    twice, say, which would double the household's income), also when both forms are
    saved at the same moment, and if its member left the household since the page read
    it."""
    resource.person = person
    # Whether its member is still in the household is checked below, under the file's lock.
    resource.full_clean(exclude=["member"])
    with transaction.atomic():
        _lock_active(person)
        if resource.member_id is not None:
            born = (
                HouseholdMember.objects.filter(pk=resource.member_id, person=person)
                .values_list("birth_date", flat=True)
                .first()
            )
            if born is None:
                raise ValidationError(
                    {
                        "member": "Ce membre a été retiré du foyer entre-temps : choisissez qui "
                        "reçoit cette ressource."
                    }
                )
            if resource.month < born.replace(day=1):
                # Not the birth date itself: whoever edits the resources may not read the
                # household.
                raise ValidationError(
                    {
                        "month": "Ce mois est antérieur à la naissance de ce membre du foyer : "
                        "vérifiez le mois, ou qui reçoit cette ressource."
                    }
                )
        if MonthlyResource.objects.filter(
            person=person,
            member_id=resource.member_id,
            month=resource.month,
            kind=resource.kind,
            amount=resource.amount,
        ).exists():
            raise ValidationError(
                "Cette ressource est déjà enregistrée pour ce mois. Si la personne en reçoit "
                "vraiment deux du même montant, inscrivez leur total sur une seule ligne."
            )
        resource.save()
        _touch(person)
        _record_update(person, DataCategory.RESOURCES, resource, by)


def _removed(
    category: DataCategory, object_type: str, object_id: int, person: Person, **details: int
) -> Event:
    return Event(
        AuditAction.SECTION_UPDATED,
        person_id=person.pk,
        person_label=person.journal_label,
        category=category,
        object_type=object_type,
        object_id=object_id,
        details={"suppression": True, **details},
    )


def household_member_remove(
    *, person: Person, member: HouseholdMember, may_remove_resources: bool, by: Actor
) -> int:
    """Remove a member from the household with the resources recorded in their name, and
    return how many there were. Whoever may not edit the resources (the charter, or the
    person's consent) is refused while there is one, including one recorded since the
    page was read: the file's row is locked. Each resource removed has its own journal
    row, in the resources' category."""
    with transaction.atomic():
        _lock_active(person)
        resources = list(
            MonthlyResource.objects.filter(member_id=member.pk).values_list("pk", flat=True)
        )
        if resources and not may_remove_resources:
            raise ValidationError(
                "Des ressources sont inscrites au nom de ce membre du foyer et vous ne pouvez "
                "pas modifier les ressources de ce dossier : le membre reste dans le foyer. "
                "Un professionnel qui peut modifier les ressources peut le retirer avec elles."
            )
        MonthlyResource.objects.filter(pk__in=resources).delete()
        if not HouseholdMember.objects.filter(pk=member.pk, person=person).delete()[0]:
            raise ValidationError("Ce membre a déjà été retiré du foyer.")
        _touch(person)
        audit_record_many(
            [
                *(
                    _removed(
                        DataCategory.RESOURCES,
                        "monthlyresource",
                        pk,
                        person,
                        membre_du_foyer=member.pk,
                    )
                    for pk in resources
                ),
                _removed(DataCategory.FAMILY, "householdmember", member.pk, person),
            ],
            by=by,
        )
    return len(resources)


def resource_remove(*, person: Person, resource: MonthlyResource, by: Actor) -> None:
    with transaction.atomic():
        _lock_active(person)
        if not MonthlyResource.objects.filter(pk=resource.pk, person=person).delete()[0]:
            raise ValidationError("Cette ressource a déjà été retirée.")
        _touch(person)
        audit_record_many(
            [_removed(DataCategory.RESOURCES, "monthlyresource", resource.pk, person)], by=by
        )


class NirTaken(ValidationError):
    """The NIR is already another active file's: the same person, whose two files are
    merged, not given one number."""

    def __init__(self, other_id: int) -> None:
        super().__init__({"nir": "Ce numéro de sécurité sociale est celui d'un autre dossier."})
        self.other_id = other_id


def _other_file_with(digests: list[str], person: Person) -> int | None:
    return (
        Person.objects.active()
        .filter(nir_digest__in=digests)
        .exclude(pk=person.pk)
        .values_list("pk", flat=True)
        .first()
    )


def _save_nir(person: Person, nir: str) -> None:
    """Store the NIR on the saved file; NirTaken if another active file has it, also when
    that file was given it by a request running at the same moment (the database's unique
    index then refuses the second); a ValidationError if it is invalid or contradicts the
    sex or the birth date."""
    nir = nir_clean(nir)
    if disagreements := _nir_disagreement(nir, birth_date=person.birth_date, sex=person.sex):
        raise ValidationError({"nir": list(disagreements.values())}, code="nir_not_identity")
    digests = crypto.lookup_digests(nir, purpose=NIR_PURPOSE)
    other = _other_file_with(digests, person)
    if other is None:
        before = person.nir_encrypted, person.nir_digest
        _store_nir(person, nir)
        try:
            with transaction.atomic():
                person.save(update_fields=["nir_encrypted", "nir_digest"])
            return
        except IntegrityError:
            person.nir_encrypted, person.nir_digest = before
            other = _other_file_with(digests, person)
            if other is None:
                raise
    raise NirTaken(other)


def nir_set(*, person: Person, nir: str, by: Actor) -> None:
    """Record or correct the person's NIR; NirTaken if it is already another active
    file's."""
    with transaction.atomic():
        _save_nir(person, nir)
        record_on_file(
            AuditAction.SECTION_UPDATED,
            person=person,
            by=by,
            category=DataCategory.IDENTITY,
            object_type="nir",
        )


def nir_reveal(*, person: Person, by: Actor, details: dict[str, Any], reason: str = "") -> str:
    """The person's NIR in clear, journaled; `reason` is that of the exceptional access
    the file is read under, if it is."""
    if not person.nir_encrypted:
        return ""
    value = crypto.decrypt(
        bytes(person.nir_encrypted), associated_data=_nir_associated_data(person)
    )
    record_on_file(
        AuditAction.NIR_REVEALED,
        person=person,
        by=by,
        category=DataCategory.IDENTITY,
        reason=reason,
        details=details,
    )
    return value.decode()


def nirs_differ(first: Person, second: Person) -> bool:
    """Whether both files hold a NIR, and not the same one: compared in clear, never shown,
    as one NIR given to two files under two keys has two digests (see nir_rewrap_all)."""
    if not (first.nir_encrypted and second.nir_encrypted):
        return False
    if first.nir_digest == second.nir_digest:
        return False
    return crypto.decrypt(
        bytes(first.nir_encrypted), associated_data=_nir_associated_data(first)
    ) != crypto.decrypt(bytes(second.nir_encrypted), associated_data=_nir_associated_data(second))


@dataclass(frozen=True)
class Rotation:
    """What the rewrap of one kind of value under the current key did: how many values
    it rewrapped, and why it could not rewrap each row of `failed`, by id."""

    rewrapped: int
    failed: dict[int, str]


def ids_text(ids: Sequence[int]) -> str:
    shown = ", ".join(str(pk) for pk in ids[:SHOWN_IDS])
    return f"{shown} … ({len(ids) - SHOWN_IDS} de plus)" if len(ids) > SHOWN_IDS else shown


def rotation_record(*, values: str, rotation: Rotation, by: Actor) -> None:
    audit_record(
        action=AuditAction.KEYS_ROTATED,
        by=by,
        details={
            values: rotation.rewrapped,
            "echecs": len(rotation.failed),
            "en_echec": ids_text(list(rotation.failed)),
        },
    )


def nir_under_other_keys() -> list[int]:
    """The files whose NIR is still under another key than the current one."""
    return [
        pk
        for pk, encrypted in Person.objects.exclude(nir_encrypted=None)
        .order_by("pk")
        .values_list("pk", "nir_encrypted")
        .iterator()
        if not crypto.under_current_key(bytes(encrypted or b""))
    ]


def nir_rewrap_all(*, by: Actor) -> Rotation:
    """Re-encrypt under the current key (after adding a new first key) every NIR still
    under another one, with its digest, one file at a time. A NIR that cannot be rewrapped
    is counted in `failed` and the run goes on; one journal row says what was done."""
    rewrapped, failed = 0, {}
    for pk in nir_under_other_keys():
        try:
            rewrapped += _nir_rewrap(pk)
        except crypto.DecryptionError:
            failed[pk] = "NIR illisible (sa clé a été retirée ou la valeur altérée)"
        except IntegrityError:
            failed[pk] = "même NIR qu'un autre dossier actif : fusionnez les deux dossiers"
    rotation = Rotation(rewrapped=rewrapped, failed=failed)
    rotation_record(values="nir", rotation=rotation, by=by)
    return rotation


def _nir_rewrap(pk: int) -> bool:
    read = Person.objects.filter(pk=pk).values_list("nir_encrypted", flat=True).first()
    if not read or crypto.under_current_key(bytes(read)):
        return False
    encrypted = bytes(read)
    person = Person(pk=pk)
    nir = crypto.decrypt(encrypted, associated_data=_nir_associated_data(person))
    _store_nir(person, nir.decode())
    with transaction.atomic():
        # Written only over the value read: a NIR corrected or erased (anonymisation)
        # since then stays as it now is.
        return bool(
            Person.objects.filter(pk=pk, nir_encrypted=encrypted).update(
                nir_encrypted=person.nir_encrypted, nir_digest=person.nir_digest
            )
        )


def note_add(
    *,
    person: Person,
    author_id: int,
    organisation_id: int,
    text: str,
    visibility: str,
    confirmed: bool,
    by: Actor,
) -> Note:
    terms = sensitive_terms_in(text)
    if terms and not confirmed:
        raise NoteNeedsConfirmation(terms)
    note = Note(
        person=person,
        author_id=author_id,
        organisation_id=organisation_id,
        text=text.strip(),
        visibility=visibility,
        sensitive_confirmed=bool(terms),
    )
    note.full_clean()
    with transaction.atomic():
        note.save()
        _touch(person)
        record_on_file(
            AuditAction.NOTE_ADDED,
            person=person,
            by=by,
            category=DataCategory.NOTES,
            object_type="note",
            object_id=note.pk,
            details={"visibilite": visibility, "termes_sensibles": bool(terms)},
        )
    return note


def referent_add(*, person: Person, organisation_id: int, professional_id: int, by: Actor) -> None:
    with transaction.atomic():
        _, created = Referent.objects.get_or_create(
            person=person,
            professional_id=professional_id,
            until=None,
            defaults={"organisation_id": organisation_id},
        )
        if created:
            record_on_file(
                AuditAction.REFERENT_ADDED,
                person=person,
                by=by,
                object_type="utilisateur",
                object_id=professional_id,
            )


def referent_remove(*, person: Person, professional_id: int, by: Actor) -> None:
    with transaction.atomic():
        ended = (
            Referent.objects.current()
            .filter(person=person, professional_id=professional_id)
            .update(until=timezone.localdate())
        )
        if ended:
            record_on_file(
                AuditAction.REFERENT_REMOVED,
                person=person,
                by=by,
                object_type="utilisateur",
                object_id=professional_id,
            )


# The sections held in one object per file, by the name the file reaches each by.
_ONE_PER_FILE = {
    "housing": DataCategory.HOUSING,
    "employment": DataCategory.EMPLOYMENT,
    "social_coverage": DataCategory.SOCIAL_COVERAGE,
    "health": DataCategory.HEALTH,
}
# The postal address is taken as a whole: parts of two different addresses make none.
_ADDRESS = ["address_line", "postal_code", "commune_code", "commune_name"]
# Every other part of the identity that a file may leave empty.
_OPTIONAL_IDENTITY = [
    field.name
    for field in Person._meta.concrete_fields
    if field.editable and field.blank and not field.primary_key and field.name not in _ADDRESS
]


class SectionsDisagree(ValidationError):
    """Both files hold a section of one object (housing…) and do not say the same in it:
    merged, one of the two would be lost. `fields` names the fields in question, by
    category."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields
        super().__init__(self.said_to(readable=set(fields)))

    def said_to(self, *, readable: Collection[str]) -> str:
        """The refusal, naming the sections the reader may read only."""
        named = [
            f"la rubrique « {DataCategory(category).label} » ({', '.join(names)})"
            for category, names in self.fields.items()
            if category in readable
        ]
        hidden = len(self.fields) - len(named)
        other = " autre" if named else ""
        if hidden == 1:
            named.append(f"une{other} rubrique que votre accès ne permet pas de lire")
        elif hidden:
            named.append(f"{hidden}{other}s rubriques que votre accès ne permet pas de lire")
        where = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " et " + named[-1]
        return (
            f"Les deux dossiers ne disent pas la même chose dans {where} : rien n'est "
            "fusionné. Un professionnel qui peut modifier ces informations corrige d'abord "
            "l'un des deux dossiers pour qu'ils concordent ; ce qui manque au dossier gardé "
            "sera alors repris du doublon."
        )


def _empty(value: object) -> bool:
    return value is None or value == ""


def _same(ours: object, theirs: object) -> bool:
    if isinstance(ours, str) and isinstance(theirs, str):
        return name_key(ours) == name_key(theirs)
    return ours == theirs


def _completion(
    kept: models.Model, duplicate: models.Model, names: Iterable[str]
) -> tuple[dict[str, Any], list[str]]:
    """The values `duplicate` has where `kept` has none, and the fields where both have
    one and they differ. A yes/no is never empty: « non » is said as much as « oui »."""
    additions: dict[str, Any] = {}
    contradictions = []
    for name in names:
        ours, theirs = getattr(kept, name), getattr(duplicate, name)
        if _empty(theirs):
            continue
        if _empty(ours):
            additions[name] = theirs
        elif not _same(ours, theirs):
            contradictions.append(name)
    return additions, contradictions


def _section_fields(section: models.Model) -> list[str]:
    return [
        field.name
        for field in section._meta.concrete_fields
        if not field.primary_key and field.name != "person"
    ]


def _sections_disagreeing(keep: Person, absorb: Person) -> dict[str, list[str]]:
    disagreeing = {}
    for related, category in _ONE_PER_FILE.items():
        if hasattr(keep, related) and hasattr(absorb, related):
            kept = getattr(keep, related)
            _, contradictions = _completion(kept, getattr(absorb, related), _section_fields(kept))
            if contradictions:
                disagreeing[category.value] = [
                    str(kept._meta.get_field(name).verbose_name) for name in contradictions
                ]
    return disagreeing


def _completed(kept: models.Model, additions: dict[str, Any]) -> None:
    for name, value in additions.items():
        setattr(kept, name, value)
    if additions:
        kept.save(update_fields=list(additions))


def _household_absorb(keep: Person, absorb: Person) -> dict[str, int]:
    """Move the duplicate's household and resources onto the kept file, each once. A
    member the kept file lists already (the same first names and birth date, as the form
    refuses twice) is not moved: the kept file's one takes their resources and what it
    leaves empty of theirs. A resource the kept file has already (the same member, month,
    kind and amount) is not moved either. What is not moved stays on the archived file,
    as it was."""
    kept_members = {
        (name_key(member.first_names), member.birth_date): member
        for member in HouseholdMember.objects.filter(person=keep)
    }
    member_for: dict[int | None, int | None] = {None: None}
    moved_members, present_members = [], 0
    for member in HouseholdMember.objects.filter(person=absorb):
        same = kept_members.get((name_key(member.first_names), member.birth_date))
        if same is None:
            moved_members.append(member.pk)
            member_for[member.pk] = member.pk
        else:
            present_members += 1
            member_for[member.pk] = same.pk
            _completed(same, _completion(same, member, _section_fields(same))[0])
    HouseholdMember.objects.filter(pk__in=moved_members).update(person=keep)
    kept_resources: set[tuple[Any, ...]] = set(
        MonthlyResource.objects.filter(person=keep).values_list(
            "member_id", "month", "kind", "amount"
        )
    )
    moved_resources: dict[int | None, list[int]] = {}
    present = 0
    for pk, member_id, month, kind, amount in MonthlyResource.objects.filter(
        person=absorb
    ).values_list("pk", "member_id", "month", "kind", "amount"):
        resource = (member_for[member_id], month, kind, amount)
        if resource in kept_resources:
            present += 1
        else:
            kept_resources.add(resource)
            moved_resources.setdefault(member_for[member_id], []).append(pk)
    for kept_member, pks in moved_resources.items():
        MonthlyResource.objects.filter(pk__in=pks).update(person=keep, member_id=kept_member)
    return {
        "membres_du_foyer_deplaces": len(moved_members),
        "membres_du_foyer_deja_presents": present_members,
        "ressources_deplacees": sum(len(pks) for pks in moved_resources.values()),
        "ressources_deja_presentes": present,
    }


def person_absorb(*, keep: Person, absorb: Person) -> dict[str, int]:
    """Move what the file `absorb` holds onto `keep`, nothing twice and nothing lost, and
    return what was moved for the journal row the caller writes, having archived
    `absorb`. SectionsDisagree, before anything is written, if the two files hold a
    section of one object (housing…) that says one thing in one and another in the
    other: which is right is for a professional who may edit it to say."""
    disagreeing = _sections_disagreeing(keep, absorb)
    if disagreeing:
        raise SectionsDisagree(disagreeing)
    moved = _household_absorb(keep, absorb)
    Note.objects.filter(person=absorb).update(person=keep)
    for referent in Referent.objects.current().filter(person=absorb):
        if (
            Referent.objects.current()
            .filter(person=keep, professional_id=referent.professional_id)
            .exists()
        ):
            referent.until = timezone.localdate()
            referent.save(update_fields=["until"])
        else:
            referent.person = keep
            referent.save(update_fields=["person"])
    for related in _ONE_PER_FILE:
        if not hasattr(absorb, related):
            continue
        section = getattr(absorb, related)
        if hasattr(keep, related):
            kept = getattr(keep, related)
            _completed(kept, _completion(kept, section, _section_fields(kept))[0])
        else:
            section.person = keep
            section.save(update_fields=["person"])
    for name, value in _completion(keep, absorb, _OPTIONAL_IDENTITY)[0].items():
        setattr(keep, name, value)
    address, contradictions = _completion(keep, absorb, _ADDRESS)
    if not contradictions:
        for name, value in address.items():
            setattr(keep, name, value)
    # Retention counts from the last contact: the duplicate may have been worked on last.
    keep.last_contact_at = max(keep.last_contact_at, absorb.last_contact_at)
    # A refusal of break-glass given on either file holds for the merged one.
    keep.refuses_break_glass = keep.refuses_break_glass or absorb.refuses_break_glass
    if not keep.nir_encrypted and absorb.nir_encrypted:
        plaintext = crypto.decrypt(
            bytes(absorb.nir_encrypted), associated_data=_nir_associated_data(absorb)
        )
        _store_nir(keep, plaintext.decode())
    _set_keys(keep)
    keep.save()
    return moved
