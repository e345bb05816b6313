"""The person's account: opening, codes (hashed, expiring, counted, single use), card,
password, restoring access at the office, closing, and the limits on sending codes."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from relais.accounts.models import AttemptCounter
from relais.audit.actions import AuditAction
from relais.audit.context import Actor
from relais.audit.models import AuditEvent
from relais.audit.verification import verify_chain
from relais.consent.services import persons_merge
from relais.persons.models import Person, PersonStatus
from relais.portal import codes, services
from relais.portal.codes import digest, purge_spent_codes
from relais.portal.models import CodeChannel, CodePurpose, LoginCode, PersonAccount, RecoveryCode
from relais.portal.services import (
    LoginRefused,
    login_code_send,
    normalise_card_identifier,
    normalise_phone,
    parse_identifier,
    person_account_close,
    person_account_open,
    person_account_recover,
    person_account_update,
    person_invitation_send,
    person_login_with_card,
    person_login_with_code,
    person_login_with_password,
)
from tests.persons.factories import PersonFactory
from tests.portal.factories import PERSON_PASSWORD, PersonAccountFactory
from tests.portal.helpers import (
    VISITOR,
    ask_login_code,
    committed,
    run_held_tasks,
    sms_outbox,
)

pytestmark = pytest.mark.django_db

PRO = Actor(
    user_id=1, label="Claire Dupont", organisation_id=1, organisation_label="CCAS de Calais"
)


# What the professional records when the person is at the office: the identity checked
# (all a first opening needs), and why a space already opened changes.
IDENTITY = {"identity_checked": True, "identity_document": "cni"}
CHECKED = {**IDENTITY, "reason": "Nouveau numéro"}


def sent_code() -> str:
    match = re.search(r"\b(\d{6})\b", sms_outbox()[-1].body)
    assert match is not None
    return match[1]


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_it_normalises_french_mobile_numbers_to_e164():
    assert normalise_phone("06 12 34 56 78") == "+33612345678"
    assert normalise_phone("+33 7 81 22 33 44") == "+33781223344"
    with pytest.raises(ValidationError, match="portable"):
        normalise_phone("01 44 55 66 77")
    with pytest.raises(ValidationError, match="pas valide"):
        normalise_phone("12")


def test_it_reads_the_three_kinds_of_identifier():
    assert parse_identifier(" 0612345678 ").kind == "phone"
    assert parse_identifier("Camille@Exemple.TEST").value == "camille@exemple.test"
    assert parse_identifier("rl 7k4m 93qx").value == "RL-7K4M-93QX"
    assert parse_identifier("bonjour") is None
    assert normalise_card_identifier("RL-7K4M") is None


def test_an_account_opened_by_no_organisation_names_who_opened_it_without_brackets():
    account, _ = person_account_open(
        person=PersonFactory(),
        phone="06 12 34 56 78",
        **IDENTITY,
        by=Actor(label="Données de démonstration"),
    )

    assert account.opened_by_label == "Données de démonstration"


def test_it_opens_an_account_without_email_and_prints_eight_hashed_codes():
    person = PersonFactory()

    account, codes = person_account_open(person=person, phone="06 12 34 56 78", **IDENTITY, by=PRO)

    assert account.email is None
    assert account.phone == "+33612345678"
    assert re.fullmatch(r"RL-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", account.card_identifier)
    assert len(codes) == 8
    assert all(re.fullmatch(r"\d{4} \d{4}", code) for code in codes)
    stored = list(RecoveryCode.objects.filter(account=account).values_list("digest", flat=True))
    assert len(stored) == 8
    assert not any(code.replace(" ", "") in digest for code in codes for digest in stored)
    assert account.opened_by_label == "Claire Dupont (CCAS de Calais)"
    assert actions() == [AuditAction.PERSON_ACCOUNT_OPENED, AuditAction.PERSON_CARD_PRINTED]
    assert verify_chain().intact


def test_the_journal_keeps_the_type_of_the_document_shown_at_first_opening():
    person_account_open(
        person=PersonFactory(), identity_checked=True, identity_document="recepisse", by=PRO
    )

    event = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_OPENED)
    assert event.details == {
        "phone": False,
        "email": False,
        "identity_document": "Récépissé de demande de titre de séjour ou d'asile",
    }
    assert event.reason == ""


@pytest.mark.parametrize(
    ("checks", "error"),
    [
        ({"identity_checked": False, "identity_document": "cni"}, "Vérifiez d'abord l'identité"),
        ({"identity_checked": True, "identity_document": ""}, "Choisissez la pièce d'identité"),
        ({"identity_checked": True, "identity_document": "numero"}, "Choisissez la pièce"),
    ],
    ids=["sans-verification", "sans-piece", "piece-inconnue"],
)
def test_a_first_opening_needs_the_identity_checked_and_writes_nothing_otherwise(checks, error):
    person = PersonFactory()

    with pytest.raises(ValidationError, match=error):
        person_account_open(person=person, phone="0612345678", **checks, by=PRO)

    assert not PersonAccount.objects.exists()
    assert not RecoveryCode.objects.exists()
    assert actions() == []


def test_it_refuses_a_weak_password_and_opens_nothing():
    person = PersonFactory(first_names="Aurélie")

    for weak in ("court", "password", "aurelie2024"):
        with pytest.raises(ValidationError):
            person_account_open(person=person, password=weak, **IDENTITY, by=PRO)

    assert not PersonAccount.objects.exists()
    assert actions() == []


def test_it_accepts_an_eight_character_password_a_person_can_remember():
    account, _ = person_account_open(
        person=PersonFactory(), password="Soleil-62", **IDENTITY, by=PRO
    )

    assert check_password("Soleil-62", account.password)
    assert AuditAction.PERSON_PASSWORD_SET in actions()


def test_it_refuses_a_phone_already_used_by_another_account():
    PersonAccountFactory(phone="+33612345678")

    with pytest.raises(ValidationError) as error:
        person_account_open(person=PersonFactory(), phone="0612345678", **IDENTITY, by=PRO)

    assert "phone" in error.value.error_dict
    assert PersonAccount.objects.count() == 1


def test_it_refuses_to_open_a_second_account():
    account = PersonAccountFactory()

    with pytest.raises(ValidationError, match="déjà"):
        person_account_open(person=account.person, **IDENTITY, by=PRO)


def test_it_sends_a_login_code_by_sms_and_stores_only_its_digest():
    account = PersonAccountFactory(phone="+33612345678")

    ask_login_code("06 12 34 56 78")

    message = sms_outbox()[-1]
    assert message.to == "+33612345678"
    code = sent_code()
    assert message.body == (
        f"Votre code Relais : {code}. Il est valable 10 minutes. Ne le donnez à personne."
    )
    stored = LoginCode.objects.get(account=account)
    assert code not in stored.digest
    assert stored.purpose == CodePurpose.LOGIN
    assert actions() == [AuditAction.PERSON_LOGIN_CODE_SENT]


def test_it_sends_the_code_of_a_card_identifier_to_the_phone_or_else_the_email(mailoutbox):
    with_phone = PersonAccountFactory(phone="+33612345678", email="a@exemple.test")
    email_only = PersonAccountFactory(email="b@exemple.test")
    card_only = PersonAccountFactory()

    ask_login_code(with_phone.card_identifier)
    ask_login_code(email_only.card_identifier)
    ask_login_code(card_only.card_identifier)

    assert [m.to for m in sms_outbox()] == ["+33612345678"]
    assert [m.to for m in mailoutbox] == [["b@exemple.test"]]
    assert "Votre code Relais" in mailoutbox[0].body
    assert not LoginCode.objects.filter(account=card_only).exists()


def test_it_answers_an_unknown_identifier_like_a_known_one():
    ask_login_code("07 81 22 33 44")

    assert sms_outbox() == []
    assert actions() == []


def test_it_logs_in_with_the_code_once_only():
    account = PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    code = sent_code()

    assert person_login_with_code(identifier="0612345678", code=code, by=VISITOR) == account
    with pytest.raises(LoginRefused):
        person_login_with_code(identifier="0612345678", code=code, by=VISITOR)

    account.refresh_from_db()
    assert account.last_login_at is not None
    assert actions().count(AuditAction.PERSON_LOGIN) == 1
    assert actions()[-1] == AuditAction.PERSON_LOGIN_FAILED


def test_a_code_expires_after_ten_minutes(clock):
    PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    code = sent_code()

    clock.advance(minutes=10, seconds=1)

    with pytest.raises(LoginRefused):
        person_login_with_code(identifier="0612345678", code=code, by=VISITOR)


def test_a_code_still_works_just_before_ten_minutes(clock):
    account = PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    code = sent_code()

    clock.advance(minutes=9, seconds=50)

    assert person_login_with_code(identifier="0612345678", code=code, by=VISITOR) == account


def test_a_code_dies_after_five_wrong_attempts():
    PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    code = sent_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(4):
        with pytest.raises(LoginRefused):
            person_login_with_code(identifier="0612345678", code=wrong, by=VISITOR)
    assert LoginCode.objects.get().attempts == 4
    with pytest.raises(LoginRefused):
        person_login_with_code(identifier="0612345678", code=wrong, by=VISITOR)
    with pytest.raises(LoginRefused, match="Trop d'essais"):
        person_login_with_code(identifier="0612345678", code=code, by=VISITOR)


def test_unknown_identifiers_are_locked_out_like_known_ones():
    for _ in range(5):
        with pytest.raises(LoginRefused) as error:
            person_login_with_code(identifier="0781223344", code="123456", by=VISITOR)

    assert "Trop d'essais" in str(error.value)
    assert actions().count(AuditAction.PERSON_LOGIN_FAILED) == 5


def test_a_lockout_does_not_tell_that_another_identifier_opens_the_same_space():
    PersonAccountFactory(with_password=True, phone="+33612345678", email="lea@exemple.test")
    for _ in range(5):
        with pytest.raises(LoginRefused):
            person_login_with_password(identifier="0612345678", password="mauvais", by=VISITOR)
        with pytest.raises(LoginRefused):
            person_login_with_password(identifier="0699887766", password="mauvais", by=VISITOR)

    with pytest.raises(LoginRefused, match="ne marche pas"):
        person_login_with_password(identifier="inconnu@exemple.test", password="x", by=VISITOR)
    account = person_login_with_password(
        identifier="lea@exemple.test", password=PERSON_PASSWORD, by=VISITOR
    )

    assert account.email == "lea@exemple.test"


def test_wrong_card_codes_and_wrong_passwords_count_against_the_same_account():
    account, codes = person_account_open(
        person=PersonFactory(), phone="0612345678", password=PERSON_PASSWORD, **IDENTITY, by=PRO
    )
    for _ in range(4):
        with pytest.raises(LoginRefused):
            person_login_with_password(
                identifier=account.card_identifier, password="mauvais", by=VISITOR
            )
    with pytest.raises(LoginRefused, match="Trop d'essais"):
        person_login_with_card(
            card_identifier=account.card_identifier, recovery_code="0000 0000", by=VISITOR
        )

    with pytest.raises(LoginRefused, match="Trop d'essais"):
        person_login_with_card(
            card_identifier=account.card_identifier, recovery_code=codes[0], by=VISITOR
        )


def test_a_password_is_checked_only_once_its_attempt_is_counted(monkeypatch):
    """Guesses sent at the same moment all pass a check made before the count: counted
    first, the sixth is refused whatever the others are still doing."""
    PersonAccountFactory(with_password=True, phone="+33612345678")
    counted_when_checked: list[int] = []

    def check(typed: str, stored: str) -> bool:
        counted_when_checked.append(AttemptCounter.objects.get(key__contains="account").count)
        return check_password(typed, stored)

    monkeypatch.setattr(services, "check_password", check)
    for _ in range(5):
        with pytest.raises(LoginRefused):
            person_login_with_password(identifier="0612345678", password="mauvais", by=VISITOR)

    assert counted_when_checked == [1, 2, 3, 4, 5]
    with pytest.raises(LoginRefused, match="Trop d'essais"):
        person_login_with_password(identifier="0612345678", password=PERSON_PASSWORD, by=VISITOR)
    assert len(counted_when_checked) == 5


def test_a_login_forgets_the_accounts_failures():
    PersonAccountFactory(with_password=True, phone="+33612345678")
    for _ in range(4):
        with pytest.raises(LoginRefused):
            person_login_with_password(identifier="0612345678", password="mauvais", by=VISITOR)
    person_login_with_password(identifier="0612345678", password=PERSON_PASSWORD, by=VISITOR)

    for _ in range(4):
        with pytest.raises(LoginRefused, match="ne marche pas"):
            person_login_with_password(identifier="0612345678", password="mauvais", by=VISITOR)


def test_too_many_failures_from_one_address_lock_every_identifier(settings):
    settings.RELAIS_LOGIN_MAX_FAILURES_PER_IP = 3
    account = PersonAccountFactory(with_password=True, phone="+33612345678")
    for number in ("0781223344", "0781223345", "0781223346"):
        with pytest.raises(LoginRefused):
            person_login_with_password(identifier=number, password="x", by=VISITOR)

    with pytest.raises(LoginRefused, match="Trop d'essais"):
        person_login_with_password(identifier=account.phone, password=PERSON_PASSWORD, by=VISITOR)

    elsewhere = Actor(label=VISITOR.label, ip_address="198.51.100.2")
    assert (
        person_login_with_password(identifier=account.phone, password=PERSON_PASSWORD, by=elsewhere)
        == account
    )


def test_it_limits_codes_to_three_per_quarter_hour_and_ten_per_day(clock):
    account = PersonAccountFactory(phone="+33612345678")
    for _ in range(3):
        ask_login_code("0612345678")

    # The limit counted on what was typed answers, as it does for an unknown identifier.
    with pytest.raises(ValidationError, match="Trop de codes"):
        ask_login_code("0612345678")
    # The account's own limit, reached through another of its identifiers, answers like a
    # code sent: an error would tell that the two identifiers open the same space.
    ask_login_code(account.card_identifier)
    assert len(sms_outbox()) == 3

    for _ in range(3):
        clock.advance(minutes=16)
        for _ in range(3):
            ask_login_code(account.card_identifier)
    assert len(sms_outbox()) == 10
    clock.advance(minutes=16)
    ask_login_code("0612345678")
    assert len(sms_outbox()) == 10
    clock.advance(days=1)
    ask_login_code(account.card_identifier)
    assert len(sms_outbox()) == 11


def test_the_sending_limit_says_how_long_to_wait_for_the_limit_reached(settings):
    settings.RELAIS_PORTAL_CODES_PER_DAY = 2
    for _ in range(2):
        ask_login_code("0781223344")

    with pytest.raises(ValidationError, match="Attendez 24 heures avant"):
        ask_login_code("0781223344")
    with pytest.raises(ValidationError, match="Attendez 24 heures avant"):
        ask_login_code("0781223344")


def test_the_quarter_hour_limit_says_a_quarter_of_an_hour():
    for _ in range(3):
        ask_login_code("0781223344")

    with pytest.raises(ValidationError, match="Attendez 15 minutes avant"):
        ask_login_code("0781223344")


def test_the_lockout_says_the_wait_the_settings_give(settings):
    settings.RELAIS_LOGIN_LOCKOUT = timedelta(minutes=30)
    for _ in range(4):
        with pytest.raises(LoginRefused):
            person_login_with_password(identifier="0781223344", password="x", by=VISITOR)

    with pytest.raises(LoginRefused, match="Attendez 30 minutes"):
        person_login_with_password(identifier="0781223344", password="x", by=VISITOR)


def test_unknown_identifiers_meet_the_same_sending_limit():
    for _ in range(3):
        ask_login_code("0781223344")

    with pytest.raises(ValidationError, match="Trop de codes"):
        ask_login_code("0781223344")


def test_a_failing_provider_answers_like_a_sent_code_and_keeps_no_code(settings, caplog):
    settings.RELAIS_SMS_BACKEND = "relais.notifications.sms.BrevoBackend"
    settings.RELAIS_SMS_API_KEY = ""
    PersonAccountFactory(phone="+33612345678")

    ask_login_code("0612345678")

    assert not LoginCode.objects.exists()
    assert sms_outbox() == []
    assert "Envoi d'un code de l'espace personnel impossible : SmsError" in caplog.text
    assert "612345678" not in caplog.text


def test_it_logs_in_with_the_card_and_each_code_works_once():
    person = PersonFactory()
    account, codes = person_account_open(person=person, **IDENTITY, by=PRO)

    login = person_login_with_card(
        card_identifier=account.card_identifier.lower().replace("-", " "),
        recovery_code=codes[3],
        by=VISITOR,
    )

    assert login.account == account
    assert login.codes_left == 7
    with pytest.raises(LoginRefused):
        person_login_with_card(
            card_identifier=account.card_identifier, recovery_code=codes[3], by=VISITOR
        )
    assert actions()[-3:] == [
        AuditAction.PERSON_RECOVERY_CODE_USED,
        AuditAction.PERSON_LOGIN,
        AuditAction.PERSON_LOGIN_FAILED,
    ]


def test_a_card_code_does_not_open_another_card():
    account, codes = person_account_open(person=PersonFactory(), **IDENTITY, by=PRO)
    other, _ = person_account_open(person=PersonFactory(), **IDENTITY, by=PRO)

    with pytest.raises(LoginRefused):
        person_login_with_card(
            card_identifier=other.card_identifier, recovery_code=codes[0], by=VISITOR
        )
    assert account.recovery_codes.filter(used_at__isnull=True).count() == 8


def test_it_logs_in_with_a_password_and_refuses_accounts_without_one():
    with_password = PersonAccountFactory(with_password=True, email="a@exemple.test")
    without = PersonAccountFactory(email="b@exemple.test")

    assert (
        person_login_with_password(
            identifier="A@exemple.test", password=PERSON_PASSWORD, by=VISITOR
        )
        == with_password
    )
    with pytest.raises(LoginRefused):
        person_login_with_password(identifier="b@exemple.test", password="", by=VISITOR)
    with pytest.raises(LoginRefused):
        person_login_with_password(identifier=without.card_identifier, password="x", by=VISITOR)


def test_a_closed_account_cannot_log_in():
    account = PersonAccountFactory(with_password=True)
    person_account_close(account=account, by=PRO)

    with pytest.raises(LoginRefused):
        person_login_with_password(
            identifier=account.card_identifier, password=PERSON_PASSWORD, by=VISITOR
        )
    account.refresh_from_db()
    assert account.phone is None
    assert account.password == ""
    assert not account.recovery_codes.exists()


def test_reopening_a_closed_account_gives_a_new_card_and_raises_the_stamp():
    account, _ = person_account_open(person=PersonFactory(), phone="0612345678", **IDENTITY, by=PRO)
    old_card, old_stamp = account.card_identifier, account.security_stamp
    person_account_close(account=account, by=PRO)

    reopened, codes = person_account_open(
        person=account.person,
        phone="0612345678",
        identity_checked=True,
        identity_document="passeport",
        reason="Retour dans la structure",
        by=PRO,
    )

    assert reopened.pk == account.pk
    assert reopened.card_identifier != old_card
    assert reopened.security_stamp > old_stamp
    assert len(codes) == 8
    event = AuditEvent.objects.filter(action=AuditAction.PERSON_ACCOUNT_OPENED).latest("seq")
    assert event.reason == "Retour dans la structure"
    assert event.details["reopened"] is True
    assert event.details["identity_document"] == "Passeport"


def test_recovery_needs_the_identity_checked_and_changes_nothing_otherwise():
    account, codes = person_account_open(person=PersonFactory(), **IDENTITY, by=PRO)
    stamp = account.security_stamp

    with pytest.raises(ValidationError, match="identité"):
        person_account_recover(
            account=account,
            identity_checked=False,
            identity_document="cni",
            reason="Carte perdue",
            new_card=True,
            by=PRO,
        )

    account.refresh_from_db()
    assert account.security_stamp == stamp
    assert (
        person_login_with_card(
            card_identifier=account.card_identifier, recovery_code=codes[0], by=VISITOR
        ).account
        == account
    )


def test_recovery_gives_a_new_card_raises_the_stamp_and_kills_the_old_codes():
    account, old_codes = person_account_open(person=PersonFactory(), **IDENTITY, by=PRO)
    stamp = account.security_stamp

    new_codes = person_account_recover(
        account=account,
        identity_checked=True,
        identity_document="titre_sejour",
        reason="Carte perdue",
        new_card=True,
        password="Soleil-62",
        by=PRO,
    )

    account.refresh_from_db()
    assert account.security_stamp == stamp + 1
    assert set(new_codes).isdisjoint(old_codes)
    with pytest.raises(LoginRefused):
        person_login_with_card(
            card_identifier=account.card_identifier, recovery_code=old_codes[1], by=VISITOR
        )
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_RECOVERED)
    assert event.reason == "Carte perdue"
    assert event.details == {
        "identity_document": "Titre de séjour",
        "new_card": True,
        "new_password": True,
    }
    assert event.person_id == account.person_id


def test_updating_the_phone_kills_codes_sent_to_the_old_one():
    account = PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    code = sent_code()

    person_account_update(account=account, phone="07 81 22 33 44", **CHECKED, by=PRO)

    with pytest.raises(LoginRefused):
        person_login_with_code(identifier="0781223344", code=code, by=VISITOR)
    event = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_UPDATED)
    assert event.details == {
        "phone_changed": True,
        "email_changed": False,
        "identity_document": "Carte nationale d'identité",
    }
    assert event.reason == "Nouveau numéro"


@pytest.mark.parametrize(
    ("check", "error"),
    [
        ({"identity_checked": False}, "Vérifiez d'abord l'identité"),
        ({"identity_document": ""}, "pièce d'identité présentée"),
        ({"reason": "  "}, "pourquoi les identifiants changent"),
    ],
)
def test_changing_the_identifiers_needs_the_identity_checked_and_a_reason(check, error):
    account = PersonAccountFactory(phone="+33612345678")

    with pytest.raises(ValidationError, match=error):
        person_account_update(account=account, phone="0781223344", **(CHECKED | check), by=PRO)

    account.refresh_from_db()
    assert (account.phone, account.security_stamp) == ("+33612345678", 0)
    assert actions() == []


def test_changing_the_identifiers_ends_the_sessions_and_tells_the_former_contacts(mailoutbox):
    person = PersonFactory(first_names="Yasmina", birth_name="Benali")
    account = PersonAccountFactory(person=person, phone="+33612345678", email="y@exemple.test")

    with committed():
        person_account_update(account=account, phone="0781223344", email="", **CHECKED, by=PRO)

    account.refresh_from_db()
    assert account.security_stamp == 1
    assert (account.phone, account.email) == ("+33781223344", None)
    [warning] = sms_outbox()
    assert warning.to == "+33612345678"
    assert warning.body == (
        "Relais : le téléphone ou l'e-mail de votre espace a été changé au guichet. "
        "Si ce n'est pas vous, parlez-en à votre accompagnant(e)."
    )
    assert [message.to for message in mailoutbox] == [["y@exemple.test"]]
    assert mailoutbox[0].body == warning.body
    for personal in ("Yasmina", "Benali", "781223344", "612345678", "exemple"):
        assert personal not in warning.body


def test_changing_nothing_tells_nobody():
    account = PersonAccountFactory(phone="+33612345678")

    with committed():
        person_account_update(account=account, phone="06 12 34 56 78", **CHECKED, by=PRO)

    account.refresh_from_db()
    assert account.security_stamp == 0
    assert sms_outbox() == []
    assert actions() == []


@pytest.mark.parametrize(
    ("checks", "error"),
    [
        ({**CHECKED, "identity_checked": False}, "Vérifiez d'abord l'identité"),
        ({**CHECKED, "identity_document": ""}, "Choisissez la pièce d'identité présentée."),
        ({**CHECKED, "reason": "  "}, "Écrivez pourquoi l'espace est rouvert."),
    ],
    ids=["sans-verification", "sans-piece", "sans-motif"],
)
def test_reopening_a_closed_space_needs_the_identity_checked_and_a_reason(checks, error):
    account, _ = person_account_open(person=PersonFactory(), **IDENTITY, by=PRO)
    person_account_close(account=account, by=PRO)

    with pytest.raises(ValidationError, match=error):
        person_account_open(person=account.person, phone="0781223344", **checks, by=PRO)

    account.refresh_from_db()
    assert not account.is_active
    assert account.phone is None
    event = AuditEvent.objects.filter(action=AuditAction.PERSON_ACCOUNT_OPENED).get()
    assert "reopened" not in event.details


@pytest.mark.usefixtures("held_tasks")
def test_the_request_queues_the_account_the_channel_and_the_visitor_and_nothing_else():
    account = PersonAccountFactory(phone="+33612345678")

    login_code_send(identifier="06 12 34 56 78", by=VISITOR)

    held = DBTaskResult.objects.get()
    assert held.task_path == "relais.portal.tasks.send_login_code"
    assert held.args_kwargs == {
        "args": [],
        "kwargs": {
            "account_id": account.pk,
            "channel": CodeChannel.SMS,
            "actor_label": VISITOR.label,
            "ip_address": VISITOR.ip_address,
        },
    }
    # The request reserves, journals and sends nothing: the task does.
    assert not LoginCode.objects.exists()
    assert actions() == []
    run_held_tasks()
    code = sent_code()
    reserved = LoginCode.objects.get()
    assert reserved.digest == digest(CodePurpose.LOGIN, str(account.pk), code)
    held.refresh_from_db()
    queued = json.dumps([held.args_kwargs, held.return_value, held.traceback])
    assert code not in queued
    assert "612345678" not in queued


@pytest.mark.usefixtures("held_tasks")
def test_the_request_queues_the_same_task_when_no_space_can_receive_a_code():
    without_contact = PersonAccountFactory()

    login_code_send(identifier="07 81 22 33 44", by=VISITOR)
    login_code_send(identifier="inconnu@exemple.test", by=VISITOR)
    login_code_send(identifier=without_contact.card_identifier, by=VISITOR)

    visitor = {"actor_label": VISITOR.label, "ip_address": VISITOR.ip_address}
    assert [
        held.args_kwargs["kwargs"] for held in DBTaskResult.objects.order_by("enqueued_at")
    ] == [
        {"account_id": None, "channel": CodeChannel.SMS, **visitor},
        {"account_id": None, "channel": CodeChannel.EMAIL, **visitor},
        {"account_id": without_contact.pk, "channel": CodeChannel.EMAIL, **visitor},
    ]
    run_held_tasks()
    assert sms_outbox() == []
    assert not LoginCode.objects.exists()
    assert actions() == []


@pytest.mark.usefixtures("held_tasks")
def test_the_task_journals_a_code_with_the_visitors_address_only_once_it_is_reserved(settings):
    settings.RELAIS_PORTAL_CODES_PER_15_MIN = 1
    account = PersonAccountFactory(phone="+33612345678")
    login_code_send(identifier="0612345678", by=VISITOR)
    # The account's own limit is reached by the second request, through its card.
    login_code_send(
        identifier=account.card_identifier,
        by=Actor(label=VISITOR.label, ip_address="198.51.100.2"),
    )
    assert actions() == []

    run_held_tasks()

    event = AuditEvent.objects.get()
    assert (event.action, event.actor_label, event.ip_address) == (
        AuditAction.PERSON_LOGIN_CODE_SENT,
        VISITOR.label,
        VISITOR.ip_address,
    )
    assert (event.person_id, event.object_id) == (account.person_id, str(account.pk))
    assert event.details == {"channel": CodeChannel.SMS, "purpose": CodePurpose.LOGIN}
    assert LoginCode.objects.count() == len(sms_outbox()) == 1
    assert verify_chain().intact


@pytest.mark.usefixtures("held_tasks")
def test_the_validity_runs_from_the_sending_however_long_the_task_waited(clock):
    account = PersonAccountFactory(phone="+33612345678")
    login_code_send(identifier="0612345678", by=VISITOR)
    clock.advance(minutes=30)
    run_held_tasks()
    clock.advance(minutes=9, seconds=50)

    assert person_login_with_code(identifier="0612345678", code=sent_code(), by=VISITOR) == account


def test_a_code_not_yet_sent_does_not_hide_the_one_received(monkeypatch):
    account = PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    received = sent_code()
    logged_in = []
    code_send = codes.code_send

    def log_in_before_sending(login_code, **kwargs):
        # The second code is reserved and journaled, not drawn yet.
        assert login_code.digest == ""
        logged_in.append(person_login_with_code(identifier="0612345678", code=received, by=VISITOR))
        code_send(login_code, **kwargs)

    monkeypatch.setattr(codes, "code_send", log_in_before_sending)
    ask_login_code("0612345678")

    assert logged_in == [account]
    assert len(sms_outbox()) == 2


def _archive(account: PersonAccount) -> None:
    # An archived file keeps its space open and its phone: only the task's check of the
    # file stops the SMS.
    Person.objects.filter(pk=account.person_id).update(status=PersonStatus.ARCHIVED)


def _close(account: PersonAccount) -> None:
    person_account_close(account=account, by=PRO)


def _remove_phone(account: PersonAccount) -> None:
    person_account_update(account=account, email="lea@exemple.test", **CHECKED, by=PRO)


@pytest.mark.usefixtures("held_tasks")
@pytest.mark.parametrize("change", [_archive, _close, _remove_phone])
def test_the_task_sends_nothing_once_the_space_can_no_longer_receive_it(change):
    account = PersonAccountFactory(phone="+33612345678")
    login_code_send(identifier="0612345678", by=VISITOR)
    change(account)

    run_held_tasks()

    assert sms_outbox() == []
    assert not LoginCode.objects.exists()
    assert AuditAction.PERSON_LOGIN_CODE_SENT not in actions()


def test_a_merged_duplicate_closes_its_space_and_no_longer_logs_in():
    kept = PersonAccountFactory(with_password=True)
    duplicate = PersonAccountFactory(with_password=True, phone="+33612345678")
    browser_stamp = duplicate.security_stamp

    persons_merge(keep=kept.person, absorb=duplicate.person, by=PRO)

    duplicate.refresh_from_db()
    assert not duplicate.is_active
    assert duplicate.phone is None
    assert duplicate.security_stamp > browser_stamp
    closed = AuditEvent.objects.get(action=AuditAction.PERSON_ACCOUNT_CLOSED)
    assert closed.person_id == duplicate.person_id
    assert closed.reason == "Dossier fusionné avec un autre dossier."
    with pytest.raises(LoginRefused):
        person_login_with_password(
            identifier=duplicate.card_identifier, password=PERSON_PASSWORD, by=VISITOR
        )
    assert (
        person_login_with_password(
            identifier=kept.card_identifier, password=PERSON_PASSWORD, by=VISITOR
        )
        == kept
    )
    assert verify_chain().intact


def test_an_archived_file_no_longer_logs_in():
    account = PersonAccountFactory(with_password=True, phone="+33612345678")
    Person.objects.filter(pk=account.person_id).update(status=PersonStatus.ARCHIVED)

    with pytest.raises(LoginRefused):
        person_login_with_password(
            identifier=account.card_identifier, password=PERSON_PASSWORD, by=VISITOR
        )
    ask_login_code("0612345678")
    assert sms_outbox() == []


def test_no_space_is_opened_on_a_file_merged_since_its_page_was_read():
    """The professional's page read the file while it was active; a merge archived it
    before the space was opened: no space nor card on the archived duplicate, and its
    phone stays free for the space of the file kept."""
    kept = PersonFactory()
    read_by_the_page = PersonFactory()
    persons_merge(keep=kept, absorb=read_by_the_page, by=PRO)

    with pytest.raises(ValidationError, match="n'est plus actif"):
        person_account_open(person=read_by_the_page, phone="0612345678", **IDENTITY, by=PRO)

    assert not PersonAccount.objects.filter(person=read_by_the_page).exists()
    assert not AuditEvent.objects.filter(
        action=AuditAction.PERSON_ACCOUNT_OPENED, person_id=read_by_the_page.pk
    ).exists()
    account, _ = person_account_open(person=kept, phone="0612345678", **IDENTITY, by=PRO)
    assert account.phone == "+33612345678"


def test_an_invitation_fits_in_one_sms_with_a_real_address(settings):
    settings.RELAIS_PUBLIC_URL = "https://relais.solidarites.hautsdefrance.fr"
    person = PersonFactory()
    account, _ = person_account_open(person=person, phone="0612345678", **IDENTITY, by=PRO)

    person_invitation_send(account=account, by=PRO)

    body = sms_outbox()[-1].body
    assert "https://relais.solidarites.hautsdefrance.fr/mon-espace/activer/" in body
    assert len(body) <= 160


def test_an_invitation_carries_no_personal_data_and_opens_the_space_once():
    person = PersonFactory(first_names="Yasmina", birth_name="Benali")
    account, _ = person_account_open(person=person, phone="0612345678", **IDENTITY, by=PRO)

    person_invitation_send(account=account, by=PRO)

    body = sms_outbox()[-1].body
    assert "/mon-espace/activer/" in body
    for personal in ("Yasmina", "Benali", "0612345678", "+33612345678", "612345678"):
        assert personal not in body
    code = sent_code()
    with pytest.raises(LoginRefused):
        person_login_with_code(identifier="0612345678", code=code, by=VISITOR)
    assert (
        person_login_with_code(
            identifier="0612345678", code=code, purpose=CodePurpose.INVITATION, by=VISITOR
        )
        == account
    )


def test_an_invitation_needs_a_phone():
    account = PersonAccountFactory()

    with pytest.raises(ValidationError, match="portable"):
        person_invitation_send(account=account, by=PRO)
    assert sms_outbox() == []


def test_spent_codes_are_purged_after_a_day(clock):
    PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    clock.advance(hours=2)
    assert purge_spent_codes() == 0

    clock.advance(days=1)

    assert purge_spent_codes() == 1
    assert not LoginCode.objects.exists()


def test_the_purge_command_erases_spent_codes(clock):
    PersonAccountFactory(phone="+33612345678")
    ask_login_code("0612345678")
    clock.advance(days=2)
    out = io.StringIO()

    call_command("purge_login_codes", stdout=out)

    assert out.getvalue() == "1 code(s) de connexion effacé(s).\n"
    assert not LoginCode.objects.exists()
