"""Search indexing through the real task worker: Wagtail's index tasks and the dictionary re-index."""

import pytest
from django_tasks_db.models import DBTaskResult

from core.models import BackgroundJob, JobStatus
from core.tests.worker import database_tasks, run_worker, wait_for, worker_process
from search import analysis
from search.models import SearchTerm
from speeches.tests.factories import SpeechPageFactory

WORD = "心理疏导"


@pytest.fixture(autouse=True)
def fresh_analysis():
    analysis.reload()
    yield
    analysis.reload()


def found(client, q):
    response = client.get("/api/search/", {"q": q, "page_size": 10})
    assert response.status_code == 200
    return response.json()["count"]


def test_dictionary_change_reindexes_every_affected_speech_in_the_worker(transactional_db, speech_index, client):
    # Indexed (immediate backend) while 心理疏导 is still two words; 120 pages: no cap on the re-index.
    for n in range(120):
        page = SpeechPageFactory(parent=speech_index, slug=f"s{n}", title=f"职工服务讲话{n}",
                                 body=[("paragraph", f"<p>开展{WORD}服务，关心职工身心健康（{n}）。</p>")])
        page.save_revision().publish()
    SpeechPageFactory(parent=speech_index, slug="other", title="其他讲话").save_revision().publish()
    with database_tasks():
        SearchTerm.objects.create(word=WORD)
        assert analysis.segment(WORD) == [WORD]
        assert found(client, WORD) == 0  # the query is one token now; the index still has two
        assert run_worker() == 1
    assert found(client, WORD) == 120
    assert not BackgroundJob.objects.filter(status=JobStatus.FAILED).exists()


@pytest.mark.slow
def test_published_page_is_indexed_by_a_worker_process(transactional_db, speech_index, client):
    """The worker as in production: `manage.py db_worker` in its own process, on this test database."""
    with database_tasks():
        page = SpeechPageFactory(parent=speech_index, slug="new", title="推进职工书屋建设的讲话",
                                 body=[("paragraph", "<p>职工书屋要常态化开放。</p>")])
        page.save_revision().publish()
        assert found(client, "职工书屋") == 0  # the index task waits in the queue
        with worker_process():
            wait_for(lambda: found(client, "职工书屋") == 1, what="the worker to index the page")
            wait_for(lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists(), what="the queue")
    # (The exit code is not checked: django-tasks-db's SIGTERM handler can interrupt its own polling query.)
    assert not BackgroundJob.objects.exists()  # no task failed
