import pytest
from django.core.management import CommandError, call_command

from balai.antrian.demo import seed
from balai.antrian.models import Counter, QueueLane

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent(system_actor):
    seed(actor=system_actor)
    lanes, counters = QueueLane.objects.count(), Counter.objects.count()
    assert (lanes, counters) == (80, 80)
    seed(actor=system_actor)
    assert (QueueLane.objects.count(), Counter.objects.count()) == (lanes, counters)


def test_seeders_are_registered_with_the_demo_command():
    from balai.demo.management.commands.demo import SEEDERS

    assert "balai.antrian.demo.seed" in SEEDERS
    assert "balai.notify.demo.seed" in SEEDERS


def test_load_queue_setup_command(capsys):
    call_command("load_queue_setup", "--office", "MPP-64.02.12")
    assert "1 MPP: 4 jalur baru, 4 loket baru" in capsys.readouterr().out
    call_command("load_queue_setup")
    assert "20 MPP: 76 jalur baru, 76 loket baru" in capsys.readouterr().out
    call_command("load_queue_setup")
    assert "20 MPP: 0 jalur baru, 0 loket baru" in capsys.readouterr().out
    with pytest.raises(CommandError, match="DISDUKCAPIL"):
        call_command("load_queue_setup", "--office", "DISDUKCAPIL")
