from django.urls import path

from mappings.apis.propose import MappingProposeApi
from mappings.apis.sources import SourceUploadApi

urlpatterns = [
    path("sources/", SourceUploadApi.as_view(), name="api-sources"),
    path("mapping/propose", MappingProposeApi.as_view(), name="api-mapping-propose"),
]
