from django.db import models


class AuditAction(models.TextChoices):
    LOGIN = "login", "Connexion"
    LOGIN_FAILED = "login_failed", "Échec de connexion"
    LOGOUT = "logout", "Déconnexion"
    LOCKOUT = "lockout", "Blocage temporaire après échecs"
    SESSION_EXPIRED = "session_expired", "Session expirée"
    SECOND_FACTOR_VERIFIED = "second_factor_verified", "Second facteur vérifié"
    SECOND_FACTOR_FAILED = "second_factor_failed", "Échec du second facteur"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "Second facteur enregistré"
    SECOND_FACTOR_REMOVED = "second_factor_removed", "Second facteur retiré"
    SECOND_FACTOR_RESET = "second_factor_reset", "Second facteur réinitialisé par un responsable"
    RECOVERY_CODES_GENERATED = "recovery_codes_generated", "Codes de secours générés"
    RECOVERY_CODE_USED = "recovery_code_used", "Code de secours utilisé"
    PASSWORD_CHANGED = "password_changed", "Mot de passe modifié"
    PASSWORD_RESET_REQUESTED = (
        "password_reset_requested",
        "Lien pour choisir un nouveau mot de passe envoyé",
    )
    PASSWORD_RESET = "password_reset", "Nouveau mot de passe choisi par lien"
    ORGANISATION_SWITCHED = "organisation_switched", "Changement de structure"
    ORGANISATION_CREATED = "organisation_created", "Structure créée"
    ORGANISATION_UPDATED = "organisation_updated", "Structure modifiée"
    INVITATION_SENT = "invitation_sent", "Invitation envoyée"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation acceptée"
    INVITATION_REVOKED = "invitation_revoked", "Invitation annulée"
    MEMBER_DEACTIVATED = "member_deactivated", "Membre désactivé"
    MEMBER_UPDATED = "member_updated", "Rôle ou profession d'un membre modifié"
    ADMIN_CHANGE = "admin_change", "Modification dans l'administration"
    PERSON_CREATED = "person_created", "Dossier créé"
    SECTION_VIEWED = "section_viewed", "Consultation"
    SECTION_UPDATED = "section_updated", "Modification"
    NIR_REVEALED = "nir_revealed", "Affichage du NIR en clair"
    NOTE_ADDED = "note_added", "Note de suivi ajoutée"
    REFERENT_ADDED = "referent_added", "Référent désigné"
    REFERENT_REMOVED = "referent_removed", "Référent retiré"
    PERSONS_MERGED = "persons_merged", "Dossiers fusionnés"
    PERSON_ARCHIVED = "person_archived", "Dossier archivé (durée de conservation atteinte)"
    PERSON_ANONYMISED = "person_anonymised", "Dossier anonymisé (fin de l'archivage)"
    PERSON_SEARCH = "person_search", "Recherche de personnes"
    DUPLICATE_SIGNALLED = (
        "duplicate_signalled",
        "Dossier existant signalé à la création d'un autre dossier",
    )
    CONSENT_GRANTED = "consent_granted", "Consentement recueilli"
    CONSENT_REVOKED = "consent_revoked", "Consentement retiré"
    CONSENT_CODE_SENT = "consent_code_sent", "Code de consentement envoyé"
    BLOCK_ADDED = "block_added", "Blocage posé par la personne"
    BLOCK_LIFTED = "block_lifted", "Blocage levé"
    BREAK_GLASS_OPENED = "break_glass_opened", "Accès exceptionnel"
    BREAK_GLASS_REFUSED = "break_glass_refused", "Accès exceptionnel refusé"
    BREAK_GLASS_PREFERENCE = "break_glass_preference", "Choix sur les accès exceptionnels"
    ACCESS_HISTORY_PRINTED = "access_history_printed", "Historique des accès imprimé"
    CHARTER_PUBLISHED = "charter_published", "Charte d'usages publiée"
    CHARTER_ACCEPTED = "charter_accepted", "Charte d'usages acceptée"
    CHARTER_REFUSED = "charter_refused", "Charte d'usages refusée (déconnexion)"
    KEYS_ROTATED = "keys_rotated", "Clés de chiffrement renouvelées"
    JOURNAL_TRIMMED = "journal_trimmed", "Journal : lignes anciennes effacées"
    DOCUMENT_UPLOADED = "document_uploaded", "Pièce déposée"
    DOCUMENT_DOWNLOADED = "document_downloaded", "Pièce téléchargée"
    DOCUMENT_SHOWN = "document_shown", "Pièce affichée dans le navigateur"
    DOCUMENT_REPLACED = "document_replaced", "Pièce remplacée par une nouvelle version"
    DOCUMENT_UPDATED = "document_updated", "Type ou dates d'une pièce corrigés"
    DOCUMENT_DELETED = "document_deleted", "Pièce supprimée"
    DOCUMENT_PURGED = "document_purged", "Pièce effacée définitivement"
    CATALOGUE_LOADED = "catalogue_loaded", "Catalogue des démarches chargé"
    CATALOGUE_ENTRY_UPDATED = "catalogue_entry_updated", "Fiche du catalogue modifiée"
    PROCEDURE_OPENED = "procedure_opened", "Démarche ouverte"
    PROCEDURE_TRANSITION = "procedure_transition", "Démarche : changement d'étape"
    PROCEDURE_UPDATED = "procedure_updated", "Démarche modifiée"
    PROCEDURE_DOCUMENT_LINKED = "procedure_document_linked", "Pièce rattachée à une démarche"
    PROCEDURE_DOCUMENT_UNLINKED = "procedure_document_unlinked", "Pièce détachée d'une démarche"
    PROCEDURE_STEP_RECORDED = "procedure_step_recorded", "Étape de démarche réalisée"
    PROCEDURE_RECURRED = "procedure_recurred", "Démarche renouvelée automatiquement"
    PROCEDURE_REMINDER_SENT = "procedure_reminder_sent", "Rappel d'échéance de démarche"
    PERSON_ACCOUNT_OPENED = "person_account_opened", "Espace personnel ouvert"
    PERSON_ACCOUNT_UPDATED = "person_account_updated", "Espace personnel modifié"
    PERSON_ACCOUNT_CLOSED = "person_account_closed", "Espace personnel fermé"
    PERSON_ACCOUNT_RECOVERED = (
        "person_account_recovered",
        "Accès à l'espace personnel rétabli au guichet",
    )
    PERSON_LOGIN = "person_login", "Connexion de la personne"
    PERSON_LOGIN_FAILED = "person_login_failed", "Échec de connexion de la personne"
    PERSON_LOGIN_CODE_SENT = "person_login_code_sent", "Code de connexion envoyé à la personne"
    PERSON_LOGOUT = "person_logout", "Déconnexion de la personne"
    PERSON_PASSWORD_SET = "person_password_set", "Mot de passe de la personne choisi"
    PERSON_CARD_PRINTED = "person_card_printed", "Carte Relais imprimée"
    PERSON_RECOVERY_CODE_USED = "person_recovery_code_used", "Code de la carte Relais utilisé"
    PERSON_DATA_EXPORTED = "person_data_exported", "Données téléchargées par la personne"


# Acts on the whole platform, by its pilot or its operator: no organisation's journal shows
# them, even when their author is also a member of that organisation.
PLATFORM_ACTIONS = [
    AuditAction.ORGANISATION_CREATED,
    AuditAction.ORGANISATION_UPDATED,
    AuditAction.ADMIN_CHANGE,
    AuditAction.CHARTER_PUBLISHED,
    AuditAction.CATALOGUE_LOADED,
    AuditAction.CATALOGUE_ENTRY_UPDATED,
    AuditAction.KEYS_ROTATED,
    AuditAction.JOURNAL_TRIMMED,
]
