import re

from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

# zxcvbn refuses longer passwords (its work grows fast with the length): a longer
# passphrase is judged on its beginning.
_LONGEST_JUDGED = 72


class ZxcvbnValidator:
    """Refuse passwords that zxcvbn judges guessable (score below `min_score`)."""

    def __init__(self, min_score: int = 3) -> None:
        self.min_score = min_score

    def validate(self, password: str, user: object = None) -> None:
        hints = [
            str(getattr(user, name, "") or "") for name in ("email", "first_name", "last_name")
        ]
        # The parts of the e-mail address too: "nadia.haddad1" must not pass for Nadia Haddad.
        local_part = hints[0].split("@")[0]
        hints += [*re.split(r"[._+-]+", local_part), local_part]
        result = zxcvbn(
            password[:_LONGEST_JUDGED], user_inputs=[hint for hint in hints if hint] + ["relais"]
        )
        if result["score"] < self.min_score:
            raise ValidationError(
                "Ce mot de passe est trop facile à deviner. Choisissez une phrase de passe "
                "de plusieurs mots sans lien entre eux.",
                code="password_too_guessable",
            )

    def get_help_text(self) -> str:
        return (
            "Votre mot de passe doit être difficile à deviner : une phrase de plusieurs mots "
            "sans lien entre eux convient bien."
        )
