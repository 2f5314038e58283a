from django.urls import path

from mappings.views import jobs, review, steps, uploads

app_name = "mappings"
urlpatterns = [
    path("", uploads.upload_list, name="uploads"),
    path("mappings/", uploads.mapping_list, name="mappings"),
    path("<int:source_id>/", uploads.source_detail, name="source"),
    path("<int:source_id>/read/", uploads.source_read_as, name="source-read"),
    path("<int:source_id>/review/", review.review, name="review"),
    path("<int:source_id>/review/preview/", review.review_preview, name="review-preview"),
    path("<int:source_id>/review/step/", steps.review_step, name="review-step"),
    path("<int:source_id>/review/row/", steps.review_row, name="review-row"),
    path("<int:source_id>/review/dialect/", review.review_dialect, name="review-dialect"),
    path("<int:source_id>/review/date-order/", review.review_date_order, name="review-date-order"),
    path("<int:source_id>/execute/", review.review_execute, name="execute"),
    path("<int:source_id>/jobs/<uuid:job_id>/", review.job_progress, name="job-progress"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job-detail"),
    path("<int:source_id>/versions/<int:version>/restore/", review.review_restore, name="restore"),
    path("jobs/<uuid:job_id>/rejected/", jobs.job_rejected, name="job-rejected"),
    path("jobs/<uuid:job_id>/rejected.csv", jobs.job_rejected_csv, name="job-rejected-csv"),
]
