from django.urls import path

from mappings.apis import execution
from mappings.apis.propose import MappingProposeApi
from mappings.apis.sources import SourceUploadApi

urlpatterns = [
    path("sources/", SourceUploadApi.as_view(), name="api-sources"),
    path("mapping/propose", MappingProposeApi.as_view(), name="api-mapping-propose"),
    path("mapping/save", execution.MappingSaveApi.as_view(), name="api-mapping-save"),
    path("mapping/execute", execution.MappingExecuteApi.as_view(), name="api-mapping-execute"),
    path("jobs/<uuid:job_id>", execution.JobDetailApi.as_view(), name="api-job-detail"),
]
