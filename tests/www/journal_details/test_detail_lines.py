from relais.audit.actions import AuditAction
from relais.www.journal.details import Names, detail_lines

NO_NAMES = Names()


def test_it_shows_known_keys_in_a_fixed_order_and_unknown_ones_after_them():
    """PostgreSQL keeps a JSON object's keys in its own order: the row's order is ours."""
    lines = detail_lines(
        AuditAction.PROCEDURE_STEP_RECORDED,
        {"zz_nouveau": 1, "modifiee": True, "etape": 3, "demarche": "rsa"},
        NO_NAMES,
    )

    assert lines == ["Démarche : rsa", "Étape : 3", "Étape corrigée : oui", "Zz nouveau : 1"]


def test_it_shows_a_lone_state_of_a_procedure_under_its_own_label():
    lines = detail_lines(AuditAction.PROCEDURE_TRANSITION, {"vers": "accordee"}, NO_NAMES)

    assert lines == ["Vers : « Accordée »"]


def test_the_same_key_reads_by_what_the_row_records():
    """« vers » is a state of a procedure or the name of an organisation."""
    switched = detail_lines(
        AuditAction.ORGANISATION_SWITCHED, {"vers": "CCAS de Lens", "depuis": None}, NO_NAMES
    )

    assert switched == ["Depuis : —", "Vers : CCAS de Lens"]


def test_it_shows_details_that_are_not_an_object_as_written():
    assert detail_lines(AuditAction.LOGIN, ["a", "b"], NO_NAMES) == ["['a', 'b']"]
    assert detail_lines(AuditAction.LOGIN, None, NO_NAMES) == []
    assert detail_lines(AuditAction.LOGIN, {}, NO_NAMES) == []


def test_a_member_s_role_and_profession_read_before_and_after_in_words():
    lines = detail_lines(
        AuditAction.MEMBER_UPDATED,
        {
            "role_avant": "responsable",
            "role": "professionnel",
            "profession_avant": "ass",
            "profession": "cesf",
        },
        NO_NAMES,
    )

    assert lines == [
        "Rôle avant : responsable de structure",
        "Rôle : professionnel(le)",
        "Métier avant : assistant(e) de service social",
        "Métier : conseiller(ère) en économie sociale et familiale",
    ]


def test_a_document_s_dates_read_before_and_after_as_days():
    lines = detail_lines(
        AuditAction.DOCUMENT_REPLACED,
        {
            "expires_on": "2027-02-01",
            "issued_on": "2026-11-01",
            "version": 2,
            "type": "quittance_loyer",
            "expires_on_avant": "2026-09-01",
            "issued_on_avant": None,
        },
        NO_NAMES,
    )

    assert lines == [
        "Type de pièce : quittance de loyer",
        "Délivrée le, avant : —",
        "Délivrée le : 01/11/2026",
        "Valable jusqu'au, avant : 01/09/2026",
        "Valable jusqu'au : 01/02/2027",
        "Version : 2",
    ]


def test_an_invitation_names_whom_it_was_sent_to_first():
    lines = detail_lines(
        AuditAction.INVITATION_SENT,
        {
            "role": "professionnel",
            "profession": "es",
            "adresse_invite": "nadia.haddad@exemple.test",
            "invite": "Nadia Haddad",
        },
        NO_NAMES,
    )

    assert lines[:3] == [
        "Personne invitée : Nadia Haddad",
        "Adresse : nadia.haddad@exemple.test",
        "Rôle : professionnel(le)",
    ]
