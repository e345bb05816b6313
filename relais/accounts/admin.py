from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from relais.accounts.actors import platform_actor
from relais.accounts.models import User, WebAuthnDevice
from relais.accounts.services import account_names_change

# django-otp's pages show an authenticator's secret and delete devices with no journal row
# and no end to the sessions they verified: a second factor is reset by its organisation's
# manager, who journals it (accounts.services.second_factor_reset).
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_superuser"]
    search_fields = ["email", "last_name", "first_name"]
    fields = ["email", "first_name", "last_name", "is_active", "last_login", "date_joined"]
    # An account is deactivated when its last membership ends, which journals it and ends
    # its sessions (organisations.services.membership_deactivate).
    readonly_fields = ["email", "is_active", "last_login", "date_joined"]

    def save_model(self, request: HttpRequest, obj: User, form: object, change: bool) -> None:
        # Only the names are editable here, and their change is journaled.
        account_names_change(
            user=obj, first_name=obj.first_name, last_name=obj.last_name, by=platform_actor(request)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Professionals join through an invitation, which sets their password themselves.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebAuthnDevice)
class WebAuthnDeviceAdmin(admin.ModelAdmin[WebAuthnDevice]):
    list_display = ["user", "name", "created_at", "last_used_at"]
    fields = ["user", "name", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
