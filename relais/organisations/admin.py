from django.contrib import admin
from django.http import HttpRequest

from relais.accounts.actors import platform_actor
from relais.organisations.models import Invitation, Membership, Organisation
from relais.organisations.services import organisation_create, organisation_update


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "kind", "sector", "commune_code", "departement", "siret"]
    list_filter = ["sector", "kind", "departement"]
    search_fields = ["name", "siret", "commune_name"]
    fields = ["name", "siret", "kind", "commune_code", "commune_name", "territory"]

    def save_model(
        self, request: HttpRequest, obj: Organisation, form: object, change: bool
    ) -> None:
        values = {name: getattr(obj, name) for name in self.fields}
        if change:
            organisation_update(organisation=obj, by=platform_actor(request), **values)
        else:
            created = organisation_create(by=platform_actor(request), **values)
            obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "organisation", "role", "profession", "started_on", "ended_on"]
    list_filter = ["role", "profession"]
    search_fields = ["user__email", "user__last_name", "organisation__name"]
    readonly_fields = ["user", "organisation", "role", "profession", "started_on", "ended_on"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ["organisation", "email", "role", "created_at", "expires_at", "accepted_at"]
    fields = [
        "organisation",
        "email",
        "first_name",
        "last_name",
        "role",
        "profession",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A deletion would leave no journal row: the pilot cancels a pending invitation
        # from the organisation's page (organisations.services.invitation_revoke).
        return False
