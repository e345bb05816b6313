from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something, as the journal records it. Plain values, no model instances:
    the journal depends on no other part of Relais."""

    user_id: int | None = None
    label: str = ""
    organisation_id: int | None = None
    organisation_label: str = ""
    ip_address: str = ""
    # The professional's profession, as the person's access history shows it.
    profession: str = ""


SYSTEM = Actor(label="Relais (traitement automatique)")
