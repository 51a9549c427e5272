"""Background jobs of the documents app."""

from django_tasks import task


@task()
def render_pdfs(document_ids: list[str]) -> int:
    """Render the PDFs of documents issued with `render_later` (enqueued when
    the issuing transaction commits); a document already rendered is skipped."""
    from balai.documents.actions import render_pending

    return render_pending(document_ids)
