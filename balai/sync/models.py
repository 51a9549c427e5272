"""Sync state: the regency's registry of nodes and what each pushed; a node's
cursors; conflicts on both sides. See docs/decisions/0008-sync-protocol.md."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from balai.core.ids import new_id


class NodeStatus(models.TextChoices):
    ACTIVE = "active", _("Aktif")
    RETIRED = "retired", _("Dipensiunkan")
    REVOKED = "revoked", _("Kunci dicabut")


class SyncNode(models.Model):
    """A kecamatan node known to the regency (kept at the regency only)."""

    name = models.CharField(_("node"), max_length=32, primary_key=True)
    public_key = models.CharField(_("kunci publik"), max_length=64)
    key_id = models.CharField(_("id kunci"), max_length=16)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=NodeStatus.choices,
        default=NodeStatus.ACTIVE,
    )
    registered_at = models.DateTimeField(_("didaftarkan"), default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    status_note = models.CharField(max_length=255, blank=True, default="")
    # The newest epoch seen and how far it is stored (contiguously).
    epoch = models.PositiveIntegerField(default=0)
    high_seq = models.PositiveBigIntegerField(default=0)
    high_digest = models.CharField(max_length=64, blank=True, default="")
    # The last change actually sent (a batch may end on records that stay
    # local): its number and content digest, for restore detection.
    digest_seq = models.PositiveBigIntegerField(default=0)
    # What the node last told (hello) and when we heard it (regency clock).
    pull_cursor = models.PositiveBigIntegerField(default=0)
    backlog = models.PositiveIntegerField(null=True, blank=True)
    clock_skew_seconds = models.FloatField(null=True, blank=True)
    protocol = models.PositiveSmallIntegerField(null=True, blank=True)
    software = models.CharField(max_length=64, blank=True, default="")
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("node kecamatan")
        verbose_name_plural = _("node kecamatan")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NodeEpoch(models.Model):
    """One epoch of a node's change numbering, and where it started from.

    A node restored from a backup (or told to by `balai node_new_epoch`)
    numbers its new changes in a new epoch. `prev_epoch`/`prev_seq` is the
    last change of the older epochs it still held: the node's changes after
    it and before this epoch are "lost" at the node and sent back to it.
    """

    node = models.CharField(max_length=32)
    epoch = models.PositiveIntegerField()
    prev_epoch = models.PositiveIntegerField(default=0)
    prev_seq = models.PositiveBigIntegerField(default=0)
    high_seq = models.PositiveBigIntegerField(default=0)
    high_digest = models.CharField(max_length=64, blank=True, default="")
    digest_seq = models.PositiveBigIntegerField(default=0)
    # How many changes the node renumbered into this epoch when it began
    # (made before it learnt what it had lost).
    renumbered = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "epoch"], name="sync_node_epoch_unique"
            )
        ]
        ordering = ["node", "epoch"]

    def __str__(self) -> str:
        return f"{self.node} epoch {self.epoch}"


class PendingChange(models.Model):
    """A node's change received and kept, waiting for a record it refers to
    that the node has not sent yet (a batch cut inside a transaction)."""

    id = models.BigAutoField(primary_key=True)
    node = models.CharField(max_length=32)
    epoch = models.PositiveIntegerField()
    seq = models.PositiveBigIntegerField()
    model = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    op = models.CharField(max_length=8)
    payload = models.JSONField(default=dict)
    office_code = models.CharField(max_length=32, blank=True, default="")
    region_code = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField()
    base = models.PositiveBigIntegerField(default=0)
    reason = models.CharField(max_length=255, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "epoch", "seq"], name="sync_pending_node_epoch_seq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node}/{self.epoch}/{self.seq} {self.model} (tertunda)"


class NodeBackfill(models.Model):
    """A record a node was sent because a record it holds refers to it; its
    later changes are routed to that node too."""

    id = models.BigAutoField(primary_key=True)
    node = models.CharField(max_length=32)
    model = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "model", "object_id"], name="sync_backfill_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node}: {self.model} {self.object_id}"


class ConflictKind(models.TextChoices):
    EVENT_REFUSED = "event_refused", _("Peristiwa ditolak register kabupaten")
    DUPLICATE = "duplicate", _("Nilai sudah dipakai data lain")
    OWNERSHIP_MOVED = "ownership_moved", _("Data kini dikelola kantor lain")
    CHANGED_ELSEWHERE = "changed_elsewhere", _("Data sudah diubah di tempat lain")
    REFERENCE_DATA = "reference_data", _("Data referensi: versi kabupaten berlaku")
    NOT_SERVED = "not_served", _("Kantor pemilik tidak dilayani node ini")
    INVALID = "invalid", _("Data tidak valid")
    MISSING_REFERENCE = "missing_reference", _("Data yang dirujuk tidak ada")
    RENUMBERED = "renumbered", _("Nomor diganti")
    AUDIT_FORK = "audit_fork", _("Rantai audit bercabang")


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("Perlu ditindaklanjuti")
    INFO = "info", _("Pemberitahuan")
    RESOLVED = "resolved", _("Selesai")


class Conflict(models.Model):
    """A change from a node that the regency refused (or changed), with why
    and what to do. Made at the regency, copied to the node it concerns;
    the node's refused version is kept in `payload` (nothing silently lost)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    node = models.CharField(_("node"), max_length=32, db_index=True)
    epoch = models.PositiveIntegerField(null=True, blank=True)
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    model = models.CharField(_("jenis data"), max_length=64)
    object_id = models.CharField(_("data"), max_length=64)
    op = models.CharField(max_length=8, default="upsert")
    kind = models.CharField(_("jenis konflik"), max_length=20, choices=ConflictKind)
    message = models.TextField(_("yang terjadi"))
    advice = models.TextField(_("yang harus dilakukan"), blank=True, default="")
    office_code = models.CharField(_("kantor"), max_length=32, blank=True, default="")
    region_code = models.CharField(max_length=32, blank=True, default="")
    payload = models.JSONField(_("versi node"), default=dict)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=ConflictStatus.choices,
        default=ConflictStatus.OPEN,
    )
    created_at = models.DateTimeField(_("dicatat"), default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True, default="")
    resolution_note = models.TextField(blank=True, default="")
    # Regency: bumped from the global sequence on every change, so a node
    # pulls conflict news by cursor. Node: the value last received.
    rev = models.PositiveBigIntegerField(default=0, db_index=True)
    # Node: when the regency's version was applied here, and the newest
    # change record id then (changes up to it were made without knowing).
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_marker = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("konflik sinkron")
        verbose_name_plural = _("konflik sinkron")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["node", "epoch", "seq"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.model} {self.object_id}"


class SyncState(models.Model):
    """A node's side of sync: one row (pk 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    node = models.CharField(max_length=32)
    regency_url = models.CharField(max_length=255, blank=True, default="")
    regency_public_key = models.CharField(max_length=64, blank=True, default="")
    # The last change pulled (regency's global sequence); the snapshot's own.
    cursor = models.PositiveBigIntegerField(default=0)
    floor = models.PositiveBigIntegerField(default=0)
    conflict_rev = models.PositiveBigIntegerField(default=0)
    # The newest of this node's changes the regency acknowledged.
    acked_epoch = models.PositiveIntegerField(default=0)
    acked_seq = models.PositiveBigIntegerField(default=0)
    # Per audit chain: the last entry the regency holds; access-log rowid sent.
    audit_acked = models.JSONField(default=dict)
    # Sent with the first batch of a new epoch: where the older one ended
    # for this node ({"prev_epoch", "prev_seq", "renumbered"}).
    epoch_start = models.JSONField(default=dict, blank=True)
    access_rowid = models.PositiveBigIntegerField(default=0)
    initialized_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    clock_skew_seconds = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.node} cursor {self.cursor}"


class SyncVersion(models.Model):
    """Node: the regency's newest version (global sequence) applied here for
    a record; the node's next change to it names this as its base."""

    id = models.BigAutoField(primary_key=True)
    model = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    global_seq = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "object_id"], name="sync_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.object_id} @{self.global_seq}"


class SyncRun(models.Model):
    """One sync round (node) or one request served (regency), for the status page."""

    id = models.BigAutoField(primary_key=True)
    node = models.CharField(max_length=32, db_index=True)
    kind = models.CharField(max_length=16)  # round, push, pull, import, export
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    pushed = models.PositiveIntegerField(default=0)
    pulled = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.node} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"
