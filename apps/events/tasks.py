from celery import shared_task

from .pipeline import process_waiting


@shared_task(name="events.process", queue="events", acks_late=True)
def process_events_task() -> int:
    """Process the events waiting in the store, in batches (asked for after each intake)."""
    return process_waiting()


@shared_task(name="events.sweep", queue="events")
def sweep_events_task() -> int:
    """Every minute: pick up events nobody processed (a killed worker, a lost message)."""
    return process_waiting()


@shared_task(name="events.purge_payloads", queue="events")
def purge_payloads_task() -> int:
    """Nightly: empty the raw payload of processed events older than the retention."""
    from .services import payloads_purge

    return payloads_purge()
