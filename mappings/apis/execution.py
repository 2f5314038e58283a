"""Mapping save / execute and job progress API (contract section 4).

Same rules as the pages: a caller who may not manage data gets 403; someone else's upload, mapping or
job is a 404 (its existence is not revealed).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mappings.selectors import data_source_get_for_user, job_get_for_user, mapping_get_for_user, require_data_manager
from mappings.services.execute import execution_enqueue
from mappings.services.mapping import MappingInvalid, mapping_fields, mapping_save

# Token first: an anonymous caller gets 401 with `WWW-Authenticate: Token` rather than a bare 403.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class FieldMappingSerializer(serializers.Serializer):
    source_col = serializers.CharField(allow_null=True, required=False, default=None, trim_whitespace=False)
    canonical_table = serializers.CharField(allow_null=True, required=False, default=None)
    canonical_col = serializers.CharField(allow_null=True, required=False, default=None)
    transform = serializers.JSONField(allow_null=True, required=False, default=None)
    confidence = serializers.FloatField(allow_null=True, required=False, default=None, min_value=0, max_value=1)
    reason = serializers.CharField(allow_blank=True, required=False, default="")

    class Meta:
        ref_name = "FieldMapping"


class MappingSaveApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        source_id = serializers.IntegerField()
        mappings = FieldMappingSerializer(many=True)
        options = serializers.JSONField(required=False, default=None)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)

        class Meta:
            ref_name = "MappingSaveInput"

    class OutputSerializer(serializers.Serializer):
        mapping_id = serializers.IntegerField()
        source_id = serializers.IntegerField()
        version = serializers.IntegerField()
        options = serializers.JSONField()
        mappings = FieldMappingSerializer(many=True)
        created_at = serializers.DateTimeField()
        created_by = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "MappingSaveOutput"

    @extend_schema(operation_id="mapping_save", request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        """Persist an approved mapping as the source's next version."""
        require_data_manager(request.user)
        data = _valid(self.InputSerializer, request)
        source = data_source_get_for_user(request.user, data["source_id"])
        try:
            mapping = mapping_save(
                source=source, fields=data["mappings"], options=data["options"], user=request.user, note=data["note"]
            )
        except MappingInvalid as exc:
            raise ValidationError({"errors": exc.errors}) from None
        payload = {
            "mapping_id": mapping.pk,
            "source_id": source.pk,
            "version": mapping.version,
            "options": mapping.options,
            "mappings": mapping_fields(mapping),
            "created_at": mapping.created_at,
            "created_by": request.user.get_username(),
        }
        return Response(self.OutputSerializer(payload).data, status=status.HTTP_201_CREATED)


class JobOutputSerializer(serializers.Serializer):
    job_id = serializers.UUIDField(source="pk")
    source_id = serializers.IntegerField()
    mapping_id = serializers.IntegerField()
    status = serializers.CharField()
    stage = serializers.CharField()
    progress = serializers.FloatField()
    report = serializers.JSONField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    rejected_rows_url = serializers.SerializerMethodField()

    class Meta:
        ref_name = "ExecutionJob"

    def get_rejected_rows_url(self, job) -> str:
        return reverse("mappings:job-rejected-csv", args=[job.pk])


class MappingExecuteApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        source_id = serializers.IntegerField()
        mapping_id = serializers.IntegerField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "MappingExecuteInput"

    @extend_schema(operation_id="mapping_execute", request=InputSerializer, responses={202: JobOutputSerializer})
    def post(self, request: Request) -> Response:
        """Queue an execution of the source's mapping (latest version unless mapping_id); returns the job."""
        require_data_manager(request.user)
        data = _valid(self.InputSerializer, request)
        source = data_source_get_for_user(request.user, data["source_id"])
        mapping = mapping_get_for_user(request.user, data["mapping_id"]) if data["mapping_id"] else None
        try:
            job = execution_enqueue(source=source, mapping=mapping, user=request.user)
        except MappingInvalid as exc:
            raise ValidationError({"errors": exc.errors}) from None
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobDetailApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="job_detail", responses=JobOutputSerializer)
    def get(self, request: Request, job_id) -> Response:
        """An execution's status, stage, progress (0..1) and report (per-table counts, errors)."""
        require_data_manager(request.user)
        return Response(JobOutputSerializer(job_get_for_user(request.user, job_id)).data)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
