from django_tasks import task

from relais.persons.retention import retention_apply


@task()
def apply_retention() -> dict[str, int | list[int]]:
    run = retention_apply()
    return {
        "archived": run.archived,
        "anonymised": run.anonymised,
        "journal_rows_erased": run.journal_rows_erased,
        "task_results_erased": run.task_results_erased,
        "failed": list(run.failed),
    }
