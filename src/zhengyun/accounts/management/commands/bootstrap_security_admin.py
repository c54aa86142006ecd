"""``zhengyun bootstrap_security_admin --username NAME``: the break-glass way to create the
platform's first security administrator (三员), who then creates every other account.

Refused once a security administrator exists; the act is written to the audit trail with
the platform itself as the actor. The password is asked for twice, or read from standard
input with ``--password-stdin`` (for provisioning scripts).
"""

import getpass
import sys

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from zhengyun.accounts.models import User
from zhengyun.accounts.services import bootstrap_security_admin


class Command(BaseCommand):
    help = "Create the first security administrator (only while none exists)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args, username, display_name, password_stdin, **options):
        password = self.read_password(password_stdin)
        try:
            password_validation.validate_password(password, User(username=username))
            bootstrap_security_admin(
                actor=None, username=username, password=password, display_name=display_name
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"security administrator {username} created")

    def read_password(self, from_stdin):
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        return first
