"""Plain words for the person: how their own space and the summary of their export name
what Relais holds. Short, common words (FALC), translated with gettext; the codes stay
those of the domain models, whose labels are written for professionals."""

from datetime import datetime

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from relais.audit.actions import AuditAction
from relais.consent.models import ConsentDuration, ConsentMethod
from relais.documents.models import DocumentKind
from relais.persons.categories import DataCategory
from relais.persons.models import (
    Complementary,
    DisabilityRate,
    EmploymentStatus,
    HealthRegime,
    HousingStatus,
    Nationality,
    NoteVisibility,
    Relation,
    ResourceKind,
    Sex,
)
from relais.procedures.models import Autonomy, ProcedureStatus

CATEGORIES: dict[str, Promise] = {
    DataCategory.IDENTITY: _("Qui je suis"),
    DataCategory.FAMILY: _("Ma famille"),
    DataCategory.RESOURCES: _("Mon argent"),
    DataCategory.HOUSING: _("Mon logement"),
    DataCategory.EMPLOYMENT: _("Mon travail"),
    DataCategory.SOCIAL_COVERAGE: _("Mon assurance maladie"),
    DataCategory.HEALTH: _("Ma santé"),
    DataCategory.NOTES: _("Ce que les professionnels ont écrit"),
    DataCategory.PROCEDURES: _("Mes démarches"),
    DataCategory.DOCUMENTS: _("Mes papiers"),
    DataCategory.APPOINTMENTS: _("Mes rendez-vous"),
    DataCategory.MESSAGES: _("Mes messages"),
}

DOCUMENT_KINDS: dict[str, Promise] = {
    DocumentKind.CNI: _("Carte d'identité"),
    DocumentKind.PASSPORT: _("Passeport"),
    DocumentKind.RESIDENCE_PERMIT: _("Titre de séjour"),
    DocumentKind.RECEIPT: _("Récépissé de titre de séjour"),
    DocumentKind.PROOF_OF_ADDRESS: _("Justificatif de domicile"),
    DocumentKind.HOSTING_CERTIFICATE: _("Attestation d'hébergement"),
    DocumentKind.TAX_NOTICE: _("Avis d'impôt"),
    DocumentKind.CAF_CERTIFICATE: _("Attestation de la CAF"),
    DocumentKind.CPAM_RIGHTS: _("Attestation de l'Assurance maladie"),
    DocumentKind.VITALE: _("Carte Vitale"),
    DocumentKind.RIB: _("RIB (coordonnées de banque)"),
    DocumentKind.PAYSLIP: _("Fiche de paie"),
    DocumentKind.FRANCE_TRAVAIL: _("Attestation France Travail"),
    DocumentKind.RENT_RECEIPT: _("Quittance de loyer"),
    DocumentKind.LEASE: _("Bail (contrat de location)"),
    DocumentKind.FAMILY_BOOK: _("Livret de famille"),
    DocumentKind.BIRTH_CERTIFICATE: _("Acte de naissance"),
    DocumentKind.JUDGEMENT: _("Jugement"),
    DocumentKind.MEDICAL_CERTIFICATE: _("Certificat médical"),
    DocumentKind.MDPH_NOTIFICATION: _("Lettre de la MDPH"),
    DocumentKind.PHOTO: _("Photo d'identité"),
    DocumentKind.DOMICILIATION: _("Attestation de domiciliation"),
    DocumentKind.RESOURCES: _("Justificatif de revenus"),
    DocumentKind.PENSION: _("Attestation de pension ou de retraite"),
    DocumentKind.SCHOOL_CERTIFICATE: _("Certificat de scolarité"),
    DocumentKind.OTHER: _("Autre papier"),
}

RESOURCE_KINDS: dict[str, Promise] = {
    ResourceKind.SALARY: _("Salaire"),
    ResourceKind.ARE: _("Allocation chômage"),
    ResourceKind.RSA: _("RSA"),
    ResourceKind.PRIME_ACTIVITE: _("Prime d'activité"),
    ResourceKind.AAH: _("AAH (allocation handicap)"),
    ResourceKind.RETIREMENT: _("Retraite"),
    ResourceKind.INVALIDITY: _("Pension d'invalidité"),
    ResourceKind.FAMILY_ALLOWANCES: _("Allocations familiales"),
    ResourceKind.HOUSING_AID: _("Aide pour le logement"),
    ResourceKind.ALIMONY: _("Pension alimentaire"),
    ResourceKind.GRANT: _("Bourse"),
    ResourceKind.OTHER: _("Autre argent"),
}

HOUSING_STATUSES: dict[str, Promise] = {
    HousingStatus.PRIVATE_TENANT: _("Je loue à un propriétaire privé"),
    HousingStatus.SOCIAL_TENANT: _("Je loue un logement social (HLM)"),
    HousingStatus.HOSTED: _("Je suis hébergé(e) chez quelqu'un"),
    HousingStatus.EMERGENCY: _("Hébergement d'urgence ou CHRS"),
    HousingStatus.HOSTEL: _("Foyer, résidence sociale ou pension de famille"),
    HousingStatus.OWNER: _("Je suis propriétaire"),
    HousingStatus.HOMELESS: _("Je n'ai pas de logement"),
    HousingStatus.OTHER: _("Autre situation"),
}

EMPLOYMENT_STATUSES: dict[str, Promise] = {
    EmploymentStatus.PERMANENT: _("Je travaille en CDI"),
    EmploymentStatus.FIXED_TERM: _("Je travaille en CDD ou en intérim"),
    EmploymentStatus.JOBSEEKER: _("Je cherche du travail"),
    EmploymentStatus.SELF_EMPLOYED: _("Je travaille à mon compte"),
    EmploymentStatus.TRAINING: _("Je suis en formation"),
    EmploymentStatus.STUDENT: _("Je suis étudiant(e)"),
    EmploymentStatus.RETIRED: _("Je suis à la retraite"),
    EmploymentStatus.INACTIVE: _("Je n'ai pas d'activité"),
}

HEALTH_REGIMES: dict[str, Promise] = {
    HealthRegime.GENERAL: _("Assurance maladie (régime général)"),
    HealthRegime.AGRICULTURAL: _("MSA (régime agricole)"),
    HealthRegime.OTHER: _("Autre régime"),
    HealthRegime.NONE: _("Pas d'assurance maladie ouverte"),
}

COMPLEMENTARIES: dict[str, Promise] = {
    Complementary.CSS_FREE: _("Complémentaire santé solidaire gratuite"),
    Complementary.CSS_PAID: _("Complémentaire santé solidaire payante"),
    Complementary.MUTUELLE: _("Mutuelle"),
    Complementary.NONE: _("Pas de mutuelle"),
}

RELATIONS: dict[str, Promise] = {
    Relation.SPOUSE: _("Conjoint(e)"),
    Relation.CHILD: _("Enfant"),
    Relation.PARENT: _("Parent"),
    Relation.SIBLING: _("Frère ou sœur"),
    Relation.OTHER: _("Autre personne de la maison"),
}

DISABILITY_RATES: dict[str, Promise] = {
    DisabilityRate.UNDER_50: _("Moins de 50 %"),
    DisabilityRate.FROM_50: _("De 50 à 79 %"),
    DisabilityRate.FROM_80: _("Au moins 80 %"),
}

SEXES: dict[str, Promise] = {Sex.FEMALE: _("Femme"), Sex.MALE: _("Homme")}

NATIONALITIES: dict[str, Promise] = {
    Nationality.FRENCH: _("Française"),
    Nationality.EU: _("Europe (Union européenne, EEE ou Suisse)"),
    Nationality.NON_EU: _("Autre nationalité"),
}

CONSENT_DURATIONS: dict[str, Promise] = {
    ConsentDuration.DAY: _("1 jour"),
    ConsentDuration.MONTH: _("1 mois"),
    ConsentDuration.SIX_MONTHS: _("6 mois"),
    ConsentDuration.YEAR: _("1 an"),
}

CONSENT_METHODS: dict[str, Promise] = {
    ConsentMethod.SIGNED: _("Signé au bureau"),
    ConsentMethod.CODE: _("Avec un code reçu par SMS"),
    ConsentMethod.SELF_SERVICE: _("Donné depuis mon espace"),
}

NOTE_VISIBILITIES: dict[str, Promise] = {
    NoteVisibility.AUTHOR: _("Son auteur seulement"),
    NoteVisibility.ORGANISATION: _("La structure qui l'a écrite"),
    NoteVisibility.SHARED: _("Les structures que j'ai autorisées"),
}

PROCEDURE_STATUSES: dict[str, Promise] = {
    ProcedureStatus.NOT_STARTED: _("À faire"),
    ProcedureStatus.IN_PROGRESS: _("On s'en occupe"),
    ProcedureStatus.MISSING_DOCUMENTS: _("Il manque des papiers"),
    ProcedureStatus.SUBMITTED: _("Demande envoyée"),
    ProcedureStatus.AWAITING: _("On attend la réponse"),
    ProcedureStatus.GRANTED: _("Accepté"),
    ProcedureStatus.REFUSED: _("Refusé"),
    ProcedureStatus.ABANDONED: _("Arrêté"),
    ProcedureStatus.APPEAL: _("Contestation en cours"),
}

AUTONOMY: dict[str, Promise] = {
    Autonomy.WITH_PERSON: _("Fait avec moi"),
    Autonomy.FOR_PERSON: _("Fait pour moi"),
    Autonomy.PERSON_ALONE: _("Fait par moi seul(e)"),
}

HISTORY_ACTIONS: dict[str, Promise] = {
    AuditAction.SECTION_VIEWED: _("A regardé"),
    AuditAction.SECTION_UPDATED: _("A modifié"),
    AuditAction.NIR_REVEALED: _("A affiché mon numéro de sécurité sociale"),
    AuditAction.BREAK_GLASS_OPENED: _("A ouvert mon dossier sans mon accord (urgence)"),
    AuditAction.PERSON_CREATED: _("A créé mon dossier"),
    AuditAction.DUPLICATE_SIGNALLED: _("A appris que j'ai déjà un dossier sur Relais"),
    AuditAction.NOTE_ADDED: _("A écrit une note"),
    AuditAction.CONSENT_GRANTED: _("A enregistré mon accord"),
    AuditAction.CONSENT_REVOKED: _("A retiré un accord"),
    AuditAction.BLOCK_ADDED: _("A enregistré un blocage de mon dossier"),
    AuditAction.BLOCK_LIFTED: _("A levé un blocage de mon dossier"),
    AuditAction.BREAK_GLASS_PREFERENCE: _("A changé mon choix sur l'ouverture en cas d'urgence"),
    AuditAction.DOCUMENT_DOWNLOADED: _("A téléchargé un papier"),
    AuditAction.DOCUMENT_SHOWN: _("A regardé un papier"),
    AuditAction.DOCUMENT_UPLOADED: _("A ajouté un papier"),
    AuditAction.DOCUMENT_REPLACED: _("A remplacé un papier"),
    AuditAction.DOCUMENT_UPDATED: _("A corrigé un papier"),
    AuditAction.DOCUMENT_DELETED: _("A supprimé un papier"),
    AuditAction.PROCEDURE_OPENED: _("A commencé une démarche"),
    AuditAction.PROCEDURE_TRANSITION: _("A changé où en est une démarche"),
    AuditAction.PROCEDURE_UPDATED: _("A modifié une démarche"),
    AuditAction.PROCEDURE_DOCUMENT_LINKED: _("A ajouté un papier à une démarche"),
    AuditAction.PROCEDURE_DOCUMENT_UNLINKED: _("A enlevé un papier d'une démarche"),
    AuditAction.PROCEDURE_STEP_RECORDED: _("A noté une étape faite pour une démarche"),
    AuditAction.REFERENT_ADDED: _("A ajouté une personne qui me suit"),
    AuditAction.REFERENT_REMOVED: _("A retiré une personne qui me suit"),
    AuditAction.PERSONS_MERGED: _("A réuni deux dossiers à mon nom en un seul"),
    AuditAction.PERSON_ACCOUNT_OPENED: _("A ouvert mon espace personnel"),
    AuditAction.PERSON_ACCOUNT_UPDATED: _("A changé mon téléphone ou mon e-mail de connexion"),
    AuditAction.PERSON_ACCOUNT_RECOVERED: _("A rétabli mon accès au guichet"),
    AuditAction.PERSON_ACCOUNT_CLOSED: _("A fermé mon espace personnel"),
    AuditAction.PERSON_CARD_PRINTED: _("A imprimé ma carte Relais"),
}


# Actions whose words already name the part of the file they touched.
_SELF_NAMED = frozenset(
    {
        AuditAction.NOTE_ADDED,
        AuditAction.PERSON_CREATED,
        AuditAction.PROCEDURE_OPENED,
        AuditAction.PROCEDURE_TRANSITION,
        AuditAction.PROCEDURE_UPDATED,
        AuditAction.PROCEDURE_DOCUMENT_LINKED,
        AuditAction.PROCEDURE_DOCUMENT_UNLINKED,
        AuditAction.PROCEDURE_STEP_RECORDED,
    }
)


# Acts on one paper: their journal rows name its type, but for the older ones.
_ON_A_PAPER = frozenset(
    {
        AuditAction.DOCUMENT_UPLOADED,
        AuditAction.DOCUMENT_DOWNLOADED,
        AuditAction.DOCUMENT_SHOWN,
        AuditAction.DOCUMENT_REPLACED,
        AuditAction.DOCUMENT_UPDATED,
        AuditAction.DOCUMENT_DELETED,
    }
)


def history_category(action: str, category: str, paper: str = "") -> str:
    """The part of the file an act of the history touched, in plain words; nothing where
    the act's own words name it already (« A écrit une note », not « A écrit une note :
    Ce que les professionnels ont écrit »). An act on one paper names the paper, from the
    type its journal row records (`paper`): « A supprimé un papier : Carte Vitale »."""
    if paper and action in _ON_A_PAPER and paper in DOCUMENT_KINDS:
        return say(DOCUMENT_KINDS, paper)
    if not category or action in _SELF_NAMED:
        return ""
    return say(CATEGORIES, category)


def clock(moment: datetime) -> str:
    """The time of a moment, as the person says it: « 20 h 41 », « 9 h 05 »."""
    local = timezone.localtime(moment)
    return gettext("%(hour)d h %(minute)02d") % {"hour": local.hour, "minute": local.minute}


def history_reads(count: int, first: datetime, last: datetime) -> str:
    """Consultations in a row of the history, in one sentence: « A regardé mon dossier 12
    fois, entre 20 h 41 et 20 h 48. », or « … 3 fois, à 9 h 05. » within one minute."""
    first_time, last_time = clock(first), clock(last)
    if first_time == last_time:
        return ngettext(
            "A regardé mon dossier %(count)d fois, à %(time)s.",
            "A regardé mon dossier %(count)d fois, à %(time)s.",
            count,
        ) % {"count": count, "time": first_time}
    return ngettext(
        "A regardé mon dossier %(count)d fois, entre %(first)s et %(last)s.",
        "A regardé mon dossier %(count)d fois, entre %(first)s et %(last)s.",
        count,
    ) % {"count": count, "first": first_time, "last": last_time}


def say(words: dict[str, Promise], code: str) -> str:
    """The plain word for a code; an unknown or empty code reads as a dash."""
    word = words.get(code)
    return str(word) if word is not None else (code or "—")
