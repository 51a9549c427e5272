"""The counter queue of an MPP: lanes, counters (loket), tickets and their events,
and appointments (janji temu) that check into the queue on arrival."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from balai.antrian.workflow import AppointmentStatus, TicketEventKind, TicketStatus
from balai.core.ids import new_id
from balai.core.models import TimestampedModel


class QueueLane(TimestampedModel):
    """A line of tickets with its own letter: a service group, or the priority lane
    for the elderly, people with disabilities and pregnant women."""

    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="queue_lanes",
    )
    code = models.SlugField(_("kode"), max_length=32)
    name = models.CharField(_("nama"), max_length=100)
    description = models.CharField(_("layanan"), max_length=255, blank=True, default="")
    prefix = models.CharField(_("huruf"), max_length=2)
    is_priority = models.BooleanField(_("prioritas"), default=False)
    # Used for the waiting-time estimate until today's own figures exist.
    typical_service_minutes = models.PositiveSmallIntegerField(
        _("lama layanan biasa (menit)"), default=10
    )
    sort_order = models.PositiveSmallIntegerField(_("urutan"), default=0)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("jalur antrean")
        verbose_name_plural = _("jalur antrean")
        ordering = ["office", "sort_order", "prefix"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "prefix"], name="antrian_lane_office_prefix"
            ),
            models.UniqueConstraint(
                fields=["office", "code"], name="antrian_lane_office_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} · {self.name}"

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id


class Counter(TimestampedModel):
    """A service counter (loket) and the lanes it calls from."""

    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="queue_counters",
    )
    number = models.PositiveSmallIntegerField(_("nomor"))
    name = models.CharField(_("nama"), max_length=50)
    lanes = models.ManyToManyField(
        QueueLane, verbose_name=_("jalur"), related_name="counters"
    )
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("loket")
        verbose_name_plural = _("loket")
        ordering = ["office", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "number"], name="antrian_counter_office_number"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id


class TicketSource(models.TextChoices):
    KIOSK = "kiosk", _("anjungan")
    OFFICER = "officer", _("petugas")
    BOOKING = "booking", _("janji temu")


class Ticket(TimestampedModel):
    """A queue number taken on one day (WITA) in one lane, and where it stands.

    `status` and the time columns are the projection of the ticket's events,
    kept on the row so the queue can be read with one indexed query.
    """

    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="queue_tickets",
    )
    # The lane whose letter and sequence the number carries (never changes).
    issued_lane = models.ForeignKey(
        QueueLane,
        verbose_name=_("jalur awal"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The lane the ticket waits in now (changes on a transfer to another lane).
    lane = models.ForeignKey(
        QueueLane,
        verbose_name=_("jalur"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    day = models.DateField(_("tanggal (WITA)"))
    seq = models.PositiveIntegerField(_("urutan"))
    number = models.CharField(_("nomor"), max_length=8)
    is_priority = models.BooleanField(_("prioritas"), default=False)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=TicketStatus.choices,
        default=TicketStatus.WAITING,
    )
    # The counter now handling the ticket, or the one it was transferred to.
    counter = models.ForeignKey(
        Counter,
        verbose_name=_("loket"),
        on_delete=models.PROTECT,
        related_name="tickets",
        null=True,
        blank=True,
    )
    called_by_id = models.UUIDField(null=True, blank=True)
    called_by_name = models.CharField(
        _("dipanggil oleh"), max_length=150, blank=True, default=""
    )
    source = models.CharField(
        _("sumber"), max_length=8, choices=TicketSource.choices, default="kiosk"
    )
    issued_at = models.DateTimeField(_("diambil"))
    called_at = models.DateTimeField(_("pertama dipanggil"), null=True, blank=True)
    last_called_at = models.DateTimeField(
        _("terakhir dipanggil"), null=True, blank=True
    )
    served_at = models.DateTimeField(_("mulai dilayani"), null=True, blank=True)
    done_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    call_count = models.PositiveSmallIntegerField(_("jumlah panggilan"), default=0)
    # The application opened for this visit (services app; a plain UUID keeps
    # the dependency pointing one way).
    application_id = models.UUIDField(_("permohonan"), null=True, blank=True)

    class Meta:
        verbose_name = _("nomor antrean")
        verbose_name_plural = _("nomor antrean")
        ordering = ["day", "issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["issued_lane", "day", "seq"], name="antrian_ticket_lane_day_seq"
            )
        ]
        indexes = [
            models.Index(fields=["office", "day", "status"]),
            models.Index(fields=["lane", "day", "status"]),
            models.Index(fields=["counter", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.day})"

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id


class TicketEvent(models.Model):
    """One transition of a ticket: append-only, numbered per ticket."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveSmallIntegerField()
    kind = models.CharField(
        _("peristiwa"), max_length=12, choices=TicketEventKind.choices
    )
    from_status = models.CharField(max_length=12, blank=True, default="")
    to_status = models.CharField(max_length=12, choices=TicketStatus.choices)
    at = models.DateTimeField(_("waktu"))
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_name = models.CharField(_("pelaku"), max_length=150)
    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    lane = models.ForeignKey(
        QueueLane, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.CharField(_("catatan"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("riwayat nomor antrean")
        verbose_name_plural = _("riwayat nomor antrean")
        ordering = ["ticket", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "seq"], name="antrian_event_ticket_seq"
            )
        ]
        indexes = [models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id}#{self.seq} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Ticket events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Ticket events are append-only.")

    def sync_route(self) -> tuple[str, str]:
        office = self.ticket.office
        return office.code, office.region_id


# --- Appointments (janji temu) ------------------------------------------------------


class AppointmentSettings(TimestampedModel):
    """How an MPP offers appointments: slot length, places per slot and lane,
    how far ahead. An office without a row uses the defaults."""

    office = models.OneToOneField(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="appointment_settings",
    )
    is_enabled = models.BooleanField(_("menerima janji temu"), default=True)
    slot_minutes = models.PositiveSmallIntegerField(
        _("lama satu slot (menit)"), default=30
    )
    capacity = models.PositiveSmallIntegerField(
        _("kuota per slot per jalur"), default=4
    )
    days_ahead = models.PositiveSmallIntegerField(
        _("dapat dipesan sampai (hari ke depan)"), default=14
    )

    class Meta:
        verbose_name = _("pengaturan janji temu")
        verbose_name_plural = _("pengaturan janji temu")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="antrian_appt_settings_slot_range",
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1, capacity__lte=100),
                name="antrian_appt_settings_capacity_range",
            ),
            models.CheckConstraint(
                condition=models.Q(days_ahead__gte=1, days_ahead__lte=90),
                name="antrian_appt_settings_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office_id}: {self.slot_minutes} min × {self.capacity}"

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id


# A booking that holds a place in its slot (and the citizen's one of the day).
# A missed booking holds nothing: its slot is over, and the citizen may book a
# later slot of the same day, as after cancelling.
ACTIVE_APPOINTMENT = models.Q(status__in=["booked", "checked_in"])


class Appointment(TimestampedModel):
    """A citizen's booked time slot at an MPP in one lane; at arrival it checks
    into the queue (a ticket in the lane, marked as coming from a booking).

    Each active booking holds one numbered place (1..capacity) of its slot:
    the unique place per slot is the last word when two citizens race for the
    last one. The citizen is a plain id (citizen accounts do not travel to the
    kecamatan nodes), the application a plain id as on the ticket.
    """

    office = models.ForeignKey(
        "regions.Office",
        verbose_name=_("kantor"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    lane = models.ForeignKey(
        QueueLane,
        verbose_name=_("jalur"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    day = models.DateField(_("tanggal (WITA)"))
    starts_at = models.DateTimeField(_("mulai"))
    ends_at = models.DateTimeField(_("selesai"))
    place = models.PositiveSmallIntegerField(_("tempat ke"))
    code = models.CharField(_("kode janji temu"), max_length=8)
    citizen_id = models.UUIDField(_("akun warga"))
    citizen_name = models.CharField(_("nama warga"), max_length=150)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    application_id = models.UUIDField(_("permohonan"), null=True, blank=True)
    purpose = models.CharField(_("keperluan"), max_length=200, blank=True, default="")
    ticket = models.OneToOneField(
        Ticket,
        verbose_name=_("nomor antrean"),
        on_delete=models.PROTECT,
        related_name="appointment",
        null=True,
        blank=True,
    )
    checked_in_at = models.DateTimeField(_("hadir"), null=True, blank=True)
    checked_in_by = models.CharField(
        _("dicatat oleh"), max_length=150, blank=True, default=""
    )
    cancelled_at = models.DateTimeField(_("dibatalkan"), null=True, blank=True)
    # Filled when an officer of the MPP cancels (the citizen is told why).
    cancelled_by = models.CharField(
        _("dibatalkan oleh"), max_length=150, blank=True, default=""
    )
    cancel_reason = models.CharField(
        _("alasan pembatalan"), max_length=255, blank=True, default=""
    )
    missed_at = models.DateTimeField(_("ditandai tidak datang"), null=True, blank=True)

    class Meta:
        verbose_name = _("janji temu")
        verbose_name_plural = _("janji temu")
        ordering = ["starts_at", "place"]
        constraints = [
            models.UniqueConstraint(
                fields=["lane", "starts_at", "place"],
                condition=ACTIVE_APPOINTMENT,
                name="antrian_appt_slot_place",
            ),
            models.UniqueConstraint(
                fields=["citizen_id", "day"],
                condition=ACTIVE_APPOINTMENT,
                name="antrian_appt_citizen_day",
            ),
            models.UniqueConstraint(
                fields=["office", "code"], name="antrian_appt_office_code"
            ),
        ]
        indexes = [
            models.Index(fields=["office", "day", "status"]),
            models.Index(fields=["citizen_id", "starts_at"]),
            # The missed-booking job: booked ones whose slot has ended.
            models.Index(fields=["status", "ends_at"], name="antrian_appt_status_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.starts_at})"

    def sync_route(self) -> tuple[str, str]:
        return self.office.code, self.office.region_id
