from django.contrib import admin

from relais.accounts.models import User, WebAuthnDevice


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_superuser"]
    search_fields = ["email", "last_name", "first_name"]
    fields = ["email", "first_name", "last_name", "is_active", "last_login", "date_joined"]
    readonly_fields = ["email", "last_login", "date_joined"]

    def has_add_permission(self, request: object) -> bool:
        # Professionals join through an invitation, which sets their password themselves.
        return False


@admin.register(WebAuthnDevice)
class WebAuthnDeviceAdmin(admin.ModelAdmin[WebAuthnDevice]):
    list_display = ["user", "name", "created_at", "last_used_at"]
    fields = ["user", "name", "created_at", "last_used_at"]
    readonly_fields = fields
