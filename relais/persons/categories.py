from django.db import models


class DataCategory(models.TextChoices):
    """The data categories of a person's file: the unit of consent and of the charter."""

    IDENTITY = "identite", "Identité et coordonnées"
    FAMILY = "famille", "Famille et foyer"
    RESOURCES = "ressources", "Ressources"
    HOUSING = "logement", "Logement"
    EMPLOYMENT = "emploi", "Emploi et formation"
    SOCIAL_COVERAGE = "couverture_sociale", "Couverture sociale"
    HEALTH = "sante", "Santé"
    NOTES = "notes", "Notes de suivi"
    PROCEDURES = "demarches", "Démarches"
    DOCUMENTS = "documents", "Pièces justificatives"
    APPOINTMENTS = "rendez_vous", "Rendez-vous"
    MESSAGES = "messages", "Messages"


# Special category data (art. 9 GDPR): separate permission and a visible warning.
SPECIAL_CATEGORIES = frozenset({DataCategory.HEALTH})


class Action(models.TextChoices):
    VIEW = "view", "consulter"
    EDIT = "edit", "modifier"


class Level(models.TextChoices):
    NONE = "none", "Aucun accès"
    READ = "read", "Lecture"
    WRITE = "write", "Lecture et écriture"


def level_allows(level: str, action: str) -> bool:
    if action == Action.VIEW:
        return level in (Level.READ, Level.WRITE)
    return level == Level.WRITE
