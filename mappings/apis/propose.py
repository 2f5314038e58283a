"""`POST /api/mapping/propose` {"source_id", "domain_hint"}: proposals, the same shape as the CLI."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from mappings.profiling.profile import ProfileError
from mappings.selectors import data_source_get_for_user, require_data_manager
from mappings.services.propose import mapping_propose


class MappingProposeApi(APIView):
    @extend_schema_serializer(component_name="MappingProposeInput")
    class InputSerializer(serializers.Serializer):
        source_id = serializers.IntegerField()
        domain_hint = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)

    @extend_schema_serializer(component_name="MappingProposeProposal")
    class ProposalSerializer(serializers.Serializer):
        source_col = serializers.CharField(allow_null=True)
        canonical_table = serializers.CharField(allow_null=True)
        canonical_col = serializers.CharField(allow_null=True)
        transform = serializers.JSONField(allow_null=True)
        confidence = serializers.FloatField()
        reason = serializers.CharField()

    @extend_schema_serializer(component_name="MappingProposeOutput")
    class OutputSerializer(serializers.Serializer):
        file = serializers.CharField()
        rows = serializers.IntegerField(allow_null=True)
        dialect = serializers.JSONField()
        proposals = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        require_data_manager(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = data_source_get_for_user(request.user, data.validated_data["source_id"])
        try:
            document = mapping_propose(
                source=source, domain_hint=data.validated_data.get("domain_hint") or None, user=request.user
            )
        except ProfileError as exc:
            raise ValidationError({"source_id": [f"the upload cannot be profiled: {exc}"]}) from exc
        return Response(document)
