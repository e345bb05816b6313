from relais.persons.management.commands import rotate_encryption_keys


class Command(rotate_encryption_keys.Command):
    help = (
        "Ancien nom de rotate_encryption_keys, qui chiffre de nouveau les NIR et les clés "
        "des pièces ensemble : " + rotate_encryption_keys.Command.help
    )
