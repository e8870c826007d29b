"""API fields about organisations that every app's serializers use."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.scoping import path_in_reach


@extend_schema_serializer(component_name="OrganizationRef")
class OrgRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_field(OrgRefSerializer)
class InReachOrgField(serializers.Field):
    """A related organisation as {id, name}, or null when it lies outside the reader's reach.

    Scoped rows normally point inside the reach; this guards the exceptions (an enterprise
    whose union sits in another district, an audit event about a node moved away).
    """

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        if not path_in_reach(self.context["request"].user, value.path):
            return None
        return {"id": value.pk, "name": value.name}
