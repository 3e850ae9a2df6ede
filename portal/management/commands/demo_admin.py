from django.conf import settings
from django.core.management.base import BaseCommand

from portal.services import demo_admin_ensure


class Command(BaseCommand):
    help = "Create the demo admin account (once) and print its credentials."

    def handle(self, *args, **options) -> None:
        username, password = demo_admin_ensure(password_file=settings.VAR_DIR / "demo-admin-password")
        if password:
            self.stdout.write(self.style.SUCCESS(f"Log in as '{username}' with password '{password}'"))
        else:
            self.stdout.write(
                f"The demo admin '{username}' has a password of your choosing now "
                f"(reset it with: .venv/bin/python manage.py changepassword {username})."
            )
