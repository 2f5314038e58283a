from celery import shared_task

from canonical.services import canonical_foreign_keys_validate


@shared_task(ignore_result=True)
def canonical_foreign_keys_validate_task() -> dict:
    result = canonical_foreign_keys_validate()
    return {"validated": result.validated, "failed": result.failed}
